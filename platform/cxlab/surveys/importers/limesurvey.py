"""LimeSurvey structure files (``.lss``, XML) as cxlab definitions.

An ``.lss`` is a ``<document>`` of tables, each ``<rows><row>`` of fields: ``surveys``
(base language, ``additional_languages``), ``surveys_languagesettings`` (title,
welcome and end texts per language), ``groups`` (the pages), ``questions`` and
``subquestions`` (``type`` letter, ``title`` = the question code, ``mandatory``,
``relevance``), ``answers``, ``question_attributes``. Two structures are read:

* older (LimeSurvey 2.x–3.x, ``DBVersion`` below 400): each text sits in its row,
  once per language (``language`` field: ``question``, ``answer``, ``group_name``);
* newer (4.x and later): rows hold no text; it is in ``question_l10ns``,
  ``answer_l10ns`` and ``group_l10ns``, one row per language.

==================================  ===================================================
LimeSurvey type                     cxlab
==================================  ===================================================
L list, ! dropdown                  single, dropdown (codes 0..10 only: nps)
O list with comment                 single (the comment box noted)
M multiple choice, P with comments  multi
F, H array, A 5 point, B 10 point   matrix (F, H: its answers the scale's labels)
1 dual scale array                  matrix of the first scale (noted)
C, E yes/uncertain/no, +/=/-        a single per row (noted)
5 five point choice                 rating 1..5
Y yes/no, G gender                  single
T, S, U free text                   text
Q multiple short text               a text per row (noted)
N numerical, K multiple numerical   number (``min_num_value_n``/``max_num_value_n``)
D date                              text (noted: cxlab has no date question)
each group                          a page (its name the page's title)
relevance on one earlier question   show_if
==================================  ===================================================

Text display, ranking, arrays of numbers or texts, file upload, equations, quotas and
relevance that is not a simple comparison get a note naming them and what was done.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from typing import Any

from cxlab.surveys.importers.common import (
    DefinitionBuilder,
    ImportRefused,
    ImportReport,
    catalogue_text,
    language_code,
    number,
    scale_labels,
)
from cxlab.surveys.importers.limesurvey_relevance import relevance_condition

NEWER_STRUCTURE = 400  # DBVersion from which texts are in the *_l10ns tables
LEFT_OUT = {"X": "text display (not a question)", "R": "ranking", ":": "array of numbers",
            ";": "array of texts", "|": "file upload", "*": "equation",
            "I": "language switch"}
# The fixed answers of some types, by LimeSurvey's codes: labelled from the catalogue
# (``import.*`` phrases) in each of its languages.
YES_NO = [("Y", "import.yes"), ("N", "import.no")]
GENDER = [("F", "import.female"), ("M", "import.male")]
ROW_CHOICES = {
    "C": [("Y", "import.yes"), ("U", "import.uncertain"), ("N", "import.no")],
    "E": [("I", "import.increase"), ("S", "import.same"), ("D", "import.decrease")],
}
def read_lss(data: bytes, name: str) -> ImportReport:
    """The definition and notes of an ``.lss`` file's bytes."""
    try:
        # The standard parser: Python's expat refuses entity expansion bombs, and
        # ElementTree fetches no external entity.
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise ImportRefused(f"not a LimeSurvey .lss file: not XML ({error})") from None
    if root.findtext("LimeSurveyDocType") not in ("Survey", None) or root.find(
            "questions") is None:
        raise ImportRefused("not a LimeSurvey survey structure (.lss): it has no questions")
    return _Lss(root, name).read()


def _tables(root: ElementTree.Element) -> dict[str, list[dict[str, str]]]:
    return {table.tag: [{field.tag: (field.text or "") for field in row}
                        for row in table.iterfind("rows/row")]
            for table in root if table.find("rows") is not None}


def _order(row: dict[str, str], key: str) -> tuple[float, str]:
    value = number(row.get(key))
    return (value if value is not None else 0, row.get("qid", ""))


class _Lss:
    def __init__(self, root: ElementTree.Element, name: str) -> None:
        self.name = name
        self.tables = _tables(root)
        version = number(root.findtext("DBVersion")) or 0
        self.newer = "question_l10ns" in self.tables or version >= NEWER_STRUCTURE
        survey = (self.tables.get("surveys") or [{}])[0]
        self.base = language_code(survey.get("language") or "en") or "en"
        self.languages = [self.base] + [code for code in (
            language_code(raw) for raw in (survey.get("additional_languages") or "").split())
            if code and code != self.base]
        self.builder = DefinitionBuilder("LimeSurvey")
        self.codes: dict[str, str] = {}  # question code (title) → cxlab id
        self.options: dict[str, tuple[str, str]] = {}  # <code>_<option> → (id, option)
        self.group_relevance = ""
        self.attributes: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self.tables.get("question_attributes", []):
            self.attributes[row.get("qid", "")][row.get("attribute", "")] = row.get("value", "")

    # ------------------------------------------------------------ reading the tables

    def texts_of(self, kind: str, key: str, field: str) -> dict[str, dict[str, str]]:
        """``{row key: {language: text}}`` of ``kind`` (question, answer, group): from
        its rows, one per language (older structure), or its ``_l10ns`` table (newer)."""
        found: dict[str, dict[str, str]] = defaultdict(dict)
        older = {"question": ["questions", "subquestions"], "answer": ["answers"],
                 "group": ["groups"]}[kind]
        sources = [f"{kind}_l10ns"] if self.newer else older
        for row in (row for source in sources for row in self.tables.get(source, [])):
            if row.get(field):
                found[row.get(key, "")].setdefault(row.get("language") or self.base, row[field])
        return found

    def questions(self) -> tuple[list[dict], dict[str, list[dict]]]:
        """The questions (one row each, first language's) and the subquestions of each."""
        rows = self.tables.get("questions", []) + self.tables.get("subquestions", [])
        seen, main, subs = set(), [], defaultdict(list)
        for row in rows:
            if row.get("qid") in seen:
                continue  # the older structure repeats a row per language
            seen.add(row.get("qid"))
            if row.get("parent_qid") in ("", "0", None):
                main.append(row)
            else:
                subs[row["parent_qid"]].append(row)
        for rows_of in subs.values():
            rows_of.sort(key=lambda row: _order(row, "question_order"))
        return main, subs

    def answers(self) -> dict[str, list[dict]]:
        """Each question's answer options (``code``, ``scale_id``, ``texts``), in order."""
        found: dict[str, list[dict]] = defaultdict(list)
        older: dict[tuple, dict[str, str]] = defaultdict(dict)
        for row in self.tables.get("answers", []) if not self.newer else []:
            key = (row.get("qid"), row.get("code"), row.get("scale_id") or "0")
            older[key].setdefault(row.get("language") or self.base, row.get("answer", ""))
        newer = self.texts_of("answer", "aid", "answer") if self.newer else {}
        seen = set()
        for row in sorted(self.tables.get("answers", []), key=lambda r: _order(r, "sortorder")):
            key = (row.get("qid"), row.get("code"), row.get("scale_id") or "0")
            if key in seen:
                continue
            seen.add(key)
            row_texts = newer.get(row.get("aid", ""), {}) if self.newer else older[key]
            found[row.get("qid", "")].append({"code": row.get("code", ""),
                                              "scale": row.get("scale_id") or "0",
                                              "texts": self.builder.texts(row_texts)})
        return found

    # ------------------------------------------------------------ the survey

    def read(self) -> ImportReport:
        question_texts = self.texts_of("question", "qid", "question")
        help_texts = self.texts_of("question", "qid", "help")
        groups = self.groups()
        main, subs = self.questions()
        answers = self.answers()
        for quota in self.tables.get("quota", []):
            self.builder.note(f"quota {quota.get('id', '')}", f"quota {quota.get('name', '')}",
                              "not imported: cxlab has no quotas")
        by_group = defaultdict(list)
        for row in main:
            by_group[row.get("gid", "")].append(row)
        for index, (gid, title, relevance) in enumerate(groups):
            if index:
                self.builder.page_break(title)
            self.group_relevance = relevance if relevance not in ("", "1") else ""
            for row in sorted(by_group.pop(gid, []), key=lambda r: _order(r, "question_order")):
                qid = row.get("qid", "")
                sub_rows = [dict(sub, texts=self.builder.texts(question_texts.get(sub["qid"], {})))
                            for sub in subs.get(qid, [])]
                self.question(row, self.builder.texts(question_texts.get(qid, {})),
                              self.builder.texts(help_texts.get(qid, {})), sub_rows,
                              answers.get(qid, []))
        settings = {row.get("surveyls_language") or self.base: row
                    for row in self.tables.get("surveys_languagesettings", [])}

        def setting(field: str) -> dict[str, str] | None:
            return self.builder.texts({language: row.get(field)
                                       for language, row in settings.items()})

        title = setting("surveyls_title")
        slug = next(iter(title.values())) if title else self.name
        return self.builder.finish(slug, title, self.languages, setting("surveyls_welcometext"),
                                   setting("surveyls_endtext"), fallback=self.name)

    def groups(self) -> list[tuple[str, dict | None, str]]:
        """``(gid, name by language, relevance)`` in the groups' order."""
        names = self.texts_of("group", "gid", "group_name")
        rows, seen = [], set()
        for row in sorted(self.tables.get("groups", []), key=lambda r: _order(r, "group_order")):
            if row.get("gid") not in seen:
                seen.add(row.get("gid"))
                rows.append((row.get("gid", ""), self.builder.texts(names.get(row["gid"], {})),
                             (row.get("grelevance") or "").strip()))
        return rows or [("", None, "")]

    # ------------------------------------------------------------ questions

    def question(self, row: dict, label: dict | None, help_text: dict | None,
                 subs: list[dict], answers: list[dict]) -> None:
        kind, code, qid = row.get("type", ""), row.get("title") or row.get("qid"), row.get("qid")
        source = f"{code} (qid {qid})"
        base: dict[str, Any] = {"label": label or {"en": code}}
        if help_text:
            base["help"] = help_text
        if row.get("mandatory") == "Y":
            base["required"] = True
        if row.get("other") == "Y":
            self.builder.note(source, "an 'Other' option with a text box", "not imported")
        first = [a for a in answers if a["scale"] == "0"]
        if kind in LEFT_OUT:
            self.builder.note(source, LEFT_OUT[kind], "left out: cxlab has no such question")
        elif kind in ("L", "!", "O"):
            if kind == "O":
                self.builder.note(source, "a list with a comment box", "the comment box is not "
                                                                        "imported")
            self.choice(row, source, code, base, "dropdown" if kind == "!" else "single",
                        [(a["code"], a["texts"]) for a in first])
        elif kind in ("M", "P"):
            if kind == "P":
                self.builder.note(source, "comments beside the options", "not imported")
            self.choice(row, source, code, base, "multi",
                        [(sub.get("title", ""), sub["texts"]) for sub in subs])
        elif kind in ("F", "H", "A", "B", "1"):
            self.array(row, source, code, base, kind, subs, first)
        elif kind in ROW_CHOICES or (kind in ("Q", "K") and subs):
            self.per_row(row, source, code, base, kind, subs)
        elif kind == "5":
            self.add(row, source, {"id": self.builder.identifier(code), "type": "rating",
                                   "scale": 5, **base})
        elif kind in ("Y", "G"):
            self.choice(row, source, code, base, "single",
                        [(value, catalogue_text(key)) for value, key in
                         (YES_NO if kind == "Y" else GENDER)])
        elif kind in ("T", "S", "U", "D"):
            if kind == "D":
                base["help"] = catalogue_text("import.date_hint")
                self.builder.note(source, "a date", "a text question (cxlab has no date "
                                                    "question)")
            self.add(row, source, {"id": self.builder.identifier(code), "type": "text", **base})
        elif kind == "N":
            self.add(row, source, {"id": self.builder.identifier(code), "type": "number",
                                   **base, **self.bounds(qid)})
        else:
            self.builder.note(source, f"question type {kind!r}", "left out")

    def bounds(self, qid: str) -> dict[str, Any]:
        attributes = self.attributes.get(qid, {})
        found = {key: number(attributes.get(name)) for key, name in
                 (("min", "min_num_value_n"), ("max", "max_num_value_n"))}
        return {key: value for key, value in found.items() if value is not None}

    def add(self, row: dict, source: str, question: dict, values: dict | None = None) -> None:
        own = (row.get("relevance") or "").strip()
        own = "" if own == "1" else own
        condition = None
        if own:
            condition = relevance_condition(self.builder, self.codes, self.options, source, own)
        if own and self.group_relevance:
            self.builder.note(source, f"relevance of its group {self.group_relevance!r} and "
                                      "its own", "only one is kept: its own where it maps")
        if condition is None and self.group_relevance:
            # The group's condition holds for each of its questions.
            condition = relevance_condition(self.builder, self.codes, self.options, source,
                                            self.group_relevance)
        if condition:
            question["show_if"] = condition
        self.builder.add(question, values)
        self.codes.setdefault(row.get("title") or "", question["id"])

    def choice(self, row: dict, source: str, code: str, base: dict, kind: str,
               options: list[tuple[str, dict | None]]) -> None:
        codes = [option_code for option_code, _ in options]
        if kind != "multi" and sorted(codes, key=lambda c: number(c) or 0) == [
                str(point) for point in range(11)]:
            values = {point: int(point) for point in codes}
            self.add(row, source, {"id": self.builder.identifier(code), "type": "nps", **base},
                     values)
            return
        if len(options) < 2:
            self.builder.note(source, "a choice with fewer than 2 options", "left out")
            return
        identifier = self.builder.identifier(code)
        self.add(row, source, {"id": identifier, "type": kind, **base,
                               "options": [{"value": value, "label": texts or {"en": value}}
                                           for value, texts in options]})
        if kind == "multi":  # relevance names a chosen option <code>_<option> == "Y"
            self.options.update({f"{code}_{value}": (identifier, value) for value, _ in options})

    def array(self, row: dict, source: str, code: str, base: dict, kind: str,
              subs: list[dict], first: list[dict]) -> None:
        rows = [sub for sub in subs if (sub.get("scale_id") or "0") == "0"]
        if kind == "A":
            scale: Any = 5
        elif kind == "B":
            scale = {"min": 1, "max": 10}
        elif 2 <= len(first) <= 11:
            scale = {"min": 1, "max": len(first),
                     "labels": scale_labels([answer["texts"] for answer in first])}
            if [answer["code"] for answer in first] != [str(n) for n in range(1, len(first) + 1)]:
                self.builder.note(source, f"answer codes {', '.join(a['code'] for a in first)}",
                                  f"points 1..{len(first)} in the answers' order")
        else:
            self.builder.note(source, f"an array with {len(first)} answers",
                              "left out: a matrix scale has 2 to 11 points")
            return
        if kind == "H":
            self.builder.note(source, "an array by column", "a matrix with rows")
        if kind == "1":
            self.builder.note(source, "a dual scale array", "a matrix of its first scale")
        if not rows:
            self.builder.note(source, "an array without rows", "left out")
            return
        identifier = self.builder.identifier(code)
        taken: set[str] = set()
        matrix_rows = []
        for sub in rows:
            row_id = re.sub(r"[^a-z0-9_]+", "_", (sub.get("title") or "").lower()).strip("_")
            row_id = row_id if row_id[:1].isalpha() else f"r{row_id}"
            while row_id in taken:
                row_id += "_"
            taken.add(row_id)
            matrix_rows.append({"id": row_id, "label": sub["texts"] or {"en": row_id}})
        self.add(row, source, {"id": identifier, "type": "matrix", **base, "scale": scale,
                               "rows": matrix_rows})

    def per_row(self, row: dict, source: str, code: str, base: dict, kind: str,
                subs: list[dict]) -> None:
        """C, E, Q and K: one question per subquestion."""
        made = {"C": "single", "E": "single", "Q": "text", "K": "number"}[kind]
        for sub in subs:
            label = {language: f"{text} – {(sub['texts'] or {}).get(language, '')}".rstrip(" –")
                     for language, text in base["label"].items()}
            question: dict[str, Any] = {
                "id": self.builder.identifier(f"{code}_{sub.get('title', '')}"), "type": made,
                "label": label}
            if made == "single":
                question["options"] = [{"value": value, "label": catalogue_text(key)}
                                       for value, key in ROW_CHOICES[kind]]
            if made == "number":
                question.update(self.bounds(row.get("qid", "")))
            self.add(row, source, question)
        self.builder.note(source, f"type {kind} with {len(subs)} rows",
                          f"a {made} question per row")
