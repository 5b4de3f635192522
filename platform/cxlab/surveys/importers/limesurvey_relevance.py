"""LimeSurvey's relevance expressions as cxlab ``show_if`` conditions: a simple
comparison on one earlier question (``Q1 == "A1"``, ``Q2.NAOK >= 7``, ``is_empty(Q3)``,
``Q4 == "A" or Q4 == "B"``, a multiple-choice option ``Q5_SQ001 == "Y"``); anything
else gets a note and the question is always shown (cxlab.surveys.importers.limesurvey).

>>> COMPARISON.match('Q1.NAOK == "A2"').group("name", "op", "value")
('Q1', '==', 'A2')
>>> bool(EMPTINESS.match("!is_empty(Q3)"))
True
"""

from __future__ import annotations

import re
from typing import Any

from cxlab.surveys.importers.common import DefinitionBuilder, number

COMPARISON = re.compile(
    r"^(?P<name>[A-Za-z_][\w]*)(?:\.(?:NAOK|value|code))?\s*"
    r"(?P<op>==|!=|>=|<=|>|<|eq|ne|ge|le|gt|lt)\s*"
    r"(?P<quote>[\"']?)(?P<value>[^\"']*)(?P=quote)$")
EMPTINESS = re.compile(r"^(?P<not>!?)\s*is_empty\((?P<name>[A-Za-z_]\w*)(?:\.NAOK)?\)$")
OPERATORS = {"==": "equals", "eq": "equals", "!=": "not_equals", "ne": "not_equals",
             ">=": "min", "ge": "min", "<=": "max", "le": "max", ">": "min", "gt": "min",
             "<": "max", "lt": "max"}


def relevance_condition(builder: DefinitionBuilder, codes: dict[str, Any],
                        options: dict[str, tuple[Any, Any]], source: str,
                        expression: str) -> dict | None:
    """A simple comparison on one earlier question as ``show_if``; else a note."""
    text = expression.strip()
    while text.startswith("(") and text.endswith(")") and text.count("(") == text.count(")"):
        text = text[1:-1].strip()
    parts = [part.strip().strip("()").strip()
             for part in re.split(r"\s+(?:or|\|\|)\s+", text)]
    matches = [COMPARISON.match(part) for part in parts]
    if len(parts) > 1 and all(m and m["op"] in ("==", "eq") for m in matches) and len(
            {m["name"] for m in matches}) == 1:
        target = codes.get(matches[0]["name"])
        values = [builder.value_of(target, m["value"]) for m in matches]
        return builder.condition(source, target, "in", values, repr(expression))
    empty = EMPTINESS.match(text)
    if empty:
        return builder.condition(source, codes.get(empty["name"]), "answered",
                                      bool(empty["not"]), repr(expression))
    match = COMPARISON.match(text)
    if match and match["name"] in options and match["op"] in ("==", "eq", "!=", "ne"):
        target, option = options[match["name"]]
        chosen = (match["value"] == "Y") == (match["op"] in ("==", "eq"))
        return builder.condition(source, target, "equals" if chosen else "not_equals",
                                      option, repr(expression))
    if match is None:
        builder.note(source, f"relevance {expression!r}", "the question is always shown")
        return None
    target, operator = codes.get(match["name"]), OPERATORS[match["op"]]
    value = builder.value_of(target, match["value"])
    if operator in ("min", "max"):
        value = number(match["value"])
        if value is None:
            builder.note(source, f"relevance {expression!r}",
                              "the question is always shown")
            return None
        strict = {">": ">", "gt": ">", "<": "<", "lt": "<"}.get(match["op"])
        if strict:
            return builder.bound(source, target, strict, value, repr(expression))
    return builder.condition(source, target, operator, value, repr(expression))
