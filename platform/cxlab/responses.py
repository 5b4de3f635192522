"""Responses: record one (idempotently), save and resume a partial one
(:mod:`cxlab.stored_responses` reads them back).

Every function is scoped by the survey row it is given (which carries its tenant); the
caller owns the transaction, so "recorded" means "recorded once the session commits".

>>> from cxlab.db import Database
>>> from cxlab.surveys import parse_definition
>>> from cxlab.surveys.catalog import publish_survey
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> definition = parse_definition({"slug": "pulse", "title": "Pulse",
...     "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]})
>>> with database.session() as session:
...     survey = publish_survey(session, create_tenant(session, "acme", "Acme"), definition)
...     first = record_response(session, survey, {"enps": 9}, idempotency_key="k1")
...     again = record_response(session, survey, {"enps": 9}, idempotency_key="k1")
>>> (first.created, again.created, first.id == again.id)
(True, False, True)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxlab.db.models import Invitation, Response, Survey
from cxlab.errors import CxlabError
from cxlab.surveys.definition import SurveyDefinition

MAX_IDEMPOTENCY_KEY_LENGTH = 100


class AlreadyAnswered(CxlabError):
    """The invitation has been used for a response already (one response each)."""


class IdempotencyConflict(CxlabError):
    """An idempotency key was used before with a different request body."""


def client_key(api_key_id: int, key: str) -> str:
    """The stored form of a client's idempotency key: scoped to the API key that sent
    it, so no client can reach another client's or a server-made key (``inv-…``,
    ``form-…``).

    >>> client_key(7, "inv-4")
    'api:7:inv-4'
    """
    return f"api:{api_key_id}:{key}"


def request_hash(document: Any) -> str:
    """SHA-256 of a JSON document in a canonical form (keys sorted), as hex.

    >>> request_hash({"b": 1, "a": [2]}) == request_hash({"a": [2], "b": 1})
    True
    """
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """The id of a stored response; ``created`` is False when it existed already
    (same idempotency key seen before)."""

    id: int
    created: bool


def survey_availability(survey: Survey, now: datetime | None = None) -> str:
    """``"open"``, ``"closed"`` (status, or past ``closes_at``) or ``"not_yet_open"``.

    >>> survey_availability(Survey(status="closed"))
    'closed'
    """
    now = now or datetime.now(UTC)
    if survey.status != "open" or (survey.closes_at is not None and survey.closes_at <= now):
        return "closed"
    if survey.opens_at is not None and survey.opens_at > now:
        return "not_yet_open"
    return "open"


def clean_attributes(
    definition: SurveyDefinition, raw: Any, *, from_query_only: bool = False
) -> tuple[dict[str, str], dict[str, str]]:
    """Check respondent attributes against the survey; return ``(clean, errors)``.

    Names must be declared by the survey (only ``from_query`` ones when they come from
    an open link's query string) and values must be in the declared list, if any.

    >>> from cxlab.surveys import parse_definition
    >>> definition = parse_definition({"slug": "s", "title": "S",
    ...     "attributes": [{"name": "store", "values": ["a", "b"], "from_query": True}],
    ...     "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]})
    >>> clean_attributes(definition, {"store": "a"})
    ({'store': 'a'}, {})
    >>> clean_attributes(definition, {"store": "z", "x": "1"})[1]
    {'store': 'must be one of: a, b', 'x': 'no such attribute in this survey'}
    """
    if not isinstance(raw, dict):
        return {}, {"attributes": "must be an object mapping attribute names to text"}
    clean, errors = {}, {}
    for name, value in raw.items():
        declared = definition.attribute(name) if isinstance(name, str) else None
        if declared is None or (from_query_only and not declared.from_query):
            errors[str(name)] = "no such attribute in this survey"
        elif not isinstance(value, str) or len(value) > 200:
            errors[name] = "must be text of at most 200 characters"
        elif declared.values and value not in declared.values:
            errors[name] = f"must be one of: {', '.join(declared.values)}"
        else:
            clean[name] = value
    return clean, errors


def find_response(session: Session, survey: Survey, idempotency_key: str) -> Response | None:
    """The response to ``survey`` stored under ``idempotency_key``, complete or partial."""
    return session.scalar(
        select(Response).where(
            Response.tenant_id == survey.tenant_id,
            Response.survey_id == survey.id,
            Response.idempotency_key == idempotency_key,
        )
    )


def response_state(
    session: Session, survey: Survey, idempotency_key: str
) -> tuple[int, str, str | None] | None:
    """``(id, status, request_hash)`` of the response under ``idempotency_key``, or None.

    What ingestion asks of every keyed submission; a prebuilt Core query, because
    loading the ORM row cost more than the insert that usually follows.
    """
    return session.connection().execute(_STATE_QUERY, {
        "tenant_id": survey.tenant_id, "survey_id": survey.id, "key": idempotency_key,
    }).first()


_STATE_QUERY = select(Response.id, Response.status, Response.request_hash).where(
    Response.tenant_id == bindparam("tenant_id"),
    Response.survey_id == bindparam("survey_id"),
    Response.idempotency_key == bindparam("key"),
)


def find_resumable(
    session: Session, survey: Survey, idempotency_key: str, max_age: timedelta
) -> Response | None:
    """The partial response under ``idempotency_key`` if its last page was saved less
    than ``max_age`` ago, else None."""
    response = find_response(session, survey, idempotency_key)
    if response is None or response.status != "partial":
        return None
    if response.submitted_at < datetime.now(UTC) - max_age:
        return None
    return response


def record_response(
    session: Session,
    survey: Survey,
    answers: dict[str, Any],
    *,
    attributes: dict[str, str] | None = None,
    submitted_at: datetime | None = None,
    idempotency_key: str | None = None,
    invitation: Invitation | None = None,
    request_hash: str | None = None,
    unlinked: bool = False,
) -> Recorded:
    """Store a complete response (answers already validated) and return its id.

    With an ``idempotency_key`` seen before, nothing new is stored and the earlier id
    comes back with ``created=False``; a partial response under that key is completed.
    When both the stored response and this call have a ``request_hash`` and they
    differ, :class:`IdempotencyConflict` is raised instead.
    With an ``invitation``, the invitation is marked responded, and a second response
    raises :class:`AlreadyAnswered`; ``unlinked`` keeps the invitation's id off the
    response (the invitation records only the day it was answered).
    """
    submitted_at = submitted_at or datetime.now(UTC)
    state = response_state(session, survey, idempotency_key) if idempotency_key else None
    if state is not None and state[1] == "complete":
        _check_same_request(state[2], request_hash)
        return Recorded(state[0], created=False)
    if state is not None:
        existing = find_response(session, survey, idempotency_key)
        if existing is not None and existing.status != "complete":  # else changed meanwhile
            if invitation is not None:
                _claim_invitation(session, invitation, submitted_at, unlinked=unlinked)
            existing.status = "complete"
            existing.answers = answers
            existing.attributes = attributes or existing.attributes
            existing.submitted_at = submitted_at
            existing.resume_page = None
            session.flush()
            return Recorded(existing.id, created=True)
    if invitation is not None:
        try:
            _claim_invitation(session, invitation, submitted_at, unlinked=unlinked)
        except AlreadyAnswered:
            # A concurrent double submit of the same invitation won the race: it is
            # the same respondent, so answer as the idempotent repeat it is.
            repeat = find_response(session, survey, idempotency_key) if idempotency_key else None
            if repeat is not None and repeat.status == "complete":
                return Recorded(repeat.id, created=False)
            raise
    new_id = _insert(
        session,
        survey,
        status="complete",
        answers=answers,
        attributes=attributes or {},
        submitted_at=submitted_at,
        idempotency_key=idempotency_key,
        invitation_id=invitation.id if invitation is not None and not unlinked else None,
        resume_page=None,
        request_hash=request_hash,
    )
    if new_id is None:
        # Lost an insert race on the idempotency key: the winner's row is the answer.
        winner = find_response(session, survey, idempotency_key)
        _check_same_request(winner.request_hash, request_hash)
        return Recorded(winner.id, created=False)
    return Recorded(new_id, created=True)


def _check_same_request(stored: str | None, given: str | None) -> None:
    if stored is not None and given is not None and stored != given:
        raise IdempotencyConflict(
            "this idempotency key was used before with a different body; "
            "send a new key for a new response"
        )


def save_partial(
    session: Session,
    survey: Survey,
    answers: dict[str, Any],
    *,
    idempotency_key: str,
    resume_page: int,
    attributes: dict[str, str] | None = None,
    invitation: Invitation | None = None,
    unlinked: bool = False,
) -> int:
    """Save the answers of the pages done so far of a long survey; return the row id.

    ``unlinked``: the response keeps no invitation id; the invitation keeps the
    (random) key until the response is complete, so its link can resume it.

    The row is stored with ``status='partial'`` (left out of analysis and exports
    unless asked for) and ``resume_page``, where the respondent continues. A response
    already completed under the key is left as it is.
    """
    now = datetime.now(UTC)
    if unlinked and invitation is not None:
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.tenant_id == survey.tenant_id,
                   Invitation.response_key.is_(None))
            .values(response_key=idempotency_key)
            .execution_options(synchronize_session=False)
        )
    existing = find_response(session, survey, idempotency_key)
    if existing is None:
        new_id = _insert(
            session,
            survey,
            status="partial",
            answers=answers,
            attributes=attributes or {},
            submitted_at=now,
            idempotency_key=idempotency_key,
            invitation_id=invitation.id if invitation is not None and not unlinked else None,
            resume_page=resume_page,
        )
        if new_id is not None:
            return new_id
        existing = find_response(session, survey, idempotency_key)
    if existing.status == "partial":
        existing.answers = answers
        existing.resume_page = resume_page
        existing.submitted_at = now
        if attributes:
            existing.attributes = attributes
        session.flush()
    return existing.id


def _claim_invitation(
    session: Session, invitation: Invitation, when: datetime, *, unlinked: bool = False
) -> None:
    values: dict[str, Any] = {"responded_at": when}
    if unlinked:
        # Only *that* it was answered: the day, not the second that would match the
        # response's time, and the key of the half-done response is forgotten.
        values = {
            "responded_at": when.astimezone(UTC).replace(hour=0, minute=0, second=0,
                                                          microsecond=0),
            "response_key": None,
        }
    # One conditional UPDATE: of two concurrent submissions only one can claim it.
    claimed = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.tenant_id == invitation.tenant_id,
            Invitation.responded_at.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise AlreadyAnswered("this invitation has been answered already")


def _insert(session: Session, survey: Survey, **values: Any) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING on the idempotency key; None on a conflict.

    Core on the session's connection, with a statement built once per dialect: this is
    the hot path of ingestion, and building the statement and going through the ORM
    cost more than the insert itself.
    """
    connection = session.connection()
    statement = _INSERT_STATEMENTS[connection.dialect.name]
    row = {
        "tenant_id": survey.tenant_id, "survey_id": survey.id,
        "survey_version": survey.version, "created_at": datetime.now(UTC), **values,
    }
    return connection.execute(statement, row).scalar()


_INSERT_STATEMENTS = {
    dialect.dialect.name: dialect.insert(Response)
    .on_conflict_do_nothing(index_elements=["survey_id", "idempotency_key"])
    .returning(Response.id)
    for dialect in (sqlite, postgresql)
}
