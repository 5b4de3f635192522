"""What the ``cxlab run-job`` and ``cxlab jobs`` commands do (the CLI only parses options).

>>> from cxlab.config import Config
>>> import tempfile
>>> config = Config.from_environ({"CXLAB_VAR_DIR": tempfile.mkdtemp(), "CXLAB_ENV": "test"})
>>> Database(config.database_url).migrate()
>>> jobs_command(config, failed_only=False, limit=20)
No job runs recorded yet.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from cxlab.config import Config
from cxlab.db import Database, DatabaseError
from cxlab.db.models import JobRun, Tenant
from cxlab.jobs.runner import run_job

log = logging.getLogger(__name__)


def _database(config: Config) -> Database:
    database = Database(config.database_url)
    if not database.is_migrated():
        raise DatabaseError("the database is not initialised (or is behind): run cxlab init")
    return database


def run_job_command(config: Config, name: str, tenant: str | None, date: str | None) -> int:
    """Run job ``name`` now (for its latest due time, or the one at or before ``date``),
    print what happened per tenant, and return the exit code: 0 done, 1 a tenant
    failed, 3 another runner is running it right now."""
    cxlab_log = logging.getLogger("cxlab")
    if not cxlab_log.handlers:
        # Progress ("2/5 tenants finished") goes to stderr as plain log lines; only
        # cxlab's own, not every library's INFO chatter (alembic, papermill).
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        cxlab_log.addHandler(handler)
        cxlab_log.setLevel(logging.INFO)
    database = _database(config)
    try:
        outcome = run_job(config, database, name, tenant=tenant, date=date)
    finally:
        database.dispose()
    print(outcome.summary())
    if outcome.exit_code == 1:
        print("See the failed notebook named above, fix the cause, then rerun the same "
              "command; tenants that already succeeded are not run again.")
    elif outcome.exit_code == 3:
        print("Another runner is running this job now; check progress with: cxlab jobs")
    return outcome.exit_code


def jobs_command(config: Config, failed_only: bool = False, limit: int = 20) -> None:
    """Print the most recent job runs, newest first (only failed ones if asked)."""
    database = _database(config)
    try:
        with database.session() as session:
            query = (select(JobRun, Tenant.slug)
                     .outerjoin(Tenant, Tenant.id == JobRun.tenant_id)
                     .order_by(JobRun.scheduled_for.desc(), JobRun.id.desc()).limit(limit))
            if failed_only:
                query = query.where(JobRun.status == "failed")
            rows = session.execute(query).all()
    finally:
        database.dispose()
    if not rows:
        print("No failed job runs." if failed_only else "No job runs recorded yet.")
        return
    header = ("JOB", "TENANT", "SCHEDULED (UTC)", "STATUS", "TRIES", "TOOK", "DETAIL")
    table = [header]
    for run, slug in rows:
        took = "-"
        if run.started_at and run.finished_at:
            took = f"{(run.finished_at - run.started_at).total_seconds():.0f}s"
        elif run.status == "running" and run.started_at:
            took = f"{(datetime.now(UTC) - run.started_at).total_seconds():.0f}s so far"
        detail = (run.error or run.output_path or "").splitlines()[0:1]
        table.append((run.job, slug or "-", f"{run.scheduled_for:%Y-%m-%d %H:%M}", run.status,
                      str(run.attempt), took, detail[0][:100] if detail else ""))
    widths = [max(len(row[column]) for row in table) for column in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[-1])
