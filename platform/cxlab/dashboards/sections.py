"""The dashboard's sections as HTML, computed from a view of the answers: pure functions
(no widgets), so the widget, the snapshots and the tests share them.

>>> from cxlab.demo import demo_config
>>> from cxlab.dashboards.data import load_dashboard_data
>>> data = load_dashboard_data(demo_config(responses=600), "demo", "store-visit")
>>> "Waiting time for your food" in improvement_html(
...     data.responses, data.outcome, data.items, data.definition, "en")
True
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import partial

import pandas as pd
import plotly.graph_objects as go

from cxlab import analysis, charts
from cxlab.analysis.groups import group_scores
from cxlab.analysis.improvement import improvement_effect
from cxlab.analysis.trend import nps_change
from cxlab.anonymity import suppressed_groups
from cxlab.dashboards.data import DashboardData
from cxlab.dashboards.fragments import csv_link, p_value_text, segment_download, words
from cxlab.errors import CxlabError
from cxlab.org import label_answers
from cxlab.surveys.definition import SurveyDefinition, localize

RECENT_COMMENTS = 15
# The improvement effect of a larger view is estimated on a random sample this size (its
# standard error is then a fraction of a point), so a filter change stays quick.
EFFECT_SAMPLE = 200_000
IMPROVEMENT_ROWS = 5


def kpi_cards_html(view: pd.DataFrame, previous: pd.DataFrame | None, outcome: str,
                   days: int | None, min_group: int, language: str, kind: str = "cx") -> str:
    """The cards a page opens with: the NPS (eNPS) of ``view`` with its interval and n,
    the number of answers, and the change against ``previous`` (the ``days`` before the
    view's period; None for the whole period) in plain words, its test in a tooltip.
    A previous period with fewer than ``min_group`` answers is not compared.

    >>> now = pd.DataFrame({"nps": [10, 9, 9, 6] * 30})
    >>> before = pd.DataFrame({"nps": [10, 6, 3, 7] * 30})
    >>> cards = kpi_cards_html(now, before, "nps", 30, 5, "en")
    >>> "+50" in cards, "120 answers" in cards, "Up clearly" in cards
    (True, True, True)
    >>> whole = kpi_cards_html(now, None, "nps", None, 5, "en")
    >>> "Change against the period before" in whole, "None" in whole
    (True, False)
    """
    say = partial(words, language=language, kind=kind)
    score = analysis.nps(view[outcome]).iloc[0]
    cards = [(say("score"), f"{round(score.nps):+d}",  # never "-0"
              say("interval_n", low=score.ci_low, high=score.ci_high, n=int(score.n)), ""),
             (say("answers"), f"{len(view):,}", "", "")]
    if days is None or previous is None:
        cards.append((say("change_before"), "–", say("whole"), ""))
    elif len(previous) < min_group:
        cards.append((say("change", days=days), "–", say("no_previous", days=days), ""))
    else:
        change, p = nps_change(previous[outcome], view[outcome])
        plain = say("steady") if not p < 0.05 else say("up") if change > 0 else say("down")
        cards.append((say("change", days=days), f"{change:+.1f}", plain,
                      f"z test of the NPS change, {p_value_text(p)}" if p == p else ""))
    def card(title: str, value: str, note: str, detail: str) -> str:
        tooltip = f' title="{html.escape(detail)}"' if detail else ""
        note_html = f'<p class="cx-kpi-note"{tooltip}>{html.escape(note)}</p>' if note else ""
        return (f'<div class="cx-kpi"><h3>{html.escape(title)}</h3>'
                f'<p class="cx-kpi-value">{html.escape(value)}</p>{note_html}</div>')

    body = "".join(card(*parts) for parts in cards)
    return (f'<section class="cx-kpi-cards" aria-label="{html.escape(say("kpis"))}">'
            f"{body}</section>")


def group_scores_html(view: pd.DataFrame, definition: SurveyDefinition,
                      scale: tuple[int, int], min_group: int, language: str) -> str:
    """A table of the item groups' favourable share, interval, mean and n (EX
    surveys' engagement, manager…); empty for a survey without groups. A group fewer
    than ``min_group`` answered shows no number."""
    kind = definition.kind
    groups = definition.item_groups()
    if not groups:
        return ""
    table = group_scores(view, groups, scale=scale)
    head = "".join(f"<th scope='col'>{html.escape(words(key, language, kind))}</th>"
                   for key in ("group", "favourable", "interval", "mean"))
    labels = definition.group_labels
    rows = []
    for row in table.itertuples(index=False):
        label = localize(labels[row.group], language) if row.group in labels else row.group
        if row.n < min_group:  # a group few answered: nothing from those few
            too_few = html.escape(charts.text("too_few", language))
            cells = f"<td colspan='3'>{too_few}</td><td>–</td>"
        else:
            cells = (f"<td>{row.favourable:.0%}</td>"
                     f"<td>{row.fav_ci_low:.0%}–{row.fav_ci_high:.0%}</td>"
                     f"<td>{row.mean:.2f}</td><td>{row.n:,}</td>")
        rows.append(f"<tr><th scope='row'>{html.escape(label)}</th>{cells}</tr>")
    return (f"<h3>{html.escape(words('groups', language, kind))}</h3><table>"
            f"<thead><tr>{head}<th scope='col'>n</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def improvement_html(view: pd.DataFrame, outcome: str, items: Sequence[str],
                     definition: SurveyDefinition, language: str) -> str:
    """The items whose improvement would raise the NPS most, in NPS points
    (:func:`cxlab.analysis.improvement.improvement_effect`, penalty–reward): the
    expected NPS if the item's low ratings moved up to the middle of its scale. On more
    than :data:`EFFECT_SAMPLE` answers it is estimated on a random sample of that many."""
    kind = definition.kind
    sample = view.sample(EFFECT_SAMPLE, random_state=0) if len(view) > EFFECT_SAMPLE else view
    try:
        result = improvement_effect(sample, outcome, items, definition=definition, n_boot=0)
    except CxlabError:
        return ""
    table = result.table[result.table["effect"] > 0].head(IMPROVEMENT_ROWS)
    if table.empty:
        return ""
    label = partial(charts.item_label, definition, language=language)
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(label(row.item))}</th>"
        f"<td>{row.effect:+.1f}</td><td>{row.what_if_nps:+.1f}</td></tr>"
        for row in table.itertuples(index=False))
    head = "".join(f"<th scope='col'>{html.escape(words(key, language, kind))}</th>"
                   for key in ("item", "effect", "what_if"))
    note = words("improvement_note", language, kind, nps=result.nps)
    return (f"<h3>{html.escape(words('improvement', language, kind))}</h3>"
            f"<p><small>{html.escape(note)}</small></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


def segment_section(period_frame: pd.DataFrame, data: DashboardData, min_group: int,
                    language: str) -> tuple[go.Figure, str, str]:
    """NPS by the survey's first attribute over the period: the table (small groups left
    out with a complement, :func:`cxlab.anonymity.suppressed_groups`, since the period's
    total is on screen), its CSV download link, and a note in plain words (the test and
    its p-value in the tooltip, for consultants)."""
    if data.rollup:
        return unit_section(period_frame, data, min_group, language)
    attribute, definition = data.attribute, data.definition
    by_segment = analysis.nps_by(period_frame, data.outcome, by=attribute)
    by_segment = by_segment[by_segment["n"] > 0]
    hidden = suppressed_groups(dict(zip(by_segment[attribute].astype(str), by_segment["n"],
                                        strict=True)), min_group)
    by_segment = by_segment[~by_segment[attribute].astype(str).isin(hidden)]
    table = charts.segment_table(by_segment, attribute, definition, language=language)
    download = csv_link(segment_download(by_segment, definition, attribute, language),
                        f"{data.tenant}-{data.survey}-{attribute}.csv",
                        words("download", language))
    label = charts.item_label(definition, attribute, language)
    notes = []
    test = analysis.compare_segments(period_frame, data.outcome, attribute).test.iloc[0]
    if pd.notna(test["p"]):
        key = "differ" if test["p"] < 0.05 else "same"
        detail = f"{test['test']}, {p_value_text(float(test['p']))}"
        notes.append(f'<span title="{html.escape(detail)}">'
                     f'{html.escape(words(key, language, attribute=label))}</span>')
    if hidden:
        notes.append(html.escape(
            words("hidden_groups", language, count=len(hidden), attribute=label)))
    return table, download, " ".join(notes)


def unit_section(period_frame: pd.DataFrame, data: DashboardData, min_group: int,
                 language: str) -> tuple[go.Figure, str, str]:
    """NPS by organisation unit over the period — the children of the viewer's unit,
    each its answers rolled up (:func:`cxlab.analysis.nps_by_unit`; an area is its
    stores) — as :func:`segment_section` shows segments: small units left out with a
    complement, a CSV download and a note saying how many are not shown."""
    units = data.rollup or []
    labels = label_answers(period_frame, units, data.attribute)
    table = analysis.nps_by_unit(period_frame, data.outcome, labels, min_group=min_group,
                                 order=[unit.code for unit in units])
    shown = table[~table["hidden"] & (table["n"] > 0)]
    column = words("unit", language)
    names = {unit.code: unit.name for unit in units}
    by_unit = shown.assign(**{column: shown["unit"].map(names)})
    figure = charts.segment_table(by_unit, column, data.definition, language=language)
    download = csv_link(segment_download(by_unit, data.definition, column, language),
                        f"{data.tenant}-{data.survey}-units.csv", words("download", language))
    hidden = int(table["hidden"].sum())
    note = html.escape(words("hidden_groups", language, count=hidden, attribute=column)
                       ) if hidden else ""
    return figure, download, note


def comments_html(comments: pd.DataFrame, language: str) -> str:
    """The comments section: each comment of ``comments`` (as
    :func:`cxlab.dashboards.data.newest_comments` finds them: ``submitted_at``, ``score``,
    ``comment``) with its date and score, or a note that there are none.

    >>> frame = pd.DataFrame({"submitted_at": [pd.Timestamp("2026-11-30")], "score": [9],
    ...                       "comment": ["<b>Great</b>"]})
    >>> comments_html(frame, "en").split("<li>")[1]
    '<small>2026-11-30 · 9</small> &lt;b&gt;Great&lt;/b&gt;</li></ul>'
    """
    if comments.empty:
        body = f"<p>{words('no_comments', language)}</p>"
    else:
        body = "<ul>" + "".join(
            f"<li><small>{row.submitted_at:%Y-%m-%d} · {row.score}</small> "
            f"{html.escape(str(row.comment))}</li>"
            for row in comments.itertuples(index=False)) + "</ul>"
    return f"<h3>{words('comments', language)}</h3>{body}"
