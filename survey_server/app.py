"""The survey server application: respondent pages, JSON API, client portal, health
and metrics.

Build one with :func:`create_app` (tests build as many as they like); serve it with
:func:`survey_server.serve.run` (granian) or any WSGI server.

>>> from cxlab.config import Config
>>> app = create_app(Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc"}))
>>> "/s/<tenant_slug>/<survey_slug>" in {route.rule for route in app.routes}
True
"""

from __future__ import annotations

import contextlib
import hmac
import re
import sys
import time
import uuid
from pathlib import Path
from typing import TextIO

import bottle
from cxlab.accesslog import AccessLog, utc_timestamp
from cxlab.config import Config
from cxlab.db import Database
from cxlab.i18n import CATALOGUE
from cxlab.metrics import ServerMetrics
from cxlab.portal_auth import LoginPolicy
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from survey_server.api import ResponsesApi, json_response
from survey_server.context import ServerContext, SqliteWriteGate
from survey_server.group_commit import GroupCommit
from survey_server.health import Health
from survey_server.lookups import Lookups
from survey_server.optout import OptOutPages
from survey_server.pages import message_page, request_language
from survey_server.portal import PortalPages
from survey_server.respondent import RespondentPages
from survey_server.security_headers import SecurityHeaders
from survey_server.tokens import FormTokens

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HTML_ERRORS = {
    404: ("not_found_title", "not_found"),
    413: ("too_large_title", "too_large"),
    422: ("bad_form_title", "bad_form"),
    503: ("error_title", "unavailable"),
}


class SurveyServer(bottle.Bottle):
    """A Bottle app whose every request gets a request id, an access-log line and
    metrics, measured until its last byte is sent (so streamed exports count fully)."""

    def __init__(self, context: ServerContext, access_log: AccessLog) -> None:
        super().__init__(catchall=True)
        self.context = context
        self.access_log = access_log
        self.security_headers = SecurityHeaders(production=context.config.env == "production")

    def wsgi(self, environ, start_response):
        started = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        environ["cxlab.request_id"] = request_id
        status_holder = [500]

        def start(status, headers, exc_info=None):
            status_holder[0] = int(status[:3])
            headers.append(("X-Request-Id", request_id))
            self.security_headers.add_to(headers, environ)
            return start_response(status, headers, exc_info)

        body = super().wsgi(environ, start)
        if isinstance(body, list):
            # A body already complete (all but streamed exports): account for it now and
            # hand the list over as is, which granian sends in one write from Rust
            # instead of iterating a Python generator.
            self._finished(environ, status_holder[0], started, sum(map(len, body)))
            return body
        return _MeasuredBody(
            body, lambda sent: self._finished(environ, status_holder[0], started, sent)
        )

    def _finished(self, environ, status: int, started: float, sent: int) -> None:
        # Runs as the server closes the body: nothing here may raise, or the server
        # would drop a connection whose response (and stored answer) is already done.
        try:
            self._account(environ, status, started, sent)
        except Exception as error:  # noqa: BLE001 - see above
            self.context.metrics.accounting_failed()
            with contextlib.suppress(OSError, ValueError):
                print(f"cxlab: request not accounted: {error!r}", file=sys.stderr)

    def _account(self, environ, status: int, started: float, sent: int) -> None:
        seconds = time.perf_counter() - started
        route = environ.get("bottle.route")
        template = environ.get("cxlab.route") or (
            route.rule if route is not None else "(unmatched)"
        )
        method = environ.get("REQUEST_METHOD", "")
        self.context.metrics.observe_request(template, method, status, seconds)
        written = self.access_log.write({
            "time": utc_timestamp(),
            "request_id": environ.get("cxlab.request_id"),
            "tenant": environ.get("cxlab.tenant"),
            "survey": environ.get("cxlab.survey"),
            "route": template,
            "method": method,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "bytes": sent,
        })
        if not written:
            self.context.metrics.accounting_failed()

    def default_error_handler(self, error: bottle.HTTPError) -> str:
        # Never a traceback: Bottle has already written it to the server's error log.
        status = error.status_code
        if isinstance(error.exception, DataError):
            # The database refused a value (e.g. a NUL in text on PostgreSQL): retrying
            # the same request can never succeed, so this is the sender's 422, not a 503.
            status = 422
            bottle.response.status = 422
        elif isinstance(error.exception, OperationalError | DBAPIError | PoolTimeout):
            status = 503
            bottle.response.status = 503
            bottle.response.set_header("Retry-After", "1")
        if bottle.request.path.startswith("/api/"):
            message = {
                404: "no such route", 405: "method not allowed here",
                413: f"the body is larger than {self.context.config.max_body_bytes} bytes",
                422: "a value cannot be stored (e.g. a NUL character)",
                503: "the database is busy or unreachable; retry",
            }.get(status, "internal error; see the server log")
            result = json_response(status, {"errors": [{"field": "request", "message": message}]})
        else:
            title, text = HTML_ERRORS.get(status, ("error_title", "error"))
            result = message_page(status, request_language(), title, text)
        bottle.response.content_type = result.content_type
        return result.body


class _MeasuredBody:
    """Wraps a WSGI body to count its bytes and report once the server closes it."""

    def __init__(self, body, on_close) -> None:
        self._body = body
        self._on_close = on_close
        self._sent = 0

    def __iter__(self):
        for block in self._body:
            self._sent += len(block)
            yield block

    def close(self) -> None:
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            self._on_close(self._sent)


def create_app(
    config: Config,
    database: Database | None = None,
    *,
    metrics_dir: str | Path | None = None,
    log_stream: TextIO | None = sys.stdout,
    login_policy: LoginPolicy | None = None,
) -> SurveyServer:
    """The survey server for ``config``.

    ``database`` defaults to one on ``config.database_url`` (it must be migrated);
    ``metrics_dir`` is prometheus-client's multiprocess directory under granian;
    ``log_stream`` receives the access log besides the daily file (None: file only);
    ``login_policy`` sets the client portal's lockout after failed logins.
    """
    CATALOGUE.load()  # the pages' words, read before the first request rather than in it
    database = database or Database(
        config.database_url, timeout_seconds=config.db_timeout_seconds
    )
    write_gate = SqliteWriteGate(
        Path(database.engine.url.database + ".write-lock")
        if database.engine.dialect.name == "sqlite" and database.engine.url.database
        else None
    )
    context = ServerContext(
        config=config,
        database=database,
        tokens=FormTokens(config.secret_key, resume_days=config.resume_days),
        metrics=ServerMetrics(metrics_dir),
        write_gate=write_gate,
        lookups=Lookups(database, ttl=config.lookup_ttl_seconds),
        group_commit=GroupCommit(database, write_gate),
    )
    app = SurveyServer(context, AccessLog(config.var_dir / "logs", stream=log_stream))
    app.install(_body_limit(config.max_body_bytes))
    RespondentPages(context).install(app)
    ResponsesApi(context).install(app)
    PortalPages(context, login_policy).install(app)
    OptOutPages(context).install(app)

    health = Health(config, database)

    @app.get("/healthz")
    def healthz():
        reason = health.problem()
        if reason is not None:
            return json_response(503, {"status": "fail", "reason": reason})
        return json_response(200, {"status": "ok"})

    @app.get("/metrics")
    def metrics():
        # Metrics name every tenant: only with CXLAB_METRICS_TOKEN, and never without.
        token = config.metrics_token
        if token is None:
            raise bottle.HTTPError(404)
        scheme, _, given = (bottle.request.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return bottle.HTTPResponse("send Authorization: Bearer <CXLAB_METRICS_TOKEN>\n",
                                       401, {"Content-Type": "text/plain; charset=utf-8",
                                             "WWW-Authenticate": 'Bearer realm="metrics"'})
        body, content_type = context.metrics.exposition()
        return bottle.HTTPResponse(body, 200, {"Content-Type": content_type})

    return app


def _body_limit(max_bytes: int):
    """A Bottle plugin answering 413 to a body over ``max_bytes``, before reading it."""

    def plugin(callback):
        def limited(*args, **kwargs):
            request = bottle.request
            length = request.content_length
            if length > max_bytes:
                raise bottle.HTTPError(413)
            if length < 0 and request.method in ("POST", "PUT", "PATCH"):
                # No Content-Length (chunked): Bottle spools the body to a temporary
                # file beyond its memory limit, so measuring it is safe.
                body = request.body
                body.seek(0, 2)
                too_large = body.tell() > max_bytes
                body.seek(0)
                if too_large:
                    raise bottle.HTTPError(413)
            return callback(*args, **kwargs)

        return limited

    return plugin

