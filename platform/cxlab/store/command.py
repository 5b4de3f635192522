"""``cxlab sync [--tenant T] [--survey S] [--verify]``: the command the CLI and the
scheduler's sync job run."""

from __future__ import annotations

import click

from cxlab.config import Config
from cxlab.db import Database
from cxlab.notify import send_webhook
from cxlab.store.syncing import SyncReport, sync
from cxlab.store.verification import verify as verify_store


def sync_command(
    config: Config,
    tenant: str | None = None,
    survey: str | None = None,
    verify: bool = False,
    progress: bool | None = None,
    snapshots: bool = True,
) -> int:
    """Run ``cxlab sync``: sync, print a summary, bring the dashboards' opening views
    up to date (``snapshots``, :func:`cxlab.dashboards.prepare.refresh_snapshots`), optionally
    verify; the exit code.

    Returns 0 on success and 1 when a survey's sync failed (the others still sync; each
    failure is printed to stderr) or verification finds a gap (each gap printed). An
    unreadable part file that sync quarantined and rebuilt is a warning on stderr; both
    are also sent to the chat webhook (CXLAB_WEBHOOK_URL) when one is set. A
    :class:`cxlab.errors.CxlabError` (unreachable store, unknown tenant)
    propagates for the CLI to show. ``progress=None`` shows the bar only on a terminal.

    Example, with a migrated database and a synced store::

        sync_command(config, tenant="acme", verify=True)
        # synced 1 survey(s): 1,204 new responses in 0.4 s, 0 file(s) rewritten ...
        # verified 1 survey(s): store matches the database
        # 0
    """
    database = Database(config.database_url)
    try:
        report = sync(database, config, tenant=tenant, survey=survey, progress=progress)
        click.echo(report.summary())
        _alert(config, report)
        if snapshots:
            refresh_dashboards(config, [(p.tenant, p.survey) for p in report.partitions],
                               progress)
        if not verify:
            return 1 if report.failures else 0
        watermarks = {(p.tenant, p.survey): p.watermark for p in report.partitions}
        checked = verify_store(database, config, tenant=tenant, survey=survey,
                               upto=watermarks)
        if checked.ok:
            click.echo(f"verified {checked.checked} survey(s): store matches the database")
            return 1 if report.failures else 0
        for gap in checked.gaps:
            click.echo(f"GAP {gap}", err=True)
        click.echo(
            f"verification failed: {len(checked.gaps)} of {checked.checked} survey(s) differ; "
            "rerun `cxlab sync` and report it if the gap remains", err=True,
        )
        return 1
    finally:
        database.dispose()


def _alert(config: Config, report: SyncReport) -> None:
    """Tell stderr, and the webhook if any, of quarantined files and failed surveys."""
    lines = [f"WARNING unreadable part file quarantined and rebuilt from the database: {path}"
             for path in report.quarantined]
    lines += [f"FAILED sync of {tenant}/{survey}: {reason}"
              for tenant, survey, reason in report.failures]
    for line in lines:
        click.echo(line, err=True)
    if lines:
        send_webhook(config.webhook_url, "cxlab sync:\n" + "\n".join(lines))


def refresh_dashboards(
    config: Config, partitions: list[tuple[str, str]], progress: bool | None = None
) -> int:
    """Refresh the dashboard snapshots of ``partitions``; how many were recomputed. A
    failure is reported and skipped: the dashboard then analyses on open, as before."""
    from tqdm import tqdm

    from cxlab.dashboards.prepare import refresh_snapshots

    computed = 0
    for tenant, survey in tqdm(partitions, unit=" survey", desc="dashboards",
                               disable=None if progress is None else not progress):
        try:
            computed += refresh_snapshots(config, tenant, survey)
        except Exception as error:  # noqa: BLE001 - the data is synced; this only speeds up
            click.echo(f"dashboard snapshot of {tenant}/{survey} skipped "
                       f"({type(error).__name__}: {error}); the dashboard analyses when "
                       "opened instead", err=True)
    if computed:
        click.echo(f"refreshed the opening view of {computed} dashboard(s)")
    return computed
