"""The dashboards' opening-view snapshots: written by the sync, used only while the data
they came from is unchanged, and only by their own tenant's dashboard."""

from __future__ import annotations

import base64
import json
import logging
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import require
from cxlab.cli.store import sync_command
from cxlab.config import Config, ConfigError
from cxlab.dashboards import images as chart_images
from cxlab.dashboards.data import load_dashboard_data
from cxlab.dashboards.images import PLOTLY_MIMETYPE
from cxlab.dashboards.prepare import refresh_snapshots
from cxlab.dashboards.snapshots import partition_version, read_snapshot, write_snapshot
from cxlab.dashboards.view import segment_values
from cxlab.dashboards.widget import LAYOUT_VERSION, Dashboard
from cxlab.db.models import Response, Tenant
from cxlab.demo import seed_store
from cxlab.seed import seed_responses
from cxlab.store import Store, StoreNotFound, erase_responses, sync
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import get_tenant
from sqlalchemy import select

SURVEY = "store-visit"
POISON = "<p>planted snapshot</p>"


@pytest.fixture
def seeded(config, database):
    seed_store(config, {"acme": 400, "beta": 250})
    return config


def plant(config, tenant: str, layout: int = LAYOUT_VERSION) -> None:
    """A snapshot of ``tenant``'s current data whose comments say POISON."""
    store = Store.of(config)
    version = partition_version(store, tenant, SURVEY)
    board = Dashboard(load_dashboard_data(config, tenant, SURVEY), language="ja")
    content = {"figures": board.figures, "fix_first": "", "download": "",
               "segments_note": "", "comments": POISON, "count": len(board.data.responses),
               "segments": segment_values(board.data), "groups": "", "improvement": "",
               "summaries": "", "kpis": "",
               "layout": layout}
    write_snapshot(store, tenant, SURVEY, "all-every-ja", version, content)


def opening_comments(config, tenant: str) -> str:
    return Dashboard(load_dashboard_data(config, tenant, SURVEY), language="ja").comments.value


def test_sync_writes_the_opening_view_in_every_language(seeded, capsys):
    assert sync_command(seeded) == 0
    assert "refreshed the opening view of 2 dashboard(s)" in capsys.readouterr().out
    partition = Path(Store.of(seeded).partition("acme", SURVEY))
    # The opening view's snapshot per language, its static page (cxlab.dashboards.
    # static_page) and the note of which segments got pages (none: the tests' settings).
    assert sorted(p.name for p in partition.glob("_dashboard-*")) == sorted(
        f"_dashboard-{view}-{language}.json" for language in ("en", "ja")
        for view in ("all-every", "page-all", "segment-pages"))
    assert sync_command(seeded) == 0  # nothing changed: nothing recomputed
    assert "refreshed" not in capsys.readouterr().out


def test_snapshot_shows_exactly_what_the_analysis_shows(seeded):
    assert refresh_snapshots(seeded, "acme", SURVEY)
    data = load_dashboard_data(seeded, "acme", SURVEY)
    restored = Dashboard(data, language="en")
    saved = read_snapshot(Store.of(seeded), "acme", SURVEY, "all-every-en", data.version)
    assert saved and restored.figures == saved["figures"]  # shown from the snapshot
    data.version = None  # no snapshot: analyse
    analysed = Dashboard(data, language="en")
    assert sorted(restored.figures) == sorted(analysed.figures)
    for name, output in restored.figures.items():
        # The same chart; the snapshot may add its still image (cxlab.dashboards.images).
        charted = output["data"][PLOTLY_MIMETYPE]
        assert json.dumps(charted, sort_keys=True) == json.dumps(
            analysed.figures[name]["data"][PLOTLY_MIMETYPE], sort_keys=True)
    for part in ("fix_first", "download", "segments_note", "comments"):
        assert getattr(restored, part).value == getattr(analysed, part).value
    assert "<li>" in restored.fix_first.value


def test_a_matching_snapshot_is_used(seeded):
    plant(seeded, "acme")
    assert opening_comments(seeded, "acme") == POISON
    # A snapshot of an older layout (e.g. from before small groups were suppressed) is
    # recomputed, never shown.
    plant(seeded, "acme", layout=LAYOUT_VERSION - 1)
    assert opening_comments(seeded, "acme") != POISON


def test_new_answers_make_the_snapshot_stale(seeded, database):
    plant(seeded, "acme")
    with database.session() as session:
        survey = get_survey(session, get_tenant(session, "acme"), SURVEY)
    seed_responses(database, survey, load_definition(EXAMPLES_DIR / "restaurant_visit.yaml"), 5,
              seed=7)
    sync(database, seeded, progress=False)
    assert opening_comments(seeded, "acme") != POISON


def test_an_erasure_makes_the_snapshot_stale(seeded, database):
    plant(seeded, "acme")
    with database.session() as session:
        first = session.scalars(select(Response.id).join(Tenant).where(
            Tenant.slug == "acme").order_by(Response.id.desc()).limit(1)).one()
    assert erase_responses(database, seeded, "acme", [first]) == 1
    assert opening_comments(seeded, "acme") != POISON


def test_another_tenants_snapshot_is_never_shown(seeded):
    plant(seeded, "acme")
    comments = opening_comments(seeded, "beta")
    assert comments != POISON and comments.startswith("<h3>")
    store = Store.of(seeded)
    beta_version = partition_version(store, "beta", SURVEY)
    assert read_snapshot(store, "acme", SURVEY, "all-every-ja", beta_version) is None


def test_filtered_views_are_analysed_not_restored(seeded):
    plant(seeded, "acme")
    board = Dashboard(load_dashboard_data(seeded, "acme", SURVEY), language="ja")
    board.periods.value = "7d"
    assert board.comments.value != POISON
    board.periods.value = "all"
    assert board.comments.value == POISON
    board.comment_filter.value = "味"
    assert board.comments.value != POISON


def test_snapshot_names_cannot_leave_the_partition(seeded):
    store = Store.of(seeded)
    with pytest.raises(ValueError):
        write_snapshot(store, "acme", SURVEY, "../../tenant=beta/x", "v", {})
    with pytest.raises(StoreNotFound):
        write_snapshot(store, "../beta", SURVEY, "all-every-ja", "v", {})


def test_opening_view_does_not_wait_for_the_answers(seeded):
    refresh_snapshots(seeded, "acme", SURVEY)
    loaded = load_dashboard_data(seeded, "acme", SURVEY)
    pending: Future = Future()  # answers still being read
    data = replace(loaded, answers=pending)
    board = Dashboard(data, language="ja")  # would block forever if it needed them
    assert "400" in board.status.value and board.charts["drivers"].figure
    assert not pending.done()
    pending.set_result(loaded.responses)
    board.periods.value = "7d"  # now the answers are used
    assert 0 < board.view_size < 400


def test_background_load_gives_the_same_answers(seeded):
    now = load_dashboard_data(seeded, "acme", SURVEY)
    later = load_dashboard_data(seeded, "acme", SURVEY, background=True)
    assert later.responses.equals(now.responses)


def test_sync_adds_a_still_image_of_every_chart(seeded):
    require(chart_images.images_enabled("ja") and chart_images.images_enabled("en"),
            "chart images need kaleido, Chromium and a Japanese font (fonts-noto-cjk)")
    assert refresh_snapshots(seeded, "acme", SURVEY)
    store = Store.of(seeded)
    version = partition_version(store, "acme", SURVEY)
    for language in ("ja", "en"):
        saved = read_snapshot(store, "acme", SURVEY, f"all-every-{language}", version)
        for output in saved["figures"].values():
            png = base64.b64decode(output["data"]["image/png"])
            assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_snapshot_without_images_is_completed_by_the_next_sync(seeded):
    require(chart_images.images_enabled("en"), "chart images need kaleido and Chromium")
    without_images = replace(seeded, chart_images="off")
    assert refresh_snapshots(without_images, "acme", SURVEY)  # e.g. saved by a dashboard
    assert not refresh_snapshots(without_images, "acme", SURVEY)
    assert refresh_snapshots(seeded, "acme", SURVEY)


def test_images_can_be_turned_off_and_bad_settings_are_named(tmp_path):
    assert not chart_images.images_enabled("en", setting="off")
    environ = {"CXLAB_VAR_DIR": str(tmp_path), "CXLAB_SECRET_KEY": "k" * 40}
    assert Config.from_environ({**environ, "CXLAB_CHART_IMAGES": "OFF"}).chart_images == "off"
    with pytest.raises(ConfigError, match="CXLAB_CHART_IMAGES: must be one of auto, off"):
        Config.from_environ({**environ, "CXLAB_CHART_IMAGES": "sometimes"})


def test_a_renderer_failure_leaves_the_snapshot_without_images(seeded, monkeypatch):
    def broken(_figure):
        raise RuntimeError("Chromium crashed")

    require(chart_images.images_enabled("en"), "chart images need kaleido and Chromium")
    monkeypatch.setattr(chart_images, "png_base64", broken)
    monkeypatch.setattr(chart_images, "_broken", None)  # restored after the test
    with pytest.warns(UserWarning, match="chart images skipped.*Chromium crashed"):
        assert refresh_snapshots(seeded, "acme", SURVEY)
    store = Store.of(seeded)
    saved = read_snapshot(store, "acme", SURVEY, "all-every-en",
                          partition_version(store, "acme", SURVEY))
    assert saved and all("image/png" not in o["data"] for o in saved["figures"].values())
    # Not retried by every later sync of this process: the snapshot counts as current.
    assert not chart_images.images_enabled("en")
    assert not refresh_snapshots(seeded, "acme", SURVEY)


def test_chromium_farewell_is_not_logged_as_a_crash(caplog):
    """CI once failed `cxlab demo` on stderr holding a traceback: choreographer logged
    Chromium's closing ``{bye}`` as undecodable JSON. Only that message is dropped."""
    from choreographer.channels import _wire
    from choreographer.channels._errors import JSONError
    from cxlab.dashboards.images import ChromiumFarewellFilter

    logger = logging.getLogger("choreographer.channels.pipe")
    farewell_filter = ChromiumFarewellFilter()
    logger.addFilter(farewell_filter)
    try:
        for message in ("{bye}\n", '{"id": 1, "res'):
            try:
                _wire.deserialize(message)
            except JSONError:
                logger.exception("JSONError decoding message. Ignoring")
    finally:
        logger.removeFilter(farewell_filter)
    logged = [record.exc_info[1].__cause__.doc for record in caplog.records]
    assert logged == ['{"id": 1, "res']
