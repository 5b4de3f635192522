"""``cxlab user …`` and ``cxlab apikey …``: who may sign in to the portal, and the
keys of the JSON ingestion API."""

from __future__ import annotations

import click

from cxlab import accounts, org, tenancy
from cxlab.cli.base import load_config, read_password
from cxlab.db import Database


@click.group()
def user() -> None:
    """Create, list, disable and enable client-portal users; reset passwords; unlock."""


@user.command("create")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant the user belongs to.")
@click.option("--role", type=click.Choice(tenancy.ROLES), default="viewer", show_default=True)
@click.argument("email")
def user_create(tenant_slug: str, role: str, email: str) -> None:
    """Create a user; the password is read from standard input or asked for.

    Example: echo 's3cret-passphrase' | cxlab user create --tenant acme ana@acme.example
    """
    password = read_password()
    with Database.open(load_config()) as database, database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug)
        tenancy.create_user(session, tenant_row, email, password, role=role)
    click.echo(f"Created {role} {email.strip().lower()} in tenant {tenant_slug}.")


@user.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def user_list(tenant_slug: str) -> None:
    """The tenant's users: e-mail, role, created, whether disabled, and scope."""
    with Database.open(load_config()) as database, database.session() as session:
        for row in accounts.list_users(session, tenant_slug):
            state = "disabled" if row.disabled else "active"
            scope = ", ".join(row.scope) if row.scope else "whole tenant"
            click.echo(f"{row.email:<40} {row.role:<8} {row.created_at:%Y-%m-%d} {state:<8} "
                       f"{scope}")


@user.command("scope")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--whole-tenant", is_flag=True, help="Remove the scope: the user sees everything.")
@click.argument("email")
@click.argument("units", nargs=-1)
def user_scope(tenant_slug: str, whole_tenant: bool, email: str, units: tuple[str, ...]) -> None:
    """Limit a user to UNITS of the organisation tree (and every unit below them).

    Example: cxlab user scope --tenant acme ana@acme.example area-east
    """
    if bool(units) == whole_tenant:
        raise click.UsageError("give the units of the user's scope, or --whole-tenant")
    with Database.open(load_config()) as database, database.session() as session:
        org.set_scope(session, tenancy.get_tenant(session, tenant_slug), email, units)
    click.echo(f"{email} now sees {', '.join(units) if units else 'the whole tenant'} "
               f"of {tenant_slug}.")


@user.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Refuse the user's sign-ins and end every session they have now."""
    with Database.open(load_config()) as database, database.session() as session:
        accounts.disable_user(session, email)
    click.echo(f"Disabled {email}; their sessions have ended.")


@user.command("enable")
@click.argument("email")
def user_enable(email: str) -> None:
    """Let a disabled user sign in again."""
    with Database.open(load_config()) as database, database.session() as session:
        accounts.enable_user(session, email)
    click.echo(f"Enabled {email}.")


@user.command("reset-password")
@click.argument("email")
def user_reset_password(email: str) -> None:
    """Set a new password (from standard input or asked for); ends every session.

    Example: echo 'a new long passphrase' | cxlab user reset-password ana@acme.example
    """
    password = read_password()
    with Database.open(load_config()) as database, database.session() as session:
        accounts.reset_password(session, email, password)
    click.echo(f"New password set for {email}; their sessions have ended.")


@user.command("unlock")
@click.argument("email")
def user_unlock(email: str) -> None:
    """Forget the e-mail's failed sign-ins, so no wait applies any more."""
    with Database.open(load_config()) as database, database.session() as session:
        forgotten = accounts.unlock_user(session, email)
    click.echo(f"Forgot {forgotten} failed sign-in(s) of {email}.")


@click.group()
def apikey() -> None:
    """Create, list and revoke API keys for the JSON ingestion API."""


@apikey.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--name", default="", help="What the key is for, e.g. 'kiosk shibuya'.")
def apikey_create(tenant_slug: str, name: str) -> None:
    """Create a key scoped to one tenant; it is printed once and stored only as a hash.

    Example: cxlab apikey create --tenant acme --name kiosk
    """
    with Database.open(load_config()) as database, database.session() as session:
        tenant_row = tenancy.get_tenant(session, tenant_slug)
        _, plaintext = tenancy.create_api_key(session, tenant_row, name)
    click.echo(plaintext)
    click.echo("Store it now: it cannot be shown again.", err=True)


@apikey.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def apikey_list(tenant_slug: str) -> None:
    """The tenant's keys: prefix (what to revoke by), created, revoked, name."""
    with Database.open(load_config()) as database, database.session() as session:
        for row in accounts.list_api_keys(session, tenant_slug):
            revoked = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            click.echo(f"{row.prefix:<16} {row.created_at:%Y-%m-%d} {revoked:<18} {row.name}")


@apikey.command("revoke")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("prefix")
def apikey_revoke(tenant_slug: str, prefix: str) -> None:
    """Revoke a key by its prefix (see cxlab apikey list); it stops working at once
    (within CXLAB_LOOKUP_TTL seconds on running servers)."""
    with Database.open(load_config()) as database, database.session() as session:
        tenancy.revoke_api_key(session, tenancy.get_tenant(session, tenant_slug), prefix)
    click.echo(f"Revoked API key {prefix} of tenant {tenant_slug}.")
