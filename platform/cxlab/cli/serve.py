"""``cxlab serve …``: the long-running processes the Procfile starts."""

from __future__ import annotations

from pathlib import Path

import click

from cxlab.cli.base import load_config
from cxlab.cli.jobs import SCHEDULE_OPTION


@click.group()
def serve() -> None:
    """Run a long-running process (what the Procfile starts)."""


@serve.command("surveys")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; keep loopback behind a reverse proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Python threads per worker that run requests (and share group "
                   "commits; survey_server.serve.THREADS_PER_WORKER).")
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
def serve_surveys(host: str, port: int, workers: int, threads: int, reload: bool) -> None:
    """Serve survey pages, the JSON API, /healthz and /metrics under granian (WSGI).

    Example: cxlab serve surveys --port 8080 --workers 2 --threads 8
    """
    from survey_server.serve import run  # the server stack is only needed here

    run(load_config(), host=host, port=port, workers=workers, threads=threads, reload=reload)


@serve.command("dashboards")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8866, show_default=True)
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder of dashboard notebooks to serve instead of notebooks/dashboards/ "
                   "(the benchmark serves a copy).")
def serve_dashboards_command(host: str, port: int, root: str | None) -> None:
    """Serve notebooks/dashboards/ with Voila; each page needs a token from the portal.

    Example: cxlab serve dashboards --port 8866
    """
    from cxlab.dashboards.hook import DASHBOARDS_DIR, serve_dashboards

    serve_dashboards(load_config(), port=port, host=host,
                     root=Path(root) if root else DASHBOARDS_DIR)


@serve.command("scheduler")
@click.option("--workers", type=click.IntRange(1, 32), default=2, show_default=True,
              help="Tenants of one notebook job run in parallel.")
@SCHEDULE_OPTION
def serve_scheduler_command(workers: int, schedule_path: str | None) -> None:
    """Fire the jobs of scheduled/schedule.yaml (or --schedule FILE) when due, until
    stopped.

    Example: cxlab serve scheduler --workers 4
    """
    from cxlab.jobs import load_schedule, serve_scheduler

    serve_scheduler(load_config(), workers=workers,
                    schedule=load_schedule(schedule_path) if schedule_path else None)
