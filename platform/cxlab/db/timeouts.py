"""Time limits on PostgreSQL for the survey server: a frozen or unreachable database
answers a request with a clean error within seconds instead of hanging it forever.

* connecting: libpq's ``connect_timeout``;
* a statement the server runs too long: PostgreSQL's own ``statement_timeout``;
* a server that does not answer at all (stopped, frozen, a dead network path): only
  the client can tell. :class:`QueryWatchdog` notes when each statement, commit or
  rollback starts and shuts the socket of one that has not finished in time; the
  driver then fails it at once (a disconnect, so the pool drops that connection);
* waiting for a pooled connection: the pool's ``pool_timeout``.

The pool's liveness check on checkout runs under the watchdog too (SQLAlchemy's
``pool_pre_ping`` would wait forever on a frozen server); it is skipped for a
connection checked in less than ``RECENTLY_USED`` seconds before.

>>> watchdog = QueryWatchdog(2.0)
>>> watchdog.armed()
0
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

TICK_SECONDS = 0.1
# A connection back in the pool less than this long ago was answering then: it is not
# checked again on checkout, which would add a round trip to every transaction of a
# busy server (a third of a small write's time). A statement on it that hangs is still
# cut by the watchdog, and a connection the server closed meanwhile fails that one
# transaction (a 503 to retry) and is replaced.
RECENTLY_USED = 1.0
_CHECKED_IN = "cxlab.checked_in"


class QueryWatchdog:
    """Shuts the socket of a database connection whose current call is overdue."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, int]] = {}  # id(connection) → (deadline, fd)
        self._owner_pid: int | None = None  # the watching thread does not survive fork

    def armed(self) -> int:
        """How many connections are being watched now."""
        with self._lock:
            return len(self._armed)

    def arm(self, dbapi_connection: Any, seconds: float | None = None) -> None:
        """Watch ``dbapi_connection`` for ``seconds`` (default: the watchdog's limit)."""
        try:
            fd = dbapi_connection.pgconn.socket
        except Exception:  # noqa: BLE001 - already closed or broken: nothing to watch
            return
        with self._lock:
            deadline = time.monotonic() + (self.seconds if seconds is None else seconds)
            self._armed[id(dbapi_connection)] = (deadline, fd)
            if self._owner_pid != os.getpid():
                self._owner_pid = os.getpid()
                threading.Thread(target=self._watch, name="cxlab-db-watchdog",
                                 daemon=True).start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._armed.pop(id(dbapi_connection), None)

    def _watch(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            now = time.monotonic()
            with self._lock:
                overdue = [key for key, (deadline, _) in self._armed.items() if deadline <= now]
                sockets = [self._armed.pop(key)[1] for key in overdue]
            for fd in sockets:
                _shut(fd)


def _shut(fd: int) -> None:
    # shutdown(), not close(): the descriptor stays the driver's, which now reads EOF
    # and raises; closing it under the driver could hand its number to another socket.
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer
    finally:
        sock.close()


def watch_engine(engine: Engine, watchdog: QueryWatchdog) -> None:
    """Put every statement, commit, rollback and checkout ping of ``engine`` under
    ``watchdog`` (PostgreSQL through psycopg)."""

    def arm(connection, *_args) -> None:
        if connection.invalidated:
            return  # its socket is gone already (e.g. shut by the watchdog): nothing to watch
        watchdog.arm(connection.connection.dbapi_connection)

    def disarm(connection, *_args) -> None:
        watchdog.disarm(connection.connection.dbapi_connection)

    event.listen(engine, "before_cursor_execute", arm)
    event.listen(engine, "after_cursor_execute", disarm)
    event.listen(engine, "commit", arm)  # before the commit; checkin disarms after it
    event.listen(engine, "rollback", arm)

    @event.listens_for(engine, "checkin")
    def note_checkin(dbapi_connection, record) -> None:
        if dbapi_connection is not None:  # None: invalidated, reconnected on next use
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get(_CHECKED_IN, float("-inf")) < RECENTLY_USED:
            return
        # Half the limit: a dead connection is then replaced by a new one, whose
        # connect_timeout still fits in about the limit and a half.
        watchdog.arm(dbapi_connection, watchdog.seconds / 2)
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:
            # The pool replaces this connection with a new one (bounded by
            # connect_timeout), as with pool_pre_ping.
            raise DisconnectionError(f"liveness check failed: {error}") from error
        finally:
            watchdog.disarm(dbapi_connection)

    for name in ("checkin", "invalidate", "close", "close_detached"):
        event.listen(engine, name, lambda dbapi_connection, *_: watchdog.disarm(dbapi_connection))
