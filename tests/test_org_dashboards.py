"""A scoped user's dashboard (issue #18): the kernel loads only the scope's answers
(pushed down to the Parquet scan, never filtered in the browser), the segment control
offers only the scope's stores, comments come only from them, a scoped token never gets
the tenant-wide static page, and a forged scope is refused — in the library, in the
prelaunch hook and on a real Voila."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest
from conftest import free_port, require_program, stop_process
from cxlab import org
from cxlab.config import Config
from cxlab.dashboards.data import load_dashboard_data, newest_comments
from cxlab.dashboards.hook import DASHBOARDS_DIR, prelaunch_hook, spawn_dashboards
from cxlab.dashboards.tokens import DashboardTokenError, DashboardTokens
from cxlab.dashboards.view import segment_values
from cxlab.db import Database
from cxlab.demo import seed_store
from cxlab.store import load_responses
from cxlab.tenancy import get_tenant
from itsdangerous import URLSafeTimedSerializer
from test_dashboards_security import answers_shown, get
from test_org import TREE as BASE_TREE
from tornado.web import Finish

SECRET = "org-dashboard-secret-" + "o" * 24
SURVEY = "store-visit"
# test_org's chain (Kanto: Shibuya, Shinjuku; Kansai: Umeda) with the example's other stores.
TREE = BASE_TREE + """ikebukuro-03,Ikebukuro,store,kanto
namba-05,Namba,store,kansai
sakae-06,Sakae,store,hq
tenjin-07,Tenjin,store,hq
sapporo-08,Sapporo,store,hq
"""
KANTO = {"shibuya-01", "shinjuku-02", "ikebukuro-03"}


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, dict[str, str]]:
    """Tenant ``chain`` (1,600 answers over 8 stores, its tree loaded) and tenant
    ``rival`` (whose tree has a unit "kanto" over other stores), synced."""
    var_dir = tmp_path_factory.mktemp("org-dashboards") / "var"
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
               "CXLAB_DASHBOARD_CONNECT_TIMEOUT": "10", "CXLAB_DASHBOARD_WARM_KERNELS": "1",
               "CXLAB_DASHBOARD_STATIC_PERIODS": "all"}
    config = Config.from_environ(environ)
    seed_store(config, {"chain": 1600, "rival": 500})
    with Database.open(config) as database, database.session() as session:
        org.load_tree(session, get_tenant(session, "chain"),
                      org.read_units_text(TREE, "csv"))
        org.load_tree(session, get_tenant(session, "rival"), org.read_units_text(
            "code,name,kind,parent\nkanto,Kanto,area,\numeda-04,Umeda,store,kanto\n", "csv"))
    return config, environ


def every_answer(config: Config, tenant: str = "chain") -> pd.DataFrame:
    return load_responses(config, tenant, SURVEY, columns=["submitted_at", "store", "nps"])


def test_the_kernel_loads_only_the_scope(chain):
    config, _ = chain
    everything = every_answer(config)
    store = load_dashboard_data(config, "chain", SURVEY, scope=["shibuya-01"])
    area = load_dashboard_data(config, "chain", SURVEY, scope=["kanto"])
    both = load_dashboard_data(config, "chain", SURVEY, scope=["kanto", "namba-05"])
    assert set(store.responses["store"].astype(str)) == {"shibuya-01"}
    assert len(store.responses) == (everything["store"] == "shibuya-01").sum() > 0
    # The area manager sees exactly their stores, rolled up.
    assert set(area.responses["store"].astype(str)) == KANTO
    assert len(area.responses) == everything["store"].isin(KANTO).sum()
    assert set(both.responses["store"].astype(str)) == KANTO | {"namba-05"}
    # The store control offers the scope's stores only.
    assert segment_values(store) == ["shibuya-01"]
    assert set(segment_values(area)) == KANTO
    # No snapshot of the whole survey, and no tenant-wide response rates.
    assert store.version is None and store.response_rates is None
    assert load_dashboard_data(config, "chain", SURVEY).version is not None


def test_comments_come_only_from_the_scope(chain):
    config, _ = chain
    everything = load_responses(config, "chain", SURVEY)
    data = load_dashboard_data(config, "chain", SURVEY, scope=["shibuya-01"])
    found = newest_comments(data, data.responses, None, limit=40)
    assert len(found) > 0
    stores = everything.set_index("submitted_at")["store"].astype(str)
    assert set(stores.loc[found["submitted_at"]]) == {"shibuya-01"}
    # Asking for another store's comments inside a store scope finds none.
    assert newest_comments(data, data.responses, "umeda-04", limit=40).empty


def test_a_scope_is_resolved_in_the_tokens_tenant_only(chain):
    config, _ = chain
    rival = load_dashboard_data(config, "rival", SURVEY, scope=["kanto"])
    assert set(rival.responses["store"].astype(str)) <= {"umeda-04"}
    nowhere = load_dashboard_data(config, "chain", SURVEY, scope=["no-such-unit"])
    assert nowhere.responses.empty and segment_values(nowhere) == []


def hook_request(arguments: dict[str, str]) -> tuple[SimpleNamespace, dict]:
    sent: dict = {}
    handler = SimpleNamespace(
        path_args=["overview.ipynb"], request=SimpleNamespace(headers={}, uri="/"),
        get_query_argument=lambda name, default=None: arguments.get(name, default),
        set_status=lambda code: sent.update(status=code),
        set_header=lambda name, value: sent.update({name: value}),
        finish=lambda body: sent.update(body=body))
    return handler, sent


def test_a_forged_or_widened_scope_is_refused():
    tokens = DashboardTokens(SECRET)
    scoped = tokens.issue("chain", "s@chain.example", "overview.ipynb", survey=SURVEY,
                          scope=("shibuya-01",))
    # The same claims with the scope dropped or widened, signed with another key.
    forger = URLSafeTimedSerializer("a guessed key " + "g" * 30, salt="cxlab.dashboard")
    claims = URLSafeTimedSerializer(SECRET, salt="cxlab.dashboard").loads(scoped)
    for forged_scope in (None, ["hq"]):
        forged = forger.dumps({**claims, "scope": forged_scope})
        with pytest.raises(DashboardTokenError) as refused:
            tokens.verify(forged, "overview.ipynb")
        assert refused.value.reason == "invalid"
    # A genuine signature over a scope that is not a list of codes is refused too.
    odd = URLSafeTimedSerializer(SECRET, salt="cxlab.dashboard").dumps(
        {**claims, "scope": "hq"})
    with pytest.raises(DashboardTokenError):
        tokens.verify(odd, "overview.ipynb")


def test_the_hook_injects_the_scope_and_never_serves_a_static_page(chain, tmp_path):
    from cxlab.dashboards.snapshots import (
        STATIC_PAGE_LAYOUT,
        partition_version,
        static_page_view,
        write_snapshot,
    )
    from cxlab.store import Store

    config, _ = chain
    store = Store.of(config)
    # A current static page of the whole tenant, as the sync leaves it.
    write_snapshot(store, "chain", SURVEY, static_page_view("en", "all"),
                   partition_version(store, "chain", SURVEY),
                   {"layout": STATIC_PAGE_LAYOUT, "html": "EVERY STORE", "periods": ["all"],
                    "segments": sorted(KANTO)})
    hook = prelaunch_hook(SECRET, store=store)
    tokens = DashboardTokens(SECRET)
    whole = tokens.issue("chain", "boss@chain.example", "overview.ipynb", survey=SURVEY)
    handler, sent = hook_request({"token": whole, "language": "en"})
    with pytest.raises(Finish):  # the static page was answered, no kernel
        hook(handler, notebook=None, cwd=".")
    assert "EVERY STORE" in sent["body"]
    scoped = tokens.issue("chain", "s@chain.example", "overview.ipynb", survey=SURVEY,
                          scope=("shibuya-01",))
    handler, sent = hook_request({"token": scoped, "language": "en"})
    notebook = nbformat.read(DASHBOARDS_DIR / "overview.ipynb", as_version=4)
    injected = hook(handler, notebook=notebook, cwd=str(DASHBOARDS_DIR))
    cell = next(c for c in injected.cells if "injected-parameters" in c.metadata["tags"])
    assert 'scope = ["shibuya-01"]' in cell.source and "body" not in sent
    whole_again = tokens.issue("chain", "boss@chain.example", "overview.ipynb", survey=SURVEY)
    handler, _ = hook_request({"token": whole_again, "language": "en", "live": "1"})
    cell = next(c for c in hook(handler, notebook=nbformat.read(
        DASHBOARDS_DIR / "overview.ipynb", as_version=4), cwd=".").cells
        if "injected-parameters" in c.metadata["tags"])
    assert "scope = None" in cell.source


@pytest.fixture(scope="module")
def voila(chain) -> Iterator[tuple[str, int]]:
    _config, environ = chain
    port = free_port()
    process = spawn_dashboards({**os.environ, **environ}, port=port)
    yield "127.0.0.1", port
    stop_process(process)


def test_voila_shows_a_store_manager_their_store_only(chain, voila):
    config, _ = chain
    everything = every_answer(config)
    tokens = DashboardTokens(SECRET)
    scoped = tokens.issue("chain", "s@chain.example", "overview.ipynb", survey=SURVEY,
                          scope=("shibuya-01",))
    # Another store in the query string changes nothing: the kernel never loaded it.
    status, body = get(voila, f"/voila/render/overview.ipynb?token={scoped}"
                              "&segment=umeda-04&tenant=rival", "ja")
    assert status == 200 and "cx-static" not in body
    assert answers_shown(body) == (everything["store"] == "shibuya-01").sum()
    area = tokens.issue("chain", "k@chain.example", "overview.ipynb", survey=SURVEY,
                        scope=("kanto",))
    status, body = get(voila, f"/voila/render/overview.ipynb?token={area}", "ja")
    assert status == 200
    assert answers_shown(body) == everything["store"].isin(KANTO).sum()
    # The store manager's claims with the scope dropped, signed by a forger: refused
    # before any kernel starts.
    claims = URLSafeTimedSerializer(SECRET, salt="cxlab.dashboard").loads(scoped)
    forged = URLSafeTimedSerializer("a guessed key " + "g" * 30, salt="cxlab.dashboard").dumps(
        {**claims, "scope": None, "id": "fresh-id"})
    status, body = get(voila, f"/voila/render/overview.ipynb?token={forged}", "en")
    assert status == 403 and "not valid" in body


def unit_rows(data) -> dict[str, tuple[str, str]]:
    """The segment table of ``data``'s whole period: its first column's names → (n, NPS)."""
    from cxlab.dashboards.sections import segment_section

    figure, _download, _note = segment_section(data.responses, data, 5, "en")
    columns = figure.data[0].cells.values
    return {name: (str(n), str(score)) for name, n, score in zip(*columns[:3], strict=True)}


def test_the_head_office_sees_its_areas_rolled_up(chain):
    from cxlab import analysis

    config, _ = chain
    everything = every_answer(config)
    data = load_dashboard_data(config, "chain", SURVEY)
    assert [unit.code for unit in data.rollup] == [
        "kansai", "kanto", "sakae-06", "sapporo-08", "tenjin-07"]
    rows = unit_rows(data)
    kanto = everything[everything["store"].isin(KANTO)]
    expected = analysis.nps(kanto["nps"], n_boot=0).iloc[0]
    assert rows["Kanto area"] == (str(int(expected["n"])), f"{expected['nps']:+.1f}")
    assert "Shibuya" not in rows  # stores are inside their areas


def test_an_area_manager_sees_their_stores_and_a_store_manager_their_store(chain):
    config, _ = chain
    area = load_dashboard_data(config, "chain", SURVEY, scope=["kanto"])
    assert [unit.code for unit in area.rollup] == ["ikebukuro-03", "shibuya-01", "shinjuku-02"]
    assert set(unit_rows(area)) == {"Ikebukuro", "Shibuya", "Shinjuku"}
    store = load_dashboard_data(config, "chain", SURVEY, scope=["shibuya-01"])
    assert store.rollup is None  # a store has no units below it: its own row
    assert set(unit_rows(store)) == {"Shibuya"}


def test_in_chromium_an_area_manager_is_offered_and_shown_only_their_stores(chain, voila):
    """What the browser receives over the kernel's websocket: the store control's
    choices and the store table name the area's stores only."""
    from playwright.sync_api import expect, sync_playwright
    from test_dashboards_browser import CHROMIUM_ARGS, NAVIGATION

    config, _ = chain
    count = every_answer(config)["store"].isin(KANTO).sum()
    chromium = require_program("chromium")
    area = DashboardTokens(SECRET).issue("chain", "k@chain.example", "overview.ipynb",
                                         survey=SURVEY, scope=("kanto",))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 2400})
        page.goto(f"http://{voila[0]}:{voila[1]}/voila/render/overview.ipynb?token={area}"
                  "&language=en", **NAVIGATION)
        expect(page.locator(".cx-as-of")).to_contain_text(f"{count:,}", timeout=90_000)
        stores = page.locator(".cx-controls select").nth(1).locator("option")
        expect(stores).to_have_count(4, timeout=60_000)  # every store, and the three
        assert stores.all_text_contents()[1:] == ["Shibuya", "Shinjuku", "Ikebukuro"]
        table = page.locator(".cx-segments")
        for store in ("Shibuya", "Shinjuku", "Ikebukuro"):
            expect(table).to_contain_text(store, timeout=60_000)
        text = page.locator("body").inner_text()
        for other in ("Umeda", "Namba", "Sakae", "Tenjin", "Sapporo"):
            assert other not in text, other
        browser.close()


def test_a_new_tree_remakes_the_tenants_opening_pages(tmp_path):
    """The opening snapshot's store table rolls answers up into the tree's units: after
    `cxlab org load` the tenant's snapshots and static pages are made again (the old
    ones no longer count as current), and another tenant's are left alone."""
    from cxlab.dashboards.prepare import refresh_after_organisation_change, refresh_snapshots
    from cxlab.dashboards.snapshots import partition_version, read_static_page
    from cxlab.store import Store

    environ = {"CXLAB_VAR_DIR": str(tmp_path), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
               "CXLAB_DASHBOARD_STATIC_PERIODS": "all", "CXLAB_CHART_IMAGES": "off",
               "CXLAB_DASHBOARD_STATIC_SEGMENTS": "0"}
    config = Config.from_environ(environ)
    seed_store(config, {"chain": 600, "rival": 300})
    for tenant in ("chain", "rival"):
        refresh_snapshots(config, tenant, SURVEY)
    store = Store.of(config)
    before = {tenant: partition_version(store, tenant, SURVEY) for tenant in ("chain", "rival")}
    assert "Kanto area" not in read_static_page(store, "chain", SURVEY, "en")["html"]
    with Database.open(config) as database, database.session() as session:
        org.load_tree(session, get_tenant(session, "chain"), org.read_units_text(TREE, "csv"))
    assert refresh_after_organisation_change(config, "chain") == 1
    assert partition_version(store, "chain", SURVEY) != before["chain"]
    assert partition_version(store, "rival", SURVEY) == before["rival"]
    page = read_static_page(store, "chain", SURVEY, "en")
    assert page is not None and "Kanto area" in page["html"]
    assert refresh_after_organisation_change(config, "nobody") == 0
