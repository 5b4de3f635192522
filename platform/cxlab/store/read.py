"""Reading the store: the one way notebooks load responses.

Example, with a migrated database and a synced store::

    frame = load_responses(config, "acme", "store-visit",
                           start="2026-10-01", filters={"store": "shibuya-01"},
                           columns=["submitted_at", "nps", "heard_from"])
    definition = survey_definition(config, "acme", "store-visit")
    definition.question("nps").label["en"]
    # 'How likely are you to recommend this restaurant to a friend or colleague?'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cxlab.config import Config
from cxlab.db import Database
from cxlab.errors import CxlabError
from cxlab.store.columns import ColumnPlan
from cxlab.store.extract import fetch_responses
from cxlab.store.layout import PartFile, Store
from cxlab.store.syncing import survey_definitions, tenant_and_survey_ids
from cxlab.surveys.definition import SurveyDefinition

Filters = Mapping[str, Any] | pc.Expression
READ_ATTEMPTS = 3  # a partition rarely changes twice while one frame is read


def survey_definition(store: Config | Store | str, tenant: str, survey: str) -> SurveyDefinition:
    """The newest definition of a survey as synced to the store, so charts can label
    themselves (question labels, option order, attribute labels).

    Raises :class:`~cxlab.store.layout.StoreNotFound` (a :class:`cxlab.errors.NotFound`)
    for a tenant or survey the store does not hold.
    """
    return _stored_plan(Store.of(store), tenant, survey).definition


def _stored_plan(store: Store, tenant: str, survey: str) -> ColumnPlan:
    return ColumnPlan(store.read_definitions(tenant, survey)["versions"])


def load_responses(
    store: Config | Store | str,
    tenant: str,
    survey: str,
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    filters: Filters | None = None,
    columns: Sequence[str] | None = None,
    fresh: bool = False,
    database: Database | None = None,
) -> pd.DataFrame:
    """Complete responses of one survey of one tenant, one row per response.

    Parameters
    ----------
    store : Config, store URL or Store
    tenant, survey : slugs; only this partition's files are ever opened.
    start, end : keep ``start <= submitted_at < end`` (naive times are UTC).
    filters : ``{"store": "shibuya-01", "nps": [9, 10]}`` (equal to a value or in a
        list), or a ``pyarrow.compute`` expression; pushed down to the Parquet scan.
    columns : names to return; a multi's or matrix's id stands for all its columns.
    fresh : also include responses the last sync has not copied yet, read from
        ``database`` (required then).

    Returns a DataFrame with the dtypes of :mod:`cxlab.store.columns` (nps/rating
    Int8, single and attributes category in the definition's order, multi boolean
    per option, text str, submitted_at datetime64[us, UTC]).

    Example, with a migrated database and a synced store::

        nps = load_responses(config, "acme", "store-visit", columns=["nps"])
    """
    store = Store.of(store)
    if fresh:
        if database is None:
            raise CxlabError("load_responses(fresh=True) needs database=Database(...)")
        # The database knows definitions published since the last sync.
        plan = survey_definitions(database, tenant, survey)
    else:
        plan = _stored_plan(store, tenant, survey)
    selected = _columns(plan, columns)
    condition = _condition(plan, start, end, filters)
    files, table = _read_live_files(store, plan, tenant, survey, selected, condition, filters)
    if fresh:
        watermark = files[-1].last_id if files else 0
        tail = _tail(database, plan, tenant, survey, watermark)
        if condition is not None:
            tail = tail.filter(condition)
        tail = tail.cast(plan.read_schema).select(selected)
        table = pa.concat_tables([table, tail]).unify_dictionaries()
    return plan.to_frame(table)


def _read_live_files(
    store: Store, plan: ColumnPlan, tenant: str, survey: str, selected: list[str],
    condition: pc.Expression | None, filters: Filters | None,
) -> tuple[list[PartFile], pa.Table]:
    """The selected rows of the partition's live files, and those files.

    A sync that commits while we read may delete a file we were about to open (a
    compaction, or a rewrite on object storage); the files a reader gets are then no
    longer the live ones, so it reads the new set instead of failing.
    """
    parquet = ds.ParquetFileFormat(
        read_options=ds.ParquetReadOptions(dictionary_columns=plan.categorical_columns)
    )
    files = store.live_files(tenant, survey)
    for attempt in range(READ_ATTEMPTS):
        try:
            dataset = ds.dataset([part.path for part in files], schema=plan.read_schema,
                                 format=parquet, filesystem=store.fs)
            return files, dataset.to_table(columns=selected, filter=condition)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError,
                OSError) as error:
            now_live = store.live_files(tenant, survey)
            if now_live != files and attempt + 1 < READ_ATTEMPTS:
                files = now_live
                continue
            bad = _unreadable(store, files)
            if bad:
                raise CxlabError(
                    f"load_responses: the part file {bad} cannot be read ({error}); run "
                    "`cxlab sync`, which quarantines it and rebuilds its rows from the "
                    "database"
                ) from None
            raise CxlabError(
                f"load_responses: cannot apply filters {filters!r}: {error}"
            ) from None
    raise AssertionError("unreachable: the last attempt returns or raises")


def _unreadable(store: Store, files) -> str | None:
    """The first part file whose Parquet footer cannot be read, if any."""
    for part in files:
        try:
            pq.read_metadata(part.path, filesystem=store.fs)
        except (pa.ArrowException, OSError):
            return part.path
    return None


def _tail(
    database: Database, plan: ColumnPlan, tenant: str, survey: str, watermark: int
) -> pa.Table:
    with database.engine.connect() as connection:
        tenant_id, survey_id = tenant_and_survey_ids(connection, tenant, survey)
        return fetch_responses(connection, plan, tenant_id, survey_id, after=watermark)


def _columns(plan: ColumnPlan, columns: Sequence[str] | None) -> list[str]:
    names = plan.schema.names
    if columns is None:
        return names
    if isinstance(columns, str):
        columns = [columns]
    # A question stored in several columns (multi options, matrix rows) stands for them.
    multi = {q.id: q.names for q in plan.questions if q.names != [q.id]}
    selected = []
    for column in columns:
        if column in multi:
            selected += multi[column]
        elif column in names:
            selected.append(column)
        else:
            raise CxlabError(
                f"load_responses: no column {column!r}; the columns are {', '.join(names)}"
            )
    return selected


def _condition(
    plan: ColumnPlan, start: Any, end: Any, filters: Filters | None
) -> pc.Expression | None:
    parts = []
    stamp_type = plan.schema.field("submitted_at").type
    if start is not None:
        parts.append(pc.field("submitted_at") >= pa.scalar(_utc(start), stamp_type))
    if end is not None:
        parts.append(pc.field("submitted_at") < pa.scalar(_utc(end), stamp_type))
    if isinstance(filters, pc.Expression):
        parts.append(filters)
    elif filters:
        for name, value in filters.items():
            if name not in plan.schema.names:
                raise CxlabError(
                    f"load_responses: cannot filter on {name!r}; filter on one of "
                    f"{', '.join(plan.schema.names)}"
                )
            field_type = plan.schema.field(name).type
            if isinstance(value, list | tuple | set | frozenset):
                parts.append(pc.field(name).isin(pa.array(list(value), field_type)))
            else:
                parts.append(pc.field(name) == pa.scalar(value, field_type))
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part
    return condition


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()
