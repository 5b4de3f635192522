"""One view of a dashboard — a period and a segment — computed without widgets.

:func:`compute_view` gives a :class:`ViewContent`: every section's HTML, and each chart
as the display_data output a widget shows with its summary in words. The widget
(:mod:`cxlab.dashboards.widget`) displays one; the sync saves the opening one as its
snapshot (:func:`snapshot_content`). Nothing here imports ipywidgets.

>>> from cxlab.demo import demo_config
>>> from cxlab.dashboards.data import load_dashboard_data
>>> data = load_dashboard_data(demo_config(responses=600), "demo", "store-visit")
>>> content = compute_view(data, "all", "", "en")
>>> content.shown, sorted(content.charts)
(True, ['distribution', 'drivers', 'headline', 'ratings', 'segments', 'trend'])
>>> fewer = compute_view(data, "all", "sapporo-08", "en")  # a store with 1–4 answers
>>> fewer.shown, fewer.charts, "Too few answers" in fewer.message
(False, {}, True)
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pandas as pd

from cxlab import analysis, charts
from cxlab.anonymity import may_show_part
from cxlab.dashboards import images as chart_images
from cxlab.dashboards.data import DashboardData
from cxlab.dashboards.fragments import (
    chart_summaries_html,
    chart_summary,
    figure_output,
    words,
)
from cxlab.dashboards.sections import (
    group_scores_html,
    improvement_html,
    kpi_cards_html,
    segment_section,
)
from cxlab.errors import CxlabError

PERIODS = {  # label key → days back from the newest answer (None: everything loaded)
    "all": None, "90d": 90, "30d": 30, "7d": 7,
}
# Fewer bootstrap resamples than the analysis default: the dashboard shows no
# importance interval, and a million rows must re-analyse in well under a second.
DRIVER_BOOTSTRAP = 0
# Above this many answers the drivers and the improvement effect are estimated on a
# random sample of this size: their standard errors are then a fraction of what the
# page shows (shares in whole percent, effects to 0.1 point), and a view of a million
# answers re-analyses in a quarter of the time.
DRIVER_SAMPLE = 200_000
# Raised whenever what a snapshot holds changes meaning (e.g. small groups suppressed):
# a snapshot of another layout is recomputed, never shown.
LAYOUT_VERSION = 7
SNAPSHOT_PARTS = {"kpis", "figures", "fix_first", "download", "segments_note", "comments",
                  "count", "segments", "groups", "improvement", "summaries", "layout"}


@dataclass(frozen=True)
class Selection:
    """The answers of a view (``view``), of its period over every segment
    (``period_frame``), and of as many days before the period in the same segment
    (``previous``; None for the whole period)."""

    view: pd.DataFrame
    period_frame: pd.DataFrame
    previous: pd.DataFrame | None


def select(data: DashboardData, period: str, segment: str) -> Selection:
    """Cut ``data``'s answers to ``period`` (a key of :data:`PERIODS`, counted back from
    the newest answer) and ``segment`` (a value of the survey's first attribute; ""
    for every one)."""
    frame = data.responses

    def of_segment(part: pd.DataFrame) -> pd.DataFrame:
        return part[part[data.attribute] == segment] if segment else part

    days = PERIODS[period]
    if days is None or frame.empty:
        return Selection(of_segment(frame), frame, None)
    stamps = frame["submitted_at"]
    start = stamps.max() - timedelta(days=days)
    period_frame = frame[stamps > start]
    before = frame[(stamps > start - timedelta(days=days)) & (stamps <= start)]
    return Selection(of_segment(period_frame), period_frame, of_segment(before))


@dataclass
class ViewContent:
    """What a view shows: each chart by section as (display_data output, summary in
    words), the HTML of the other sections, or only ``message`` (no answers, or too
    few to show) when nothing may be shown. ``count`` is the answers loaded in all."""

    count: int
    message: str = ""
    kpis: str = ""
    charts: dict[str, tuple[dict, str]] = field(default_factory=dict)
    groups: str = ""
    fix_first: str = ""
    improvement: str = ""
    segments_note: str = ""
    download: str = ""

    @property
    def shown(self) -> bool:
        return not self.message

    @property
    def figures(self) -> dict[str, dict]:
        """Each chart's display_data output, by section."""
        return {name: output for name, (output, _) in self.charts.items()}

    @property
    def summaries(self) -> str:
        """The charts in words: the alt text of their images."""
        return chart_summaries_html({name: summary for name, (_, summary) in self.charts.items()})


@dataclass(frozen=True)
class DriverSections:
    """The sections that model the answers together: the driver map (as a chart of
    :attr:`ViewContent.charts`), the "fix first" list and the improvement effect."""

    charts: dict[str, tuple[dict, str]]
    fix_first: str
    improvement: str


def compute_view(data: DashboardData, period: str, segment: str, language: str, *,
                 drivers: bool = True, selection: Selection | None = None) -> ViewContent:
    """Every section of the view ``period`` × ``segment`` in ``language``; without
    ``drivers`` the counted sections only (:func:`driver_sections` adds the rest). A
    view with fewer answers than the survey's minimum group — or one whose complement
    in the larger view it is cut from is that small — shows only a message.
    """
    selection = selection or select(data, period, segment)
    view, period_frame = selection.view, selection.period_frame
    definition, kind = data.definition, data.definition.kind
    min_group = definition.anonymity.min_group
    content = ViewContent(count=len(data.responses))
    attribute = charts.item_label(definition, data.attribute or "", language)
    if view.empty:
        content.message = _paragraph(words("empty", language, attribute=attribute))
        return content
    checks = [(len(view), len(period_frame)), (len(period_frame), content.count)]
    if not all(may_show_part(part, of, min_group) for part, of in checks):
        # Subtracting a shown view from the one it is cut from must not show a few.
        content.message = _paragraph(words("too_few", language, n=min_group,
                                           attribute=attribute))
        return content
    outcome, scale = data.outcome, scale_of(data)
    content.kpis = kpi_cards_html(view, selection.previous, outcome, PERIODS[period],
                                  min_group, language, kind)
    figures = {
        "headline": charts.nps_headline(analysis.nps(view[outcome]), language=language,
                                        kind=kind),
        "distribution": charts.score_distribution(view[outcome], language=language, kind=kind),
    }
    span = view["submitted_at"].max() - view["submitted_at"].min()
    freq = "W" if span > pd.Timedelta(days=35) else "D"
    figures["trend"] = charts.nps_trend(analysis.trend(view, outcome, freq), language=language,
                                        kind=kind)
    content.groups = group_scores_html(view, definition, scale, min_group, language)
    if data.items:
        figures["ratings"] = charts.item_ratings(
            analysis.ratings(view, data.items, scale=scale), definition, language=language)
    if data.attribute is not None:
        figures["segments"], content.download, content.segments_note = segment_section(
            period_frame, data, min_group, language)
    content.charts = {name: (figure_output(figure), chart_summary(name, figure))
                      for name, figure in figures.items()}
    return with_drivers(content, driver_sections(data, view, language)) if drivers else content


def with_drivers(content: ViewContent, found: DriverSections) -> ViewContent:
    """``content`` with the driver sections added."""
    return replace(content, charts={**content.charts, **found.charts},
                   fix_first=found.fix_first, improvement=found.improvement)


def driver_sections(data: DashboardData, view: pd.DataFrame, language: str) -> DriverSections:
    """The driver map, "fix first" and improvement effect of ``view`` (a shown view: the
    caller checked its size). A view of more than :data:`DRIVER_SAMPLE` answers is
    analysed on a random sample of that many."""
    if not data.items:
        return DriverSections({}, "", "")
    sample = view.sample(DRIVER_SAMPLE, random_state=0) if len(view) > DRIVER_SAMPLE else view
    try:
        table = analysis.drivers(sample, data.outcome, data.items, scale=scale_of(data),
                                 n_boot=DRIVER_BOOTSTRAP).table
    except CxlabError as error:
        return DriverSections({}, html.escape(
            words("drivers_unavailable", language, reason=str(error))), "")
    figure = charts.driver_map(table, data.definition, language=language)
    return DriverSections(
        {"drivers": (figure_output(figure), chart_summary("drivers", figure))},
        fix_first_html(table, data, language),
        improvement_html(sample, data.outcome, data.items, data.definition, language))


def fix_first_items(table: pd.DataFrame, data: DashboardData, language: str) -> list[str]:
    """The labels of the "fix first" items of a driver table, most urgent first."""
    rows = table[table["quadrant"] == "fix first"].sort_values("priority_rank")
    return [charts.item_label(data.definition, item, language) for item in rows["item"]]


def fix_first_html(table: pd.DataFrame, data: DashboardData, language: str) -> str:
    items = fix_first_items(table, data, language)
    if not items:
        return f"<p>{words('no_fix', language)}</p>"
    listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return f"<p><b>{words('fix_first', language, data.definition.kind)}</b></p><ol>{listed}</ol>"


def scale_of(data: DashboardData) -> tuple[int, int]:
    """The answer scale of the survey's rating items (that of the first)."""
    if not data.items:
        return (1, 5)
    return data.definition.item(data.items[0]).scale


def segment_values(data: DashboardData) -> list[str]:
    """The values of the survey's first attribute that have answers, in the
    definition's order."""
    if data.attribute is None:
        return []
    column = data.responses[data.attribute]
    present = set(column.dropna().unique())
    order = getattr(column.dtype, "categories", sorted(present))
    return [str(value) for value in order if value in present]


def snapshot_content(content: ViewContent, comments: str, segments: list[str],
                     images_language: str | None = None, image_setting: str = "auto") -> dict:
    """What the snapshot of a view saves (:mod:`cxlab.dashboards.snapshots`): its sections,
    its comments' HTML and the segment choices; with ``images_language``, each chart
    also as a still image (:mod:`cxlab.dashboards.images`, the sync's job) where
    ``image_setting`` allows."""
    figures = content.figures
    if images_language:
        figures = chart_images.add_images(figures, images_language, image_setting)
    return {"kpis": content.kpis, "figures": figures, "fix_first": content.fix_first,
            "download": content.download, "segments_note": content.segments_note,
            "comments": comments, "count": content.count, "groups": content.groups,
            "improvement": content.improvement, "summaries": content.summaries,
            "segments": segments, "layout": LAYOUT_VERSION}


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"
