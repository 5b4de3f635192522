"""Response exports as byte streams: CSV, JSON lines and Excel.

Each function takes the rows as an iterator (``cxlab.responses.iter_responses``) and
yields bytes in blocks of about 64 KB, so a million responses stream with flat memory.

>>> from datetime import UTC, datetime
>>> from cxlab.responses import StoredResponse
>>> from cxlab.surveys import parse_definition
>>> definition = parse_definition({"slug": "s", "title": "S", "attributes": ["store"],
...     "questions": [{"id": "nps", "type": "nps", "label": "NPS"},
...                   {"id": "seen", "type": "multi", "label": "Seen", "options": ["a", "b"]}]})
>>> row = StoredResponse(1, "complete", 1, datetime(2026, 5, 1, tzinfo=UTC),
...                      {"store": "x"}, {"nps": 9, "seen": ["a", "b"]})
>>> print(b"".join(csv_stream(definition, iter([row]))).decode())
response_id,submitted_at,status,survey_version,store,nps,seen
1,2026-05-01T00:00:00Z,complete,1,x,9,a;b
<BLANKLINE>
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from cxlab.csv_cells import csv_safe_row
from cxlab.responses import StoredResponse
from cxlab.surveys.definition import SurveyDefinition

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
BLOCK_BYTES = 64 * 1024
FIXED_COLUMNS = ["response_id", "submitted_at", "status", "survey_version"]


def columns(definition: SurveyDefinition) -> list[str]:
    """The export's columns: fixed ones, then attributes, then questions in order."""
    return (
        FIXED_COLUMNS
        + [attribute.name for attribute in definition.attributes]
        + [question.id for question in definition.questions]
    )


def _cells(definition: SurveyDefinition, row: StoredResponse) -> list[Any]:
    answers = row.answers or {}
    attributes = row.attributes or {}
    cells: list[Any] = [
        row.id,
        row.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        row.status,
        row.survey_version,
    ]
    cells += [attributes.get(attribute.name, "") for attribute in definition.attributes]
    for question in definition.questions:
        value = answers.get(question.id, "")
        # A multi answer is one cell, its values joined with ';' (values never hold one).
        cells.append(";".join(value) if isinstance(value, list) else value)
    return cells


def csv_stream(definition: SurveyDefinition, rows: Iterable[StoredResponse]) -> Iterator[bytes]:
    """The rows as CSV (UTF-8, header first); one column per attribute and question.

    Text a spreadsheet would run as a formula is prefixed with ``'``
    (:mod:`cxlab.csv_cells`); numbers stay numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_safe_row(columns(definition)))
    for row in rows:
        writer.writerow(csv_safe_row(_cells(definition, row)))
        if buffer.tell() >= BLOCK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def jsonl_stream(rows: Iterable[StoredResponse]) -> Iterator[bytes]:
    """The rows as JSON lines: id, submitted_at, status, survey_version, attributes,
    answers (lists stay lists)."""
    block: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(
            {
                "id": row.id,
                "submitted_at": row.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": row.status,
                "survey_version": row.survey_version,
                "attributes": row.attributes or {},
                "answers": row.answers or {},
            },
            ensure_ascii=False,
        )
        block.append(line)
        size += len(line)
        if size >= BLOCK_BYTES:
            yield ("\n".join(block) + "\n").encode()
            block, size = [], 0
    if block:
        yield ("\n".join(block) + "\n").encode()


def xlsx_stream(definition: SurveyDefinition, rows: Iterable[StoredResponse]) -> Iterator[bytes]:
    """The rows as an Excel workbook.

    A workbook is a zip that can only be finished at the end, so it is written (in
    openpyxl's write-only mode, which keeps no rows in memory) to a temporary file
    that is then streamed and deleted.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("responses")
    sheet.append(columns(definition))
    for row in rows:
        cells = []
        for value in _cells(definition, row):
            if isinstance(value, str):
                # Control characters are not allowed in a workbook; drop them.
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                # A respondent's "=..." is text, never a formula Excel would run.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while block := handle.read(BLOCK_BYTES):
            yield block
