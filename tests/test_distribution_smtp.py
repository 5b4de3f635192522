"""Distribution against a real SMTP server (aiosmtpd on loopback) and a real survey
server: headers and Japanese subjects, the personal link answered end to end, the
unsubscribe link, a sender killed mid-batch, 4xx retried, 5xx failed."""

from __future__ import annotations

import email
import email.policy
import html
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from conftest import free_port
from cxlab import outbox
from cxlab.config import Config
from cxlab.db.models import Invitation, OutboxMessage
from cxlab.distribution.mailing import queue_reminders
from cxlab.distribution.recipients import ImportRefused
from cxlab.mail import SmtpTransport
from cxlab.outbox import DEFAULT_LEASE, send_queued
from sqlalchemy import select, update
from test_distribution import VISIT, import_rows

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

CXLAB = str(Path(sys.executable).with_name("cxlab"))


class Mailbox:
    """An aiosmtpd handler keeping what it accepts; ``refuse`` maps an address to the
    reply its RCPT gets, ``greylist`` answers 451 to each message's first DATA."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.greylist = False
        self._seen: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.greylist and message["To"] not in self._seen:
            self._seen.add(message["To"])
            return "451 4.7.1 greylisted, try again later"
        self.messages.append(message)
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def recipients(self) -> Counter:
        return Counter(str(message["To"]) for message in self.messages)


@pytest.fixture
def mailbox():
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def smtp_config(environ, mailbox) -> Config:
    return Config.from_environ({**environ, "CXLAB_SMTP_URL": mailbox[1],
                                "CXLAB_MAIL_FROM": "Acme アンケート <survey@acme.example>"})


def recipients_csv(count: int) -> bytes:
    return ("email,store\n" + "".join(
        f"p{i}@example.com,{'渋谷' if i % 2 else '新宿'}\n" for i in range(count))).encode()


def statuses(database) -> dict[str, str]:
    with database.session() as session:
        return dict(session.execute(
            select(OutboxMessage.to_address, OutboxMessage.status)).all())


def test_link_from_the_email_is_answered_end_to_end(environ, mailbox, database):
    handler, smtp_url = mailbox
    publish_survey_with_key(database, "acme", VISIT)
    app = create_app(Config.from_environ(environ), database, log_stream=None)
    with serve_in_thread(app) as base_url:
        config = Config.from_environ({**environ, "CXLAB_SMTP_URL": smtp_url,
                                      "CXLAB_PUBLIC_URL": base_url})
        import_rows(database, config, "email,store\nana@example.com,渋谷\nbo@example.com,新宿\n"
                    .encode(), reminder_after_days=3)
        report = send_queued(database, config, rate=1000)
        assert (report.sent, report.failed) == (2, 0)
        message = next(m for m in handler.messages if m["To"] == "ana@example.com")

        # Headers: the Japanese subject is RFC 2047-encoded on the wire and decodes back.
        raw_subject = message.get("Subject").as_raw if hasattr(
            message.get("Subject"), "as_raw") else None
        assert message["Subject"] == "【Acme】「ご来店アンケート」ご協力のお願い"
        assert raw_subject is None or raw_subject.isascii()
        assert message["List-Unsubscribe"].startswith(f"<{base_url}/u/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(r"<[^@\s]+@localhost>", message["Message-ID"])
        assert message.get_content_type() == "multipart/alternative"
        plain = message.get_body(("plain",)).get_content()
        page_html = message.get_body(("html",)).get_content()
        assert "Acme" in plain and "ご来店アンケート" in plain
        link = re.search(rf"{re.escape(base_url)}/i/[\w-]+", plain).group(0)
        assert f'href="{link}"' in page_html

        # Follow the link and answer.
        page = requests.get(link)
        assert page.status_code == 200 and "おすすめ度" in page.text
        nonce = html.unescape(re.search(r'name="nonce" value="([^"]+)"', page.text).group(1))
        thanks = requests.post(link, data={"nonce": nonce, "page": "0", "nps": "9"})
        assert thanks.status_code == 200

    with database.session() as session:
        ana = session.scalar(select(Invitation).where(Invitation.email == "ana@example.com"))
        assert ana.sent_at is not None and ana.responded_at is not None
        # Three days later only Bo, who did not answer, is reminded.
        assert queue_reminders(session, config, now=ana.sent_at + timedelta(days=3, minutes=1)) == 1
    assert send_queued(database, config, rate=1000).sent == 1
    assert handler.recipients() == Counter({"ana@example.com": 1, "bo@example.com": 2})
    assert handler.messages[-1]["Subject"].startswith("【Acme】再送")


def test_unsubscribe_link_stops_all_mail_from_that_tenant(environ, mailbox, database):
    handler, smtp_url = mailbox
    publish_survey_with_key(database, "acme", VISIT)
    publish_survey_with_key(database, "beta", VISIT)
    app = create_app(Config.from_environ(environ), database, log_stream=None)
    with serve_in_thread(app) as base_url:
        config = Config.from_environ({**environ, "CXLAB_SMTP_URL": smtp_url,
                                      "CXLAB_PUBLIC_URL": base_url})
        import_rows(database, config, b"email\nana@example.com\n", reminder_after_days=1)
        send_queued(database, config, rate=1000)
        unsubscribe = handler.messages[0]["List-Unsubscribe"].strip("<>")
        confirm = requests.get(unsubscribe, headers={"Accept-Language": "en"})
        assert confirm.status_code == 200
        assert "Stop survey e-mails from Acme to ana@example.com?" in confirm.text
        # A GET (as a mail scanner does) records nothing; the POST does, without cookies.
        assert requests.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        assert requests.get(unsubscribe[:-3] + "abc").status_code == 404

    with database.session() as session:
        sent_at = session.scalar(select(Invitation.sent_at))
        assert queue_reminders(session, config, now=sent_at + timedelta(days=5)) == 0
    with pytest.raises(ImportRefused, match="line 2: ana@example.com unsubscribed"):
        import_rows(database, config, b"email\nana@example.com\n", name="June")
    import_rows(database, config, b"email\nana@example.com\n", slug="beta")
    send_queued(database, config, rate=1000)
    # Acme mailed Ana once; Beta, where she did not unsubscribe, still may.
    assert [m["Subject"].split("】")[0] for m in handler.messages] == ["【Acme", "【Beta"]


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing catches it)."""


class CrashingTransport(SmtpTransport):
    """Dies right after the server accepted message number ``after``."""

    def __init__(self, url: str, after: int) -> None:
        super().__init__(url)
        self.after = after
        self.sent = 0

    def send(self, message):
        reply = super().send(message)
        self.sent += 1
        if self.sent == self.after:
            raise Crash
        return reply


def test_a_sender_killed_mid_batch_never_sends_twice_nor_skips(smtp_config, mailbox, database):
    handler, smtp_url = mailbox
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, smtp_config, recipients_csv(8))
    with pytest.raises(Crash):
        send_queued(database, smtp_config, transport=CrashingTransport(smtp_url, 3),
                    batch_size=5, rate=1000)
    assert len(handler.messages) == 3
    # Another sender running meanwhile leaves the dead one's claimed rows alone...
    send_queued(database, smtp_config, batch_size=5, rate=1000)
    assert handler.recipients()["p3@example.com"] == 0
    assert list(statuses(database).values()).count("sending") == 3
    # ...and once their lease ran out, recovers them: requeued or flagged, never resent.
    later = datetime.now(UTC) + DEFAULT_LEASE + timedelta(minutes=1)
    report = send_queued(database, smtp_config, batch_size=5, rate=1000, now=later)
    assert (report.recovered, report.unknown, report.sent) == (2, 1, 2)
    assert handler.recipients() == Counter({f"p{i}@example.com": 1 for i in range(8)})
    final = statuses(database)
    assert final.pop("p2@example.com") == "unknown"  # accepted, but not recorded as sent
    assert set(final.values()) == {"sent"}


def test_4xx_is_retried_with_backoff_then_sent(smtp_config, mailbox, database):
    handler, _ = mailbox
    handler.greylist = True
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, smtp_config, recipients_csv(2))
    now = datetime.now(UTC)
    first = send_queued(database, smtp_config, rate=1000, now=now)
    assert (first.sent, first.retried) == (0, 2)
    with database.session() as session:
        row = session.scalars(select(OutboxMessage)).first()
        assert row.status == "queued" and row.attempts == 1
        assert row.smtp_reply.startswith("451 4.7.1")
        assert row.next_attempt_at == now + timedelta(seconds=60)
    assert send_queued(database, smtp_config, rate=1000, now=now).sent == 0  # not yet due
    second = send_queued(database, smtp_config, rate=1000, now=now + timedelta(minutes=2))
    assert second.sent == 2
    assert handler.recipients() == Counter({"p0@example.com": 1, "p1@example.com": 1})
    with database.session() as session:
        replies = session.scalars(select(OutboxMessage.smtp_reply)).all()
    assert all(reply.startswith("250 2.0.0 Ok: queued as") for reply in replies)


def test_5xx_is_recorded_as_failed(smtp_config, mailbox, database):
    handler, _ = mailbox
    handler.refuse["p1@example.com"] = "550 5.1.1 no such user"
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, smtp_config, recipients_csv(3))
    report = send_queued(database, smtp_config, rate=1000)
    assert (report.sent, report.failed, report.retried) == (2, 1, 0)
    with database.session() as session:
        failed = session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        assert failed.to_address == "p1@example.com"
        assert failed.smtp_reply == "550 5.1.1 no such user"
        invitation = session.get(Invitation, failed.invitation_id)
        assert invitation.sent_at is None
    assert handler.recipients() == Counter({"p0@example.com": 1, "p2@example.com": 1})



def test_a_sender_killed_waiting_for_the_rate_limit_leaves_nothing_unknown(
    smtp_config, mailbox, database, monkeypatch
):
    handler, _ = mailbox
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, smtp_config, recipients_csv(4))
    real_wait, calls = outbox.RateLimiter.wait, {"n": 0}

    def dies_in_the_third_wait(limiter):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        real_wait(limiter)

    monkeypatch.setattr(outbox.RateLimiter, "wait", dies_in_the_third_wait)
    with pytest.raises(Crash):
        send_queued(database, smtp_config, batch_size=4, rate=1000)
    monkeypatch.undo()
    assert len(handler.messages) == 2
    # The row it was waiting for never got a Message-ID: recovered, not 'unknown'.
    later = datetime.now(UTC) + DEFAULT_LEASE + timedelta(minutes=1)
    report = send_queued(database, smtp_config, rate=1000, now=later)
    assert (report.recovered, report.unknown, report.sent) == (2, 0, 2)
    assert handler.recipients() == Counter({f"p{i}@example.com": 1 for i in range(4)})


def test_unknown_rows_are_listed_and_settled_from_the_command_line(
    smtp_config, mailbox, database, environ
):
    handler, smtp_url = mailbox
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, smtp_config, recipients_csv(3))
    with pytest.raises(Crash):  # dies after the server accepted the first message
        send_queued(database, smtp_config, transport=CrashingTransport(smtp_url, 1),
                    batch_size=3, rate=1000)
    env = {**os.environ, **environ, "CXLAB_SMTP_URL": smtp_url}

    def cxlab(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([CXLAB, *args], capture_output=True, text=True, env=env,
                              timeout=120)

    assert "no 'unknown' e-mails" in cxlab("outbox", "list", "--unknown").stdout
    with database.session() as session:
        session.execute(  # age the claim past the lease instead of sleeping 10 s
            update(OutboxMessage).where(OutboxMessage.status == "sending")
            .values(claimed_at=datetime.now(UTC) - timedelta(seconds=11)))
    sent = cxlab("send", "--lease", "10", "--rate", "1000")
    assert sent.returncode == 1 and "unknown 1" in sent.stdout
    listed = cxlab("outbox", "list", "--unknown")
    row_id, tenant, status, address = listed.stdout.split("\t")[:4]
    assert (tenant, status, address) == ("acme", "unknown", "p0@example.com")
    resolved = cxlab("outbox", "resolve", row_id, "--not-sent")
    assert resolved.returncode == 0 and "queued again" in resolved.stdout
    assert cxlab("send", "--rate", "1000").returncode == 0
    assert statuses(database) == {f"p{i}@example.com": "sent" for i in range(3)}
    assert handler.recipients()["p0@example.com"] == 2  # the operator said it was not sent
    assert "no outbox message 99999" in cxlab("outbox", "resolve", "99999", "--sent").stderr
