"""A frozen PostgreSQL: requests and /healthz answer 503 within seconds instead of
hanging, and the server recovers by itself when the database answers again.

The database is frozen the way a SIGSTOPped server or a dead network path looks to a
client: connections open and data is accepted, but nothing ever comes back. A relay
between the survey server and the shared test PostgreSQL stops passing bytes (the
shared server itself must not be stopped: other tests use it).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database, create_database_engine, timeouts
from cxlab.db.models import Response
from cxlab.surveys import EXAMPLES_DIR, load_definition
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
# Far above the 2 s limit, so a slow machine never fails the test; a hang (the fault
# this test is about) never answers at all.
CLIENT_TIMEOUT = 30


class FreezableRelay:
    """A TCP relay on loopback to ``upstream`` that can stop passing bytes and resume."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        self.flowing.wait()  # a frozen server accepts (the kernel does) but never answers
        with contextlib.closing(client), socket.create_connection(self.upstream) as server:
            ends = {client: server, server: client}
            while not self.closed.is_set():
                if not self.flowing.is_set():
                    self.flowing.wait(0.1)
                    continue
                readable, _, _ = select.select(list(ends), [], [], 0.1)
                for end in readable:
                    try:
                        data = end.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    ends[end].sendall(data)

    def close(self) -> None:
        self.closed.set()
        self.flowing.set()
        self.listener.close()


@pytest.fixture
def relay(postgres_url: str) -> Iterator[tuple[FreezableRelay, str]]:
    url = make_url(postgres_url)
    relay = FreezableRelay((url.host, url.port or 5432))
    yield relay, url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    relay.close()


def stored(database: Database) -> int:
    with database.session() as session:
        return session.scalar(sql_select(func.count()).select_from(Response))


def test_a_frozen_postgresql_gets_503_in_seconds_and_recovers(relay, postgres_url, environ):
    relay, relayed_url = relay
    direct = Database(Config.from_environ(
        {**environ, "CXLAB_DATABASE_URL": postgres_url}).database_url)
    direct.migrate()
    acme = publish_survey_with_key(direct, "acme", VISIT)
    config = Config.from_environ({**environ, "CXLAB_DATABASE_URL": relayed_url,
                                  "CXLAB_DB_TIMEOUT": "2"})
    app = create_app(config, log_stream=None)  # its own pool, through the relay
    with serve_in_thread(app) as base_url:
        url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses"
        headers = {"Authorization": f"Bearer {acme.api_key}"}

        took: list[float] = []

        def send(key: str) -> int:
            started = time.monotonic()
            answer = requests.post(url, headers=headers, timeout=CLIENT_TIMEOUT, json={
                "answers": {"nps": 8}, "idempotency_key": key})
            took.append(time.monotonic() - started)
            return answer.status_code

        with ThreadPoolExecutor(4) as pool:  # warm several pooled connections
            assert set(pool.map(send, [f"warm-{n}" for n in range(8)])) == {201}
        relay.freeze()
        took.clear()
        with ThreadPoolExecutor(4) as pool:
            frozen = list(pool.map(send, [f"frozen-{n}" for n in range(6)]))
            probes = list(pool.map(
                lambda _: requests.get(f"{base_url}/healthz", timeout=CLIENT_TIMEOUT), range(2)))
        print(f"answers against a frozen database: 503 after {min(took):.1f}-{max(took):.1f} s")
        assert frozen == [503] * 6
        assert [probe.status_code for probe in probes] == [503, 503]
        assert "database unreachable" in probes[0].json()["reason"]

        relay.thaw()
        deadline = time.monotonic() + 60
        while requests.get(f"{base_url}/healthz", timeout=CLIENT_TIMEOUT).status_code != 200:
            assert time.monotonic() < deadline, "no recovery after the database came back"
            time.sleep(0.2)
        # The refused answers are resent with their keys: each stored once.
        assert {send(f"frozen-{n}") for n in range(6)} <= {200, 201}
        assert {send(f"frozen-{n}") for n in range(6)} == {200}
    assert stored(direct) == 14
    app.context.database.dispose()
    direct.dispose()


def test_a_connection_checked_in_a_moment_ago_is_not_pinged_again(postgres_url, monkeypatch):
    """The liveness check costs a round trip per transaction: a connection that was
    answering less than RECENTLY_USED seconds ago skips it; one idle longer gets it."""
    monkeypatch.setattr(timeouts, "RECENTLY_USED", 0.5)
    engine = create_database_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), 2)
    with engine.connect() as connection:
        dbapi_connection = connection.connection.dbapi_connection
    pings = []
    cursor = dbapi_connection.cursor
    dbapi_connection.cursor = lambda *args, **kwargs: pings.append(1) or cursor(*args, **kwargs)
    for _ in range(3):  # no statement: any cursor opened is the liveness check's
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection is dbapi_connection
    assert pings == []
    time.sleep(0.6)
    with engine.connect():
        pass
    assert pings == [1]
    engine.dispose()
