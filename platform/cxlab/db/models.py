"""The OLTP schema: SQLAlchemy 2 typed models, one class per table.

Every row that holds a client's data carries ``tenant_id``; queries in the query
modules (``cxlab.tenancy``, ``cxlab.surveys.store``, ``cxlab.responses``) always filter
on it. The schema is created and changed only by the Alembic migrations in
``cxlab/db/migrations`` (``cxlab init``); a test checks that models and migrations agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on both databases.

    SQLite keeps no zone, so values are stored in UTC and come back marked as UTC;
    a naive value passed in is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC) if dialect.name != "sqlite" else value
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONDocument, datetime: UTCDateTime()}


class Tenant(Base):
    """A client company: everything else belongs to exactly one tenant."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(40), default="standard")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The language ("ja" or "en") of the tenant's reports and report e-mails.
    language: Mapped[str] = mapped_column(String(5), default="ja", server_default="ja")


class User(Base):
    """A tenant member who logs in to the client portal. E-mails are unique overall,
    so a login names exactly one tenant."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every portal session carries the generation it was issued under; raising it
    # (sign-out, password reset, disabling) ends every copy of every session cookie.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    disabled_at: Mapped[datetime | None]


class ApiKey(Base):
    """A tenant-scoped API key. Only a hash is stored; the prefix identifies it in lists."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Survey(Base):
    """A survey with its current definition; earlier versions live in survey_versions."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("tenant_id", "slug", name="uq_surveys_tenant_slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    definition: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10), default="open")
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyVersion(Base):
    """Every definition a survey has had, so old responses keep their meaning."""

    __tablename__ = "survey_versions"
    __table_args__ = (
        UniqueConstraint("survey_id", "version", name="uq_survey_versions_survey_version"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Distribution(Base):
    """One sending of a survey to a list of recipients."""

    __tablename__ = "distributions"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    reminder_after_days: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """A personal survey link: one unguessable token, one response."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    distribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("distributions.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unlinked surveys: the random idempotency key of a half-done response, so the link
    # resumes it; cleared once the response is complete, leaving nothing that links.
    response_key: Mapped[str | None] = mapped_column(String(64))


class Response(Base):
    """One respondent's answers. ``status`` is 'complete' or 'partial' (a saved,
    unfinished long survey); analysis reads complete ones unless asked otherwise."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "idempotency_key", name="uq_responses_survey_idempotency"),
        Index("ix_responses_tenant_survey_id", "tenant_id", "survey_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    survey_version: Mapped[int]
    # Unique: one response per invitation (NULL for API, open-link and unlinked ones).
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True, unique=True
    )
    status: Mapped[str] = mapped_column(String(10), default="complete")
    submitted_at: Mapped[datetime]
    answers: Mapped[dict[str, Any]]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Scoped to its source: "api:<api key id>:<client key>", "form-…", "inv-…".
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the request a client key came with: the same key with another body
    # is refused (422) instead of silently answered with the first one's id.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The page a partial response resumes at (None once complete); its submitted_at is
    # the time of the last saved page, so resume links expire from there.
    resume_page: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One run of a scheduled job for one tenant (or for all when tenant is NULL);
    ``attempt`` counts its tries, ``error`` holds the last one's."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempt: Mapped[int] = mapped_column(default=1)
    error: Mapped[str | None] = mapped_column(Text)
    output_path: Mapped[str | None] = mapped_column(String(500))
    # "job/tenant id or -/scheduled time": unique, so inserting the row is the lock that
    # keeps two runners from running the same job for the same tenant and time.
    run_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    # While running: the runner renews the lease; once it has run out (the runner died)
    # another runner may take the run over. The owner fences a runner that lost it.
    lease_expires_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))


class OutboxMessage(Base):
    """An e-mail to send. The database is the queue: queued → sending → sent/failed
    (or 'unknown' after a crash mid-send, 'skipped' for an address that opted out)."""

    __tablename__ = "outbox"
    __table_args__ = (
        # At most one message of each kind per invitation: queuing twice is a no-op.
        Index("ix_outbox_invitation_kind", "invitation_id", "kind", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # When a sender claimed the row (queued → sending), and the Message-ID it set just
    # before handing the message to SMTP: a stale 'sending' row without one was never
    # handed over (safe to requeue); with one it may have gone out ('unknown').
    claimed_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    # A file sent along (the report PDF), read when the message is built.
    attachment_path: Mapped[str | None] = mapped_column(String(500))
    # "report/<job>/<user id>/<period start>": unique, so a report goes to a user once
    # per run however often the job is retried or re-run (NULL for invitations).
    delivery_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class LoginAttempt(Base):
    """A failed client-portal login, kept for a short while so repeated failures per
    e-mail and per client IP lock further tries out, across all server workers."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    client_ip: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(index=True)


class OptOut(Base):
    """An address that unsubscribed from one tenant's e-mails; never mailed again by it."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("tenant_id", "email", name="uq_opt_outs_tenant_email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # Stored lower-cased, so Ana@Example.com and ana@example.com are one address.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OptOutLink(Base):
    """The opaque token of an address's unsubscribe link (the link carries no address);
    long-lived, revoked by setting ``revoked_at``."""

    __tablename__ = "opt_out_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email", name="uq_opt_out_links_tenant_email"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ReportSubscription(Base):
    """A portal user who receives a report job's PDF by e-mail (their own tenant's)."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "job", name="uq_report_subscriptions_user_job"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    job: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgUnit(Base):
    """A unit of a tenant's organisation tree: head office, area, store, department.
    A store's ``code`` is the value of the survey's segment attribute its answers carry;
    where the unit sits in the tree, and since when, is in ``org_links``."""

    __tablename__ = "org_units"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_org_units_tenant_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgLink(Base):
    """A unit's parent from ``valid_from`` (None: since always) until ``valid_to``
    (None: still). A store that moves gets a new link; the old one keeps its answers
    until the move under the old area. A root unit has links without a parent."""

    __tablename__ = "org_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"),
                                         index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_units.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]


class UserScope(Base):
    """A unit a portal user is limited to (with every unit below it); a user with no
    row sees the whole tenant."""

    __tablename__ = "user_scopes"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", name="uq_user_scopes_user_unit"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))
