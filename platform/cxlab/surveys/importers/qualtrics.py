"""Qualtrics survey files (``.qsf``, JSON) as cxlab definitions.

A ``.qsf`` holds ``SurveyEntry`` (name, base language) and ``SurveyElements``: the
blocks (``BL``: each block's questions and page breaks — a list or, in some exports, a
mapping), the flow (``FL``: the order of the blocks, with branches and randomizers),
the questions (``SQ``: ``QuestionType``, ``Selector``, ``SubSelector``, ``Choices``,
``Answers``, ``Validation``, ``DisplayLogic``, translations under ``Language``), quotas
(``QC``) and more. What maps:

==========================================  =========================================
Qualtrics                                   cxlab
==========================================  =========================================
MC, Selector NPS                            nps
MC single answer (SAVR, SAHR, SACOL, SB)    single
MC dropdown (DL)                            dropdown
MC multiple answer (MAVR, MAHR, MACOL, MSB) multi
Matrix Likert, single answer (2–11 columns) matrix (its columns the scale's labels)
Matrix Likert, multiple answer or dropdown  one multi or single per statement (noted)
TE (single line, multi line, essay)         text
TE with number validation                   number (its min and max)
TE with date validation                     text (noted: cxlab has no date question)
TE form                                     one text per field (noted)
Slider                                      one number per slider (noted)
each block, and each page break in one      page_break (the block's name its title)
display logic on one earlier question       show_if (equals, not_equals, in, not_in,
                                            min, max)
==========================================  =========================================

Everything else (descriptive text, rank order, side by side, heat maps, constant sum,
file upload, timing, branches, quotas, embedded data...) gets a note naming it and
saying what was done instead.
"""

from __future__ import annotations

import json
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

SINGLE = {"SAVR", "SAHR", "SACOL", "SB"}
MULTI = {"MAVR", "MAHR", "MACOL", "MSB"}
TEXT = {"SL", "ML", "ESTB", "PW"}
SELECTED_OPERATORS = {"Selected": "equals", "NotSelected": "not_equals"}
NUMBER_OPERATORS = {"EqualTo": "equals", "NotEqualTo": "not_equals",
                    "GreaterThanOrEqual": "min", "LessThanOrEqual": "max",
                    "GreaterThan": ">", "LessThan": "<"}
LEFT_OUT = {
    "DB": "descriptive text (not a question)", "RO": "rank order", "SBS": "side by side",
    "HeatMap": "heat map", "HotSpot": "hot spot", "CS": "constant sum",
    "FileUpload": "file upload", "Timing": "timing", "Meta": "meta info",
    "Captcha": "captcha", "Draw": "signature", "DD": "drill down", "PGR": "pick, group and rank",
    "SS": "graphic slider", "Highlight": "highlight",
}


def read_qsf(data: bytes, name: str) -> ImportReport:
    """The definition and notes of a ``.qsf`` file's bytes (``name``: the slug's source
    when the survey has no name)."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ImportRefused(f"not a Qualtrics .qsf file: not JSON ({error})") from None
    if not isinstance(document, dict) or "SurveyElements" not in document:
        raise ImportRefused("not a Qualtrics .qsf file: it has no SurveyElements")
    return _Qsf(document, name).read()


def _listed(payload: Any) -> list[Any]:
    """A payload Qualtrics writes as a list or as a mapping of "0", "1"... in order."""
    if isinstance(payload, dict):
        return [payload[key] for key in sorted(payload, key=_order_key)]
    return list(payload or [])


def _order_key(key: Any) -> tuple[int, str]:
    text = str(key)
    return (int(text), text) if text.isdigit() else (1 << 30, text)


class _Qsf:
    def __init__(self, document: dict[str, Any], name: str) -> None:
        self.entry = document.get("SurveyEntry") or {}
        self.elements = [e for e in _listed(document["SurveyElements"]) if isinstance(e, dict)]
        self.name = name
        self.base = language_code(self.entry.get("SurveyLanguage") or "EN") or "en"
        self.builder = DefinitionBuilder("Qualtrics")
        self.languages: list[str] = [self.base]
        self.ids: dict[str, str] = {}  # QID → cxlab id

    # ------------------------------------------------------------ the survey

    def read(self) -> ImportReport:
        questions = {payload.get("QuestionID"): payload for payload in
                     (e.get("Payload") for e in self.elements if e.get("Element") == "SQ")
                     if isinstance(payload, dict)}
        blocks = {block.get("ID"): block for e in self.elements if e.get("Element") == "BL"
                  for block in _listed(e.get("Payload")) if isinstance(block, dict)}
        for element in self.elements:
            kind = element.get("Element")
            if kind == "QC":
                for quota in _listed(element.get("Payload")):
                    if isinstance(quota, dict):
                        self.builder.note(quota.get("ID") or "QC",
                                          f"quota {quota.get('Name') or ''}".strip(),
                                          "not imported: cxlab has no quotas")
            elif kind == "SCO":
                self.builder.note("SCO", "scoring", "not imported")
        placed: set[str] = set()
        for block_id in self.block_order(blocks):
            block = blocks[block_id]
            self.builder.page_break(self.builder.texts({self.base: block.get("Description")})
                                    if placed else None)
            if (block.get("Options") or {}).get("Randomization"):
                self.builder.note(block_id, "questions in random order",
                                  "imported in their order in the file")
            for element in _listed(block.get("BlockElements")):
                if element.get("Type") == "Page Break":
                    self.builder.page_break(None)
                elif element.get("Type") == "Question" and element.get("QuestionID") in questions:
                    placed.add(element["QuestionID"])
                    self.question(questions[element["QuestionID"]])
        title = self.builder.texts({self.base: self.entry.get("SurveyName")})
        return self.builder.finish(self.entry.get("SurveyName") or self.name, title,
                                   self.languages, fallback=self.name)

    def block_order(self, blocks: dict[str, dict]) -> list[str]:
        """The blocks as the flow asks them (every branch's blocks, noted), else in the
        file's order; the trash never."""
        flows = [e.get("Payload") for e in self.elements if e.get("Element") == "FL"]
        order: list[str] = []
        if flows and isinstance(flows[0], dict):
            self.walk_flow(_listed(flows[0].get("Flow")), order, blocks)
        if not order:
            order = [block_id for block_id, block in blocks.items()
                     if block.get("Type") != "Trash"]
        return order

    def walk_flow(self, flow: list[Any], order: list[str], blocks: dict[str, dict]) -> None:
        for item in flow:
            if not isinstance(item, dict):
                continue
            kind = item.get("Type")
            if kind in ("Block", "Standard") and item.get("ID") in blocks:
                if item["ID"] not in order:
                    order.append(item["ID"])
            elif kind in ("Branch", "Randomizer", "Group", "BlockRandomizer"):
                what = {"Branch": "a branch (blocks asked on a condition)",
                        "Group": "a group"}.get(kind, "a randomizer (blocks in random order)")
                self.builder.note(item.get("FlowID") or kind, what,
                                  "its blocks are asked of everyone, in the file's order")
                self.walk_flow(_listed(item.get("Flow")), order, blocks)
            elif kind == "EmbeddedData":
                fields = ", ".join(str(f.get("Field")) for f in _listed(item.get("EmbeddedData"))
                                   if isinstance(f, dict))
                self.builder.note(item.get("FlowID") or kind, f"embedded data ({fields})",
                                  "not imported: declare them as attributes if the link "
                                  "carries them")
            elif kind in ("EndSurvey", "WebService", "Authenticator", "Quota"):
                self.builder.note(item.get("FlowID") or kind, f"flow element {kind}",
                                  "not imported")

    # ------------------------------------------------------------ questions

    def translations(self, payload: dict, key: str) -> dict[str, Any]:
        """``{language: the payload's key}`` in the base and every translation."""
        found = {self.base: payload.get(key)}
        for raw, translated in (payload.get("Language") or {}).items():
            language = language_code(raw)
            if language and isinstance(translated, dict) and translated.get(key):
                found.setdefault(language, translated[key])
                if language not in self.languages:
                    self.languages.append(language)
        return found

    def items(self, payload: dict, key: str, order_key: str) -> list[tuple[str, dict | None]]:
        """Choices or answers in their order: ``[(id, texts by language)]``."""
        raw = payload.get(key) or {}
        if not isinstance(raw, dict):
            return []
        order = [str(i) for i in payload.get(order_key) or raw]
        found = []
        for item_id in order:
            item = raw.get(item_id) or raw.get(int(item_id) if item_id.isdigit() else item_id)
            if not isinstance(item, dict):
                continue
            texts = {self.base: item.get("Display")}
            for language, translation in (payload.get("Language") or {}).items():
                display = ((translation or {}).get(key) or {}).get(item_id) or {}
                texts.setdefault(language, display.get("Display") if isinstance(
                    display, dict) else None)
            found.append((item_id, self.builder.texts(texts)))
            if item.get("TextEntry") in ("true", True):
                self.builder.note(payload.get("QuestionID"),
                                  f"a text box with the option {item_id}",
                                  "the option is kept, its text box is not")
        return found

    def question(self, payload: dict) -> None:
        qid = payload.get("QuestionID")
        kind, selector = payload.get("QuestionType"), payload.get("Selector")
        label = self.builder.texts(self.translations(payload, "QuestionText"))
        settings = (payload.get("Validation") or {}).get("Settings") or {}
        base = {"label": label or {"en": str(payload.get("DataExportTag") or qid)}}
        if settings.get("ForceResponse") == "ON":
            base["required"] = True
        tag = payload.get("DataExportTag") or qid
        if kind == "MC":
            self.choice(payload, tag, base, selector)
        elif kind == "TE":
            self.text_entry(payload, tag, base, selector, settings)
        elif kind == "Matrix":
            self.matrix(payload, tag, base, selector, payload.get("SubSelector"))
        elif kind == "Slider":
            for choice_id, texts in self.items(payload, "Choices", "ChoiceOrder"):
                config = payload.get("Configuration") or {}
                slider = {"id": self.builder.identifier(f"{tag}_{choice_id}"), "type": "number",
                          "label": texts or base["label"]}
                for key, raw in (("min", config.get("CSSliderMin")),
                                 ("max", config.get("CSSliderMax"))):
                    if number(raw) is not None:
                        slider[key] = number(raw)
                self.add(qid, slider, payload)
            self.builder.note(qid, "a slider", "a number question per slider")
        else:
            what = LEFT_OUT.get(kind, f"question type {kind}")
            self.builder.note(qid, what, "left out: cxlab has no such question")

    def add(self, qid: str, question: dict, payload: dict, values: dict | None = None) -> None:
        """Add ``question`` with its display logic."""
        logic = self.display_logic(qid, payload.get("DisplayLogic"))
        if logic:
            question["show_if"] = logic
        self.builder.add(question, values)
        self.ids.setdefault(qid, question["id"])

    def choice(self, payload: dict, tag: str, base: dict, selector: str) -> None:
        qid = payload.get("QuestionID")
        choices = self.items(payload, "Choices", "ChoiceOrder")
        if selector == "NPS":
            values = {choice_id: index for index, (choice_id, _) in enumerate(choices)}
            self.add(qid, {"id": self.builder.identifier(tag), "type": "nps", **base},
                     payload, values)
            return
        kind = ("dropdown" if selector == "DL" else "multi" if selector in MULTI
                else "single" if selector in SINGLE else None)
        if kind is None:
            self.builder.note(qid, f"multiple choice shown as {selector}", "imported as single")
            kind = "single"
        if len(choices) < 2:
            self.builder.note(qid, "a choice with fewer than 2 options", "left out")
            return
        options = [{"value": choice_id, "label": texts or {"en": choice_id}}
                   for choice_id, texts in choices]
        self.add(qid, {"id": self.builder.identifier(tag), "type": kind, **base,
                       "options": options}, payload)

    def text_entry(self, payload: dict, tag: str, base: dict, selector: str,
                   settings: dict) -> None:
        qid = payload.get("QuestionID")
        content = settings.get("ContentType") or ""
        if selector == "FORM":
            for choice_id, texts in self.items(payload, "Choices", "ChoiceOrder"):
                self.add(qid, {"id": self.builder.identifier(f"{tag}_{choice_id}"),
                               "type": "text", "label": texts or base["label"]}, payload)
            self.builder.note(qid, "a form of text fields", "a text question per field")
            return
        question = {"id": self.builder.identifier(tag), "type": "text", **base}
        if content == "ValidNumber":
            question["type"] = "number"
            bounds = settings.get("ValidNumber") or {}
            for key, raw in (("min", bounds.get("Min")), ("max", bounds.get("Max"))):
                if number(raw) is not None:
                    question[key] = number(raw)
            if str(bounds.get("NumDecimals") or "0") not in ("", "0"):
                question["step"] = 10 ** -int(bounds["NumDecimals"])
        elif "Date" in content:
            question["help"] = catalogue_text("import.date_hint")
            self.builder.note(qid, "a date", "a text question (cxlab has no date question)")
        elif selector not in TEXT:
            self.builder.note(qid, f"text entry shown as {selector}", "a text question")
        self.add(qid, question, payload)

    def matrix(self, payload: dict, tag: str, base: dict, selector: str, sub: str) -> None:
        qid = payload.get("QuestionID")
        rows = self.items(payload, "Choices", "ChoiceOrder")
        columns = self.items(payload, "Answers", "AnswerOrder")
        if selector != "Likert" or not rows or len(columns) < 2:
            self.builder.note(qid, f"a matrix ({selector})", "left out: cxlab has no such grid")
            return
        if sub == "SingleAnswer" and len(columns) <= 11:
            identifier = self.builder.identifier(tag)
            self.add(qid, {
                "id": identifier, "type": "matrix", **base,
                "scale": {"min": 1, "max": len(columns),
                          "labels": scale_labels([texts for _, texts in columns])},
                "rows": [{"id": f"r{row_id}" if not row_id[:1].isalpha() else row_id.lower(),
                          "label": texts or {"en": row_id}} for row_id, texts in rows],
            }, payload)
            if payload.get("RecodeValues"):
                self.builder.note(qid, "recoded column values",
                                  "points 1..n in the columns' order")
            return
        kind = "multi" if sub == "MultipleAnswer" else "single"
        options = [{"value": answer_id, "label": texts or {"en": answer_id}}
                   for answer_id, texts in columns]
        for row_id, texts in rows:
            label = {language: f"{base['label'].get(language, next(iter(base['label'].values())))}"
                               f" – {text}" for language, text in (texts or {}).items()}
            self.add(qid, {"id": self.builder.identifier(f"{tag}_{row_id}"), "type": kind,
                           "label": label or base["label"], "options": options}, payload)
        self.builder.note(qid, f"a matrix with {sub or 'its'} answers per statement",
                          f"a {kind} question per statement")

    # ------------------------------------------------------------ display logic

    def display_logic(self, qid: str, logic: Any) -> dict | None:
        if not isinstance(logic, dict):
            return None
        sets = [value for key, value in logic.items() if str(key).isdigit()]
        expressions = [value for group in sets for key, value in sorted(
            group.items(), key=lambda item: _order_key(item[0])) if str(key).isdigit()
            and isinstance(value, dict)] if all(isinstance(g, dict) for g in sets) else []
        shown = "; ".join(str(e.get("Description") or e.get("LeftOperand")) for e in expressions)
        if len(sets) != 1 or not expressions:
            self.builder.note(qid, f"display logic ({shown or 'several condition sets'})",
                              "the question is always shown")
            return None
        targets = {e.get("QuestionID") for e in expressions}
        operators = {e.get("Operator") for e in expressions}
        joins = {(e.get("Conjuction") or e.get("Conjunction")) for e in expressions[1:]}
        if len(targets) != 1 or any(e.get("LogicType") != "Question" for e in expressions):
            self.builder.note(qid, f"display logic ({shown}) on several questions or data",
                              "the question is always shown")
            return None
        target_qid = targets.pop()
        target = self.ids.get(target_qid)
        operator = operators.pop() if len(operators) == 1 else None
        if operator in SELECTED_OPERATORS:
            values = [self.builder.value_of(target, str(e.get("ChoiceLocator") or e.get(
                "LeftOperand") or "").rsplit("/", 1)[-1]) for e in expressions]
            if len(values) == 1:
                return self.builder.condition(qid, target, SELECTED_OPERATORS[operator],
                                              values[0], shown)
            wanted = {"Selected": ("Or", "in"), "NotSelected": ("And", "not_in")}[operator]
            if joins == {wanted[0]}:
                return self.builder.condition(qid, target, wanted[1], values, shown)
        elif operator in NUMBER_OPERATORS and len(expressions) == 1:
            operand = number(expressions[0].get("RightOperand"))
            strict = {"GreaterThan": ">", "LessThan": "<"}.get(operator)
            if operand is not None and strict:
                return self.builder.bound(qid, target, strict, operand, shown)
            if operand is not None:
                return self.builder.condition(qid, target, NUMBER_OPERATORS[operator], operand,
                                              shown)
        self.builder.note(qid, f"display logic ({shown})", "the question is always shown")
        return None
