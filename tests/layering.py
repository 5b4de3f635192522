"""The layering rule of docs/architecture.md as a check over the source: which
package may import which, and which modules may print.

It reads the source with :mod:`ast` (nothing is imported, so a planted bad import
cannot run) and follows imports through the project's own modules, so a rule is
broken as much by ``cxlab.store`` importing a module that imports plotly as by
importing plotly itself. Every import counts, including those inside functions: a
lazy import still loads the package when that code runs.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> (root / "lib").mkdir()
>>> _ = (root / "lib" / "__init__.py").write_text("")
>>> _ = (root / "lib" / "core.py").write_text("from lib import view\\n")
>>> _ = (root / "lib" / "view.py").write_text("import bottle\\nprint('hi')\\n")
>>> modules = find_modules([root / "lib"])
>>> rule = Rule("lib.core", ("bottle",), reason="core has no UI")
>>> import_violations(modules, [rule])
['lib.core imports bottle (lib.core → lib.view → bottle): core has no UI']
>>> print_calls(modules, exempt=())
{'lib.view': [2]}
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """Modules named ``importer`` (or inside it) may not import any of ``forbidden``
    (or inside them), unless it is one of ``allowed`` (or inside them)."""

    importer: str
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Module:
    """A project module: its dotted name, its file and the names it imports."""

    name: str
    path: Path
    imports: frozenset[str]


def within(name: str, prefix: str) -> bool:
    """Whether module ``name`` is ``prefix`` or inside it.

    >>> within("cxlab.dashboards.tokens", "cxlab.dashboards"), within("cxlab.db", "cxlab.d")
    (True, False)
    """
    return name == prefix or name.startswith(prefix + ".")


def find_modules(packages: Iterable[Path]) -> dict[str, Module]:
    """Every module of each top-level package folder in ``packages``, by dotted
    name, with the names it imports."""
    paths: dict[str, tuple[Path, bool]] = {}
    for folder in packages:
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder.parent).with_suffix("").parts
            package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if package else parts)
            paths[name] = (path, package)
    return {
        name: Module(name, path, frozenset(_imported_names(path, name, package, paths)))
        for name, (path, package) in paths.items()
    }


def _imported_names(path: Path, name: str, package: bool, known: dict) -> set[str]:
    """The absolute names ``path`` imports; ``from a import b`` names ``a.b`` when
    that is a module, else ``a``; relative imports are resolved against ``name``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in known else base)
    return names


def import_violations(modules: dict[str, Module], rules: Iterable[Rule],
                      tolerated: Iterable[tuple[str, str]] = ()) -> list[str]:
    """One line per (module, forbidden name) a rule is broken by, with the chain of
    imports that leads there. ``tolerated`` imports, (importer, imported name)
    pairs, are not followed: a known offence, not a new one."""
    tolerated = frozenset(tolerated)
    problems = []
    for rule in rules:
        for module in sorted(modules):
            if not within(module, rule.importer):
                continue
            for target, chain in _reachable(modules, module, tolerated).items():
                if _inside(target, rule.forbidden) and not _inside(target, rule.allowed):
                    problems.append(f"{module} imports {target} ({' → '.join(chain)}): "
                                    f"{rule.reason}")
    return problems


def _inside(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(within(name, prefix) for prefix in prefixes)


def _reachable(modules: dict[str, Module], start: str,
               tolerated: frozenset[tuple[str, str]]) -> dict[str, list[str]]:
    """Every name imported by ``start`` or by a project module it loads (an
    imported module's parent packages run first), with the shortest chain to it."""
    loaded: dict[str, list[str]] = {start: [start]}
    imported: dict[str, list[str]] = {}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for name in sorted(modules[current].imports - {
                name for importer, name in tolerated if importer == current}):
            imported.setdefault(name, [*loaded[current], name])
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                step = ".".join(parts[:depth])
                if step in modules and step not in loaded:
                    loaded[step] = [*loaded[current], step]
                    queue.append(step)
    return imported


def print_calls(modules: dict[str, Module], exempt: Iterable[str]) -> dict[str, list[int]]:
    """The lines of each module (outside ``exempt`` prefixes) that call ``print``,
    ``click.echo`` or ``click.secho``: output that only the CLI decides on."""
    exempt = tuple(exempt)
    found: dict[str, list[int]] = {}
    for name, module in sorted(modules.items()):
        if _inside(name, exempt):
            continue
        tree = ast.parse(module.path.read_text(), filename=str(module.path))
        lines = sorted(
            node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _prints(node.func)
        )
        if lines:
            found[name] = lines
    return found


def _prints(function: ast.expr) -> bool:
    if isinstance(function, ast.Name):
        return function.id == "print"
    return (isinstance(function, ast.Attribute) and function.attr in ("echo", "secho")
            and isinstance(function.value, ast.Name) and function.value.id == "click")
