"""The outbox sender: the database is the queue of e-mails.

Each row goes ``queued → sending → sent`` (with the SMTP server's reply) or
``failed`` (a permanent 5xx, or too many transient tries). A transient error (4xx,
connection refused or dropped) puts the row back to ``queued`` with a later
``next_attempt_at`` (exponential backoff). A sender claims a batch with a
compare-and-set (``UPDATE … WHERE status = 'queued'``), so two senders never take the
same row.

Crash safety: just before handing a message to SMTP the sender commits its
Message-ID on the row; after the server's 250 it commits ``sent``. A row left in
``sending`` by a dead sender (older than ``lease``) is therefore recovered without
guessing: without a Message-ID it was never handed over and goes back to ``queued``;
with one it may or may not have gone out, so it becomes ``unknown`` for an operator
to settle from the SMTP server's log (:func:`resolve_unknown`) — never sent twice,
never silently dropped. At most one message per crashed sender can end there.

>>> from cxlab.config import Config
>>> from cxlab.db import Database
>>> database = Database("sqlite://")
>>> database.migrate()
>>> config = Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc"})
>>> send_queued(database, config).summary()
'sent 0, retry later 0, failed 0, skipped 0; recovered 0, unknown 0'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Invitation, OptOut, OutboxMessage, Tenant
from cxlab.distribution.opt_out import unsubscribe_url
from cxlab.errors import CxlabError, NotFound
from cxlab.mail import (
    MailTexts,
    SendError,
    Transport,
    build_message,
    new_message_id,
    transport_for,
)
from cxlab.report_subscriptions import is_subscribed

REPORT_KIND = "report"  # cxlab.report_mail's rows: a report PDF to a subscriber
DEFAULT_BATCH_SIZE = 100
DEFAULT_RATE = 5.0  # messages per second; most relays throttle or block beyond ~10/s
DEFAULT_LEASE = timedelta(minutes=15)  # longer than any batch takes (size / rate + timeouts)
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 60  # 1, 2, 4 … 64 minutes: a greylisting relay accepts within these
MAX_BACKOFF_SECONDS = 3600


@dataclass
class SendReport:
    """What one run of the sender did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0
    unknown: int = 0

    def summary(self) -> str:
        return (f"sent {self.sent}, retry later {self.retried}, failed {self.failed}, "
                f"skipped {self.skipped}; recovered {self.recovered}, unknown {self.unknown}")


class RateLimiter:
    """Spaces calls at least ``1 / rate`` seconds apart.

    >>> limiter = RateLimiter(1000.0)
    >>> limiter.wait(); limiter.wait()
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise CxlabError(f"rate {rate}: give a number of messages per second above 0")
        self.interval = 1.0 / rate
        self._next = 0.0

    def wait(self) -> None:
        pause = self._next - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._next = max(self._next, time.monotonic()) + self.interval


def backoff(attempts: int) -> timedelta:
    """The wait before try ``attempts + 1``.

    >>> [int(backoff(n).total_seconds()) for n in (1, 2, 3, 9)]
    [60, 120, 240, 3600]
    """
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def recover_stale(
    session: Session, *, now: datetime, lease: timedelta = DEFAULT_LEASE,
    tenant_id: int | None = None,
) -> tuple[int, int]:
    """Settle rows left in 'sending' longer than ``lease`` by a sender that died:
    back to 'queued' when never handed to SMTP, else 'unknown'. ``(requeued, unknown)``.
    """
    query = select(OutboxMessage).where(OutboxMessage.status == "sending",
                                        OutboxMessage.claimed_at < now - lease)
    if tenant_id is not None:
        query = query.where(OutboxMessage.tenant_id == tenant_id)
    requeued = unknown = 0
    for row in session.scalars(query.with_for_update(skip_locked=True)):
        if row.message_id is None:
            row.status, row.claimed_at = "queued", None
            requeued += 1
        else:
            row.status = "unknown"
            row.smtp_reply = (
                f"the sender stopped while handing over {row.message_id}; it may have been "
                "delivered. Search the SMTP server's log for this Message-ID, then settle it "
                f"with cxlab outbox resolve {row.id} --sent (or --not-sent)"
            )
            unknown += 1
    return requeued, unknown


def resolve_unknown(session: Session, tenant: Tenant, message_id: int, *, was_sent: bool) -> None:
    """Settle an 'unknown' row after checking the SMTP log: ``was_sent`` marks it sent,
    otherwise it is queued again (and sent on the next run)."""
    row = session.scalar(select(OutboxMessage).where(
        OutboxMessage.tenant_id == tenant.id, OutboxMessage.id == message_id,
        OutboxMessage.status == "unknown"))
    if row is None:
        raise NotFound(f"tenant {tenant.slug!r} has no outbox message {message_id} "
                       "in state 'unknown'")
    if was_sent:
        row.status, row.sent_at = "sent", row.claimed_at
        row.smtp_reply = f"marked sent by an operator; was: {row.smtp_reply}"
        _mark_invitation(session, row, row.claimed_at)
    else:
        row.status, row.claimed_at, row.message_id = "queued", None, None


def claim_batch(
    session: Session, *, size: int, now: datetime, tenant_id: int | None = None
) -> list[int]:
    """Take up to ``size`` due 'queued' rows for this sender: each is moved to
    'sending' only if it is still 'queued' (compare-and-set), so concurrent senders
    split the queue instead of sharing rows. Returns the ids won, oldest first."""
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.status == "queued",
                    or_(OutboxMessage.next_attempt_at.is_(None),
                        OutboxMessage.next_attempt_at <= now))
             .order_by(OutboxMessage.id).limit(size)
             # PostgreSQL: skip rows another sender is claiming instead of waiting.
             .with_for_update(skip_locked=True))
    if tenant_id is not None:
        query = query.where(OutboxMessage.tenant_id == tenant_id)
    claimed = []
    for row_id in session.scalars(query).all():
        won = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == "queued")
            .values(status="sending", claimed_at=now, message_id=None)
        ).rowcount
        if won == 1:
            claimed.append(row_id)
    return claimed


def send_queued(
    database: Database,
    config: Config,
    *,
    transport: Transport | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    rate: float = DEFAULT_RATE,
    tenant: str | None = None,
    time_budget: float | None = None,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
    progress: bool | None = False,
) -> SendReport:
    """Send due queued e-mails in batches of ``batch_size`` at most ``rate`` per second
    until none is left (or ``time_budget`` seconds have passed); first recover rows a
    dead sender left behind. ``now`` fixes the clock (tests); ``transport`` defaults to
    CXLAB_SMTP_URL or the outbox folder."""
    if batch_size < 1:
        raise CxlabError(f"batch size {batch_size}: give 1 or more")
    clock: Callable[[], datetime] = (lambda: now) if now else (lambda: datetime.now(UTC))
    limiter = RateLimiter(rate)
    transport = transport or transport_for(config.smtp_url, config.outbox_dir)
    report = SendReport()
    started = time.monotonic()
    with database.session() as session:
        tenant_id = _tenant_id(session, tenant)
        report.recovered, report.unknown = recover_stale(
            session, now=clock(), lease=lease, tenant_id=tenant_id)
        due = session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == "queued",
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= clock()),
            *([OutboxMessage.tenant_id == tenant_id] if tenant_id is not None else [])))
    bar_disabled = None if progress is None else not progress
    try:
        with tqdm(total=due, desc="e-mails", unit="msg", disable=bar_disabled) as bar:
            while time_budget is None or time.monotonic() - started < time_budget:
                with database.session() as session:
                    batch = claim_batch(session, size=batch_size, now=clock(), tenant_id=tenant_id)
                if not batch:
                    break
                for index, row_id in enumerate(batch):
                    if time_budget is not None and time.monotonic() - started >= time_budget:
                        _release(database, batch[index:])
                        break
                    try:
                        _send_one(database, config, transport, limiter, row_id, clock, report)
                    except CxlabError:
                        _release(database, batch[index:])  # e.g. SMTP login refused
                        raise
                    bar.update(1)
    finally:
        transport.close()
    return report


def _tenant_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if tenant_id is None:
        raise NotFound(f"no tenant {slug!r}")
    return tenant_id


def _send_one(database, config, transport, limiter, row_id, clock, report) -> None:
    # Step 1: decide.
    with database.session() as session:
        row = session.get(OutboxMessage, row_id)
        reason = _reason_not_to_send(session, row)
        if reason is not None:
            row.status, row.smtp_reply = "skipped", f"not sent: {reason}"
            report.skipped += 1
            return
    # Step 2: wait for the rate limit *before* claiming a Message-ID: a sender killed
    # while waiting leaves a row without one, which recovery simply queues again
    # (with one it would be 'unknown' for an operator, though it never reached SMTP).
    limiter.wait()
    # Step 3: commit the Message-ID just before the message leaves.
    with database.session() as session:
        row = session.get(OutboxMessage, row_id)
        row.message_id = new_message_id(config.mail_from)
        row.attempts += 1
        texts = MailTexts(row.subject, row.body_text, row.body_html or "")
        attachment = _attachment(row.attachment_path)
        if row.attachment_path is not None and attachment is None:
            # Nothing was handed over: a permanent failure, with the reason.
            row.status, row.message_id = "failed", None
            row.smtp_reply = f"not sent: the attachment {row.attachment_path} is missing"
            report.failed += 1
            return
        if row.kind == REPORT_KIND:
            # Report e-mails are stopped on the portal's reports page, not by opting out.
            unsubscribe, one_click = f"{config.public_url}/portal/reports", False
        else:
            unsubscribe = unsubscribe_url(session, config, row.tenant_id, row.to_address)
            one_click = True
        message = build_message(texts, to_address=row.to_address,
                                from_address=config.mail_from, message_id=row.message_id,
                                unsubscribe_link=unsubscribe, attachment=attachment,
                                one_click=one_click)
        attempts = row.attempts
    # Step 4: hand it over, outside any transaction (SMTP may take seconds).
    try:
        reply, error = transport.send(message), None
    except SendError as failure:
        reply, error = failure.reply, failure
    # Step 5: record the outcome.
    with database.session() as session:
        row = session.get(OutboxMessage, row_id)
        row.smtp_reply = reply
        if error is None:
            row.status, row.sent_at = "sent", clock()
            _mark_invitation(session, row, row.sent_at)
            report.sent += 1
        elif error.transient and attempts < MAX_ATTEMPTS:
            # Not accepted, so forgetting the Message-ID cannot cause a double send.
            row.status, row.claimed_at, row.message_id = "queued", None, None
            row.next_attempt_at = clock() + backoff(attempts)
            report.retried += 1
        else:
            row.status = "failed"
            report.failed += 1


def _attachment(path: str | None) -> tuple[str, bytes] | None:
    if path is None:
        return None
    try:
        return Path(path).name, Path(path).read_bytes()
    except OSError:
        return None


def _reason_not_to_send(session: Session, row: OutboxMessage) -> str | None:
    if row.kind == REPORT_KIND:
        return _report_reason_not_to_send(session, row)
    opted_out = session.scalar(select(OptOut.id).where(
        OptOut.tenant_id == row.tenant_id, OptOut.email == row.to_address.lower()))
    if opted_out is not None:
        return "the address unsubscribed"
    if row.kind == "reminder" and row.invitation_id is not None:
        responded = session.scalar(select(Invitation.responded_at).where(
            Invitation.tenant_id == row.tenant_id, Invitation.id == row.invitation_id))
        if responded is not None:
            return "the recipient answered before the reminder went out"
    return None


def _report_reason_not_to_send(session: Session, row: OutboxMessage) -> str | None:
    # "report/<job>/<user id>/<period start>": the user may have unsubscribed since.
    parts = (row.delivery_key or "").split("/", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return "the report e-mail has no delivery key"
    if not is_subscribed(session, int(parts[2]), row.tenant_id, parts[1]):
        return "the user unsubscribed from the report"
    return None


def _mark_invitation(session: Session, row: OutboxMessage, when: datetime | None) -> None:
    if row.invitation_id is None:
        return
    invitation = session.scalar(select(Invitation).where(
        Invitation.tenant_id == row.tenant_id, Invitation.id == row.invitation_id))
    if invitation is None:
        return
    if row.kind == "invitation" and invitation.sent_at is None:
        invitation.sent_at = when
    elif row.kind == "reminder" and invitation.reminded_at is None:
        invitation.reminded_at = when


def _release(database: Database, row_ids: list[int]) -> None:
    # Claimed but not handed over: give them back for the next run.
    with database.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sending",
                   OutboxMessage.message_id.is_(None))
            .values(status="queued", claimed_at=None)
        )
