"""Client-portal sign-in: the session user, and the lockout after repeated failures.

Failed logins are rows in ``login_attempts``, so every server worker (and every
machine on one database) counts the same failures. A login is refused while the
e-mail, or the client IP, has too many recent failures; a refused try is not checked
against the password and not counted, so the lock lifts when the failures age out.

>>> from datetime import UTC, datetime, timedelta
>>> from cxlab.db import Database
>>> database = Database("sqlite://")
>>> database.migrate()
>>> policy = LoginPolicy(max_failures_per_email=2, max_failures_per_ip=10,
...                      window=timedelta(minutes=15))
>>> now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
>>> with database.session() as session:
...     for _ in range(2):
...         record_failure(session, "ana@acme.example", "192.0.2.1", policy, now=now)
...     lockout(session, "ana@acme.example", "192.0.2.9", policy, now=now)
Lockout(reason='email', retry_after_seconds=900)
>>> with database.session() as session:
...     lockout(session, "ana@acme.example", "192.0.2.9", policy,
...             now=now + timedelta(minutes=16)) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cxlab.db.models import LoginAttempt, Tenant, User

MAX_EMAIL_LENGTH = 320
MAX_IP_LENGTH = 64


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures within ``window`` lock an e-mail or a client IP out.

    The lock lasts until those failures are older than ``window``. An IP gets more
    tries than an e-mail: one office behind a NAT shares an address.
    """

    max_failures_per_email: int = 5
    max_failures_per_ip: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Lockout:
    """Why a login is refused right now (``email`` or ``ip``) and for how long."""

    reason: str
    retry_after_seconds: int


@dataclass(frozen=True)
class PortalUser:
    """A signed-in client: the user, their role and their tenant."""

    user_id: int
    email: str
    tenant: Tenant
    role: str = "viewer"

    @property
    def may_distribute(self) -> bool:
        """Only a tenant's admins may send its surveys to recipient lists."""
        return self.role == "admin"


def normalize_email(email: str) -> str:
    return email.strip().lower()[:MAX_EMAIL_LENGTH]


def lockout(
    session: Session, email: str, client_ip: str, policy: LoginPolicy,
    *, now: datetime | None = None,
) -> Lockout | None:
    """The lockout in force for ``email`` or ``client_ip``, else None."""
    now = now or datetime.now(UTC)
    since = now - policy.window
    checks = (
        ("email", LoginAttempt.email == normalize_email(email), policy.max_failures_per_email),
        ("ip", LoginAttempt.client_ip == client_ip[:MAX_IP_LENGTH], policy.max_failures_per_ip),
    )
    for reason, condition, limit in checks:
        recent = list(session.scalars(
            select(LoginAttempt.attempted_at)
            .where(condition, LoginAttempt.attempted_at > since)
            .order_by(LoginAttempt.attempted_at.desc())
            .limit(limit)
        ))
        if len(recent) >= limit:
            # Locked until the oldest of the last ``limit`` failures leaves the window.
            lifts_at = recent[-1] + policy.window
            return Lockout(reason, max(1, ceil((lifts_at - now).total_seconds())))
    return None


def record_failure(
    session: Session, email: str, client_ip: str, policy: LoginPolicy,
    *, now: datetime | None = None,
) -> None:
    """Count one failed login; forget failures too old to matter any more."""
    now = now or datetime.now(UTC)
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - policy.window))
    session.add(LoginAttempt(
        email=normalize_email(email), client_ip=client_ip[:MAX_IP_LENGTH], attempted_at=now,
    ))
    session.flush()


def clear_failures(session: Session, email: str) -> None:
    """Forget an e-mail's failures after its owner signed in (the IP's stay counted)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == normalize_email(email)))


def portal_user(
    session: Session, user_id: int, tenant_id: int, generation: int | None = None
) -> PortalUser | None:
    """The user of a portal session, if they still exist in that tenant, are not
    disabled and (given ``generation``) their sessions have not been ended since."""
    row = session.execute(
        select(User, Tenant)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.id == user_id, User.tenant_id == tenant_id, User.disabled_at.is_(None))
    ).first()
    if row is None:
        return None
    if generation is not None and row.User.session_generation != generation:
        return None
    return PortalUser(user_id=row.User.id, email=row.User.email, tenant=row.Tenant,
                      role=row.User.role)


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of a user, every copy of every cookie: sign-out, a password
    reset and disabling the user all raise the generation the cookies must carry."""
    session.execute(
        update(User).where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
