"""The record of job runs the runner keeps (:class:`~cxlab.db.models.JobRun`), read
back: what ``cxlab jobs`` shows.

>>> from cxlab.db import Database
>>> database = Database("sqlite://"); database.migrate()
>>> recent_runs(database, failed_only=True)
[]
"""

from __future__ import annotations

from sqlalchemy import select

from cxlab.db import Database
from cxlab.db.models import JobRun, Tenant


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
