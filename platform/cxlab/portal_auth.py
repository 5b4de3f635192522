"""Client-portal sign-in: the session user, and throttling of repeated failures.

Failed logins are rows in ``login_attempts``, so every server worker (and every
machine on one database) counts the same failures. Throttling follows the OWASP
authentication cheat sheet and never locks an account out:

* per **account and address**: after a few failures, each further try from that
  address for that account waits an exponentially growing delay (capped);
* per **address**: too many failures from one address, for any accounts, refuse it
  for a while (password spraying).

An attacker who knows an e-mail address only slows *their own* tries; the owner,
signing in from elsewhere, is not affected. A refused try is not checked against the
password and not counted, so limits lift as failures age out.

>>> from datetime import UTC, datetime, timedelta
>>> from cxlab.db import Database
>>> database = Database("sqlite://")
>>> database.migrate()
>>> policy = LoginPolicy(free_failures=2, max_failures_per_ip=10,
...                      first_delay=timedelta(seconds=30))
>>> now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
>>> with database.session() as session:
...     for _ in range(2):
...         record_failure(session, "ana@acme.example", "192.0.2.1", policy, now=now)
...     lockout(session, "ana@acme.example", "192.0.2.1", policy, now=now)
Lockout(reason='backoff', retry_after_seconds=30)
>>> with database.session() as session:  # the owner, from her own address
...     lockout(session, "ana@acme.example", "198.51.100.7", policy, now=now) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cxlab.db.models import LoginAttempt, Tenant, User
from cxlab.identifiers import MAX_EMAIL_LENGTH
from cxlab.org.scope import user_scope

MAX_IP_LENGTH = 64


@dataclass(frozen=True)
class LoginPolicy:
    """How failures within ``window`` slow further tries.

    ``free_failures`` failures of one account from one address cost nothing; from then
    on each try waits ``first_delay``, doubling per failure up to ``max_delay``. An
    address with ``max_failures_per_ip`` failures (any accounts) waits until they are
    older than ``window``; one office behind a NAT shares an address, so it is generous.
    """

    free_failures: int = 3
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)
    max_failures_per_ip: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Lockout:
    """Why a login is refused right now (``backoff`` for this account from this
    address, or ``ip``) and for how long."""

    reason: str
    retry_after_seconds: int


@dataclass(frozen=True)
class PortalUser:
    """A signed-in client: the user, their role and their tenant."""

    user_id: int
    email: str
    tenant: Tenant
    role: str = "viewer"
    # The units the user is limited to (cxlab.org.scope); None: the whole tenant.
    scope: tuple[str, ...] | None = None

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
    """The wait in force for ``email`` from ``client_ip``, else None."""
    now = now or datetime.now(UTC)
    since = now - policy.window
    client_ip = client_ip[:MAX_IP_LENGTH]
    recent = list(session.scalars(
        select(LoginAttempt.attempted_at)
        .where(LoginAttempt.client_ip == client_ip, LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at.desc())
        .limit(policy.max_failures_per_ip)
    ))
    if len(recent) >= policy.max_failures_per_ip:
        # Refused until the oldest of the last ``limit`` failures leaves the window.
        return _wait("ip", recent[-1] + policy.window, now)
    pair = list(session.scalars(
        select(LoginAttempt.attempted_at)
        .where(LoginAttempt.email == normalize_email(email),
               LoginAttempt.client_ip == client_ip, LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at.desc())
    ))
    if len(pair) >= policy.free_failures:
        doublings = min(len(pair) - policy.free_failures, 20)
        delay = min(policy.first_delay * 2**doublings, policy.max_delay)
        if pair[0] + delay > now:
            return _wait("backoff", pair[0] + delay, now)
    return None


def _wait(reason: str, lifts_at: datetime, now: datetime) -> Lockout:
    return Lockout(reason, max(1, ceil((lifts_at - now).total_seconds())))


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


def clear_failures(session: Session, email: str, client_ip: str | None = None) -> int:
    """Forget an e-mail's failures (from ``client_ip`` only, when given) after its owner
    signed in there, or when an operator unlocks it; returns how many were forgotten.
    Other addresses' failures for it, and each address's count, stay."""
    condition = LoginAttempt.email == normalize_email(email)
    if client_ip is not None:
        condition &= LoginAttempt.client_ip == client_ip[:MAX_IP_LENGTH]
    return session.execute(delete(LoginAttempt).where(condition)).rowcount


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
                      role=row.User.role, scope=user_scope(session, row.User.id))


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of a user, every copy of every cookie: sign-out, a password
    reset and disabling the user all raise the generation the cookies must carry."""
    session.execute(
        update(User).where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
