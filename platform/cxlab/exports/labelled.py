"""SPSS (.sav) and Stata (.dta) exports with variable and value labels, through pyreadstat.

Each question becomes numeric variables an analyst can use at once: scales as their
points (ends labelled), a single choice or dropdown as codes 1..n labelled with the
options, a multiple choice as one 0/1 variable per option, a matrix as one variable per
row; an attribute with declared values (a store) as codes labelled with the value's
name (``value_labels`` of the definition). Variable labels are the question texts in
the tenant's language.

pyreadstat writes from a whole data frame, so the rows are gathered into one, a chunk
at a time, in compact Arrow columns (8-bit integers for scale points, codes for
choices): a million answers of the restaurant survey take about 80 MB, and the file is
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

CHUNK_ROWS = 5_000
BLOCK_BYTES = 64 * 1024
# What each format allows: SPSS counts UTF-8 bytes (a name 64, a variable label 256, a
# value label 120), Stata characters (a name 32, a variable label 80, a value label 32000).
NAME_LIMIT = {"sav": 64, "dta": 32}
LABEL_LIMIT = {"sav": 256, "dta": 80}
VALUE_LABEL_LIMIT = {"sav": 120, "dta": 32000}
# Seconds from the formats' day zero to 1970-01-01, and the datetime formats.
SPSS_EPOCH_OFFSET = 12_219_379_200
STATA_EPOCH_OFFSET = 315_619_200
TIME_FORMAT = {"sav": "DATETIME20", "dta": "%tc"}
# Words neither SPSS nor Stata accepts as a variable name (compared in lowercase).
RESERVED_NAMES = {
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with",
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
    "_n", "_pi", "_pred", "_rc", "_skip", "strl", "using",
}


@dataclass
class Variable:
    """One column of the file: its name, label, Arrow type, value labels and how a
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

    statuses = {"complete": 1, "partial": 2}
    found = [
        new("response_id", phrase(language, "export.response_id"), "int64", lambda r: r.id),
        new("submitted_at", phrase(language, "export.submitted_at"), "float64",
            _time_cell(kind)),
        new("status", phrase(language, "export.status"), "int8", lambda r: r.status,
            {code: status for status, code in statuses.items()}, statuses),
        new("survey_version", phrase(language, "export.survey_version"), "int16",
            lambda r: r.survey_version),
    ]
    for attribute in definition.attributes:
        label = localize(attribute.label, language) or attribute.name
        cell = _attribute_cell(attribute.name)
        if attribute.values:
            codes = {value: index + 1 for index, value in enumerate(attribute.values)}
            labels = {code: attribute.value_label(value, language) for value, code in codes.items()}
            found.append(new(attribute.name, label, "int16", cell, labels, codes))
        else:
            found.append(new(attribute.name, label, "string", cell))
    for question in definition.questions:
        found += _question_variables(question, language, new)
    return found


def _time_cell(kind: str) -> Callable[[StoredResponse], float]:
    """The answer's time as the format's own datetime number (SPSS: seconds since
    1582-10-14, Stata %tc: milliseconds since 1960-01-01): given as a number with its
    format, pyreadstat need not convert a datetime column (a copy of the frame)."""
    if kind == "sav":
        return lambda row: row.submitted_at.timestamp() + SPSS_EPOCH_OFFSET
    return lambda row: (row.submitted_at.timestamp() + STATA_EPOCH_OFFSET) * 1000


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
        return [new(question.id, label, "int8", answer, scale_labels)]
    if question.type == "matrix":
        return [new(question.row_column(row.value), f"{label}: {localize(row.label, language)}",
                    "int8", _matrix_cell(question.id, row.value), scale_labels)
                for row in question.rows]
    if question.type in ("single", "dropdown"):
        codes = {option.value: index + 1 for index, option in enumerate(question.options)}
        labels = {index + 1: localize(option.label, language)
                  for index, option in enumerate(question.options)}
        return [new(question.id, label, "int16", answer, labels, codes)]
    if question.type == "multi":
        chosen = {0: phrase(language, "export.not_chosen"), 1: phrase(language, "export.chosen")}
        return [new(f"{question.id}__{option.value}",
                    f"{label}: {localize(option.label, language)}", "int8",
                    _option_cell(question.id, option.value), chosen)
                for option in question.options]
    if question.type == "number":
        return [new(question.id, label, "float64", answer)]
    return [new(question.id, label, "string", answer)]


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

    Each column is an Arrow chunked array (a chunk per ``CHUNK_ROWS`` rows) wrapped by
    pandas without copying: nothing is concatenated, so the peak is the frame itself."""
    import pandas as pd
    import pyarrow as pa

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
        chunks = pa.chunked_array(parts.pop(variable.name), type=arrow_type(variable.dtype))
        columns[variable.name] = pd.Series(pd.arrays.ArrowExtensionArray(chunks), copy=False)
    return pd.DataFrame(columns, copy=False)


def _add_chunk(found: list[Variable], rows: list[StoredResponse],
               parts: dict[str, list[Any]]) -> None:
    import pyarrow as pa

    for variable in found:
        values = [variable.cell(row) for row in rows]
        if variable.codes is not None:
            values = [variable.code(value) for value in values]
        elif variable.dtype.startswith("int"):
            values = [value if isinstance(value, int) and not isinstance(value, bool) else None
                      for value in values]
        elif variable.dtype == "float64":
            values = [value if isinstance(value, int | float) and not isinstance(value, bool)
                      else None for value in values]
        elif variable.dtype == "string":
            values = [None if value in (None, "") else _text(value) for value in values]
        parts[variable.name].append(pa.array(values, type=arrow_type(variable.dtype)))


def arrow_type(dtype: str) -> Any:
    """The Arrow type of a variable's column: ``int8``, ``int16``, ``int64``,
    ``float64`` or ``string``.

    >>> str(arrow_type("int8"))
    'int8'
    """
    import pyarrow as pa

    return getattr(pa, dtype)()


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
    formats = {"submitted_at": TIME_FORMAT[kind]}
    if kind == "sav":
        pyreadstat.write_sav(frame, str(path), column_labels=labels, row_compress=True,
                             variable_value_labels=value_labels, variable_format=formats)
    else:
        pyreadstat.write_dta(frame, str(path), column_labels=labels, version=15,
                             variable_value_labels=value_labels, variable_format=formats)
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
