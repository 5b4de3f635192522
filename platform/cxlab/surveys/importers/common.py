"""What both importers share: the report and its notes, and :class:`DefinitionBuilder`,
which turns another tool's questions into a cxlab definition that loads — ids made
identifiers and unique, texts stripped of HTML in every language, pages, and
``show_if`` conditions checked against the questions before them.

>>> builder = DefinitionBuilder("Qualtrics")
>>> builder.identifier("Q1.a"), builder.identifier("Q1.a"), builder.identifier("1st")
('q1_a', 'q1_a_2', 'q_1st')
>>> builder.texts({"EN": "<p>How <b>likely</b>&hellip;</p>", "JA": " "})
{'en': 'How likely…'}
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from cxlab.errors import CxlabError
from cxlab.i18n import LANGUAGES, phrase
from cxlab.identifiers import SLUG_PATTERN
from cxlab.surveys.definition import DefinitionError
from cxlab.surveys.parsing import parse_definition
from cxlab.surveys.problems import LANGUAGE_CODE

MAX_ID = 40
# Tags that end a line or a block part words; inline ones (<b>, <span>) do not.
BREAKING_TAGS = re.compile(r"<\s*/?\s*(br|p|div|li|ul|ol|h[1-6]|tr|td|th|table)\b[^>]*>", re.I)
TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")


class ImportRefused(CxlabError):
    """A file that cannot be imported at all (not JSON/XML, not a survey)."""


@dataclass(frozen=True)
class ImportNote:
    """Something of the source not carried over as it was: where, what, what instead."""

    source: str
    what: str
    done: str

    def __str__(self) -> str:
        return SPACES.sub(" ", f"{self.source}: {self.what}: {self.done}")


@dataclass
class ImportReport:
    """An imported definition (a mapping for :func:`cxlab.surveys.parse_definition`),
    the tool it came from, and the notes of what did not map as it was."""

    definition: dict[str, Any]
    source: str
    notes: list[ImportNote] = field(default_factory=list)


def plain_text(raw: Any) -> str:
    """Text without HTML tags and entities, its white space collapsed.

    >>> plain_text("Rate&nbsp;our <br/>service")
    'Rate our service'
    """
    if raw is None:
        return ""
    text = TAGS.sub("", BREAKING_TAGS.sub(" ", str(raw)))
    return SPACES.sub(" ", html.unescape(text).replace("\xa0", " ")).strip()


def number(raw: Any) -> int | float | None:
    """A number written as text or a number (whole numbers as int), else None.

    >>> number("10"), number(" 2.5"), number(""), number(None)
    (10, 2.5, None, None)
    """
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() else value


def catalogue_text(msgid: str) -> dict[str, str]:
    """A phrase of the catalogue in each of its languages, as a definition's text (the
    fixed answers some source types have: yes/no, a date's format).

    >>> catalogue_text("import.yes")
    {'ja': 'はい', 'en': 'Yes'}
    """
    return {language: phrase(language, msgid) for language in LANGUAGES}


def language_code(raw: str) -> str | None:
    """A tool's language code as cxlab writes it (lowercase; ``_`` as ``-``), or None.

    >>> language_code("ZH-S"), language_code("pt_BR"), language_code("de-informal")
    ('zh-s', 'pt-br', 'de-informal')
    """
    code = str(raw or "").strip().lower().replace("_", "-")
    return code if LANGUAGE_CODE.fullmatch(code) else None


class DefinitionBuilder:
    """A definition put together question by question, with its notes."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.notes: list[ImportNote] = []
        self.entries: list[dict[str, Any]] = []
        self.taken: set[str] = set()
        self.kinds: dict[str, str] = {}  # question id → cxlab type, for conditions
        self.values: dict[str, dict[str, Any]] = {}  # question id → source code → value

    def note(self, source: Any, what: str, done: str) -> None:
        note = ImportNote(str(source), what, done)
        if note not in self.notes:  # a question split in rows notes its logic once
            self.notes.append(note)

    def identifier(self, raw: Any, *, prefix: str = "q") -> str:
        """``raw`` as a unique id: lowercase letters, digits and ``_``, a letter first."""
        name = re.sub(r"[^a-z0-9_]+", "_", str(raw or "").lower()).strip("_")[:MAX_ID] or prefix
        if not name[0].isalpha():
            name = f"{prefix}_{name}"
        candidate, number = name, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{name}_{number}"
        self.taken.add(candidate)
        return candidate

    def texts(self, by_language: dict[Any, Any]) -> dict[str, str] | None:
        """``{language: text}`` in cxlab's codes, without HTML and empty texts."""
        found = {}
        for raw_language, raw_text in by_language.items():
            language, text = language_code(raw_language), plain_text(raw_text)
            if language and text and language not in found:
                found[language] = text
        return found or None

    def add(self, question: dict[str, Any], source_values: dict[str, Any] | None = None) -> None:
        """Add a question (its columns' names are taken too: a multi's options, a
        matrix's rows); ``source_values`` maps the source's answer codes to its values."""
        self.entries.append(question)
        self.kinds[question["id"]] = question["type"]
        self.values[question["id"]] = source_values or {}
        for option in question.get("options", []) if question["type"] == "multi" else []:
            self.taken.add(f"{question['id']}__{option['value']}")
        for row in question.get("rows", []):
            self.taken.add(f"{question['id']}_{row['id']}")

    def page_break(self, title: dict[str, str] | None) -> None:
        """A new page (none before the first question, nor two in a row)."""
        if not self.entries or self.entries[-1].get("type") == "page_break":
            return
        self.entries.append({"type": "page_break", **({"title": title} if title else {})})

    def condition(self, source: Any, target: str | None, operator: str, operand: Any,
                  shown: str) -> dict[str, Any] | None:
        """A ``show_if`` on an earlier question ``target``, or None and a note saying
        that the question is always shown (``shown`` describes the source's logic)."""
        if target not in self.kinds:
            self.note(source, f"display logic {shown} refers to no earlier imported question",
                      "the question is always shown")
            return None
        if self.kinds[target] == "matrix":
            self.note(source, f"display logic {shown} tests a matrix row",
                      "the question is always shown")
            return None
        return {"question": target, operator: operand}

    def value_of(self, target: str | None, code: Any) -> Any:
        """The cxlab value of a source answer code of question ``target`` (a number for
        a scale or number question)."""
        mapped = self.values.get(target, {})
        if str(code) in mapped:
            return mapped[str(code)]
        if self.kinds.get(target) in ("nps", "rating", "number") and number(code) is not None:
            return number(code)
        return str(code)

    def bound(self, source: Any, target: str | None, operator: str, value: float,
              shown: str) -> dict[str, Any] | None:
        """``show_if`` for "greater than" (``>``) or "less than" (``<``) ``value``: on a
        scale of whole points exactly the next point (min, max include the bound); on
        a number question the bound itself, noted."""
        step = 1 if operator == ">" else -1
        kind = "min" if operator == ">" else "max"
        if self.kinds.get(target) == "number":
            self.note(source, f"display logic {shown}: a strict comparison",
                      f"taken as {kind} {value} (the bound included)")
            return self.condition(source, target, kind, value, shown)
        return self.condition(source, target, kind, value + step, shown)

    def finish(self, slug: str, title: dict[str, str] | None, languages: list[str],
               intro: dict[str, str] | None = None,
               thanks: dict[str, str] | None = None, *, fallback: str = "") -> ImportReport:
        """The definition, checked by the parser that will load it (``fallback``: the
        slug's source when ``slug`` makes none, such as the file's name)."""
        while self.entries and self.entries[-1].get("type") == "page_break":
            self.entries.pop()
        if not self.entries:
            raise ImportRefused(f"the {self.source} file has no question cxlab can import")
        shown = [language for language in languages if language in LANGUAGES]
        definition: dict[str, Any] = {"slug": slugify(slug, fallback),
                                      "title": title or {"en": slug}}
        if shown:
            definition["languages"] = shown
        for key, text in (("intro", intro), ("thanks", thanks)):
            if text:
                definition[key] = text
        definition["questions"] = self.entries
        try:
            parse_definition(definition)
        except DefinitionError as error:  # a case the importer did not foresee: say so
            raise ImportRefused(f"the imported definition does not load: {error}") from None
        return ImportReport(definition, self.source, self.notes)


def slugify(raw: str, fallback: str = "") -> str:
    """A survey slug from a name (else from ``fallback``).

    >>> slugify("Store Visit 2026 (Japan)"), slugify("来店調査", "pulse_2026"), slugify("来店")
    ('store-visit-2026-japan', 'pulse-2026', 'imported-survey')
    """
    for name in (raw, fallback):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
        if slug and SLUG_PATTERN.match(slug):
            return slug
    return "imported-survey"


def scale_labels(points: list[dict[str, str] | None]) -> dict[int, dict[str, str]]:
    """Labels of the points 1..n of a scale, for those that have one."""
    return {index + 1: text for index, text in enumerate(points) if text}
