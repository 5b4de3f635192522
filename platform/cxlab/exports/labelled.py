"""SPSS (.sav) and Stata (.dta) exports with variable and value labels, through pyreadstat.

Each question becomes numeric variables an analyst can use at once: scales as their
points (ends labelled), a single choice or dropdown as codes 1..n labelled with the
options, a multiple choice as one 0/1 variable per option, a matrix as one variable per
row; an attribute with declared values (a store) as codes labelled with the value's
name (``value_labels`` of the definition). Variable labels are the question texts in
the tenant's language.

pyreadstat writes from a whole data frame, so the rows are gathered into one, a chunk
at a time, in compact column types (nullable 8-bit integers for scale points, Arrow
strings): a million answers of the restaurant survey take about 100 MB, and the file is
then streamed from a temporary folder (``benchmarks/export.py`` measures it).

>>> from datetime import UTC, datetime
>>> from cxlab.stored_responses import StoredResponse
>>> from cxlab.surveys import parse_definition
>>> definition = parse_definition({"slug": "s", "title": "S", "questions": [
...     {"id": "by", "type": "single", "label": {"en": "Came by", "ja": "交通手段"},
...      "options": ["car", "train"]}]})
>>> [(v.name, v.label, v.value_labels) for v in variables(definition, "dta", "ja")][-1]
('q_by', '交通手段', {1: 'car', 2: 'train'})
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxlab.i18n import phrase
from cxlab.stored_responses import StoredResponse
from cxlab.surveys.definition import Question, SurveyDefinition, localize

CHUNK_ROWS = 20_000
BLOCK_BYTES = 64 * 1024
# What each format allows: SPSS counts UTF-8 bytes (a name 64, a variable label 256, a
# value label 120), Stata characters (a name 32, a variable label 80, a value label 32000).
NAME_LIMIT = {"sav": 64, "dta": 32}
LABEL_LIMIT = {"sav": 256, "dta": 80}
VALUE_LABEL_LIMIT = {"sav": 120, "dta": 32000}
# Words neither SPSS nor Stata accepts as a variable name (compared in lowercase).
RESERVED_NAMES = {
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
    "_n", "_pi", "_pred", "_rc", "_skip", "strl", "using",
}


@dataclass
class Variable:
    """One column of the file: its name, label, pandas type, value labels and how a
    stored response gives its cell (None: missing)."""

    name: str
    label: str
    dtype: str
    cell: Callable[[StoredResponse], Any]
    value_labels: dict[int, str] = field(default_factory=dict)
    codes: dict[str, int] | None = None
    """For coded text (a choice, an attribute value): text → code; a text met that the
    definition does not list gets the next code, labelled with itself."""

    def code(self, value: Any) -> int | None:
        if value is None or value == "":
            return None
        value = str(value)
        if value not in self.codes:
            self.codes[value] = len(self.codes) + 1
            self.value_labels[self.codes[value]] = value
        return self.codes[value]


def variable_name(raw: str, kind: str, taken: set[str]) -> str:
    """A name the format accepts, unique among ``taken`` (which it joins).

    >>> taken = set()
    >>> variable_name("heard_from__review-site", "dta", taken), variable_name("to", "sav", taken)
    ('heard_from__review_site', 'q_to')
    >>> variable_name("x" * 40, "dta", taken), variable_name("x" * 40, "dta", taken)
    ('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_2')
    """
    name = re.sub(r"[^A-Za-z0-9_]", "_", raw)
    if not name or not name[0].isalpha() or name.lower() in RESERVED_NAMES:
        name = f"q_{name}"
    limit = NAME_LIMIT[kind]
    candidate, number = name[:limit], 1
    while candidate.lower() in taken:
        number += 1
        suffix = f"_{number}"
        candidate = name[:limit - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def cut(text: str, limit: int, kind: str) -> str:
    """``text`` within ``limit`` as the format counts it (SPSS: UTF-8 bytes, never
    cutting a character in two; Stata: characters).

    >>> cut("店舗の清潔さ", 7, "sav"), cut("店舗の清潔さ", 3, "dta")
    ('店舗', '店舗の')
    """
    if kind == "dta":
        return text[:limit]
    return text.encode()[:limit].decode(errors="ignore")


def variables(definition: SurveyDefinition, kind: str, language: str) -> list[Variable]:
    """The file's variables: fixed ones, attributes, then each question's."""
    taken: set[str] = set()

    def new(raw_name: str, label: str, dtype: str, cell, value_labels=None, codes=None):
        return Variable(variable_name(raw_name, kind, taken), cut(label, LABEL_LIMIT[kind], kind),
                        dtype, cell, dict(value_labels or {}), codes)

    found = [
        new("response_id", phrase(language, "export.response_id"), "Int64", lambda r: r.id),
        new("submitted_at", phrase(language, "export.submitted_at"), "datetime64[ns]",
            lambda r: r.submitted_at.replace(tzinfo=None)),
        new("status", phrase(language, "export.status"), "str", lambda r: r.status),
        new("survey_version", phrase(language, "export.survey_version"), "Int32",
            lambda r: r.survey_version),
    ]
    for attribute in definition.attributes:
        label = localize(attribute.label, language) or attribute.name
        cell = _attribute_cell(attribute.name)
        if attribute.values:
            codes = {value: index + 1 for index, value in enumerate(attribute.values)}
            labels = {code: attribute.value_label(value, language) for value, code in codes.items()}
            found.append(new(attribute.name, label, "Int32", cell, labels, codes))
        else:
            found.append(new(attribute.name, label, "str", cell))
    for question in definition.questions:
        found += _question_variables(question, language, new)
    return found


def _attribute_cell(name: str) -> Callable[[StoredResponse], Any]:
    return lambda row: (row.attributes or {}).get(name)


def _answer_cell(question_id: str) -> Callable[[StoredResponse], Any]:
    return lambda row: (row.answers or {}).get(question_id)


def _question_variables(question: Question, language: str, new) -> list[Variable]:
    label = localize(question.label, language)
    answer = _answer_cell(question.id)
    scale_labels = {point: localize(text, language)
                    for point, text in question.scale_labels.items()}
    if question.type == "nps":
        scale_labels = {0: phrase(language, "export.nps_low"),
                        10: phrase(language, "export.nps_high")}
    if question.type in ("nps", "rating"):
        return [new(question.id, label, "Int8", answer, scale_labels)]
    if question.type == "matrix":
        return [new(question.row_column(row.value), f"{label}: {localize(row.label, language)}",
                    "Int8", _matrix_cell(question.id, row.value), scale_labels)
                for row in question.rows]
    if question.type in ("single", "dropdown"):
        codes = {option.value: index + 1 for index, option in enumerate(question.options)}
        labels = {index + 1: localize(option.label, language)
                  for index, option in enumerate(question.options)}
        return [new(question.id, label, "Int32", answer, labels, codes)]
    if question.type == "multi":
        chosen = {0: phrase(language, "export.not_chosen"), 1: phrase(language, "export.chosen")}
        return [new(f"{question.id}__{option.value}",
                    f"{label}: {localize(option.label, language)}", "Int8",
                    _option_cell(question.id, option.value), chosen)
                for option in question.options]
    if question.type == "number":
        return [new(question.id, label, "Float64", answer)]
    return [new(question.id, label, "str", answer)]


def _matrix_cell(question_id: str, row_id: str) -> Callable[[StoredResponse], Any]:
    def cell(row: StoredResponse) -> Any:
        value = (row.answers or {}).get(question_id)
        return value.get(row_id) if isinstance(value, dict) else None
    return cell


def _option_cell(question_id: str, option: str) -> Callable[[StoredResponse], Any]:
    def cell(row: StoredResponse) -> Any:
        value = (row.answers or {}).get(question_id)
        if value is None:
            return None
        return int(option in value) if isinstance(value, list) else int(value == option)
    return cell


def labelled_frame(found: list[Variable], rows: Iterable[StoredResponse]) -> Any:
    """The rows as one pandas frame of the variables' compact types, built a chunk at a
    time (coded variables learn codes for values their definition does not list).

    Each column's chunks are joined, and let go, one column at a time, so the peak is
    the frame and one column, not the frame twice."""
    import pandas as pd

    parts: dict[str, list[Any]] = {variable.name: [] for variable in found}
    buffer: list[StoredResponse] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= CHUNK_ROWS:
            _add_chunk(found, buffer, parts)
            buffer = []
    _add_chunk(found, buffer, parts)
    columns = {}
    for variable in found:
        chunks = parts.pop(variable.name)
        columns[variable.name] = (chunks[0] if len(chunks) == 1
                                  else type(chunks[0])._concat_same_type(chunks))
    return pd.DataFrame(columns, copy=False)


def _add_chunk(found: list[Variable], rows: list[StoredResponse],
               parts: dict[str, list[Any]]) -> None:
    import pandas as pd

    for variable in found:
        values = [variable.cell(row) for row in rows]
        if variable.codes is not None:
            values = [variable.code(value) for value in values]
        elif variable.dtype.startswith("Int"):
            values = [value if isinstance(value, int) and not isinstance(value, bool) else None
                      for value in values]
        elif variable.dtype == "Float64":
            values = [value if isinstance(value, int | float) and not isinstance(value, bool)
                      else None for value in values]
        elif variable.dtype == "str":
            values = [None if value in (None, "") else _text(value) for value in values]
        parts[variable.name].append(pd.array(values, dtype=variable.dtype))


def _text(value: Any) -> str:
    return ";".join(map(str, value)) if isinstance(value, list) else str(value)


def write_labelled(definition: SurveyDefinition, rows: Iterable[StoredResponse], kind: str,
                   language: str, path: str | Path) -> int:
    """Write the rows to ``path`` as ``kind`` ("sav" or "dta"); the number of rows."""
    import pyreadstat

    found = variables(definition, kind, language)
    frame = labelled_frame(found, rows)
    labels = {variable.name: variable.label for variable in found}
    value_labels = {
        variable.name: {code: cut(text, VALUE_LABEL_LIMIT[kind], kind) or str(code)
                        for code, text in variable.value_labels.items()}
        for variable in found if variable.value_labels
    }
    if kind == "sav":
        pyreadstat.write_sav(frame, str(path), column_labels=labels,
                             variable_value_labels=value_labels, row_compress=True)
    else:
        pyreadstat.write_dta(frame, str(path), column_labels=labels,
                             variable_value_labels=value_labels, version=15)
    return len(frame)


def labelled_stream(definition: SurveyDefinition, rows: Iterable[StoredResponse], kind: str,
                    language: str) -> Iterator[bytes]:
    """The file :func:`write_labelled` makes, in blocks, from a temporary folder that is
    removed once it has been read."""
    with tempfile.TemporaryDirectory(prefix="cxlab-export-") as folder:
        path = Path(folder) / f"export.{kind}"
        write_labelled(definition, rows, kind, language, path)
        with path.open("rb") as handle:
            while block := handle.read(BLOCK_BYTES):
                yield block
