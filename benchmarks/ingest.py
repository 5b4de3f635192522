"""Survey server speed: JSON API and HTML form ingestion, and a 1M-row CSV export.

Starts the real server (granian WSGI, 2 workers × 8 blocking threads, SQLite) and, on
the same granian settings, a hello-world Bottle app (benchmarks/hello_app.py) as the
baseline; drives both with wrk on loopback; prints accepted responses/s, p50/p99
latency, errors, the ratio to hello-world, and checks that the database holds every
acknowledged response. Then fills the survey to --export-rows responses, streams them
as CSV while sampling the server processes' memory (RSS), and measures the JSON API
again while such an export streams. With --postgres (default $CXLAB_TEST_POSTGRES_URL)
the JSON API is measured on PostgreSQL too.

    apt-get install -y wrk
    .venv/bin/python benchmarks/ingest.py            # about 3 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Response
from cxlab.surveys import parse_definition
from sqlalchemy import create_engine, func, select, text
from wrk import rss_mb, run_wrk, server_pids

from survey_server.serve import THREADS_PER_WORKER, granian_options
from survey_server.testing import publish_survey_with_key
from survey_server.tokens import FormTokens

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICK = parse_definition({
    "slug": "quick", "title": "Quick",
    "attributes": [{"name": "store", "from_query": True}],
    "questions": [
        {"id": "nps", "type": "nps", "required": True, "label": "Recommend?"},
        {"id": "food", "type": "rating", "scale": 5, "label": "Food"},
        {"id": "purpose", "type": "single", "options": ["lunch", "dinner"], "label": "Why"},
        {"id": "heard", "type": "multi", "options": ["sns", "friend"], "label": "Heard"},
        {"id": "comment", "type": "text", "label": "Comment"},
    ],
})
API_BODY = {"answers": {"nps": 9, "food": 4, "purpose": "lunch", "heard": ["sns"],
                        "comment": "美味しかった"}, "attributes": {"store": "shibuya-01"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=THREADS_PER_WORKER,
                        help="granian blocking threads per worker (2 workers)")
    parser.add_argument(
        "--postgres", default=os.environ.get("CXLAB_TEST_POSTGRES_URL"),
        help="also measure the JSON API on this PostgreSQL (default: "
             "$CXLAB_TEST_POSTGRES_URL; a private schema is created and dropped)")
    parser.add_argument(
        "--compare-threads", default=None,
        help="compare blocking-thread counts instead of the full run: comma-separated, "
             "e.g. 1,2,4 (hello-world, JSON API and form for each, back to back)")
    options = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    print(f"load before the run: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        environ = {"CXLAB_VAR_DIR": folder, "CXLAB_ENV": "test",
                   "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        config = Config.from_environ(environ)
        database = Database(config.database_url)
        database.migrate()
        seeded = publish_survey_with_key(database, "bench", QUICK)
        survey_url = f"/api/v1/surveys/{seeded.survey_id}/responses"
        auth = f"Authorization: Bearer {seeded.api_key}"
        if options.compare_threads:
            compare_threads(wrk, options, environ, folder, config, seeded)
            return
        report = {}
        run = partial(run_wrk, wrk, options)
        with granian_server(environ, survey=False, threads=options.threads) as hello_base:
            report["hello"] = run(hello_base + "/hello", folder, body=API_BODY)
        with granian_server(environ, survey=True, threads=options.threads) as base:
            report["api"] = run(base + survey_url, folder, body=API_BODY, header=auth)
            report["api_1000"] = run(base + survey_url, folder, body=API_BODY, header=auth,
                                     connections=10, delay_ms=10)
            form_bodies = write_form_bodies(folder, config, seeded.survey_id, 100_000)
            report["form"] = run(base + "/s/bench/quick?store=shibuya-01", folder,
                                 bodies_file=form_bodies)
            rows = count_rows(database, seeded.survey_id)
            acknowledged = sum(report[k]["ok"] for k in ("api", "api_1000", "form"))
            report["rows"] = {"acknowledged": acknowledged, "stored": rows,
                              "lost": max(0, acknowledged - rows)}
            if options.export_rows:
                fill(config, seeded, options.export_rows - rows)
                report["export"] = export_csv(base + survey_url, seeded.api_key, base)
                # Answers while a big export streams: the export holds one of a
                # worker's blocking threads for its whole length.
                exporting = threading.Thread(
                    target=export_csv, args=(base + survey_url, seeded.api_key, base))
                exporting.start()
                report["api_export"] = run(base + survey_url, folder, body=API_BODY,
                                           header=auth)
                exporting.join()
        if options.postgres:
            report["pg"] = postgres_run(run, options.postgres, environ, folder)
        print_report(report, options)
        print(f"load after the run: {os.getloadavg()[0]:.2f} (1 min)")


def postgres_run(run, admin_url: str, environ: dict, folder: str) -> dict:
    """The JSON API on PostgreSQL, in a private schema dropped afterwards."""
    schema = f"cxlab_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        separator = "&" if "?" in admin_url else "?"
        url = f"{admin_url}{separator}options=-csearch_path%3D{schema}"
        pg_environ = {**environ, "CXLAB_DATABASE_URL": url}
        database = Database(Config.from_environ(pg_environ).database_url)
        database.migrate()
        seeded = publish_survey_with_key(database, "bench", QUICK)
        with granian_server(pg_environ, survey=True) as base:
            result = run(base + f"/api/v1/surveys/{seeded.survey_id}/responses", folder,
                         body=API_BODY, header=f"Authorization: Bearer {seeded.api_key}")
        with database.session() as session:
            result["stored"] = session.scalar(select(func.count()).select_from(Response))
        database.dispose()
        return result
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def compare_threads(wrk, options, environ, folder, config, seeded) -> None:
    """Hello-world, JSON API and form for each blocking-thread count, as one table."""
    survey_url = f"/api/v1/surveys/{seeded.survey_id}/responses"
    auth = f"Authorization: Bearer {seeded.api_key}"
    form_bodies = write_form_bodies(folder, config, seeded.survey_id, 100_000)
    run = partial(run_wrk, wrk, options)
    print(f"wrk: 2 threads, {options.connections} connections, {options.duration}s per run\n")
    print("| granian, 2 workers × threads | hello/s | JSON API/s | p50/p99 ms | form/s "
          "| p50/p99 ms | API vs hello | server CPU ms/req hello, API, form | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for threads in (int(value) for value in options.compare_threads.split(",")):
        with granian_server(environ, survey=False, threads=threads) as hello_base:
            hello = run(hello_base + "/hello", folder, body=API_BODY)
        with granian_server(environ, survey=True, threads=threads) as base:
            api = run(base + survey_url, folder, body=API_BODY, header=auth)
            form = run(base + "/s/bench/quick?store=shibuya-01", folder,
                       bodies_file=form_bodies)
        errors = sum(r["non_2xx"] + r["socket_errors"] for r in (hello, api, form))
        print(f"| 2 × {threads} | {hello['rate']:,.0f} | {api['rate']:,.0f} "
              f"| {api['p50_ms']:.1f}/{api['p99_ms']:.1f} | {form['rate']:,.0f} "
              f"| {form['p50_ms']:.1f}/{form['p99_ms']:.1f} "
              f"| {api['rate'] / hello['rate']:.2f}× | {hello['cpu_ms']:.2f}, {api['cpu_ms']:.2f}, "
              f"{form['cpu_ms']:.2f} | {errors} |", flush=True)
    rows = count_rows(Database(config.database_url), seeded.survey_id)
    print(f"\nrows stored {rows:,} (acknowledged counts are per run above)")


class granian_server:
    """The survey server via survey_server.serve.run (what `cxlab serve surveys` runs),
    or the hello app on the same granian settings."""

    def __init__(self, environ: dict, *, survey: bool, threads: int = THREADS_PER_WORKER,
                 workers: int = 2) -> None:
        self.environ = environ
        self.survey = survey
        self.threads = threads
        self.workers = workers

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        if self.survey:
            command = [sys.executable, "-c",
                       "from cxlab.config import Config; from survey_server.serve import run; "
                       f"run(Config.from_environ(), port={self.port}, workers={self.workers}, "
                       f"threads={self.threads})"]
            cwd = ROOT
        else:
            options = granian_options("127.0.0.1", self.port, self.workers, self.threads)
            command = [sys.executable, "-m", "granian", "--interface", "wsgi",
                       "--host", "127.0.0.1", "--port", str(self.port),
                       "--workers", str(self.workers), "--blocking-threads", str(self.threads),
                       "--backpressure", str(options["backpressure"]), "--no-ws",
                       "hello_app:app"]
            cwd = HERE
        self.process = subprocess.Popen(command, env=self.environ, cwd=cwd,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{self.port}"
        # Generous: on a loaded machine importing and migrating took over 30 s.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(base + ("/healthz" if self.survey else "/hello"), timeout=1)
                return base
            except requests.RequestException:  # not listening yet, or still importing
                time.sleep(0.1)
        self.__exit__()
        raise SystemExit("the server did not start")

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def write_form_bodies(folder: str, config: Config, survey_id: int, count: int) -> Path:
    """Form bodies with distinct signed nonces, as a respondent's browser would send."""
    tokens = FormTokens(config.secret_key, resume_days=config.resume_days)
    path = Path(folder) / "forms.txt"
    with path.open("w") as handle:
        for number in range(count):
            nonce = tokens.nonce(survey_id, f"form-bench-{number}")
            handle.write(f"nonce={nonce}&page=0&nps=8&food=4&purpose=lunch&heard=sns"
                         "&comment=%E7%BE%8E%E5%91%B3%E3%81%97%E3%81%84\n")
    return path


def count_rows(database: Database, survey_id: int) -> int:
    with sqlite3.connect(database.engine.url.database) as connection:
        return connection.execute(
            "select count(*) from responses where survey_id = ?", (survey_id,)).fetchone()[0]


def fill(config: Config, seeded, count: int) -> None:
    """Bulk-insert ``count`` complete responses straight into SQLite (export input)."""
    answers = json.dumps(API_BODY["answers"], ensure_ascii=False)
    attributes = json.dumps(API_BODY["attributes"])
    row = (seeded.tenant_id, seeded.survey_id, 1, "complete", "2026-05-01 12:00:00.000000",
           answers, attributes, "2026-05-01 12:00:00.000000")
    with sqlite3.connect(config.database_url.removeprefix("sqlite:///")) as connection:
        connection.executemany(
            "insert into responses (tenant_id, survey_id, survey_version, status, "
            "submitted_at, answers, attributes, created_at) values (?,?,?,?,?,?,?,?)",
            (row for _ in range(count)))


def export_csv(url: str, api_key: str, base: str) -> dict:
    """Stream the CSV export to nowhere while sampling the server processes' RSS."""
    pids = server_pids(base)
    peak = {"rss_mb": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total = max((rss_mb(pid) for pid in pids), default=0.0)
            peak["rss_mb"] = max(peak["rss_mb"], total)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    lines = 0
    with requests.get(url, params={"format": "csv"}, stream=True, timeout=600,
                      headers={"Authorization": f"Bearer {api_key}"}) as response:
        for block in response.iter_content(1 << 16):
            lines += block.count(b"\n")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {"rows": lines - 1, "seconds": seconds, "peak_rss_mb": peak["rss_mb"]}


def print_report(report: dict, options) -> None:
    hello = report["hello"]
    print(f"wrk: 2 threads, {options.connections} connections, {options.duration}s per run\n")
    print("| run | accepted/s | p50 ms | p99 ms | non-2xx | socket errors | vs hello "
          "| server CPU ms/req |")
    print("|---|---|---|---|---|---|---|---|")
    names = {"hello": "hello-world Bottle (baseline)", "api": "JSON API POST, max rate",
             "api_1000": "JSON API POST, paced (10 conns, 10 ms think time)",
             "form": "HTML form POST (final page), max rate",
             "api_export": "JSON API POST while a 1M-row CSV export streams",
             "pg": "JSON API POST on PostgreSQL, max rate"}
    for key, name in names.items():
        if key not in report:
            continue
        run = report[key]
        print(f"| {name} | {run['rate']:,.0f} | {run['p50_ms']:.1f} | {run['p99_ms']:.1f} "
              f"| {run['non_2xx']} | {run['socket_errors']} | "
              f"{run['rate'] / hello['rate']:.2f}× | {run['cpu_ms']:.2f} |")
    rows = report["rows"]
    print(f"\nacknowledged (2xx) {rows['acknowledged']:,}, rows stored {rows['stored']:,}, "
          f"lost {rows['lost']}")
    if "pg" in report:
        pg = report["pg"]
        print(f"PostgreSQL: acknowledged (2xx) {pg['ok']:,}, rows stored {pg['stored']:,}, "
              f"lost {max(0, pg['ok'] - pg['stored'])}")
    if "export" in report:
        export = report["export"]
        print(f"CSV export: {export['rows']:,} rows in {export['seconds']:.1f} s "
              f"({export['rows'] / export['seconds']:,.0f} rows/s), peak RSS of any server "
              f"process {export['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
