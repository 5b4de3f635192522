"""Tenants, their users and API keys: the query layer for who owns what.

Every function takes the session explicitly; the caller owns the transaction.

>>> from cxlab.db import Database
>>> database = Database("sqlite://")
>>> database.migrate()
>>> with database.session() as session:
...     tenant = create_tenant(session, "acme", "Acme Foods")
...     get_tenant(session, "acme").name
'Acme Foods'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxlab import auth
from cxlab.db.models import ApiKey, Tenant, User
from cxlab.errors import AlreadyExists, CxlabError, NotFound
from cxlab.i18n import LANGUAGES
from cxlab.identifiers import SLUG_PATTERN, SLUG_RULE, is_email_address

ROLES = ("viewer", "admin")


@dataclass(frozen=True)
class ApiKeyOwner:
    """What an API key authenticates: its tenant."""

    tenant_id: int
    tenant_slug: str
    key_id: int


def create_tenant(
    session: Session, slug: str, name: str, *, plan: str = "standard", language: str = "ja"
) -> Tenant:
    """Create tenant ``slug``; ``language`` ("ja" or "en") is that of its reports."""
    _check_language(language)
    if not SLUG_PATTERN.match(slug):
        raise CxlabError(
            f"tenant slug {slug!r}: use {SLUG_RULE} (e.g. acme-foods)"
        )
    if session.scalar(select(Tenant).where(Tenant.slug == slug)) is not None:
        raise AlreadyExists(f"tenant {slug!r} already exists")
    tenant = Tenant(slug=slug, name=name or slug, plan=plan, language=language)
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}; create it with: cxlab tenant create {slug} --name ...")
    return tenant


def set_language(session: Session, slug: str, language: str) -> Tenant:
    """Set the language ("ja" or "en") of tenant ``slug``'s reports and report e-mails."""
    _check_language(language)
    tenant = get_tenant(session, slug)
    tenant.language = language
    session.flush()
    return tenant


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise CxlabError(
            f"tenant language {language!r}: use one of {', '.join(LANGUAGES)}"
        )


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def create_user(
    session: Session, tenant: Tenant, email: str, password: str, *, role: str = "viewer"
) -> User:
    email = email.strip().lower()
    if not is_email_address(email):
        raise CxlabError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise CxlabError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    problem = auth.password_problem(password)
    if problem:
        raise CxlabError(problem)
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AlreadyExists(f"a user {email} already exists")
    user = User(
        tenant_id=tenant.id, email=email, password_hash=auth.hash_password(password), role=role
    )
    session.add(user)
    session.flush()
    return user


def authenticate_user(session: Session, email: str, password: str) -> User | None:
    """The user whose e-mail and password match, else None."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        # Hash anyway so a wrong e-mail takes as long as a wrong password.
        auth.verify_password(_dummy_hash(), password)
        return None
    return user if auth.verify_password(user.password_hash, password) else None


@cache
def _dummy_hash() -> str:
    return auth.hash_password("not a real password, only for timing")


def create_api_key(session: Session, tenant: Tenant, name: str = "") -> tuple[ApiKey, str]:
    """A new key for ``tenant``: the row, and the plaintext (shown once, never stored)."""
    new_key = auth.new_api_key()
    row = ApiKey(tenant_id=tenant.id, prefix=new_key.prefix, key_hash=new_key.key_hash, name=name)
    session.add(row)
    session.flush()
    return row, new_key.plaintext


def authenticate_api_key(session: Session, plaintext: str) -> ApiKeyOwner | None:
    """The tenant a valid, unrevoked key belongs to, else None."""
    prefix = auth.api_key_prefix(plaintext)
    if prefix is None:
        return None
    row = session.execute(
        select(ApiKey, Tenant.slug)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    ).first()
    if row is None or not auth.api_key_matches(plaintext, row.ApiKey.key_hash):
        return None
    return ApiKeyOwner(tenant_id=row.ApiKey.tenant_id, tenant_slug=row.slug, key_id=row.ApiKey.id)


def revoke_api_key(session: Session, tenant: Tenant, prefix: str) -> None:
    key = session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.prefix == prefix)
    )
    if key is None:
        raise NotFound(f"tenant {tenant.slug!r} has no API key {prefix!r}")
    key.revoked_at = datetime.now(UTC)
