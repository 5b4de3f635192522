"""The weekly report's words (``report.*`` of :mod:`cxlab.i18n`; cxlab.weekly_report fills
them in), and how it writes shares and lists per language.

>>> say("nps_this", "ja", metric="NPS", value=20.0, low=0.6, high=38.2, n=100)
'今期のNPS：+20.0（95%区間 +0.6〜+38.2、回答100件）'
>>> say("nps_this", "en", metric="eNPS", value=-5.0, low=-20.0, high=10.0, n=1234)
'eNPS this period: -5.0 (95 % interval -20.0 to +10.0, 1,234 answers)'
"""

from __future__ import annotations

from cxlab.errors import CxlabError
from cxlab.i18n import LANGUAGES, phrase


def say(key: str, language: str, **values: object) -> str:
    """The sentence ``key`` in ``language`` (one of LANGUAGES) with ``values`` filled in."""
    if language not in LANGUAGES:
        raise CxlabError(f"report language must be one of {', '.join(LANGUAGES)} "
                         f"(got {language!r})")
    return phrase(language, f"report.{key}", **values)


def percent(share: float, language: str) -> str:
    """A share as a whole percentage: "31 %" in English, "31%" in Japanese.

    >>> percent(0.314, "en"), percent(0.314, "ja"), percent(float("nan"), "en")
    ('31 %', '31%', '–')
    """
    if share != share:  # NaN: nobody in the group
        return "–"
    return f"{share:.0%}" if language == "ja" else f"{share:.0%}".replace("%", " %")


def listing(items: list[str], language: str) -> str:
    """Names joined as a list: "a, b and c" / "a、b、c".

    >>> listing(["a", "b", "c"], "en"), listing(["a", "b"], "ja")
    ('a, b and c', 'a、b')
    """
    if language == "ja":
        return "、".join(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
