"""Sync: bring the analytic store in line with the database, incrementally and safely.

For each survey in scope, one sync

1. cleans the partition: temp files of a crashed write and compaction leftovers;
2. reconciles what is already in the store: per part file, the database's count and
   sum of complete response ids in the file's id range (one query) against the
   file's own; a file that differs is rewritten from the database. This is how
   erasure (a deleted response), a partial response completed later, and a
   PostgreSQL id committed after a higher one reach the store;
3. appends responses above the watermark (the highest ``last_id`` in the file names)
   in batches, each written to a temp name and renamed: a crash before the rename
   loses nothing that the next run will not redo, one after it is already counted;
4. compacts runs of small files once a partition has more than ``max_files``.

Partitions of tenants or surveys no longer in the database are removed. A part file
that cannot be read is quarantined (:meth:`Store.quarantine`) and its id range
rewritten from the database in the same run. One survey's failure never stops the
others: it is recorded in :attr:`SyncReport.failures` and the sync goes on.
Only ``status == 'complete'`` responses are stored; a partial response appears once
it is completed. On PostgreSQL a sync waits for another sync of the same store
(:mod:`cxlab.store.sync_lock`); on SQLite run one at a time.

>>> from cxlab.config import Config
>>> from cxlab.db import Database
>>> import tempfile
>>> config = Config.from_environ({"CXLAB_VAR_DIR": tempfile.mkdtemp(), "CXLAB_ENV": "test"})
>>> database = Database(config.database_url); database.migrate()
>>> sync(database, config, progress=False).appended
0
"""

from __future__ import annotations

import io
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, func, select
from tqdm import tqdm

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Response, Survey, SurveyVersion, Tenant
from cxlab.errors import NotFound
from cxlab.store.checksums import database_summaries, id_summary, read_ids
from cxlab.store.columns import ColumnPlan
from cxlab.store.extract import fetch_responses
from cxlab.store.layout import PartFile, Store
from cxlab.store.sync_lock import exclusive_sync

log = logging.getLogger(__name__)
BATCH_SIZE = 250_000
MAX_FILES = 16


@dataclass
class PartitionReport:
    """What one sync did to one tenant/survey partition."""

    tenant: str
    survey: str
    appended: int = 0
    rewritten_files: int = 0
    compacted_files: int = 0
    cleaned_files: int = 0
    watermark: int = 0
    quarantined: list[str] = field(default_factory=list)  # where each bad file went


@dataclass
class SyncReport:
    """What a sync did: per partition, the partitions removed, and how long it took."""

    partitions: list[PartitionReport] = field(default_factory=list)
    removed_partitions: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # tenant, survey, why

    @property
    def quarantined(self) -> list[str]:
        return [path for partition in self.partitions for path in partition.quarantined]

    @property
    def appended(self) -> int:
        return sum(partition.appended for partition in self.partitions)

    @property
    def rate(self) -> float:
        """Appended responses per second."""
        return self.appended / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        rewritten = sum(partition.rewritten_files for partition in self.partitions)
        text = (
            f"synced {len(self.partitions)} survey(s): {self.appended:,} new responses in "
            f"{self.seconds:.1f} s, {rewritten} file(s) rewritten for changes or erasure, "
            f"{len(self.removed_partitions)} partition(s) of deleted surveys removed"
        )
        if self.quarantined:
            text += f", {len(self.quarantined)} unreadable file(s) quarantined and rebuilt"
        if self.failures:
            text += f"; {len(self.failures)} survey(s) FAILED"
        return text


@dataclass(frozen=True)
class _Target:
    tenant: str
    survey: str
    tenant_id: int
    survey_id: int
    plan: ColumnPlan


def sync(
    database: Database,
    config: Config | Store | str,
    *,
    tenant: str | None = None,
    survey: str | None = None,
    progress: bool | None = True,
    batch_size: int = BATCH_SIZE,
    max_files: int = MAX_FILES,
) -> SyncReport:
    """Copy new complete responses to the store and reflect changes and erasures.

    Parameters: ``database`` the OLTP database; ``config`` a :class:`Config` (its
    ``store_url``), a store URL or a :class:`Store`; ``tenant``/``survey`` limit the
    sync to one tenant or one survey (slugs); ``progress`` shows a tqdm bar (None: only
    on a terminal);
    ``batch_size`` responses per file; ``max_files`` per partition before compaction.
    Safe to rerun at any time, including after a crash. See the module docstring.

    Example, with a migrated database and a synced store::

        report = sync(database, config, tenant="acme")
        report.appended, report.rate
        # (1000000, 140000.0)
    """
    started = time.perf_counter()
    store = Store.of(config)
    report = SyncReport()
    with database.engine.connect() as connection, exclusive_sync(connection, store.url):
        targets = _targets(connection, tenant, survey)
        present = {(target.tenant, target.survey) for target in targets}
        stored = [
            key for key in store.partitions()
            if (tenant is None or key[0] == tenant) and (survey is None or key[1] == survey)
        ]
        if tenant is not None and not targets and not stored:
            raise NotFound(f"no tenant {tenant!r} with survey {survey or '(any)'} in the "
                           "database or the store")
        for key in stored:
            if key not in present:
                store.remove_partition(*key)
                report.removed_partitions.append(key)
        _remove_empty_tenant_dirs(store, {key[0] for key in report.removed_partitions})
        pending = {}
        for target in targets:
            with _survey_failure(connection, report, target):
                pending[target] = _prepare(connection, store, target)
        total = sum(count for _files, count, _partition in pending.values())
        with tqdm(total=total, unit=" responses", desc="sync",
                  disable=None if progress is None else not progress) as bar:
            for target, (files, _count, partition) in pending.items():
                with _survey_failure(connection, report, target):
                    _append(connection, store, target, files, partition, batch_size, bar)
                    _compact(store, target, partition, batch_size, max_files)
                    report.partitions.append(partition)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _survey_failure(connection: Connection, report: SyncReport, target: _Target):
    """Record a failure of one survey's sync and go on with the next."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - reported; the other surveys still sync
        connection.rollback()  # PostgreSQL refuses more statements in a failed transaction
        reason = f"{type(error).__name__}: {error}"
        log.error("sync of %s/%s failed: %s", target.tenant, target.survey, reason)
        report.failures.append((target.tenant, target.survey, reason))


def _targets(connection: Connection, tenant: str | None, survey: str | None) -> list[_Target]:
    query = select(Tenant.slug, Survey.slug, Tenant.id, Survey.id, Survey.version,
                   Survey.definition).join(Tenant, Tenant.id == Survey.tenant_id)
    if tenant is not None:
        query = query.where(Tenant.slug == tenant)
    if survey is not None:
        query = query.where(Survey.slug == survey)
    targets = []
    for tenant_slug, survey_slug, tenant_id, survey_id, version, definition in connection.execute(
        query.order_by(Tenant.slug, Survey.slug)
    ):
        definitions = dict(connection.execute(
            select(SurveyVersion.version, SurveyVersion.definition)
            .where(SurveyVersion.survey_id == survey_id)
        ).all())
        definitions[version] = definition
        targets.append(_Target(tenant_slug, survey_slug, tenant_id, survey_id,
                               ColumnPlan(definitions)))
    return targets


def survey_definitions(database: Database, tenant: str, survey: str) -> ColumnPlan:
    """The column plan of a survey straight from the database (used by fresh loads)."""
    with database.engine.connect() as connection:
        targets = _targets(connection, tenant, survey)
    if not targets:
        raise NotFound(f"the database has no survey {survey!r} for tenant {tenant!r}")
    return targets[0].plan


def tenant_and_survey_ids(connection: Connection, tenant: str, survey: str) -> tuple[int, int]:
    """The database ids of a tenant and its survey, or :class:`NotFound`."""
    row = connection.execute(
        select(Tenant.id, Survey.id).join(Survey, Survey.tenant_id == Tenant.id)
        .where(Tenant.slug == tenant, Survey.slug == survey)
    ).first()
    if row is None:
        raise NotFound(f"the database has no survey {survey!r} for tenant {tenant!r}")
    return row[0], row[1]


def _remove_empty_tenant_dirs(store: Store, tenants: set[str]) -> None:
    for tenant in tenants:
        directory = store.tenant_dir(tenant)
        if store.fs.exists(directory) and not store.fs.ls(directory):
            store.remove(directory, recursive=True)


def _prepare(
    connection: Connection, store: Store, target: _Target
) -> tuple[list[PartFile], int, PartitionReport]:
    """Clean, store the definitions, reconcile; return the live files and how many
    responses wait above the watermark (for the progress bar)."""
    partition = PartitionReport(target.tenant, target.survey)
    files, junk = store.list_files(target.tenant, target.survey)
    for path in junk:
        store.remove(path)
    partition.cleaned_files = len(junk)
    stored = {"versions": {str(v): raw for v, raw in target.plan.definitions.items()}}
    try:
        current = store.read_definitions(target.tenant, target.survey)
    except NotFound:
        current = None
    if current != stored:
        store.write_definitions(target.tenant, target.survey, stored)
    partition.rewritten_files = _reconcile(connection, store, target, files,
                                           partition.quarantined)
    watermark = files[-1].last_id if files else 0
    waiting = connection.scalar(
        select(func.count()).select_from(Response).where(
            Response.tenant_id == target.tenant_id, Response.survey_id == target.survey_id,
            Response.status == "complete", Response.id > watermark,
        )
    )
    return files, int(waiting or 0), partition


def _reconcile(
    connection: Connection, store: Store, target: _Target, files: list[PartFile],
    quarantined: list[str],
) -> int:
    expected = database_summaries(
        connection, target.tenant_id, target.survey_id,
        [(part.first_id, part.last_id) for part in files],
    )
    rewritten, retired = 0, []
    for position, (part, wanted) in enumerate(zip(files, expected, strict=True)):
        try:
            summary = id_summary(read_ids(store, part))
        except FileNotFoundError:
            # Listed by the manifest but gone (deleted by hand or a bucket lifecycle
            # rule): nothing to keep aside; the range is rebuilt below.
            log.warning("part file %s is missing; rebuilding ids %d-%d from the database",
                        part.path, part.first_id, part.last_id)
            summary = None
        except (pa.ArrowException, OSError) as error:
            # Truncated or corrupt (a full disk, a crash of the disk itself): keep it
            # aside for a look and rebuild its range from the database below.
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            moved = store.quarantine(part.path, stamp)
            log.warning("quarantined unreadable part file %s (%s) as %s; rebuilding "
                        "ids %d-%d from the database", part.path, error, moved,
                        part.first_id, part.last_id)
            quarantined.append(moved)
            summary = None
        if summary != wanted:
            # Rewrite the same range, even if it is now empty, so the ranges stay
            # contiguous and a later change in it is still seen: under the same name on
            # a local disk, under a new one on object storage (the old one is deleted
            # once the manifest no longer lists it).
            files[position] = _write_range(connection, store, target, part.first_id,
                                           part.last_id)
            if files[position].path != part.path:
                retired.append(part.path)
            rewritten += 1
    # A range no file covers (a part file lost or deleted by hand) is refilled, so the
    # ranges below the watermark cover every id again.
    previous_last = 0
    for part in list(files):
        if part.first_id > previous_last + 1:
            files.append(_write_range(connection, store, target, previous_last + 1,
                                      part.first_id - 1))
            rewritten += 1
        previous_last = max(previous_last, part.last_id)
    files.sort(key=lambda part: part.first_id)
    if rewritten:
        store.commit(target.tenant, target.survey, files)
        store.retire(retired)  # a quarantined one is already gone: fine
    return rewritten


def _write_range(
    connection: Connection, store: Store, target: _Target, first_id: int, last_id: int
) -> PartFile:
    table = fetch_responses(connection, target.plan, target.tenant_id, target.survey_id,
                            after=first_id - 1, upto=last_id)
    path = store.part_path(target.tenant, target.survey, first_id, last_id)
    _write(store, path, table)
    return PartFile(path, first_id, last_id)


def _write(store: Store, path: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    store.write_atomic(path, lambda handle: handle.write(buffer.getbuffer()))


def _append(
    connection: Connection,
    store: Store,
    target: _Target,
    files: list[PartFile],
    partition: PartitionReport,
    batch_size: int,
    bar: tqdm,
) -> None:
    watermark = partition.watermark = files[-1].last_id if files else 0
    while True:
        table = fetch_responses(connection, target.plan, target.tenant_id, target.survey_id,
                                after=watermark, limit=batch_size)
        if not len(table):
            return
        last_id = table["response_id"][-1].as_py()
        # The range starts right after the watermark, not at the first row's id, so
        # the ranges cover every id: a response completed later inside a gap is found.
        path = store.part_path(target.tenant, target.survey, watermark + 1, last_id)
        _write(store, path, table)
        files.append(PartFile(path, watermark + 1, last_id))
        # On object storage the batch counts from here on (a crash before leaves an
        # unlisted file that readers skip and the next sync deletes).
        store.commit(target.tenant, target.survey, files)
        watermark = partition.watermark = last_id
        partition.appended += len(table)
        bar.update(len(table))


def _compact(
    store: Store, target: _Target, partition: PartitionReport, small_rows: int, max_files: int
) -> None:
    files, _junk = store.list_files(target.tenant, target.survey)
    if len(files) <= max_files:
        return
    sizes = [pq.read_metadata(part.path, filesystem=store.fs).num_rows for part in files]
    runs: list[list[PartFile]] = [[]]
    for part, size in zip(files, sizes, strict=True):
        if size < small_rows:
            runs[-1].append(part)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        if len(run) < 2:
            continue
        merged = pa.concat_tables(
            pq.read_table(part.path, filesystem=store.fs, schema=target.plan.schema)
            for part in run
        )
        path = store.part_path(target.tenant, target.survey, run[0].first_id,
                               run[-1].last_id)
        _write(store, path, merged)
        files = [part for part in files if part not in run] + [
            PartFile(path, run[0].first_id, run[-1].last_id)]
        store.commit(target.tenant, target.survey, files)
        # Deleting after the rename (or the commit): a crash in between leaves files
        # inside the merged range, which readers skip and the next sync deletes.
        for part in run:
            store.remove(part.path)
        partition.compacted_files += len(run)
