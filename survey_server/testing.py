"""Test helpers: serve an app on a loopback port in a thread, or the real server
(granian, :func:`survey_server.serve.run`) in a child process; seed a tenant's survey.

>>> import bottle, requests
>>> hello = bottle.Bottle()
>>> _ = hello.route("/", callback=lambda: "hi")
>>> with serve_in_thread(hello) as base_url:
...     requests.get(base_url + "/").text
'hi'
"""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import bottle
import requests
from cxlab.db import Database
from cxlab.errors import NotFound
from cxlab.surveys.catalog import publish_survey
from cxlab.surveys.definition import SurveyDefinition
from cxlab.tenancy import create_api_key, create_tenant, get_tenant


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default listen backlog of 5 overflowed when a test's 16 clients
    # connected at once, and some connections were reset.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass  # the app writes its own access log


@contextmanager
def serve_in_thread(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port of ``host``; yield its base URL, then stop."""
    server = make_server(host, 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def bound_request(
    url: str, *, body: str = "", accept_language: str = "",
) -> Iterator[bottle.BaseRequest]:
    """Bind Bottle's thread-local request to a made-up one for ``url`` (``body``: a
    urlencoded POST), for a doctest of a helper that reads the request; then restore
    whatever request was bound before.

    >>> with bound_request("/s/acme/visit?lang=ja") as request:
    ...     request.path, request.query["lang"]
    ('/s/acme/visit', 'ja')
    """
    parts = urlsplit(url)
    data = body.encode()
    environ = {
        "REQUEST_METHOD": "POST" if body else "GET", "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
        "CONTENT_LENGTH": str(len(data)), "HTTP_ACCEPT_LANGUAGE": accept_language,
    }
    try:
        saved = bottle.request.environ
    except RuntimeError:  # no request bound in this thread yet
        saved = None
    bottle.request.bind(environ)
    try:
        yield bottle.request
    finally:
        if saved is not None:
            bottle.request.bind(saved)


SERVE_COMMAND = (
    "import sys; from cxlab.config import Config; from survey_server.serve import run; "
    "run(Config.from_environ(), port=int(sys.argv[1]), workers=int(sys.argv[2]), "
    "threads=int(sys.argv[3]))"
)


@dataclass
class ServerProcess:
    """The real survey server running in a child process."""

    base_url: str
    port: int
    process: subprocess.Popen
    output: Path  # its stdout and stderr

    def wait_healthy(self, timeout: float = 60) -> None:
        """Return once /healthz answers (any status); fail if the server exits first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{self.base_url}/healthz", timeout=5)
                return
            except (requests.ConnectionError, requests.Timeout):
                pass  # still booting (slowly, on a busy machine)
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.output.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {self.output.read_text()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=timeout)


def loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    environ: Mapping[str, str], output: Path, *, port: int | None = None, workers: int = 1,
    threads: int = 2,
) -> ServerProcess:
    """Start ``cxlab serve surveys`` (via :func:`survey_server.serve.run`) on loopback."""
    port = port or loopback_port()
    log = output.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_COMMAND, str(port), str(workers), str(threads)],
        env={**environ, "PATH": "/usr/bin:/bin"}, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    return ServerProcess(f"http://127.0.0.1:{port}", port, process, output)


@contextmanager
def serve_in_process(
    environ: Mapping[str, str], output: Path, *, workers: int = 1, threads: int = 2
) -> Iterator[ServerProcess]:
    """The real server in a child process, healthy; stopped (SIGTERM) at the end."""
    server = start_server(environ, output, workers=workers, threads=threads)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class SeededSurvey:
    """A tenant with one published survey and one API key (its plaintext)."""

    tenant_slug: str
    tenant_id: int
    survey_slug: str
    survey_id: int
    api_key: str


def seed_survey(
    database: Database, tenant_slug: str, definition: SurveyDefinition, *, status: str = "open"
) -> SeededSurvey:
    """Create tenant ``tenant_slug`` (unless it exists) with ``definition`` published."""
    with database.session() as session:
        try:
            tenant = get_tenant(session, tenant_slug)
        except NotFound:
            tenant = create_tenant(session, tenant_slug, tenant_slug.title())
        survey = publish_survey(session, tenant, definition, status=status)
        _row, api_key = create_api_key(session, tenant, "tests")
        return SeededSurvey(tenant.slug, tenant.id, survey.slug, survey.id, api_key)
