"""Opt-outs: the unsubscribe link in every e-mail, and the addresses that used it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxlab.config import Config
from cxlab.db.models import (
    OptOut,
    OutboxMessage,
    Tenant,
)
from cxlab.opt_out_links import opt_out_link_token


def unsubscribe_url(session: Session, config: Config, tenant_id: int, email: str) -> str:
    """The ``/u/<token>`` link that unsubscribes ``email`` from the tenant: an opaque,
    signed, revocable token (:mod:`cxlab.opt_out_links`), no address inside."""
    token = opt_out_link_token(session, config.secret_key, tenant_id, email)
    return f"{config.public_url}/u/{token}"


def opted_out_addresses(session: Session, tenant: Tenant | int) -> set[str]:
    """The tenant's unsubscribed addresses, lower-cased."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.id
    return set(session.scalars(select(OptOut.email).where(OptOut.tenant_id == tenant_id)))


def opt_out_tenant(session: Session, tenant_id: int) -> tuple[str, str] | None:
    """The ``(name, slug)`` of the tenant an unsubscribe link names (None if deleted)."""
    row = session.execute(select(Tenant.name, Tenant.slug).where(Tenant.id == tenant_id)).first()
    return None if row is None else (row.name, row.slug)


def record_opt_out(session: Session, tenant_id: int, email: str) -> bool:
    """Unsubscribe ``email`` from the tenant's e-mails and drop its queued ones; True
    when it was new. Queued messages to it are marked 'skipped' right away."""
    email = email.lower()
    known = session.scalar(select(OptOut.id).where(OptOut.tenant_id == tenant_id,
                                                   OptOut.email == email))
    if known is None:
        try:
            with session.begin_nested():
                session.add(OptOut(tenant_id=tenant_id, email=email))
        except IntegrityError:
            known = True  # a double click recorded it a moment ago
    for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id,
                                    OutboxMessage.status == "queued")
    ):
        if message.to_address.lower() == email:
            message.status = "skipped"
            message.smtp_reply = "not sent: the address unsubscribed"
    return known is None
