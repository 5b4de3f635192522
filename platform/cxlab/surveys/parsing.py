"""Reading a survey definition from YAML: every problem is collected, with its 1-based
path and the bad value, before failing, so an author fixes a file in one pass:

>>> parse_definition('''
... slug: visit
... title: {ja: 来店アンケート, en: Store visit}
... questions:
...   - {id: nps, type: nps, label: Recommend us}
...   - {id: 2fast, type: rating, scale: 12, label: Food}
... ''')
Traceback (most recent call last):
...
cxlab.surveys.definition.DefinitionError: the survey definition has 2 problems:
  questions[2].id: '2fast' must start with a letter
  questions[2].scale: must be 2..11 points, got 12

Each question's own keys are read by its type (:mod:`cxlab.surveys.types`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import yaml

from cxlab.i18n import LANGUAGES
from cxlab.identifiers import SLUG_PATTERN, SLUG_RULE
from cxlab.surveys.definition import (
    CONDITION_OPERATORS,
    MAX_MIN_GROUP,
    ORIGIN_CHARS,
    SURVEY_KINDS,
    Anonymity,
    Attribute,
    Condition,
    DefinitionError,
    Question,
    SurveyDefinition,
    Text,
)
from cxlab.surveys.problems import IDENTIFIER_CHARS, Problems, at, is_number, is_whole
from cxlab.surveys.types import QUESTION_TYPES, question_type

SURVEY_KEYS = {"slug", "title", "questions", "attributes", "languages", "intro", "thanks",
               "kind", "anonymity", "groups", "embed_origins", "opens_at", "closes_at"}
MOMENT_RULE = "a date and time with its offset, e.g. 2026-12-01T09:00:00+09:00"
QUESTION_KEYS = {"id", "type", "label", "required", "help", "show_if", "group"}


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


class _Parser(Problems):
    """Walks the raw mapping, collecting problems instead of stopping at the first."""

    def survey(self, raw: Any) -> SurveyDefinition:
        if not isinstance(raw, dict):
            raise DefinitionError([("(top)", "must be a mapping with slug, title and questions")])
        self.unknown_keys(raw, "", SURVEY_KEYS)
        slug = raw.get("slug")
        if not isinstance(slug, str) or not slug:
            self.add("slug", f"required; {SLUG_RULE}")
        elif not SLUG_PATTERN.match(slug):
            self.add("slug", f"{slug!r} may hold only {SLUG_RULE}, at most 63")
        languages = raw.get("languages", list(LANGUAGES))
        if not isinstance(languages, list) or not languages or not set(languages) <= set(
            LANGUAGES
        ):
            self.add("languages", f"{languages!r} must be a list drawn from "
                                  f"{', '.join(LANGUAGES)}")
            languages = list(LANGUAGES)
        title = self.localized_text(raw.get("title"), "title", required=True)
        intro = self.localized_text(raw.get("intro"), "intro")
        thanks = self.localized_text(raw.get("thanks"), "thanks")
        attributes = self.attributes(raw.get("attributes", []))
        questions, page_titles = self.questions(raw.get("questions"))
        self.column_clashes(raw.get("questions"), questions, attributes)
        kind = raw.get("kind", "cx")
        if kind not in SURVEY_KINDS:
            self.add("kind", f"{kind!r} must be one of {', '.join(SURVEY_KINDS)}")
            kind = "cx"
        anonymity = self.anonymity(raw.get("anonymity"), kind)
        opens_at, closes_at = (self.moment(raw.get(key), key) for key in ("opens_at", "closes_at"))
        if opens_at and closes_at and closes_at <= opens_at:
            self.add("closes_at", f"{closes_at.isoformat()} must be after opens_at "
                                  f"{opens_at.isoformat()}")
        # Kept as text: the definition is stored as JSON, and YAML reads these as datetimes.
        raw = {**raw, **{key: moment.isoformat() for key, moment in
                         (("opens_at", opens_at), ("closes_at", closes_at)) if moment}}
        used_groups = {question.group for question in questions if question.group}
        group_labels = self.labels(raw.get("groups"), "groups", used_groups,
                                   "no question has this group")
        embed_origins = self.origins(raw.get("embed_origins", []))
        if self.found:
            raise DefinitionError(self.found)
        return SurveyDefinition(
            slug=slug, title=title, questions=tuple(questions),
            attributes=tuple(attributes), languages=tuple(languages), intro=intro,
            thanks=thanks, page_titles=tuple(page_titles), kind=kind, anonymity=anonymity,
            group_labels=group_labels, embed_origins=tuple(embed_origins), opens_at=opens_at,
            closes_at=closes_at, raw=raw,
        )

    def moment(self, raw: Any, path: str) -> datetime | None:
        """``opens_at`` or ``closes_at``: a time with its offset (YAML reads an unquoted
        one as a datetime; the database copy holds it as ISO text)."""
        if raw is None:
            return None
        moment = raw
        if isinstance(raw, str):
            try:
                moment = datetime.fromisoformat(raw.strip())
            except ValueError:
                moment = None
        if isinstance(moment, date) and not isinstance(moment, datetime):
            self.add(path, f"{raw!r} is a day without a time: give {MOMENT_RULE}")
            return None
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            self.add(path, f"{str(raw)!r} must be {MOMENT_RULE}")
            return None
        return moment

    def anonymity(self, raw: Any, kind: str) -> Anonymity:
        default = Anonymity.default(kind)
        if raw is None:
            return default
        if not isinstance(raw, dict):
            self.add("anonymity", "must be a mapping: {min_group: 5, unlinked: true}")
            return default
        self.unknown_keys(raw, "anonymity", {"min_group", "unlinked"})
        min_group = raw.get("min_group", default.min_group)
        if not is_whole(min_group) or not 1 <= min_group <= MAX_MIN_GROUP:
            self.add("anonymity.min_group",
                     f"{min_group!r} must be a whole number from 1 to {MAX_MIN_GROUP}")
            min_group = default.min_group
        unlinked = raw.get("unlinked", default.unlinked)
        if not isinstance(unlinked, bool):
            self.add("anonymity.unlinked", f"{unlinked!r} must be true or false")
            unlinked = default.unlinked
        return Anonymity(min_group=min_group, unlinked=unlinked)

    def origins(self, raw: Any) -> list[str]:
        if not isinstance(raw, list):
            self.add("embed_origins", "must be a list of origins like https://shop.example")
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
                self.add(at("embed_origins", index),
                         f"{origin!r} must be an https origin: scheme and host, no path "
                         "(e.g. https://shop.example)")
                continue
            origins.append(origin)
        return origins

    def attributes(self, raw: Any) -> list[Attribute]:
        if not isinstance(raw, list):
            self.add("attributes", "must be a list")
            return []
        attributes, seen = [], set()
        for index, item in enumerate(raw):
            path = at("attributes", index)
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict):
                self.add(path, f"{item!r} must be a name or a mapping with name")
                continue
            self.unknown_keys(item, path, {"name", "label", "values", "from_query",
                                           "value_labels"})
            name = item.get("name")
            if not isinstance(name, str) or not name or not set(name) <= IDENTIFIER_CHARS:
                got = "" if name is None else f", got {name!r}"
                self.add(f"{path}.name", f"required: lowercase letters, digits and '_'{got}")
                continue
            if name in seen:
                self.add(f"{path}.name", f"duplicate attribute {name!r}")
            seen.add(name)
            values = item.get("values", [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.add(f"{path}.values", f"{values!r} must be a list of strings")
                values = []
            value_labels = self.labels(item.get("value_labels"), f"{path}.value_labels",
                                       set(values) if values else None,
                                       "not one of the attribute's values")
            attributes.append(Attribute(
                name=name,
                label=self.localized_text(item.get("label"), f"{path}.label") or {"en": name},
                values=tuple(values), from_query=bool(item.get("from_query", False)),
                value_labels=value_labels,
            ))
        return attributes

    def questions(self, raw: Any) -> tuple[list[Question], list[Text | None]]:
        if not isinstance(raw, list) or not raw:
            self.add("questions", "required: a non-empty list")
            return [], [None]
        questions: list[Question] = []
        page_titles: list[Text | None] = [None]
        for index, item in enumerate(raw):
            path = at("questions", index)
            if not isinstance(item, dict):
                self.add(path, f"{item!r} must be a mapping")
                continue
            if item.get("type") == "page_break":
                self.unknown_keys(item, path, {"type", "title"})
                if not questions or len(page_titles) > len({q.page for q in questions}):
                    self.add(path, "a page break must follow at least one question")
                page_titles.append(self.localized_text(item.get("title"), f"{path}.title"))
                continue
            question = self.question(item, path, questions, page=len(page_titles) - 1)
            if question is not None:
                questions.append(question)
        if questions and len(page_titles) > len({q.page for q in questions}):
            self.add(at("questions", len(raw) - 1), "the last page has no questions")
        return questions, page_titles

    def question(
        self, raw: dict, path: str, earlier: list[Question], page: int
    ) -> Question | None:
        question_id, kind = raw.get("id"), raw.get("type")
        problems_before = len(self.found)
        self.identifier(question_id, f"{path}.id")
        valid = len(self.found) == problems_before
        if valid and question_id in {q.id for q in earlier}:
            self.add(f"{path}.id", f"duplicate question id {question_id!r}")
        if kind not in QUESTION_TYPES:
            self.add(f"{path}.type", f"{kind!r} is not a question type; use one of "
                                     f"{', '.join(QUESTION_TYPES)} or page_break")
            return None
        self.unknown_keys(raw, path, QUESTION_KEYS | question_type(kind).keys)
        label = self.localized_text(raw.get("label"), f"{path}.label", required=True)
        required = raw.get("required", False)
        if not isinstance(required, bool):
            self.add(f"{path}.required", f"{required!r} must be true or false")
        own_fields = question_type(kind).parse(raw, path, self)
        group = raw.get("group")
        if group is not None and (not isinstance(group, str) or not group):
            self.add(f"{path}.group",
                     f"{group!r} must be a name (questions of one multi-item scale)")
        show_if = None
        if "show_if" in raw:
            show_if = self.condition(raw["show_if"], f"{path}.show_if", earlier)
        if not valid or label is None:
            return None
        return Question(
            id=question_id, type=kind, label=label, required=required is True,
            help=self.localized_text(raw.get("help"), f"{path}.help"), show_if=show_if, group=group,
            page=page, **own_fields,
        )

    def column_clashes(self, raw: Any, questions: list[Question],
                       attributes: list[Attribute]) -> None:
        """A matrix row's column (``<matrix>_<row>``) or a multi option's must not be
        another question's id or an attribute's name: each becomes one stored column."""
        if not isinstance(raw, list):
            return
        positions = {item.get("id"): index for index, item in enumerate(raw)
                     if isinstance(item, dict)}
        owners = {attribute.name: f"attribute {attribute.name!r}" for attribute in attributes}
        for question in questions:
            kind = question_type(question.type)
            for column in kind.column_names(question.id, kind.parts(question)):
                owner = owners.get(column)
                if owner is not None:
                    self.add(at("questions", positions[question.id]) + ".id",
                             f"column {column!r} of {question.id!r} is also {owner}")
                owners[column] = f"a column of question {question.id!r}"

    def condition(self, raw: Any, path: str, earlier: list[Question]) -> Condition | None:
        if not isinstance(raw, dict) or "question" not in raw:
            self.add(path, f"{raw!r} must be a mapping: {{question: ID, <operator>: value}}")
            return None
        operators = [key for key in raw if key != "question"]
        if len(operators) != 1 or operators[0] not in CONDITION_OPERATORS:
            self.add(path, f"needs exactly one of {', '.join(CONDITION_OPERATORS)}, "
                           f"got {', '.join(map(str, operators)) or 'none'}")
            return None
        target = raw["question"]
        by_id = {q.id: q for q in earlier}
        if target not in by_id:
            self.add(f"{path}.question", f"{target!r} is not an earlier question")
            return None
        if by_id[target].type == "matrix":
            self.add(f"{path}.question", f"{target!r} is a matrix: its answer has one "
                                         "value per row, so it cannot be compared")
            return None
        operator = operators[0]
        operand = raw[operator]
        if operator in ("in", "not_in") and not isinstance(operand, list):
            self.add(f"{path}.{operator}", f"{operand!r} must be a list")
            return None
        if operator in ("min", "max") and not is_number(operand):
            self.add(f"{path}.{operator}", f"{operand!r} must be a number")
            return None
        return Condition(question=target, operator=operator, operand=operand)
