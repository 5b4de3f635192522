"""The client dashboard: load one tenant's survey once, then re-analyse on every filter
change without touching the store again (docs/dashboards.md). The opening view comes
from the snapshot the sync saved (:mod:`cxlab.dashboards.snapshots`) when it is current,
while the answers load in the background for the first filter change.

Notebooks call :func:`cxlab.dashboards.page.build_dashboard` and display the widget it
returns::

    board = build_dashboard(Config.from_environ(), "demo", "store-visit", language="ja")
    board.widget

Without a store (a fresh checkout, CI), :func:`cxlab.demo.demo_config` seeds a small
private one, so the notebooks run with their default parameters anywhere:

>>> from cxlab.demo import demo_config
>>> from cxlab.dashboards.data import load_dashboard_data
>>> config = demo_config(responses=600)
>>> data = load_dashboard_data(config, "demo", "store-visit")
>>> len(data.responses), data.survey
(600, 'store-visit')
>>> board = Dashboard(data, language="en")
>>> sorted(board.figures)
['distribution', 'drivers', 'headline', 'ratings', 'segments', 'trend']
>>> board.periods.value = "7d"
>>> 0 < board.view_size < 600
True
>>> board.fix_first_items()[0]
'Waiting time for your food'
>>> board.segments.value = "sapporo-08"
>>> board.view_size, board.figures
(0, {})
"""


from __future__ import annotations

import html
import time
from datetime import timedelta

import ipywidgets as widgets
import pandas as pd

from cxlab import analysis, charts
from cxlab.anonymity import may_show_part
from cxlab.dashboards import images as chart_images
from cxlab.dashboards.data import DashboardData, release_free_memory
from cxlab.dashboards.fragments import (
    chart_summaries_html,
    chart_summary,
    figure_output,
    navigation_html,
    words,
)
from cxlab.dashboards.rates import response_rate_html
from cxlab.dashboards.sections import (
    comments_html,
    group_scores_html,
    improvement_html,
    segment_section,
)
from cxlab.dashboards.snapshots import (
    opening_view,
    read_snapshot,
    write_snapshot,
)
from cxlab.errors import CxlabError
from cxlab.surveys.definition import localize

# Fewer bootstrap resamples than the analysis default: the dashboard shows no
# importance interval, and a million rows must re-analyse in well under a second.
DRIVER_BOOTSTRAP = 0
SNAPSHOT_PARTS = {"figures", "fix_first", "download", "segments_note", "comments", "count",
                  "segments", "groups", "improvement", "summaries", "layout"}
# Raised whenever what a snapshot holds changes meaning (e.g. small groups suppressed):
# a snapshot of another layout is recomputed, never shown.
LAYOUT_VERSION = 6
PERIODS = {  # label key → days back from the newest answer (None: everything loaded)
    "all": None, "90d": 90, "30d": 30, "7d": 7,
}


class Dashboard:
    """The widgets of one tenant's dashboard over already loaded :class:`DashboardData`."""

    SECTIONS = ("headline", "trend", "distribution", "drivers", "ratings", "segments")

    def __init__(self, data: DashboardData, *, language: str = "ja",
                 snapshot_images: bool = False, portal_url: str = "",
                 period: str = "all", segment: str = "") -> None:
        self.data = data
        self.language = language
        # No view, table row or comment list from fewer answers than this is shown.
        self.min_group = data.definition.anonymity.min_group
        # Whether a snapshot this dashboard saves carries PNGs of its charts
        # (cxlab.dashboards.images): the sync's job, too slow for a page being opened.
        self.snapshot_images = snapshot_images
        self.timings: dict[str, float] = {"load": data.load_seconds}
        # Each section's chart as the display_data output its widget shows.
        self.figures: dict[str, dict] = {}
        # The opening view as the sync saved it (cxlab.dashboards.snapshots), if current:
        # with it the dashboard opens without waiting for the answers.
        self._opening = self._read_opening()
        self._view: pd.DataFrame | None = None
        self.periods = widgets.Dropdown(
            options=[(words(key, language), key) for key in PERIODS],
            # A period or segment it does not know opens the opening view instead.
            value=period if period in PERIODS else "all", description=words("period", language))
        segment_values = (self._opening["segments"] if self._opening
                          else self._segment_values())
        attribute_label = charts.item_label(data.definition, data.attribute or "", language)
        self.segments = widgets.Dropdown(
            options=[(words("every", language), "")] + [
                (self._value_label(v), v) for v in segment_values],
            value=segment if segment in segment_values else "", description=attribute_label,
            disabled=not segment_values)
        self.comment_filter = widgets.Text(placeholder=words("filter", language))
        self.outputs = {name: widgets.Output().add_class(f"cx-{name}") for name in self.SECTIONS}
        self.empty = widgets.HTML().add_class("cx-empty")
        self.comments = widgets.HTML().add_class("cx-comments")
        self.status = widgets.HTML().add_class("cx-status")
        self.nav = widgets.HTML(navigation_html(portal_url, language)).add_class("cx-nav")
        self.fix_first = widgets.HTML().add_class("cx-fix-first")
        self.groups = widgets.HTML().add_class("cx-groups")
        self.improvement = widgets.HTML().add_class("cx-improvement")
        self.summaries = widgets.HTML()  # the charts in words: their images' alt text
        self.download = widgets.HTML().add_class("cx-download")
        self.segments_note = widgets.HTML()
        self.response_rate = widgets.HTML(
            response_rate_html(data.response_rates, data.definition, language),
        ).add_class("cx-response-rate")
        self.periods.observe(self._changed, names="value")
        self.segments.observe(self._changed, names="value")
        self.comment_filter.observe(lambda _: self._show_comments(), names="value")
        self.render()

    def _value_label(self, value: str) -> str:
        attribute = self.data.definition.attribute(self.data.attribute or "")
        return attribute.value_label(value, self.language) if attribute else value

    def _segment_values(self) -> list[str]:
        if self.data.attribute is None:
            return []
        column = self.data.responses[self.data.attribute]
        present = set(column.dropna().unique())
        order = getattr(column.dtype, "categories", sorted(present))
        return [str(value) for value in order if value in present]

    def close(self) -> None:
        """Close every widget (a dashboard built outside a page, e.g. by the sync)."""
        for widget in (self.periods, self.segments, self.comment_filter, self.empty, self.nav,
                       self.groups, self.improvement, self.summaries,
                       self.comments, self.status, self.fix_first, self.download,
                       self.segments_note, self.response_rate, *self.outputs.values()):
            widget.close()

    @property
    def widget(self) -> widgets.Widget:
        """The whole dashboard, ready to display."""
        controls = widgets.HBox([self.periods, self.segments]).add_class("cx-controls")
        out = self.outputs
        return widgets.VBox([
            self.status, self.nav, controls, self.empty, out["headline"], out["trend"],
            out["distribution"],
            self.groups, self.fix_first, self.improvement, out["drivers"], out["ratings"],
            self.segments_note,
            out["segments"], self.download, self.response_rate, self.comment_filter,
            self.comments, self.summaries,
        ]).add_class("cx-dashboard")

    @property
    def view(self) -> pd.DataFrame:
        """The answers of the current period and segment."""
        if self._view is None:
            period_frame = self._period_frame()
            self._view = self._segment_of(period_frame)
        return self._view

    def _segment_of(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.segments.value:
            return frame
        return frame[frame[self.data.attribute] == self.segments.value]

    @property
    def view_size(self) -> int:
        return len(self.view)

    def _changed(self, _change: object) -> None:
        self.render()

    def _period_frame(self) -> pd.DataFrame:
        frame = self.data.responses
        days = PERIODS[self.periods.value]
        if days is None or frame.empty:
            return frame
        newest = frame["submitted_at"].max()
        return frame[frame["submitted_at"] > newest - timedelta(days=days)]

    def render(self) -> None:
        """Filter the loaded answers by period and segment and redraw every section."""
        began = time.perf_counter()
        snapshot = self._snapshot_view()
        if snapshot and self._opening and self._opening["count"] >= self.min_group:
            self._view = None  # filtered from the answers only when something needs it
            self._show_status(self._opening["count"])
            self._restore(self._opening)
        else:
            period_frame = self._period_frame()
            self._view = view = self._segment_of(period_frame)
            self._show_status(len(self.data.responses))
            if view.empty:
                self._show_empty()
            elif not self._may_show(view, period_frame):
                self._show_too_few()
            else:
                self._analyse(view, period_frame)
                if snapshot:
                    self._save(snapshot)
        self.timings["analysis"] = time.perf_counter() - began
        release_free_memory()
        # Read by benchmarks/dashboard.py to split the time to a rendered page.
        self.status.value += (f'<span class="cx-timings" hidden'
                              f' data-load="{self.timings["load"]:.3f}"'
                              f' data-analysis="{self.timings["analysis"]:.3f}"></span>')

    def _read_opening(self) -> dict | None:
        data = self.data
        if data.store is None or data.version is None:
            return None
        saved = read_snapshot(data.store, data.tenant, data.survey,
                              opening_view(self.language), data.version)
        # A snapshot of an older layout is ignored (and replaced) rather than half used.
        current = saved and saved.keys() >= SNAPSHOT_PARTS and saved["layout"] == LAYOUT_VERSION
        return saved if current else None

    def _snapshot_view(self) -> str | None:
        """The snapshot name of the current view when it is the one a dashboard opens
        with (whole period, every segment, no comment filter) over a whole partition."""
        data = self.data
        if (data.store is None or data.version is None or self.periods.value != "all"
                or self.segments.value or self.comment_filter.value.strip()):
            return None
        return opening_view(self.language)

    def _restore(self, saved: dict) -> None:
        self.figures = saved["figures"]
        for name, output in self.outputs.items():
            output.outputs = (self.figures[name],) if name in self.figures else ()
        self.empty.value = ""
        self.fix_first.value, self.download.value = saved["fix_first"], saved["download"]
        self.segments_note.value, self.comments.value = saved["segments_note"], saved["comments"]
        self.groups.value, self.improvement.value = saved["groups"], saved["improvement"]
        self.summaries.value = saved["summaries"]

    def _save(self, view: str) -> None:
        figures = self.figures
        if self.snapshot_images:
            figures = chart_images.add_images(figures, self.language)
        content = {"figures": figures, "fix_first": self.fix_first.value,
                   "download": self.download.value, "segments_note": self.segments_note.value,
                   "comments": self.comments.value, "count": len(self.data.responses),
                   "groups": self.groups.value, "improvement": self.improvement.value,
                   "summaries": self.summaries.value,
                   "segments": self._segment_values(), "layout": LAYOUT_VERSION}
        self._opening = content
        try:
            write_snapshot(self.data.store, self.data.tenant, self.data.survey, view,
                           self.data.version, content)
        except Exception as error:  # noqa: BLE001 - a read-only store only costs speed
            self.timings["snapshot_error"] = str(error)

    def _show_status(self, count: int) -> None:
        data, language = self.data, self.language
        stamp = data.as_of.strftime("%Y-%m-%d %H:%M UTC") if data.as_of else "—"
        title = html.escape(localize(data.definition.title, language))
        demo = f" · <b>{words('demo', language)}</b>" if data.demo else ""
        self.status.value = (f"<h2>{title}</h2><span class='cx-as-of'>"
                             f"{words('as_of', language, time=stamp, n=count)}"
                             f"</span>{demo}")

    def _may_show(self, view: pd.DataFrame, period_frame: pd.DataFrame) -> bool:
        """Whether the view is large enough to show, and so is what each filter leaves
        out of the larger view it is cut from (else subtracting the two would show a
        small group: cxlab.anonymity.may_show_part)."""
        whole = len(self.data.responses)
        checks = [(len(view), len(period_frame)), (len(period_frame), whole)]
        return all(may_show_part(part, of, self.min_group) for part, of in checks)

    def _show_too_few(self) -> None:
        data = self.data
        attribute = charts.item_label(data.definition, data.attribute or "", self.language)
        self._show_empty()
        self.empty.value = "<p>{}</p>".format(html.escape(
            words("too_few", self.language, n=self.min_group, attribute=attribute)))

    def _show_empty(self) -> None:
        data = self.data
        attribute = charts.item_label(data.definition, data.attribute or "", self.language)
        message = words("empty", self.language, attribute=attribute)
        self.figures = {}
        for output in self.outputs.values():
            output.outputs = ()
        self.empty.value = f"<p>{html.escape(message)}</p>"
        self.fix_first.value = self.download.value = self.segments_note.value = ""
        self.comments.value = self.groups.value = self.improvement.value = ""
        self.summaries.value = ""

    def _analyse(self, view: pd.DataFrame, period_frame: pd.DataFrame) -> None:
        data, language = self.data, self.language
        outcome, kind = data.outcome, data.definition.kind
        scale = self._scale()
        figures = {
            "headline": charts.nps_headline(analysis.nps(view[outcome]), language=language,
                                            kind=kind),
            "distribution": charts.score_distribution(view[outcome], language=language,
                                                      kind=kind),
        }
        span = view["submitted_at"].max() - view["submitted_at"].min()
        freq = "W" if span > pd.Timedelta(days=35) else "D"
        figures["trend"] = charts.nps_trend(analysis.trend(view, outcome, freq), language=language,
                                            kind=kind)
        self.groups.value = group_scores_html(view, data.definition, scale, self.min_group,
                                              language)
        self.fix_first.value = ""
        if data.items:
            try:
                driver_table = analysis.drivers(view, outcome, data.items, scale=scale,
                                                n_boot=DRIVER_BOOTSTRAP).table
                figures["drivers"] = charts.driver_map(driver_table, data.definition,
                                                       language=language)
                self.fix_first.value = self._fix_first_html(driver_table)
                self.improvement.value = improvement_html(view, data.outcome, data.items,
                                                          data.definition, language)
            except CxlabError as error:
                self.fix_first.value = html.escape(
                    words("drivers_unavailable", language, reason=str(error)))
            figures["ratings"] = charts.item_ratings(
                analysis.ratings(view, data.items, scale=scale), data.definition, language=language)
        self._segments(period_frame, figures)
        self.summaries.value = chart_summaries_html(
            {name: chart_summary(name, figure) for name, figure in figures.items()})
        self.figures = {name: figure_output(figure) for name, figure in figures.items()}
        self.empty.value = ""
        for name, output in self.outputs.items():
            # Set the widget's outputs directly rather than capturing display() calls:
            # the same code then works in Voila, under nbclient and in a doctest.
            output.outputs = (self.figures[name],) if name in self.figures else ()
        self._show_comments()

    def _scale(self) -> tuple[int, int]:
        if not self.data.items:
            return (1, 5)
        first = self.data.definition.question(self.data.items[0])
        return (first.scale_min, first.scale_max)

    def fix_first_items(self, table: pd.DataFrame | None = None) -> list[str]:
        """The labels of the "fix first" items of the current view, most urgent first."""
        if table is None:
            table = analysis.drivers(self.view, self.data.outcome, self.data.items,
                                     scale=self._scale(), n_boot=0).table
        rows = table[table["quadrant"] == "fix first"].sort_values("priority_rank")
        return [charts.item_label(self.data.definition, item, self.language)
                for item in rows["item"]]

    def _fix_first_html(self, table: pd.DataFrame) -> str:
        items = self.fix_first_items(table)
        if not items:
            return f"<p>{words('no_fix', self.language)}</p>"
        listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        fix_first = words("fix_first", self.language, self.data.definition.kind)
        return f"<p><b>{fix_first}</b></p><ol>{listed}</ol>"

    def _segments(self, period_frame: pd.DataFrame, figures: dict) -> None:
        self.download.value = self.segments_note.value = ""
        if self.data.attribute is None:
            return
        figures["segments"], self.download.value, self.segments_note.value = segment_section(
            period_frame, self.data, self.min_group, self.language)

    def _show_comments(self) -> None:
        self.comments.value = comments_html(self.view, self.data.definition, self.data.outcome,
                                            self.comment_filter.value, self.language)
