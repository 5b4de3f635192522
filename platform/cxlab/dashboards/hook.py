"""Serving client dashboards with Voila: a signed token in, one tenant's notebook out.

``serve_dashboards(config)`` runs Voila on ``notebooks/dashboards/`` only, with:

- :func:`prelaunch_hook` as ``VoilaConfiguration.prelaunch_hook``: before a kernel
  starts it verifies and redeems the single-use ``token`` query argument
  (:mod:`cxlab.dashboards.tokens`), answers a 403 page in the viewer's language with a
  way back to the portal when it is missing, tampered, expired, used or for another
  notebook, a 503 "busy" page beyond the kernel caps (:mod:`cxlab.dashboards.kernels`), and
  injects ``tenant`` and ``survey`` *from the token* (never from the query string) with
  papermill's ``parameterize_notebook``; a token for a view the sync rendered as a static
  page (:mod:`cxlab.dashboards.static_page`: the opening view, and each period over every
  segment) gets that page while it is current, and no kernel starts;
- no tree listing, no contents API and no raw file access (those routes answer 404),
  and only ``/voila/render/<name>.ipynb`` of a notebook in that folder is routed;
- tracebacks hidden; Voila's preheating is off (it refuses a prelaunch hook), and
  :class:`cxlab.dashboards.kernels.WarmKernelManager` keeps started, warmed-up kernels instead,
  caps them and frees those nobody uses.

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
>>> sent["status"], "ポータルからダッシュボードを開いてください" in sent["body"]
(403, True)
"""

from __future__ import annotations

import importlib.util
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

from cxlab.config import Config
from cxlab.dashboards.kernels import DashboardBusy
from cxlab.dashboards.replies import (
    page_language,
    portal_link,
    refusal_page,
    response_headers,
    static_reply,
)
from cxlab.dashboards.snapshots import read_static_page
from cxlab.dashboards.tokens import DashboardTokenError, DashboardTokens, RedeemedTokens
from cxlab.i18n import phrase
from cxlab.store import Store

DASHBOARDS_DIR = Path(__file__).resolve().parents[3] / "notebooks" / "dashboards"
# A Jupyter data directory holding cxlab's Voila template (voila/templates/cxlab).
TEMPLATES_ROOT = Path(__file__).resolve().parent / "jupyter"
# The plotly.js bundle of the installed plotly package (the version the figures are
# made for), served to the dashboard's chart widgets (cxlab.dashboards.chart_widget).
PLOTLY_JS = Path(importlib.util.find_spec("plotly").origin).with_name("package_data") / (
    "plotly.min.js")
NOTEBOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.ipynb")


def prelaunch_hook(secret_key: str, portal_url: str = "",
                   store: Store | None = None) -> Callable[..., nbformat.NotebookNode]:
    """The ``VoilaConfiguration.prelaunch_hook`` for tokens signed with ``secret_key``.

    Voila calls it as ``hook(handler, notebook=..., cwd=...)`` before it starts a
    kernel. It refuses a missing, tampered, expired, used or foreign token with a page
    that links back to the portal (``portal_url``). A token for a view the sync
    rendered as a static page in ``store`` (no ``segment`` asked, the opening period or
    another one it rendered; :func:`static_page_asked`), while current, is redeemed and
    answered with that page: no kernel starts. ``live`` in the query asks for the live
    dashboard all the same. Otherwise it
    answers 503 "busy" when the kernel manager's cap is reached; redeems the token
    (single use); sets the XSRF cookie the page's close handler needs; and returns the
    notebook with an ``injected-parameters`` cell that sets ``tenant``, ``survey``,
    ``demo_fallback = False`` (a client never sees demo data), ``language``,
    ``portal_url``, the ``period`` and ``segment`` to open at, and the token's ``scope``
    (the unit codes whose answers the kernel loads; a scoped token never gets a static
    page, which shows every store).
    """
    tokens = DashboardTokens(secret_key)
    redeemed = RedeemedTokens(tokens.max_age)

    def refuse(handler: Any, error: DashboardTokenError, language: str) -> None:
        refusal_page(handler, 403, error.reason, language=language,
                     action_url=portal_link(portal_url, error.survey, language)
                     if portal_url else None)

    def hook(handler: Any, notebook: nbformat.NotebookNode, cwd: str) -> nbformat.NotebookNode:
        name = (handler.path_args or [""])[0] if hasattr(handler, "path_args") else ""
        language = page_language(handler)
        if not NOTEBOOK_NAME.fullmatch(name or ""):
            refusal_page(handler, 404, "not-found", language=language)
        try:
            grant = tokens.verify(handler.get_query_argument("token", None), name)
        except DashboardTokenError as error:
            refuse(handler, error, language)
        chosen = {key: handler.get_query_argument(key, None) for key in ("period", "segment")}
        # The tenant and survey are the token's: its static pages, in its partition only.
        # Those pages show every store: a scoped user always gets the live page, whose
        # kernel loads their scope's answers only.
        opening = (read_static_page(store, grant.tenant, grant.survey, language)
                   if store is not None and grant.survey and grant.scope is None else None)
        static = static_page_asked(store, grant, language, opening, chosen,
                                   live=handler.get_query_argument("live", None) is not None)
        if static is not None:
            try:
                redeemed.redeem(grant)
            except DashboardTokenError as error:
                refuse(handler, error, language)
            live = tokens.issue(grant.tenant, grant.user, grant.notebook, survey=grant.survey,
                                title=grant.title, scope=grant.scope)
            static_reply(handler, static["html"], live, portal_url)
        kernels = getattr(handler, "kernel_manager", None)
        if hasattr(kernels, "admit"):
            try:
                admission = kernels.admit(grant.tenant)
            except DashboardBusy:
                refusal_page(handler, 503, "busy", language=language,
                             action_url=handler.request.uri, action="retry")
        try:
            redeemed.redeem(grant)
        except DashboardTokenError as error:
            if hasattr(kernels, "admit"):
                kernels.release(admission)
            refuse(handler, error, language)
        # Voila's page posts "_xsrf" from this cookie when it closes, to free the kernel.
        if hasattr(handler, "xsrf_token"):
            handler.xsrf_token  # noqa: B018 - reading it sets the cookie
        # parameterize_notebook indexes every cell's metadata.tags and writes
        # metadata.papermill, which a notebook saved outside papermill lacks.
        for cell in notebook.cells:
            cell.metadata.setdefault("tags", [])
        notebook.metadata.setdefault("papermill", {})
        # The browser tab's title (Voila's template reads metadata.title).
        notebook.metadata["title"] = grant.title or phrase(language, "dashboard.title")
        notebook.metadata["cxlab_language"] = language  # <html lang> of cxlab's template
        parameters = {"tenant": grant.tenant, "survey": grant.survey or "",
                      "demo_fallback": False, "language": language,
                      "portal_url": f"{portal_url}/portal/" if portal_url else "",
                      "scope": list(grant.scope) if grant.scope is not None else None,
                      **opening_choice(chosen, opening)}
        return parameterize_notebook(notebook, parameters, kernel_name="python3",
                                     language="python")

    return hook


def static_page_asked(store: Store | None, grant: Any, language: str, opening: dict | None,
                      chosen: dict[str, str | None], *, live: bool) -> dict | None:
    """The static page that answers a request for ``chosen`` (its ``period`` and
    ``segment``), if any: the opening page (``opening``) when neither is chosen, the
    whole period is, or a period the dashboard does not know (the live page would open
    at the whole period too); the page of a period the sync rendered for every segment,
    or of a segment it rendered for the whole period; None for anything else (or
    ``live``, or a survey without static pages), which opens the live dashboard.

    >>> opening = {"periods": ["all", "90d", "30d", "7d"], "html": "..."}
    >>> [static_page_asked(None, None, "en", opening, chosen, live=False) is opening
    ...  for chosen in ({}, {"period": "all"}, {"period": "3y"})]
    [True, True, True]
    >>> [static_page_asked(None, None, "en", opening, chosen, live=live)
    ...  for chosen, live in [({"period": "7d", "segment": "shibuya-01"}, False),
    ...                       ({"period": "all"}, True)]]
    [None, None]
    """
    if opening is None or live:
        return None
    period = chosen.get("period") or "all"
    if period not in opening.get("periods", []):
        period = "all"
    segment = chosen.get("segment") or ""
    if segment and period != "all":
        return None  # a segment over a shorter period: the live dashboard
    if period == "all" and not segment:
        return opening
    if store is None:
        return None
    return read_static_page(store, grant.tenant, grant.survey, language, period, segment)


def opening_choice(chosen: dict[str, str | None], static: dict | None) -> dict[str, str]:
    """The ``period`` and ``segment`` the live dashboard opens at: those asked for when
    the survey knows them (the static page lists its periods and segment values; without
    one the dashboard itself ignores values it does not know), else the opening view.

    >>> page = {"periods": ["all", "7d"], "segments": ["shibuya-01"]}
    >>> opening_choice({"period": "7d", "segment": "shibuya-01"}, page)
    {'period': '7d', 'segment': 'shibuya-01'}
    >>> opening_choice({"period": "3y", "segment": "another tenant's store"}, page)
    {'period': 'all', 'segment': ''}
    """
    period, segment = chosen.get("period") or "all", chosen.get("segment") or ""
    if len(period) > 20 or (static is not None and period not in static.get("periods", [])):
        period = "all"
    if len(segment) > 200 or (static is not None and segment not in static.get("segments", [])):
        segment = ""
    return {"period": period, "segment": segment}


def voila_app_class() -> type:
    """Voila's application with the directory routes a client must not reach removed."""
    from voila.app import Voila
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler

    class NotFoundHandler(tornado.web.RequestHandler):
        def get(self, *_args: str) -> None:
            # The Finish that refusal_page raises is how tornado ends a request early.
            refusal_page(self, 404, "not-found", language=page_language(self))

    class ScriptHandler(tornado.web.StaticFileHandler):
        def set_extra_headers(self, path: str) -> None:
            # plotly.js is 4.8 MB, the same until plotly is upgraded: fetched once a day.
            self.set_header("Cache-Control", "public, max-age=86400")

    class DashboardVoila(Voila):
        name = "cxlab-dashboards"

        def init_handlers(self) -> list:
            removed = (TornadoVoilaTreeHandler, VoilaContentsHandler, TornadoVoilaHandler)
            handlers = [route for route in super().init_handlers() if route[1] not in removed
                        and "/voila/files/" not in route[0]]
            render = self.voila_handler_options()
            return [
                (r"/voila/render/([A-Za-z0-9][A-Za-z0-9_-]*\.ipynb)", TornadoVoilaHandler, render),
                # plotly.js for the dashboard's charts (chart_widget, static_page).
                (r"/voila/cxlab/(plotly\.min\.js)", ScriptHandler,
                 {"path": str(PLOTLY_JS.parent)}),
                # What draws a static page's charts that have no image (static_page).
                (r"/voila/cxlab/(static_charts\.js)", ScriptHandler,
                 {"path": str(Path(__file__).parent)}),
                (r"/voila/(?:tree|files|render|api/contents)(?:/.*)?", NotFoundHandler),
                (r"/", NotFoundHandler),
                *handlers,
                (r"/(?!voila/|api/|static/|login|logout).*", NotFoundHandler),
            ]

        def voila_handler_options(self) -> dict:
            return {"template_paths": self.template_paths, "config": self.config,
                    "voila_configuration": self.voila_configuration}

    return DashboardVoila


def voila_arguments(config: Config, port: int, host: str,
                    root: Path = DASHBOARDS_DIR) -> list[str]:
    """The command-line configuration :func:`serve_dashboards` gives Voila: the kernel
    limits of ``config`` included.

    >>> config = Config.from_environ({"CXLAB_VAR_DIR": "/tmp/k", "CXLAB_SECRET_KEY": "s" * 40,
    ...                               "CXLAB_DASHBOARD_MAX_KERNELS": "6"})
    >>> [a for a in voila_arguments(config, 8866, "127.0.0.1") if "max_kernels=" in a]
    ['--WarmKernelManager.max_kernels=6']
    """
    kernels = "--WarmKernelManager."
    production = config.env == "production"
    tornado_settings = {"serve_traceback": False, "headers": response_headers(production),
                        # The XSRF cookie the page's close request needs: HTTPS-only in
                        # production, never sent cross-site.
                        "xsrf_cookie_kwargs": {"secure": production, "samesite": "Strict"}}
    return [
        str(root), "--no-browser", f"--port={port}", f"--Voila.ip={host}",
        "--Voila.port_retries=0", "--show_tracebacks=False", "--template=cxlab",
        "--VoilaConfiguration.preheat_kernel=False",
        "--VoilaConfiguration.multi_kernel_manager_class=cxlab.dashboards.kernels.WarmKernelManager",
        "--VoilaConfiguration.file_allowlist=[]",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        f"--Voila.tornado_settings={tornado_settings!r}",
        f"{kernels}pool_size={config.dashboard_warm_kernels}",
        f"{kernels}max_kernels={config.dashboard_max_kernels}",
        f"{kernels}max_kernels_per_tenant={config.dashboard_max_kernels_per_tenant}",
        f"{kernels}connect_timeout={config.dashboard_connect_timeout}",
        # Jupyter's culler: idle kernels go even when a page is still connected (a tab
        # left open overnight); checked every minute or sooner for short timeouts.
        f"{kernels}cull_idle_timeout={config.dashboard_idle_timeout}",
        f"{kernels}cull_interval={min(60, max(1, config.dashboard_idle_timeout // 3))}",
        f"{kernels}cull_connected=True",
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
    os.environ.update(kernel_environment(config))
    # pyarrow's own allocator (mimalloc) keeps ~20 MB per kernel after a load that
    # glibc's malloc_trim hands back (cxlab.dashboards.data.release_free_memory):
    # measured in benchmarks/RESULTS.md, dashboard kernel memory.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    # Voila finds templates in the Jupyter data directories: cxlab's comes first.
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(TEMPLATES_ROOT), os.environ.get("JUPYTER_PATH")]))
    app = voila_app_class()()
    app.initialize(voila_arguments(config, port, host, root))
    app.voila_configuration.prelaunch_hook = prelaunch_hook(
        config.secret_key, f"{config.public_url}", Store.of(config))
    # Runs once the loop starts, when start() has made the kernel manager. Voila asks for
    # kernels with the notebook's folder relative to the root: "" for this flat folder.
    tornado.ioloop.IOLoop.current().add_callback(lambda: app.kernel_manager.prime(path=""))
    app.start()


def spawn_dashboards(
    environ: dict[str, str], *, port: int, host: str = "127.0.0.1", timeout: float = 240.0,
    log: Any = None, root: Path = DASHBOARDS_DIR,
) -> subprocess.Popen:
    """Start ``cxlab serve dashboards`` with ``environ`` and wait until it answers; for
    tests and the benchmark, which need a real server on loopback. The deadline is
    generous: on a loaded 2-core machine Voila has taken over 100 s to listen."""
    cxlab = Path(sys.executable).with_name("cxlab")  # this environment's command
    process = subprocess.Popen(
        [str(cxlab), "serve", "dashboards", f"--port={port}", f"--host={host}",
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
