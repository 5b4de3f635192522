"""Survey distribution: recipient lists (CSV), personal invitations, their e-mails in
the outbox, reminders, opt-outs and response rates. Every query names its tenant.

A CSV has an ``email`` column and, optionally, columns named after the survey's
attributes (store, department...). UTF-8 (with or without BOM) and Shift_JIS/CP932
(what Japanese Excel saves) are read. Bad rows are reported by line number and skipped,
or with ``strict=True`` the whole file is refused; either way in one transaction.

>>> from cxlab.config import Config
>>> from cxlab.db import Database
>>> from cxlab.surveys import parse_definition
>>> from cxlab.surveys.catalog import publish_survey
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> config = Config.from_environ({"CXLAB_VAR_DIR": "/tmp/cxlab-doc"})
>>> definition = parse_definition({"slug": "pulse", "title": "Pulse",
...     "attributes": [{"name": "store", "values": ["s1", "s2"]}],
...     "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]})
>>> rows = parse_recipients(b"email,store\\nana@example.com,s1\\nbad-address,s2\\n"
...                         b"ana@example.com,s1\\nbo@example.com,s9\\n")
>>> with database.session() as session:
...     tenant = create_tenant(session, "acme", "Acme")
...     survey = publish_survey(session, tenant, definition)
...     report = create_distribution(session, tenant, survey, "May", rows)
...     queued = queue_invitations(session, config, tenant, report.distribution)
>>> report.imported, queued
(1, 1)
>>> for problem in report.problems:
...     print(problem)
line 3: 'bad-address' is not an e-mail address
line 4: duplicate of line 2
line 5: store='s9' must be one of s1, s2
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tqdm import tqdm

from cxlab.analysis.segments import response_rate
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import (
    Distribution,
    Invitation,
    OptOut,
    OutboxMessage,
    Survey,
    Tenant,
)
from cxlab.errors import CxlabError, NotFound
from cxlab.invitations import TOKEN_BYTES
from cxlab.mail import invitation_texts
from cxlab.opt_out_links import opt_out_link_token
from cxlab.surveys.catalog import definition_of, get_survey, get_survey_by_id
from cxlab.surveys.definition import localize
from cxlab.tenancy import get_tenant

EMAIL_COLUMN = "email"
# Deliberately plain: an ASCII address with a dotted domain. What it lets through that
# no server accepts ends as a 5xx 'failed' row, which is reported, not lost.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_EMAIL_LENGTH = 320
ENCODINGS_HINT = "save the file as CSV UTF-8 or CSV (Shift_JIS) from Excel"


class ImportRefused(CxlabError):
    """A recipient file that is refused as a whole (strict mode, or unreadable)."""


@dataclass(frozen=True)
class RecipientRow:
    """One data line of a recipient file: its line number and its cells by column."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: the distribution (None when refused in a preview), how many
    invitations it made (and e-mails it queued), and the lines it skipped and why."""

    distribution: Distribution | None
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    opted_out: list[RowProblem] = field(default_factory=list)
    queued: int = 0

    @property
    def skipped(self) -> int:
        """Data lines not invited: bad ones (not the header's) and opted-out ones."""
        return len({p.line for p in self.problems if p.line > 1}) + len(self.opted_out)


def parse_recipients(data: bytes) -> list[RecipientRow]:
    """The rows of a recipient CSV given as bytes, decoded as UTF-8 (BOM or not) or
    else Shift_JIS/CP932; column names are trimmed, ``email`` matched in any case.

    >>> parse_recipients("email,店舗\\nana@example.com,渋谷\\n".encode("cp932"))
    [RecipientRow(line=2, values={'email': 'ana@example.com', '店舗': '渋谷'})]
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("the recipient file is empty; it needs a header line "
                            "with an 'email' column") from None
    columns = [name.strip() for name in header]
    columns = [EMAIL_COLUMN if name.lower() == EMAIL_COLUMN else name for name in columns]
    if EMAIL_COLUMN not in columns:
        raise ImportRefused(
            f"line 1: no 'email' column (found: {', '.join(columns) or 'nothing'}); "
            "the first line must name the columns, e.g. email,store"
        )
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, including Excel's trailing ones
        values = {name: (cells[i].strip() if i < len(cells) else "")
                  for i, name in enumerate(columns) if name}
        if len(cells) > len(columns):
            values["\0extra"] = ",".join(cells[len(columns):])
        rows.append(RecipientRow(reader.line_num, values))
    return rows


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")  # Shift_JIS as Windows writes it (with NEC/IBM extras)
    except UnicodeDecodeError:
        raise ImportRefused(f"the file is neither UTF-8 nor Shift_JIS; {ENCODINGS_HINT}") from None


def read_recipients_file(path: str | Path) -> list[RecipientRow]:
    """:func:`parse_recipients` of the file at ``path``, with a clear error if missing."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ImportRefused(f"cannot read {path}: {error.strerror}") from None
    return parse_recipients(data)


def check_recipients(
    session: Session, tenant: Tenant, survey: Survey, rows: Sequence[RecipientRow]
) -> tuple[list[RecipientRow], list[RowProblem], list[RowProblem]]:
    """Split ``rows`` into the valid ones (e-mail lower-cased, unknown columns dropped),
    the problems and the opted-out addresses; writes nothing (the portal's preview)."""
    definition = definition_of(survey)
    declared = {attribute.name: attribute for attribute in definition.attributes}
    problems: list[RowProblem] = []
    columns = {name for row in rows for name in row.values} - {EMAIL_COLUMN, "\0extra"}
    for name in sorted(columns - declared.keys()):
        names = ", ".join(declared) or "none"
        problems.append(RowProblem(1, f"column {name!r} is not an attribute of survey "
                                      f"{survey.slug!r} (it has: {names}); column ignored"))
    opted = opted_out_addresses(session, tenant)
    valid, opted_out, first_line = [], [], {}
    for row in rows:
        email = row.values.get(EMAIL_COLUMN, "")
        reason = None
        if "\0extra" in row.values:
            reason = "more cells than columns (a comma inside a value needs quotes)"
        elif not email:
            reason = "no e-mail address"
        elif len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
            reason = f"{email!r} is not an e-mail address"
        elif email.lower() in first_line:
            reason = f"duplicate of line {first_line[email.lower()]}"
        if reason is None:
            attributes = {}
            for name, value in row.values.items():
                attribute = declared.get(name)
                if attribute is None or not value:
                    continue
                if attribute.values and value not in attribute.values:
                    reason = f"{name}={value!r} must be one of {', '.join(attribute.values)}"
                    break
                attributes[name] = value
        if reason is not None:
            problems.append(RowProblem(row.line, reason))
            continue
        first_line[email.lower()] = row.line
        if email.lower() in opted:
            opted_out.append(RowProblem(row.line, f"{email} unsubscribed; not invited"))
            continue
        valid.append(RecipientRow(row.line, {EMAIL_COLUMN: email.lower(), **attributes}))
    return valid, sorted(problems, key=lambda p: p.line), opted_out


def create_distribution(
    session: Session,
    tenant: Tenant,
    survey: Survey,
    name: str,
    rows: Sequence[RecipientRow],
    *,
    strict: bool = False,
    reminder_after_days: int | None = None,
    progress: bool | None = False,
) -> ImportReport:
    """A distribution of ``survey`` with one invitation (unguessable token) per valid
    row of ``rows``; invalid and opted-out rows are reported and skipped, or with
    ``strict`` any problem refuses everything (:class:`ImportRefused`).

    Writes in the caller's transaction, so a failure leaves nothing behind. Queue the
    e-mails with :func:`queue_invitations` in the same transaction.
    """
    if survey.tenant_id != tenant.id:
        raise NotFound(f"tenant {tenant.slug!r} has no survey {survey.slug!r}")
    if not name.strip():
        raise CxlabError("the distribution needs a name, e.g. --name 'May customers'")
    if reminder_after_days is not None and reminder_after_days < 1:
        raise CxlabError(f"reminder after {reminder_after_days} days: give 1 day or more")
    valid, problems, opted_out = check_recipients(session, tenant, survey, rows)
    if strict and problems:
        listed = "\n".join(str(problem) for problem in problems)
        raise ImportRefused(
            f"{len(problems)} problem(s); nothing imported (fix them, or drop --strict to "
            f"skip those lines):\n{listed}"
        )
    if not valid:
        raise ImportRefused(
            "no valid recipient in the file; nothing imported"
            + "".join(f"\n{problem}" for problem in problems + opted_out)
        )
    distribution = Distribution(tenant_id=tenant.id, survey_id=survey.id, name=name.strip(),
                                reminder_after_days=reminder_after_days)
    session.add(distribution)
    session.flush()
    # progress=None: a bar only on a terminal (tqdm's own rule).
    bar_disabled = None if progress is None else not progress
    for row in tqdm(valid, desc="invitations", unit="row", disable=bar_disabled):
        attributes = {k: v for k, v in row.values.items() if k != EMAIL_COLUMN}
        session.add(Invitation(
            tenant_id=tenant.id, survey_id=survey.id, distribution_id=distribution.id,
            token=secrets.token_urlsafe(TOKEN_BYTES), email=row.values[EMAIL_COLUMN],
            attributes=attributes,
        ))
    session.flush()
    return ImportReport(distribution, len(valid), problems, opted_out)


def queue_invitations(
    session: Session, config: Config, tenant: Tenant, distribution: Distribution
) -> int:
    """Queue the invitation e-mail of every invitation of ``distribution`` that has
    none yet (idempotent: a unique index allows one per invitation); the count queued."""
    if distribution.tenant_id != tenant.id:
        raise NotFound(f"tenant {tenant.slug!r} has no distribution {distribution.id}")
    pending = session.scalars(
        select(Invitation)
        .where(Invitation.tenant_id == tenant.id,
               Invitation.distribution_id == distribution.id,
               Invitation.email.is_not(None),
               ~_has_message(Invitation, "invitation"))
        .order_by(Invitation.id)
    ).all()
    return _queue(session, config, tenant, pending, "invitation")


def queue_reminders(
    session: Session, config: Config, *, tenant: Tenant | None = None,
    now: datetime | None = None,
) -> int:
    """Queue one reminder per invitation sent ``reminder_after_days`` ago or more that
    has no response, no reminder yet and no opt-out; of ``tenant`` or of all tenants.

    Responders never get one: an answer sets ``responded_at``; the sender checks again.
    """
    now = now or datetime.now(UTC)
    query = select(Distribution, Tenant).join(Tenant, Tenant.id == Distribution.tenant_id).where(
        Distribution.reminder_after_days.is_not(None))
    if tenant is not None:
        query = query.where(Distribution.tenant_id == tenant.id)
    queued = 0
    for distribution, owner in session.execute(query.order_by(Distribution.id)).all():
        cutoff = now - timedelta(days=distribution.reminder_after_days)
        due = session.scalars(
            select(Invitation)
            .where(Invitation.tenant_id == owner.id,
                   Invitation.distribution_id == distribution.id,
                   Invitation.sent_at.is_not(None), Invitation.sent_at <= cutoff,
                   Invitation.responded_at.is_(None), Invitation.reminded_at.is_(None),
                   ~_has_message(Invitation, "reminder"),
                   ~exists().where(OptOut.tenant_id == owner.id,
                                   OptOut.email == Invitation.email))
            .order_by(Invitation.id)
        ).all()
        queued += _queue(session, config, owner, due, "reminder")
    return queued


def _has_message(invitation, kind: str):
    return exists().where(OutboxMessage.tenant_id == invitation.tenant_id,
                          OutboxMessage.invitation_id == invitation.id,
                          OutboxMessage.kind == kind)


def _queue(session: Session, config: Config, tenant: Tenant,
           invitations: Iterable[Invitation], kind: str) -> int:
    surveys: dict[int, tuple[str, str]] = {}
    count = 0
    for invitation in invitations:
        if invitation.survey_id not in surveys:
            definition = definition_of(get_survey_by_id(session, tenant.id, invitation.survey_id))
            language = definition.languages[0]
            surveys[invitation.survey_id] = (language, localize(definition.title, language))
        language, title = surveys[invitation.survey_id]
        texts = invitation_texts(
            kind, language, tenant_name=tenant.name, survey_title=title,
            link=f"{config.public_url}/i/{invitation.token}",
            unsubscribe_link=unsubscribe_url(session, config, tenant.id, invitation.email),
        )
        session.add(OutboxMessage(
            tenant_id=tenant.id, invitation_id=invitation.id, kind=kind,
            to_address=invitation.email, subject=texts.subject, body_text=texts.text,
            body_html=texts.html, status="queued",
        ))
        count += 1
    try:
        session.flush()
    except IntegrityError:
        # Another process queued the same messages between our check and insert.
        raise CxlabError(f"{kind} e-mails were being queued by another process; "
                         "run the command again") from None
    return count


def unsubscribe_url(session: Session, config: Config, tenant_id: int, email: str) -> str:
    """The ``/u/<token>`` link that unsubscribes ``email`` from the tenant: an opaque,
    signed, revocable token (:mod:`cxlab.opt_out_links`), no address inside."""
    token = opt_out_link_token(session, config.secret_key, tenant_id, email)
    return f"{config.public_url}/u/{token}"


# ---------------------------------------------------------------- opt-outs


def opted_out_addresses(session: Session, tenant: Tenant | int) -> set[str]:
    """The tenant's unsubscribed addresses, lower-cased."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.id
    return set(session.scalars(select(OptOut.email).where(OptOut.tenant_id == tenant_id)))


def opt_out_tenant(session: Session, tenant_id: int) -> tuple[str, str] | None:
    """The ``(name, slug)`` of the tenant an unsubscribe link names (None if deleted)."""
    row = session.execute(select(Tenant.name, Tenant.slug).where(Tenant.id == tenant_id)).first()
    return None if row is None else (row.name, row.slug)


def record_opt_out(session: Session, tenant_id: int, email: str) -> bool:
    """Unsubscribe ``email`` from the tenant's e-mails and drop its queued ones; True
    when it was new. Queued messages to it are marked 'skipped' right away."""
    email = email.lower()
    known = session.scalar(select(OptOut.id).where(OptOut.tenant_id == tenant_id,
                                                   OptOut.email == email))
    if known is None:
        try:
            with session.begin_nested():
                session.add(OptOut(tenant_id=tenant_id, email=email))
        except IntegrityError:
            known = True  # a double click recorded it a moment ago
    for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id,
                                    OutboxMessage.status == "queued")
    ):
        if message.to_address.lower() == email:
            message.status = "skipped"
            message.smtp_reply = "not sent: the address unsubscribed"
    return known is None


# ---------------------------------------------------------------- response rates


def list_distributions(session: Session, tenant: Tenant) -> list[Distribution]:
    """The tenant's distributions, newest first."""
    return list(session.scalars(
        select(Distribution).where(Distribution.tenant_id == tenant.id)
        .order_by(Distribution.id.desc())
    ))


@dataclass(frozen=True)
class DistributionSummary:
    """One distribution's counts: invitations made, e-mails sent, answers among them."""

    distribution: Distribution
    invited: int
    sent: int
    answered: int

    @property
    def rate(self) -> float | None:
        """answered / sent, or None when nothing was sent yet."""
        return self.answered / self.sent if self.sent else None


def summarize_distributions(session: Session, tenant: Tenant) -> list[DistributionSummary]:
    """Each of the tenant's distributions (newest first) with invited, sent and
    answered; like :func:`response_rates`, only e-mails actually sent count as sent."""
    counts = {
        distribution_id: (invited, sent or 0, answered or 0)
        for distribution_id, invited, sent, answered in session.execute(
            select(Invitation.distribution_id, func.count(Invitation.id),
                   func.count(Invitation.sent_at),
                   func.count(Invitation.id).filter(Invitation.sent_at.is_not(None),
                                                    Invitation.responded_at.is_not(None)))
            .where(Invitation.tenant_id == tenant.id,
                   Invitation.distribution_id.is_not(None))
            .group_by(Invitation.distribution_id)
        )
    }
    return [DistributionSummary(distribution, *counts.get(distribution.id, (0, 0, 0)))
            for distribution in list_distributions(session, tenant)]


def get_distribution(session: Session, tenant: Tenant, distribution_id: int) -> Distribution:
    """The tenant's distribution ``distribution_id``; :class:`NotFound` for any other."""
    distribution = session.scalar(select(Distribution).where(
        Distribution.tenant_id == tenant.id, Distribution.id == distribution_id))
    if distribution is None:
        raise NotFound(f"tenant {tenant.slug!r} has no distribution {distribution_id}")
    return distribution


def response_rates(
    session: Session, tenant: Tenant, *, by: str | None = None,
    distribution: Distribution | None = None,
) -> pd.DataFrame:
    """Sent, answered and rate per distribution (and per attribute ``by``, e.g. store)
    with :func:`cxlab.analysis.response_rate`; only e-mails actually sent count.

    Columns: ``distribution``, [``by``], ``sent``, ``responded``, ``rate``,
    ``ci_low``, ``ci_high``. An invitation without the attribute shows as ``(none)``.
    """
    query = (select(Invitation.id, Distribution.name, Invitation.attributes,
                    Invitation.responded_at)
             .join(Distribution, (Distribution.id == Invitation.distribution_id)
                   & (Distribution.tenant_id == Invitation.tenant_id))
             .where(Invitation.tenant_id == tenant.id, Invitation.sent_at.is_not(None)))
    if distribution is not None:
        query = query.where(Invitation.distribution_id == distribution.id)
    rows = session.execute(query).all()
    invitations = pd.DataFrame({
        "invitation_id": [row[0] for row in rows],
        "distribution": [row[1] for row in rows],
        **({by: [(row[2] or {}).get(by) or "(none)" for row in rows]} if by else {}),
    })
    responses = pd.DataFrame({"invitation_id": [row[0] for row in rows if row[3] is not None]})
    return response_rate(invitations, responses, by=["distribution", *([by] if by else [])])


def import_distribution(
    config: Config, tenant: str, survey: str, name: str, recipients_path: str | Path, *,
    strict: bool = False, reminder_after_days: int | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Import the recipient CSV at ``recipients_path`` as a new distribution of
    ``tenant``'s ``survey`` and queue its invitation e-mails, in one transaction; the
    report says how many were queued and which lines were skipped and why (what
    ``cxlab distribution create`` prints).

    Example::

        report = import_distribution(config, "acme", "store-visit", "May", "customers.csv")
        report.queued, report.skipped   # (1203, 1)
    """
    rows = read_recipients_file(recipients_path)
    with Database.open(config, must_be_migrated=False) as database, \
            database.session() as session:
        owner = get_tenant(session, tenant)
        report = create_distribution(
            session, owner, get_survey(session, owner, survey), name, rows, strict=strict,
            reminder_after_days=reminder_after_days, progress=progress,
        )
        report.queued = queue_invitations(session, config, owner, report.distribution)
    return report


@dataclass(frozen=True)
class DistributionRates:
    """One distribution's counts, its survey's slug, and its response rate by each of
    the survey's attributes (one table per attribute that has invitations)."""

    summary: DistributionSummary
    survey: str
    by_attribute: list[pd.DataFrame]


def distribution_rates(config: Config, tenant: str) -> list[DistributionRates]:
    """Each of ``tenant``'s distributions (newest first) with its rates by attribute;
    what ``cxlab distribution list`` prints."""
    with Database.open(config, must_be_migrated=False) as database, \
            database.session() as session:
        owner = get_tenant(session, tenant)
        rates = []
        for summary in summarize_distributions(session, owner):
            survey = get_survey_by_id(session, owner.id, summary.distribution.survey_id)
            tables = [response_rates(session, owner, by=attribute.name,
                                     distribution=summary.distribution)
                      for attribute in definition_of(survey).attributes]
            rates.append(DistributionRates(summary, survey.slug,
                                           [table for table in tables if not table.empty]))
    return rates
