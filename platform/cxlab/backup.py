"""``cxlab backup``: a consistent copy of a live SQLite database, verified.

SQLite's online backup API (:meth:`sqlite3.Connection.backup`) copies the database
page by page inside one read transaction of the source, so the copy is one moment of
the database even while the survey server writes (WAL mode lets it keep writing).
A plain ``cp`` of a database mid-write can be torn. The copy is written beside its
destination as ``*.partial``, checked (``PRAGMA integrity_check``, and the number of
responses equal to the source's in the same snapshot), then renamed into place.

PostgreSQL is backed up with ``pg_dump``; ``cxlab backup`` prints the exact call:

>>> print(pg_dump_command("postgresql+psycopg://cx:s3cret@db:5432/cxlab", "x.dump"))
pg_dump --format=custom --file=x.dump postgresql://cx@db:5432/cxlab
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from cxlab.config import Config
from cxlab.errors import CxlabError

BUSY_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class BackupResult:
    """A verified copy: where it is, its size, the responses it holds, its source."""

    path: Path
    size_bytes: int
    responses: int
    source: Path


def default_destination(config: Config, suffix: str = "db") -> Path:
    """var/backups/cxlab-YYYYmmdd-HHMMSS.<suffix> (local time, as an operator reads it)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return config.var_dir / "backups" / f"cxlab-{stamp}.{suffix}"


def backup_sqlite(source: Path, destination: Path) -> BackupResult:
    """Copy the SQLite database ``source`` to ``destination`` with the online backup
    API and verify the copy; raise :class:`CxlabError` when it cannot be made or is
    not sound. An existing ``destination`` is never overwritten."""
    if not source.is_file():
        raise CxlabError(f"no SQLite database at {source}")
    if destination.exists():
        raise CxlabError(f"{destination} exists; choose another destination")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        # One read transaction: the count and the copy see the same snapshot (the
        # backup runs on this connection, inside its open transaction).
        reader.execute("BEGIN")
        responses = _count_responses(reader)
        copy = sqlite3.connect(partial)
        try:
            reader.backup(copy)
            integrity = copy.execute("PRAGMA integrity_check").fetchall()
            copied = _count_responses(copy)
        finally:
            copy.close()
        reader.execute("COMMIT")
    finally:
        reader.close()
    problem = None
    if integrity != [("ok",)]:
        problem = "integrity_check: " + "; ".join(str(row[0]) for row in integrity[:5])
    elif copied != responses:
        problem = f"the copy holds {copied} responses, the source {responses}"
    if problem:
        partial.unlink(missing_ok=True)
        raise CxlabError(f"the backup failed verification ({problem}); nothing was written")
    os.replace(partial, destination)
    return BackupResult(destination, destination.stat().st_size, responses, source)


def _count_responses(connection: sqlite3.Connection) -> int:
    try:
        return connection.execute("SELECT count(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError as error:
        raise CxlabError(f"not a migrated cxlab database ({error})") from error


def pg_dump_command(database_url: str, destination: str) -> str:
    """The ``pg_dump`` call for ``database_url``, without its password (libpq takes it
    from PGPASSWORD or ~/.pgpass) and without SQLAlchemy's driver name."""
    parsed = make_url(database_url)
    url = URL.create("postgresql", username=parsed.username, host=parsed.host,
                     port=parsed.port, database=parsed.database, query=parsed.query)
    return shlex.join(["pg_dump", "--format=custom", f"--file={destination}",
                       url.render_as_string(hide_password=False)])


class NotSQLite(CxlabError):
    """The configured database is PostgreSQL: back it up with ``pg_dump`` (``command``)."""

    def __init__(self, command: str) -> None:
        super().__init__(f"back up PostgreSQL with: {command}")
        self.command = command


def backup_database(config: Config, destination: str | Path | None = None) -> BackupResult:
    """Back up the configured SQLite database to ``destination`` (default
    var/backups/cxlab-YYYYmmdd-HHMMSS.db) with :func:`backup_sqlite`.

    Raises :class:`NotSQLite` (with the ``pg_dump`` call to use) for PostgreSQL, and
    :class:`CxlabError` for an in-memory database or a copy that cannot be made.

    >>> backup_database(Config.from_environ({"CXLAB_DATABASE_URL": "sqlite://"}))
    Traceback (most recent call last):
    cxlab.errors.CxlabError: the configured database is in memory: there is nothing to back up
    """
    if not config.is_sqlite:
        target = destination or default_destination(config, "dump")
        raise NotSQLite(pg_dump_command(config.database_url, str(target)))
    source = make_url(config.database_url).database
    if not source:
        raise CxlabError("the configured database is in memory: there is nothing to back up")
    return backup_sqlite(Path(source), Path(destination) if destination else
                         default_destination(config))
