"""The one catalogue of interface phrases: every word cxlab shows a respondent, a client
or an e-mail reader, in every language the product speaks.

Each language is one gettext file beside this module (``en.po``, ``ja.po``), read with
Babel the first time a phrase is asked for: no compile step, so a fresh clone runs as
it is. :data:`LANGUAGES` are the catalogues found there, the default (Japanese) first;
adding a language is adding its ``.po`` file (and the surveys' own texts).

Message ids are keys named by the surface that shows them, not English sentences:
``page.next`` (survey server and portal), ``validation.required``, ``chart.trend``,
``dashboard.fix_first``, ``refusal.expired.title``, ``report.nps_this``,
``mail.invitation.subject``. Why keys: the same English word often needs two
translations ("Sign in" is a title and a button; "Unsubscribe" a title and an action),
an English wording fix must not orphan every translation, and the keys say where a
phrase appears. English (``en.po``) is the source catalogue a translator reads beside
their own, as Weblate and Poedit do for such "monolingual" files; it is also the text
of validation problems in the JSON API.

Phrases are Python format strings (``{count}``, ``{value:+.1f}``). A phrase whose
wording depends on a number has plural forms (``msgid_plural``, the language's
``Plural-Forms`` header) and counts its ``count`` value.

A phrase missing from a language, or with an empty translation, falls back to English
(so a new catalogue can be built up bit by bit); a key missing from English is a bug
and raises ``KeyError``. ``tests/test_i18n_catalogue.py`` keeps the shipped catalogues
complete.

>>> phrase("en", "page.page_of", page=2, total=3)
'Page 2 of 3'
>>> phrase("ja", "page.errors_title", count=2), phrase("en", "page.errors_title", count=1)
('2件の回答を確認してください', 'Please check 1 answer')
>>> problem = Phrase("validation.whole_number_range", low=1, high=5)
>>> problem, problem.in_language("ja")
('must be a whole number from 1 to 5', '1から5までの数字で答えてください')
"""

from __future__ import annotations

import gettext
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

CATALOGUE_DIR = Path(__file__).parent
DEFAULT_LANGUAGE = "ja"
"""The language of a page when nothing asks for another (cxlab's clients are Japanese)."""
SOURCE_LANGUAGE = "en"
"""The catalogue every other falls back to, and the language of the JSON API's problems."""

Entry = str | tuple[str, ...]


class Catalogue:
    """The ``<language>.po`` files of one folder, each read once, on first use.

    >>> Catalogue(CATALOGUE_DIR).languages
    ('ja', 'en')
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        found = sorted(path.stem for path in self.folder.glob("*.po"))
        if SOURCE_LANGUAGE not in found:
            raise FileNotFoundError(f"no {SOURCE_LANGUAGE}.po in {self.folder}")
        # The default first, then alphabetical: where nothing else decides, it is chosen.
        self.languages: tuple[str, ...] = tuple(
            sorted(found, key=lambda code: (code != DEFAULT_LANGUAGE, code)))
        self._entries: dict[str, tuple[dict[str, Entry], Callable[[int], int]]] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read every catalogue now: a server does it as it starts, so that its first
        request does not wait for Babel (about 60 ms)."""
        for language in self.languages:
            self._read(language)

    def entries(self, language: str) -> dict[str, Entry]:
        """``{msgid: translation}`` of ``language`` (plural entries: a tuple of forms),
        without empty or fuzzy translations."""
        return self._read(language)[0]

    def phrase(self, language: str, msgid: str, **values: Any) -> str:
        """``msgid`` in ``language`` (in English when there is no such catalogue or it
        lacks the phrase), formatted with ``values`` when there are any."""
        language = language if language in self.languages else SOURCE_LANGUAGE
        entries, plural = self._read(language)
        entry = entries.get(msgid)
        if entry is None and language != SOURCE_LANGUAGE:
            language = SOURCE_LANGUAGE
            entries, plural = self._read(language)
            entry = entries.get(msgid)
        if entry is None:
            raise KeyError(f"{msgid!r} is in no catalogue ({self.folder})")
        if isinstance(entry, tuple):
            if "count" not in values:
                raise TypeError(f"{msgid!r} has plural forms: give it a count")
            index = plural(int(values["count"]))
            entry = entry[min(index, len(entry) - 1)]
        return entry.format(**values) if values else entry

    def _read(self, language: str) -> tuple[dict[str, Entry], Callable[[int], int]]:
        if language not in self._entries:
            with self._lock:
                if language not in self._entries:
                    self._entries[language] = _read_po(self.folder / f"{language}.po")
        return self._entries[language]


def _read_po(path: Path) -> tuple[dict[str, Entry], Callable[[int], int]]:
    from babel.messages.pofile import read_po  # imported on first use: pages start fast

    with path.open("rb") as file:
        catalog = read_po(file, locale=path.stem)
    entries: dict[str, Entry] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue  # the header, or a translation its translator doubted
        if isinstance(message.id, tuple):
            forms = tuple(message.string)
            if all(forms):
                entries[message.id[0]] = forms
        elif message.string:
            entries[message.id] = message.string
    return entries, gettext.c2py(catalog.plural_expr)


CATALOGUE = Catalogue(CATALOGUE_DIR)
LANGUAGES: tuple[str, ...] = CATALOGUE.languages
"""Every language cxlab speaks: one per catalogue, the default first."""


def phrase(language: str, msgid: str, **values: Any) -> str:
    """The phrase ``msgid`` of the catalogue in ``language``, with ``values`` filled in.

    >>> phrase("ja", "chart.segments", attribute="店舗")
    '店舗別のNPS'
    """
    return CATALOGUE.phrase(language, msgid, **values)


def variant(msgid: str, kind: str) -> str:
    """``msgid.<kind>`` when the catalogue words it differently for that kind of survey
    (``ex``: employees, eNPS), else ``msgid``.

    >>> variant("chart.trend", "ex"), variant("chart.score", "ex")
    ('chart.trend.ex', 'chart.score')
    """
    special = f"{msgid}.{kind}"
    return special if special in CATALOGUE.entries(SOURCE_LANGUAGE) else msgid


class Phrase(str):
    """A phrase with its values that reads as its English text (what logs and the JSON
    API show) and renders in another language with :meth:`in_language`. Answer checks
    return these, so the survey page translates a problem from its key and values,
    never from its English wording. A value that is itself a ``Phrase`` is rendered in
    the same language.

    >>> row = Phrase("validation.row", row="Speed", reason=Phrase("validation.row_required"))
    >>> row, row.in_language("ja")
    ("row 'Speed': this row needs an answer", '「Speed」: この行にお答えください')
    """

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Phrase:
        made = super().__new__(cls, phrase(SOURCE_LANGUAGE, msgid, **values))
        made.msgid, made.values = msgid, values
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own pickling would call Phrase(<English text>): rebuild from the key.
        return (_phrase_with_values, (self.msgid, self.values))

    def in_language(self, language: str) -> str:
        values = {name: value.in_language(language) if isinstance(value, Phrase) else value
                  for name, value in self.values.items()}
        return phrase(language, self.msgid, **values)

    def with_values(self, **changed: Any) -> Phrase:
        """The same phrase with some values replaced."""
        return Phrase(self.msgid, **{**self.values, **changed})


def _phrase_with_values(msgid: str, values: dict[str, Any]) -> Phrase:
    return Phrase(msgid, **values)
