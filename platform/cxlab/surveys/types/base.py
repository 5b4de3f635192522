"""What a question type is: the one place that knows how its questions are written,
answered, shown, stored, seeded and described.

A type is a small class; :mod:`cxlab.surveys.types` registers one instance of each.
Everything else asks the registry (``question_type(question.type)``) instead of
testing ``question.type``: the YAML parser (:meth:`QuestionType.parse`), answer checks
(:meth:`clean`), the respondent form (:attr:`template` and :meth:`form_view`), the
analytic store (:attr:`storage`, :meth:`column_names`), the seed generator
(:meth:`seed`), the load test's answers (:meth:`answers_from_frame`) and the API's
OpenAPI schema (:attr:`answer_schema`).

Storage is named (``"int8"``, ``"string"``...) and :mod:`cxlab.store.columns` maps the
names to Arrow types, so that survey definitions need no pyarrow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cxlab.surveys.definition import Item, Question, localize
from cxlab.surveys.problems import Problems

Translate = Callable[..., str]
"""The survey server's ``text(key, language, **values)`` for the form's own words."""

EMPTY = (None, "", [], {})


@dataclass
class SeedContext:
    """What a seed generator may use: ``count`` rows, the random generator, the
    columns made so far (the outcome among them) and the comment bank of the survey's
    kind (``{"low": [...], "mid": [...], "high": [...]}``)."""

    count: int
    rng: np.random.Generator
    columns: dict[str, Any]
    outcome: str
    comments: dict[str, list[str]]


class QuestionType:
    """The default behaviour of a question type; each type overrides what differs."""

    name: ClassVar[str]
    keys: ClassVar[frozenset[str]] = frozenset()
    """The YAML keys of a question of this type beyond the common ones."""
    template: ClassVar[str]
    """The form fragment: ``survey_server/views/questions/<template>.tpl``."""
    storage: ClassVar[str] = "string"
    """How each stored column holds the answer: int8, float64, string or bool."""
    parsed_as: ClassVar[str] = "string"
    """How the store's JSON reader parses the answer: string, float64 (so that 4.0
    reads as 4), list (of option values) or object (of row → score)."""
    categorical: ClassVar[bool] = False
    """Read back as a pandas category in the definition's order."""
    answer_schema: ClassVar[dict[str, Any]] = {"type": "string"}
    answer_help: ClassVar[str] = ""
    """The answer's shape in the API description (``an integer for nps``)."""

    def parse(self, raw: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
        """The type's own fields of :class:`Question` from the YAML mapping ``raw``."""
        return {}

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        """``(clean value, None)`` or ``(None, reason)``, the reason a
        :class:`cxlab.i18n.Phrase` (``validation.*``); called only with an answer."""
        raise NotImplementedError

    def items(self, question: Question) -> list[Item]:
        """The rating items this question gives analysis (none but rating and matrix)."""
        return []

    def parts(self, question: Question) -> tuple[str, ...]:
        """The values that name or categorise its stored columns (options, rows)."""
        return ()

    def column_names(self, question_id: str, parts: tuple[str, ...]) -> list[str]:
        """The stored columns of a question with ``parts`` (one, named by its id)."""
        return [question_id]

    # ------------------------------------------------------------ the form

    def form_value(self, question: Question, form: dict[str, list[str]]) -> Any:
        """The answer as an HTML form sends it (the last value of the question's name)."""
        values = form.get(question.id, [])
        return values[-1] if values else ""

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        """The fragment's values beyond the common ones (label, help, error...)."""
        return {}

    def form_reason(self, question: Question, reason: str, language: str) -> str:
        """A problem as the form shows it (in the respondent's terms, before translation)."""
        return reason

    def form_fields(self, question: Question, value: Any) -> list[tuple[str, str]]:
        """The form fields a browser sends for the JSON answer ``value`` (load tests)."""
        values = value if isinstance(value, list) else [value]
        return [(question.id, str(item)) for item in values]

    # ------------------------------------------------------------ exports

    def export_columns(self, question: Question) -> list[str]:
        """The question's columns in a CSV or Excel export (one, named by its id)."""
        return [question.id]

    def export_cells(self, question: Question, value: Any) -> list[Any]:
        """A stored answer as the export's cells ("" where unanswered)."""
        return ["" if value is None else value]

    # ------------------------------------------------------------ generated answers

    def seed(self, question: Question, context: SeedContext) -> Any:
        """A column of ``context.count`` generated answers (None: nothing to add)."""
        raise NotImplementedError

    def answers_from_frame(self, question: Question, frame: Any) -> list[Any]:
        """Each generated row's JSON answer (None where unanswered), from the frame
        :func:`cxlab.seed.generate_responses` made."""
        return plain_values(frame[question.id])


def plain_values(series: Any) -> list[Any]:
    """Python values with None for missing (JSON cannot hold pandas' NA).

    >>> plain_values(pd.Series([3, None], dtype="Int64")), plain_values(pd.Series(["a", None]))
    ([3, None], ['a', None])
    """
    if isinstance(series.dtype, pd.Int64Dtype | pd.Int8Dtype):
        return [None if v is pd.NA else int(v) for v in series.tolist()]
    return [None if (v is None or v is pd.NA or v != v) else v for v in series.tolist()]


def choice_views(anchor: str, values: list[tuple[str, str]], chosen: set[str]) -> list[dict]:
    """Radio buttons or check boxes: ``values`` is ``[(value, label)]``.

    >>> choice_views("q-x", [("1", "1")], {"1"})
    [{'input_id': 'q-x-0', 'value': '1', 'label': '1', 'checked': True}]
    """
    return [{"input_id": f"{anchor}-{index}", "value": value, "label": label,
             "checked": value in chosen} for index, (value, label) in enumerate(values)]


def scale_hint(question: Question, language: str) -> str:
    """A rating scale's labelled points: ``1 = Poor, 5 = Excellent``."""
    return ", ".join(f"{point} = {localize(label, language)}"
                     for point, label in sorted(question.scale_labels.items()))
