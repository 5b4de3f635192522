"""Response exports as byte streams: CSV, JSON lines and Excel.

Each function takes the rows as an iterator (``cxlab.stored_responses.iter_responses``) and
yields bytes in blocks of about 64 KB, so a million responses stream with flat memory.

>>> from datetime import UTC, datetime
>>> from cxlab.stored_responses import StoredResponse
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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from cxlab.anonymity import is_small, suppressed_groups
from cxlab.csv_cells import csv_safe_row
from cxlab.stored_responses import StoredResponse
from cxlab.surveys.definition import SurveyDefinition
from cxlab.surveys.types import question_type

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
BLOCK_BYTES = 64 * 1024
HIDDEN = "(hidden)"
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


def small_segments(
    definition: SurveyDefinition, rows: Iterable[StoredResponse], min_group: int
) -> tuple[dict[str, set[str]], set[tuple[str, ...]]]:
    """What an export of an anonymous (unlinked) survey must not show: per attribute,
    the values held by fewer than ``min_group`` rows (with complementary suppression:
    the export's row count is its total), and the combinations of the remaining
    values and the day of the answer that are still that small (two attributes, or an
    attribute and a day, can single a person out).

    >>> from datetime import UTC, datetime
    >>> from cxlab.surveys import parse_definition
    >>> definition = parse_definition({"slug": "s", "title": "S", "attributes": ["dept"],
    ...     "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]})
    >>> def row(dept):
    ...     return StoredResponse(1, "complete", 1, datetime(2026, 5, 1, tzinfo=UTC),
    ...                           {"dept": dept}, {"enps": 9})
    >>> hidden, _ = small_segments(definition, [row("a")] * 9 + [row("b")] * 2
    ...                            + [row("c")] * 6, 5)
    >>> sorted(hidden["dept"])
    ['b', 'c']
    """
    names = [attribute.name for attribute in definition.attributes]
    counts: dict[str, Counter] = {name: Counter() for name in names}
    combinations: list[tuple[tuple[str, ...], str]] = []
    for row in rows:
        attributes = row.attributes or {}
        values = tuple(str(attributes.get(name, "")) for name in names)
        for name, value in zip(names, values, strict=True):
            counts[name][value] += 1
        combinations.append((values, _day(row)))
    hidden = {name: {str(v) for v in suppressed_groups(counts[name], min_group)}
              for name in names}
    masked = Counter((*_masked(values, names, hidden), day) for values, day in combinations)
    small = {key for key, n in masked.items() if is_small(n, min_group)}
    return hidden, small


def _day(row: StoredResponse) -> str:
    return row.submitted_at.strftime("%Y-%m-%d")


def _masked(values: tuple[str, ...], names: list[str],
            hidden: dict[str, set[str]]) -> tuple[str, ...]:
    return tuple(HIDDEN if value in hidden[name] else value
                 for name, value in zip(names, values, strict=True))


def without_small_segments(
    definition: SurveyDefinition, rows: Iterable[StoredResponse],
    hidden: tuple[dict[str, set[str]], set[tuple[str, ...]]],
) -> Iterator[StoredResponse]:
    """The rows with the attribute values :func:`small_segments` found replaced by
    ``(hidden)``; a row whose combination (with its day) is small loses all its
    attributes; the time of each answer is cut to its day (00:00 UTC). The answers
    are all there: nothing is lost, only the segment and the hour are not shown."""
    by_attribute, small = hidden
    names = [attribute.name for attribute in definition.attributes]
    for row in rows:
        attributes = row.attributes or {}
        values = tuple(str(attributes.get(name, "")) for name in names)
        masked = _masked(values, names, by_attribute)
        if (*masked, _day(row)) in small:
            masked = tuple(HIDDEN for _ in names)
        row = replace(row, submitted_at=row.submitted_at.replace(
            hour=0, minute=0, second=0, microsecond=0))
        if masked != values:
            kept = {name: value for name, value in attributes.items() if name not in names}
            shown = {name: value for name, value in zip(names, masked, strict=True)
                     if value != "" or name in attributes}
            row = replace(row, attributes={**kept, **shown})
        yield row


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
