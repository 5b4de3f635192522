"""Checking a respondent's answers against a survey definition.

Each question's type cleans its own answer (:meth:`QuestionType.clean`); this module
walks the questions, drops answers to hidden ones and reports every problem at once.
"""

from __future__ import annotations

from typing import Any

from cxlab.i18n import Phrase
from cxlab.surveys.definition import SurveyDefinition
from cxlab.surveys.types import question_type
from cxlab.surveys.types.base import EMPTY


def validate_answers(
    definition: SurveyDefinition,
    answers: dict[str, Any],
    *,
    pages: range | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check answers against the definition; return ``(clean_answers, errors)``.

    ``errors`` maps a question id (or ``"answers"``) to a reason. Answers to hidden
    questions (``show_if`` not met) are dropped; numbers given as strings (HTML forms)
    are converted. ``pages`` limits the check to some pages of a long survey.

    >>> from cxlab.surveys import parse_definition
    >>> definition = parse_definition({"slug": "s", "title": "S", "questions": [
    ...     {"id": "nps", "type": "nps", "label": "NPS", "required": True}]})
    >>> validate_answers(definition, {"nps": "9"})
    ({'nps': 9}, {})
    >>> validate_answers(definition, {"nps": 11})
    ({}, {'nps': 'must be a whole number from 0 to 10'})
    """
    if not isinstance(answers, dict):
        return {}, {"answers": Phrase("validation.answers_object")}
    known = {q.id for q in definition.questions}
    errors = {key: Phrase("validation.unknown_question") for key in answers if key not in known}
    clean: dict[str, Any] = {}
    for question in definition.questions:
        if pages is not None and question.page not in pages:
            if question.id in answers:
                clean[question.id] = answers[question.id]
            continue
        if not question.is_shown(clean):
            continue
        value, error = None, None
        given = answers.get(question.id)
        if given not in EMPTY:
            value, error = question_type(question.type).clean(question, given)
        if error:
            errors[question.id] = error
        elif value is not None:
            clean[question.id] = value
        elif question.required:
            errors[question.id] = Phrase("validation.required")
    return clean, errors
