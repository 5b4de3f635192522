"""Database access: the engine, sessions and migrations.

>>> database = Database("sqlite://")  # in memory; normally Config.database_url
>>> database.migrate()
>>> with database.session() as session:
...     session.scalar(text("select 1"))
1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cxlab.db.timeouts import QueryWatchdog, watch_engine
from cxlab.errors import CxlabError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

    from cxlab.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000

__all__ = ["Database", "DatabaseError", "session_on", "text"]


class DatabaseError(CxlabError):
    """The database cannot be reached or is not migrated."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (sync, dashboards) run while the survey server writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_read_only_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_database_engine(
    url: str, timeout_seconds: float | None = None, *, read_only: bool = False
) -> Engine:
    """An engine with the settings cxlab relies on (SQLite: WAL, busy timeout, FKs).

    ``timeout_seconds`` (PostgreSQL; the survey server's ``CXLAB_DB_TIMEOUT``) bounds
    connecting, each statement, and the wait for a pooled connection: see
    :mod:`cxlab.db.timeouts`. None (batch jobs, sync) waits as long as it takes.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and read_only and parsed.database:
        # mode=ro: a missing file is an error, never a new empty database.
        path = Path(parsed.database).resolve()
        engine = create_engine(
            f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true",
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_read_only_pragmas)
        return engine
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if timeout_seconds is None:
        return create_engine(url, pool_pre_ping=True)
    # Keep any options the URL carries (e.g. -csearch_path=...) and add the limit.
    limit_ms = int(timeout_seconds * 1000)
    options = f"{parsed.query.get('options', '')} -c statement_timeout={limit_ms}"
    engine = create_engine(
        url, pool_timeout=timeout_seconds,
        # libpq counts whole seconds and takes at least 2.
        connect_args={"connect_timeout": max(2, round(timeout_seconds)),
                      "options": options.strip()},
    )
    watch_engine(engine, QueryWatchdog(timeout_seconds))
    return engine


@contextmanager
def session_on(connection: Connection) -> Iterator[Session]:
    """A session inside the transaction of ``connection`` (from
    :meth:`Database.transaction`): its changes are flushed when the block ends, and
    committed or rolled back with that transaction, never on their own.

    >>> database = Database("sqlite://")
    >>> with database.transaction() as connection, session_on(connection) as session:
    ...     session.scalar(text("select 2"))
    2
    """
    with Session(bind=connection, expire_on_commit=False) as session:
        yield session
        session.commit()  # joined to the connection's transaction: a flush only


class Database:
    """One database: its engine, a session factory and its migrations."""

    def __init__(
        self, url: str, *, timeout_seconds: float | None = None, read_only: bool = False
    ) -> None:
        """``read_only`` (SQLite): open the file read-only and never create it."""
        self.url = url
        self.engine = create_database_engine(url, timeout_seconds, read_only=read_only)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    @contextmanager
    def open(cls, config: Config, *, must_be_migrated: bool = True) -> Iterator[Database]:
        """The configured database for the length of a ``with`` block, disposed after;
        with ``must_be_migrated`` a :class:`DatabaseError` says what to run when it
        cannot be reached or its schema is behind.

        >>> from cxlab.config import Config
        >>> config = Config.from_environ({"CXLAB_DATABASE_URL": "sqlite://"})
        >>> with Database.open(config) as database:
        ...     pass
        Traceback (most recent call last):
        cxlab.db.DatabaseError: the database is not initialised (or is behind): run cxlab init
        """
        database = cls(config.database_url)
        try:
            if must_be_migrated:
                database.require_migrated()
            yield database
        finally:
            database.dispose()

    def require_migrated(self) -> None:
        """Raise :class:`DatabaseError` naming the fix when the schema is not at the
        newest migration or the database cannot be reached."""
        try:
            migrated = self.is_migrated()
        except OperationalError as error:
            raise DatabaseError(
                f"cannot reach the database: {error.orig}. Check CXLAB_DATABASE_URL."
            ) from None
        if not migrated:
            raise DatabaseError("the database is not initialised (or is behind): run cxlab init")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core connection in a transaction that commits when the block ends and
        rolls back on error: for hot paths that need no ORM (half the cost of a
        session). :func:`session_on` gives ORM code a session inside it."""
        with self.engine.begin() as connection:
            yield connection

    def _alembic_config(self) -> AlembicConfig:
        # Alembic (and Mako) are imported only here: they cost every process that merely
        # reads the database — a dashboard kernel, a survey server worker — 25 MB.
        from alembic.config import Config as AlembicConfig  # noqa: PLC0415

        alembic_config = AlembicConfig()
        alembic_config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return alembic_config

    def migrate(self) -> None:
        """Bring the schema to the newest migration; safe to run any number of times."""
        from alembic import command  # noqa: PLC0415 - see _alembic_config

        alembic_config = self._alembic_config()
        try:
            with self.engine.begin() as connection:
                alembic_config.attributes["connection"] = connection
                command.upgrade(alembic_config, "head")
        except OperationalError as error:
            raise DatabaseError(
                f"cannot reach the database {make_url(self.url).render_as_string()}: "
                f"{error.orig}. Check CXLAB_DATABASE_URL and that the server is running."
            ) from None

    def is_migrated(self) -> bool:
        """True when the schema is at the newest migration."""
        from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
        from alembic.script import ScriptDirectory  # noqa: PLC0415

        script = ScriptDirectory.from_config(self._alembic_config())
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        return current == set(script.get_heads())

    @property
    def sqlite_path(self) -> Path | None:
        """The file of a SQLite database (None for PostgreSQL or in memory)."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        return Path(parsed.database).resolve()

    def dispose(self) -> None:
        self.engine.dispose()

