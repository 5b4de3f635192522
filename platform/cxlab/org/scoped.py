"""A scoped user's :class:`~cxlab.org.scope.Visibility` as SQL conditions on the
tenant's ``responses`` and ``invitations``: each survey's segment attribute (its first
attribute) must be a visible code at the row's time — the answer's ``submitted_at``, the
invitation's ``created_at``. A survey without a segment attribute matches nothing.
The portal's counts and response rates filter through these.

>>> from cxlab.db import Database
>>> database = Database("sqlite://")
>>> database.migrate()
>>> with database.session() as session:
...     scope_conditions(session, 1, None) is None  # no scope: no condition
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from cxlab.db.models import Invitation, Response, Survey
from cxlab.org.scope import visible_segments
from cxlab.surveys.catalog import definition_of


@dataclass(frozen=True)
class ScopeConditions:
    """Where-clauses limiting ``responses`` and ``invitations`` to a user's scope."""

    responses: Any
    invitations: Any


def scope_conditions(session: Session, tenant_id: int,
                     scope: Iterable[str] | None) -> ScopeConditions | None:
    """The conditions for a user with ``scope`` (unit codes) in tenant ``tenant_id``;
    None for no scope (the whole tenant)."""
    visibility = visible_segments(session, tenant_id, scope)
    if visibility is None:
        return None
    responses, invitations = [], []
    for survey in session.scalars(select(Survey).where(Survey.tenant_id == tenant_id)):
        segment = definition_of(survey).roles().segment
        if segment is None:
            continue
        responses.append(and_(Response.survey_id == survey.id, visibility.sql_condition(
            Response.attributes[segment].as_string(), Response.submitted_at)))
        invitations.append(and_(Invitation.survey_id == survey.id, visibility.sql_condition(
            Invitation.attributes[segment].as_string(), Invitation.created_at)))
    return ScopeConditions(or_(*responses) if responses else false(),
                           or_(*invitations) if invitations else false())
