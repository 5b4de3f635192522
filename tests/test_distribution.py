"""Distribution without SMTP: recipient CSVs (bad rows, strict, encodings), tenant
isolation, opt-outs, reminders, claims, the .eml outbox and the CLI functions."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from cxlab.cli.distribution import distribution_create_command, distribution_list_command
from cxlab.cli.outbox import send_command
from cxlab.config import Config
from cxlab.db.models import Distribution, Invitation, OutboxMessage
from cxlab.distribution import create_distribution, list_distributions
from cxlab.distribution.mailing import queue_invitations, queue_reminders
from cxlab.distribution.opt_out import record_opt_out
from cxlab.distribution.rates import response_rates
from cxlab.distribution.recipients import ImportRefused, parse_recipients
from cxlab.errors import NotFound
from cxlab.outbox import claim_batch, send_queued
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import get_tenant
from sqlalchemy import func, select

from survey_server.testing import publish_survey_with_key

VISIT = parse_definition("""
slug: visit
title: {ja: ご来店アンケート, en: Store visit}
attributes:
  - {name: store, values: [渋谷, 新宿]}
  - {name: department}
questions:
  - {id: nps, type: nps, required: true, label: {ja: おすすめ度, en: "Recommend?"}}
""")

BAD_ROWS = (
    "email,store,department\n"
    "ana@example.com,渋谷,sales\n"       # 2 ok
    "not-an-address,新宿,\n"             # 3 bad e-mail
    "ANA@example.com,新宿,\n"            # 4 duplicate of 2 (case-insensitive)
    "bo@example.com,池袋,\n"             # 5 unknown store
    "\n"                                 # 6 blank: ignored
    "cy@example.com,,hr\n"               # 7 ok, no store
    ",渋谷,\n"                           # 8 no e-mail
)


def objects(database, slug="acme", survey="visit"):
    with database.session() as session:
        tenant = get_tenant(session, slug)
        return tenant, get_survey(session, tenant, survey)


def import_rows(database, config, data: bytes, *, slug="acme", strict=False, name="May",
                reminder_after_days=None):
    with database.session() as session:
        tenant = get_tenant(session, slug)
        survey = get_survey(session, tenant, "visit")
        report = create_distribution(session, tenant, survey, name, parse_recipients(data),
                                     strict=strict, reminder_after_days=reminder_after_days)
        queue_invitations(session, config, tenant, report.distribution)
        return report


def count(database, model, **where):
    with database.session() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query)


@pytest.fixture
def acme(database):
    return publish_survey_with_key(database, "acme", VISIT)


def test_bad_rows_are_reported_by_line_and_skipped(config, database, acme):
    report = import_rows(database, config, BAD_ROWS.encode())
    assert [str(p) for p in report.problems] == [
        "line 3: 'not-an-address' is not an e-mail address",
        "line 4: duplicate of line 2",
        "line 5: store='池袋' must be one of 渋谷, 新宿",
        "line 8: no e-mail address",
    ]
    assert report.imported == 2
    with database.session() as session:
        rows = session.execute(select(Invitation.email, Invitation.attributes, Invitation.token)
                               .order_by(Invitation.id)).all()
    assert [(r.email, r.attributes) for r in rows] == [
        ("ana@example.com", {"store": "渋谷", "department": "sales"}),
        ("cy@example.com", {"department": "hr"}),
    ]
    assert all(len(r.token) >= 32 for r in rows) and rows[0].token != rows[1].token
    assert count(database, OutboxMessage, kind="invitation", status="queued") == 2


def test_strict_refuses_everything(config, database, acme):
    with pytest.raises(ImportRefused, match=r"4 problem\(s\); nothing imported") as refused:
        import_rows(database, config, BAD_ROWS.encode(), strict=True)
    assert "line 5: store='池袋'" in str(refused.value)
    assert count(database, Distribution) == count(database, Invitation) == 0
    assert count(database, OutboxMessage) == 0


def test_unknown_column_is_reported_on_line_1_and_refused_when_strict(config, database, acme):
    data = b"Email,shoe_size\nana@example.com,42\n"
    report = import_rows(database, config, data)
    assert [str(p) for p in report.problems] == [
        "line 1: column 'shoe_size' is not an attribute of survey 'visit' "
        "(it has: store, department); column ignored"]
    assert report.imported == 1
    with pytest.raises(ImportRefused, match="shoe_size"):
        import_rows(database, config, data, strict=True, name="again")


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis", "utf-8-sig", "utf-8"])
def test_japanese_excel_encodings(config, database, acme, encoding):
    data = "email,store\r\nana@example.com,渋谷\r\nbo@example.com,新宿\r\n".encode(encoding)
    report = import_rows(database, config, data)
    assert report.problems == [] and report.imported == 2
    with database.session() as session:
        stores = session.scalars(select(Invitation.attributes).order_by(Invitation.id)).all()
    assert stores == [{"store": "渋谷"}, {"store": "新宿"}]


def test_unreadable_files_say_how_to_fix_them(config, database, acme):
    with pytest.raises(ImportRefused, match="no 'email' column"):
        parse_recipients(b"mail,store\nana@example.com,x\n")
    with pytest.raises(ImportRefused, match="empty"):
        parse_recipients(b"")
    with pytest.raises(ImportRefused, match="neither UTF-8 nor Shift_JIS"):
        parse_recipients(b"email\n\x81\x7f\xff\n")


def test_queueing_is_idempotent(config, database, acme):
    report = import_rows(database, config, b"email\nana@example.com\n")
    tenant, _survey = objects(database)
    with database.session() as session:
        assert queue_invitations(session, config, tenant, report.distribution) == 0
    assert count(database, OutboxMessage) == 1


def test_tenants_cannot_reach_each_others_distributions(config, database, acme):
    publish_survey_with_key(database, "beta", VISIT)
    mine = import_rows(database, config, b"email\nana@example.com\n", slug="acme")
    theirs = import_rows(database, config, b"email\nbo@example.com\n", slug="beta")
    acme_tenant, _ = objects(database, "acme")
    _, beta_survey = objects(database, "beta")
    with database.session() as session:
        with pytest.raises(NotFound):
            create_distribution(session, acme_tenant, beta_survey, "x",
                                parse_recipients(b"email\ncy@example.com\n"))
        with pytest.raises(NotFound):
            queue_invitations(session, config, acme_tenant, theirs.distribution)
        assert [d.id for d in list_distributions(session, acme_tenant)] == [
            mine.distribution.id]
    report = send_queued(database, config, tenant="acme", rate=1000)
    assert report.sent == 1
    with database.session() as session:
        statuses = dict(session.execute(
            select(OutboxMessage.to_address, OutboxMessage.status)).all())
        assert statuses == {"ana@example.com": "sent", "bo@example.com": "queued"}
        table = response_rates(session, acme_tenant)
    assert table[["distribution", "sent", "responded"]].values.tolist() == [["May", 1, 0]]


def test_opted_out_addresses_are_skipped_for_that_tenant_only(config, database, acme):
    publish_survey_with_key(database, "beta", VISIT)
    acme_tenant, _ = objects(database, "acme")
    import_rows(database, config, b"email\nana@example.com\nbo@example.com\n")
    with database.session() as session:
        assert record_opt_out(session, acme_tenant.id, "Ana@Example.com") is True
        assert record_opt_out(session, acme_tenant.id, "ana@example.com") is False
    # The queued invitation is dropped at once; a new list skips the address.
    assert count(database, OutboxMessage, to_address="ana@example.com", status="skipped") == 1
    report = import_rows(database, config, b"email\nana@example.com\ncy@example.com\n",
                         name="June")
    assert [str(p) for p in report.opted_out] == [
        "line 2: ana@example.com unsubscribed; not invited"]
    other = import_rows(database, config, b"email\nana@example.com\n", slug="beta")
    assert other.imported == 1 and other.opted_out == []


def test_reminders_once_after_n_days_never_to_responders(config, database, acme):
    import_rows(database, config, b"email\nana@example.com\nbo@example.com\ncy@example.com\n",
                reminder_after_days=7)
    sent_at = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    send_queued(database, config, rate=1000, now=sent_at)
    acme_tenant, _ = objects(database)
    with database.session() as session:
        ana, bo, _cy = session.scalars(select(Invitation).order_by(Invitation.id)).all()
        ana.responded_at = sent_at + timedelta(days=1)
        record_opt_out(session, acme_tenant.id, bo.email)
    with database.session() as session:
        assert queue_reminders(session, config, now=sent_at + timedelta(days=6)) == 0
        assert queue_reminders(session, config, now=sent_at + timedelta(days=7)) == 1
        assert queue_reminders(session, config, now=sent_at + timedelta(days=8)) == 0
    reminder = send_queued(database, config, rate=1000, now=sent_at + timedelta(days=8))
    assert reminder.sent == 1
    with database.session() as session:
        [(address, subject)] = session.execute(
            select(OutboxMessage.to_address, OutboxMessage.subject)
            .where(OutboxMessage.kind == "reminder")).all()
        assert address == "cy@example.com" and "再送" in subject
        assert queue_reminders(session, config, now=sent_at + timedelta(days=30)) == 0


def test_two_senders_never_claim_the_same_row(config, database, acme):
    import_rows(database, config, b"email\n" + b"".join(
        f"p{i}@example.com\n".encode() for i in range(10)))
    now = datetime.now(UTC)
    with database.session() as first:
        a = claim_batch(first, size=6, now=now)
    with database.session() as second:
        b = claim_batch(second, size=6, now=now)
    assert len(a) == 6 and len(b) == 4 and not set(a) & set(b)


def test_without_smtp_url_messages_become_eml_files(config, database, acme):
    import_rows(database, config, b"email\nana@example.com\n")
    assert send_queued(database, config, rate=1000).sent == 1
    [path] = config.outbox_dir.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "【Acme】「ご来店アンケート」ご協力のお願い"
    assert f"{config.public_url}/i/" in message.get_body(("plain",)).get_content()


def test_cli_functions(config, database, acme, tmp_path, capsys, environ):
    recipients = tmp_path / "list.csv"
    recipients.write_bytes("email,store\nana@example.com,渋谷\nbad,新宿\n".encode("cp932"))
    assert distribution_create_command(config, "acme", "visit", "May", str(recipients),
                                       False, 7) == 1
    captured = capsys.readouterr()
    assert "line 3: 'bad' is not an e-mail address" in captured.err
    assert "1 invitations queued; 1 line(s) skipped" in captured.out
    with pytest.raises(ImportRefused, match="nothing imported"):
        distribution_create_command(config, "acme", "visit", "Again", str(recipients), True, None)
    with pytest.raises(ImportRefused, match="cannot read"):
        distribution_create_command(config, "acme", "visit", "x", str(tmp_path / "no.csv"),
                                    False, None)
    assert send_command(config, batch_size=10, rate=1000) == 0
    assert "sent 1," in capsys.readouterr().out
    assert distribution_list_command(config, "acme") == 0
    out = capsys.readouterr().out
    assert "May" in out and "sent=1" in out and "answered=0" in out and "rate=0.0%" in out
    assert "渋谷" in out  # the by-store table


def test_config_public_url(environ):
    config = Config.from_environ({**environ, "CXLAB_PUBLIC_URL": "https://survey.example/"})
    assert config.public_url == "https://survey.example"
    with pytest.raises(Exception, match="CXLAB_PUBLIC_URL"):
        Config.from_environ({**environ, "CXLAB_PUBLIC_URL": "survey.example"})
