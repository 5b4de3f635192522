"""The registry of question types, in the manner of papermill's engines: each type is
one entry owning its YAML checks, answer cleaning, form fragment, stored columns, seed
generator, load-test answer and API schema (see :mod:`cxlab.surveys.types.base`).

The built-in types register themselves here exactly as a new one would. Adding a type
is one :func:`register` call, its template fragment under
``survey_server/views/questions/`` and its tests.

>>> sorted(QUESTION_TYPES)
['dropdown', 'matrix', 'multi', 'nps', 'number', 'rating', 'single', 'text']
>>> question_type("matrix").storage
'int8'
"""

from __future__ import annotations

from cxlab.surveys.types.base import QuestionType, SeedContext
from cxlab.surveys.types.choices import DropdownType, MultiType, SingleType
from cxlab.surveys.types.number import NumberType
from cxlab.surveys.types.scales import MatrixType, NpsType, RatingType
from cxlab.surveys.types.text import TextType

QUESTION_TYPES: dict[str, QuestionType] = {}


def register(kind: QuestionType) -> None:
    """Make a question type available under its ``name``; a name is taken once."""
    if kind.name in QUESTION_TYPES:
        raise ValueError(f"question type {kind.name!r} is already registered")
    QUESTION_TYPES[kind.name] = kind


def question_type(name: str) -> QuestionType:
    """The registered type called ``name`` (KeyError for an unknown one: definitions
    are checked against the registry when they are parsed)."""
    return QUESTION_TYPES[name]


for _kind in (NpsType(), RatingType(), SingleType(), MultiType(), TextType(),
              MatrixType(), NumberType(), DropdownType()):
    register(_kind)

__all__ = ["QUESTION_TYPES", "QuestionType", "SeedContext", "question_type", "register"]
