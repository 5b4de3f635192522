"""Unsubscribe links that carry no address: ``/u/<token>``, where the token is a
random id (stored in ``opt_out_links`` with the tenant and the address) signed under
the server's secret key. Long-lived — an unsubscribe link must keep working — but
revocable: a revoked link is not found, and the next e-mail gets a new one.

>>> from cxlab.db import Database
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> with database.session() as session:
...     tenant = create_tenant(session, "acme", "Acme")
...     token = opt_out_link_token(session, "k" * 32, tenant.id, "Ana@Example.com")
...     "ana" in token.lower(), read_opt_out_link(session, "k" * 32, token)
(False, (1, 'ana@example.com'))
>>> with database.session() as session:
...     revoke_opt_out_links(session, 1, "ana@example.com")
...     read_opt_out_link(session, "k" * 32, token) is None
1
True
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxlab.db.models import OptOutLink

SALT = "cxlab.opt-out-link"
MAX_TOKEN_LENGTH = 200


def opt_out_link_token(session: Session, secret_key: str, tenant_id: int, email: str) -> str:
    """The token of ``email``'s unsubscribe link from the tenant (made once, reused)."""
    email = email.lower()
    link = _row(session, tenant_id, email)
    if link is None:
        try:
            with session.begin_nested():
                link = OptOutLink(tenant_id=tenant_id, email=email,
                                  token=secrets.token_urlsafe(24))
                session.add(link)
        except IntegrityError:  # another process made it a moment ago
            link = _row(session, tenant_id, email)
    elif link.revoked_at is not None:
        # One row per address: a revoked link is re-keyed, the old token stays dead.
        link.token, link.revoked_at = secrets.token_urlsafe(24), None
        session.flush()
    return URLSafeSerializer(secret_key, salt=SALT).dumps(link.token)


def read_opt_out_link(session: Session, secret_key: str, token: str) -> tuple[int, str] | None:
    """``(tenant_id, email)`` of a genuine, unrevoked unsubscribe token, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        random_id = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(random_id, str):
        return None
    row = session.execute(
        select(OptOutLink.tenant_id, OptOutLink.email)
        .where(OptOutLink.token == random_id, OptOutLink.revoked_at.is_(None))
    ).first()
    return (row.tenant_id, row.email) if row is not None else None


def revoke_opt_out_links(session: Session, tenant_id: int, email: str) -> int:
    """Revoke ``email``'s unsubscribe link from the tenant; returns how many were."""
    return session.execute(
        update(OptOutLink)
        .where(OptOutLink.tenant_id == tenant_id, OptOutLink.email == email.lower(),
               OptOutLink.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    ).rowcount


def _row(session: Session, tenant_id: int, email: str) -> OptOutLink | None:
    return session.scalar(select(OptOutLink).where(
        OptOutLink.tenant_id == tenant_id, OptOutLink.email == email))
