"""The layering of docs/architecture.md, enforced: analysis and store import no UI,
the survey server imports no notebook code, only the CLI prints. The checker
(tests/layering.py) is tested first on planted trees, then run on the real one."""

from __future__ import annotations

from pathlib import Path

import pytest
from layering import Rule, find_modules, import_violations, print_calls, within

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [ROOT / "platform" / "cxlab", ROOT / "survey_server"]
UI = ("ipywidgets", "plotly", "bottle", "click", "cxlab.dashboards", "cxlab.cli")
NOTEBOOK_CODE = ("cxlab.dashboards", "ipywidgets", "papermill", "voila")
RULES = (
    Rule("cxlab.analysis", UI, reason="analysis computes (frames in, frames out); "
         "notebooks, dashboards and the CLI show it"),
    Rule("cxlab.store", UI, reason="the store reads and writes Parquet; what shows "
         "it sits above it"),
    Rule("survey_server", NOTEBOOK_CODE, allowed=("cxlab.dashboards.tokens",),
         reason="the survey server serves pages and the API; of the dashboards it "
         "only signs their links"),
    Rule("cxlab.jobs", ("cxlab.cli",), reason="job kinds call the library and read its "
         "reports, never a command or its exit code"),
)
CLI = ("cxlab.cli",)

# Known offences, each with its reason. These lists may only shrink: an entry that
# no longer offends fails test_the_allow_lists_only_name_live_offences.
TOLERATED_IMPORTS: dict[tuple[str, str], str] = {}
TOLERATED_PRINTERS = {
    "survey_server.app": "a last-resort line on stderr when the access log cannot be "
                         "written: to go through logging",
}


def write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path(".") and not (root / parent / "__init__.py").exists():
            (root / parent / "__init__.py").write_text("")
    path.write_text(text)


@pytest.fixture
def planted(tmp_path: Path):
    """A small copy of the project's shape: cxlab (analysis, store, dashboards, cli)
    and survey_server, every module innocent until a test plants something."""
    write(tmp_path, "cxlab/analysis/nps.py", "import pandas as pd\n")
    write(tmp_path, "cxlab/store/read.py", "from cxlab.analysis import nps\n")
    write(tmp_path, "cxlab/dashboards/tokens.py", "import itsdangerous\n")
    write(tmp_path, "cxlab/dashboards/widget.py", "import ipywidgets\n")
    write(tmp_path, "cxlab/cli.py", "import click\nclick.echo('done')\nprint('ok')\n")
    write(tmp_path, "survey_server/portal.py", "from cxlab.dashboards.tokens import x\n")
    return tmp_path


def check(root: Path) -> tuple[list[str], dict[str, list[int]]]:
    modules = find_modules([root / "cxlab", root / "survey_server"])
    return import_violations(modules, RULES), print_calls(modules, CLI)


def test_an_innocent_tree_passes(planted):
    assert check(planted) == ([], {})


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("cxlab/analysis/bad.py", "import plotly.express as px\n",
     "cxlab.analysis.bad imports plotly.express"),
    ("cxlab/analysis/bad.py", "def chart():\n    import ipywidgets\n",
     "cxlab.analysis.bad imports ipywidgets"),
    ("cxlab/store/bad.py", "from ..dashboards import widget\n",
     "cxlab.store.bad imports cxlab.dashboards.widget"),
    ("cxlab/store/bad.py", "from cxlab import cli\n", "cxlab.store.bad imports cxlab.cli"),
    ("survey_server/bad.py", "from cxlab.dashboards.widget import Dashboard\n",
     "survey_server.bad imports cxlab.dashboards.widget"),
    ("survey_server/bad.py", "import papermill\n", "survey_server.bad imports papermill"),
])
def test_a_planted_bad_import_is_found(planted, module, source, expected):
    write(planted, module, source)
    violations, _prints = check(planted)
    assert any(line.startswith(expected + " (") for line in violations), violations


def test_a_bad_import_through_another_module_names_the_chain(planted):
    # The analysis module is innocent itself: the helper it imports is not.
    write(planted, "cxlab/helpers.py", "import bottle\n")
    write(planted, "cxlab/analysis/nps.py", "from cxlab import helpers\n")
    violations, _prints = check(planted)
    assert ("cxlab.analysis.nps imports bottle "
            "(cxlab.analysis.nps → cxlab.helpers → bottle)") in [
        line.split(": ")[0] for line in violations]
    # ... and the store, which imports that analysis module, with it.
    assert any(line.startswith("cxlab.store.read imports bottle") for line in violations)


def test_a_tolerated_import_is_not_followed_but_anything_else_is(planted):
    write(planted, "cxlab/store/command.py", "import click\nimport plotly\n")
    modules = find_modules([planted / "cxlab", planted / "survey_server"])
    violations = import_violations(modules, RULES, {("cxlab.store.command", "click")})
    assert [line.split(" (")[0] for line in violations] == [
        "cxlab.store.command imports plotly"]


def test_printing_outside_the_cli_is_found(planted):
    write(planted, "cxlab/report.py",
          "import click\n\ndef send():\n    click.echo('sent')\n    print('also')\n")
    write(planted, "survey_server/health.py", "import sys\nprint('up', file=sys.stderr)\n")
    write(planted, "cxlab/quiet.py", "def show(page):\n    page.print()\n")
    _violations, prints = check(planted)
    assert prints == {"cxlab.report": [4, 5], "survey_server.health": [2]}


# ------------------------------------------------------------ the real tree


@pytest.fixture(scope="module")
def project():
    return find_modules(PACKAGES)


def test_the_real_tree_keeps_its_layers(project):
    violations = import_violations(project, RULES, TOLERATED_IMPORTS)
    assert violations == [], "\n".join(violations[:20])


def test_only_the_cli_prints(project):
    printing = print_calls(project, CLI)
    new = {name: lines for name, lines in printing.items() if name not in TOLERATED_PRINTERS}
    assert new == {}, "only cxlab.cli prints: return a result and let the CLI show it"


def test_only_the_cli_package_imports_click(project):
    users = sorted(name for name, module in project.items()
                   if any(within(imported, "click") for imported in module.imports))
    assert users, "the check found no click import at all: it would prove nothing"
    assert [name for name in users if not within(name, "cxlab.cli")] == []


def test_the_allow_lists_only_name_live_offences(project):
    printing = print_calls(project, CLI)
    fixed = sorted(set(TOLERATED_PRINTERS) - set(printing))
    assert fixed == [], f"no longer printing: remove {fixed} from TOLERATED_PRINTERS"
    gone = sorted(edge for edge in TOLERATED_IMPORTS
                  if edge[0] not in project or edge[1] not in project[edge[0]].imports)
    assert gone == [], f"no longer imported: remove {gone} from TOLERATED_IMPORTS"
