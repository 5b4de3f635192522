"""New responses: complete answers stored many at a time, without looking first.

Most answers the survey server takes are new: a keyless one always, a keyed one (an
idempotency key, a form's nonce) unless it is a retry. The survey server's group commit
hands every such answer of one transaction to :func:`store_new_responses`, which
stores them with one multi-row INSERT on a Core connection (keyed ones with
``ON CONFLICT DO NOTHING`` on their key), with no ORM session and no lookup first.
Only a keyed answer whose key is taken already (a retry, or the partial response of a
long survey being completed) then goes through
:func:`cxlab.responses.record_response`, which answers it as ever: the earlier id, the
partial response completed, or :class:`~cxlab.responses.IdempotencyConflict`.
Answers to invitations always go through ``record_response``.

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
>>> with database.transaction() as connection:
...     store_new_responses(connection, [
...         NewResponse.of(survey, {"enps": 9}), NewResponse.of(survey, {"enps": 3}),
...         NewResponse.of(survey, {"enps": 7}, idempotency_key="k1"),
...         NewResponse.of(survey, {"enps": 7}, idempotency_key="k1")])
[Recorded(id=1, created=True), Recorded(id=2, created=True), \
Recorded(id=3, created=True), Recorded(id=3, created=False)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.dialects import postgresql, sqlite

from cxlab.db import session_on
from cxlab.db.models import Response, Survey
from cxlab.responses import Recorded, record_response


@dataclass(frozen=True)
class NewResponse:
    """One complete, validated answer to store; ``idempotency_key`` in its stored form
    (e.g. :func:`cxlab.responses.client_key`), ``request_hash`` what a repeat under
    that key must match."""

    survey: Survey
    answers: dict[str, Any]
    attributes: dict[str, str]
    submitted_at: datetime
    idempotency_key: str | None = None
    request_hash: str | None = None

    @classmethod
    def of(
        cls, survey: Survey, answers: dict[str, Any], *,
        attributes: dict[str, str] | None = None, submitted_at: datetime | None = None,
        idempotency_key: str | None = None, request_hash: str | None = None,
    ) -> NewResponse:
        """The answer to ``survey``, submitted now unless the client said when."""
        return cls(survey, answers, attributes or {}, submitted_at or datetime.now(UTC),
                   idempotency_key, request_hash)


def store_new_responses(connection: Connection, new: list[NewResponse]) -> list[Recorded]:
    """Store ``new`` in the transaction of ``connection``; what became of each, in order.

    Raises what :func:`~cxlab.responses.record_response` raises for an answer whose key
    was taken (:class:`~cxlab.responses.IdempotencyConflict`).
    """
    created_at = datetime.now(UTC)
    recorded: list[Recorded | None] = [None] * len(new)
    keyless = [place for place, item in enumerate(new) if item.idempotency_key is None]
    keyed = [place for place, item in enumerate(new) if item.idempotency_key is not None]
    if keyless:
        ids = _insert_keyless(connection, [_row(new[place], created_at) for place in keyless])
        for place, new_id in zip(keyless, ids, strict=True):
            recorded[place] = Recorded(new_id, created=True)
    if keyed:
        stored = _insert_keyed(connection, [_row(new[place], created_at) for place in keyed])
        taken = []
        for place in keyed:
            # pop: of one key sent twice in a batch, the first was stored; the second
            # is its repeat, answered like any retry below.
            new_id = stored.pop((new[place].survey.id, new[place].idempotency_key), None)
            if new_id is None:
                taken.append(place)
            else:
                recorded[place] = Recorded(new_id, created=True)
        if taken:
            with session_on(connection) as session:
                for place in taken:
                    item = new[place]
                    recorded[place] = record_response(
                        session, item.survey, item.answers, attributes=item.attributes,
                        submitted_at=item.submitted_at, idempotency_key=item.idempotency_key,
                        request_hash=item.request_hash,
                    )
    return recorded


def _row(item: NewResponse, created_at: datetime) -> dict[str, Any]:
    return {
        "tenant_id": item.survey.tenant_id, "survey_id": item.survey.id,
        "survey_version": item.survey.version, "status": "complete",
        "answers": item.answers, "attributes": item.attributes,
        "submitted_at": item.submitted_at, "created_at": created_at,
        "idempotency_key": item.idempotency_key, "request_hash": item.request_hash,
        "invitation_id": None, "resume_page": None,
    }


def _insert_keyless(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """The ids of ``rows``, in order. One row is one plain INSERT; more are one
    multi-row INSERT (SQLAlchemy's "insertmanyvalues"), costlier for a single row."""
    if len(rows) == 1:
        return [connection.execute(_INSERT, rows[0]).scalar_one()]
    if connection.dialect.name != "sqlite":
        return list(connection.execute(_INSERT_IN_ORDER, rows).scalars())
    # SQLite returns the rows of a multi-row INSERT in no promised order (asked for one,
    # SQLAlchemy would send a statement per row), but numbers them in the order of
    # VALUES, each one above the table's largest id: sorted, the ids follow ``rows``.
    # They are consecutive then, as this transaction is the only writer; anything else
    # (SQLite's random ids past the largest possible one) fails the batch, and the
    # group commit stores each answer alone instead.
    ids = sorted(connection.execute(_INSERT, rows).scalars())
    if len(ids) != len(rows) or ids[-1] - ids[0] != len(ids) - 1:
        raise RuntimeError(f"SQLite gave the rows of one INSERT the ids {ids}")
    return ids


def _insert_keyed(
    connection: Connection, rows: list[dict[str, Any]]
) -> dict[tuple[int, str], int]:
    """``{(survey id, key): id}`` of the rows stored; a row whose key is taken is not."""
    statement = _INSERT_UNLESS_KEY_TAKEN[connection.dialect.name]
    found = connection.execute(statement, rows[0] if len(rows) == 1 else rows).all()
    return {(survey_id, key): new_id for new_id, survey_id, key in found}


_INSERT = insert(Response).returning(Response.id)
_INSERT_IN_ORDER = insert(Response).returning(Response.id, sort_by_parameter_order=True)
_INSERT_UNLESS_KEY_TAKEN = {
    dialect.dialect.name: dialect.insert(Response)
    .on_conflict_do_nothing(index_elements=["survey_id", "idempotency_key"])
    .returning(Response.id, Response.survey_id, Response.idempotency_key)
    for dialect in (sqlite, postgresql)
}
