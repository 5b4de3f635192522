"""A full disk (injected): no acknowledged answer lost, no reply dropped, /healthz says
so, and everything recovers by itself when space returns.

The kernel's own ENOSPC comes from /dev/full: the access log's file and the health
probe are pointed there. A full database is SQLite's own: its page limit
(``max_page_count``) is held at the current size, so a new answer needs pages it cannot
get, exactly as on a full file system (SQLITE_FULL).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cxlab.db import Database
from cxlab.db.models import Response
from cxlab.surveys import parse_definition
from sqlalchemy import event, func, select, text

from survey_server.app import create_app
from survey_server.health import PROBE_NAME
from survey_server.testing import publish_survey_with_key, serve_in_process, serve_in_thread

ONE_PAGE = parse_definition({
    "slug": "quick", "title": "Quick",
    "questions": [
        {"id": "nps", "type": "nps", "required": True, "label": "Recommend?"},
        {"id": "comment", "type": "text", "label": "Comment"},
    ],
})
LONG = "あ" * 4900  # about 15 KB: needs new database pages


def count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Response))


def point_at_dev_full(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to("/dev/full")


def test_a_full_log_disk_drops_no_reply_and_loses_no_answer(environ, database, var_dir, tmp_path):
    acme = publish_survey_with_key(database, "acme", ONE_PAGE)
    today = datetime.now(UTC)
    logs = [var_dir / "logs" / f"access-{(today + timedelta(days=d)):%Y-%m-%d}.jsonl"
            for d in (0, 1)]  # today's and, should the test cross midnight, tomorrow's
    point_at_dev_full(*logs, var_dir / PROBE_NAME)
    metrics_token = "disk-full-metrics-" + "t" * 24  # /metrics answers only with it
    with serve_in_process({**environ, "CXLAB_METRICS_TOKEN": metrics_token},
                          tmp_path / "server.log", workers=2) as server:
        url = f"{server.base_url}/api/v1/surveys/{acme.survey_id}/responses"
        headers = {"Authorization": f"Bearer {acme.api_key}"}

        def send(number: int) -> tuple[int, str]:
            # A fresh connection each: a dropped reply would be a ConnectionError here.
            answer = requests.post(url, headers=headers, timeout=30, json={
                "answers": {"nps": number % 11}, "idempotency_key": f"k{number}"})
            return answer.status_code, answer.json()["id"]

        with ThreadPoolExecutor(4) as pool:
            sent = list(pool.map(send, range(30)))
        assert {status for status, _ in sent} == {201}
        assert count(database) == 30  # every acknowledged answer is stored
        page = requests.get(f"{server.base_url}/s/acme/quick", timeout=30)
        assert page.status_code == 200 and "</html>" in page.text
        export = requests.get(url, headers=headers, params={"format": "jsonl"}, timeout=30)
        assert len(export.text.splitlines()) == 30
        sick = requests.get(f"{server.base_url}/healthz", timeout=30)
        assert sick.status_code == 503
        assert "cannot write" in sick.json()["reason"]
        assert "No space left on device" in sick.json()["reason"]
        metrics = requests.get(f"{server.base_url}/metrics", timeout=30,
                               headers={"Authorization": f"Bearer {metrics_token}"}).text
        unaccounted = re.search(r"^cxlab_http_unaccounted_total ([\d.]+)$", metrics, re.M)
        assert unaccounted and float(unaccounted.group(1)) >= 30  # counted, not silent

        for path in (*logs, var_dir / PROBE_NAME):  # space returns
            path.unlink()
        assert requests.get(f"{server.base_url}/healthz", timeout=30).status_code == 200
        # Each worker reopens its log on the next line: within a few requests both do.
        again = [send(number) for number in range(30, 40)]
        assert {status for status, _ in again} == {201}
        # Resending with the same keys stores nothing twice.
        assert [send(number) for number in range(40)] == [(200, i) for _, i in sent + again]
    assert count(database) == 40
    lines = [json.loads(line) for line in logs[0].read_text().splitlines()]
    assert sum(1 for line in lines if line["status"] == 201) > 0
    assert "access log not written" in server.output.read_text()


def test_an_answer_that_cannot_be_stored_gets_a_clean_503_then_is_stored_once(config):
    database = Database(config.database_url)
    database.migrate()
    acme = publish_survey_with_key(database, "acme", ONE_PAGE)
    limit: dict[str, int | None] = {"pages": None}

    @event.listens_for(database.engine, "checkout")
    def hold_the_size(dbapi_connection, _record, _proxy):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {limit['pages'] or 1073741823}")
        cursor.close()

    with database.engine.connect() as connection:
        limit["pages"] = connection.execute(text("PRAGMA page_count")).scalar()
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses"
        headers = {"Authorization": f"Bearer {acme.api_key}"}

        def send(number: int) -> requests.Response:
            return requests.post(url, headers=headers, timeout=30, json={
                "answers": {"nps": 7, "comment": LONG}, "idempotency_key": f"k{number}"})

        refused = [send(number) for number in range(10)]
        assert {answer.status_code for answer in refused} == {503}
        assert {answer.headers["Retry-After"] for answer in refused} == {"1"}
        assert refused[0].json()["errors"][0]["message"].endswith("retry")
        form = requests.get(f"{base_url}/s/acme/quick?lang=en", timeout=30)
        nonce = form.text.split('name="nonce" value="', 1)[1].split('"', 1)[0]
        answer = requests.post(f"{base_url}/s/acme/quick?lang=en", timeout=30,
                               data={"nonce": nonce, "nps": "8", "comment": LONG})
        assert answer.status_code == 503 and "<html" in answer.text
        assert count(database) == 0

        limit["pages"] = None  # space returns
        assert {send(number).status_code for number in range(10)} == {201}
        assert {send(number).status_code for number in range(10)} == {200}
    assert count(database) == 10
    database.dispose()
