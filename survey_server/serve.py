"""Run the survey server under gunicorn (what ``cxlab serve surveys`` calls).

>>> from cxlab.config import Config
>>> options = gunicorn_options(Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc"}),
...                            "127.0.0.1", 8080, workers=2, reload=False)
>>> options["bind"], options["workers"]
('127.0.0.1:8080', 2)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from cxlab.config import Config
from cxlab.db import Database
from gunicorn.app.base import BaseApplication

WORKER_CLASS = "gthread"
THREADS_PER_WORKER = 4


def run(
    config: Config,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 2,
    reload: bool = False,
    *,
    worker_class: str = WORKER_CLASS,
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
    # prometheus-client switches to its multiprocess mode on this variable; it has to be
    # set before the workers create their metrics.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    options = gunicorn_options(config, host, port, workers, reload)
    options.update(worker_class=worker_class, threads=threads)
    _GunicornServer(config, options, metrics_dir).run()


def metrics_directory(config: Config) -> Path:
    """A fresh directory for the workers' metric files (stale ones would be summed in)."""
    path = config.var_dir / "metrics" / "survey_server"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def gunicorn_options(
    config: Config, host: str, port: int, workers: int, reload: bool
) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads keep slow phones on keep-alive connections from holding a whole worker.
        "worker_class": WORKER_CLASS,
        "threads": THREADS_PER_WORKER,
        "reload": reload,
        "accesslog": None,  # the app writes its own JSON access log
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": 8190,
        "proc_name": "cxlab-survey-server",
        # Gunicorn's control socket lives in one per-user path that several servers on a
        # machine (tests, benchmarks) would fight over; cxlab does not use it.
        "control_socket_disable": True,
        "post_fork": _post_fork,
        "child_exit": _child_exit,
    }


def _post_fork(_server, _worker) -> None:
    # If prometheus_client was imported before the variable was set (e.g. by the CLI),
    # its value class was chosen for a single process: choose again in the worker.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()


def _child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class _GunicornServer(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any], metrics_dir: Path) -> None:
        self.cxlab_config = config
        self.options = options
        self.metrics_dir = metrics_dir
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Imported here, in each worker, so --reload picks up code changes.
        from survey_server.app import create_app

        return create_app(self.cxlab_config, metrics_dir=self.metrics_dir)
