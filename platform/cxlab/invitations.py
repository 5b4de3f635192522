"""Personal survey links: one unguessable token per respondent, one response each.

>>> from cxlab.db import Database
>>> from cxlab.surveys import parse_definition
>>> from cxlab.surveys.catalog import publish_survey
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> definition = parse_definition({"slug": "pulse", "title": "Pulse",
...     "attributes": ["department"],
...     "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]})
>>> with database.session() as session:
...     tenant = create_tenant(session, "acme", "Acme")
...     survey = publish_survey(session, tenant, definition)
...     invitation = create_invitation(session, tenant, survey, {"department": "sales"})
...     find_invitation(session, invitation.token).attributes
{'department': 'sales'}
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxlab.db.models import Invitation, Survey, Tenant
from cxlab.errors import CxlabError, NotFound
from cxlab.surveys.catalog import definition_of

TOKEN_BYTES = 24  # 192 random bits: unguessable, and 32 URL-safe characters


def create_invitation(
    session: Session,
    tenant: Tenant,
    survey: Survey,
    attributes: dict[str, Any] | None = None,
    email: str | None = None,
) -> Invitation:
    """A new invitation to ``survey`` carrying the respondent's ``attributes``.

    Attributes must be declared by the survey (e.g. ``department``), with a value from
    its list when the survey gives one. The link is ``/i/<token>``.
    """
    if survey.tenant_id != tenant.id:
        raise NotFound(f"tenant {tenant.slug!r} has no survey {survey.slug!r}")
    attributes = dict(attributes or {})
    definition = definition_of(survey)
    for name, value in attributes.items():
        declared = definition.attribute(name)
        if declared is None:
            names = ", ".join(a.name for a in definition.attributes) or "none"
            raise CxlabError(
                f"survey {survey.slug!r} has no attribute {name!r} (it has: {names})"
            )
        if declared.values and value not in declared.values:
            raise CxlabError(
                f"attribute {name}={value!r}: must be one of {', '.join(declared.values)}"
            )
    invitation = Invitation(
        tenant_id=tenant.id,
        survey_id=survey.id,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        email=email,
        attributes=attributes,
    )
    session.add(invitation)
    session.flush()
    return invitation


@dataclass(frozen=True)
class InvitationLink:
    """What a personal link opens: the invitation, its survey and its tenant's slug."""

    invitation: Invitation
    survey: Survey
    tenant_slug: str


def open_invitation(session: Session, token: str) -> InvitationLink:
    """The invitation with ``token`` with its survey and tenant, in one query.

    Raises :class:`NotFound` for an unknown token.
    """
    row = None
    if 0 < len(token) <= 64:
        row = session.execute(
            select(Invitation, Survey, Tenant.slug)
            .join(Survey, (Survey.id == Invitation.survey_id)
                  & (Survey.tenant_id == Invitation.tenant_id))
            .join(Tenant, Tenant.id == Invitation.tenant_id)
            .where(Invitation.token == token)
        ).first()
    if row is None:
        raise NotFound("no invitation with this link")
    return InvitationLink(*row)


def find_invitation(session: Session, token: str) -> Invitation:
    """The invitation with ``token``; the token itself names the tenant.

    Raises :class:`NotFound` for an unknown token.
    """
    invitation = None
    if 0 < len(token) <= 64:
        invitation = session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None:
        raise NotFound("no invitation with this link")
    return invitation
