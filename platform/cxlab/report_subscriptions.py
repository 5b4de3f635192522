"""Who receives which report job's PDF by e-mail: report subscriptions.

A subscription always names a user *and* that user's tenant; every query filters on
both, so a user only ever sees and changes their own subscriptions, for their own
tenant. The portal takes the user and tenant from the signed session, never from a
form.

>>> from cxlab.db import Database
>>> from cxlab import tenancy
>>> database = Database("sqlite://")
>>> database.migrate()
>>> with database.session() as session:
...     tenant = tenancy.create_tenant(session, "acme", "Acme")
...     user = tenancy.create_user(session, tenant, "ana@acme.example", "long passphrase")
...     subscribe(session, user.id, tenant.id)
...     [row.email for row in subscribers(session, tenant.id)]
['ana@acme.example']
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxlab.db.models import ReportSubscription, User, UserScope
from cxlab.errors import CxlabError

WEEKLY_REPORT_JOB = "weekly-report"
# The report jobs a portal user may subscribe to (the schedule's report notebooks).
SUBSCRIBABLE_JOBS = (WEEKLY_REPORT_JOB,)


def check_job(job: str) -> str:
    """``job`` if users may subscribe to it, else a :class:`CxlabError` saying which."""
    if job not in SUBSCRIBABLE_JOBS:
        raise CxlabError(f"report {job!r}: one can subscribe to {', '.join(SUBSCRIBABLE_JOBS)}")
    return job


def _own_user(session: Session, user_id: int, tenant_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))
    if user is None:
        raise CxlabError(f"user {user_id} is not a user of tenant {tenant_id}")
    return user


def is_subscribed(session: Session, user_id: int, tenant_id: int,
                  job: str = WEEKLY_REPORT_JOB) -> bool:
    """Whether the user receives ``job``'s reports of their own tenant by e-mail."""
    return session.scalar(select(ReportSubscription.id).where(
        ReportSubscription.user_id == user_id, ReportSubscription.tenant_id == tenant_id,
        ReportSubscription.job == job,
    )) is not None


def subscribe(session: Session, user_id: int, tenant_id: int,
              job: str = WEEKLY_REPORT_JOB) -> None:
    """Subscribe the user to ``job``'s reports of their tenant; subscribing twice is a no-op."""
    check_job(job)
    _own_user(session, user_id, tenant_id)
    if not is_subscribed(session, user_id, tenant_id, job):
        session.add(ReportSubscription(tenant_id=tenant_id, user_id=user_id, job=job))
        session.flush()


def unsubscribe(session: Session, user_id: int, tenant_id: int,
                job: str = WEEKLY_REPORT_JOB) -> None:
    """End the user's subscription (nothing happens when there is none)."""
    check_job(job)
    session.execute(delete(ReportSubscription).where(
        ReportSubscription.user_id == user_id, ReportSubscription.tenant_id == tenant_id,
        ReportSubscription.job == job,
    ))


def subscribers(session: Session, tenant_id: int, job: str = WEEKLY_REPORT_JOB) -> list[User]:
    """The tenant's enabled users subscribed to ``job``, by id: the users of that tenant
    only (the join checks the user's own tenant as well as the subscription's), and
    none with a scope (:mod:`cxlab.org.scope`): the report covers every store."""
    scoped = select(UserScope.id).where(UserScope.user_id == User.id).exists()
    return list(session.scalars(
        select(User).join(ReportSubscription, ReportSubscription.user_id == User.id)
        .where(ReportSubscription.tenant_id == tenant_id, User.tenant_id == tenant_id,
               ReportSubscription.job == job, User.disabled_at.is_(None), ~scoped)
        .order_by(User.id)
    ))
