"""A fresh local stack to measure: a seeded SQLite database and the real survey server
(granian, :func:`survey_server.serve.run`) in a child process on a loopback port.

>>> database_size(Path("/nonexistent/cxlab.db"))
0
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Survey
from cxlab.errors import CxlabError
from cxlab.loadtest.runner import DEFAULT_DEFINITION, Workload, prepare_workload
from cxlab.seed import seed_responses
from cxlab.surveys import load_definition

READY_TIMEOUT_SECONDS = 60
_SERVE = (
    "import sys; from cxlab.config import Config; from survey_server.serve import run; "
    "run(Config.from_environ(), port=int(sys.argv[1]), workers=int(sys.argv[2]))"
)


@dataclass(frozen=True)
class LocalStack:
    url: str
    pid: int
    database_path: Path
    workload: Workload


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_size(path: Path) -> int:
    """Bytes of a SQLite database with its write-ahead log and shared-memory files."""
    files = (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    return sum(candidate.stat().st_size for candidate in files if candidate.exists())


@contextmanager
def local_stack(
    directory: Path,
    *,
    responses: int,
    workers: int = 2,
    definition_path: Path = DEFAULT_DEFINITION,
    seed: int = 0,
) -> Iterator[LocalStack]:
    """Start a stack in ``directory`` (emptied first) seeded with ``responses`` responses;
    yield it; stop the server (SIGTERM, as systemd would) at the end."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    # Lookups cached as in production: the capacity figure is production's, not a test's.
    environ = {"CXLAB_VAR_DIR": str(directory), "CXLAB_ENV": "development"}
    config = Config.from_environ(environ)
    with Database.open(config, must_be_migrated=False) as database:
        database.migrate()
        workload = prepare_workload(database, definition_path=definition_path, seed=seed)
        if responses:
            with database.session() as session:
                survey = session.get(Survey, workload.survey_id)
            seed_responses(database, survey, load_definition(definition_path), responses,
                        seed=seed)
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(port), str(workers)],
        env={**os.environ, **environ}, stdout=subprocess.DEVNULL,
        stderr=(directory / "server.log").open("wb"), start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server)
        yield LocalStack(url, server.pid, directory / "cxlab.db", workload)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_ready(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CxlabError(f"the survey server exited with code {server.returncode}; "
                             "see server.log in the stack's folder")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise CxlabError(f"the survey server did not answer {url}/healthz within "
                     f"{READY_TIMEOUT_SECONDS} s")
