"""The tidy "long" CSV: one line per answer (response id, question, value, label).

A matrix answer is one line per row (question ``<matrix>_<row>``), a multiple choice
one line per option chosen; the label is the option's, the scale point's or the
attribute value's name in the tenant's language ("" when it has none). Attributes come
first, as lines of their own, so the file can be pivoted by segment. R's tidyr and
pandas' ``pivot`` read it as it is.

>>> from datetime import UTC, datetime
>>> from cxlab.stored_responses import StoredResponse
>>> from cxlab.surveys import parse_definition
>>> definition = parse_definition({"slug": "s", "title": "S", "attributes": ["store"],
...     "questions": [{"id": "seen", "type": "multi", "label": "Seen",
...                    "options": [{"value": "a", "label": {"en": "Ads"}}, "b"]},
...                   {"id": "why", "type": "text", "label": "Why"}]})
>>> row = StoredResponse(7, "complete", 1, datetime(2026, 5, 1, tzinfo=UTC),
...                      {"store": "x"}, {"seen": ["a", "b"], "why": "=cheap"})
>>> print(b"".join(long_stream(definition, [row], "en")).decode("utf-8-sig"))
response_id,question,value,label
7,store,x,x
7,seen,a,Ads
7,seen,b,b
7,why,'=cheap,
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cxlab.exports.table import csv_lines
from cxlab.stored_responses import StoredResponse
from cxlab.surveys.definition import Question, SurveyDefinition, localize

HEADER = ["response_id", "question", "value", "label"]


def long_stream(definition: SurveyDefinition, rows: Iterable[StoredResponse],
                language: str) -> Iterator[bytes]:
    """The rows as the long CSV (UTF-8 with a byte order mark, formula-safe)."""
    return csv_lines(HEADER, (line for row in rows for line in _lines(definition, row, language)))


def _lines(definition: SurveyDefinition, row: StoredResponse, language: str) -> Iterator[list]:
    attributes = row.attributes or {}
    for attribute in definition.attributes:
        value = attributes.get(attribute.name)
        if value not in (None, ""):
            yield [row.id, attribute.name, value, attribute.value_label(str(value), language)]
    answers = row.answers or {}
    for question in definition.questions:
        value = answers.get(question.id)
        if value in (None, "", [], {}):
            continue
        for name, part, label in _parts(question, value, language):
            yield [row.id, name, part, label]


def _parts(question: Question, value: Any, language: str) -> Iterator[tuple[str, Any, str]]:
    """``(question column, value, label)`` of each part of an answer."""
    scale = {point: localize(text, language) for point, text in question.scale_labels.items()}
    if isinstance(value, dict):  # a matrix: one line per row answered
        for row in question.rows:
            if row.value in value:
                yield question.row_column(row.value), value[row.value], scale.get(
                    value[row.value], "")
        return
    options = {option.value: localize(option.label, language) for option in question.options}
    for part in value if isinstance(value, list) else [value]:
        label = options[part] if part in options else scale.get(part, "")
        yield question.id, part, label
