"""Operations: /healthz, /metrics, the JSON access log, and serving under granian."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from conftest import free_port
from cxlab.config import Config
from cxlab.db import Database
from cxlab.surveys import EXAMPLES_DIR, load_definition

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
METRICS_TOKEN = "operations-metrics-token-0123456789"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_healthz_checks_the_database(config, database, tmp_path):
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        healthy = requests.get(f"{base_url}/healthz")
        assert healthy.status_code == 200 and healthy.json() == {"status": "ok"}
    unmigrated = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with serve_in_thread(create_app(config, unmigrated, log_stream=None)) as base_url:
        sick = requests.get(f"{base_url}/healthz")
        assert sick.status_code == 503 and "not migrated" in sick.json()["reason"]
    (tmp_path / "a-directory.db").mkdir()  # SQLite cannot open a directory
    unreachable = Database(f"sqlite:///{tmp_path / 'a-directory.db'}")
    with serve_in_thread(create_app(config, unreachable, log_stream=None)) as base_url:
        down = requests.get(f"{base_url}/healthz")
        assert down.status_code == 503 and "unreachable" in down.json()["reason"]


def test_metrics_count_requests_latency_and_accepted_responses(environ, database):
    acme = publish_survey_with_key(database, "acme", VISIT)
    config = Config.from_environ({**environ, "CXLAB_METRICS_TOKEN": METRICS_TOKEN})
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        for nps in (1, 2, 3):
            requests.post(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                          json={"answers": {"nps": nps}},
                          headers={"Authorization": f"Bearer {acme.api_key}"})
        requests.get(f"{base_url}/s/acme/unknown")
        # A request is counted when the server closes its body, just after the client
        # has it: give the last one a moment before reading the counters.
        deadline = time.monotonic() + 5
        while True:
            page = requests.get(f"{base_url}/metrics", headers=METRICS_AUTH)
            if 'status="404"' in page.text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    text = page.text
    assert page.headers["Content-Type"].startswith("text/plain")
    assert 'cxlab_responses_accepted_total{tenant="acme"} 3.0' in text
    assert re.search(r'cxlab_http_requests_total\{method="POST",'
                     r'route="/api/v1/surveys/<survey_id>/responses",status="201"\} 3.0', text)
    assert re.search(r'cxlab_http_requests_total\{method="GET",'
                     r'route="/s/<tenant_slug>/<survey_slug>",status="404"\} 1.0', text)
    assert 'cxlab_http_request_duration_seconds_bucket{le="0.05",' in text


def test_access_log_has_one_json_line_per_request_without_answers_or_secrets(
    config, database
):
    acme = publish_survey_with_key(database, "acme", VISIT)
    secret_comment = "my phone is 090-1234-5678"
    stdout = io.StringIO()
    with serve_in_thread(create_app(config, database, log_stream=stdout)) as base_url:
        created = requests.post(
            f"{base_url}/api/v1/surveys/{acme.survey_id}/responses?token=abc",
            json={"answers": {"nps": 9, "comment": secret_comment}},
            headers={"Authorization": f"Bearer {acme.api_key}",
                     "X-Request-Id": "kiosk-7-req-0001"})
        page = requests.get(f"{base_url}/s/acme/store-visit?store=shibuya-01")
    assert created.headers["X-Request-Id"] == "kiosk-7-req-0001"
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-Id"])
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    path = config.var_dir / "logs" / f"access-{today}.jsonl"
    content = path.read_text()
    lines = [json.loads(line) for line in content.splitlines()]
    assert len(lines) == 2
    api_line, page_line = lines
    assert api_line == {
        "time": api_line["time"], "request_id": "kiosk-7-req-0001", "tenant": "acme",
        "survey": str(acme.survey_id), "route": "/api/v1/surveys/<survey_id>/responses",
        "method": "POST", "status": 201, "duration_ms": api_line["duration_ms"],
        "bytes": len(created.content),
    }
    assert page_line["route"] == "/s/<tenant_slug>/<survey_slug>"
    assert (page_line["tenant"], page_line["survey"]) == ("acme", "store-visit")
    assert page_line["bytes"] == len(page.content) and page_line["duration_ms"] > 0
    for secret in (secret_comment, acme.api_key, "token=abc", "shibuya-01"):
        assert secret not in content
    assert stdout.getvalue() == content  # the same lines on stdout


def test_serve_runs_granian_workers_that_share_metrics(environ, database):
    acme = publish_survey_with_key(database, "acme", VISIT)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c",
         "from cxlab.config import Config; from survey_server.serve import run; "
         f"run(Config.from_environ(), port={port}, workers=2)"],
        env={**environ, "PATH": "/usr/bin:/bin", "CXLAB_METRICS_TOKEN": METRICS_TOKEN},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # still booting (slowly, on a busy machine)
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "granian did not start"
            time.sleep(0.1)

        def send(number: int) -> int:
            return requests.post(
                f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                json={"answers": {"nps": number % 11}, "idempotency_key": f"k{number}"},
                headers={"Authorization": f"Bearer {acme.api_key}"}, timeout=10,
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(send, range(40))) == {201}
        # Whichever worker answers, /metrics sums every worker's counts.
        for _ in range(6):
            text = requests.get(f"{base_url}/metrics", headers=METRICS_AUTH, timeout=5).text
            assert 'cxlab_responses_accepted_total{tenant="acme"} 40.0' in text
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output.decode()
    assert output.count(b"Spawning worker") == 2  # granian's own log
    assert output.count(b'"status":201') == 40  # the app's JSON access log


def test_ingest_and_export_on_sqlite_and_postgresql(any_database, environ):
    config = Config.from_environ({**environ, "CXLAB_DATABASE_URL": any_database.url})
    acme = publish_survey_with_key(any_database, "acme", VISIT)
    with serve_in_thread(create_app(config, any_database, log_stream=None)) as base_url:
        url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses"
        headers = {"Authorization": f"Bearer {acme.api_key}"}
        body = {"answers": {"nps": 7, "heard_from": ["sns"]}, "idempotency_key": "pg-1"}
        first = requests.post(url, json=body, headers=headers)
        again = requests.post(url, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json() == again.json()
        exported = requests.get(url, params={"format": "jsonl"}, headers=headers).text
        assert json.loads(exported)["answers"] == {"nps": 7, "heard_from": ["sns"]}
        assert requests.get(f"{base_url}/healthz").status_code == 200


def test_opt_out_requests_are_logged_with_the_tenant_slug(config, database):
    from cxlab.mail import opt_out_token

    acme = publish_survey_with_key(database, "acme", VISIT)
    token = opt_out_token(config.secret_key, acme.tenant_id, "ana@example.com")
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        assert requests.get(f"{base_url}/u/{token}").status_code == 200
        assert requests.post(f"{base_url}/u/{token}").status_code == 200
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    path = config.var_dir / "logs" / f"access-{today}.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["route"], line["tenant"]) for line in lines] == [("/u/<token>", "acme")] * 2
