"""``cxlab backup``: a verified copy of the live SQLite database (or the pg_dump call)."""

from __future__ import annotations

import sys

import click

from cxlab.cli.base import load_config
from cxlab.config import Config
from cxlab.errors import CxlabError


@click.command("backup")
@click.argument("destination", required=False)
def backup_cli(destination: str | None) -> None:
    """Copy the SQLite database safely while it is in use, then verify the copy.

    Default destination: var/backups/cxlab-YYYYmmdd-HHMMSS.db. On PostgreSQL it prints
    the pg_dump command to use instead.  Example: cxlab backup /mnt/backups/cxlab.db
    """
    sys.exit(backup_command(load_config(), destination))


def backup_command(config: Config, destination: str | None) -> int:
    """Back up the configured database and print what was done; the exit code: 0 when
    a verified copy was written, 1 when it failed, 2 for PostgreSQL (use pg_dump: the
    message gives the exact command)."""
    from cxlab.backup import NotSQLite, backup_database

    try:
        result = backup_database(config, destination)
    except NotSQLite as postgres:
        click.echo("cxlab backup copies SQLite databases only; back up PostgreSQL with "
                   "pg_dump:\n\n  " + postgres.command + "\n\n"
                   "(password not shown: give it with PGPASSWORD or ~/.pgpass; restore with "
                   "pg_restore)")
        return 2
    except CxlabError as error:
        click.echo(str(error), err=True)
        return 1
    click.echo(f"backed up {result.source} to {result.path} ({result.size_bytes / 2**20:.1f} MiB, "
               f"{result.responses:,} responses); integrity_check ok, response count matches")
    return 0
