"""Reading an organisation file: the units of a tenant's tree, one per CSV row or YAML
entry, each with the line it came from so that a problem can name it.

A CSV has the header ``code,name,kind,parent`` (UTF-8, a BOM allowed); a YAML file is
a list of mappings with those keys, or a mapping whose ``units`` is that list. An
empty ``parent`` makes a root (the head office).

>>> units = read_units_text("code,name,kind,parent\\nhq,Head office,head_office,\\n"
...                         "east,East,area,hq\\n", "csv")
>>> [(unit.code, unit.parent, unit.line) for unit in units]
[('hq', None, 2), ('east', 'hq', 3)]
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from cxlab.errors import CxlabError

COLUMNS = ("code", "name", "kind", "parent")
CODE_PATTERN = re.compile(r"[^\s,/]{1,100}")
MAX_NAME_LENGTH = 200
MAX_KIND_LENGTH = 40


@dataclass(frozen=True)
class UnitLine:
    """One unit as the file states it, and the line it is on (1 = the first line)."""

    code: str
    name: str
    kind: str
    parent: str | None
    line: int


class OrgFileError(CxlabError):
    """An organisation file that cannot be loaded; ``problems`` are its lines' faults,
    each starting with ``line N:``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the organisation file was not loaded:\n  " + "\n  ".join(problems))
        self.problems = problems


def read_units(path: Path) -> list[UnitLine]:
    """The units of a ``.csv``, ``.yaml`` or ``.yml`` file; :class:`OrgFileError` for
    a file whose lines are not units (the tree itself is checked by
    :func:`cxlab.org.tree.check_tree`)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise CxlabError(f"{path.name}: an organisation file ends in .csv, .yaml or .yml")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CxlabError(f"{path.name}: save the file as UTF-8") from None
    except OSError as error:
        raise CxlabError(f"cannot read {path}: {error.strerror}") from None
    return read_units_text(text, "csv" if suffix == ".csv" else "yaml")


def read_units_text(text: str, kind: str) -> list[UnitLine]:
    """The units of an organisation file's ``text`` (``kind`` "csv" or "yaml")."""
    rows = _csv_rows(text) if kind == "csv" else _yaml_rows(text)
    problems: list[str] = []
    units = []
    for line, row in rows:
        unit = _unit(line, row, problems)
        if unit is not None:
            units.append(unit)
    if not units and not problems:
        problems.append("line 1: the file names no units")
    if problems:
        raise OrgFileError(problems)
    return units


def _csv_rows(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("code", "name", "kind") if name not in header]
    if missing:
        raise OrgFileError([f"line 1: the header lacks {', '.join(missing)} "
                            f"(write: {','.join(COLUMNS)})"])
    reader.fieldnames = header
    rows = []
    for row in reader:
        if any((value or "").strip() for key, value in row.items() if key):
            rows.append((reader.line_num, row))
    return rows


def _yaml_rows(text: str) -> list[tuple[int, dict]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise OrgFileError([f"line {line}: not YAML ({getattr(error, 'problem', error)})"]) \
            from None
    if isinstance(root, yaml.MappingNode):
        root = next((value for key, value in root.value if key.value == "units"), None)
    if not isinstance(root, yaml.SequenceNode):
        raise OrgFileError(["line 1: write a list of units (code, name, kind, parent), "
                            "or a mapping whose 'units' is that list"])
    rows = []
    for node in root.value:
        line = node.start_mark.line + 1
        value = yaml.SafeLoader(io.StringIO("")).construct_document(node)
        rows.append((line, value if isinstance(value, dict) else None))
    return rows


def _unit(line: int, row: dict | None, problems: list[str]) -> UnitLine | None:
    if row is None:
        problems.append(f"line {line}: a unit is a mapping of code, name, kind, parent")
        return None

    def cell(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value).strip()

    code, name, kind, parent = cell("code"), cell("name"), cell("kind"), cell("parent")
    faults = []
    if not CODE_PATTERN.fullmatch(code):
        faults.append("code: give 1-100 characters without spaces, commas or slashes"
                      if code else "code: missing")
    if not name or len(name) > MAX_NAME_LENGTH:
        faults.append(f"name: give 1-{MAX_NAME_LENGTH} characters")
    if not kind or len(kind) > MAX_KIND_LENGTH:
        faults.append(f"kind: give 1-{MAX_KIND_LENGTH} characters (e.g. head_office, area, "
                      "store, department)")
    if faults:
        problems.extend(f"line {line}: {fault}" for fault in faults)
        return None
    return UnitLine(code, name, kind, parent or None, line)
