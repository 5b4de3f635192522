"""Survey distribution: a recipient list (CSV) becomes a distribution of personal
invitations, whose e-mails wait in the outbox. Every query names its tenant.

This module holds the distribution itself (create, import, find); by noun beside it:
:mod:`~cxlab.distribution.recipients` (reading and checking the CSV),
:mod:`~cxlab.distribution.mailing` (queueing invitations and reminders),
:mod:`~cxlab.distribution.opt_out` (unsubscribe links and opt-outs) and
:mod:`~cxlab.distribution.rates` (response rates).

A CSV has an ``email`` column and, optionally, columns named after the survey's
attributes (store, department...). UTF-8 (with or without BOM) and Shift_JIS/CP932
(what Japanese Excel saves) are read. Bad rows are reported by line number and skipped,
or with ``strict=True`` the whole file is refused; either way in one transaction.

>>> from cxlab.config import Config
>>> from cxlab.db import Database
>>> from cxlab.surveys import parse_definition
>>> from cxlab.surveys.catalog import publish_survey
>>> from cxlab.tenancy import create_tenant
>>> from cxlab.distribution.recipients import parse_recipients
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

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import (
    Distribution,
    Invitation,
    Survey,
    Tenant,
)
from cxlab.distribution.mailing import queue_invitations
from cxlab.distribution.recipients import (
    EMAIL_COLUMN,
    ImportRefused,
    RecipientRow,
    RowProblem,
    check_recipients,
    read_recipients_file,
)
from cxlab.errors import CxlabError, NotFound
from cxlab.invitations import TOKEN_BYTES
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import get_tenant


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


def list_distributions(session: Session, tenant: Tenant) -> list[Distribution]:
    """The tenant's distributions, newest first."""
    return list(session.scalars(
        select(Distribution).where(Distribution.tenant_id == tenant.id)
        .order_by(Distribution.id.desc())
    ))


def get_distribution(session: Session, tenant: Tenant, distribution_id: int) -> Distribution:
    """The tenant's distribution ``distribution_id``; :class:`NotFound` for any other."""
    distribution = session.scalar(select(Distribution).where(
        Distribution.tenant_id == tenant.id, Distribution.id == distribution_id))
    if distribution is None:
        raise NotFound(f"tenant {tenant.slug!r} has no distribution {distribution_id}")
    return distribution
