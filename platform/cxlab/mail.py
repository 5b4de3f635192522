"""E-mail: the invitation and reminder texts, the signed unsubscribe link, building a
MIME message with the standard library, and the two ways to send it (SMTP or .eml
files in the outbox folder).

>>> texts = invitation_texts("invitation", "ja", tenant_name="さくら食堂",
...     survey_title="ご来店アンケート", link="https://s.example/i/abc",
...     unsubscribe_link="https://s.example/u/xyz")
>>> texts.subject
'【さくら食堂】「ご来店アンケート」ご協力のお願い'
>>> message = build_message(texts, to_address="ana@example.com",
...     from_address="Survey <no-reply@example.com>", message_id="<1@example.com>",
...     unsubscribe_link="https://s.example/u/xyz")
>>> message["List-Unsubscribe"]
'<https://s.example/u/xyz>'
>>> [part.get_content_type() for part in message.iter_parts()]
['text/plain', 'text/html']
"""

from __future__ import annotations

import email.policy
import html
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

from cxlab.errors import CxlabError
from cxlab.i18n import DEFAULT_LANGUAGE, LANGUAGES, phrase

SMTP_TIMEOUT_SECONDS = 30
OPT_OUT_SALT = "cxlab.opt-out"
KINDS = ("invitation", "reminder")
MAX_LINE_LENGTH = 998  # RFC 5322 2.1.1, without the CRLF


@dataclass(frozen=True)
class MailTexts:
    """One e-mail's subject, plain-text body and HTML body."""

    subject: str
    text: str
    html: str


def invitation_texts(
    kind: str, language: str, *, tenant_name: str, survey_title: str, link: str,
    unsubscribe_link: str,
) -> MailTexts:
    """The subject and bodies of an invitation or reminder (``kind``) in ``language``
    (one of :data:`cxlab.i18n.LANGUAGES`; anything else falls back to Japanese)."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    values = {"tenant": tenant_name, "title": survey_title}
    subject = phrase(language, f"mail.{kind}.subject", **values)
    intro = phrase(language, f"mail.{kind}.body", **values)
    unsubscribe = phrase(language, "mail.unsubscribe_note", **values)
    answer_label = html.escape(phrase(language, "mail.answer_link"))
    unsubscribe_label = html.escape(phrase(language, "mail.unsubscribe_link"))
    text = f"{intro}\n\n{link}\n\n--\n{tenant_name}\n{unsubscribe}\n{unsubscribe_link}\n"
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in intro.split("\n"))
    body_html = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"></head><body>'
        f"{paragraphs}"
        f'<p><a href="{html.escape(link)}">{answer_label}</a></p>'
        f"<hr><p>{html.escape(tenant_name)}</p>"
        f'<p style="font-size:small">{html.escape(unsubscribe)} '
        f'<a href="{html.escape(unsubscribe_link)}">{unsubscribe_label}</a></p>'
        "</body></html>"
    )
    return MailTexts(subject, text, body_html)


def build_message(
    texts: MailTexts, *, to_address: str, from_address: str, message_id: str,
    unsubscribe_link: str, attachment: tuple[str, bytes] | None = None,
    one_click: bool = True,
) -> EmailMessage:
    """A multipart/alternative UTF-8 message (plain text first, then HTML) with a
    one-click List-Unsubscribe (RFC 8058) written as a plain ``<https://…>`` however
    long; non-ASCII subjects are RFC 2047 encoded. ``attachment`` (file name, bytes)
    makes it multipart/mixed with the file after the texts (a PDF is attached as
    application/pdf); ``one_click=False`` leaves out List-Unsubscribe-Post, for a
    link that opens a page rather than unsubscribing at once."""
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = to_address
    message["Subject"] = texts.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = UnfoldedHeader("List-Unsubscribe", f"<{unsubscribe_link}>")
    if one_click:
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # base64 keeps Japanese text safe through any 7-bit relay, and short.
    message.set_content(texts.text, charset="utf-8", cte="base64")
    message.add_alternative(texts.html, subtype="html", charset="utf-8", cte="base64")
    if attachment is not None:
        file_name, data = attachment
        maintype, subtype = (("application", "pdf") if file_name.lower().endswith(".pdf")
                             else ("application", "octet-stream"))
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=file_name)
    return message


class UnfoldedHeader(str):
    """A header value the ``email`` package writes out exactly as it is, on one line.

    The package folds a long unstructured header with no whitespace to fold at into
    RFC 2047 encoded words, which turns a long ``List-Unsubscribe`` URL into
    ``=?utf-8?q?=3Chttps…`` that no mail client can use. A line of up to 998
    characters is legal (RFC 5322 2.1.1), so this value is written unfolded. Only
    printable ASCII without spaces is accepted: nothing here can inject a header.

    >>> message = EmailMessage()
    >>> link = "<https://s.example/u/" + "x" * 90 + ">"
    >>> message["List-Unsubscribe"] = UnfoldedHeader("List-Unsubscribe", link)
    >>> bytes(message).decode().startswith("List-Unsubscribe: <https://s.example/u/xxx")
    True
    """

    name: str

    def __new__(cls, name: str, value: str) -> UnfoldedHeader:
        if not re.fullmatch(r"[!-~]+", value) or len(name) + 2 + len(value) > MAX_LINE_LENGTH:
            raise ValueError(f"{name}: not a single line of printable ASCII up to "
                             f"{MAX_LINE_LENGTH} characters: {value[:100]!r}")
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: email.policy.Policy) -> str:
        """The header line as the generator writes it (``email.policy.EmailPolicy``
        calls this for values that carry a ``name``)."""
        return f"{self.name}: {self}{policy.linesep}"


def new_message_id(from_address: str) -> str:
    """A globally unique Message-ID in the sender's domain, e.g. ``<…@example.com>``."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


# ---------------------------------------------------------------- unsubscribe tokens


def opt_out_token(secret_key: str, tenant_id: int, email: str) -> str:
    """The signed token of an unsubscribe link: it names the tenant and the address,
    so the link needs no login and cannot be forged for another address.

    >>> token = opt_out_token("k" * 32, 7, "Ana@Example.com")
    >>> read_opt_out_token("k" * 32, token)
    (7, 'ana@example.com')
    >>> read_opt_out_token("k" * 32, token[:-2] + "xx") is None
    True
    """
    return URLSafeSerializer(secret_key, salt=OPT_OUT_SALT).dumps([tenant_id, email.lower()])


def read_opt_out_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """``(tenant_id, email)`` of a valid unsubscribe token, else None."""
    if not token or len(token) > 1000:
        return None
    try:
        tenant_id, email = URLSafeSerializer(secret_key, salt=OPT_OUT_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(tenant_id, int) or not isinstance(email, str):
        return None
    return tenant_id, email


# ---------------------------------------------------------------- transports


class SendError(CxlabError):
    """A message was not accepted; ``transient`` says whether retrying may help."""

    def __init__(self, reply: str, *, transient: bool) -> None:
        super().__init__(reply)
        self.reply = reply
        self.transient = transient


class Transport(Protocol):
    """Hands one message on; returns the receiver's reply, raises :class:`SendError`."""

    def send(self, message: EmailMessage) -> str: ...

    def close(self) -> None: ...


class FolderTransport:
    """Development: each message becomes an .eml file in ``folder`` (open it in any
    mail program).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> message = EmailMessage()
    >>> message["Message-ID"] = "<abc@example.com>"
    >>> FolderTransport(folder).send(message).startswith("written to ")
    True
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = "".join(c for c in str(message["Message-ID"]) if c.isalnum() or c in "._-@")
        path = self.folder / f"{name}.eml"
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)
        return f"written to {path}"

    def close(self) -> None:
        pass


class SmtpTransport:
    """Sends over one SMTP connection, opened on first use: ``smtps://`` is TLS from
    the start, ``smtp://`` upgrades with STARTTLS when the server offers it; logs in
    when the URL has a user."""

    def __init__(self, url: str, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.parts = urlsplit(url)
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        parts = self.parts
        context = ssl.create_default_context()
        if parts.scheme == "smtps":
            connection = smtplib.SMTP_SSL(parts.hostname, parts.port or 465,
                                          timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=self.timeout)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=context)
                connection.ehlo()
        if parts.username:
            connection.login(unquote(parts.username), unquote(parts.password or ""))
        return connection

    def send(self, message: EmailMessage) -> str:
        try:
            if self._connection is None:
                self._connection = self._connect()
            return self._transaction(self._connection, message)
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            raise CxlabError(
                f"CXLAB_SMTP_URL: the server refused the login ({error.smtp_code} "
                f"{_text(error.smtp_error)}); check the user and password in the URL"
            ) from None
        except smtplib.SMTPResponseException as error:
            self._reset()
            reply = f"{error.smtp_code} {_text(error.smtp_error)}"
            raise SendError(reply, transient=400 <= error.smtp_code < 500) from None
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            code, text = next(iter(error.recipients.values()))
            raise SendError(f"{code} {_text(text)}", transient=400 <= code < 500) from None
        except (smtplib.SMTPException, OSError) as error:
            # Connection refused, dropped or timed out: the message may be retried.
            self.close()
            raise SendError(f"connection: {type(error).__name__}: {error}",
                            transient=True) from None

    @staticmethod
    def _transaction(connection: smtplib.SMTP, message: EmailMessage) -> str:
        # MAIL/RCPT/DATA by hand rather than send_message(), to keep the server's
        # final reply (with its queue id) for the outbox row.
        sender = parseaddr(str(message["From"]))[1]
        recipient = parseaddr(str(message["To"]))[1]
        code, reply = connection.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = connection.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        # CRLF line ends: smtplib sends bytes as they are, and a bare-LF message is
        # one endless line to a strict server.
        code, reply = connection.data(message.as_bytes(policy=email.policy.SMTP))
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return f"{code} {_text(reply)}"

    def _reset(self) -> None:
        try:
            if self._connection is not None:
                self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def transport_for(smtp_url: str | None, outbox_dir: Path) -> Transport:
    """SMTP when ``smtp_url`` is set (CXLAB_SMTP_URL), else .eml files in ``outbox_dir``."""
    return SmtpTransport(smtp_url) if smtp_url else FolderTransport(outbox_dir)
