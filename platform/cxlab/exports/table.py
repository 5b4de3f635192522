"""Wide exports (one row per response, one column per attribute and question) as
byte streams: CSV, JSON lines and Excel.

Each function takes the rows as an iterator (``cxlab.stored_responses.iter_responses``) and
yields bytes in blocks of about 64 KB, so a million responses stream with flat memory.
A CSV starts with a byte order mark, so that Excel reads its Japanese as UTF-8.

>>> from datetime import UTC, datetime
>>> from cxlab.stored_responses import StoredResponse
>>> from cxlab.surveys import parse_definition
>>> definition = parse_definition({"slug": "s", "title": "S", "attributes": ["store"],
...     "questions": [{"id": "nps", "type": "nps", "label": "NPS"},
...                   {"id": "seen", "type": "multi", "label": "Seen", "options": ["a", "b"]}]})
>>> row = StoredResponse(1, "complete", 1, datetime(2026, 5, 1, tzinfo=UTC),
...                      {"store": "x"}, {"nps": 9, "seen": ["a", "b"]})
>>> print(b"".join(csv_stream(definition, iter([row]))).decode("utf-8-sig"))
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
from cxlab.stored_responses import StoredResponse
from cxlab.surveys.definition import SurveyDefinition
from cxlab.surveys.types import question_type

BLOCK_BYTES = 64 * 1024
BOM = "\ufeff"
FIXED_COLUMNS = ["response_id", "submitted_at", "status", "survey_version"]


def columns(definition: SurveyDefinition) -> list[str]:
    """The export's columns: fixed ones, then attributes, then questions in order (a
    matrix: one per row, ``<matrix>_<row>``, as in the analytic store)."""
    return (
        FIXED_COLUMNS
        + [attribute.name for attribute in definition.attributes]
        + [name for question in definition.questions
           for name in question_type(question.type).export_columns(question)]
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
        cells += question_type(question.type).export_cells(question, answers.get(question.id))
    return cells


def csv_stream(definition: SurveyDefinition, rows: Iterable[StoredResponse]) -> Iterator[bytes]:
    """The rows as CSV (UTF-8 with a byte order mark, header first); one column per
    attribute and question.

    Text a spreadsheet would run as a formula is prefixed with ``'``
    (:mod:`cxlab.csv_cells`); numbers stay numbers.
    """
    return csv_lines(columns(definition), (_cells(definition, row) for row in rows))


def csv_lines(header: list[str], lines: Iterable[list[Any]]) -> Iterator[bytes]:
    """A CSV in blocks: byte order mark, ``header``, then each line, every cell made
    safe for a spreadsheet (:mod:`cxlab.csv_cells`).

    >>> b"".join(csv_lines(["a", "b"], [[1, "=x"]]))
    b"\\xef\\xbb\\xbfa,b\\n1,'=x\\n"
    """
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_safe_row(header))
    for line in lines:
        writer.writerow(csv_safe_row(line))
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
