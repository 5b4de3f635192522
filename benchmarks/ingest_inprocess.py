"""Survey server ingestion in-process: answers/s and server CPU per answer through the
WSGI callable, without HTTP, beside a hello-world Bottle app called the same way.

Builds the app as a granian worker does (``create_app`` with prometheus-client's
multiprocess metrics, the access log to its daily file and to a stream), forks
``--processes`` workers (2, as ``cxlab serve surveys``) and has ``--threads`` threads in
each call it with prepared WSGI environs for ``--seconds``: the JSON API POST (no
idempotency key, as benchmarks/ingest.py sends it), the same with a distinct
``Idempotency-Key`` each, and the HTML form's final page (a distinct signed nonce
each). The hello-world app (benchmarks/hello_app.py) runs in the same processes and
threads, so the ratio shows cxlab's own cost, and the CPU per answer (user + system
time of the workers) is less sensitive to foreign load than the HTTP benchmark's rates.
With ``--postgres`` (default $CXLAB_TEST_POSTGRES_URL) it runs on PostgreSQL too, in a
private schema.

``--profile api|form`` instead runs one thread and prints the median time of each part
of a request's path (routing, authorisation, JSON, validation, storing, access log and
metrics), each part's function wrapped by a timer.

    .venv/bin/python benchmarks/ingest_inprocess.py
    .venv/bin/python benchmarks/ingest_inprocess.py --profile api --seconds 5
"""

from __future__ import annotations

import argparse
import functools
import importlib
import io
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from itertools import count
from pathlib import Path

from cxlab.config import Config
from cxlab.db import Database
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ingest import API_BODY, QUICK  # noqa: E402 - the same survey and body as over HTTP

FORM_FIELDS = ("&page=0&nps=8&food=4&purpose=lunch&heard=sns"
               "&comment=%E7%BE%8E%E5%91%B3%E3%81%97%E3%81%84")
# (part, module, attribute path): each part of the path whose time --profile takes, by
# wrapping that function. Parts nest; a name missing from the code under test is skipped.
PROFILE_PARTS = (
    ("Bottle: routing, plugins and the view", "bottle", "Bottle._handle"),
    ("  API key and survey lookup", "survey_server.api", "ResponsesApi._authorize"),
    ("  JSON body read and parsed", "survey_server.api", "ResponsesApi._read_json"),
    ("  answers validated", "survey_server.api", "ResponsesApi._check_item"),
    ("  form body read and parsed", "survey_server.respondent", "read_form"),
    ("  form nonce checked", "survey_server.tokens", "FormTokens.key_from_nonce"),
    ("  form answers validated", "survey_server.respondent", "validate_answers"),
    ("  form: stored answer looked for (read transaction)", "survey_server.respondent",
     "_Flow._stored"),
    ("  stored: group commit, whole", "survey_server.group_commit", "GroupCommit.run"),
    ("  stored: group commit, whole", "survey_server.group_commit",
     "GroupCommit.run_together"),
    ("    of which the transaction (write gate, statements, commit)",
     "survey_server.group_commit", "GroupCommit._transaction"),
    ("  JSON response built", "survey_server.api", "json_response"),
    ("  thank-you page", "survey_server.respondent", "_Flow.thanks"),
    ("access-log line and request metrics", "survey_server.app", "SurveyServer._account"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="per measurement")
    parser.add_argument("--threads", type=int, default=8, help="as a granian worker's")
    parser.add_argument("--processes", type=int, default=2,
                        help="worker processes, forked like granian's, on one database")
    parser.add_argument("--postgres", default=os.environ.get("CXLAB_TEST_POSTGRES_URL"))
    parser.add_argument("--profile", choices=("api", "form"), default=None)
    parser.add_argument("--profile-postgres", action="store_true",
                        help="profile on --postgres instead of SQLite")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # prometheus-client picks its multiprocess value class from this variable, as
        # in a granian worker (survey_server.serve.load_app).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(folder) / "metrics")
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
        from prometheus_client import values

        values.ValueClass = values.get_value_class()
        environ = {"CXLAB_VAR_DIR": folder, "CXLAB_ENV": "test"}
        if options.profile and options.profile_postgres:
            with postgres_schema(options.postgres) as url:
                bench = Bench({**environ, "CXLAB_DATABASE_URL": url}, folder)
                profile(bench, options)
                bench.database.dispose()
            return
        if options.profile:
            profile(Bench(environ, folder), options)
            return
        print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores; "
              f"{options.processes} processes × {options.threads} threads, "
              f"{options.seconds:g} s each")
        print("| backend | run | answers/s | CPU ms/answer | vs hello | statuses "
              "| answers per commit |")
        print("|---|---|---|---|---|---|---|")
        report(Bench(environ, folder), "SQLite", options, form=True)
        if options.postgres:
            with postgres_schema(options.postgres) as url:
                bench = Bench({**environ, "CXLAB_DATABASE_URL": url}, folder)
                report(bench, "PostgreSQL", options, form=True)
                bench.database.dispose()
        print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")


class Bench:
    """One survey server app on a seeded database, and the environs to call it with."""

    def __init__(self, environ: dict[str, str], folder: str) -> None:
        from survey_server.app import create_app
        from survey_server.testing import publish_survey_with_key
        from survey_server.tokens import FormTokens

        self.config = Config.from_environ(environ)
        self.database = Database(self.config.database_url,
                                 timeout_seconds=self.config.db_timeout_seconds)
        self.database.migrate()
        self.seeded = publish_survey_with_key(self.database, f"bench{secrets.token_hex(2)}", QUICK)
        # The access log goes to its file and to a stream, as under granian (stdout).
        self.log_stream = open(os.devnull, "w")  # noqa: SIM115 - closed by the process
        self.app = create_app(self.config, self.database, log_stream=self.log_stream,
                              metrics_dir=os.environ["PROMETHEUS_MULTIPROC_DIR"])
        self.tokens = FormTokens(self.config.secret_key, resume_days=self.config.resume_days)
        self.numbers = count()
        self.api_body = json.dumps(API_BODY, ensure_ascii=False).encode()

    def api(self, keyed: bool = False) -> dict:
        path = f"/api/v1/surveys/{self.seeded.survey_id}/responses"
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.seeded.api_key}"}
        if keyed:
            headers["HTTP_IDEMPOTENCY_KEY"] = f"bench-{os.getpid()}-{next(self.numbers)}"
        return wsgi_environ("POST", path, self.api_body, "application/json", headers)

    def form(self) -> dict:
        key = f"form-bench-{os.getpid()}-{next(self.numbers)}"  # distinct in every worker
        nonce = self.tokens.nonce(self.seeded.survey_id, key)
        body = f"nonce={nonce}{FORM_FIELDS}".encode()
        return wsgi_environ("POST", f"/s/{self.seeded.tenant_slug}/quick",
                            body, "application/x-www-form-urlencoded", {},
                            query="store=shibuya-01")

    @property
    def batches(self) -> tuple[int, int]:
        group = self.app.context.group_commit
        return group.batches, group.jobs


def wsgi_environ(method: str, path: str, body: bytes, content_type: str,
                 headers: dict[str, str], query: str = "") -> dict:
    """What granian hands the app for one request."""
    return {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SCRIPT_NAME": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8080", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        **headers,
    }


def call(app, environ: dict) -> int:
    """One request through ``app``: its status, once the body is consumed and closed."""
    status = []
    body = app(environ, lambda line, headers, exc_info=None: status.append(line))
    for _block in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return int(status[0][:3])


def drive(app, make_environ: Callable[[], dict], threads: int, seconds: float) -> dict:
    """``threads`` threads calling ``app`` for ``seconds``: rate, CPU per call, statuses."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def loop() -> None:
        mine: Counter[int] = Counter()
        while time.perf_counter() < stop:
            mine[call(app, make_environ())] += 1
        with lock:
            statuses.update(mine)

    for _ in range(50):  # warm: templates compiled, lookups cached, pool filled
        call(app, make_environ())
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"statuses": statuses, "cpu": cpu, "wall": wall}


def measure(bench: Bench, app, make_environ: Callable[[], dict], options) -> dict:
    """``options.processes`` worker processes (forked, as granian's are) each driving
    ``app`` with ``options.threads`` threads: accepted answers/s of them all, CPU per
    call, statuses, and the group commit's answers per transaction."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def worker() -> None:
        bench.database.engine.dispose(close=False)  # a worker's own connections
        before = bench.batches
        run = drive(app, make_environ, options.threads, options.seconds)
        batches, jobs = (now - then for now, then in zip(bench.batches, before, strict=True))
        results.put({**run, "batches": batches, "jobs": jobs})

    workers = [context.Process(target=worker) for _ in range(options.processes)]
    for process in workers:
        process.start()
    runs = [results.get() for _ in workers]
    for process in workers:
        process.join()
    statuses = sum((run["statuses"] for run in runs), Counter())
    done = sum(statuses.values())
    accepted = sum(n for status, n in statuses.items() if 200 <= status < 300)
    batches = sum(run["batches"] for run in runs)
    return {"rate": accepted / max(run["wall"] for run in runs),
            "cpu_ms": 1000 * sum(run["cpu"] for run in runs) / max(1, done),
            "statuses": dict(statuses),
            "per_commit": sum(run["jobs"] for run in runs) / batches if batches else None}


def report(bench: Bench, backend: str, options, *, form: bool) -> None:
    from hello_app import app as hello_app

    def hello() -> dict:
        return wsgi_environ("POST", "/hello", bench.api_body, "application/json", {})

    runs = [("hello-world Bottle", hello_app, hello),
            ("JSON API POST, no key", bench.app, bench.api),
            ("JSON API POST, Idempotency-Key", bench.app, lambda: bench.api(keyed=True))]
    if form:
        runs.append(("HTML form POST (final page)", bench.app, bench.form))
    baseline = None
    for name, app, make in runs:
        result = measure(bench, app, make, options)
        baseline = baseline or result["rate"]
        per_commit = f"{result['per_commit']:.1f}" if result["per_commit"] else "–"
        print(f"| {backend} | {name} | {result['rate']:,.0f} | {result['cpu_ms']:.3f} "
              f"| {result['rate'] / baseline:.2f}× | {result['statuses']} | {per_commit} |",
              flush=True)


def profile(bench: Bench, options) -> None:
    """One thread: the median time of each part of a request's path, in microseconds.

    Each part's function is wrapped by a timer (a profiler's per-call overhead would
    swamp parts this small); medians, so a moment descheduled by other load does not
    count. Parts nest, so they do not add up to the whole.
    """
    make = bench.api if options.profile == "api" else bench.form
    timings: dict[str, list[float]] = {}
    for label, module, path in PROFILE_PARTS:
        _time_calls(timings, label, importlib.import_module(module), path)
    for _ in range(200):
        call(bench.app, make())
    timings.clear()
    whole, stop = [], time.perf_counter() + options.seconds
    while time.perf_counter() < stop:
        environ = make()
        started = time.perf_counter()
        call(bench.app, environ)
        whole.append(time.perf_counter() - started)
    total = statistics.median(whole)
    print(f"{len(whole)} {options.profile} requests, one thread; median µs per request\n")
    print("| part | µs | share |")
    print("|---|---|---|")
    print(f"| whole request (the WSGI call) | {1e6 * total:.1f} | 100% |")
    for label in dict.fromkeys(label for label, _module, _path in PROFILE_PARTS):
        if timings.get(label):
            part = statistics.median(timings[label])
            print(f"| {label} | {1e6 * part:.1f} | {part / total:.0%} |")


def _time_calls(timings: dict[str, list[float]], label: str, module, path: str) -> None:
    """Wrap ``module.path`` (``Class.method`` or a function) so each call's duration
    is appended to ``timings[label]``; nothing when the code has no such name."""
    owner_name, _, name = path.rpartition(".")
    owner = getattr(module, owner_name) if owner_name else module
    raw = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name, None)
    if raw is None:
        return
    original = raw.__func__ if isinstance(raw, staticmethod) else raw

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timings.setdefault(label, []).append(time.perf_counter() - started)

    setattr(owner, name, staticmethod(timed) if isinstance(raw, staticmethod) else timed)


class postgres_schema:
    """A private schema on ``admin_url`` for the length of a ``with``; its URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.schema = f"cxlab_bench_{secrets.token_hex(4)}"
        self.admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))

    def __enter__(self) -> str:
        with self.admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {self.schema}"))
        separator = "&" if "?" in self.admin_url else "?"
        return f"{self.admin_url}{separator}options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_exc) -> None:
        with self.admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
        self.admin.dispose()


if __name__ == "__main__":
    main()
