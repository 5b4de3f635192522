"""What every view needs, built once per app by :func:`survey_server.app.create_app`."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import bottle
from cxlab.config import Config
from cxlab.db import Database
from cxlab.metrics import ServerMetrics

from survey_server.lookups import Lookups
from survey_server.tokens import FormTokens

if TYPE_CHECKING:  # group_commit imports this module for the write gate
    from survey_server.group_commit import GroupCommit


@dataclass(frozen=True)
class ServerContext:
    config: Config
    database: Database
    tokens: FormTokens
    metrics: ServerMetrics
    write_gate: SqliteWriteGate
    lookups: Lookups
    group_commit: GroupCommit  # where views store answers (one transaction per batch)


def tag_request(*, tenant: str | None = None, survey: str | int | None = None) -> None:
    """Name the tenant and survey of this request for its access-log line."""
    if tenant is not None:
        bottle.request.environ["cxlab.tenant"] = tenant
    if survey is not None:
        bottle.request.environ["cxlab.survey"] = str(survey)


def request_header(name: str) -> str | None:
    """The request header ``name`` as UTF-8 text, or None when absent or not UTF-8.

    Bottle's own ``get_header`` raises on a header that is not UTF-8 (a client's
    mistake, which must not become a 500).
    """
    raw = bottle.request.environ.get("HTTP_" + name.upper().replace("-", "_"))
    if raw is None:
        return None
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None


def tag_route(template: str) -> None:
    """Name this request's route in logs and metrics when its Bottle rule is broader."""
    bottle.request.environ["cxlab.route"] = template


class SqliteWriteGate:
    """Lets one write transaction at a time into a SQLite database, across the threads
    and worker processes of this server.

    SQLite allows one writer; contending writers otherwise wait in its busy handler,
    which sleeps in steps of up to 100 ms and wastes most of the time under load. A
    thread lock plus an flock on a file next to the database queue writers in the
    kernel instead, which wakes the next one as soon as the lock is free.
    """

    def __init__(self, lock_path: Path | None) -> None:
        self.lock_path = lock_path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        if self.lock_path is None:
            yield
            return
        with self._thread_lock:
            if self._pid != os.getpid():  # opened after the worker's fork, once per worker
                self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
