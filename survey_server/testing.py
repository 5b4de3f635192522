"""Test helpers: serve an app on a loopback port in a thread; seed a tenant's survey.

>>> import bottle, requests
>>> hello = bottle.Bottle()
>>> _ = hello.route("/", callback=lambda: "hi")
>>> with serve_in_thread(hello) as base_url:
...     requests.get(base_url + "/").text
'hi'
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cxlab.db import Database
from cxlab.errors import NotFound
from cxlab.surveys.catalog import publish_survey
from cxlab.surveys.definition import SurveyDefinition
from cxlab.tenancy import create_api_key, create_tenant, get_tenant


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


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
