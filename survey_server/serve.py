"""Run the survey server under granian's WSGI interface (what ``cxlab serve surveys`` calls).

Granian's Rust front end reads requests and writes responses, so a slow client holds
no Python thread; each worker process runs the Bottle app in a few blocking threads.

>>> options = granian_options("127.0.0.1", 8080, workers=2, threads=2)
>>> options["address"], options["port"], options["workers"], options["blocking_threads"]
('127.0.0.1', 8080, 2, 2)
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
from functools import partial
from pathlib import Path
from typing import Any

from cxlab.config import Config
from cxlab.db import Database
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import Server

# Python threads per worker process that run the app. Several, so one long streamed
# export never stops a worker from taking answers, and so answers arriving together
# share a group commit (survey_server/group_commit.py): with 2 threads they hardly ever
# do, with 8 a busy worker commits 2-3 answers per transaction and spends less CPU per
# answer (benchmarks/RESULTS.md has the measurements).
THREADS_PER_WORKER = 8
# A worker that has not stopped this long after SIGTERM is killed.
GRACEFUL_SECONDS = 10
# A client must send its request headers within this time (slow-loris defence; the
# connection holds no Python thread meanwhile, only a little memory in Rust).
HEADER_READ_MS = 10_000
_PR_SET_PDEATHSIG = 1


def run(
    config: Config,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 2,
    reload: bool = False,
    *,
    threads: int = THREADS_PER_WORKER,
) -> None:
    """Migrate the database, then serve until stopped (SIGINT/SIGTERM end it cleanly).

    Bound to 127.0.0.1 by default: put a reverse proxy (TLS) in front in production.
    ``reload`` restarts workers when the code changes (development only).
    """
    database = Database(config.database_url)
    database.migrate()
    database.dispose()  # the master never queries; each worker opens its own pool
    metrics_dir = metrics_directory(config)
    # prometheus-client switches to its multiprocess mode on this variable; the workers
    # inherit it from this process.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    server = Server(
        "survey_server.app:create_app",  # only a name for logs: the loader below builds it
        **granian_options(host, port, workers, threads),
        reload=reload,
        reload_paths=[Path(__file__).resolve().parents[1]] if reload else None,
    )
    loader = partial(load_app, config, str(metrics_dir), os.getpid())
    server.serve(target_loader=loader, wrap_loader=False)


def granian_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Granian's settings for the survey server (see docs/survey_server.md)."""
    return {
        "address": host,
        "port": port,
        "interface": Interfaces.WSGI,
        "workers": workers,
        "blocking_threads": threads,
        # Requests queued per worker beyond its busy threads before granian answers 503
        # itself; enough to absorb bursts without unbounded queueing.
        "backpressure": max(64, threads * 32),
        "http1_settings": HTTP1Settings(header_read_timeout=HEADER_READ_MS),
        "log_access": False,  # the app writes its own JSON access log
        "workers_kill_timeout": GRACEFUL_SECONDS,
    }


def metrics_directory(config: Config) -> Path:
    """A fresh directory for the workers' metric files (stale ones would be summed in)."""
    path = config.var_dir / "metrics" / "survey_server"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def load_app(config: Config, metrics_dir: str, master_pid: int):
    """Build the app in a worker process (granian calls this once per worker)."""
    die_with_parent(master_pid)
    # If prometheus_client was imported before the variable was set (e.g. by the CLI),
    # its value class was chosen for a single process: choose again in the worker.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    from survey_server.app import create_app

    return create_app(config, metrics_dir=metrics_dir)


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux).

    Without it, workers orphaned by a ``kill -9`` of the master keep the port and serve
    stale code until someone finds them; with it a new server can start at once.
    """
    # A forked worker inherits the master's SIGTERM handler, which only flags the
    # master's own loop: until granian installs the worker's handler, a SIGTERM (this
    # one included) would be swallowed and leave an orphan. The default ends it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "prctl") or libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return  # not Linux: nothing to arm; the master stops workers on a clean exit
    if os.getppid() != parent_pid:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
