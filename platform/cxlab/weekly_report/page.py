"""The weekly report as HTML: one self-contained fragment per survey, its trend an inline
SVG (no script, nothing downloaded), so the scheduler's HTML export is one page.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlab.report_text import percent, say

if TYPE_CHECKING:
    from cxlab.weekly_report import SurveyReport


def trend_svg(
    trend: pd.DataFrame, *, width: int = 640, height: int = 220, language: str = "en",
    metric: str = "NPS",
) -> str:
    """A small inline SVG of NPS per week with its interval (no script, exports as is).

    >>> table = pd.DataFrame({"week": pd.to_datetime(["2026-11-09", "2026-11-16"]),
    ...     "n": [40, 50], "nps": [10.0, 20.0], "ci_low": [0.0, 12.0], "ci_high": [20.0, 28.0]})
    >>> svg = trend_svg(table)
    >>> svg.startswith("<svg"), svg.count("<circle"), "11-16" in svg
    (True, 2, True)
    """
    shown = trend[trend["n"] > 0]
    left, right, top, bottom = 48, 16, 16, 36
    low = float(min(shown["ci_low"].min(), 0)) if len(shown) else -10.0
    high = float(max(shown["ci_high"].max(), 0)) if len(shown) else 10.0
    low, high = np.floor(low / 10) * 10 - 5, np.ceil(high / 10) * 10 + 5
    step = (width - left - right) / max(len(trend) - 1, 1)

    def x(index: int) -> float:
        return left + index * step

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(say("trend", language, metric=metric))}" '
             'font-family="sans-serif" font-size="11">',
             f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
             'stroke="#bbb" stroke-dasharray="3,3"/>',
             f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
             f'<text x="{left - 6}" y="{y(high) + 10:.1f}" text-anchor="end">{high:+.0f}</text>',
             f'<text x="{left - 6}" y="{y(low):.1f}" text-anchor="end">{low:+.0f}</text>']
    points = []
    for index, row in enumerate(trend.itertuples(index=False)):
        parts.append(f'<text x="{x(index):.1f}" y="{height - 14}" text-anchor="middle">'
                     f'{row.week:%m-%d}</text>')
        if row.n == 0:
            continue
        points.append(f"{x(index):.1f},{y(row.nps):.1f}")
        parts.append(f'<line x1="{x(index):.1f}" x2="{x(index):.1f}" y1="{y(row.ci_low):.1f}" '
                     f'y2="{y(row.ci_high):.1f}" stroke="#9ecae1" stroke-width="6"/>')
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f77b4" '
                     'stroke-width="2"/>')
    for index, row in enumerate(trend.itertuples(index=False)):
        if row.n:
            parts.append(f'<circle cx="{x(index):.1f}" cy="{y(row.nps):.1f}" r="4" '
                         f'fill="#1f77b4"><title>{row.week:%Y-%m-%d}: {row.nps:+.1f} '
                         f'(n = {row.n})</title></circle>')
    parts.append(f'<text x="{width - right}" y="{height - 2}" text-anchor="end" fill="#666">'
                 f"{html.escape(say('trend_caption', language))}</text></svg>")
    return "".join(parts)


def survey_html(part: SurveyReport) -> str:
    """One survey's section of the report as HTML, in the report's language."""
    escape, language, metric = html.escape, part.language, part.metric
    out = [f"<h2>{escape(part.title)}</h2>",
           f"<p class='cx-nps'><strong>{escape(part.nps_sentence)}</strong></p>"]
    if part.hidden:  # too few answers: the note is all there is
        return "\n".join(out)
    out += [f"<h3>{escape(say('trend', language, metric=metric))}</h3>",
            trend_svg(part.trend, language=language, metric=metric)]
    if part.priorities or part.drivers_note:
        out.append(f"<h3>{escape(say('improve', language))}</h3>")
        if part.priorities:
            out.append("<ol>" + "".join(f"<li>{escape(s)}</li>" for s in part.priorities)
                       + "</ol>")
        out.append(f"<p><small>{escape(part.drivers_note)}</small></p>")
    if not part.groups.empty:
        out.append(f"<h3>{escape(say('groups', language))}</h3><ul>" + "".join(
            "<li>" + escape(say("group_row", language, group=row.label, mean=row.mean,
                                top=row.scale_max, top2=percent(row.top2_share, language)))
            + "</li>" for row in part.groups.itertuples(index=False)) + "</ul>")
    if part.segment_sentences:
        out.append(f"<h3>{escape(say('segments', language, label=part.segment_label))}</h3>")
        out.append("<ul>" + "".join(f"<li>{escape(s)}</li>" for s in part.segment_sentences)
                   + "</ul>")
    if not part.topics.empty:
        out.append(f"<h3>{escape(say('topics', language))}</h3><ul>" + "".join(
            "<li>" + escape(say("topic_row", language, topic=row.topic,
                                det=percent(row.detractor_share, language),
                                pro=percent(row.promoter_share, language))) + "</li>"
            for row in part.topics.itertuples(index=False)) + "</ul>")
    out.append(f"<h3>{escape(say('comments', language))}</h3>")
    if part.comments.empty:
        out.append(f"<p>{escape(say('no_comments', language))}</p>")
    for kind, heading in (("low", "from_detractors"), ("high", "from_promoters")):
        rows = part.comments[part.comments["kind"] == kind]
        if len(rows):
            out.append(f"<p>{escape(say(heading, language))}:</p><ul>" + "".join(
                f"<li><small>{row.submitted_at:%Y-%m-%d} · {row.score}</small> "
                f"{escape(str(row.comment))}</li>" for row in rows.itertuples(index=False))
                + "</ul>")
    return "\n".join(out)
