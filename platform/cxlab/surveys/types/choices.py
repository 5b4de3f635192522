"""Questions answered by choosing from a list: single (radio buttons), multi (check
boxes, stored as one boolean column per option) and dropdown (one of a long list such
as prefectures or stores: a text box whose suggestions narrow as the respondent types).

>>> from cxlab.surveys import parse_definition
>>> where = parse_definition({"slug": "s", "title": "S", "questions": [
...     {"id": "pref", "type": "dropdown", "label": "Prefecture",
...      "options": [{"value": "tokyo", "label": {"ja": "東京都", "en": "Tokyo"}},
...                  {"value": "osaka", "label": {"ja": "大阪府", "en": "Osaka"}}]}]}
... ).questions[0]
>>> DropdownType().form_value(where, {"pref": ["東京都"]}), DropdownType().clean(where, "kyoto")
('tokyo', (None, "'kyoto' is not one of the 2 options"))
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np

from cxlab.i18n import Phrase
from cxlab.surveys.definition import Question, localize
from cxlab.surveys.problems import Problems
from cxlab.surveys.types.base import QuestionType, SeedContext, Translate, choice_views


class SingleType(QuestionType):
    name = "single"
    keys = frozenset({"options"})
    template = "choices"
    categorical = True
    answer_help = "an option value for single"

    def parse(self, raw: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
        return {"options": tuple(problems.options(raw.get("options"), f"{path}.options"))}

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, str) or value not in question.option_values():
            return None, Phrase("validation.one_of", options=", ".join(question.option_values()))
        return value, None

    def parts(self, question: Question) -> tuple[str, ...]:
        return tuple(question.option_values())

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        chosen = {str(v) for v in value} if isinstance(value, list) else {str(value)}
        options = [(option.value, localize(option.label, language))
                   for option in question.options]
        return {"input_type": "checkbox" if self.name == "multi" else "radio",
                "layout": "list", "choices": choice_views(f"q-{question.id}", options, chosen)}

    def seed(self, question: Question, context: SeedContext) -> Any:

        codes = context.rng.integers(0, len(question.options), size=context.count)
        return np.asarray(question.option_values(), dtype=object)[codes]


class MultiType(SingleType):
    name = "multi"
    categorical = False
    storage = "bool"
    parsed_as = "list"
    answer_schema = {"type": "array", "items": {"type": "string"}}
    answer_help = "a list of option values for multi"

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        values = [value] if isinstance(value, str) else value
        allowed = question.option_values()
        if not isinstance(values, list) or not all(v in allowed for v in values):
            return None, Phrase("validation.list_from", options=", ".join(allowed))
        return [v for v in allowed if v in values], None

    def column_names(self, question_id: str, parts: tuple[str, ...]) -> list[str]:
        return [f"{question_id}__{option}" for option in parts]

    def form_value(self, question: Question, form: dict[str, list[str]]) -> Any:
        return [value for value in form.get(question.id, []) if value]

    def export_cells(self, question: Question, value: Any) -> list[Any]:
        # One cell, the values joined with ';' (option values never hold one).
        return [";".join(value) if isinstance(value, list) else "" if value is None else value]

    def seed(self, question: Question, context: SeedContext) -> Any:

        chosen = context.rng.random((context.count, len(question.options))) < 0.3
        options = question.option_values()
        return [[options[i] for i in np.flatnonzero(row)] for row in chosen]

    def answers_from_frame(self, question: Question, frame: Any) -> list[Any]:
        return frame[question.id].tolist()


class DropdownType(SingleType):
    """A single choice from a long list. The form offers the options' labels as
    suggestions of a text box (``<datalist>``: phones filter them as one types, no
    script needed) and maps the label typed back to its option value."""

    name = "dropdown"
    template = "dropdown"
    answer_help = "an option value for dropdown"

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        count = len(question.options)
        if not isinstance(value, str):
            return None, Phrase("validation.one_of_options", count=count)
        if value not in question.option_values():
            return None, Phrase("validation.not_an_option", value=value[:40], count=count)
        return value, None

    def form_value(self, question: Question, form: dict[str, list[str]]) -> Any:
        typed = unicodedata.normalize("NFKC", super().form_value(question, form)).strip()
        for option in question.options:
            if typed == option.value or typed in option.label.values():
                return option.value
        return typed

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        labels = {option.value: localize(option.label, language) for option in question.options}
        return {"value": labels.get(value, value if isinstance(value, str) else ""),
                "suggestions": list(labels.values()),
                "hint": text("dropdown_hint", language, count=len(labels))}
