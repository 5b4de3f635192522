"""The record of job runs the runner keeps (:class:`~cxlab.db.models.JobRun`), read
back: what ``cxlab jobs`` shows, the schedule's jobs with their next run and last
result, and the recent runs.

>>> from datetime import UTC
>>> from cxlab.db import Database
>>> from cxlab.jobs.schedule import parse_schedule
>>> database = Database("sqlite://"); database.migrate()
>>> recent_runs(database, failed_only=True)
[]
>>> schedule = parse_schedule({"jobs": [{"name": "sync", "kind": "sync",
...     "cron": "0 7 * * *", "timezone": "Asia/Tokyo"}]})
>>> [status] = job_statuses(database, schedule, datetime(2026, 11, 20, tzinfo=UTC))
>>> status.next_run.isoformat(), status.last_result
('2026-11-21T07:00:00+09:00', 'never run')
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from cxlab.db import Database
from cxlab.db.models import JobRun, Tenant
from cxlab.jobs.schedule import Job, Schedule, next_due


def recent_runs(
    database: Database, *, failed_only: bool = False, limit: int = 20
) -> list[tuple[JobRun, str | None]]:
    """The newest ``limit`` runs (only failed ones with ``failed_only``), newest
    scheduled time first, each with its tenant's slug (None for installation-wide)."""
    query = (select(JobRun, Tenant.slug)
             .outerjoin(Tenant, Tenant.id == JobRun.tenant_id)
             .order_by(JobRun.scheduled_for.desc(), JobRun.id.desc()).limit(limit))
    if failed_only:
        query = query.where(JobRun.status == "failed")
    with database.session() as session:
        return [(run, slug) for run, slug in session.execute(query).all()]


@dataclass(frozen=True)
class JobStatus:
    """One job of the schedule: when it runs next (in its timezone), and the runs of
    the latest time it ran for, counted by status (one run per tenant)."""

    job: Job
    next_run: datetime
    last_scheduled: datetime | None = None
    last_statuses: Counter = field(default_factory=Counter)

    @property
    def last_result(self) -> str:
        """'never run', or the last time's runs by status, e.g. '2 succeeded, 1 failed'.

        >>> from datetime import UTC
        >>> JobStatus(None, None, datetime.now(UTC), Counter(succeeded=2, failed=1)).last_result
        '2 succeeded, 1 failed'
        """
        if self.last_scheduled is None:
            return "never run"
        return ", ".join(f"{count} {status}" for status, count in
                         self.last_statuses.most_common())


def job_statuses(database: Database, schedule: Schedule, now: datetime) -> list[JobStatus]:
    """Each job of ``schedule`` with its next run after ``now`` and its last result."""
    latest = (select(JobRun.job, func.max(JobRun.scheduled_for).label("at"))
              .group_by(JobRun.job).subquery())
    query = (select(JobRun.job, JobRun.scheduled_for, JobRun.status, func.count())
             .join(latest, (latest.c.job == JobRun.job) & (latest.c.at == JobRun.scheduled_for))
             .group_by(JobRun.job, JobRun.scheduled_for, JobRun.status))
    last: dict[str, tuple[datetime, Counter]] = {}
    with database.session() as session:
        for name, scheduled_for, status, count in session.execute(query):
            last.setdefault(name, (scheduled_for, Counter()))[1][status] += count
    statuses = []
    for job in schedule.jobs:
        scheduled_for, counts = last.get(job.name, (None, Counter()))
        statuses.append(JobStatus(job, next_due(job, now),
                                  scheduled_for.astimezone(job.zone) if scheduled_for else None,
                                  counts))
    return statuses
