"""The answers a dashboard shows: their numbers loaded once per page (in a background
thread when the opening view comes from its snapshot), with where and when they came
from; the comments read on demand, for the view on screen only.

A kernel keeps the scores, ratings, segment and time of every answer (about 20 bytes an
answer: 20 MB for a million) and no comment text, which would cost it ten times that:
:func:`newest_comments` reads the few comments a view shows from the store with its
period and segment pushed down to the Parquet scan.

>>> from cxlab.demo import demo_config
>>> data = load_dashboard_data(demo_config(responses=600), "demo", "store-visit")
>>> len(data.responses), data.survey, data.outcome
(600, 'store-visit', 'nps')
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import operator
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import pyarrow
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.exc import SQLAlchemyError

from cxlab.config import Config
from cxlab.dashboards.rates import ResponseRates, database_file_missing, load_response_rates
from cxlab.dashboards.snapshots import (
    partition_version,
)
from cxlab.db import Database
from cxlab.errors import CxlabError
from cxlab.notebook_data import demo_stand_in
from cxlab.org import RollupUnit, parse_scope, rollup_units, visible_segments
from cxlab.store import Store, StoreNotFound, load_responses, survey_definition
from cxlab.surveys.definition import SurveyDefinition
from cxlab.tenancy import get_tenant

# The newest answers of a view whose comments are read first; ×8 while too few are found.
COMMENT_WINDOW = 400

try:  # glibc's malloc_trim returns freed heap pages; other C libraries lack it
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 - the lookup raises where it is missing
except (OSError, AttributeError):
    _LIBC = None


@dataclass
class DashboardData:
    """One survey's answers as loaded for a dashboard, with where and when from."""

    tenant: str
    survey: str
    definition: SurveyDefinition
    # The answers, or their loading in a background thread (see ``responses``).
    answers: pd.DataFrame | Future
    as_of: datetime | None
    load_seconds: float
    demo: bool = False
    response_rates: ResponseRates | None = None
    # Where the answers came from and in which version (cxlab.dashboards.snapshots);
    # None for answers that were not loaded from a store.
    store: Store | None = None
    version: str | None = None
    # The window the answers were loaded for (comments are read within it too).
    start: str | datetime | None = None
    end: str | datetime | None = None
    # A scoped user's rule (cxlab.org.Visibility.arrow_filter), pushed down to every
    # read of the store (answers and comments); None: the whole tenant.
    scope_filter: pc.Expression | None = None
    # The units the segment table rolls the answers up into (the children of the user's
    # unit: cxlab.org.rollup_units); None: the segment attribute's own values.
    rollup: list[RollupUnit] | None = None
    outcome: str = field(init=False)
    items: list[str] = field(init=False)
    attribute: str | None = field(init=False)

    def __post_init__(self) -> None:
        roles = self.definition.roles()  # ratings and matrix rows are the items
        self.outcome = roles.outcome or self.definition.questions_of_type("nps")[0].id
        self.items = list(roles.items)
        self.attribute = roles.segment
        self.text_columns = [q.id for q in self.definition.questions_of_type("text")]

    @property
    def responses(self) -> pd.DataFrame:
        """The answers; waits for them when they are still being loaded."""
        if isinstance(self.answers, Future):
            self.answers = self.answers.result()
        return self.answers


def choose_survey(config: Config, tenant: str, survey: str | None) -> str:
    """``survey``, or the tenant's first survey in the store when none is named."""
    if survey:
        return survey
    surveys = Store.of(config).surveys(tenant)
    if not surveys:
        raise StoreNotFound(f"the analytic store has no surveys for tenant {tenant!r}")
    return surveys[0]


def load_dashboard_data(
    config: Config,
    tenant: str,
    survey: str | None = None,
    *,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    demo_fallback: bool = False,
    background: bool = False,
    scope: tuple[str, ...] | list[str] | None = None,
) -> DashboardData:
    """Load the columns a dashboard needs, once. With ``demo_fallback`` a tenant the
    store lacks is replaced by the seeded demo (:func:`cxlab.notebook_data.demo_stand_in`;
    never set it when serving clients: they must see their own data or nothing). With
    ``background`` the answers are read in a thread: a dashboard that opens from its
    snapshot is on screen before they are needed (a million answers take 0.3–0.7 s).
    With ``scope`` (a user's unit codes, from their signed token) only the answers of
    those units and the units below them are read (:func:`cxlab.org.visible_segments`),
    and no snapshot of the whole survey is used or written."""
    demo = False
    stand_in = demo_stand_in(config, tenant, survey) if demo_fallback else None
    if stand_in is not None:
        config, tenant, survey, demo = stand_in.config, stand_in.tenant, stand_in.survey, True
    began = time.perf_counter()
    store = Store.of(config)
    survey = choose_survey(config, tenant, survey)
    # Taken before the answers are read: a sync in between makes a snapshot written
    # from these answers stale, never a stale one current.
    version = partition_version(store, tenant, survey)
    definition = survey_definition(store, tenant, survey)
    # Comments stay in the store: newest_comments reads the few a view shows.
    wanted = ["submitted_at", *(a.name for a in definition.attributes),
              *(q.id for q in definition.questions_of_type("nps")),
              *(item.id for item in definition.items())]
    attribute = definition.attributes[0].name if definition.attributes else None
    scoped = scope_filter(config, tenant, scope, attribute)
    rollup = None if demo else load_rollup(config, tenant, scope)
    if scoped is not None:
        version = None  # a snapshot shows every store: never used or written for a scope
    # Demo data has no invitations to count; a client sees only their own rates. The
    # rates count every store's invitations, so a scoped user gets none.
    rates = (None if demo or scoped is not None
             else load_response_rates(config, tenant, survey, attribute))
    as_of = _synced_at(config, tenant, survey)
    if background:  # last, so that the thread does not slow the steps above
        loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxlab-dashboard-load")
        answers = loader.submit(_load_politely, store, tenant, survey, start=start, end=end,
                                columns=wanted, filters=scoped)
        loader.shutdown(wait=False)  # the thread ends when the answers are in
    else:
        answers = load_responses(store, tenant, survey, start=start, end=end, columns=wanted,
                                 filters=scoped)
    return DashboardData(
        tenant=tenant, survey=survey, definition=definition, answers=answers,
        as_of=as_of, load_seconds=time.perf_counter() - began,
        demo=demo, response_rates=rates, store=store, start=start, end=end,
        scope_filter=scoped, rollup=rollup,
        # A window of the answers is not the partition a snapshot describes.
        version=version if start is None and end is None else None,
    )


def _load_politely(*args: object, **kwargs: object) -> pd.DataFrame:
    """load_responses at a lower CPU priority: on a small server the page being drawn
    (Voila, and often the browser too) needs the cores more than answers nobody has
    asked for yet. Threads pyarrow starts from here inherit it."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    answers = load_responses(*args, **kwargs)
    release_free_memory()
    return answers


def release_free_memory() -> None:
    """Hand memory freed after a load or an analysis back to the system: pyarrow's pool
    and glibc's malloc keep it otherwise. Measured on a million answers: 60–70 MB less
    resident per dashboard kernel (benchmarks/RESULTS.md), for a few milliseconds."""
    pyarrow.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)



def newest_comments(data: DashboardData, view: pd.DataFrame, segment: str | None,
                    search: str = "", limit: int = 15) -> pd.DataFrame:
    """The ``limit`` newest comments of ``view`` (the answers on screen, cut from
    ``data.responses``; ``segment`` its value of the first attribute, if chosen), those
    containing ``search`` (ignoring case) when given: columns ``submitted_at``,
    ``score`` (the outcome) and ``comment``, newest first.

    The comments are read from the store for the newest answers of the view only —
    period, segment and time window pushed down to the scan — widening the window
    until ``limit`` are found or the view is exhausted: a million answers never enter
    the kernel's memory as text. Answers not loaded from a store (a notebook's own frame)
    are searched in memory.

    >>> from cxlab.demo import demo_config
    >>> data = load_dashboard_data(demo_config(responses=600), "demo", "store-visit")
    >>> "comment_text" in data.responses.columns  # numbers only in memory
    False
    >>> found = newest_comments(data, data.responses, None, limit=3)
    >>> list(found.columns), len(found), found["submitted_at"].is_monotonic_decreasing
    (['submitted_at', 'score', 'comment'], 3, True)
    """
    columns = data.text_columns
    if not columns or view.empty:
        return _comment_table(view.iloc[:0], [], data.outcome, search, limit)
    if data.store is None or set(columns) <= set(view.columns):
        return _comment_table(view, columns, data.outcome, search, limit)
    stamps = view["submitted_at"]
    # Answers synced after the page loaded are not part of its view.
    end = (stamps.max() + pd.Timedelta(microseconds=1)).to_pydatetime()
    window = COMMENT_WINDOW
    while True:
        oldest = stamps.nlargest(min(window, len(stamps))).iloc[-1]
        rows = load_responses(
            data.store, data.tenant, data.survey, start=oldest.to_pydatetime(), end=end,
            filters=_comment_filter(data, segment),
            columns=["submitted_at", data.outcome, *columns])
        found = _comment_table(rows, columns, data.outcome, search, limit)
        if len(found) >= limit or window >= len(stamps):
            return found
        window *= 8


def _comment_filter(data: DashboardData, segment: str | None) -> pc.Expression | None:
    """What comments are read for: the chosen segment, within the user's scope."""
    parts = [data.scope_filter] if data.scope_filter is not None else []
    if segment and data.attribute:
        parts.append(pc.field(data.attribute) == pa.scalar(segment, pa.string()))
    return functools.reduce(operator.and_, parts) if parts else None


def scope_filter(config: Config, tenant: str, scope: tuple[str, ...] | list[str] | None,
                 attribute: str | None) -> pc.Expression | None:
    """The Parquet filter of a scoped user's answers (None without a scope), from the
    organisation tree in the database; a survey without a segment attribute shows a
    scoped user nothing. Raises :class:`cxlab.errors.CxlabError` (the page says so)
    when the database cannot be read: a scope is never dropped for want of it."""
    if scope is None:
        return None
    if database_file_missing(config):
        raise CxlabError("a scoped dashboard needs the database its scope is read from")
    try:
        # Not must_be_migrated: that check imports Alembic (25 MB per kernel); a schema
        # without the tables fails the query instead.
        with Database.open(config, must_be_migrated=False) as database, \
                database.session() as session:
            visibility = visible_segments(session, get_tenant(session, tenant).id,
                                          parse_scope(scope))
    except SQLAlchemyError as error:
        raise CxlabError(f"the scope cannot be read from the database: {error}") from None
    return visibility.arrow_filter(attribute)


def load_rollup(config: Config, tenant: str,
                scope: tuple[str, ...] | list[str] | None) -> list[RollupUnit] | None:
    """The units the dashboard's segment table lists for a user with ``scope``
    (:func:`cxlab.org.rollup_units`), from the organisation tree in the database; None
    without a tree or a database (the table then lists the segment's values)."""
    if database_file_missing(config):
        return None
    try:
        # Not must_be_migrated: that check imports Alembic (25 MB per kernel); a schema
        # without the tables fails the query instead.
        with Database.open(config, must_be_migrated=False) as database, \
                database.session() as session:
            return rollup_units(session, get_tenant(session, tenant).id,
                                None if scope is None else parse_scope(scope))
    except (SQLAlchemyError, CxlabError):
        return None


def _comment_table(frame: pd.DataFrame, columns: list[str], outcome: str, search: str,
                   limit: int) -> pd.DataFrame:
    """Every non-empty comment of ``frame`` (one row per comment column answered),
    those containing ``search``, the ``limit`` newest first."""
    parts = [pd.DataFrame({"submitted_at": frame["submitted_at"], "score": frame[outcome],
                           "comment": frame[column]}) for column in columns]
    if not parts:
        return pd.DataFrame({"submitted_at": [], "score": [], "comment": []})
    comments = pd.concat(parts, ignore_index=True)
    comments = comments[comments["comment"].notna() & (comments["comment"] != "")]
    needle = search.strip().lower()
    if needle:
        comments = comments[comments["comment"].str.lower().str.contains(needle, regex=False)]
    return (comments.sort_values("submitted_at", ascending=False, kind="stable")
            .head(limit).reset_index(drop=True))


def _synced_at(config: Config, tenant: str, survey: str) -> datetime | None:
    """When the newest part file was written: the data is as fresh as the last sync."""
    store = Store.of(config)
    files, _ = store.list_files(tenant, survey)
    stamps = []
    for part in files[-3:]:
        try:
            stamps.append(store.fs.modified(part.path))
        except (NotImplementedError, FileNotFoundError, OSError):
            continue
    if not stamps:
        return None
    newest = max(stamps)
    return newest if newest.tzinfo else newest.replace(tzinfo=UTC)
