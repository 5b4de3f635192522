"""E-mailing a scheduled report's PDF to the tenant's subscribers, through the outbox.

After a report job succeeds for a tenant, :func:`queue_report_mail` renders the PDF
once (next to the HTML report, ``<stem>.pdf``) and queues one outbox row per
subscriber of that job and tenant (:mod:`cxlab.report_subscriptions`). Each row has
the delivery key ``report/<job>/<user id>/<period start>``, unique in the database:
a retried or re-run job queues nothing twice, and the outbox sends each row once
(crash recovery, rate limit and retries as for invitations). The text is in the
tenant's language.

>>> texts = report_texts("en", tenant_name="Acme", period="2026-11-16 – 2026-11-23",
...                      reports_url="https://s.example/portal/reports")
>>> texts.subject
'Acme: weekly report 2026-11-16 – 2026-11-23'
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cxlab.db import Database
from cxlab.db.models import OutboxMessage
from cxlab.i18n import DEFAULT_LANGUAGE, LANGUAGES, phrase
from cxlab.mail import MailTexts
from cxlab.report_subscriptions import subscribers

log = logging.getLogger(__name__)

KIND = "report"

def report_texts(language: str, *, tenant_name: str, period: str,
                 reports_url: str) -> MailTexts:
    """The subject and bodies of a report e-mail in ``language`` (one of
    :data:`cxlab.i18n.LANGUAGES`; anything else falls back to Japanese)."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    values = {"tenant": tenant_name, "period": period}
    subject = phrase(language, "mail.report.subject", **values)
    intro = phrase(language, "mail.report.body", **values)
    text = f"{intro}\n{reports_url}\n"
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in intro.split("\n"))
    body_html = (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
                 f"</head><body>{paragraphs}"
                 f'<p><a href="{html.escape(reports_url)}">{html.escape(reports_url)}</a></p>'
                 "</body></html>")
    return MailTexts(subject, text, body_html)


def delivery_key(job: str, user_id: int, period_start: str) -> str:
    """The unique key of one report e-mail: one per user, job and period."""
    return f"{KIND}/{job}/{user_id}/{period_start}"


def queue_report_mail(
    database: Database, *, tenant_id: int, tenant_name: str, job: str, language: str,
    period: str, period_start: str, reports_url: str, pdf: Path,
) -> int:
    """Queue ``pdf`` to every subscriber of ``job`` in the tenant; return how many rows
    were new. A subscriber who already has this period's row gets nothing more."""
    with database.session() as session:
        users = [(user.id, user.email) for user in subscribers(session, tenant_id, job)]
    texts = report_texts(language, tenant_name=tenant_name, period=period,
                         reports_url=reports_url)
    queued = 0
    for user_id, address in users:
        key = delivery_key(job, user_id, period_start)
        try:
            with database.session() as session:
                if session.scalar(select(OutboxMessage.id)
                                  .where(OutboxMessage.delivery_key == key)) is not None:
                    continue
                session.add(OutboxMessage(
                    tenant_id=tenant_id, kind=KIND, to_address=address,
                    subject=texts.subject, body_text=texts.text, body_html=texts.html,
                    attachment_path=str(pdf), delivery_key=key))
            queued += 1
        except IntegrityError:  # another runner queued it first: the key is the lock
            log.info("report e-mail %s was queued already", key)
    return queued


def write_pdf(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (a reader never sees half a PDF)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return path
