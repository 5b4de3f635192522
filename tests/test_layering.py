"""Import direction, checked on the source: only the CLI uses click (it alone prints and
picks exit codes), and the analytic store imports no dashboard code."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "platform" / "cxlab"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def modules_importing(prefix: str, under: Path = PACKAGE) -> set[str]:
    return {str(path.relative_to(PACKAGE)) for path in under.rglob("*.py")
            if any(name == prefix or name.startswith(prefix + ".")
                   for name in imported_modules(path))}


def test_only_the_cli_package_imports_click():
    users = modules_importing("click")
    assert users, "the check found no click import at all: it would prove nothing"
    assert {name for name in users if not name.startswith("cli/")} == set()


def test_the_store_imports_no_dashboard_code():
    assert modules_importing("cxlab.dashboards", PACKAGE / "store") == set()
    assert modules_importing("cxlab.cli", PACKAGE / "store") == set()


def test_job_kinds_call_the_library_not_the_cli():
    assert modules_importing("cxlab.cli", PACKAGE / "jobs") == set()
