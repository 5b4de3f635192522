"""An operator's view of the e-mail queue (``cxlab outbox list [--unknown]``), and
settling rows left 'unknown' by a sender that died while handing a message to SMTP
(``cxlab outbox resolve ID --sent|--not-sent``; see :mod:`cxlab.outbox`).

>>> from cxlab.db import Database
>>> database = Database("sqlite://"); database.migrate()
>>> outbox_rows(database, unknown_only=True)
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cxlab.db import Database
from cxlab.db.models import OutboxMessage, Tenant
from cxlab.errors import NotFound
from cxlab.outbox import resolve_unknown


@dataclass(frozen=True)
class OutboxRow:
    id: int
    tenant: str
    status: str
    to_address: str
    message_id: str | None
    claimed_at: datetime | None
    smtp_reply: str | None


def outbox_rows(
    database: Database, *, unknown_only: bool = False, tenant: str | None = None,
    limit: int = 100,
) -> list[OutboxRow]:
    """The newest ``limit`` outbox rows (only 'unknown' ones with ``unknown_only``)."""
    query = (select(OutboxMessage.id, Tenant.slug, OutboxMessage.status,
                    OutboxMessage.to_address, OutboxMessage.message_id,
                    OutboxMessage.claimed_at, OutboxMessage.smtp_reply)
             .join(Tenant, Tenant.id == OutboxMessage.tenant_id)
             .order_by(OutboxMessage.id.desc()).limit(limit))
    if unknown_only:
        query = query.where(OutboxMessage.status == "unknown")
    if tenant is not None:
        query = query.where(Tenant.slug == tenant)
    with database.session() as session:
        return [OutboxRow(*row) for row in session.execute(query)]


def resolve_message(database: Database, message_id: int, *, was_sent: bool) -> None:
    """Settle 'unknown' outbox message ``message_id`` of whichever tenant holds it
    (:func:`cxlab.outbox.resolve_unknown`); :class:`NotFound` when there is none."""
    with database.session() as session:
        tenant = session.scalar(
            select(Tenant).join(OutboxMessage, OutboxMessage.tenant_id == Tenant.id)
            .where(OutboxMessage.id == message_id))
        if tenant is None:
            raise NotFound(f"no outbox message {message_id}")
        resolve_unknown(session, tenant, message_id, was_sent=was_sent)
