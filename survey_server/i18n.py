"""The survey server's words: its pages' phrases (``page.*`` in :mod:`cxlab.i18n`),
answer problems in the respondent's language, and which language a page speaks.

>>> choose_language("en", "ja,en;q=0.5", ("ja", "en"))
'en'
>>> choose_language(None, "en-GB,en;q=0.9,ja;q=0.8", ("ja", "en"))
'en'
>>> choose_language(None, None, ("ja", "en"))
'ja'
>>> from cxlab.i18n import Phrase
>>> problem_text(Phrase("validation.whole_number_range", low=1, high=5), "ja")
'1から5までの数字で答えてください'
>>> problem_text(Phrase("validation.row", row="Speed",
...                     reason=Phrase("validation.row_required")), "en")
"Row 'Speed': this row needs an answer"
"""

from __future__ import annotations

from cxlab.i18n import LANGUAGES, Phrase, phrase

__all__ = ["LANGUAGES", "choose_language", "problem_text", "text"]


def text(key: str, language: str, **values: object) -> str:
    """A page phrase in ``language`` with ``{placeholders}`` filled."""
    return phrase(language, f"page.{key}", **values)


def problem_text(problem: str, language: str) -> str:
    """A problem with an answer as the form shows it: in the respondent's language,
    starting with a capital. A problem that is no catalogue :class:`Phrase` is shown
    as it is."""
    shown = problem.in_language(language) if isinstance(problem, Phrase) else problem
    return shown[:1].upper() + shown[1:]


def choose_language(
    requested: str | None, accept_language: str | None, available: tuple[str, ...]
) -> str:
    """``?lang=`` if the survey has it, else the best of Accept-Language, else the
    survey's first language."""
    available = tuple(language for language in available if language in LANGUAGES) or LANGUAGES
    if requested in available:
        return requested
    ranked = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in available and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else available[0]
