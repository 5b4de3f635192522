"""The survey definition format: parse YAML, validate it, and check answers against it.

A definition is YAML (documented in docs/surveys.md). Loading collects *every* problem
with its path before failing, so an author fixes a file in one pass:

>>> parse_definition('''
... slug: visit
... title: {ja: 来店アンケート, en: Store visit}
... questions:
...   - {id: nps, type: nps, label: Recommend us}
...   - {id: food, type: rating, scale: 12, label: Food}
... ''')
Traceback (most recent call last):
...
cxlab.surveys.definition.DefinitionError: the survey definition has 1 problem:
  questions[1].scale: must be 2..11 points, got 12
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from cxlab.errors import CxlabError

LANGUAGES = ("ja", "en")
QUESTION_TYPES = ("nps", "rating", "single", "multi", "text")
SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
IDENTIFIER_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
CONDITION_OPERATORS = ("equals", "not_equals", "in", "not_in", "min", "max", "answered")
MAX_TEXT_LENGTH = 5000
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

    @property
    def scale(self) -> range:
        """The allowed answer values of an nps or rating question."""
        return range(self.scale_min, self.scale_max + 1)

    def option_values(self) -> list[str]:
        return [option.value for option in self.options]

    def is_shown(self, answers: dict[str, Any]) -> bool:
        return self.show_if is None or self.show_if.holds(answers)


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

    def item_groups(self) -> dict[str, list[str]]:
        """The rating items of each group, groups in the order they first appear.

        >>> from cxlab.surveys import EXAMPLES_DIR
        >>> groups = load_definition(EXAMPLES_DIR / "employee_engagement.yaml").item_groups()
        >>> list(groups)[:2], groups["engagement"][0]
        (['engagement', 'manager'], 'eng_proud')
        """
        groups: dict[str, list[str]] = {}
        for question in self.questions_of_type("rating"):
            if question.group:
                groups.setdefault(question.group, []).append(question.id)
        return groups


# ---------------------------------------------------------------- parsing


def load_definition(path: str) -> SurveyDefinition:
    """Read and validate a YAML definition file."""
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except OSError as error:
        raise DefinitionError([(str(path), f"cannot read the file: {error.strerror}")]) from None
    return parse_definition(source)


def parse_definition(source: str | dict[str, Any]) -> SurveyDefinition:
    """Validate a definition given as YAML text or an already-parsed mapping."""
    if isinstance(source, str):
        try:
            source = yaml.safe_load(source)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
            reason = getattr(error, "problem", None) or str(error)
            hint = " (quote texts that contain ':', '?', '#' or braces)"
            raise DefinitionError([(where, f"not valid YAML: {reason}{hint}")]) from None
    return _Parser().survey(source)


class _Parser:
    """Walks the raw mapping, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def survey(self, raw: Any) -> SurveyDefinition:
        if not isinstance(raw, dict):
            raise DefinitionError([("(top)", "must be a mapping with slug, title and questions")])
        self.unknown_keys(
            raw,
            "",
            {
                "slug", "title", "questions", "attributes", "languages", "intro", "thanks",
                "kind", "anonymity", "groups", "embed_origins",
            },
        )
        slug = raw.get("slug")
        if not isinstance(slug, str) or not slug or not set(slug) <= SLUG_CHARS:
            self.problem("slug", "required; lowercase letters, digits, '-' and '_' only")
        languages = raw.get("languages", list(LANGUAGES))
        if not isinstance(languages, list) or not languages or not set(languages) <= set(
            LANGUAGES
        ):
            self.problem("languages", f"must be a list drawn from {', '.join(LANGUAGES)}")
            languages = list(LANGUAGES)
        title = self.text(raw.get("title"), "title", required=True)
        intro = self.text(raw.get("intro"), "intro")
        thanks = self.text(raw.get("thanks"), "thanks")
        attributes = self.attributes(raw.get("attributes", []))
        questions, page_titles = self.questions(raw.get("questions"))
        kind = raw.get("kind", "cx")
        if kind not in SURVEY_KINDS:
            self.problem("kind", f"must be one of {', '.join(SURVEY_KINDS)}")
            kind = "cx"
        anonymity = self.anonymity(raw.get("anonymity"), kind)
        group_labels = self.group_labels(raw.get("groups"), questions)
        embed_origins = self.origins(raw.get("embed_origins", []))
        if self.problems:
            raise DefinitionError(self.problems)
        return SurveyDefinition(
            slug=slug,
            title=title,
            questions=tuple(questions),
            attributes=tuple(attributes),
            languages=tuple(languages),
            intro=intro,
            thanks=thanks,
            page_titles=tuple(page_titles),
            kind=kind,
            anonymity=anonymity,
            group_labels=group_labels,
            embed_origins=tuple(embed_origins),
            raw=raw,
        )

    def unknown_keys(self, raw: dict, path: str, allowed: set[str]) -> None:
        for key in raw:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.problem(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def text(self, raw: Any, path: str, *, required: bool = False) -> Text | None:
        if raw is None:
            if required:
                self.problem(path, "required (a string, or {ja: ..., en: ...})")
            return None
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            return {language: str(raw) for language in LANGUAGES}
        if isinstance(raw, dict) and raw and all(
            language in LANGUAGES and isinstance(value, str) and value
            for language, value in raw.items()
        ):
            return dict(raw)
        self.problem(path, "must be a string or a mapping of ja/en to non-empty strings")
        return None

    def value_labels(self, raw: Any, values: list[str], path: str) -> dict[str, Text]:
        """``value_labels: {shibuya-01: {ja: 渋谷店, en: Shibuya}}``: every key must be one
        of the attribute's ``values`` when it lists them."""
        return self.labels(raw, f"{path}.value_labels", set(values) if values else None,
                           "not one of the attribute's values")

    def group_labels(self, raw: Any, questions: list[Question]) -> dict[str, Text]:
        """``groups: {engagement: {ja: ..., en: ...}}``: a label for each ``group:`` the
        questions use (a group without one is shown by its id)."""
        used = {question.group for question in questions if question.group}
        return self.labels(raw, "groups", used, "no question has this group")

    def labels(self, raw: Any, path: str, known: set[str] | None,
               unknown_problem: str) -> dict[str, Text]:
        """A mapping of keys (each in ``known``, unless that is None) to texts."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(path, "must be a mapping of each key to its label")
            return {}
        labels = {}
        for key, label in raw.items():
            if known is not None and str(key) not in known:
                self.problem(f"{path}.{key}", unknown_problem)
                continue
            text = self.text(label, f"{path}.{key}", required=True)
            if text is not None:
                labels[str(key)] = text
        return labels

    def anonymity(self, raw: Any, kind: str) -> Anonymity:
        default = Anonymity.default(kind)
        if raw is None:
            return default
        if not isinstance(raw, dict):
            self.problem("anonymity", "must be a mapping: {min_group: 5, unlinked: true}")
            return default
        self.unknown_keys(raw, "anonymity", {"min_group", "unlinked"})
        min_group = raw.get("min_group", default.min_group)
        if (
            not isinstance(min_group, int)
            or isinstance(min_group, bool)
            or not 1 <= min_group <= MAX_MIN_GROUP
        ):
            self.problem("anonymity.min_group", f"must be a whole number from 1 to {MAX_MIN_GROUP}")
            min_group = default.min_group
        unlinked = raw.get("unlinked", default.unlinked)
        if not isinstance(unlinked, bool):
            self.problem("anonymity.unlinked", "must be true or false")
            unlinked = default.unlinked
        return Anonymity(min_group=min_group, unlinked=unlinked)

    def origins(self, raw: Any) -> list[str]:
        if not isinstance(raw, list):
            self.problem("embed_origins", "must be a list of origins like https://shop.example")
            return []
        origins = []
        for index, origin in enumerate(raw):
            parts = urlsplit(origin) if isinstance(origin, str) else None
            try:
                valid = (parts is not None and parts.scheme == "https" and bool(parts.hostname)
                         and not parts.path and not parts.query and not parts.fragment
                         and parts.username is None and (parts.port or 443) > 0
                         and set(origin) <= ORIGIN_CHARS)
            except ValueError:  # a port that is not a number
                valid = False
            if not valid:
                self.problem(f"embed_origins[{index}]",
                             "must be an https origin: scheme and host, no path "
                             "(e.g. https://shop.example)")
                continue
            origins.append(origin)
        return origins

    def attributes(self, raw: Any) -> list[Attribute]:
        if not isinstance(raw, list):
            self.problem("attributes", "must be a list")
            return []
        attributes, seen = [], set()
        for index, item in enumerate(raw):
            path = f"attributes[{index}]"
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict):
                self.problem(path, "must be a name or a mapping with name")
                continue
            self.unknown_keys(item, path, {"name", "label", "values", "from_query",
                                           "value_labels"})
            name = item.get("name")
            if not isinstance(name, str) or not name or not set(name) <= IDENTIFIER_CHARS:
                self.problem(f"{path}.name", "required; lowercase letters, digits and '_'")
                continue
            if name in seen:
                self.problem(f"{path}.name", f"duplicate attribute {name!r}")
            seen.add(name)
            values = item.get("values", [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.problem(f"{path}.values", "must be a list of strings")
                values = []
            value_labels = self.value_labels(item.get("value_labels"), values, path)
            attributes.append(
                Attribute(
                    name=name,
                    label=self.text(item.get("label"), f"{path}.label") or {"en": name},
                    values=tuple(values),
                    from_query=bool(item.get("from_query", False)),
                    value_labels=value_labels,
                )
            )
        return attributes

    def questions(self, raw: Any) -> tuple[list[Question], list[Text | None]]:
        if not isinstance(raw, list) or not raw:
            self.problem("questions", "required: a non-empty list")
            return [], [None]
        questions: list[Question] = []
        page_titles: list[Text | None] = [None]
        for index, item in enumerate(raw):
            path = f"questions[{index}]"
            if not isinstance(item, dict):
                self.problem(path, "must be a mapping")
                continue
            if item.get("type") == "page_break":
                self.unknown_keys(item, path, {"type", "title"})
                if not questions or len(page_titles) > len({q.page for q in questions}):
                    self.problem(path, "a page break must follow at least one question")
                page_titles.append(self.text(item.get("title"), f"{path}.title"))
                continue
            question = self.question(item, path, questions, page=len(page_titles) - 1)
            if question is not None:
                questions.append(question)
        if questions and len(page_titles) > len({q.page for q in questions}):
            self.problem(f"questions[{len(raw) - 1}]", "the last page has no questions")
        return questions, page_titles

    def question(
        self, raw: dict, path: str, earlier: list[Question], page: int
    ) -> Question | None:
        self.unknown_keys(
            raw,
            path,
            {"id", "type", "label", "required", "help", "options", "scale", "show_if", "group"},
        )
        question_id = raw.get("id")
        kind = raw.get("type")
        valid = True
        if not isinstance(question_id, str) or not question_id or not set(question_id) <= (
            IDENTIFIER_CHARS
        ) or question_id[0].isdigit():
            self.problem(f"{path}.id", "required; lowercase letters, digits and '_', not first")
            valid = False
        elif question_id in {q.id for q in earlier}:
            self.problem(f"{path}.id", f"duplicate question id {question_id!r}")
        if kind not in QUESTION_TYPES:
            self.problem(
                f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)} or page_break"
            )
            valid = False
        label = self.text(raw.get("label"), f"{path}.label", required=True)
        required = raw.get("required", False)
        if not isinstance(required, bool):
            self.problem(f"{path}.required", "must be true or false")
        options: list[Option] = []
        scale_min, scale_max, scale_labels = 0, 10, {}
        if kind in ("single", "multi"):
            options = self.options(raw.get("options"), f"{path}.options")
        elif "options" in raw:
            self.problem(f"{path}.options", "only single and multi questions have options")
        if kind == "rating":
            scale_min, scale_max, scale_labels = self.scale(raw.get("scale"), f"{path}.scale")
        elif "scale" in raw and kind == "nps":
            self.problem(f"{path}.scale", "an nps question is always 0..10")
        group = raw.get("group")
        if group is not None and (not isinstance(group, str) or not group):
            self.problem(f"{path}.group", "must be a name (questions of one multi-item scale)")
        show_if = None
        if "show_if" in raw:
            show_if = self.condition(raw["show_if"], f"{path}.show_if", earlier)
        if not valid or label is None:
            return None
        return Question(
            id=question_id,
            type=kind,
            label=label,
            required=required is True,
            help=self.text(raw.get("help"), f"{path}.help"),
            options=tuple(options),
            scale_min=scale_min,
            scale_max=scale_max,
            scale_labels=scale_labels,
            show_if=show_if,
            group=group,
            page=page,
        )

    def options(self, raw: Any, path: str) -> list[Option]:
        if not isinstance(raw, list) or len(raw) < 2:
            self.problem(path, "required: a list of at least 2 options")
            return []
        options, seen = [], set()
        for index, item in enumerate(raw):
            item_path = f"{path}[{index}]"
            if isinstance(item, str):
                item = {"value": item, "label": item}
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                self.problem(item_path, "must be a string or a mapping with value and label")
                continue
            value = item["value"]
            if value in seen:
                self.problem(f"{item_path}.value", f"duplicate option {value!r}")
            seen.add(value)
            label = self.text(item.get("label", value), f"{item_path}.label")
            options.append(Option(value=value, label=label or {"en": value}))
        return options

    def scale(self, raw: Any, path: str) -> tuple[int, int, dict[int, Text]]:
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = {"min": 1, "max": raw}
        if not isinstance(raw, dict):
            self.problem(path, "required: a number of points (e.g. 5) or {min, max, labels}")
            return 1, 5, {}
        self.unknown_keys(raw, path, {"min", "max", "labels"})
        low, high = raw.get("min", 1), raw.get("max")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            self.problem(path, "min and max must be whole numbers")
            return 1, 5, {}
        points = high - low + 1
        if not 2 <= points <= 11:
            self.problem(path, f"must be 2..11 points, got {points}")
            return 1, 5, {}
        labels = {}
        for key, text in (raw.get("labels") or {}).items():
            # JSON (the database copy) turns the integer keys of YAML into strings.
            point = int(key) if isinstance(key, str) and key.lstrip("-").isdigit() else key
            if not isinstance(point, int) or not low <= point <= high:
                self.problem(f"{path}.labels.{key}", f"must be a point of the scale {low}..{high}")
                continue
            labels[point] = self.text(text, f"{path}.labels.{point}") or {}
        return low, high, labels

    def condition(self, raw: Any, path: str, earlier: list[Question]) -> Condition | None:
        if not isinstance(raw, dict) or "question" not in raw:
            self.problem(path, "must be a mapping: {question: ID, <operator>: value}")
            return None
        operators = [key for key in raw if key != "question"]
        if len(operators) != 1 or operators[0] not in CONDITION_OPERATORS:
            self.problem(path, f"needs exactly one of {', '.join(CONDITION_OPERATORS)}")
            return None
        target = raw["question"]
        if target not in {q.id for q in earlier}:
            self.problem(f"{path}.question", f"{target!r} is not an earlier question")
            return None
        operator = operators[0]
        operand = raw[operator]
        if operator in ("in", "not_in") and not isinstance(operand, list):
            self.problem(f"{path}.{operator}", "must be a list")
            return None
        if operator in ("min", "max") and not isinstance(operand, int | float):
            self.problem(f"{path}.{operator}", "must be a number")
            return None
        return Condition(question=target, operator=operator, operand=operand)


# ---------------------------------------------------------------- answers


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

    >>> definition = parse_definition({"slug": "s", "title": "S", "questions": [
    ...     {"id": "nps", "type": "nps", "label": "NPS", "required": True}]})
    >>> validate_answers(definition, {"nps": "9"})
    ({'nps': 9}, {})
    >>> validate_answers(definition, {"nps": 11})
    ({}, {'nps': 'must be a whole number from 0 to 10'})
    """
    if not isinstance(answers, dict):
        return {}, {"answers": "must be an object mapping question ids to answers"}
    known = {q.id for q in definition.questions}
    errors = {key: "no such question in this survey" for key in answers if key not in known}
    clean: dict[str, Any] = {}
    for question in definition.questions:
        if pages is not None and question.page not in pages:
            if question.id in answers:
                clean[question.id] = answers[question.id]
            continue
        if not question.is_shown(clean):
            continue
        value, error = _clean_answer(question, answers.get(question.id))
        if error:
            errors[question.id] = error
        elif value is not None:
            clean[question.id] = value
        elif question.required:
            errors[question.id] = "this question needs an answer"
    return clean, errors


def _clean_answer(question: Question, value: Any) -> tuple[Any, str | None]:
    if value is None or value == "" or value == []:
        return None, None
    if question.type in ("nps", "rating"):
        low, high = question.scale_min, question.scale_max
        reason = f"must be a whole number from {low} to {high}"
        if isinstance(value, bool):
            return None, reason
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                return None, reason
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not low <= value <= high:
            return None, reason
        return value, None
    if question.type == "single":
        if not isinstance(value, str) or value not in question.option_values():
            return None, f"must be one of: {', '.join(question.option_values())}"
        return value, None
    if question.type == "multi":
        values = [value] if isinstance(value, str) else value
        allowed = question.option_values()
        if not isinstance(values, list) or not all(v in allowed for v in values):
            return None, f"must be a list drawn from: {', '.join(allowed)}"
        return [v for v in allowed if v in values], None
    if not isinstance(value, str):
        return None, "must be text"
    value = value.strip()
    if len(value) > MAX_TEXT_LENGTH:
        return None, f"must be at most {MAX_TEXT_LENGTH} characters"
    return value or None, None
