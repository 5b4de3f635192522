"""Operator actions on accounts: list, disable and enable portal users, reset a
password, lift sign-in throttling, list and revoke API keys (``cxlab user …``,
``cxlab apikey …``).

Disabling a user and resetting a password end every session of that user at once
(:func:`cxlab.portal_auth.end_sessions`).

>>> from cxlab.db import Database
>>> from cxlab.tenancy import create_tenant, create_user
>>> database = Database("sqlite://")
>>> database.migrate()
>>> with database.session() as session:
...     acme = create_tenant(session, "acme", "Acme")
...     _ = create_user(session, acme, "ana@acme.example", "a long passphrase")
...     disable_user(session, "ana@acme.example")
...     [(u.email, u.disabled) for u in list_users(session, "acme")]
[('ana@acme.example', True)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxlab import auth, portal_auth
from cxlab.db.models import ApiKey, User
from cxlab.errors import CxlabError, NotFound
from cxlab.org import user_scope
from cxlab.tenancy import get_tenant


@dataclass(frozen=True)
class UserRow:
    email: str
    role: str
    created_at: datetime
    disabled: bool
    scope: tuple[str, ...] | None = None  # unit codes; None: the whole tenant


@dataclass(frozen=True)
class ApiKeyRow:
    prefix: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def list_users(session: Session, tenant_slug: str) -> list[UserRow]:
    """The tenant's portal users, by e-mail."""
    tenant = get_tenant(session, tenant_slug)
    return [UserRow(u.email, u.role, u.created_at, u.disabled_at is not None,
                    user_scope(session, u.id))
            for u in session.scalars(select(User).where(User.tenant_id == tenant.id)
                                     .order_by(User.email))]


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == portal_auth.normalize_email(email)))
    if user is None:
        raise NotFound(f"no user {email!r}; see: cxlab user list --tenant SLUG")
    return user


def disable_user(session: Session, email: str) -> None:
    """Refuse the user's sign-ins and end all their sessions now."""
    user = _user(session, email)
    if user.disabled_at is None:
        user.disabled_at = datetime.now(UTC)
    session.flush()
    portal_auth.end_sessions(session, user.id)


def enable_user(session: Session, email: str) -> None:
    """Let a disabled user sign in again (their old sessions stay ended)."""
    _user(session, email).disabled_at = None


def reset_password(session: Session, email: str, password: str) -> None:
    """Set a new password and end every session signed in with the old one."""
    problem = auth.password_problem(password)
    if problem:
        raise CxlabError(problem)
    user = _user(session, email)
    user.password_hash = auth.hash_password(password)
    session.flush()
    portal_auth.end_sessions(session, user.id)


def unlock_user(session: Session, email: str) -> int:
    """Forget the e-mail's failed sign-ins from every address; returns how many."""
    return portal_auth.clear_failures(session, email)


def list_api_keys(session: Session, tenant_slug: str) -> list[ApiKeyRow]:
    """The tenant's API keys (prefix and name; the key itself is never stored)."""
    tenant = get_tenant(session, tenant_slug)
    return [ApiKeyRow(k.prefix, k.name, k.created_at, k.revoked_at)
            for k in session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant.id)
                                     .order_by(ApiKey.id))]
