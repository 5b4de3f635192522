"""``cxlab sync``: copy new responses into the analytic store, refresh the dashboards'
opening views, optionally verify; prints :class:`~cxlab.jobs.store_sync.StoreSyncReport`."""

from __future__ import annotations

import sys

import click

from cxlab.cli.base import load_config
from cxlab.config import Config


@click.command("sync")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant.")
@click.option("--survey", "survey_slug", default=None, help="Only this survey (with --tenant).")
@click.option("--verify", is_flag=True,
              help="Then compare counts and id checksums with the database; exit 1 on a gap.")
@click.option("--no-snapshots", is_flag=True,
              help="Skip precomputing the dashboards' opening views (they are then "
                   "analysed when first opened).")
def sync_cli(tenant_slug: str | None, survey_slug: str | None, verify: bool,
             no_snapshots: bool) -> None:
    """Copy new responses into the analytic store (Parquet under CXLAB_STORE_URL).

    Incremental and safe to rerun; deletions in the database reach the store too.
    Then each synced survey's dashboard opening view is precomputed, so clients open
    even a million-response dashboard without waiting for the analysis.
    Example: cxlab sync --verify
    """
    if survey_slug and not tenant_slug:
        raise click.UsageError("--survey needs --tenant")
    sys.exit(sync_command(load_config(), tenant=tenant_slug, survey=survey_slug, verify=verify,
                          snapshots=not no_snapshots))


def sync_command(
    config: Config,
    tenant: str | None = None,
    survey: str | None = None,
    verify: bool = False,
    progress: bool | None = None,
    snapshots: bool = True,
) -> int:
    """Run ``cxlab sync`` (:func:`cxlab.jobs.store_sync.sync_store`), print its report,
    and return the exit code: 0 on success, 1 when a survey's sync failed (each failure
    on stderr; the others still sync) or verification found a gap (each gap printed).

    Example, with a migrated database and a synced store::

        sync_command(config, tenant="acme", verify=True)
        # synced 1 survey(s): 1,204 new responses in 0.4 s, 0 file(s) rewritten ...
        # verified 1 survey(s): store matches the database
        # 0
    """
    from cxlab.jobs.store_sync import sync_store  # pyarrow: only for this command

    report = sync_store(config, tenant=tenant, survey=survey, verify=verify,
                        progress=progress, snapshots=snapshots)
    click.echo(report.sync.summary())
    for line in report.warnings + report.snapshots_skipped:
        click.echo(line, err=True)
    if report.snapshots_refreshed:
        click.echo(f"refreshed the opening view of {report.snapshots_refreshed} dashboard(s)")
    checked = report.verification
    if checked is not None and checked.ok:
        click.echo(f"verified {checked.checked} survey(s): store matches the database")
    elif checked is not None:
        for gap in checked.gaps:
            click.echo(f"GAP {gap}", err=True)
        click.echo(
            f"verification failed: {len(checked.gaps)} of {checked.checked} survey(s) differ; "
            "rerun `cxlab sync` and report it if the gap remains", err=True,
        )
    return 0 if report.ok else 1


@click.command("table-sql")
@click.argument("tenant_slug")
@click.argument("survey_slug")
@click.option("--engine", type=click.Choice(["athena", "trino"]), default="athena",
              show_default=True, help="Whose CREATE TABLE to print.")
@click.option("--table", default=None,
              help="The table's name (default: the survey slug, '-' as '_').")
def table_sql_cli(tenant_slug: str, survey_slug: str, engine: str, table: str | None) -> None:
    """Print the CREATE TABLE with which Athena or Trino query a survey in the store
    where it lies (Parquet, Hive partitions tenant= and survey=; docs/store.md).

    Example: cxlab table-sql acme store-visit --engine trino
    """
    table_sql_command(load_config(), tenant_slug, survey_slug, engine, table)


def table_sql_command(config: Config, tenant: str, survey: str, engine: str = "athena",
                      table: str | None = None) -> None:
    """Print the table definition of ``tenant``'s ``survey`` as synced to the store
    (its columns over every definition version), located at the store's responses.
    A tenant or survey the store does not hold raises StoreNotFound (shown as one line).
    """
    from cxlab.store import ColumnPlan, Store
    from cxlab.store.tables import create_table_sql

    store = Store.of(config)
    plan = ColumnPlan(store.read_definitions(tenant, survey)["versions"])
    location = f"{store.url.rstrip('/')}/responses/"
    click.echo(create_table_sql(plan, table or survey.replace("-", "_"), location, engine))
