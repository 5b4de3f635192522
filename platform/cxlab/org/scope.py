"""Which answers a portal user may see: their scope (units of the organisation tree)
and :func:`visible_segments`, the one answer to "which segment codes, at which dates".

A user without a scope sees the whole tenant (``None`` everywhere below). A scoped user
sees the answers whose segment attribute (the survey's first attribute: the store
code) is one of their units or a unit below them *at the answer's time*: a store that
moved from area East to West on 1 June counts for East's manager until then and for
West's from then on; the store's own manager sees all of it. Every surface (portal,
dashboard kernel, reports) filters through :class:`Visibility`.

>>> from datetime import UTC, datetime
>>> from cxlab.db import Database
>>> from cxlab.org.files import read_units_text
>>> from cxlab.org.tree import load_tree
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> tree = "code,name,kind,parent\\nhq,HQ,head_office,\\neast,East,area,hq\\n"
>>> with database.session() as session:
...     acme = create_tenant(session, "acme", "Acme")
...     _ = load_tree(session, acme, read_units_text(
...         tree + "west,West,area,hq\\ns1,S1,store,east\\ns2,S2,store,west\\n", "csv"))
...     _ = load_tree(session, acme, read_units_text(
...         tree + "west,West,area,hq\\ns1,S1,store,west\\ns2,S2,store,west\\n", "csv"),
...         effective=datetime(2026, 6, 1, tzinfo=UTC))
...     east = visible_segments(session, acme.id, ["east"])
>>> sorted(east.codes)
['east', 's1']
>>> [east.allows("s1", datetime(2026, month, 15, tzinfo=UTC)) for month in (5, 7)]
[True, False]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, false, or_, select
from sqlalchemy.orm import Session

from cxlab.db.models import OrgLink, OrgUnit, Tenant, User, UserScope
from cxlab.errors import CxlabError, NotFound

Window = tuple[datetime | None, datetime | None]  # from (inclusive), to (exclusive)


@dataclass(frozen=True)
class Visibility:
    """The segment codes a scoped user may see, each with the periods in which its
    answers are theirs (``None``: unbounded)."""

    windows: dict[str, tuple[Window, ...]]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.windows)

    def allows(self, code: str, at: datetime) -> bool:
        """Whether an answer of segment ``code`` given at ``at`` is visible."""
        return any(_inside(at, window) for window in self.windows.get(code, ()))

    def mask(self, frame: pd.DataFrame, attribute: str | None,
             time_column: str = "submitted_at") -> pd.Series:
        """The rows of ``frame`` this user may see (a boolean Series)."""
        if attribute is None or attribute not in frame.columns:
            return pd.Series(False, index=frame.index)
        codes = frame[attribute].astype("object")
        shown = pd.Series(False, index=frame.index)
        for code, windows in self.windows.items():
            same = codes == code
            for start, end in windows:
                part = same
                if start is not None:
                    part = part & (frame[time_column] >= pd.Timestamp(start))
                if end is not None:
                    part = part & (frame[time_column] < pd.Timestamp(end))
                shown |= part
        return shown

    def arrow_filter(self, attribute: str | None, time_column: str = "submitted_at"):
        """The same rule as a ``pyarrow.compute`` expression, to push down to a Parquet
        scan (:func:`cxlab.store.load_responses` ``filters=``): nothing is read that
        the user may not see."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if attribute is None or not self.windows:
            return pc.scalar(False)
        stamp = pa.timestamp("us", tz="UTC")
        always = [code for code, windows in self.windows.items() if (None, None) in windows]
        parts = [pc.field(attribute).isin(pa.array(always, pa.string()))] if always else []
        for code, windows in self.windows.items():
            if code in always:
                continue
            for start, end in windows:
                part = pc.field(attribute) == pa.scalar(code, pa.string())
                if start is not None:
                    part = part & (pc.field(time_column) >= pa.scalar(start, stamp))
                if end is not None:
                    part = part & (pc.field(time_column) < pa.scalar(end, stamp))
                parts.append(part)
        condition = parts[0]
        for part in parts[1:]:
            condition = condition | part
        return condition

    def sql_condition(self, code: Any, time: Any) -> Any:
        """The same rule as an SQLAlchemy condition on the expressions ``code`` (the
        segment value) and ``time`` (when the answer was given)."""
        always = [c for c, windows in self.windows.items() if (None, None) in windows]
        parts = [code.in_(always)] if always else []
        for value, windows in self.windows.items():
            if value in always:
                continue
            for start, end in windows:
                bounds = [code == value]
                if start is not None:
                    bounds.append(time >= start)
                if end is not None:
                    bounds.append(time < end)
                parts.append(and_(*bounds))
        return or_(*parts) if parts else false()


def user_scope(session: Session, user_id: int) -> tuple[str, ...] | None:
    """The codes of the units ``user_id`` is scoped to, sorted; None for the whole
    tenant."""
    codes = sorted(session.scalars(
        select(OrgUnit.code).join(UserScope, UserScope.unit_id == OrgUnit.id)
        .where(UserScope.user_id == user_id)))
    return tuple(codes) or None


def set_scope(session: Session, tenant: Tenant, email: str, codes: Sequence[str]) -> None:
    """Limit the tenant's user ``email`` to the units ``codes`` (and all below them);
    no codes gives them the whole tenant again."""
    user = session.scalar(select(User).where(User.email == email.strip().lower(),
                                             User.tenant_id == tenant.id))
    if user is None:
        raise NotFound(f"tenant {tenant.slug!r} has no user {email!r}; "
                       f"see: cxlab user list --tenant {tenant.slug}")
    units = {unit.code: unit for unit in session.scalars(
        select(OrgUnit).where(OrgUnit.tenant_id == tenant.id, OrgUnit.code.in_(list(codes))))}
    unknown = [code for code in codes if code not in units]
    if unknown:
        raise NotFound(f"tenant {tenant.slug!r} has no unit {', '.join(unknown)}; "
                       f"see: cxlab org show --tenant {tenant.slug}")
    session.execute(delete(UserScope).where(UserScope.user_id == user.id))
    for unit in units.values():
        session.add(UserScope(tenant_id=tenant.id, user_id=user.id, unit_id=unit.id))
    session.flush()


def visible_segments(session: Session, tenant_id: int,
                     scope: Iterable[str] | None) -> Visibility | None:
    """The segment codes (and when) a user with ``scope`` may see: every unit of the
    tenant at or below a scope unit, for the periods it was below it. ``None`` (no
    scope) is the whole tenant; codes that name no unit of the tenant see nothing."""
    if scope is None:
        return None
    tree = _Tree.of(session, tenant_id)
    return tree.below([tree.ids[code] for code in scope if code in tree.ids])


@dataclass(frozen=True)
class RollupUnit:
    """One row of a roll-up: a unit and which answers count for it."""

    code: str
    name: str
    visibility: Visibility


def rollup_units(session: Session, tenant_id: int,
                 scope: Iterable[str] | None) -> list[RollupUnit] | None:
    """The units whose figures a user's dashboard lists, each with the answers that roll
    up into it: the children of the user's unit (an area manager: their stores; the head
    office: its areas), or the scope's units when it has several; None when there is
    nothing to roll up (no tree, or a unit with no children: a store), so the answers'
    own segments are listed.

    Each answer counts for the child it was below *when it was given* (a moved store's
    old answers stay with its old area)."""
    tree = _Tree.of(session, tenant_id)
    ids = tree.ids
    tops = tree.roots if scope is None else [ids[code] for code in scope if code in ids]
    shown = tops if len(tops) > 1 else sorted(
        {child for child, _window in tree.children.get(tops[0], [])} if tops else [],
        key=lambda unit_id: tree.codes[unit_id])
    if not shown:
        return None
    return [RollupUnit(tree.codes[unit_id], tree.names[unit_id], tree.below([unit_id]))
            for unit_id in shown]


def label_answers(frame: pd.DataFrame, units: Sequence[RollupUnit], attribute: str | None,
                  time_column: str = "submitted_at") -> pd.Series:
    """Each answer's roll-up unit (its code; None for none of ``units``), by its segment
    ``attribute`` and time."""
    labels = pd.Series(None, index=frame.index, dtype="object")
    for unit in units:
        labels[unit.visibility.mask(frame, attribute, time_column) & labels.isna()] = unit.code
    return labels


@dataclass(frozen=True)
class _Tree:
    """A tenant's units and every parent link they ever had, read once."""

    codes: dict[int, str]
    names: dict[int, str]
    children: dict[int, list[tuple[int, Window]]]
    roots: list[int]

    @property
    def ids(self) -> dict[str, int]:
        return {code: unit_id for unit_id, code in self.codes.items()}

    @classmethod
    def of(cls, session: Session, tenant_id: int) -> _Tree:
        codes, names = {}, {}
        for unit_id, code, name in session.execute(
                select(OrgUnit.id, OrgUnit.code, OrgUnit.name)
                .where(OrgUnit.tenant_id == tenant_id)):
            codes[unit_id], names[unit_id] = code, name
        children: dict[int, list[tuple[int, Window]]] = {}
        roots = set()
        for unit_id, parent_id, start, end in session.execute(
                select(OrgLink.unit_id, OrgLink.parent_id, OrgLink.valid_from,
                       OrgLink.valid_to).where(OrgLink.tenant_id == tenant_id)):
            if parent_id is None:
                roots.add(unit_id)
            else:
                children.setdefault(parent_id, []).append((unit_id, (_utc(start), _utc(end))))
        return cls(codes, names, children, sorted(roots, key=lambda i: codes[i]))

    def below(self, unit_ids: Iterable[int]) -> Visibility:
        """Every unit at or below ``unit_ids``, for the periods it was below them."""
        found: dict[str, list[Window]] = {}
        stack = [(unit_id, (None, None)) for unit_id in unit_ids]
        while stack:
            unit_id, window = stack.pop()
            found.setdefault(self.codes[unit_id], []).append(window)
            for child, link in self.children.get(unit_id, []):
                both = _overlap(window, link)
                if both is not None:
                    stack.append((child, both))
        return Visibility({code: _merged(windows) for code, windows in found.items()})


def parse_scope(value: object) -> tuple[str, ...] | None:
    """A scope as carried in a signed token or a notebook parameter: None (whole tenant)
    or a list of codes; anything else is refused.

    >>> parse_scope(None), parse_scope(["s1", "east"])
    (None, ('east', 's1'))
    """
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(code, str) for code in value):
        return tuple(sorted(value))
    raise CxlabError(f"a scope is a list of unit codes, not {value!r}")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _inside(at: datetime, window: Window) -> bool:
    start, end = window
    return (start is None or at >= start) and (end is None or at < end)


def _overlap(a: Window, b: Window) -> Window | None:
    starts = [s for s in (a[0], b[0]) if s is not None]
    ends = [e for e in (a[1], b[1]) if e is not None]
    start, end = (max(starts) if starts else None), (min(ends) if ends else None)
    if start is not None and end is not None and start >= end:
        return None
    return start, end


def _merged(windows: list[Window]) -> tuple[Window, ...]:
    """Overlapping or touching windows as one; an unbounded one swallows the rest."""
    if (None, None) in windows:
        return ((None, None),)
    low = datetime.min.replace(tzinfo=UTC)
    high = datetime.max.replace(tzinfo=UTC)
    spans = sorted((start or low, end or high) for start, end in windows)
    merged = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((None if start == low else start, None if end == high else end)
                 for start, end in merged)
