"""Stored responses read back from the database, a chunk at a time (the API's exports).

Every read is scoped by the survey row it is given, which carries its tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cxlab.db import Database
from cxlab.db.models import Response, Survey

EXPORT_CHUNK_SIZE = 1000


@dataclass(frozen=True)
class StoredResponse:
    """One response as stored: its answers and attributes as the respondent gave them."""

    id: int
    status: str
    survey_version: int
    submitted_at: datetime
    attributes: dict[str, Any]
    answers: dict[str, Any]


def iter_responses(
    database: Database,
    survey: Survey,
    *,
    since: datetime | None = None,
    include_partial: bool = False,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    where: Any = None,
) -> Iterator[StoredResponse]:
    """Every response of ``survey`` in id order, read ``chunk_size`` rows at a time;
    with ``where`` (an SQL condition on ``responses``, e.g. a scoped user's:
    :func:`cxlab.org.scoped.scope_conditions`) only those it matches.

    Each chunk is its own short query and transaction (keyset on the id), so memory
    stays flat however many rows there are, and a slow reader never holds a database
    transaction open (which would stall SQLite's WAL checkpoints).
    """
    columns = (
        Response.id, Response.status, Response.survey_version, Response.submitted_at,
        Response.attributes, Response.answers,
    )
    last_id = 0
    while True:
        query = (
            select(*columns)
            .where(
                Response.tenant_id == survey.tenant_id,
                Response.survey_id == survey.id,
                Response.id > last_id,
            )
            .order_by(Response.id)
            .limit(chunk_size)
        )
        if not include_partial:
            query = query.where(Response.status == "complete")
        if since is not None:
            query = query.where(Response.submitted_at >= since)
        if where is not None:
            query = query.where(where)
        with database.session() as session:
            rows = session.execute(query).all()
        for row in rows:
            yield StoredResponse(*row)
        if len(rows) < chunk_size:
            return
        last_id = rows[-1].id
