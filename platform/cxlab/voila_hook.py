"""Serving client dashboards with Voila: a signed token in, one tenant's notebook out.

``serve_dashboards(config)`` runs Voila on ``notebooks/dashboards/`` only, with:

- :func:`prelaunch_hook` as ``VoilaConfiguration.prelaunch_hook``: before a kernel
  starts it verifies the ``token`` query argument (:mod:`cxlab.dashboard_tokens`),
  answers a plain 403 page when it is missing, tampered, expired or for another
  notebook, and injects ``tenant`` and ``survey`` *from the token* (never from the
  query string) with papermill's ``parameterize_notebook``;
- no tree listing, no contents API and no raw file access (those routes answer 404),
  and only ``/voila/render/<name>.ipynb`` of a notebook in that folder is routed;
- tracebacks hidden; Voila's preheating is off (it refuses a prelaunch hook), and
  :class:`cxlab.kernel_pool.WarmKernelManager` keeps started, warmed-up kernels instead.

A refused request, as the hook sees it:

>>> hook = prelaunch_hook("a secret key of some length")
>>> from types import SimpleNamespace
>>> from tornado.web import Finish
>>> sent = {}
>>> request = SimpleNamespace(
...     path_args=["overview.ipynb"], get_query_argument=lambda name, default=None: None,
...     set_status=lambda code: sent.update(status=code), set_header=lambda *a: None,
...     finish=lambda body: sent.update(body=body))
>>> try:
...     hook(request, notebook=None, cwd=".")
... except Finish:
...     pass
>>> sent["status"], "open dashboards from the client portal" in sent["body"]
(403, True)
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import tornado.ioloop
import tornado.web
from papermill.parameterize import parameterize_notebook

from cxlab.charts import LANGUAGES
from cxlab.config import Config
from cxlab.dashboard_tokens import DashboardTokenError, DashboardTokens

DASHBOARDS_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "dashboards"
NOTEBOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.ipynb")
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title></head><body style="font-family: system-ui, sans-serif; margin: 3em">
<h1>{title}</h1><p>{message}</p></body></html>"""


def plain_page(handler: Any, status: int, message: str) -> None:
    """Answer ``status`` with a small HTML page and stop the request (no traceback)."""
    title = "Not allowed" if status == 403 else "Not found"
    handler.set_status(status)
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.set_header("Cache-Control", "no-store")
    handler.finish(PAGE.format(title=title, message=html.escape(message)))
    raise tornado.web.Finish()


def prelaunch_hook(secret_key: str) -> Callable[..., nbformat.NotebookNode]:
    """The ``VoilaConfiguration.prelaunch_hook`` for tokens signed with ``secret_key``.

    Voila calls it as ``hook(handler, notebook=..., cwd=...)`` before it starts a
    kernel; it returns the notebook with an ``injected-parameters`` cell that sets
    ``tenant``, ``survey`` and ``demo_fallback = False`` (a client never sees demo data),
    and ``language`` when the query string asks for "ja" or "en".
    """
    tokens = DashboardTokens(secret_key)

    def hook(handler: Any, notebook: nbformat.NotebookNode, cwd: str) -> nbformat.NotebookNode:
        name = (handler.path_args or [""])[0] if hasattr(handler, "path_args") else ""
        if not NOTEBOOK_NAME.fullmatch(name or ""):
            plain_page(handler, 404, "There is no such dashboard.")
        try:
            grant = tokens.verify(handler.get_query_argument("token", None), name)
        except DashboardTokenError as error:
            plain_page(handler, 403, str(error))
        # parameterize_notebook indexes every cell's metadata.tags and writes
        # metadata.papermill, which a notebook saved outside papermill lacks.
        for cell in notebook.cells:
            cell.metadata.setdefault("tags", [])
        notebook.metadata.setdefault("papermill", {})
        parameters = {"tenant": grant.tenant, "survey": grant.survey or "",
                      "demo_fallback": False}
        # The display language is the one choice the query string may make.
        language = handler.get_query_argument("language", None)
        if language in LANGUAGES:
            parameters["language"] = language
        return parameterize_notebook(notebook, parameters, kernel_name="python3",
                                     language="python")

    return hook


def voila_app_class() -> type:
    """Voila's application with the directory routes a client must not reach removed."""
    from voila.app import Voila
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler

    class NotFoundHandler(tornado.web.RequestHandler):
        def get(self, *_args: str) -> None:
            # The Finish that plain_page raises is how tornado ends a request early.
            plain_page(self, 404, "There is no such page. Open dashboards from the "
                                  "client portal.")

    class DashboardVoila(Voila):
        name = "cxlab-dashboards"

        def init_handlers(self) -> list:
            removed = (TornadoVoilaTreeHandler, VoilaContentsHandler, TornadoVoilaHandler)
            handlers = [route for route in super().init_handlers() if route[1] not in removed
                        and "/voila/files/" not in route[0]]
            render = self.voila_handler_options()
            return [
                (r"/voila/render/([A-Za-z0-9][A-Za-z0-9_-]*\.ipynb)", TornadoVoilaHandler, render),
                (r"/voila/(?:tree|files|render|api/contents)(?:/.*)?", NotFoundHandler),
                (r"/", NotFoundHandler),
                *handlers,
                (r"/(?!voila/|api/|static/|login|logout).*", NotFoundHandler),
            ]

        def voila_handler_options(self) -> dict:
            return {"template_paths": self.template_paths, "config": self.config,
                    "voila_configuration": self.voila_configuration}

    return DashboardVoila


def voila_arguments(port: int, host: str, root: Path = DASHBOARDS_DIR) -> list[str]:
    """The command-line configuration :func:`serve_dashboards` gives Voila."""
    return [
        str(root), "--no-browser", f"--port={port}", f"--Voila.ip={host}",
        "--Voila.port_retries=0", "--show_tracebacks=False",
        "--VoilaConfiguration.preheat_kernel=False",
        "--VoilaConfiguration.multi_kernel_manager_class=cxlab.kernel_pool.WarmKernelManager",
        "--VoilaConfiguration.file_allowlist=[]",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        "--Voila.tornado_settings={'serve_traceback': False}",
    ]


def kernel_environment(config: Config) -> dict[str, str]:
    """CXLAB_* variables that make a kernel's ``Config.from_environ()`` equal ``config``.

    >>> env = kernel_environment(Config.from_environ({"CXLAB_VAR_DIR": "/tmp/k",
    ...                                               "CXLAB_SECRET_KEY": "s" * 40}))
    >>> env["CXLAB_STORE_URL"], env["CXLAB_ENV"]
    ('/tmp/k/store', 'development')
    """
    return {
        "CXLAB_ENV": config.env, "CXLAB_VAR_DIR": str(config.var_dir),
        "CXLAB_DATABASE_URL": config.database_url, "CXLAB_STORE_URL": config.store_url,
        "CXLAB_SECRET_KEY": config.secret_key,
    }


def serve_dashboards(
    config: Config, *, port: int = 8866, host: str = "127.0.0.1", root: Path = DASHBOARDS_DIR
) -> None:
    """Run Voila on ``notebooks/dashboards/`` until stopped (``cxlab serve dashboards``).

    Kernels inherit this process's environment, so ``config`` is handed to them as
    CXLAB_* variables; notebooks read it with ``Config.from_environ()``.
    """
    from cxlab.kernel_pool import warm_kernels_setting

    warm_kernels_setting()  # a bad value stops here with its fix, not in Voila's start-up
    os.environ.update(kernel_environment(config))
    app = voila_app_class()()
    app.initialize(voila_arguments(port, host, root))
    app.voila_configuration.prelaunch_hook = prelaunch_hook(config.secret_key)
    # Runs once the loop starts, when start() has made the kernel manager. Voila asks for
    # kernels with the notebook's folder relative to the root: "" for this flat folder.
    tornado.ioloop.IOLoop.current().add_callback(lambda: app.kernel_manager.prime(path=""))
    app.start()


def spawn_dashboards(
    environ: dict[str, str], *, port: int, host: str = "127.0.0.1", timeout: float = 60.0,
    log: Any = None, root: Path = DASHBOARDS_DIR,
) -> subprocess.Popen:
    """Start ``python -m cxlab.voila_hook`` with ``environ`` and wait until it answers;
    for tests and the benchmark, which need a real server on loopback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cxlab.voila_hook", f"--port={port}", f"--host={host}",
         f"--root={root}"],
        env=environ, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Voila exited with status {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"Voila did not listen on {host}:{port} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> None:
    """``python -m cxlab.voila_hook [--port N] [--host H]`` (tests and the benchmark)."""
    import argparse

    parser = argparse.ArgumentParser(description=serve_dashboards.__doc__)
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--root", type=Path, default=DASHBOARDS_DIR,
                        help="folder of dashboard notebooks (the benchmark serves a copy)")
    arguments = parser.parse_args(argv)
    serve_dashboards(Config.from_environ(), port=arguments.port, host=arguments.host,
                     root=arguments.root)


if __name__ == "__main__":
    sys.exit(main())
