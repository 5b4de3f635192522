"""E-mail headers on the wire: a long List-Unsubscribe stays a plain ``<https://…>``
(not RFC 2047 encoded words) while the Japanese subject is encoded, over SMTP and in
the .eml files of the outbox folder."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from aiosmtpd.controller import Controller
from conftest import free_port
from cxlab.config import Config
from cxlab.mail import UnfoldedHeader
from cxlab.outbox import send_queued
from test_distribution import VISIT, import_rows

from survey_server.testing import publish_survey_with_key

LONG_PUBLIC_URL = "https://surveys.customer-experience-laboratory.example.co.jp/tenants/acme"
LONG_ADDRESS = "hanako.yamada.customer-relations-department@shibuya-flagship-store.example.jp"
SUBJECT = "【Acme】「ご来店アンケート」ご協力のお願い"


class RawMailbox:
    """An aiosmtpd handler keeping each message's bytes exactly as received."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content or envelope.content)
        return "250 2.0.0 Ok"


def assert_headers_usable(raw: bytes) -> None:
    lines = raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n")
    header = next(line for line in lines if line.lower().startswith(b"list-unsubscribe:"))
    assert header.startswith(b"List-Unsubscribe: <" + LONG_PUBLIC_URL.encode() + b"/u/")
    assert header.endswith(b">") and len(header) > 78 and b"=?" not in header
    # The Subject's encoded words each fit within RFC 2047's 75 characters.
    subject_start = next(i for i, line in enumerate(lines) if line.startswith(b"Subject: "))
    subject_lines = [lines[subject_start][len(b"Subject: "):]]
    for line in lines[subject_start + 1:]:
        if not line.startswith(b" "):
            break
        subject_lines.append(line.strip())
    words = [word for line in subject_lines for word in line.split()]
    assert words and all(re.fullmatch(rb"=\?utf-8\?[bq]\?\S+\?=", w) for w in words)
    assert all(len(word) <= 75 for word in words)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == SUBJECT
    assert parsed["To"] == LONG_ADDRESS
    assert parsed["List-Unsubscribe"].startswith(f"<{LONG_PUBLIC_URL}/u/")


@pytest.fixture
def raw_mailbox():
    handler = RawMailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


def test_long_list_unsubscribe_is_plain_over_smtp(environ, raw_mailbox, database):
    handler, smtp_url = raw_mailbox
    config = Config.from_environ({**environ, "CXLAB_SMTP_URL": smtp_url,
                                  "CXLAB_PUBLIC_URL": LONG_PUBLIC_URL})
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, config, f"email\n{LONG_ADDRESS}\n".encode())
    assert send_queued(database, config, rate=1000).sent == 1
    assert len(handler.messages) == 1
    assert_headers_usable(handler.messages[0])


def test_long_list_unsubscribe_is_plain_in_eml_files(environ, var_dir, database):
    config = Config.from_environ({**environ, "CXLAB_PUBLIC_URL": LONG_PUBLIC_URL})
    publish_survey_with_key(database, "acme", VISIT)
    import_rows(database, config, f"email\n{LONG_ADDRESS}\n".encode())
    assert send_queued(database, config, rate=1000).sent == 1
    [eml] = (var_dir / "outbox").glob("*.eml")
    assert_headers_usable(eml.read_bytes())


@pytest.mark.parametrize("value", ["<https://a.example/u/x>\r\nBcc: x@evil.example",
                                   "<https://a.example/u/ x>", "<https://例え.jp/u/x>",
                                   "<https://a.example/u/" + "x" * 990 + ">"])
def test_unfolded_header_refuses_what_it_cannot_write_as_is(value):
    with pytest.raises(ValueError):
        UnfoldedHeader("List-Unsubscribe", value)
