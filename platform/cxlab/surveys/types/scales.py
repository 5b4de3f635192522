"""Questions answered on a scale of whole numbers: nps (0–10), rating, and matrix (a
grid of rating rows sharing one scale, each row stored and analysed as its own item).

>>> from cxlab.surveys import parse_definition
>>> grid = parse_definition({"slug": "s", "title": "S", "questions": [
...     {"id": "service", "type": "matrix", "label": "Rate", "scale": 5,
...      "rows": ["speed", "staff"]}]}).questions[0]
>>> MatrixType().clean(grid, {"speed": "4", "staff": 5})
({'speed': 4, 'staff': 5}, None)
>>> MatrixType().clean(grid, {"speed": 9})
(None, "row 'speed': must be a whole number from 1 to 5")
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cxlab.i18n import Phrase
from cxlab.surveys.definition import Item, Question, localize
from cxlab.surveys.problems import Problems
from cxlab.surveys.types.base import (
    EMPTY,
    QuestionType,
    SeedContext,
    Translate,
    choice_views,
    plain_values,
    scale_hint,
)

MISSING_SHARE = 0.04  # generated optional ratings left blank


def clean_point(value: Any, low: int, high: int) -> tuple[int | None, str | None]:
    """A whole number from ``low`` to ``high``, also as text ("9") or 9.0.

    >>> clean_point(" 9", 0, 10), clean_point(True, 0, 10)[1]
    ((9, None), 'must be a whole number from 0 to 10')
    """
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            value = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        # Made only here: answers are checked by the thousand, problems are few.
        return None, Phrase("validation.whole_number_range", low=low, high=high)
    return value, None


class _ScaleType(QuestionType):
    template = "choices"
    storage = "int8"
    parsed_as = "float64"
    answer_schema = {"type": "integer"}

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        return clean_point(value, question.scale_min, question.scale_max)

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        return {"input_type": "radio", "layout": "scale",
                "choices": scale_choices(question, f"q-{question.id}", value),
                "hint": self.hint(question, language, text)}

    def hint(self, question: Question, language: str, text: Translate) -> str:
        return scale_hint(question, language)

    def seed(self, question: Question, context: SeedContext) -> Any:
        values = context.rng.integers(question.scale_min, question.scale_max + 1,
                                      size=context.count)
        return with_missing(values.astype(float), question.required, context.rng)


def scale_choices(question: Question, anchor: str, value: Any) -> list[dict]:
    """One radio button per point of the question's scale."""
    points = [(str(point), str(point)) for point in question.scale]
    return choice_views(anchor, points, {str(value)} if value is not None else set())


def with_missing(values: Any, required: bool, rng: Any) -> Any:
    """Generated ratings as nullable integers, a few left blank unless required."""
    series = pd.Series(values).astype("Int64")
    if not required:
        series[rng.random(len(series)) < MISSING_SHARE] = pd.NA
    return series


class NpsType(_ScaleType):
    name = "nps"
    answer_help = "an integer 0–10 for nps"

    def parse(self, raw: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
        if "scale" in raw:
            problems.add(f"{path}.scale", f"an nps question is always 0..10, got {raw['scale']!r}")
        return {"scale_min": 0, "scale_max": 10}

    def hint(self, question: Question, language: str, text: Translate) -> str:
        return text("nps_hint", language)

    def seed(self, question: Question, context: SeedContext) -> Any:
        # A second nps question follows the outcome loosely.

        outcome = context.columns[context.outcome].to_numpy(dtype=float)
        noisy = outcome + context.rng.normal(0, 1.5, size=context.count)
        return pd.Series(np.clip(np.rint(noisy), 0, 10)).astype("Int64")


class RatingType(_ScaleType):
    name = "rating"
    keys = frozenset({"scale"})
    answer_help = "an integer on its scale for rating"

    def parse(self, raw: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
        low, high, labels = problems.scale(raw.get("scale"), f"{path}.scale")
        return {"scale_min": low, "scale_max": high, "scale_labels": labels}

    def items(self, question: Question) -> list[Item]:
        return [Item(question.id, question.label, (question.scale_min, question.scale_max),
                     question.group, question.required, question.id)]


class MatrixType(RatingType):
    """Rows of ratings on one shared scale; the answer is ``{row: point}``."""

    name = "matrix"
    keys = frozenset({"scale", "rows"})
    template = "matrix"
    parsed_as = "object"
    answer_schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    answer_help = "an object of row id → integer on its scale for matrix"

    def parse(self, raw: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
        rows = problems.options(raw.get("rows"), f"{path}.rows", key="id", identifiers=True)
        return {**super().parse(raw, path, problems), "rows": tuple(rows)}

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        rows = [row.value for row in question.rows]
        if not isinstance(value, dict):
            return None, Phrase("validation.matrix_object", rows=", ".join(rows))
        unknown = [key for key in value if key not in rows]
        if unknown:
            return None, Phrase("validation.unknown_row", row=unknown[0], rows=", ".join(rows))
        clean = {}
        for row in rows:
            if value.get(row) in EMPTY:
                continue
            clean[row], reason = clean_point(value[row], question.scale_min, question.scale_max)
            if reason:
                return None, Phrase("validation.row", row=row, reason=reason)
        if question.required and clean and len(clean) < len(rows):
            missing = next(row for row in rows if row not in clean)
            return None, Phrase("validation.row", row=missing,
                                reason=Phrase("validation.row_required"))
        return clean or None, None

    def items(self, question: Question) -> list[Item]:
        return [Item(question.row_column(row.value), row.label,
                     (question.scale_min, question.scale_max), question.group,
                     question.required, question.id) for row in question.rows]

    def parts(self, question: Question) -> tuple[str, ...]:
        return tuple(row.value for row in question.rows)

    def column_names(self, question_id: str, parts: tuple[str, ...]) -> list[str]:
        return [f"{question_id}_{row}" for row in parts]

    def export_columns(self, question: Question) -> list[str]:
        return self.column_names(question.id, self.parts(question))

    def export_cells(self, question: Question, value: Any) -> list[Any]:
        value = value if isinstance(value, dict) else {}
        return [value.get(row.value, "") for row in question.rows]

    def form_value(self, question: Question, form: dict[str, list[str]]) -> Any:
        answer = {}
        for row in question.rows:
            values = form.get(question.row_column(row.value), [])
            if values and values[-1] != "":
                answer[row.value] = values[-1]
        return answer

    def form_reason(self, question: Question, reason: str, language: str) -> str:
        # The respondent sees rows by their labels, the API by their ids.
        if not isinstance(reason, Phrase) or reason.msgid != "validation.row":
            return reason
        row = next((row for row in question.rows if row.value == reason.values["row"]), None)
        if row is None:
            return reason
        return reason.with_values(row=localize(row.label, language).replace("'", "’"))

    def form_fields(self, question: Question, value: Any) -> list[tuple[str, str]]:
        return [(question.row_column(row), str(point)) for row, point in value.items()]

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        value = value if isinstance(value, dict) else {}
        rows = []
        for row in question.rows:
            column = question.row_column(row.value)
            rows.append({"name": column, "anchor": f"q-{column}",
                         "label": localize(row.label, language),
                         "choices": scale_choices(question, f"q-{column}", value.get(row.value))})
        return {"rows": rows, "hint": scale_hint(question, language)}

    def seed(self, question: Question, context: SeedContext) -> Any:
        return None  # each row is a driver item: seed.generate_responses makes them

    def answers_from_frame(self, question: Question, frame: Any) -> list[Any]:
        rows = [row.value for row in question.rows]
        columns = [plain_values(frame[question.row_column(row)]) for row in rows]
        answers = []
        for points in zip(*columns, strict=True):
            answer = {row: point for row, point in zip(rows, points, strict=True)
                      if point is not None}
            answers.append(answer or None)
        return answers
