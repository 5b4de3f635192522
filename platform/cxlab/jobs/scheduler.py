"""The scheduler loop: fire each job when its cron says, catching up missed runs once.

Each poll, a job is due when its latest due time is later than the last run recorded
in ``job_runs`` (or than the last one this process fired). After downtime that is only
the most recent missed time, so a scheduler down for a week runs an hourly job once,
not 168 times. The run itself goes through :func:`~cxlab.jobs.runner.run_job`, whose
database lock keeps two schedulers (or a scheduler and a CronJob) from doubling up.
Each poll also runs again every run whose runner died mid-job, once its lease has run
out (:func:`~cxlab.jobs.leases.abandoned_runs`), so a second scheduler finishes what a
killed one started.

>>> from cxlab.jobs.schedule import parse_schedule
>>> schedule = parse_schedule({"jobs": [{"name": "hourly", "kind": "command",
...     "cron": "0 * * * *", "timezone": "UTC", "argv": ["true"]}]})
>>> last = {"hourly": datetime(2026, 11, 23, 9, tzinfo=UTC)}
>>> [(job.name, due.isoformat()) for job, due in
...  due_jobs(schedule, datetime(2026, 11, 23, 12, 30, tzinfo=UTC), last, last["hourly"])]
[('hourly', '2026-11-23T12:00:00+00:00')]
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import JobRun
from cxlab.jobs.leases import abandoned_runs
from cxlab.jobs.runner import run_job
from cxlab.jobs.schedule import Job, Schedule, load_schedule, pending_due

log = logging.getLogger(__name__)
POLL_SECONDS = 15.0


def last_scheduled(database: Database) -> dict[str, datetime]:
    """The latest recorded scheduled time of every job that has run."""
    with database.session() as session:
        rows = session.execute(
            select(JobRun.job, func.max(JobRun.scheduled_for)).group_by(JobRun.job)
        ).all()
    # max() bypasses the column type on SQLite and comes back as text there.
    return {job: _aware(moment) for job, moment in rows if moment is not None}


def _aware(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def due_jobs(
    schedule: Schedule, now: datetime, last: dict[str, datetime], started_at: datetime
) -> list[tuple[Job, datetime]]:
    """Each job that should run now, with the one scheduled time to run it for."""
    due = []
    for job in schedule.jobs:
        moment = pending_due(job, now, last.get(job.name), started_at)
        if moment is not None:
            due.append((job, moment))
    return due


def serve_scheduler(
    config: Config,
    *,
    workers: int = 2,
    stop_event: threading.Event | None = None,
    schedule: Schedule | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Run the scheduler until ``stop_event`` is set (or Ctrl-C).

    Each due job runs in its own thread so a long report never delays the every-minute
    sync; a job still running from its previous time is not started again meanwhile.
    ``workers`` is how many tenants one job runs at a time.
    """
    schedule = schedule or load_schedule()
    stop_event = stop_event or threading.Event()
    database = Database(config.database_url)
    started_at = datetime.now(UTC)
    fired: dict[str, datetime] = {}
    running: dict[str, Future] = {}
    retrying: dict[tuple[str, str | None, datetime], Future] = {}
    log.info("scheduler: %d job(s): %s", len(schedule.jobs),
             ", ".join(f"{job.name} ({job.cron} {job.timezone})" for job in schedule.jobs))
    pool = ThreadPoolExecutor(max_workers=max(1, len(schedule.jobs)),
                              thread_name_prefix="cxlab-scheduler")
    try:
        while not stop_event.is_set():
            # Both the database and this process's memory count as "already fired", so
            # a job that matched no tenants (and so left no row) is not fired every poll.
            last = {**last_scheduled(database)}
            for name, moment in fired.items():
                last[name] = max(moment, last.get(name, moment))
            for job, moment in due_jobs(schedule, datetime.now(UTC), last, started_at):
                if job.name in running and not running[job.name].done():
                    continue
                fired[job.name] = moment
                log.info("scheduler: starting %s for %s", job.name, moment.isoformat())
                running[job.name] = pool.submit(_run_logged, config, database, job.name,
                                                moment, schedule, workers)
            _retry_abandoned(config, database, schedule, retrying, pool)
            stop_event.wait(poll_seconds)
    except KeyboardInterrupt:
        log.info("scheduler: interrupted; waiting for running jobs to finish")
    finally:
        pool.shutdown(wait=True)
        database.dispose()


def _retry_abandoned(config: Config, database: Database, schedule: Schedule,
                     retrying: dict[tuple[str, str | None, datetime], Future],
                     pool: ThreadPoolExecutor) -> None:
    """Run again each run of this schedule's jobs whose runner died (its lease ran out:
    a scheduler or ``cxlab run-job`` killed mid-job); the lease lets one taker win."""
    names = {job.name for job in schedule.jobs}
    for name, tenant, moment in abandoned_runs(database, datetime.now(UTC)):
        key = (name, tenant, moment)
        if name not in names or (key in retrying and not retrying[key].done()):
            continue
        log.warning("scheduler: the runner of %s for %s at %s died; running it again",
                    name, tenant or "all", moment.isoformat())
        retrying[key] = pool.submit(_run_logged, config, database, name, moment, schedule, 1,
                                    tenant)


def _run_logged(config: Config, database: Database, name: str, moment: datetime,
                schedule: Schedule, workers: int, tenant: str | None = None) -> None:
    try:
        outcome = run_job(config, database, name, tenant=tenant, date=moment,
                          schedule=schedule, workers=workers)
        log.info("scheduler: %s", outcome.summary())
    except Exception:  # a broken job must not stop the scheduler
        log.exception("scheduler: job %s could not run", name)
