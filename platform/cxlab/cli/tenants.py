"""``cxlab init`` and ``cxlab tenant …``: the schema, and the client companies."""

from __future__ import annotations

import click

from cxlab import tenancy
from cxlab.cli.base import load_config, shown_url
from cxlab.db import Database


@click.command()
def init() -> None:
    """Create or upgrade the database schema (safe to run again).

    Example: CXLAB_DATABASE_URL=postgresql://cxlab@db/cxlab cxlab init
    """
    config = load_config()
    with Database.open(config, must_be_migrated=False) as database:
        database.migrate()
    click.echo(f"Database ready: {shown_url(config.database_url)}")


@click.group()
def tenant() -> None:
    """Create and list tenants (client companies)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'Acme Foods'.")
@click.option("--plan", default="standard", show_default=True, help="Plan name.")
@click.option("--language", default="ja", show_default=True,
              help="Language of the tenant's reports and report e-mails: ja or en.")
def tenant_create(slug: str, name: str, plan: str, language: str) -> None:
    """Create tenant SLUG.  Example: cxlab tenant create acme --name "Acme Foods" """
    with Database.open(load_config()) as database, database.session() as session:
        tenancy.create_tenant(session, slug, name, plan=plan, language=language)
    click.echo(f"Created tenant {slug} ({name}), reports in {language}.")


@tenant.command("set-language")
@click.argument("slug")
@click.argument("language")
def tenant_set_language(slug: str, language: str) -> None:
    """Set the language (ja or en) of tenant SLUG's reports.

    Example: cxlab tenant set-language acme en
    """
    with Database.open(load_config()) as database, database.session() as session:
        tenancy.set_language(session, slug, language)
    click.echo(f"Tenant {slug}: reports in {language}.")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants."""
    with Database.open(load_config()) as database, database.session() as session:
        for row in tenancy.list_tenants(session):
            click.echo(f"{row.slug:<24} {row.plan:<10} {row.language:<3} {row.name}")
