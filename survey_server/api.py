"""The JSON API: ingest responses (one or a batch) and export them, with API keys.

Every route authenticates ``Authorization: Bearer <api key>`` and looks the survey up
within the key's tenant, so another tenant's survey is "not found" (no existence leak).
Errors are ``{"errors": [{"field": ..., "message": ...}]}``; see /api/v1/openapi.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import bottle
from cxlab import exports, responses
from cxlab.db.models import Survey
from cxlab.errors import NotFound
from cxlab.new_responses import NewResponse, store_new_responses
from cxlab.responses import MAX_IDEMPOTENCY_KEY_LENGTH
from cxlab.stored_responses import iter_responses
from cxlab.surveys.answers import validate_answers
from cxlab.surveys.definition import SurveyDefinition
from cxlab.tenancy import ApiKeyOwner

from survey_server.context import ServerContext, request_header, tag_request, tag_route
from survey_server.lookups import SurveyLookup
from survey_server.openapi import openapi_spec
from survey_server.texts import text_problems as _text_problems

MAX_BATCH = 1000
ITEM_KEYS = {"answers", "attributes", "submitted_at", "idempotency_key"}
MAX_SURVEY_ID = 2**31 - 1
FUTURE_TOLERANCE = timedelta(minutes=10)


class ApiError(Exception):
    """Ends a request with a JSON error response."""

    def __init__(self, status: int, errors: list[tuple[str, str]], headers=None, *,
                 reason: str | None = None) -> None:
        super().__init__(status)
        document: dict[str, Any] = {"errors": [{"field": f, "message": m} for f, m in errors]}
        if reason is not None:
            document["reason"] = reason
        self.response = json_response(status, document, headers)


def json_response(status: int, document: Any, headers: dict | None = None) -> bottle.HTTPResponse:
    body = json.dumps(document, ensure_ascii=False)
    if not _encodes(body):
        # An error may quote a field name sent with a lone surrogate, which UTF-8 cannot
        # carry: escape it as \udXXX, still valid JSON, rather than fail to answer.
        body = json.dumps(document)
    return bottle.HTTPResponse(
        body, status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


@dataclass(frozen=True)
class ResponseItem:
    answers: dict[str, Any]
    attributes: dict[str, str]
    submitted_at: datetime | None
    idempotency_key: str | None
    request_hash: str | None = None  # set for a batch under one Idempotency-Key header

    def fingerprint(self) -> str:
        """What a repeat under the same key must match, however the key was sent
        (computed only for keyed items: a hash is of no use without a key)."""
        return self.request_hash or responses.request_hash({
            "answers": self.answers, "attributes": self.attributes,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
        })


class ResponsesApi:
    """The /api/v1 routes, bound to one server's context."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.database = context.database

    def install(self, app: bottle.Bottle) -> None:
        app.route("/api/v1/openapi.json", "GET", self.openapi)
        # Bottle reads ':' in a rule as its old wildcard syntax, so ".../responses:batch"
        # shares one rule with ".../responses" and is told apart here.
        app.route("/api/v1/surveys/<survey_id>/<collection>", "POST", self._json(self.post))
        app.route("/api/v1/surveys/<survey_id>/responses", "GET", self._json(self.export))

    @staticmethod
    def _json(handler):
        def route(**arguments):
            try:
                return handler(**arguments)
            except ApiError as error:
                return error.response

        route.__name__ = handler.__name__
        return route

    # ------------------------------------------------------------ routes

    def openapi(self) -> bottle.HTTPResponse:
        return json_response(200, openapi_spec())

    def post(self, survey_id: str, collection: str) -> bottle.HTTPResponse:
        if collection == "responses":
            tag_route("/api/v1/surveys/<survey_id>/responses")
            return self.create(survey_id)
        if collection == "responses:batch":
            tag_route("/api/v1/surveys/<survey_id>/responses:batch")
            return self.create_batch(survey_id)
        raise ApiError(404, [("request", "no such route")])

    def create(self, survey_id: str) -> bottle.HTTPResponse:
        owner, found = self._authorize(survey_id)
        survey = found.survey
        self._require_open(survey)
        body = self._read_json()
        item, errors = self._check_item(found.definition, body, prefix="")
        if errors:
            raise ApiError(422, errors)
        item = _with_header_key(item)
        # Stored in a transaction shared with this worker's concurrent requests, as
        # new (one multi-row INSERT with the others; only a key seen before is looked
        # up), and answered only once that transaction has committed.
        key = item.idempotency_key
        try:
            recorded = self.context.group_commit.run_together(
                store_new_responses, NewResponse.of(
                    survey, item.answers, attributes=item.attributes,
                    submitted_at=item.submitted_at,
                    idempotency_key=responses.client_key(owner.key_id, key) if key else None,
                    request_hash=item.fingerprint() if key else None,
                ),
            )
        except responses.IdempotencyConflict as conflict:
            raise ApiError(422, [("idempotency_key", str(conflict))]) from None
        if recorded.created:
            self.context.metrics.response_accepted(owner.tenant_slug)
            return json_response(201, {"id": recorded.id})
        return json_response(200, {"id": recorded.id})

    def create_batch(self, survey_id: str) -> bottle.HTTPResponse:
        owner, found = self._authorize(survey_id)
        survey = found.survey
        self._require_open(survey)
        body = self._read_json()
        raw_items = body.get("responses")
        unknown = sorted(set(body) - {"responses"})
        if unknown:
            raise ApiError(422, [(key or "(empty name)",
                                  "unknown field; the body is {\"responses\": [...]}")
                                 for key in unknown])
        if not isinstance(raw_items, list) or not raw_items:
            raise ApiError(422, [("responses", "required: a non-empty list of responses")])
        if len(raw_items) > MAX_BATCH:
            raise ApiError(422, [("responses", f"at most {MAX_BATCH} responses per batch, "
                                               f"got {len(raw_items)}")])
        definition = found.definition
        items, errors = [], []
        for index, raw in enumerate(raw_items):
            item, item_errors = self._check_item(definition, raw, prefix=f"responses[{index}].")
            items.append(item)
            errors += item_errors
        if errors:
            raise ApiError(422, errors)
        items = _with_header_keys(items, body)
        # One transaction: the whole batch is stored, or (on an error) none of it.
        with self.context.write_gate.writing(), self.database.session() as session:
            recorded = [
                self._record(session, survey, item, owner,
                             f"responses[{index}].idempotency_key")
                for index, item in enumerate(items)
            ]
        created = sum(1 for r in recorded if r.created)
        self.context.metrics.response_accepted(owner.tenant_slug, created)
        return json_response(
            201 if created else 200, {"ids": [r.id for r in recorded], "created": created}
        )

    def export(self, survey_id: str) -> bottle.HTTPResponse:
        _owner, found = self._authorize(survey_id)
        survey = found.survey
        query = bottle.request.query
        problems = []
        kind = query.get("format", "csv")
        if kind not in exports.FORMATS:
            problems.append(("format", f"must be one of: {', '.join(exports.FORMATS)}"))
        since = None
        if query.get("since"):
            since, problem = _parse_time(query.get("since"))
            if problem:
                problems.append(("since", problem))
        include_partial = query.get("include_partial", "false").lower()
        if include_partial not in ("true", "false"):
            problems.append(("include_partial", "must be true or false"))
        if problems:
            raise ApiError(400, problems)
        definition = found.definition

        def read_rows():
            return iter_responses(
                self.database, survey, since=since, include_partial=include_partial == "true"
            )

        with self.database.session() as session:
            language = exports.tenant_language(session, survey)
        body = exports.export_stream(definition, read_rows, kind, language)
        return bottle.HTTPResponse(body, 200, {
            "Content-Type": exports.FORMATS[kind].content_type,
            "Content-Disposition":
                f'attachment; filename="{exports.file_name(survey.slug, kind)}"',
        })

    # ------------------------------------------------------------ helpers

    def _authorize(self, survey_id: str) -> tuple[ApiKeyOwner, SurveyLookup]:
        # An unreadable header (not UTF-8) is no key at all: 401 like a wrong one.
        scheme, _, key = (request_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip() or len(key) > 200:
            raise _unauthorized()
        # isascii(): "¹" and "١" are digits to isdigit() but not to int().
        digits = survey_id.isascii() and survey_id.isdigit() and len(survey_id) < 11
        number = int(survey_id) if digits else 0
        owner = self.context.lookups.api_key_owner(key.strip())
        if owner is None:
            raise _unauthorized()
        tag_request(tenant=owner.tenant_slug, survey=survey_id)
        try:
            if not 0 < number <= MAX_SURVEY_ID:
                raise NotFound(survey_id)
            return owner, self.context.lookups.survey_by_id(owner.tenant_id, number)
        except NotFound:
            raise ApiError(404, [("survey_id", "no such survey")]) from None

    @staticmethod
    def _require_open(survey: Survey) -> None:
        # 409: the request is fine, the survey's state refuses it (and may change).
        availability = responses.survey_availability(survey)
        if availability == "closed":
            raise ApiError(409, [("survey_id", "the survey is closed")], reason="closed")
        if availability == "not_yet_open":
            raise ApiError(409, [("survey_id", "the survey is not open yet")],
                           reason="not_yet_open")

    @staticmethod
    def _read_json() -> dict[str, Any]:
        try:
            body = json.loads(bottle.request.body.read())
        except (ValueError, RecursionError) as error:
            reason = error.args[0] if isinstance(error, ValueError) else "nested too deeply"
            raise ApiError(400, [("body", f"not valid JSON: {reason}")]) from None
        if not isinstance(body, dict):
            raise ApiError(400, [("body", "must be a JSON object")])
        return body

    @staticmethod
    def _check_item(
        definition: SurveyDefinition, raw: Any, prefix: str
    ) -> tuple[ResponseItem | None, list[tuple[str, str]]]:
        """The item, or the ``(field, message)`` of each of its problems."""
        if not isinstance(raw, dict):
            return None, [(prefix.rstrip(".") or "body", "must be a JSON object")]
        errors = [
            (f"{prefix}{key or '(empty name)'}",
             f"unknown field; allowed: {', '.join(sorted(ITEM_KEYS))}")
            for key in raw if key not in ITEM_KEYS
        ]
        answers, answer_errors = {}, {}
        if "answers" not in raw:
            errors.append((f"{prefix}answers", "required: an object of answers"))
        else:
            answers, answer_errors = validate_answers(definition, raw["answers"])
            answer_errors.update(_text_problems(answers))
        # Fields are named by question id, as in {"field": "q3"}; an empty key by its place.
        errors += [
            (f"{prefix}{field or 'answers'}", message) for field, message in answer_errors.items()
        ]
        attributes, attribute_errors = responses.clean_attributes(
            definition, raw.get("attributes", {})
        )
        errors += [
            (f"{prefix}attributes" + (f".{name}" if name != "attributes" else ""), message)
            for name, message in {**attribute_errors, **_text_problems(attributes)}.items()
        ]
        submitted_at = None
        if raw.get("submitted_at") is not None:
            submitted_at, problem = _parse_time(raw["submitted_at"])
            if problem is None and submitted_at > datetime.now(UTC) + FUTURE_TOLERANCE:
                problem = "must not be in the future"
            if problem:
                errors.append((f"{prefix}submitted_at", problem))
        key = raw.get("idempotency_key")
        if key is not None and (
            not isinstance(key, str) or not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
            or _text_problems({"k": key})
        ):
            errors.append((f"{prefix}idempotency_key",
                           f"must be text of 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters"))
        if errors:
            return None, errors
        return ResponseItem(answers, attributes, submitted_at, key), []

    def _record(
        self, session, survey: Survey, item: ResponseItem, owner: ApiKeyOwner, field: str
    ) -> responses.Recorded:
        # The client's key lives in the API key's own namespace: it can never name an
        # invitation's or a form's response.
        key = item.idempotency_key
        try:
            return responses.record_response(
                session, survey, item.answers, attributes=item.attributes,
                submitted_at=item.submitted_at,
                idempotency_key=responses.client_key(owner.key_id, key) if key else None,
                request_hash=item.fingerprint() if key else None,
            )
        except responses.IdempotencyConflict as conflict:
            raise ApiError(422, [(field, str(conflict))]) from None


def _unauthorized() -> ApiError:
    # Built only when needed: an error response costs a JSON encoding.
    return ApiError(
        401, [("authorization", "send a valid API key: Authorization: Bearer <key>")],
        {"WWW-Authenticate": 'Bearer realm="cxlab"'},
    )


def _header_key() -> str | None:
    """The ``Idempotency-Key`` header (IETF httpapi draft: a structured-field string,
    so surrounding quotes are dropped), or None; ApiError 422 when malformed."""
    if "HTTP_IDEMPOTENCY_KEY" not in bottle.request.environ:
        return None  # the usual case, without building Bottle's header view
    value = bottle.request.get_header("Idempotency-Key")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 0 < len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH or not value.isprintable():
        raise ApiError(422, [("Idempotency-Key",
                              f"must be text of 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")])
    return value


def _with_header_key(item: ResponseItem) -> ResponseItem:
    """The item keyed by the ``Idempotency-Key`` header, when one came."""
    header = _header_key()
    if header is None:
        return item
    if item.idempotency_key is not None and item.idempotency_key != header:
        raise ApiError(422, [("Idempotency-Key",
                              "differs from the body's idempotency_key; send one key")])
    return replace(item, idempotency_key=header)


def _with_header_keys(items: list[ResponseItem], body: dict[str, Any]) -> list[ResponseItem]:
    """A batch under an ``Idempotency-Key`` header: each item without its own key gets
    ``<header>/<index>``, fingerprinted by the whole batch, so a retry with another
    batch under the same header is refused rather than half-stored."""
    header = _header_key()
    if header is None:
        return items
    whole = responses.request_hash(body)
    return [
        item if item.idempotency_key is not None
        else replace(item, idempotency_key=f"{header}/{index}", request_hash=whole)
        for index, item in enumerate(items)
    ]


def _parse_time(value: Any) -> tuple[datetime | None, str | None]:
    reason = "must be an ISO 8601 time with its zone, e.g. 2026-05-01T12:30:00+09:00"
    if not isinstance(value, str) or len(value) > 40:
        return None, reason
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, reason
    if moment.tzinfo is None:
        return None, reason
    try:
        return moment.astimezone(UTC), None
    except OverflowError:
        return None, reason


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
