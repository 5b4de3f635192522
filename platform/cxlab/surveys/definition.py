"""What a survey definition is: the survey, its questions, attributes and anonymity.

The YAML format is documented in docs/surveys.md; :mod:`cxlab.surveys.parsing` reads it
(collecting every problem with its 1-based path), :mod:`cxlab.surveys.answers` checks
answers against it, and :mod:`cxlab.surveys.types` holds what each question type does.

>>> from cxlab.surveys import parse_definition
>>> definition = parse_definition('''
... slug: visit
... title: {ja: 来店アンケート, en: Store visit}
... attributes: [store]
... questions:
...   - {id: nps, type: nps, label: Recommend us}
...   - {id: food, type: rating, scale: 5, label: Food}
...   - {id: service, type: matrix, scale: 5, label: Service, rows: [speed, staff]}
... ''')
>>> definition.roles()
Roles(outcome='nps', items=('food', 'service_speed', 'service_staff'), segment='store')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cxlab.errors import CxlabError
from cxlab.i18n import LANGUAGES

IDENTIFIER_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
CONDITION_OPERATORS = ("equals", "not_equals", "in", "not_in", "min", "max", "answered")
SURVEY_KINDS = ("cx", "ex")
DEFAULT_MIN_GROUP = 5
"""The smallest group any surface shows (Qualtrics EX and Viva Glint default to 5)."""
MAX_MIN_GROUP = 1000
# An origin goes into a CSP header as it is: no spaces, quotes, semicolons or commas.
ORIGIN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:/[]")

Text = dict[str, str]
"""A label in one or more languages, e.g. ``{"ja": "店舗", "en": "Store"}``."""


class DefinitionError(CxlabError):
    """A definition with problems; ``problems`` lists ``(path, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  {path}: {message}" for path, message in problems)
        super().__init__(f"the survey definition has {count}:\n{lines}")


def localize(text: Text, language: str) -> str:
    """The text in ``language``, else the first language it has.

    >>> localize({"ja": "店舗", "en": "Store"}, "en")
    'Store'
    >>> localize({"ja": "店舗"}, "en")
    '店舗'
    """
    return text.get(language) or next(iter(text.values()), "")


@dataclass(frozen=True)
class Option:
    """A choice of a single, multi or dropdown question, or a row of a matrix (its
    ``value`` is then the row id)."""

    value: str
    label: Text


@dataclass(frozen=True)
class Condition:
    """``show_if``: the question is shown only when an earlier answer matches."""

    question: str
    operator: str
    operand: Any = None

    def holds(self, answers: dict[str, Any]) -> bool:
        """Whether the condition is met by ``answers`` (unanswered never matches,
        except for ``answered: false``)."""
        value = answers.get(self.question)
        if self.operator == "answered":
            return (value not in (None, "", [])) == bool(self.operand)
        if value in (None, "", []):
            return False
        values = value if isinstance(value, list) else [value]
        match self.operator:
            case "equals":
                return self.operand in values
            case "not_equals":
                return self.operand not in values
            case "in":
                return any(v in self.operand for v in values)
            case "not_in":
                return not any(v in self.operand for v in values)
            case "min":
                return isinstance(value, int | float) and value >= self.operand
            case "max":
                return isinstance(value, int | float) and value <= self.operand
        raise AssertionError(f"unknown operator {self.operator}")


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: Text
    required: bool = False
    help: Text | None = None
    options: tuple[Option, ...] = ()
    scale_min: int = 0
    scale_max: int = 10
    scale_labels: dict[int, Text] = field(default_factory=dict)
    show_if: Condition | None = None
    group: str | None = None
    page: int = 0
    # A matrix's rows (each a rating item sharing the question's scale).
    rows: tuple[Option, ...] = ()
    # A number question's bounds and step (a whole step from a whole minimum: integers).
    minimum: float | None = None
    maximum: float | None = None
    step: float = 1

    @property
    def scale(self) -> range:
        """The allowed answer values of an nps, rating or matrix question."""
        return range(self.scale_min, self.scale_max + 1)

    def row_column(self, row: str) -> str:
        """The stored column (and rating item) of a matrix row: ``<matrix>_<row>``."""
        return f"{self.id}_{row}"

    def option_values(self) -> list[str]:
        return [option.value for option in self.options]

    def is_shown(self, answers: dict[str, Any]) -> bool:
        return self.show_if is None or self.show_if.holds(answers)


@dataclass(frozen=True)
class Item:
    """A rating item as analysis sees it: a rating question or one row of a matrix."""

    id: str
    label: Text
    scale: tuple[int, int]
    group: str | None
    required: bool
    question: str


@dataclass(frozen=True)
class Roles:
    """The columns analysis gives a role: outcome, driver items, segment."""

    outcome: str | None
    items: tuple[str, ...]
    segment: str | None


@dataclass(frozen=True)
class Attribute:
    """A respondent attribute such as store or department. ``from_query`` whitelists
    it as a query parameter of the open survey link (``?store=shibuya-01``)."""

    name: str
    label: Text
    values: tuple[str, ...] = ()
    from_query: bool = False
    # How each value is shown (a store's name for its code); the code when not given.
    value_labels: dict[str, Text] = field(default_factory=dict)

    def value_label(self, value: str, language: str) -> str:
        """``value``'s label in ``language``, or ``value`` itself when it has none.

        >>> store = Attribute("store", {"en": "Store"}, ("shibuya-01", "umeda-04"),
        ...                   value_labels={"shibuya-01": {"ja": "渋谷店", "en": "Shibuya"}})
        >>> store.value_label("shibuya-01", "ja"), store.value_label("umeda-04", "ja")
        ('渋谷店', 'umeda-04')
        """
        label = self.value_labels.get(value)
        return localize(label, language) if label else value


@dataclass(frozen=True)
class Anonymity:
    """How a survey protects its respondents (``anonymity:`` in the definition).

    ``min_group``: no surface (dashboard, report, export, portal) shows a group of
    fewer answers, numbers or comments. ``unlinked``: an invitation records only that it
    was answered; the response keeps no invitation id or e-mail address.

    >>> Anonymity.default("ex")
    Anonymity(min_group=5, unlinked=True)
    >>> Anonymity.default("cx")
    Anonymity(min_group=5, unlinked=False)
    """

    min_group: int = DEFAULT_MIN_GROUP
    unlinked: bool = False

    @classmethod
    def default(cls, kind: str) -> Anonymity:
        """The default for a survey kind: EX surveys are unlinked, CX surveys are not."""
        return cls(min_group=DEFAULT_MIN_GROUP, unlinked=kind == "ex")


@dataclass(frozen=True)
class SurveyDefinition:
    slug: str
    title: Text
    questions: tuple[Question, ...]
    attributes: tuple[Attribute, ...] = ()
    languages: tuple[str, ...] = LANGUAGES
    intro: Text | None = None
    thanks: Text | None = None
    page_titles: tuple[Text | None, ...] = (None,)
    kind: str = "cx"
    anonymity: Anonymity = field(default_factory=Anonymity)
    # Labels of the rating items' groups (``group:`` of a question), by group id.
    group_labels: dict[str, Text] = field(default_factory=dict)
    # Origins allowed to show the survey in a frame (CSP frame-ancestors); none: no one.
    embed_origins: tuple[str, ...] = ()
    # When respondents may answer (``opens_at``/``closes_at``, with their offset); none: always.
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def questions_of_type(self, *types: str) -> list[Question]:
        return [q for q in self.questions if q.type in types]

    @property
    def page_count(self) -> int:
        return len(self.page_titles)

    def page(self, number: int) -> list[Question]:
        return [q for q in self.questions if q.page == number]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def items(self) -> list[Item]:
        """The rating items in question order: rating questions and each matrix row.

        >>> from cxlab.surveys import parse_definition
        >>> definition = parse_definition({"slug": "s", "title": "S", "questions": [
        ...     {"id": "grid", "type": "matrix", "label": "Rate", "scale": 5,
        ...      "rows": [{"id": "taste", "label": {"en": "Taste"}}, "price"]}]})
        >>> [(item.id, item.label["en"], item.scale) for item in definition.items()]
        [('grid_taste', 'Taste', (1, 5)), ('grid_price', 'price', (1, 5))]
        """
        # Imported here: the registry's types import this module's classes.
        from cxlab.surveys.types import question_type

        return [item for question in self.questions
                for item in question_type(question.type).items(question)]

    def item(self, item_id: str) -> Item:
        """One rating item by id (a rating question's id or a matrix row's column)."""
        return next(item for item in self.items() if item.id == item_id)

    def roles(self) -> Roles:
        """What analysis uses each question for: the outcome (the first nps question),
        the driver items (ratings and matrix rows) and the segment (the first attribute).
        """
        outcomes = self.questions_of_type("nps")
        return Roles(
            outcome=outcomes[0].id if outcomes else None,
            items=tuple(item.id for item in self.items()),
            segment=self.attributes[0].name if self.attributes else None,
        )

    def item_groups(self) -> dict[str, list[str]]:
        """The rating items of each group, groups in the order they first appear.

        >>> from cxlab.surveys import EXAMPLES_DIR, load_definition
        >>> groups = load_definition(EXAMPLES_DIR / "employee_engagement.yaml").item_groups()
        >>> list(groups)[:2], groups["engagement"][0]
        (['engagement', 'manager'], 'eng_proud')
        """
        groups: dict[str, list[str]] = {}
        for item in self.items():
            if item.group:
                groups.setdefault(item.group, []).append(item.id)
        return groups
