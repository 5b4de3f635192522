"""Shared fixtures: a private var dir and a migrated database per test, on SQLite always
and on PostgreSQL when CXLAB_TEST_POSTGRES_URL is set.

Tests that need a program outside Python call :func:`require` — a skip with the reason
on a machine that lacks it, a failure when CXLAB_REQUIRE_ALL=1 (as in CI).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cxlab.config import Config
from cxlab.db import Database
from sqlalchemy import create_engine, text

POSTGRES_URL = os.environ.get("CXLAB_TEST_POSTGRES_URL")
REQUIRE_ALL = os.environ.get("CXLAB_REQUIRE_ALL") == "1"


def add_users(database: Database, password: str, *users: tuple[str, str, str]) -> None:
    """Create ``(tenant slug, e-mail, role)`` portal users, all with ``password``."""
    from cxlab.tenancy import create_user, get_tenant

    with database.session() as session:
        for tenant, email, role in users:
            create_user(session, get_tenant(session, tenant), email, password, role=role)


def portal_session(base_url: str, email: str, password: str):
    """A requests session signed in to the portal, and the CSRF token of its pages."""
    import html
    import re

    import requests

    def token_of(page: str) -> str:
        return html.unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))

    client = requests.Session()
    token = token_of(client.get(f"{base_url}/portal/login?lang=en", timeout=30).text)
    signed = client.post(f"{base_url}/portal/login?lang=en", allow_redirects=False, timeout=30,
                         data={"email": email, "password": password, "csrf_token": token})
    assert signed.status_code == 303, signed.text
    return client, token_of(client.get(f"{base_url}/portal/?lang=en", timeout=30).text)


def run_cxlab(environ: dict[str, str], cwd: Path, *args: str, expect_ok: bool = True):
    """Run the ``cxlab`` command of this venv in ``cwd``; never a traceback."""
    import sys

    process = subprocess.run([str(Path(sys.executable).with_name("cxlab")), *args], cwd=cwd,
                             capture_output=True, text=True, env={**os.environ, **environ},
                             timeout=180)
    assert "Traceback" not in process.stderr, process.stderr
    assert (process.returncode == 0) == expect_ok, process.stderr
    return process


def require(condition: bool, reason: str) -> None:
    """Skip (or, under CXLAB_REQUIRE_ALL=1, fail) unless ``condition`` holds."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"CXLAB_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


def require_program(name: str) -> str:
    """The path of program ``name`` (e.g. chromium, wrk), or skip/fail saying so."""
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed (apt-get install {name})")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, grace: float = 60.0) -> None:
    """Stop a server a test started: SIGTERM, and SIGKILL if it has not exited after
    ``grace`` seconds (a loaded CI machine can take more than 10 s to stop Voila and its
    kernels; a test must not fail for that)."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def environ(var_dir: Path) -> dict[str, str]:
    """A clean CXLAB_* environment pointing at a private var dir (SQLite).

    Servers look rows up afresh on every request (CXLAB_LOOKUP_TTL=0), so a test can
    close a survey or revoke a key and see the effect at once; caching has its own test.
    A sync renders the static page of the opening view only (each more period costs
    its chart images, each segment its analysis); tests of those pages ask for them.
    """
    return {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_LOOKUP_TTL": "0",
            "CXLAB_DASHBOARD_STATIC_PERIODS": "all", "CXLAB_DASHBOARD_STATIC_SEGMENTS": "0"}


@pytest.fixture
def config(environ: dict[str, str]) -> Config:
    return Config.from_environ(environ)


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    """A migrated SQLite database in the test's var dir."""
    database = Database(config.database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a fresh, empty PostgreSQL schema, dropped afterwards."""
    require(POSTGRES_URL is not None, "CXLAB_TEST_POSTGRES_URL is not set (no PostgreSQL)")
    schema = f"cxlab_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request, config: Config, environ: dict[str, str]) -> Iterator[Database]:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = config.database_url
    else:
        url = Config.from_environ(
            {**environ, "CXLAB_DATABASE_URL": request.getfixturevalue("postgres_url")}
        ).database_url
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A real chat-webhook receiver on loopback; yields its URL and the JSON messages
    it has received so far."""
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass  # keep test output clean

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where browser tests save screenshots: docs/img/ when CXLAB_UPDATE_SCREENSHOTS=1
    (to refresh the pictures in the docs), else a temporary folder, so an ordinary
    test run leaves the working tree clean."""
    if os.environ.get("CXLAB_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[1] / "docs" / "img"
    return tmp_path


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server (moto's server mode, in a thread on a free loopback port) for
    the whole test session, with the usual AWS variables pointing at it, so the store
    reaches it exactly as it reaches AWS: through s3fs and AWS_ENDPOINT_URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "cxlab-test",
                            "AWS_SECRET_ACCESS_KEY": "cxlab-test-secret",
                            "AWS_DEFAULT_REGION": "us-east-1",
                            "AWS_ENDPOINT_URL": endpoint}.items():
            patch.setenv(name, value)
        yield endpoint
    server.stop()


@pytest.fixture
def s3_store_url(s3_endpoint: str) -> str:
    """The URL of an analytic store in a fresh bucket of the local S3 server."""
    import fsspec

    bucket = f"cxlab-{secrets.token_hex(6)}"
    fsspec.filesystem("s3", use_listings_cache=False).mkdir(bucket)
    return f"s3://{bucket}/cxlab"


@pytest.fixture
def s3_config(config: Config, s3_store_url: str) -> Config:
    """The test's configuration with its store on the local S3 server."""
    import dataclasses

    return dataclasses.replace(config, store_url=s3_store_url)
