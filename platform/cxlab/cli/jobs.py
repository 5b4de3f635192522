"""``cxlab run-job`` and ``cxlab jobs``: run one scheduled job now (what cron, a
Kubernetes CronJob or Airflow calls), and the schedule with each job's next run and
last result, then the record of recent runs.

>>> from cxlab.config import Config
>>> import tempfile
>>> config = Config.from_environ({"CXLAB_VAR_DIR": tempfile.mkdtemp(), "CXLAB_ENV": "test"})
>>> Database(config.database_url).migrate()
>>> jobs_command(config, failed_only=True, limit=20)
No failed job runs.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import click

from cxlab.cli.base import load_config
from cxlab.config import Config
from cxlab.db import Database

SCHEDULE_OPTION = click.option(
    "--schedule", "schedule_path", type=click.Path(dir_okay=False), default=None,
    help="Schedule file to use instead of scheduled/schedule.yaml.")


@click.command("run-job")
@click.argument("name")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant.")
@click.option("--date", default=None,
              help="Run for the latest due time at or before this (YYYY-MM-DD[THH:MM]).")
@SCHEDULE_OPTION
def run_job_cli(name: str, tenant_slug: str | None, date: str | None,
                schedule_path: str | None) -> None:
    """Run one scheduled job now; the exit code is the outcome (0 ok, 1 failed, 3 busy).

    What cron, a Kubernetes CronJob or Airflow calls.
    Example: cxlab run-job weekly-report --tenant demo --date 2026-11-23
    """
    sys.exit(run_job_command(load_config(), name, tenant_slug, date, schedule_path))


def run_job_command(config: Config, name: str, tenant: str | None, date: str | None,
                    schedule_path: str | None = None) -> int:
    """Run job ``name`` of the schedule file (default scheduled/schedule.yaml) now, for
    its latest due time or the one at or before ``date``; print what happened per
    tenant, and return the exit code: 0 done, 1 a tenant failed, 3 another runner is
    running it right now."""
    from cxlab.jobs import load_schedule, run_job  # papermill and friends: only here

    cxlab_log = logging.getLogger("cxlab")
    if not cxlab_log.handlers:
        # Progress ("2/5 tenants finished") goes to stderr as plain log lines; only
        # cxlab's own, not every library's INFO chatter (alembic, papermill).
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        cxlab_log.addHandler(handler)
        cxlab_log.setLevel(logging.INFO)
    with Database.open(config) as database:
        outcome = run_job(config, database, name, tenant=tenant, date=date,
                          schedule=load_schedule(schedule_path) if schedule_path else None)
    click.echo(outcome.summary())
    if outcome.exit_code == 1:
        click.echo("See the failed notebook named above, fix the cause, then rerun the same "
                   "command; tenants that already succeeded are not run again.")
    elif outcome.exit_code == 3:
        click.echo("Another runner is running this job now; check progress with: cxlab jobs")
    return outcome.exit_code


@click.command("jobs")
@click.option("--failed", is_flag=True, help="Only failed runs (and not the schedule).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@SCHEDULE_OPTION
def jobs_cli(failed: bool, limit: int, schedule_path: str | None) -> None:
    """The schedule's jobs (next run in each job's timezone, last result), then the
    recent runs.  Example: cxlab jobs --failed"""
    jobs_command(load_config(), failed_only=failed, limit=limit, schedule_path=schedule_path)


def jobs_command(config: Config, failed_only: bool = False, limit: int = 20,
                 schedule_path: str | None = None) -> None:
    """Print each job of the schedule file (default scheduled/schedule.yaml) with its
    next run and last result, then the most recent runs, newest first; with
    ``failed_only`` only the failed runs."""
    from cxlab.jobs.history import job_statuses, recent_runs
    from cxlab.jobs.schedule import load_schedule

    with Database.open(config) as database:
        if not failed_only:
            schedule = load_schedule(schedule_path) if schedule_path else load_schedule()
            click.echo(_schedule_table(job_statuses(database, schedule, datetime.now(UTC))))
            click.echo()
        rows = recent_runs(database, failed_only=failed_only, limit=limit)
    if not rows:
        click.echo("No failed job runs." if failed_only else "No job runs recorded yet.")
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
    click.echo(format_table(table))


def _schedule_table(statuses) -> str:
    table = [("JOB", "KIND", "NEXT RUN", "LAST RUN FOR", "LAST RESULT")]
    for status in statuses:
        zone = status.job.timezone
        last = (f"{status.last_scheduled:%Y-%m-%d %H:%M} {zone}" if status.last_scheduled
                else "-")
        table.append((status.job.name, status.job.kind,
                      f"{status.next_run:%Y-%m-%d %H:%M} {zone}", last, status.last_result))
    return format_table(table)


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the last column is left as it is.

    >>> print(format_table([("JOB", "STATUS", "DETAIL"), ("weekly-report", "ok", "done")]))
    JOB            STATUS  DETAIL
    weekly-report  ok      done
    """
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                         strict=False))
                     + "  " + row[-1] for row in rows)
