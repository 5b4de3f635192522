"""Run a scheduled job: one run per tenant, locked, idempotent, retried, reported.

A run is identified by job + tenant + scheduled time. Its ``job_runs`` row carries a
unique ``run_key``; inserting that row (or taking over a failed one, or one whose
runner's lease ran out, with a compare-and-set update) is the lock, so two runners on
any number of machines never run the same job for the same tenant and time at once, and
a run that succeeded is not redone (:mod:`cxlab.jobs.leases`). That is what lets cron, a
Kubernetes CronJob or Airflow call ``cxlab run-job NAME --tenant T`` as often as they
like.

>>> from cxlab.config import Config
>>> from cxlab.db import Database
>>> import tempfile
>>> config = Config.from_environ({"CXLAB_VAR_DIR": tempfile.mkdtemp(), "CXLAB_ENV": "test"})
>>> database = Database(config.database_url); database.migrate()
>>> schedule = parse_schedule({"jobs": [{"name": "hello", "kind": "command",
...                                      "cron": "0 * * * *", "argv": ["true"]}]})
>>> outcome = run_job(config, database, "hello", date="2026-11-23T10:30", schedule=schedule)
>>> outcome.scheduled_for.isoformat(), outcome.exit_code
('2026-11-23T10:00:00+09:00', 0)
>>> again = run_job(config, database, "hello", date="2026-11-23T10:30", schedule=schedule)
>>> [(result.tenant, result.status) for result in again.results]
[(None, 'done')]
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cxlab import notify
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Tenant
from cxlab.errors import CxlabError, NotFound
from cxlab.jobs.kinds import JobFailed, RunContext, TenantInfo, kind_for
from cxlab.jobs.leases import (
    Claim,
    claim_run,
    finish_run,
    holding_lease,
    record_try,
)
from cxlab.jobs.report_delivery import deliver_report
from cxlab.jobs.schedule import (
    Job,
    Schedule,
    latest_due,
    load_schedule,
    parse_schedule,  # noqa: F401 - used by the module's doctest
    previous_due,
)

log = logging.getLogger(__name__)
EXIT_OK, EXIT_FAILED, EXIT_LOCKED = 0, 1, 3


@dataclass(frozen=True)
class TenantResult:
    """How one tenant's run ended: succeeded, failed, done (already succeeded
    earlier, not redone) or locked (another runner has it right now)."""

    tenant: str | None
    status: str
    attempts: int = 0
    error: str | None = None
    cell_index: int | None = None
    output_path: str | None = None


@dataclass
class RunOutcome:
    job: str
    scheduled_for: datetime
    results: list[TenantResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every tenant succeeded or was already done, 1 when any failed,
        3 when none failed but another runner holds some tenant's run."""
        statuses = {result.status for result in self.results}
        if "failed" in statuses:
            return EXIT_FAILED
        return EXIT_LOCKED if "locked" in statuses else EXIT_OK

    def summary(self) -> str:
        lines = [f"{self.job} scheduled for {self.scheduled_for:%Y-%m-%d %H:%M %Z}:"]
        for result in self.results:
            line = f"  {result.tenant or '(all tenants)'}: {result.status}"
            if result.attempts:
                line += f" after {result.attempts} tr{'y' if result.attempts == 1 else 'ies'}"
            if result.output_path:
                line += f" → {result.output_path}"
            if result.error:
                line += f"\n    {result.error}"
            lines.append(line)
        if not self.results:
            lines.append("  no tenants matched the job's tenants")
        return "\n".join(lines)


def resolve_scheduled_for(job: Job, when: str | date | datetime | None, now: datetime) -> datetime:
    """The due time a run covers: the latest at or before ``when`` (a datetime, or the
    end of a day), or before now. Naive values are in the job's timezone.

    >>> from cxlab.jobs.schedule import Job
    >>> job = Job(name="weekly", cron="0 7 * * MON", kind="sync")
    >>> resolve_scheduled_for(job, "2026-11-25", datetime.now(UTC)).isoformat()
    '2026-11-23T07:00:00+09:00'
    """
    if when is None:
        return latest_due(job, now)
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when) if "T" in when else date.fromisoformat(when)
        except ValueError:
            raise CxlabError(
                f"date {when!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (e.g. 2026-11-23)"
            ) from None
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, 23, 59, 59)
    if when.tzinfo is None:
        when = when.replace(tzinfo=job.zone)
    return latest_due(job, when)


def run_key(job: str, tenant_id: int | None, scheduled_for: datetime) -> str:
    moment = scheduled_for.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return f"{job}/{tenant_id if tenant_id is not None else '-'}/{moment}"


def run_job(
    config: Config,
    database: Database,
    name: str,
    tenant: str | None = None,
    date: str | date | datetime | None = None,  # noqa: A002 - the CLI's word for it
    *,
    schedule: Schedule | None = None,
    workers: int = 2,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunOutcome:
    """Run job ``name`` for its scheduled time at or before ``date`` (default: now), once
    per tenant (only ``tenant`` if given), ``workers`` tenants at a time.

    One tenant's failure never stops the others; it is recorded with its error (and
    failing cell) and, after the last try, posted to ``config.webhook_url``.
    """
    schedule = schedule or load_schedule()
    job = schedule.job(name)
    now = now or datetime.now(UTC)
    scheduled_for = resolve_scheduled_for(job, date, now)
    start = previous_due(job, scheduled_for)
    outcome = RunOutcome(job=job.name, scheduled_for=scheduled_for)
    tenants = _tenants_of(database, job, tenant)
    if not tenants:
        return outcome

    def run_for(info: tuple[int, TenantInfo] | None) -> TenantResult:
        context = RunContext(config=config, job=job, tenant=info[1] if info else None,
                             scheduled_for=scheduled_for, start=start, end=scheduled_for)
        try:
            return _run_one(config, database, context, info[0] if info else None, sleep)
        except Exception as error:  # noqa: BLE001 - one tenant must never stop the others
            log.exception("job %s: unexpected error for %s", job.name, context.tenant)
            return TenantResult(tenant=info[1].slug if info else None, status="failed",
                                error=f"{type(error).__name__}: {error}")

    if len(tenants) == 1:
        outcome.results.append(run_for(tenants[0]))
        return outcome
    # Threads suffice: each papermill run executes in its own kernel process, so the
    # runner threads mostly wait; they share the engine's connection pool.
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cxlab-job") as pool:
        for done, result in enumerate(pool.map(run_for, tenants), start=1):
            log.info("job %s: %d/%d tenants finished (%s: %s)",
                     job.name, done, len(tenants), result.tenant, result.status)
            outcome.results.append(result)
    return outcome


def _tenants_of(
    database: Database, job: Job, only: str | None
) -> list[tuple[int, TenantInfo] | None]:
    with database.session() as session:
        if job.tenants is None:
            if only is None:
                return [None]
            query = select(Tenant).where(Tenant.slug == only)
        else:
            query = select(Tenant).order_by(Tenant.slug)
            if isinstance(job.tenants, tuple):
                query = query.where(Tenant.slug.in_(job.tenants))
            elif isinstance(job.tenants, dict):
                query = query.where(Tenant.plan == job.tenants["plan"])
            if only is not None:
                query = query.where(Tenant.slug == only)
        rows = [(row.id, TenantInfo(row.slug, row.name, row.language))
                for row in session.scalars(query)]
    if only is not None and not rows:
        with database.session() as session:
            found = session.scalar(select(Tenant.id).where(Tenant.slug == only)) is not None
        if not found:
            raise NotFound(f"no tenant {only!r}; see cxlab tenant list")
        raise CxlabError(
            f"tenant {only!r} is not among job {job.name!r}'s tenants ({job.tenants}); "
            "change the job's tenants in the schedule to include it"
        )
    return rows


def _run_one(config: Config, database: Database, context: RunContext, tenant_id: int | None,
             sleep: Callable[[float], None]) -> TenantResult:
    job = context.job
    slug = context.tenant.slug if context.tenant else None
    claim = claim_run(database, run_key(job.name, tenant_id, context.scheduled_for),
                      job.name, tenant_id, context.scheduled_for,
                      timedelta(seconds=config.job_lease_seconds))
    if claim.status != "claimed":
        log.info("job %s for %s at %s: %s", job.name, slug or "all", context.scheduled_for,
                 claim.status)
        return TenantResult(tenant=slug, status=claim.status)
    with holding_lease(database, claim) as lost:
        return _tries(config, database, context, tenant_id, claim, lost, sleep)


def _tries(config: Config, database: Database, context: RunContext, tenant_id: int | None,
           claim: Claim, lost: threading.Event, sleep: Callable[[float], None]) -> TenantResult:
    """Run the held run's tries; stop as soon as another runner has taken it over."""
    job = context.job
    slug = context.tenant.slug if context.tenant else None
    kind = kind_for(job.kind)
    tries = job.retries + 1
    for attempt in range(1, tries + 1):
        if lost.is_set() or not record_try(database, claim):
            return _lost(job, slug)
        log.info("job %s for %s: try %d of %d", job.name, slug or "all", attempt, tries)
        try:
            output = kind.run(context)
            # A report's subscribers get its PDF; part of the try, so a failure is
            # retried and reported, and the delivery keys keep retries from resending.
            deliver_report(database, context, tenant_id)
        except Exception as error:  # noqa: BLE001 - recorded, retried, then reported
            failure = error if isinstance(error, JobFailed) else JobFailed(
                str(error) if isinstance(error, CxlabError) else f"{type(error).__name__}: {error}")
            log.warning("job %s for %s: try %d failed: %s", job.name, slug or "all", attempt,
                        failure)
            if attempt < tries:
                # Exponential backoff: a database or store hiccup gets time to pass.
                sleep(job.retry_backoff * 2 ** (attempt - 1))
                continue
            return _record_failure(config, database, context, claim, attempt, failure)
        if not finish_run(database, claim, status="succeeded", error=None,
                          output_path=str(output) if output else None):
            return _lost(job, slug)
        if output is not None and job.retention:
            prune_outputs(output.parent, context.scheduled_for.astimezone(job.zone).date(),
                          job.retention)
        return TenantResult(tenant=slug, status="succeeded", attempts=attempt,
                            output_path=str(output) if output else None)
    raise AssertionError("unreachable: the loop returns")


def _lost(job: Job, slug: str | None) -> TenantResult:
    log.warning("job %s for %s: another runner took the run over (this one stalled "
                "past its lease); leaving it to that runner", job.name, slug or "all")
    return TenantResult(tenant=slug, status="locked")


def _record_failure(config: Config, database: Database, context: RunContext, claim: Claim,
                    attempts: int, failure: JobFailed) -> TenantResult:
    slug = context.tenant.slug if context.tenant else None
    output = str(failure.output_path) if failure.output_path else None
    if not finish_run(database, claim, status="failed", error=str(failure),
                      output_path=output):
        return _lost(context.job, slug)
    if context.job.notify:
        text = (f":x: cxlab job *{context.job.name}* failed for tenant "
                f"*{slug or 'all'}* (scheduled {context.scheduled_for:%Y-%m-%d %H:%M %Z}) "
                f"after {attempts} tr{'y' if attempts == 1 else 'ies'}: ")
        if failure.cell_index is not None:
            text += f"cell {failure.cell_index}: {failure.ename}: {failure.evalue}"
        else:
            text += str(failure)
        rerun = f"cxlab run-job {context.job.name}" + (f" --tenant {slug}" if slug else "")
        text += f". Rerun with: {rerun} --date {context.scheduled_for:%Y-%m-%dT%H:%M}"
        notify.send_webhook(config.webhook_url, text)
    return TenantResult(tenant=slug, status="failed", attempts=attempts, error=str(failure),
                        cell_index=failure.cell_index, output_path=output)


def prune_outputs(directory: Path, today: date, retention_days: int) -> list[Path]:
    """Delete outputs whose name starts with a date more than ``retention_days`` before
    ``today``; return them. Files not named by date are left alone.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("2026-01-01.html", "2026-03-01.html", "notes.txt"):
    ...     _ = (folder / name).write_text("")
    >>> [path.name for path in prune_outputs(folder, date(2026, 3, 2), 30)]
    ['2026-01-01.html']
    """
    cutoff = today - timedelta(days=retention_days)
    removed = []
    for path in sorted(directory.iterdir()):
        try:
            made = date.fromisoformat(path.name[:10])
        except ValueError:
            continue
        if made < cutoff:
            path.unlink()
            removed.append(path)
    return removed
