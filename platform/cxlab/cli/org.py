"""``cxlab org …``: a tenant's organisation tree (head office, areas, stores,
departments), loaded from CSV or YAML and shown as it stands at a date."""

from __future__ import annotations

from pathlib import Path

import click

from cxlab import org, tenancy
from cxlab.cli.base import load_config, parse_day
from cxlab.db import Database


@click.group("org")
def org_cli() -> None:
    """Load and show a tenant's organisation tree (whose units scope users)."""


@org_cli.command("load")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--from", "effective", metavar="YYYY-MM-DD",
              help="When the change takes effect (default: now). Answers before it stay "
                   "under a moved store's old parent.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def org_load(tenant_slug: str, effective: str | None, file: Path) -> None:
    """Make FILE (CSV with code,name,kind,parent, or YAML) the tenant's tree.

    Example: cxlab org load --tenant acme --from 2026-06-01 org.csv
    """
    units = org.read_units(file)
    with Database.open(load_config()) as database, database.session() as session:
        tenant = tenancy.get_tenant(session, tenant_slug)
        report = org.load_tree(session, tenant, units,
                               effective=parse_day(effective, "--from"))
    click.echo(f"Loaded {len(units)} units into {tenant_slug}: {report.added} added, "
               f"{report.changed} renamed, {report.moved} moved, {report.retired} retired, "
               f"{report.unchanged} unchanged.")
    # The dashboards' segment tables roll answers up into the tree's units.
    from cxlab.dashboards.prepare import refresh_after_organisation_change  # pandas: only here

    refreshed = refresh_after_organisation_change(load_config(), tenant_slug)
    if refreshed:
        click.echo(f"Refreshed the dashboards of {refreshed} survey(s) for the new tree.")


@org_cli.command("show")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--at", metavar="YYYY-MM-DD", help="The tree as it stood that day (default: now).")
def org_show(tenant_slug: str, at: str | None) -> None:
    """The tenant's tree, indented: code, kind, name."""
    with Database.open(load_config()) as database, database.session() as session:
        rows = org.tree_rows(session, tenancy.get_tenant(session, tenant_slug),
                             at=parse_day(at, "--at"))
    if not rows:
        click.echo(f"{tenant_slug} has no organisation tree; load one with: "
                   f"cxlab org load --tenant {tenant_slug} FILE")
    for row in rows:
        click.echo(f"{'  ' * row.depth}{row.code}  ({row.kind})  {row.name}")
