"""The store's columns: how a survey's definitions become typed Parquet columns and
how they come back as pandas dtypes (:mod:`cxlab.store.extract` fills them).

Columns, in order: ``response_id``, ``submitted_at`` (UTC), ``invitation_id``,
``survey_version``, one per attribute, then one per question of the newest definition
(questions only older versions had come last, so history keeps its columns):

========== ==================== ===================================
type       Parquet              pandas
========== ==================== ===================================
nps/rating int8                 Int8
matrix     int8 per row         Int8, ``{question}_{row}``
number     double               Float64
single     string               category, the definition's order
dropdown   string               category, the definition's order
multi      bool per option      boolean, ``{question}__{option}``
text       string               str
attribute  string               category (listed values' order)
========== ==================== ===================================

Each question type names its storage and columns (:mod:`cxlab.surveys.types`).

>>> plan = ColumnPlan({1: {"slug": "pulse", "title": "Pulse", "questions": [
...     {"id": "enps", "type": "nps", "label": "eNPS"},
...     {"id": "why", "type": "multi", "label": "Why", "options": ["pay", "team"]}]}})
>>> plan.schema.names
['response_id', 'submitted_at', 'invitation_id', 'survey_version', 'enps', 'why__pay', 'why__team']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlab.surveys.definition import SurveyDefinition
from cxlab.surveys.parsing import parse_definition
from cxlab.surveys.types import question_type

BASE_FIELDS = [
    pa.field("response_id", pa.int64(), nullable=False),
    pa.field("submitted_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("invitation_id", pa.int64()),
    pa.field("survey_version", pa.int16(), nullable=False),
]
# A question type's storage name (cxlab.surveys.types.base.QuestionType.storage).
ARROW_TYPES = {"int8": pa.int8(), "float64": pa.float64(), "string": pa.string(),
               "bool": pa.bool_()}


@dataclass(frozen=True)
class QuestionColumns:
    """One question as stored: its type, the options or rows that name or categorise
    its columns (``parts``) and its column names."""

    id: str
    type: str
    options: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return question_type(self.type).column_names(self.id, self.options)

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[question_type(self.type).storage]


class ColumnPlan:
    """The columns of one survey, from every version of its definition.

    ``definitions`` maps version → raw definition (as stored in the database).
    """

    def __init__(self, definitions: dict[int, dict[str, Any]]) -> None:
        self.definitions = {int(version): raw for version, raw in definitions.items()}
        newest_first = sorted(self.definitions, reverse=True)
        parsed = [parse_definition(self.definitions[version]) for version in newest_first]
        self.definition: SurveyDefinition = parsed[0]
        questions: dict[str, QuestionColumns] = {}
        attributes: dict[str, list[str]] = {}
        for definition in parsed:
            for question in definition.questions:
                known = questions.get(question.id)
                if known is None:
                    questions[question.id] = QuestionColumns(
                        question.id, question.type, question_type(question.type).parts(question)
                    )
                elif known.type == question.type:
                    # An option (or row) an older version had keeps its column and category.
                    parts = question_type(question.type).parts(question)
                    extra = [o for o in parts if o not in known.options]
                    questions[question.id] = QuestionColumns(
                        known.id, known.type, known.options + tuple(extra)
                    )
            for attribute in definition.attributes:
                values = attributes.setdefault(attribute.name, [])
                values += [value for value in attribute.values if value not in values]
        self.questions = list(questions.values())
        self.attributes = attributes
        fields = list(BASE_FIELDS)
        fields += [pa.field(name, pa.string()) for name in attributes]
        for question in self.questions:
            fields += [pa.field(name, question.arrow_type) for name in question.names]
        self.schema = pa.schema(fields)

    # ------------------------------------------------------------ arrow → pandas

    @property
    def categorical_columns(self) -> list[str]:
        """Attributes and single choices: pandas categories, read as dictionaries."""
        singles = [q.id for q in self.questions if question_type(q.type).categorical]
        return list(self.attributes) + singles

    @property
    def read_schema(self) -> pa.Schema:
        """:attr:`schema` with categorical columns as Arrow dictionaries, which Parquet
        hands over without building one Python-visible string per row."""
        dictionary = pa.dictionary(pa.int32(), pa.string())
        categorical = set(self.categorical_columns)
        return pa.schema([
            pa.field(f.name, dictionary) if f.name in categorical else f for f in self.schema
        ])

    def to_frame(self, table: pa.Table) -> pd.DataFrame:
        """The table as pandas with the definition's dtypes (see the module table)."""
        categories: dict[str, list[str]] = {}
        for name, values in self.attributes.items():
            if name in table.column_names:
                # Attributes without listed values (free text such as a store code)
                # get the values seen, sorted, as categories.
                seen = _distinct(table[name])
                categories[name] = values + sorted(v for v in seen if v not in values)
        for question in self.questions:
            if question_type(question.type).categorical and question.id in table.column_names:
                categories[question.id] = list(question.options)
        order = table.column_names
        codes = {name: _codes(table[name], values) for name, values in categories.items()}
        plain = table.drop_columns(list(categories))
        frame = plain.to_pandas(types_mapper=_PANDAS_TYPES.get, self_destruct=True)
        if "response_id" in frame:
            frame["response_id"] = frame["response_id"].astype("int64")
        if "survey_version" in frame:
            frame["survey_version"] = frame["survey_version"].astype("int16")
        for name, values in categories.items():
            frame[name] = pd.Categorical.from_codes(codes[name], categories=values)
        return frame[order]


def _distinct(column: pa.ChunkedArray) -> set[str]:
    if pa.types.is_dictionary(column.type):
        return {value for chunk in column.chunks for value in chunk.dictionary.to_pylist()}
    return set(pc.unique(column).drop_null().to_pylist())


def _codes(column: pa.ChunkedArray, categories: list[str]) -> np.ndarray:
    """Category codes (-1 for missing) of a string or dictionary column."""
    value_set = pa.array(categories, pa.string())
    if not pa.types.is_dictionary(column.type):
        return pc.index_in(column, value_set=value_set).fill_null(-1).to_numpy(
            zero_copy_only=False
        ).astype(np.int32)
    parts = []
    for chunk in column.chunks:
        # Map the chunk's small dictionary once, then look every row's index up in it.
        mapping = pc.index_in(chunk.dictionary, value_set=value_set).fill_null(-1)
        mapping = np.append(mapping.to_numpy(zero_copy_only=False), -1).astype(np.int32)
        indices = chunk.indices.fill_null(len(mapping) - 1).to_numpy(zero_copy_only=False)
        parts.append(mapping[indices])
    return np.concatenate(parts) if parts else np.empty(0, np.int32)


_PANDAS_TYPES = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
