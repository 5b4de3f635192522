"""Recipient files: a CSV of e-mail addresses and attributes, read (UTF-8 or
Shift_JIS) and checked line by line before any invitation is made.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from cxlab.db.models import (
    Survey,
    Tenant,
)
from cxlab.distribution.opt_out import opted_out_addresses
from cxlab.errors import CxlabError
from cxlab.identifiers import is_email_address
from cxlab.surveys.catalog import definition_of

EMAIL_COLUMN = "email"
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
        elif not is_email_address(email):
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
