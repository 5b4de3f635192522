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

import ipywidgets as widgets
import pandas as pd

from cxlab import analysis, charts
from cxlab.dashboards.chart_widget import ChartWidget
from cxlab.dashboards.data import DashboardData, newest_comments, release_free_memory
from cxlab.dashboards.fragments import navigation_html, words
from cxlab.dashboards.rates import response_rate_html
from cxlab.dashboards.sections import RECENT_COMMENTS, comments_html
from cxlab.dashboards.snapshots import opening_view, read_snapshot, write_snapshot
from cxlab.dashboards.view import (
    LAYOUT_VERSION,
    PERIODS,
    SNAPSHOT_PARTS,
    DriverSections,
    ViewContent,
    compute_view,
    driver_sections,
    fix_first_items,
    scale_of,
    segment_values,
    select,
    snapshot_content,
    with_drivers,
)
from cxlab.surveys.definition import localize

__all__ = ["LAYOUT_VERSION", "PERIODS", "Dashboard"]

DRIVER_CACHE = 8  # views whose driver sections are kept while a page is open


class Dashboard:
    """The widgets of one tenant's dashboard over already loaded :class:`DashboardData`:
    each filter change computes a :class:`~cxlab.dashboards.view.ViewContent` and shows it."""

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
        # Whether the view on screen may be shown (large enough): a comment search must
        # not show the comments of a view withheld for anonymity.
        self._showing = False
        # Driver sections already computed, by (period, segment).
        self._drivers: dict[tuple[str, str], DriverSections] = {}
        self.periods = widgets.Dropdown(
            options=[(words(key, language), key) for key in PERIODS],
            # A period or segment it does not know opens the opening view instead.
            value=period if period in PERIODS else "all", description=words("period", language))
        values = self._opening["segments"] if self._opening else segment_values(data)
        attribute_label = charts.item_label(data.definition, data.attribute or "", language)
        self.segments = widgets.Dropdown(
            options=[(words("every", language), "")] + [
                (self._value_label(v), v) for v in values],
            value=segment if segment in values else "", description=attribute_label,
            disabled=not values)
        self.comment_filter = widgets.Text(placeholder=words("filter", language))
        self.charts = {name: ChartWidget().add_class("cx-chart").add_class(f"cx-{name}")
                       for name in self.SECTIONS}
        self.empty = widgets.HTML().add_class("cx-empty")
        self.comments = widgets.HTML().add_class("cx-comments")
        self.status = widgets.HTML().add_class("cx-status")
        self.nav = widgets.HTML(navigation_html(portal_url, language)).add_class("cx-nav")
        self.fix_first = widgets.HTML().add_class("cx-fix-first")
        self.kpis = widgets.HTML().add_class("cx-kpis")  # the cards the page opens with
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

    def close(self) -> None:
        """Close every widget (a dashboard built outside a page, e.g. in a test)."""
        for widget in (self.periods, self.segments, self.comment_filter, self.empty, self.nav,
                       self.kpis, self.groups, self.improvement, self.summaries,
                       self.comments, self.status, self.fix_first, self.download,
                       self.segments_note, self.response_rate, *self.charts.values()):
            widget.close()

    @property
    def widget(self) -> widgets.Widget:
        """The whole dashboard, ready to display."""
        controls = widgets.HBox([self.periods, self.segments]).add_class("cx-controls")
        out = self.charts
        return widgets.VBox([
            self.status, self.nav, controls, self.empty, self.kpis, out["headline"],
            out["trend"], out["distribution"], self.groups, self.fix_first, self.improvement,
            out["drivers"], out["ratings"], self.segments_note, out["segments"], self.download,
            self.response_rate, self.comment_filter, self.comments, self.summaries,
        ]).add_class("cx-dashboard")

    @property
    def view(self) -> pd.DataFrame:
        """The answers of the current period and segment."""
        if self._view is None:
            self._view = select(self.data, self.periods.value, self.segments.value).view
        return self._view

    @property
    def view_size(self) -> int:
        return len(self.view)

    def _changed(self, _change: object) -> None:
        self.render()

    def render(self) -> None:
        """Cut the loaded answers to the period and segment and redraw every section:
        the counted ones at once, then those that model the answers (kept per view)."""
        began = time.perf_counter()
        snapshot = self._snapshot_view()
        if snapshot and self._opening and self._opening["count"] >= self.min_group:
            self._view = None  # cut from the answers only when something needs it
            self._show_status(self._opening["count"])
            self._restore(self._opening)
        else:
            period, segment = self.periods.value, self.segments.value
            selection = select(self.data, period, segment)
            self._view = selection.view
            self._show_status(len(self.data.responses))
            content = compute_view(self.data, period, segment, self.language, drivers=False,
                                   selection=selection)
            self._show(content)
            if content.shown:
                self._show_comments()
                content = with_drivers(content, self._driver_sections(selection.view))
                self._show(content)
                if snapshot:
                    self._save(snapshot, content)
        self.timings["analysis"] = time.perf_counter() - began
        release_free_memory()
        # Read by benchmarks/dashboard.py to split the time to a rendered page.
        self.status.value += (f'<span class="cx-timings" hidden'
                              f' data-load="{self.timings["load"]:.3f}"'
                              f' data-analysis="{self.timings["analysis"]:.3f}"></span>')

    def _driver_sections(self, view: pd.DataFrame) -> DriverSections:
        """The driver sections of the current view, computed once per period and segment
        while the page is open (a million answers take about a second; going back to a
        view costs nothing)."""
        key = (self.periods.value, self.segments.value)
        if key not in self._drivers:
            if len(self._drivers) >= DRIVER_CACHE:
                self._drivers.pop(next(iter(self._drivers)))
            self._drivers[key] = driver_sections(self.data, view, self.language)
        return self._drivers[key]

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

    def _show(self, content: ViewContent) -> None:
        """Put ``content`` on screen: its sections, or only its message."""
        self._showing = content.shown
        # The KPI cards first: each widget update is a message of its own, and the
        # browser draws the charts one after another as theirs arrive.
        self.kpis.value = content.kpis
        self._show_charts(content.figures)
        self.empty.value = content.message
        self.groups.value = content.groups
        self.fix_first.value, self.improvement.value = content.fix_first, content.improvement
        self.download.value, self.segments_note.value = content.download, content.segments_note
        self.summaries.value = content.summaries
        if not content.shown:
            self.comments.value = ""

    def _restore(self, saved: dict) -> None:
        self._showing = True
        self.kpis.value = saved["kpis"]  # first, as in _show
        self._show_charts(saved["figures"])
        self.empty.value = ""
        self.fix_first.value, self.download.value = saved["fix_first"], saved["download"]
        self.segments_note.value, self.comments.value = saved["segments_note"], saved["comments"]
        self.groups.value, self.improvement.value = saved["groups"], saved["improvement"]
        self.summaries.value = saved["summaries"]

    def _show_charts(self, figures: dict[str, dict]) -> None:
        """Each section's chart (a display_data output) in its widget, updated in place."""
        self.figures = figures
        for name, chart in self.charts.items():
            chart.show(figures.get(name))

    def _save(self, view: str, content: ViewContent) -> None:
        saved = snapshot_content(content, self.comments.value, segment_values(self.data),
                                 images_language=self.language if self.snapshot_images else None)
        self._opening = saved
        try:
            write_snapshot(self.data.store, self.data.tenant, self.data.survey, view,
                           self.data.version, saved)
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

    def fix_first_items(self) -> list[str]:
        """The labels of the "fix first" items of the current view, most urgent first."""
        table = analysis.drivers(self.view, self.data.outcome, self.data.items,
                                 scale=scale_of(self.data), n_boot=0).table
        return fix_first_items(table, self.data, self.language)

    def _show_comments(self) -> None:
        if not self.data.text_columns or not self._showing:
            self.comments.value = ""
            return
        found = newest_comments(self.data, self.view, self.segments.value or None,
                                self.comment_filter.value, RECENT_COMMENTS)
        self.comments.value = comments_html(found, self.language)
