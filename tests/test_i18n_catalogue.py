"""The catalogue of interface phrases (cxlab.i18n): complete in every language, every key
the code names present, LANGUAGES defined once, and a new language is one more file."""

from __future__ import annotations

import ast
import pickle
import re
import shutil
from pathlib import Path

import pytest
from cxlab import i18n
from cxlab.i18n import CATALOGUE, LANGUAGES, SOURCE_LANGUAGE, Catalogue, Phrase
from cxlab.surveys import parse_definition, validate_answers

from survey_server.i18n import problem_text

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "platform" / "cxlab").rglob("*.py"),
                  *(ROOT / "survey_server").rglob("*.py")])
TEMPLATES = sorted((ROOT / "survey_server" / "views").rglob("*.tpl"))
# say() is the weekly report's, except where a module names dashboard words so.
DASHBOARD_SAY = [path for path in SOURCES
                 if "say = partial(words" in path.read_text(encoding="utf-8")]
REPORT_SAY = [path for path in SOURCES if path not in DASHBOARD_SAY]
# Where the code names a phrase by a literal key: (files, pattern, what the key is
# prefixed with in the catalogue). Keys made at run time (f"refusal.{reason}.title",
# words(key) over a list) are checked by the tests of the pages that show them.
LOOKUPS = [
    (SOURCES, r"\bphrase\(\s*[\w.]+,\s*\"([\w.]+)\"", ""),
    (SOURCES, r"\bPhrase\(\s*\"([\w.]+)\"", ""),
    (REPORT_SAY, r"\bsay\(\s*\"(\w+)\"", "report."),
    (DASHBOARD_SAY, r"\bsay\(\s*\"(\w+)\"", "dashboard."),
    (SOURCES, r"\bcharts\.text\(\s*\"([\w ]+)\"", "chart."),
    ([ROOT / "platform/cxlab/charts.py"], r"\btext\(\s*\"([\w ]+)\"", "chart."),
    (SOURCES, r"\bwords\(\s*[\"'](\w+)[\"']", "dashboard."),
    (SOURCES, r"\bi18n\.text\(\s*\"(\w+)\"", "page."),
    (SOURCES, r"\bmessage_page\(\s*[^,()]+,\s*[^,()]+,\s*\"(\w+)\",\s*\"(\w+)\"", "page."),
    (SOURCES, r"\berror=\"(\w+)\"", "page."),
    ([*(ROOT / "platform/cxlab/surveys/types").glob("*.py")], r"\btext\(\s*\"(\w+)\"", "page."),
    (TEMPLATES, r"\bt\('(\w+)'", "page."),
]


def used_keys() -> dict[str, set[str]]:
    """``{msgid: files naming it}`` for every literal key found by LOOKUPS."""
    found: dict[str, set[str]] = {}
    for files, pattern, prefix in LOOKUPS:
        for path in files:
            for match in re.finditer(pattern, path.read_text(encoding="utf-8")):
                for key in match.groups():
                    msgid = prefix + key.replace(" ", "_")
                    found.setdefault(msgid, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_key_the_code_names_is_in_every_catalogue():
    used = used_keys()
    assert len(used) > 150, "the lookups no longer find the code's keys"
    for language in LANGUAGES:
        entries = CATALOGUE.entries(language)
        missing = {key: sorted(files) for key, files in used.items() if key not in entries}
        assert not missing, f"{language}.po lacks {missing}"


def test_every_catalogue_translates_every_english_phrase_and_nothing_else():
    english = CATALOGUE.entries(SOURCE_LANGUAGE)
    for language in LANGUAGES:
        entries = CATALOGUE.entries(language)  # empty and fuzzy translations left out
        assert sorted(set(english) - set(entries)) == [], f"{language}.po: not translated"
        assert sorted(set(entries) - set(english)) == [], f"{language}.po: not in en.po"
        for key, entry in entries.items():
            assert isinstance(entry, tuple) == isinstance(english[key], tuple), key


def test_no_catalogue_has_an_empty_or_doubtful_translation():
    from babel.messages.pofile import read_po

    for language in LANGUAGES:
        with (i18n.CATALOGUE_DIR / f"{language}.po").open("rb") as file:
            catalog = read_po(file)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), f"{language}.po: {message.id!r} has an empty msgstr"
            assert not message.fuzzy, f"{language}.po: {message.id!r} is marked fuzzy"
            if isinstance(message.id, tuple):
                assert len(strings) == catalog.num_plurals, message.id


def test_every_phrase_fills_in_with_the_english_placeholders():
    """A translation may not ask for a value the English does not use (a typo would be a
    KeyError at run time), unless the code gives it anyway; it may leave one out
    (Japanese drops the list of options)."""
    english = CATALOGUE.entries(SOURCE_LANGUAGE)
    given_beyond_english = {"report.lowest": {"label"}}  # "最も低い{label}：…" / "Lowest: …"

    def names(entry: str | tuple[str, ...]) -> set[str]:
        texts = entry if isinstance(entry, tuple) else (entry,)
        return {re.split(r"[!:]", name)[0] for text in texts
                for name in re.findall(r"(?<!\{)\{([^{}]*)\}", text)}

    for language in LANGUAGES:
        for key, entry in CATALOGUE.entries(language).items():
            allowed = names(english[key]) | given_beyond_english.get(key, set())
            assert names(entry) <= allowed, f"{language}.po: {key}"


def test_languages_are_defined_once():
    """Only cxlab.i18n assigns LANGUAGES; everything else imports it."""
    owners = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            if any(isinstance(t, ast.Name) and t.id == "LANGUAGES" for t in targets):
                owners.append(str(path.relative_to(ROOT)))
    assert owners == ["platform/cxlab/i18n/__init__.py"]
    assert LANGUAGES == ("ja", "en")


def test_no_phrase_table_is_left_in_the_code():
    """A dict keyed by languages in a module is a phrase table outside the catalogue."""
    tables = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and len(node.keys) >= 2 and all(
                    isinstance(key, ast.Constant) and key.value in LANGUAGES
                    for key in node.keys):
                tables.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert tables == []


FRENCH = r'''msgid ""
msgstr ""
"Language: fr\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "page.next"
msgstr "Suivant"

msgid "page.errors_title"
msgid_plural "page.errors_title.plural"
msgstr[0] "Veuillez vérifier {count} réponse"
msgstr[1] "Veuillez vérifier {count} réponses"
'''


def test_a_new_language_is_one_catalogue_that_falls_back_to_english(tmp_path):
    for po in i18n.CATALOGUE_DIR.glob("*.po"):
        shutil.copy(po, tmp_path)
    (tmp_path / "fr.po").write_text(FRENCH, encoding="utf-8")
    catalogue = Catalogue(tmp_path)

    assert catalogue.languages == ("ja", "en", "fr")
    assert catalogue.phrase("fr", "page.next") == "Suivant"
    # French counts 0 and 1 as singular: its own plural rule, not English's.
    assert [catalogue.phrase("fr", "page.errors_title", count=n) for n in (0, 2)] == [
        "Veuillez vérifier 0 réponse", "Veuillez vérifier 2 réponses"]
    # What it does not translate yet reads in English, never as a bare key.
    assert catalogue.phrase("fr", "page.submit") == "Submit"
    assert catalogue.phrase("fr", "chart.segments", attribute="Magasin") == "NPS by Magasin"


def test_a_new_language_appears_in_the_portal_header_by_its_own_name(tmp_path, monkeypatch):
    import survey_server.i18n
    from survey_server.pages import language_links
    from survey_server.testing import bound_request

    for po in i18n.CATALOGUE_DIR.glob("*.po"):
        shutil.copy(po, tmp_path)
    (tmp_path / "fr.po").write_text(FRENCH + 'msgid "page.language_name"\nmsgstr "Français"\n',
                                    encoding="utf-8")
    catalogue = Catalogue(tmp_path)
    monkeypatch.setattr(i18n, "CATALOGUE", catalogue)
    monkeypatch.setattr(survey_server.i18n, "LANGUAGES", catalogue.languages)
    with bound_request("/portal/reports?lang=en"):
        links = language_links("en")
    assert links == [("ja", "日本語", "/portal/reports?lang=ja"),
                     ("fr", "Français", "/portal/reports?lang=fr")]


def test_a_key_in_no_catalogue_and_a_folder_without_english_are_refused(tmp_path):
    with pytest.raises(KeyError, match="page.no_such_phrase"):
        i18n.phrase("ja", "page.no_such_phrase")
    with pytest.raises(TypeError, match="count"):
        i18n.phrase("en", "page.errors_title")
    (tmp_path / "ja.po").write_text(FRENCH.replace("fr", "ja"), encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="en.po"):
        Catalogue(tmp_path)


@pytest.fixture(scope="module")
def every_type():
    return parse_definition({"slug": "s", "title": "S", "questions": [
        {"id": "nps", "type": "nps", "label": "NPS", "required": True},
        {"id": "visit", "type": "single", "label": "Visit", "options": ["lunch", "dinner"]},
        {"id": "heard", "type": "multi", "label": "Heard", "options": ["sns", "tv"]},
        {"id": "age", "type": "number", "label": "Age", "min": 18, "max": 99},
        {"id": "spend", "type": "number", "label": "Spend", "min": 0, "step": 0.5},
        {"id": "pref", "type": "dropdown", "label": "Prefecture",
         "options": ["tokyo", "osaka"]},
        {"id": "service", "type": "matrix", "label": "Service", "scale": 5,
         "rows": [{"id": "speed", "label": {"ja": "速さ", "en": "Speed"}}, "staff"]},
        {"id": "comment", "type": "text", "label": "Comment"}]})


def test_answer_problems_are_phrases_in_english_for_the_api_and_translated_for_the_form(
        every_type):
    _, problems = validate_answers(every_type, {
        "visit": "brunch", "heard": ["radio"], "age": 12, "spend": 2.25, "pref": "kyoto",
        "service": {"speed": 9}, "comment": 5, "extra": 1})
    assert problems == {
        "extra": "no such question in this survey",
        "nps": "this question needs an answer",
        "visit": "must be one of: lunch, dinner",
        "heard": "must be a list drawn from: sns, tv",
        "age": "must be a whole number from 18 to 99",
        "spend": "must be a multiple of 0.5",
        "pref": "'kyoto' is not one of the 2 options",
        "service": "row 'speed': must be a whole number from 1 to 5",
        "comment": "must be text",
    }
    assert all(isinstance(problem, Phrase) for problem in problems.values())
    japanese = {field: problem_text(problem, "ja") for field, problem in problems.items()}
    assert japanese["age"] == "18から99までの数字で答えてください"
    assert japanese["pref"] == "「kyoto」は選択肢にありません。候補から選んでください"
    assert japanese["service"] == "「speed」: 1から5までの数字で答えてください"
    assert not any(re.search(r"[a-z]{4}", text.replace("kyoto", "").replace("speed", ""))
                   for text in japanese.values()), japanese
    assert problem_text(problems["service"], "en") == (
        "Row 'speed': must be a whole number from 1 to 5")


def test_a_problem_survives_pickling_with_its_key():
    problem = Phrase("validation.row", row="speed", reason=Phrase("validation.row_required"))
    copy = pickle.loads(pickle.dumps(problem))
    assert (copy, copy.msgid, copy.in_language("ja")) == (
        problem, "validation.row", "「speed」: この行にお答えください")
