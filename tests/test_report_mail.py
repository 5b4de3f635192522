"""The weekly report e-mailed to its subscribers (issue #17), against a real SMTP
server (aiosmtpd): a real job run, the real report rendered to PDF and read back,
the tenant's language, once per user and period, nothing to the unsubscribed or to
another tenant."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from cxlab import report_subscriptions, tenancy
from cxlab.config import Config
from cxlab.db.models import JobRun, OutboxMessage
from cxlab.jobs import run_job
from cxlab.jobs.schedule import parse_schedule
from cxlab.mail import build_message
from cxlab.outbox import send_queued
from cxlab.report_mail import report_texts
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from test_distribution_smtp import mailbox  # noqa: F401 - the real SMTP server fixture

HERE = Path(__file__).parent
JOB = "weekly-report"
# The real job's name and kind; the small test notebook stands in for the HTML step.
SCHEDULE = parse_schedule({"jobs": [
    {"name": JOB, "kind": "notebook", "notebook": "notebooks/report.ipynb",
     "cron": "0 7 * * MON", "timezone": "Asia/Tokyo", "tenants": "all",
     "formats": ["html"], "timeout": 120, "retries": 0},
]}, root=HERE)
PERIOD = "2026-11-16 – 2026-11-23"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def setup_tenants(database) -> dict[str, int]:
    """acme (English): ana subscribed, bob not, carl subscribed; rival (Japanese):
    rita subscribed. Returns user ids by first name."""
    ids = {}
    with database.session() as session:
        acme = tenancy.create_tenant(session, "acme", "Acme Foods", language="en")
        rival = tenancy.create_tenant(session, "rival", "Rival Bistro")
        for name, tenant, subscribed in [("ana", acme, True), ("bob", acme, False),
                                         ("carl", acme, True), ("rita", rival, True)]:
            user = tenancy.create_user(session, tenant, f"{name}@{tenant.slug}.example",
                                       "long passphrase")
            ids[name] = user.id
            if subscribed:
                report_subscriptions.subscribe(session, user.id, tenant.id)
    return ids


def outbox_rows(database) -> list[OutboxMessage]:
    with database.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_subscribers_get_their_tenants_report_pdf_once(environ, database, mailbox):  # noqa: F811
    handler, url = mailbox
    config = Config.from_environ({**environ, "CXLAB_SMTP_URL": url,
                                  "CXLAB_MAIL_FROM": "cxlab <reports@cxlab.example>"})
    ids = setup_tenants(database)

    outcome = run_job(config, database, JOB, date="2026-11-25", schedule=SCHEDULE)
    assert {result.tenant: result.status for result in outcome.results} == {
        "acme": "succeeded", "rival": "succeeded"}
    assert sorted(row.to_address for row in outbox_rows(database)) == [
        "ana@acme.example", "carl@acme.example", "rita@rival.example"]
    # Carl unsubscribes before the outbox runs: his queued e-mail is not sent.
    with database.session() as session:
        report_subscriptions.unsubscribe(session, ids["carl"],
                                         tenancy.get_tenant(session, "acme").id)
    report = send_queued(database, config, rate=1000)
    assert (report.sent, report.skipped) == (2, 1)

    assert handler.recipients() == {"ana@acme.example": 1, "rita@rival.example": 1}
    by_address = {str(message["To"]): message for message in handler.messages}
    ana, rita = by_address["ana@acme.example"], by_address["rita@rival.example"]
    assert ana["Subject"] == f"Acme Foods: weekly report {PERIOD}"
    assert rita["Subject"] == f"【Rival Bistro】週次レポート {PERIOD}"
    assert "週次レポート" in rita.get_body(("plain",)).get_content()
    assert "Attached is Acme Foods's weekly report" in ana.get_body(("plain",)).get_content()
    assert ana["List-Unsubscribe"] == "<http://127.0.0.1:8080/portal/reports>"
    assert ana["List-Unsubscribe-Post"] is None
    for message, own, other in [(ana, "Acme Foods", "Rival Bistro"),
                                (rita, "Rival Bistro", "Acme Foods")]:
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "2026-11-23.pdf"
        text = pdf_text(attachment.get_content())
        assert own in text and other not in text
    assert "No answers" in pdf_text(next(ana.iter_attachments()).get_content())
    assert "No answers" not in pdf_text(next(rita.iter_attachments()).get_content())

    # The job runs again for the same period (a re-run after its record was lost, or
    # a retry): the delivery keys let nothing be queued or sent twice.
    with database.session() as session:
        session.execute(delete(JobRun))
    again = run_job(config, database, JOB, date="2026-11-25", schedule=SCHEDULE)
    assert {result.status for result in again.results} == {"succeeded"}
    assert len(outbox_rows(database)) == 3
    assert send_queued(database, config, rate=1000).sent == 0
    assert handler.recipients() == {"ana@acme.example": 1, "rita@rival.example": 1}


def test_the_database_refuses_a_second_delivery_of_a_period(database):
    setup_tenants(database)
    row = {"tenant_id": 1, "kind": "report", "to_address": "ana@acme.example",
           "subject": "s", "body_text": "t", "delivery_key": "report/weekly-report/1/x"}
    with database.session() as session:
        session.add(OutboxMessage(**row))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(OutboxMessage(**row))


def test_a_report_message_carries_its_pdf_and_a_missing_file_fails_with_the_reason(
        environ, database, tmp_path):
    texts = report_texts("ja", tenant_name="さくら", period=PERIOD,
                         reports_url="https://s.example/portal/reports")
    message = build_message(texts, to_address="a@example.com", from_address="x@example.com",
                            message_id="<1@example.com>", unsubscribe_link="https://s.example",
                            attachment=("r.pdf", b"%PDF-1.7"), one_click=False)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.7"
    assert message.get_content_type() == "multipart/mixed"

    config = Config.from_environ(environ)
    ids = setup_tenants(database)
    with database.session() as session:
        session.add(OutboxMessage(
            tenant_id=tenancy.get_tenant(session, "acme").id, kind="report",
            to_address="ana@acme.example", subject="s", body_text="t",
            attachment_path=str(tmp_path / "gone.pdf"),
            delivery_key=f"report/{JOB}/{ids['ana']}/2026-11-16T07:00:00+09:00"))
    assert send_queued(database, config, rate=1000).failed == 1
    [row] = outbox_rows(database)
    assert row.status == "failed" and "gone.pdf is missing" in row.smtp_reply
