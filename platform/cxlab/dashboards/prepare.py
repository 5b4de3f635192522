"""Dashboard work done ahead of a viewer: the opening views the sync saves, and the
warm-up a pooled kernel runs (:mod:`cxlab.dashboards.kernels`).
"""

from __future__ import annotations

from cxlab import charts
from cxlab.config import Config
from cxlab.dashboards import images as chart_images
from cxlab.dashboards.data import DashboardData, load_dashboard_data, newest_comments
from cxlab.dashboards.sections import comments_html
from cxlab.dashboards.snapshots import (
    opening_view,
    partition_version,
    read_snapshot,
    write_snapshot,
)
from cxlab.dashboards.view import compute_view, segment_values, snapshot_content
from cxlab.dashboards.widget import Dashboard
from cxlab.store import Store


def refresh_snapshots(config: Config, tenant: str, survey: str) -> bool:
    """Make the opening view's snapshot (:mod:`cxlab.dashboards.snapshots`) of ``tenant``'s
    ``survey`` current in every language; True when one had to be computed.
    ``cxlab sync`` calls it for every partition it synced.

    >>> from cxlab.demo import demo_config
    >>> config = demo_config(responses=300)
    >>> [refresh_snapshots(config, "demo", "store-visit") for _ in range(2)]
    [True, False]
    """
    store = Store.of(config)
    version = partition_version(store, tenant, survey)

    def current(language: str) -> bool:
        saved = read_snapshot(store, tenant, survey, opening_view(language), version)
        # One saved by a dashboard on open has no chart images; the sync adds them.
        return bool(saved) and (not chart_images.images_enabled(language) or all(
            "image/png" in output["data"] for output in saved["figures"].values()))

    if all(current(language) for language in charts.LANGUAGES):
        return False
    data = load_dashboard_data(config, tenant, survey)
    segments = segment_values(data)
    for language in charts.LANGUAGES:
        # From the view itself, never by building widgets; with chart images where this
        # machine can render them.
        content = compute_view(data, "all", "", language)
        if not content.shown:  # too few answers: a page says so without a snapshot
            continue
        comments = ""
        if data.text_columns:
            comments = comments_html(newest_comments(data, data.responses, None), language)
        write_snapshot(store, tenant, survey, opening_view(language), data.version or version,
                       snapshot_content(content, comments, segments, images_language=language))
    return True


def warm_up(responses: int = 400) -> None:
    """Run the dashboard's code once on made-up answers, so a pooled kernel
    (:mod:`cxlab.dashboards.kernels`) has loaded every module, plotly template and lazily
    imported part of scipy before a client's request arrives. Touches no store, no
    database and no tenant's data; the widgets it builds are closed again.

    >>> warm_up(responses=60)
    """
    import cxlab.distribution  # noqa: F401 - imported by the response-rate section
    from cxlab.seed import generate_responses
    from cxlab.surveys import EXAMPLES_DIR, load_definition

    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    frame = generate_responses(definition, responses, seed=1)
    data = DashboardData(tenant="warm-up", survey=definition.slug, definition=definition,
                         answers=frame, as_of=None, load_seconds=0.0)
    board = Dashboard(data, language="ja")
    board.periods.value = "7d"  # the path a period change takes, too
    board.close()
