"""Collecting a definition's problems: each with its 1-based path and the bad value.

The parser and every question type read raw YAML values through one :class:`Problems`
collector, so a file's mistakes are all reported at once, in the words an author
understands (``questions[2]`` is the second question, as an author counts):

>>> problems = Problems()
>>> problems.identifier("2fast", "questions[2].id")
>>> problems.options(["only"], "questions[3].options")
[]
>>> for path, message in problems.found:
...     print(f"{path}: {message}")
questions[2].id: '2fast' must start with a letter
questions[3].options: required: a list of at least 2 options (got 1)
"""

from __future__ import annotations

import re
from typing import Any

from cxlab.i18n import LANGUAGES
from cxlab.surveys.definition import Option, Text

IDENTIFIER_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
MAX_SCALE_POINTS = 11
# A text may be in any language (an imported survey's German, Korean...), named by its
# lowercase code with an optional region or script: de, ko, zh-hant, pt-br. The pages'
# own words are in the catalogue's languages; a text lacking the page's language is
# shown in its first one. (Qualtrics writes Simplified Chinese as ZH-S.)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")


def at(path: str, index: int) -> str:
    """The path of a list's ``index``-th (0-based) entry, numbered from 1.

    >>> at("questions", 0)
    'questions[1]'
    """
    return f"{path}[{index + 1}]"


def is_whole(value: Any) -> bool:
    """An int that is not a bool (YAML's ``true`` is an int to Python).

    >>> is_whole(3), is_whole(True), is_whole(2.0)
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or float that is not a bool.

    >>> is_number(0.5), is_number(False), is_number("3")
    (True, False, False)
    """
    return isinstance(value, int | float) and not isinstance(value, bool)


class Problems:
    """A definition's problems as ``(path, message)`` pairs, and readers of the value
    shapes many parts share (texts, identifiers, options, scales)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.found.append((path, message))

    def unknown_keys(self, raw: dict, path: str, allowed: set[str]) -> None:
        """Report each key of ``raw`` that is not ``allowed``."""
        for key in raw:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.add(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def identifier(self, raw: Any, path: str) -> None:
        """Check an id that becomes a column name: lowercase, digits, '_', letter first."""
        if not isinstance(raw, str) or not raw:
            self.add(path, "required: lowercase letters, digits and '_', a letter first")
        elif not set(raw) <= IDENTIFIER_CHARS:
            self.add(path, f"{raw!r} may hold only lowercase letters, digits and '_'")
        elif not raw[0].isalpha():
            self.add(path, f"{raw!r} must start with a letter")

    def localized_text(self, raw: Any, path: str, *, required: bool = False) -> Text | None:
        """A text shown to people, in every language: a string (the same in each) or
        ``{ja: ..., en: ...}`` (any language code, see ``LANGUAGE_CODE``); None (and a
        problem when ``required``) if missing."""
        if raw is None:
            if required:
                self.add(path, "required (a string, or {ja: ..., en: ...})")
            return None
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            return {language: str(raw) for language in LANGUAGES}
        if isinstance(raw, dict) and raw and all(
            isinstance(language, str) and LANGUAGE_CODE.fullmatch(language)
            and isinstance(value, str) and value
            for language, value in raw.items()
        ):
            return dict(raw)
        self.add(path, f"{raw!r} must be a string or a mapping of language codes "
                       f"({'/'.join(LANGUAGES)}, or any other such as de, zh-hant) "
                       "to non-empty strings")
        return None

    def labels(self, raw: Any, path: str, known: set[str] | None,
               unknown_problem: str) -> dict[str, Text]:
        """A mapping of keys (each in ``known``, unless that is None) to texts."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.add(path, "must be a mapping of each key to its label")
            return {}
        labels = {}
        for key, label in raw.items():
            if known is not None and str(key) not in known:
                self.add(f"{path}.{key}", unknown_problem)
                continue
            text = self.localized_text(label, f"{path}.{key}", required=True)
            if text is not None:
                labels[str(key)] = text
        return labels

    def options(self, raw: Any, path: str, *, key: str = "value",
                identifiers: bool = False) -> list[Option]:
        """Choices (``key: value``) or matrix rows (``key: id``, ``identifiers``): each a
        string or ``{<key>: ..., label: ...}``; at least two, none repeated."""
        if not isinstance(raw, list) or len(raw) < 2:
            got = f"got {len(raw)}" if isinstance(raw, list) else f"got {raw!r}"
            self.add(path, f"required: a list of at least 2 {_plural(path)} ({got})")
            return []
        options, seen = [], set()
        for index, item in enumerate(raw):
            item_path = at(path, index)
            if isinstance(item, str):
                item = {key: item, "label": item}
            if not isinstance(item, dict) or not isinstance(item.get(key), str):
                self.add(item_path, f"{item!r} must be a string or a mapping with {key} "
                                    "and label")
                continue
            self.unknown_keys(item, item_path, {key, "label"})
            value = item[key]
            if identifiers:
                self.identifier(value, f"{item_path}.{key}")
            if value in seen:
                self.add(f"{item_path}.{key}", f"duplicate {_plural(path)[:-1]} {value!r}")
            seen.add(value)
            label = self.localized_text(item.get("label", value), f"{item_path}.label")
            options.append(Option(value=value, label=label or {"en": value}))
        return options

    def scale(self, raw: Any, path: str) -> tuple[int, int, dict[int, Text]]:
        """A rating scale: a number of points from 1 (``5``) or ``{min, max, labels}``."""
        if is_whole(raw):
            raw = {"min": 1, "max": raw}
        if not isinstance(raw, dict):
            got = "" if raw is None else f", got {raw!r}"
            self.add(path, f"required: a number of points (e.g. 5) or {{min, max, labels}}{got}")
            return 1, 5, {}
        self.unknown_keys(raw, path, {"min", "max", "labels"})
        low, high = raw.get("min", 1), raw.get("max")
        if not all(is_whole(v) for v in (low, high)):
            self.add(path, f"min and max must be whole numbers, got {low!r} and {high!r}")
            return 1, 5, {}
        points = high - low + 1
        if not 2 <= points <= MAX_SCALE_POINTS:
            self.add(path, f"must be 2..{MAX_SCALE_POINTS} points, got {points}")
            return 1, 5, {}
        labels = {}
        for key, text in (raw.get("labels") or {}).items():
            # JSON (the database copy) turns the integer keys of YAML into strings.
            point = int(key) if isinstance(key, str) and key.lstrip("-").isdigit() else key
            if not is_whole(point) or not low <= point <= high:
                self.add(f"{path}.labels.{key}", f"must be a point of the scale {low}..{high}")
                continue
            labels[point] = self.localized_text(text, f"{path}.labels.{point}") or {}
        return low, high, labels


def _plural(path: str) -> str:
    """The noun a list's path ends with: ``questions[2].rows`` → ``rows``."""
    return path.rsplit(".", 1)[-1]
