"""Group commit (survey_server.group_commit): concurrent answers share transactions,
yet each is acknowledged only after the commit that stored it, exactly once; a failed
commit is a clean 503 for every request in it; one bad request fails only itself. On
SQLite and on PostgreSQL, in-process and with the real server killed by SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
import requests
from cxlab import responses
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Response
from cxlab.new_responses import NewResponse, store_new_responses
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import get_survey_by_id
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from survey_server.app import create_app
from survey_server.context import SqliteWriteGate
from survey_server.group_commit import GroupCommit
from survey_server.testing import publish_survey_with_key, serve_in_thread, start_server

PULSE = parse_definition({
    "slug": "pulse", "title": "Pulse",
    "questions": [{"id": "nps", "type": "nps", "label": "NPS", "required": True}],
})
DEADLINE = 60  # seconds; generous for a loaded 2-core CI box


def post(base_url: str, seeded, key: str, nps: int = 9) -> requests.Response:
    return requests.post(
        f"{base_url}/api/v1/surveys/{seeded.survey_id}/responses",
        data=json.dumps({"answers": {"nps": nps}, "idempotency_key": key}),
        headers={"Authorization": f"Bearer {seeded.api_key}",
                 "Content-Type": "application/json"}, timeout=DEADLINE)


def stored_keys(database: Database) -> list[str]:
    """The idempotency keys stored, as the client sent them (without ``api:<id>:``)."""
    with database.session() as session:
        return [re.sub(r"^api:\d+:", "", key)
                for key in session.scalars(select(Response.idempotency_key))]


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def survey_of(database: Database, seeded):
    with database.session() as session:
        survey = get_survey_by_id(session, seeded.tenant_id, seeded.survey_id)
        session.expunge(survey)
    return survey


def held_batch(group: GroupCommit, first_job, later_jobs: list, run=None) -> tuple[list, list]:
    """Run ``first_job`` as a leader held open until every later job has queued behind
    it, so the later jobs form one batch; return (results, errors) in job order.
    ``run`` hands a later job to the group (default: ``group.run``)."""
    run_later = run or group.run
    release = threading.Event()
    results: list = [None] * (1 + len(later_jobs))
    errors: list = [None] * (1 + len(later_jobs))

    def held(session):
        assert release.wait(DEADLINE)
        return first_job(session)

    def run(index, job):
        try:
            results[index] = (group.run if index == 0 else run_later)(job)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            errors[index] = error

    threads = [threading.Thread(target=run, args=(0, held))]
    threads[0].start()
    wait_until(lambda: group._leader is not None and not group._queue, "the leader")
    threads += [threading.Thread(target=run, args=(i + 1, job))
                for i, job in enumerate(later_jobs)]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: len(group._queue) == len(later_jobs), "the batch to queue")
    assert results == [None] * len(results), "nothing is answered before its commit"
    release.set()
    for thread in threads:
        thread.join(DEADLINE)
    return results, errors


def record(survey, key: str, nps: int = 9, request_hash: str | None = None):
    return lambda session: responses.record_response(
        session, survey, {"nps": nps}, idempotency_key=key, request_hash=request_hash)


def test_queued_jobs_commit_as_one_batch_after_the_leaders(any_database):
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    survey = survey_of(any_database, seeded)
    group = GroupCommit(any_database, SqliteWriteGate(None))
    results, errors = held_batch(group, record(survey, "k0"),
                                 [record(survey, f"k{i}") for i in range(1, 11)])
    assert errors == [None] * 11
    assert all(r.created for r in results) and len({r.id for r in results}) == 11
    assert (group.batches, group.jobs) == (2, 11)  # the leader's, then all ten at once
    assert sorted(stored_keys(any_database)) == sorted(f"k{i}" for i in range(11))


def test_a_job_that_fails_fails_alone_and_leaves_nothing(any_database):
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    survey = survey_of(any_database, seeded)
    group = GroupCommit(any_database, SqliteWriteGate(None))

    def writes_then_fails(session):
        record(survey, "bad")(session)
        raise ValueError("refused after writing")

    jobs = [record(survey, "a"), writes_then_fails, record(survey, "b"),
            record(survey, "k0", nps=3, request_hash="other")]  # k0 again, another body
    results, errors = held_batch(
        group, record(survey, "k0", request_hash="first"), jobs)
    assert isinstance(errors[2], ValueError)
    assert isinstance(errors[4], responses.IdempotencyConflict)
    assert [e for i, e in enumerate(errors) if i not in (2, 4)] == [None, None, None]
    # The failing job's row went with its rollback; the others are stored once each.
    assert sorted(stored_keys(any_database)) == ["a", "b", "k0"]


def test_new_answers_of_a_batch_share_one_insert_and_each_gets_its_own_id(any_database):
    """Keyless and keyed answers queued together: one INSERT for the keyless ones, one
    for the keyed ones, and the id each request is given is the row of its answers,
    on both backends (SQLite's multi-row INSERT returns its rows in no set order)."""
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    survey = survey_of(any_database, seeded)
    group = GroupCommit(any_database, SqliteWriteGate(None))
    statements = []
    event.listen(any_database.engine, "before_cursor_execute",
                 lambda _c, _cursor, sql, *_rest: statements.append(sql))
    items = [NewResponse.of(survey, {"nps": n % 11}, attributes={"n": str(n)},
                            idempotency_key=f"k{n}" if n % 3 == 0 else None)
             for n in range(30)]
    results, errors = held_batch(group, record(survey, "leader"), items,
                                 run=partial(group.run_together, store_new_responses))
    assert errors == [None] * 31
    inserts = [sql for sql in statements if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 3  # the leader's, then the batch's keyless and keyed rows
    with any_database.session() as session:
        stored = {row.id: row for row in session.scalars(select(Response))}
    for item, recorded in zip(items, results[1:], strict=True):
        assert recorded.created
        row = stored[recorded.id]
        assert (row.attributes, row.answers) == (item.attributes, item.answers)
        assert row.idempotency_key == item.idempotency_key
    assert len({r.id for r in results}) == 31 == len(stored)


def test_a_repeated_key_in_one_batch_is_stored_once(any_database):
    """The same key twice in a batch, and a key stored before: each repeat gets the
    first id (created False), a repeat with another body its IdempotencyConflict."""
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    survey = survey_of(any_database, seeded)
    group = GroupCommit(any_database, SqliteWriteGate(None))
    first = group.run_together(store_new_responses, NewResponse.of(
        survey, {"nps": 1}, idempotency_key="old", request_hash="h-old"))
    items = [
        NewResponse.of(survey, {"nps": 2}, idempotency_key="twice", request_hash="h2"),
        NewResponse.of(survey, {"nps": 2}, idempotency_key="twice", request_hash="h2"),
        NewResponse.of(survey, {"nps": 1}, idempotency_key="old", request_hash="h-old"),
        NewResponse.of(survey, {"nps": 9}, idempotency_key="old", request_hash="other"),
        NewResponse.of(survey, {"nps": 3}),
    ]
    results, errors = held_batch(group, record(survey, "leader"), items,
                                 run=partial(group.run_together, store_new_responses))
    assert isinstance(errors[4], responses.IdempotencyConflict)
    twice, again, old = results[1], results[2], results[3]
    assert twice.created and not again.created and again.id == twice.id
    assert not old.created and old.id == first.id
    assert results[5].created
    with any_database.session() as session:
        keys = sorted(str(key) for key in session.scalars(select(Response.idempotency_key)))
    assert keys == ["None", "leader", "old", "twice"]  # the keyless answer stored too


def test_concurrent_posts_are_stored_once_and_acknowledged_after_commit(
    any_database, config: Config
):
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    app = create_app(config, any_database, log_stream=None)
    reader = Database(any_database.url)  # its own connections: sees only committed rows

    def client(number: int) -> list[int]:
        ids = []
        for attempt in range(8):
            answer = post(base_url, seeded, f"c{number}-{attempt}")
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
            with reader.session() as session:  # acknowledged, so committed already
                assert session.get(Response, ids[-1]) is not None
        return ids

    with serve_in_thread(app) as base_url, ThreadPoolExecutor(16) as pool:
        ids = [i for batch in pool.map(client, range(16)) for i in batch]
    reader.dispose()
    assert len(set(ids)) == len(ids) == 128
    assert len(set(stored_keys(any_database))) == len(stored_keys(any_database)) == 128
    assert app.context.group_commit.jobs == 128


def test_idempotent_retries_under_group_commit_store_one_row(any_database, config: Config):
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    app = create_app(config, any_database, log_stream=None)
    with serve_in_thread(app) as base_url, ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: post(base_url, seeded, "same-key"), range(48)))
    assert sorted({a.status_code for a in answers}) == [200, 201]
    assert sum(a.status_code == 201 for a in answers) == 1
    assert len({a.json()["id"] for a in answers}) == 1
    assert stored_keys(any_database) == ["same-key"]


def test_a_failing_commit_answers_503_to_every_waiter_and_stores_nothing(
    any_database, config: Config
):
    seeded = publish_survey_with_key(any_database, "acme", PULSE)
    app = create_app(config, any_database, log_stream=None)
    failing = threading.Event()
    failing.set()

    @event.listens_for(any_database.engine, "commit")
    def refuse(_connection):
        if failing.is_set():
            raise OperationalError("COMMIT", None, sqlite3.OperationalError("disk I/O error"))

    with serve_in_thread(app) as base_url, ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: post(base_url, seeded, f"f{n}"), range(32)))
        assert {a.status_code for a in answers} == {503}
        assert {a.headers["Retry-After"] for a in answers} == {"1"}
        failing.clear()  # the database recovers: so does the server, and a retry stores
        assert stored_keys(any_database) == []
        assert post(base_url, seeded, "f0").status_code == 201
    assert stored_keys(any_database) == ["f0"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_mid_load_loses_no_acknowledged_answer(
    backend, request, environ: dict[str, str], tmp_path: Path
):
    if backend == "postgresql":
        environ = {**environ, "CXLAB_DATABASE_URL": request.getfixturevalue("postgres_url")}
    database = Database(Config.from_environ(environ).database_url)
    database.migrate()
    seeded = publish_survey_with_key(database, "acme", PULSE)
    server = start_server(environ, tmp_path / "server.log", workers=2, threads=4)
    server.wait_healthy()
    acknowledged: dict[str, int] = {}
    stop = threading.Event()

    def client(number: int) -> None:
        attempt = 0
        while not stop.is_set():
            key = f"k{number}-{attempt}"
            attempt += 1
            try:
                answer = post(server.base_url, seeded, key)
            except requests.RequestException:
                continue  # the server is gone: unacknowledged, may or may not be stored
            if answer.status_code == 201:
                acknowledged[key] = answer.json()["id"]

    clients = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for thread in clients:
        thread.start()
    try:
        wait_until(lambda: len(acknowledged) >= 200, "answers under load")
        workers = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        for pid in [int(pid) for pid in workers.read_text().split()]:
            with contextlib.suppress(ProcessLookupError):  # workers first, mid-request
                os.kill(pid, signal.SIGKILL)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(DEADLINE)
    finally:
        stop.set()
        for thread in clients:
            thread.join(DEADLINE)
        server.stop()
    with database.session() as session:
        rows = {re.sub(r"^api:\d+:", "", key): row_id for key, row_id in
                session.execute(select(Response.idempotency_key, Response.id))}
        total = session.scalar(select(func.count()).select_from(Response))
    database.dispose()
    assert len(acknowledged) >= 200
    assert {key: rows.get(key) for key in acknowledged} == acknowledged
    assert total == len(rows)  # no key stored twice



def test_the_cli_serves_with_the_servers_thread_count():
    from cxlab.cli.serve import serve_surveys

    from survey_server.serve import THREADS_PER_WORKER

    threads = next(p for p in serve_surveys.params if p.name == "threads")
    assert threads.default == THREADS_PER_WORKER > 2  # more than 2, or batches never form
