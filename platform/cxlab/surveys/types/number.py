"""Number questions: an integer or decimal with optional min, max and step (age,
visits per month, amount spent). A whole step from a whole minimum takes integers.

>>> from cxlab.surveys import parse_definition
>>> age, spend = parse_definition({"slug": "s", "title": "S", "questions": [
...     {"id": "age", "type": "number", "label": "Age", "min": 18, "max": 99},
...     {"id": "spend", "type": "number", "label": "Spend", "min": 0, "step": 0.5}]}).questions
>>> NumberType().clean(age, "３５"), NumberType().clean(age, 12.5)
((35, None), (None, 'must be a whole number from 18 to 99'))
>>> NumberType().clean(spend, 2.5), NumberType().clean(spend, "2.25")
((2.5, None), (None, 'must be a multiple of 0.5'))
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from cxlab.i18n import Phrase
from cxlab.surveys.definition import Question
from cxlab.surveys.problems import Problems, is_number
from cxlab.surveys.types.base import QuestionType, SeedContext, Translate


def number_text(value: float) -> str:
    """A bound or step as an author wrote it: 18, not 18.0.

    >>> number_text(18.0), number_text(0.25)
    ('18', '0.25')
    """
    return str(int(value)) if float(value).is_integer() else str(value)


def takes_integers(question: Question) -> bool:
    """Whether answers are whole numbers: a whole step from a whole (or no) minimum."""
    return float(question.step).is_integer() and (
        question.minimum is None or float(question.minimum).is_integer())


class NumberType(QuestionType):
    name = "number"
    keys = frozenset({"min", "max", "step"})
    template = "number"
    storage = "float64"
    parsed_as = "float64"
    answer_schema = {"type": "number"}
    answer_help = "a number within its min and max for number"

    def parse(self, raw: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
        bounds = {}
        for key in ("min", "max", "step"):
            value = raw.get(key)
            if value is not None and not is_number(value):
                problems.add(f"{path}.{key}", f"{value!r} must be a number")
                value = None
            bounds[key] = value
        step = bounds["step"] if bounds["step"] is not None else 1
        if step <= 0:
            problems.add(f"{path}.step", f"{step!r} must be more than 0")
            step = 1
        low, high = bounds["min"], bounds["max"]
        if low is not None and high is not None and low >= high:
            problems.add(f"{path}.max", f"{high!r} must be more than min ({low!r})")
        return {"minimum": low, "maximum": high, "step": step}

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        integers = takes_integers(question)
        number = _decimal(value)
        low, high = question.minimum, question.maximum
        if number is None or (low is not None and number < Decimal(str(low))) or (
                high is not None and number > Decimal(str(high))) or (
                integers and number != number.to_integral_value()):
            return None, _range_problem(question, integers)
        base = Decimal(str(low)) if low is not None else Decimal(0)
        if (number - base) % Decimal(str(question.step)) != 0:
            return None, Phrase("validation.multiple_of", step=number_text(question.step))
        return (int(number) if integers else float(number)), None

    def form_value(self, question: Question, form: dict[str, list[str]]) -> Any:
        # Japanese keyboards type full-width digits (３５): NFKC makes them ASCII.
        return unicodedata.normalize("NFKC", super().form_value(question, form)).strip()

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        low, high = question.minimum, question.maximum
        hint = ""
        if low is not None and high is not None:
            hint = text("number_range", language, low=number_text(low), high=number_text(high))
        return {"value": "" if value is None else str(value), "hint": hint,
                "inputmode": "numeric" if takes_integers(question) else "decimal"}

    def seed(self, question: Question, context: SeedContext) -> Any:

        low = question.minimum if question.minimum is not None else 0
        high = question.maximum if question.maximum is not None else low + 100 * question.step
        steps = int((high - low) // question.step)
        drawn = low + question.step * context.rng.integers(0, steps + 1, size=context.count)
        return pd.Series(np.round(drawn, 6), dtype="Float64")

    def answers_from_frame(self, question: Question, frame: Any) -> list[Any]:
        integers = takes_integers(question)
        values = frame[question.id].astype(object).where(frame[question.id].notna(), None)
        return [None if v is None else (int(v) if integers else float(v)) for v in values]


def _decimal(value: Any) -> Decimal | None:
    """A finite number given as a number or as text, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _range_problem(question: Question, integers: bool) -> Phrase:
    """"must be a (whole) number", with the question's bounds."""
    kind = "validation.whole_number" if integers else "validation.number"
    low, high = question.minimum, question.maximum
    if low is not None and high is not None:
        return Phrase(f"{kind}_range", low=number_text(low), high=number_text(high))
    if low is not None:
        return Phrase(f"{kind}_at_least", low=number_text(low))
    if high is not None:
        return Phrase(f"{kind}_at_most", high=number_text(high))
    return Phrase(kind)
