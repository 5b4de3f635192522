"""Free-text questions (comments): a text area, stored as a string.

>>> from cxlab.surveys import parse_definition
>>> why = parse_definition({"slug": "s", "title": "S", "questions": [
...     {"id": "why", "type": "text", "label": "Why?"}]}).questions[0]
>>> TextType().clean(why, "  Slow service. "), TextType().clean(why, 3)
(('Slow service.', None), (None, 'must be text'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cxlab.i18n import Phrase
from cxlab.surveys.definition import Question
from cxlab.surveys.types.base import QuestionType, SeedContext, Translate

MAX_TEXT_LENGTH = 5000
COMMENT_SHARE = 0.25  # generated respondents who write a comment


class TextType(QuestionType):
    name = "text"
    template = "text"
    answer_help = "text for text"

    def clean(self, question: Question, value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, Phrase("validation.text")
        value = value.strip()
        if len(value) > MAX_TEXT_LENGTH:
            return None, Phrase("validation.too_long", limit=MAX_TEXT_LENGTH)
        return value or None, None

    def form_view(self, question: Question, value: Any, language: str,
                  text: Translate) -> dict[str, Any]:
        return {"value": value if isinstance(value, str) else "", "maxlength": MAX_TEXT_LENGTH}

    def seed(self, question: Question, context: SeedContext) -> Any:
        """Comments from the bank of the outcome's band (low 0–6, mid 7–8, high 9–10)."""

        rng = context.rng
        scores = context.columns[context.outcome].to_numpy(dtype=float)
        band = np.where(scores <= 6, "low", np.where(scores <= 8, "mid", "high"))
        comments = np.full(len(scores), None, dtype=object)
        for name, bank in context.comments.items():
            rows = np.flatnonzero((band == name) & (rng.random(len(scores)) < COMMENT_SHARE))
            comments[rows] = np.asarray(bank, dtype=object)[rng.integers(0, len(bank), len(rows))]
        return comments
