"""The e-mails of a distribution: invitations and reminders queued in the outbox
(:mod:`cxlab.outbox` sends them), each with its personal and its unsubscribe link.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxlab.config import Config
from cxlab.db.models import (
    Distribution,
    Invitation,
    OptOut,
    OutboxMessage,
    Tenant,
)
from cxlab.distribution.opt_out import unsubscribe_url
from cxlab.errors import CxlabError, NotFound
from cxlab.mail import invitation_texts
from cxlab.surveys.catalog import definition_of, get_survey_by_id
from cxlab.surveys.definition import localize


def queue_invitations(
    session: Session, config: Config, tenant: Tenant, distribution: Distribution
) -> int:
    """Queue the invitation e-mail of every invitation of ``distribution`` that has
    none yet (idempotent: a unique index allows one per invitation); the count queued."""
    if distribution.tenant_id != tenant.id:
        raise NotFound(f"tenant {tenant.slug!r} has no distribution {distribution.id}")
    pending = session.scalars(
        select(Invitation)
        .where(Invitation.tenant_id == tenant.id,
               Invitation.distribution_id == distribution.id,
               Invitation.email.is_not(None),
               ~_has_message(Invitation, "invitation"))
        .order_by(Invitation.id)
    ).all()
    return _queue(session, config, tenant, pending, "invitation")


def queue_reminders(
    session: Session, config: Config, *, tenant: Tenant | None = None,
    now: datetime | None = None,
) -> int:
    """Queue one reminder per invitation sent ``reminder_after_days`` ago or more that
    has no response, no reminder yet and no opt-out; of ``tenant`` or of all tenants.

    Responders never get one: an answer sets ``responded_at``; the sender checks again.
    """
    now = now or datetime.now(UTC)
    query = select(Distribution, Tenant).join(Tenant, Tenant.id == Distribution.tenant_id).where(
        Distribution.reminder_after_days.is_not(None))
    if tenant is not None:
        query = query.where(Distribution.tenant_id == tenant.id)
    queued = 0
    for distribution, owner in session.execute(query.order_by(Distribution.id)).all():
        cutoff = now - timedelta(days=distribution.reminder_after_days)
        due = session.scalars(
            select(Invitation)
            .where(Invitation.tenant_id == owner.id,
                   Invitation.distribution_id == distribution.id,
                   Invitation.sent_at.is_not(None), Invitation.sent_at <= cutoff,
                   Invitation.responded_at.is_(None), Invitation.reminded_at.is_(None),
                   ~_has_message(Invitation, "reminder"),
                   ~exists().where(OptOut.tenant_id == owner.id,
                                   OptOut.email == Invitation.email))
            .order_by(Invitation.id)
        ).all()
        queued += _queue(session, config, owner, due, "reminder")
    return queued


def _has_message(invitation, kind: str):
    return exists().where(OutboxMessage.tenant_id == invitation.tenant_id,
                          OutboxMessage.invitation_id == invitation.id,
                          OutboxMessage.kind == kind)


def _queue(session: Session, config: Config, tenant: Tenant,
           invitations: Iterable[Invitation], kind: str) -> int:
    surveys: dict[int, tuple[str, str]] = {}
    count = 0
    for invitation in invitations:
        if invitation.survey_id not in surveys:
            definition = definition_of(get_survey_by_id(session, tenant.id, invitation.survey_id))
            language = definition.languages[0]
            surveys[invitation.survey_id] = (language, localize(definition.title, language))
        language, title = surveys[invitation.survey_id]
        texts = invitation_texts(
            kind, language, tenant_name=tenant.name, survey_title=title,
            link=f"{config.public_url}/i/{invitation.token}",
            unsubscribe_link=unsubscribe_url(session, config, tenant.id, invitation.email),
        )
        session.add(OutboxMessage(
            tenant_id=tenant.id, invitation_id=invitation.id, kind=kind,
            to_address=invitation.email, subject=texts.subject, body_text=texts.text,
            body_html=texts.html, status="queued",
        ))
        count += 1
    try:
        session.flush()
    except IntegrityError:
        # Another process queued the same messages between our check and insert.
        raise CxlabError(f"{kind} e-mails were being queued by another process; "
                         "run the command again") from None
    return count
