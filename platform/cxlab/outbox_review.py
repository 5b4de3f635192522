"""``cxlab outbox list [--unknown]`` and ``cxlab outbox resolve ID --sent|--not-sent``:
an operator's view of the e-mail queue, and settling rows left 'unknown' by a sender
that died while handing a message to SMTP (see :mod:`cxlab.outbox`).

>>> from cxlab.db import Database
>>> database = Database("sqlite://"); database.migrate()
>>> outbox_rows(database, unknown_only=True)
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import click
from sqlalchemy import select

from cxlab.config import Config
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


def list_command(config: Config, *, unknown_only: bool, tenant: str | None, limit: int) -> int:
    database = Database(config.database_url)
    try:
        rows = outbox_rows(database, unknown_only=unknown_only, tenant=tenant, limit=limit)
    finally:
        database.dispose()
    if not rows:
        click.echo("no 'unknown' e-mails: nothing to settle" if unknown_only else "no e-mails")
        return 0
    for row in rows:
        claimed = row.claimed_at.isoformat(timespec="seconds") if row.claimed_at else "-"
        click.echo(f"{row.id}\t{row.tenant}\t{row.status}\t{row.to_address}\t"
                   f"{row.message_id or '-'}\t{claimed}")
    if unknown_only:
        click.echo("search the SMTP server's log for each Message-ID, then: "
                   "cxlab outbox resolve ID --sent (it was delivered) or --not-sent "
                   "(it is queued again)", err=True)
    return 0


def resolve_command(config: Config, message_id: int, *, was_sent: bool) -> int:
    database = Database(config.database_url)
    try:
        with database.session() as session:
            tenant = session.scalar(
                select(Tenant).join(OutboxMessage, OutboxMessage.tenant_id == Tenant.id)
                .where(OutboxMessage.id == message_id))
            if tenant is None:
                raise NotFound(f"no outbox message {message_id}")
            resolve_unknown(session, tenant, message_id, was_sent=was_sent)
    finally:
        database.dispose()
    click.echo(f"outbox message {message_id}: "
               + ("marked sent" if was_sent else "queued again; the next send run sends it"))
    return 0
