"""Notebooks run by hand: a mistyped tenant or survey stops with an error that lists what
the store holds (it used to show seeded demo data and exit 0); demo only when asked."""

from pathlib import Path

import papermill
import pytest
from cxlab.demo import seed_store
from cxlab.errors import CxlabError
from cxlab.notebook_data import choose_data

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture()
def sakura_store(config, monkeypatch):
    """A store holding tenant "sakura" (survey store-visit); notebook kernels inherit the
    environment, so they read this store too."""
    seed_store(config, {"sakura": 200})
    monkeypatch.setenv("CXLAB_VAR_DIR", str(config.var_dir))
    monkeypatch.setenv("CXLAB_ENV", "test")
    return config


def test_choose_data_lists_what_exists_and_never_substitutes_the_demo(sakura_store):
    with pytest.raises(CxlabError, match=r"unknown tenant 'sakrua' \(did you mean 'sakura'\?\)"
                                         r"; the store holds: sakura"):
        choose_data("sakrua", demo=True, config=sakura_store)
    with pytest.raises(CxlabError, match="its surveys: store-visit"):
        choose_data("sakura", "engagement", config=sakura_store)
    with pytest.raises(CxlabError, match="unknown tenant 'demo'"):
        choose_data("demo", config=sakura_store)  # demo not asked for
    chosen = choose_data("sakura", "store-visit", demo=True, config=sakura_store)
    assert (chosen.tenant, chosen.survey, chosen.demo) == ("sakura", "store-visit", False)
    assert chosen.config.var_dir == sakura_store.var_dir
    demo = choose_data("demo", demo=True, config=sakura_store)
    assert demo.demo and demo.config.var_dir != sakura_store.var_dir


@pytest.mark.parametrize("notebook", ["explore.ipynb", "reports/weekly.ipynb"])
def test_a_mistyped_tenant_stops_the_notebook_with_the_tenants_that_exist(
    sakura_store, tmp_path, notebook
):
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        papermill.execute_notebook(
            NOTEBOOKS / notebook, tmp_path / "out.ipynb",
            parameters={"tenant": "sakrua"}, cwd=(NOTEBOOKS / notebook).parent,
            progress_bar=False, kernel_name="python3",
        )
    assert raised.value.ename == "CxlabError"
    assert "unknown tenant 'sakrua' (did you mean 'sakura'?); the store holds: sakura" in (
        raised.value.evalue)
