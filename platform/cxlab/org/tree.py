"""A tenant's organisation tree in the database: checking a file's units, loading them
as the tree from a date on, and showing the tree as it stands at a time.

Versioning: a unit's place is a row of ``org_links`` per period. Loading a file whose
unit has another parent than before closes the old link at ``effective`` and opens a
new one there, so answers given before the move stay under the old parent (an area's
figures for last year do not change when a store moves to another area today); a unit
the file no longer names has its link closed (it stays in the tree for older answers).
A unit's first link holds since always. Changes are dated in order: a load dated
before the last change is refused.

>>> from datetime import UTC, datetime
>>> from cxlab.db import Database
>>> from cxlab.org.files import read_units_text
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> first = read_units_text("code,name,kind,parent\\nhq,HQ,head_office,\\n"
...     "east,East,area,hq\\nwest,West,area,hq\\ns1,Store 1,store,east\\n", "csv")
>>> moved = [u if u.code != "s1" else u.__class__("s1", "Store 1", "store", "west", 5)
...          for u in first]
>>> with database.session() as session:
...     acme = create_tenant(session, "acme", "Acme")
...     load_tree(session, acme, first).added
...     load_tree(session, acme, moved, effective=datetime(2026, 6, 1, tzinfo=UTC)).moved
...     [(r.code, r.parent, r.depth) for r in tree_rows(session, acme, at=datetime(2026, 1, 1))
...      if r.kind == "store"]
4
1
[('s1', 'east', 2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cxlab.db.models import OrgLink, OrgUnit, Tenant
from cxlab.errors import CxlabError
from cxlab.org.files import OrgFileError, UnitLine


@dataclass(frozen=True)
class LoadReport:
    """What a load changed: units added, renamed (name or kind), moved to another
    parent, retired (no longer in the file), and those left as they were."""

    added: int
    changed: int
    moved: int
    retired: int
    unchanged: int


@dataclass(frozen=True)
class TreeRow:
    """A unit as the tree shows it at one time: ``depth`` 0 for a root."""

    code: str
    name: str
    kind: str
    parent: str | None
    depth: int


def check_tree(units: Sequence[UnitLine]) -> None:
    """Raise :class:`OrgFileError` naming each line whose code is a duplicate, whose
    parent is not in the file, or that is part of a cycle.

    >>> from cxlab.org.files import UnitLine
    >>> check_tree([UnitLine("a", "A", "area", "b", 2), UnitLine("b", "B", "area", "a", 3)])
    Traceback (most recent call last):
    ...
    cxlab.org.files.OrgFileError: the organisation file was not loaded:
      line 2: a is its own ancestor (a → b → a)
    """
    problems = []
    first_line: dict[str, int] = {}
    for unit in units:
        if unit.code in first_line:
            problems.append(f"line {unit.line}: code {unit.code} is already on line "
                            f"{first_line[unit.code]}")
        else:
            first_line[unit.code] = unit.line
    parents = {unit.code: unit.parent for unit in units}
    for unit in units:
        if unit.parent is not None and unit.parent not in parents:
            problems.append(f"line {unit.line}: parent {unit.parent} is not a code in the file")
    in_cycle: set[str] = set()
    for unit in units:
        path, code = [unit.code], unit.parent
        while code is not None and code in parents and code not in in_cycle:
            path.append(code)
            if code == unit.code:
                in_cycle.update(path)
                problems.append(f"line {unit.line}: {unit.code} is its own ancestor "
                                f"({' → '.join(path)})")
                break
            if len(path) > len(parents) + 1:
                break  # a cycle above this unit: reported on its own lines
            code = parents[code]
    if problems:
        raise OrgFileError(problems)


def load_tree(session: Session, tenant: Tenant, units: Sequence[UnitLine],
              *, effective: datetime | None = None) -> LoadReport:
    """Make ``units`` the tenant's tree from ``effective`` (default now) on; see the
    module's docstring for what happens to moved and missing units."""
    check_tree(units)
    effective = (effective or datetime.now(UTC)).astimezone(UTC)
    last_change = session.scalar(select(func.max(func.coalesce(OrgLink.valid_to,
                                                               OrgLink.valid_from)))
                                 .where(OrgLink.tenant_id == tenant.id))
    if last_change is not None and _aware(last_change) > effective:
        raise CxlabError(f"the tree last changed on {_aware(last_change):%Y-%m-%d %H:%M}; "
                         "date this change after it (--from)")
    existing = {unit.code: unit for unit in session.scalars(
        select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))}
    open_links = {link.unit_id: link for link in session.scalars(
        select(OrgLink).where(OrgLink.tenant_id == tenant.id, OrgLink.valid_to.is_(None)))}
    added = changed = 0
    for line in units:
        unit = existing.get(line.code)
        if unit is None:
            unit = OrgUnit(tenant_id=tenant.id, code=line.code, name=line.name, kind=line.kind)
            session.add(unit)
            existing[line.code] = unit
            added += 1
        elif (unit.name, unit.kind) != (line.name, line.kind):
            unit.name, unit.kind = line.name, line.kind
            changed += 1
    session.flush()
    moved = unchanged = 0
    named = set()
    ever_linked = set(session.scalars(
        select(OrgLink.unit_id).where(OrgLink.tenant_id == tenant.id)))
    for line in units:
        unit = existing[line.code]
        named.add(unit.id)
        parent_id = existing[line.parent].id if line.parent else None
        link = open_links.get(unit.id)
        if link is not None and link.parent_id == parent_id:
            unchanged += 1
            continue
        first = unit.id not in ever_linked
        if link is not None:
            link.valid_to = effective
            moved += 1
        session.add(OrgLink(tenant_id=tenant.id, unit_id=unit.id, parent_id=parent_id,
                            valid_from=None if first else effective))
    retired = 0
    for unit_id, link in open_links.items():
        if unit_id not in named:
            link.valid_to = effective
            retired += 1
    session.flush()
    return LoadReport(added, changed, moved, retired, unchanged)


def tree_rows(session: Session, tenant: Tenant, *, at: datetime | None = None) -> list[TreeRow]:
    """The tenant's tree at ``at`` (default now), depth first, each level by code."""
    at = (at or datetime.now(UTC))
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    rows = session.execute(
        select(OrgLink.unit_id, OrgLink.parent_id)
        .where(OrgLink.tenant_id == tenant.id, links_valid_at(at))).all()
    units = {unit.id: unit for unit in session.scalars(
        select(OrgUnit).where(OrgUnit.tenant_id == tenant.id))}
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in rows:
        children.setdefault(parent_id, []).append(unit_id)
    shown: list[TreeRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit_id in sorted(children.get(parent_id, []), key=lambda i: units[i].code):
            unit = units[unit_id]
            shown.append(TreeRow(unit.code, unit.name, unit.kind,
                                 units[parent_id].code if parent_id else None, depth))
            walk(unit_id, depth + 1)

    walk(None, 0)
    return shown


def links_valid_at(at: datetime):
    """The SQL condition on ``org_links`` for links in force at ``at``."""
    return (or_(OrgLink.valid_from.is_(None), OrgLink.valid_from <= at)
            & or_(OrgLink.valid_to.is_(None), OrgLink.valid_to > at))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
