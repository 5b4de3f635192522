"""Texts no database can store: NUL (PostgreSQL refuses it) and lone surrogates (not
UTF-8). Such input is the sender's mistake: a 422 naming the field, never a 5xx.

>>> text_problems({"comment": "a\\x00b", "store": "shibuya-01", "heard": ["sns", "\\ud800"]})
{'comment': 'contains characters that are not allowed (NUL or invalid UTF-16)', \
'heard': 'contains characters that are not allowed (NUL or invalid UTF-16)'}
>>> storable("美味しかった")
True
"""

from __future__ import annotations

from typing import Any

from cxlab.i18n import Phrase


def storable(text: str) -> bool:
    """True when ``text`` has no NUL and encodes as UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_problems(values: dict[str, Any]) -> dict[str, str]:
    """``{name: reason}`` for each value (a text or a list of texts) that cannot be stored."""
    problems = {}
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and not storable(text) for text in texts):
            problems[name] = Phrase("validation.unstorable")
    return problems
