"""Dashboard work done ahead of a viewer: the opening views the sync saves, and the
warm-up a pooled kernel runs (:mod:`cxlab.dashboards.kernels`).
"""

from __future__ import annotations

from cxlab import charts
from cxlab.config import Config
from cxlab.dashboards import images as chart_images
from cxlab.dashboards.data import DashboardData, load_dashboard_data, newest_comments
from cxlab.dashboards.fragments import words
from cxlab.dashboards.rates import response_rate_html
from cxlab.dashboards.sections import comments_html
from cxlab.dashboards.snapshots import (
    STATIC_PAGE_LAYOUT,
    mark_organisation_changed,
    opening_view,
    partition_version,
    read_snapshot,
    segment_pages_view,
    static_page_view,
    write_snapshot,
)
from cxlab.dashboards.static_page import has_every_image, render_static_page
from cxlab.dashboards.view import (
    PERIODS,
    compute_view,
    segment_values,
    select,
    snapshot_content,
)
from cxlab.dashboards.widget import Dashboard
from cxlab.i18n import LANGUAGES
from cxlab.store import Store
from cxlab.surveys.definition import localize

NOTEBOOK = "overview.ipynb"  # the dashboard the static page's form opens live


def refresh_snapshots(config: Config, tenant: str, survey: str) -> bool:
    """Make the opening view's snapshot (:mod:`cxlab.dashboards.snapshots`) of ``tenant``'s
    ``survey`` current in every language, and its static page
    (:mod:`cxlab.dashboards.static_page`) — with one for each other period of
    ``config.dashboard_static_periods`` over every segment; True when one had to be
    made. Charts get still images where this machine can render them. ``cxlab sync``
    calls it for every partition it synced.

    >>> from cxlab.demo import demo_config
    >>> config = demo_config(responses=300)
    >>> [refresh_snapshots(config, "demo", "store-visit") for _ in range(2)]
    [True, False]
    """
    store = Store.of(config)
    version = partition_version(store, tenant, survey)
    periods = [period for period in PERIODS if period in config.dashboard_static_periods]

    def page_current(language: str, period: str, version: str) -> bool:
        page = read_snapshot(store, tenant, survey, static_page_view(language, period), version)
        if not page or page.get("layout") != STATIC_PAGE_LAYOUT:
            return False
        # A page drawn by plotly.js is redone once this machine can render the images.
        return (page.get("live") or page.get("images")
                or not chart_images.images_enabled(language, config.chart_images))

    def current(language: str) -> bool:
        saved = read_snapshot(store, tenant, survey, opening_view(language), version)
        if not saved:
            return False
        # One saved by a dashboard on open has no chart images; the sync adds them.
        if not has_every_image(saved) and chart_images.images_enabled(language,
                                                                      config.chart_images):
            return False
        return (all(page_current(language, period, version) for period in periods)
                and segment_pages_current(language, version))

    def segment_pages_current(language: str, version: str) -> bool:
        note = read_snapshot(store, tenant, survey, segment_pages_view(language), version)
        return bool(note) and note.get("layout") == STATIC_PAGE_LAYOUT and note.get(
            "limit") == config.dashboard_static_segments

    if all(current(language) for language in LANGUAGES):
        return False
    data = load_dashboard_data(config, tenant, survey)
    segments = largest_segments(data, config.dashboard_static_segments)
    segment_pages = bool(segments)
    for language in LANGUAGES:
        view = opening_view(language)
        saved = read_snapshot(store, tenant, survey, view, data.version)
        if saved is None:
            saved = opening_snapshot(data, language, config.chart_images)
            if saved is not None:
                write_snapshot(store, tenant, survey, view, data.version, saved)
        elif (not has_every_image(saved)
              and chart_images.images_enabled(language, config.chart_images)):
            # Saved by a dashboard opened before this sync: the same view, without images.
            saved = {**saved, "figures": chart_images.add_images(saved["figures"], language,
                                                                 config.chart_images)}
            write_snapshot(store, tenant, survey, view, data.version, saved)
        if saved:
            save_static_page(store, data, saved, language, static_periods=periods,
                             segment_pages=segment_pages)
            for period in periods[1:]:
                if not page_current(language, period, data.version):
                    save_period_page(store, data, period, language, config.chart_images,
                                     static_periods=periods, segment_pages=segment_pages)
            if not segment_pages_current(language, data.version):
                save_segment_pages(store, data, language, segments,
                                   config.dashboard_static_segments, static_periods=periods)
    return True


def refresh_after_organisation_change(config: Config, tenant: str) -> int:
    """After ``tenant``'s organisation tree changed (``cxlab org load``): mark every
    snapshot and static page of the tenant stale (their segment tables roll answers up
    into the tree's units), then make them again; the number of surveys refreshed."""
    store = Store.of(config)
    surveys = store.surveys(tenant)
    if not surveys:
        return 0  # nothing synced yet: the first sync makes them
    mark_organisation_changed(store, tenant)
    return sum(refresh_snapshots(config, tenant, survey) for survey in surveys)


def largest_segments(data: DashboardData, limit: int) -> list[str]:
    """The ``limit`` values of the survey's first attribute with the most answers.

    >>> from cxlab.demo import demo_config
    >>> data = load_dashboard_data(demo_config(responses=300), "demo", "store-visit")
    >>> largest_segments(data, 2) == list(data.responses["store"].value_counts().index[:2])
    True
    """
    if data.attribute is None or limit <= 0:
        return []
    counts = data.responses[data.attribute].value_counts(sort=True)
    return [str(value) for value, count in counts.items() if count > 0][:limit]


def save_segment_pages(store: Store, data: DashboardData, language: str,
                       segments: list[str], limit: int, *,
                       static_periods: list[str] | None = None) -> None:
    """The static page of the whole period for each of ``segments`` (the ``limit``
    largest: :func:`largest_segments`) in ``language``, then the note that lists them.
    A segment whose view may not be shown (fewer answers than ``min_group``) gets a
    note without a page and opens live, where the dashboard says why. No chart images:
    plotly.js draws these pages' charts in the browser, so a chain's hundred stores
    cost the sync their analysis only."""
    for segment in segments:
        selection = select(data, "all", segment)
        content = compute_view(data, "all", segment, language, selection=selection)
        if not content.shown:
            write_snapshot(store, data.tenant, data.survey,
                           static_page_view(language, "all", segment), data.version,
                           {"layout": STATIC_PAGE_LAYOUT, "live": True})
            continue
        comments = ""
        if data.text_columns:
            comments = comments_html(newest_comments(data, selection.view, segment), language)
        saved = snapshot_content(content, comments, segment_values(data))
        save_static_page(store, data, saved, language, segment=segment,
                         static_periods=static_periods, segment_pages=True)
    write_snapshot(store, data.tenant, data.survey, segment_pages_view(language), data.version,
                   {"layout": STATIC_PAGE_LAYOUT, "limit": limit, "segments": segments})


def save_period_page(store: Store, data: DashboardData, period: str, language: str,
                     image_setting: str = "auto", *, static_periods: list[str] | None = None,
                     segment_pages: bool = False) -> None:
    """The static page of ``period`` over every segment in ``language``, when the view
    may be shown; otherwise a note without a page, so the next sync does not try again:
    that period opens live, where the dashboard says why nothing is shown."""
    selection = select(data, period, "")
    content = compute_view(data, period, "", language, selection=selection)
    if content.shown:
        comments = ""
        if data.text_columns:
            comments = comments_html(newest_comments(data, selection.view, None), language)
        saved = snapshot_content(content, comments, segment_values(data),
                                 images_language=language, image_setting=image_setting)
        save_static_page(store, data, saved, language, period, static_periods=static_periods,
                         segment_pages=segment_pages)
        return
    write_snapshot(store, data.tenant, data.survey, static_page_view(language, period),
                   data.version, {"layout": STATIC_PAGE_LAYOUT, "live": True})


def opening_snapshot(data: DashboardData, language: str,
                     image_setting: str = "auto") -> dict | None:
    """The opening view's snapshot content in ``language``, computed from the view itself
    (never by building widgets), with chart images where this machine can render them
    and ``image_setting`` (the configuration's ``chart_images``) allows;
    None when the survey has too few answers to show (a page then says so)."""
    content = compute_view(data, "all", "", language)
    if not content.shown:
        return None
    comments = ""
    if data.text_columns:
        comments = comments_html(newest_comments(data, data.responses, None), language)
    return snapshot_content(content, comments, segment_values(data), images_language=language,
                            image_setting=image_setting)


def save_static_page(store: Store, data: DashboardData, content: dict, language: str,
                     period: str = "all", *, segment: str = "",
                     static_periods: list[str] | None = None,
                     segment_pages: bool = False) -> None:
    """Render the snapshot ``content`` of ``period`` over every segment (the opening
    view by default) or over ``segment`` as a static page in ``language`` and keep it
    beside the snapshot, under the same version. ``segment_pages``: whether the sync
    makes pages of the segments' own (the page's note then says what opens live)."""
    definition = data.definition
    attribute = definition.attribute(data.attribute or "")
    segments = [(code, attribute.value_label(code, language) if attribute else code)
                for code in content.get("segments", [])]
    stamp = data.as_of.strftime("%Y-%m-%d %H:%M UTC") if data.as_of else "—"
    rates = response_rate_html(data.response_rates, definition, language)
    page = render_static_page(
        {**content, "response_rate": rates}, language=language,
        title=localize(definition.title, language),
        as_of=words("as_of", language, time=stamp, n=content.get("count", 0)),
        notebook=NOTEBOOK, periods=list(PERIODS), segments=segments, period=period,
        segment=segment, every_period_static=set(static_periods or [period]) >= set(PERIODS),
        segment_pages=segment_pages,
        attribute_label=charts.item_label(definition, data.attribute or "", language))
    write_snapshot(store, data.tenant, data.survey, static_page_view(language, period, segment),
                   data.version,
                   {"html": page, "layout": STATIC_PAGE_LAYOUT, "periods": list(PERIODS),
                    "images": has_every_image(content),
                    "segments": [code for code, _ in segments]})


def warm_up(responses: int = 400) -> None:
    """Run the dashboard's code once on made-up answers, so a pooled kernel
    (:mod:`cxlab.dashboards.kernels`) has loaded every module, plotly template and lazily
    imported part of scipy before a client's request arrives. Touches no store, no
    database and no tenant's data; the widgets it builds are closed again.

    >>> warm_up(responses=60)
    """
    import cxlab.distribution.rates  # noqa: F401 - imported by the response-rate section
    from cxlab.seed import generate_responses
    from cxlab.surveys import EXAMPLES_DIR, load_definition

    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    frame = generate_responses(definition, responses, seed=1)
    data = DashboardData(tenant="warm-up", survey=definition.slug, definition=definition,
                         answers=frame, as_of=None, load_seconds=0.0)
    board = Dashboard(data, language="ja")
    board.periods.value = "7d"  # the path a period change takes, too
    board.close()
