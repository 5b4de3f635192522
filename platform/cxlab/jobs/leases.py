"""Leases on job runs: which runner holds a run of a job for one tenant and period,
for how long, and how another runner takes over a run whose runner died.

A run's ``job_runs`` row is its lock. Inserting it (``run_key`` is unique) claims a new
run; a run that failed, or whose runner let its lease run out, is taken over by a
compare-and-set update, so of any number of schedulers and ``cxlab run-job`` calls on
one database exactly one holds a run at a time. The holder renews
``lease_expires_at`` every third of the lease while it works; a runner that is killed
stops renewing, and once the lease has run out :func:`abandoned_runs` lists the run and
another scheduler claims it again. Every write the holder makes names its
``lease_owner``, so a runner that lost its lease (it stalled longer than the lease and
was taken over) cannot record over its successor; it learns so and stops there.

>>> from cxlab.db import Database
>>> database = Database("sqlite://"); database.migrate()
>>> claim = claim_run(database, "sync/-/2026-11-23T10:00Z", "sync", None,
...                   datetime(2026, 11, 23, 10, tzinfo=UTC), timedelta(seconds=60))
>>> claim.status
'claimed'
>>> claim_run(database, "sync/-/2026-11-23T10:00Z", "sync", None,
...           datetime(2026, 11, 23, 10, tzinfo=UTC), timedelta(seconds=60)).status
'locked'
>>> finish_run(database, claim, status="succeeded")
True
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from cxlab.db import Database
from cxlab.db.models import JobRun, Tenant

log = logging.getLogger(__name__)
# A run marked running with no lease (written before leases existed) is taken to be
# from a crashed runner after this long.
LOCK_EXPIRY = timedelta(hours=6)


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take a run: ``claimed`` (with its row id and this
    runner's owner token), ``done`` (it succeeded before) or ``locked`` (held)."""

    status: str
    run_id: int | None = None
    owner: str | None = None
    lease: timedelta = timedelta(0)


def _new_owner() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def claim_run(database: Database, key: str, job: str, tenant_id: int | None,
              scheduled_for: datetime, lease: timedelta) -> Claim:
    """Take the run ``key`` for ``lease``: insert its row, or take over a failed one or
    one whose lease has run out (compare-and-set: one taker wins)."""
    now = datetime.now(UTC)
    owner = _new_owner()
    held = {"status": "running", "started_at": now, "lease_owner": owner,
            "lease_expires_at": now + lease}
    try:
        with database.session() as session:
            row = JobRun(job=job, tenant_id=tenant_id, scheduled_for=scheduled_for,
                         attempt=0, run_key=key, **held)
            session.add(row)
            session.flush()
            return Claim("claimed", row.id, owner, lease)
    except IntegrityError:
        pass  # the row exists: someone ran, or is running, this already
    with database.session() as session:
        existing = session.scalar(select(JobRun).where(JobRun.run_key == key))
        if existing is None:  # deleted with its tenant meanwhile
            return Claim("locked")
        if existing.status == "succeeded":
            return Claim("done")
        if existing.status == "running" and now < _expiry(existing):
            return Claim("locked")
        # Compare-and-set on everything a holder or another taker changes: of two
        # runners retaking the run exactly one updates the row, and a holder that
        # renewed its lease meanwhile keeps it.
        taken = session.execute(
            update(JobRun)
            .where(JobRun.id == existing.id, JobRun.status == existing.status,
                   JobRun.attempt == existing.attempt,
                   _equal(JobRun.lease_expires_at, existing.lease_expires_at),
                   _equal(JobRun.lease_owner, existing.lease_owner))
            .values(finished_at=None, error=None, **held)
        ).rowcount
        if taken != 1:
            return Claim("locked")
        if existing.status == "running":
            log.warning("job run %s: its runner %s stopped renewing its lease; taken over",
                        key, existing.lease_owner)
        return Claim("claimed", existing.id, owner, lease)


def _expiry(run: JobRun) -> datetime:
    if run.lease_expires_at is not None:
        return run.lease_expires_at
    started = run.started_at or datetime.now(UTC)
    return started + LOCK_EXPIRY


def _equal(column, value):
    return column.is_(None) if value is None else column == value


def renew_lease(database: Database, claim: Claim) -> bool:
    """Extend the lease of a run this runner holds; False when it no longer does."""
    with database.session() as session:
        return session.execute(
            update(JobRun)
            .where(JobRun.id == claim.run_id, JobRun.lease_owner == claim.owner,
                   JobRun.status == "running")
            .values(lease_expires_at=datetime.now(UTC) + claim.lease)
        ).rowcount == 1


@contextmanager
def holding_lease(database: Database, claim: Claim) -> Iterator[threading.Event]:
    """Renew ``claim``'s lease every third of it while the block runs; yields an event
    that is set if the lease was lost (taken over after this runner stalled)."""
    stop, lost = threading.Event(), threading.Event()

    def keep_renewing() -> None:
        while not stop.wait(claim.lease.total_seconds() / 3):
            try:
                if not renew_lease(database, claim):
                    log.warning("job run %s: lease lost to another runner", claim.run_id)
                    lost.set()
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: try again next time
                log.warning("job run %s: could not renew the lease", claim.run_id,
                            exc_info=True)

    renewer = threading.Thread(target=keep_renewing, name="cxlab-job-lease", daemon=True)
    renewer.start()
    try:
        yield lost
    finally:
        stop.set()
        renewer.join()


def record_try(database: Database, claim: Claim) -> bool:
    """Count one more try of a run this runner holds; False when it no longer does."""
    with database.session() as session:
        return session.execute(
            update(JobRun).where(JobRun.id == claim.run_id, JobRun.lease_owner == claim.owner)
            .values(attempt=JobRun.attempt + 1)
        ).rowcount == 1


def finish_run(database: Database, claim: Claim, **values: Any) -> bool:
    """Record how a held run ended (``status=``, ``error=``, ``output_path=``) and
    release its lease; False (nothing written) when another runner took it over."""
    with database.session() as session:
        return session.execute(
            update(JobRun).where(JobRun.id == claim.run_id, JobRun.lease_owner == claim.owner)
            .values(finished_at=datetime.now(UTC), lease_expires_at=None, **values)
        ).rowcount == 1


def abandoned_runs(database: Database, now: datetime) -> list[tuple[str, str | None, datetime]]:
    """``(job, tenant slug or None, scheduled_for)`` of every run still marked running
    whose lease has run out: its runner died, and a scheduler should run it again."""
    with database.session() as session:
        rows = session.execute(
            select(JobRun.job, Tenant.slug, JobRun.scheduled_for)
            .outerjoin(Tenant, Tenant.id == JobRun.tenant_id)
            .where(JobRun.status == "running",
                   or_(JobRun.lease_expires_at < now,
                       JobRun.lease_expires_at.is_(None)
                       & (JobRun.started_at < now - LOCK_EXPIRY)))
            .order_by(JobRun.scheduled_for)
        ).all()
    return [(job, slug, scheduled_for) for job, slug, scheduled_for in rows]
