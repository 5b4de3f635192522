"""A client's view in headless Chromium: open the dashboard with a fresh token, wait for
the driver chart, change the period, see the figures change. Screenshots go to docs/img/ with
CXLAB_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import free_port, require, require_program, stop_process
from cxlab.config import Config
from cxlab.dashboards.hook import spawn_dashboards
from cxlab.dashboards.images import images_enabled
from cxlab.dashboards.prepare import refresh_snapshots
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.demo import seed_store
from playwright.sync_api import expect, sync_playwright

SECRET = "dashboard-browser-secret-" + "z" * 24
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TREND_POINTS = "document.querySelector('.cx-trend .js-plotly-plot').data[1].x.length"
HEADLINE = "document.querySelector('.cx-headline .js-plotly-plot').data[0].value"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, int]]:
    var_dir = tmp_path_factory.mktemp("browser") / "var"
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET}
    config = Config.from_environ(environ)
    # sakura as synced by seed_store (no snapshot: the dashboard analyses on open);
    # ume as `cxlab sync` leaves it, with the opening view and its chart images saved.
    seed_store(config, {"sakura": 4000, "ume": 1500})
    if images_enabled("en"):
        refresh_snapshots(config, "ume", "store-visit")
    port = free_port()
    process = spawn_dashboards({**os.environ, **environ}, port=port)
    yield config, port
    stop_process(process)


def url(server: tuple[Config, int], tenant: str) -> str:
    token = DashboardTokens(SECRET).issue(tenant, f"ana@{tenant}.example", "overview.ipynb",
                                          survey="store-visit")
    # English: the screenshots go in the docs. live=1 asks for the live (Voila) page
    # even where the sync rendered the static one (tests/test_dashboards_static.py).
    return (f"http://127.0.0.1:{server[1]}/voila/render/overview.ipynb?token={token}"
            "&language=en&period=all&live=1")

# Voila streams the page while the notebook runs: "load" fires only at its end, which on
# a loaded 2-core machine can take longer than Playwright's 30 s default. Wait for the
# response to start; each test then waits for what it checks with its own deadline.
NAVIGATION = {"wait_until": "commit", "timeout": 120_000}


@pytest.fixture(scope="module")
def dashboard_url(server: tuple[Config, int]) -> str:
    return url(server, "sakura")


def test_dashboard_renders_and_the_period_control_redraws(dashboard_url, screenshot_dir):
    chromium = require_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 2400})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(dashboard_url, **NAVIGATION)
        driver_chart = page.locator(".cx-drivers .js-plotly-plot")
        expect(driver_chart).to_be_visible(timeout=60_000)
        # The "fix first" points carry their item's label on the chart and in words.
        expect(page.locator(".cx-fix-first li").first).to_have_text("Waiting time for your food")
        expect(page.locator(".cx-as-of")).to_contain_text("4,000")
        expect(page.locator(".cx-download a")).to_have_attribute(
            "download", "sakura-store-visit-store.csv")
        weeks = page.evaluate(TREND_POINTS)
        headline = page.evaluate(HEADLINE)
        assert weeks >= 12  # 90 days of answers by week
        page.screenshot(path=str(screenshot_dir / "dashboard.png"), full_page=True)

        page.evaluate("window.cxTrend = document.querySelector('.cx-trend .js-plotly-plot')")
        page.locator(".cx-controls select").first.select_option(label="Last 7 days")
        # Seven days by day: the trend redraws with daily points and a new headline.
        page.wait_for_function(f"{TREND_POINTS} !== {weeks}", timeout=30_000)
        assert 6 <= page.evaluate(TREND_POINTS) <= 8
        # Updated in place (cxlab.dashboards.chart_widget), not a new plot per change.
        assert page.evaluate(
            "document.querySelector('.cx-trend .js-plotly-plot') === window.cxTrend")
        assert page.evaluate(HEADLINE) != headline
        expect(driver_chart).to_be_visible()
        page.screenshot(path=str(screenshot_dir / "dashboard-7-days.png"), full_page=True)

        # A week is too short for the smallest store: its NPS is withheld, not shown.
        expect(page.locator(".cx-segments")).to_contain_text("too few answers")
        page.locator(".cx-controls select").nth(1).select_option(label="Shibuya")  # shibuya-01
        page.wait_for_function(f"{HEADLINE} !== {page.evaluate(HEADLINE)}", timeout=30_000)
        assert errors == []
        browser.close()


def test_opening_view_shows_chart_images_that_turn_interactive(server):
    chromium = require_program("chromium")
    require(images_enabled("en"), "chart images need kaleido and Chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 2400})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url(server, "ume"), **NAVIGATION)
        for section in ("headline", "trend", "distribution", "drivers", "ratings", "segments"):
            expect(page.locator(f".cx-{section} img.plot-img")).to_be_visible(timeout=60_000)
        expect(page.locator(".cx-as-of")).to_contain_text("1,500")
        expect(page.locator(".cx-drivers .js-plotly-plot")).to_have_count(0)
        # Each image says in words what it shows (cxlab's Voila template sets the alt).
        expect(page.locator(".cx-headline img.plot-img")).to_have_attribute(
            "alt", re.compile(r"^NPS [+-]\d+\.\d \(95% interval .* answers\)$"))
        for section in ("trend", "distribution", "drivers", "ratings", "segments"):
            expect(page.locator(f".cx-{section} img.plot-img")).to_have_attribute(
                "alt", re.compile(r"\w"))
        assert page.evaluate("document.documentElement.lang") == "en"
        report = Axe().run(page)  # WCAG 2.1 AA and best practices, axe-core bundled
        assert report.violations_count == 0, report.generate_report()
        # The pointer on a chart swaps in the interactive plotly chart.
        page.locator(".cx-drivers img.plot-img").hover(force=True)  # it hides as it swaps
        expect(page.locator(".cx-drivers .js-plotly-plot")).to_be_visible(timeout=30_000)
        expect(page.locator(".cx-drivers img.plot-img")).to_be_hidden()
        # Another period is analysed live and drawn by plotly.js straight away.
        page.locator(".cx-controls select").first.select_option(label="Last 7 days")
        expect(page.locator(".cx-trend .js-plotly-plot")).to_be_visible(timeout=30_000)
        assert errors == []
        browser.close()


def test_the_server_hands_out_plotly_js_and_nothing_else_of_its_folder(server):
    """The chart widgets load plotly.js from the dashboard server, once a day at most;
    the route gives out that one file, not its neighbours in the plotly package."""
    base = f"http://127.0.0.1:{server[1]}/voila/cxlab"
    with urllib.request.urlopen(f"{base}/plotly.min.js", timeout=60) as reply:
        assert reply.headers["Cache-Control"] == "public, max-age=86400"
        assert b"plotly.js" in reply.read(2000)
    for neighbour in ("widgetbundle.js", "templates/plotly.json", "../__init__.py"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/{neighbour}", timeout=60)
        assert refused.value.code == 404, neighbour


ENGLISH_CHART_WORDS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Period|Answers|Score|interval)\b")


def test_on_a_phone_in_japanese_the_page_fits_and_speaks_one_language(server, screenshot_dir):
    """390 px wide (a store manager's phone): the headline NPS comes first and is on
    screen, no chart or control is wider than the screen, and no chart says a word
    of English."""
    chromium = require_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(url(server, "sakura").replace("language=en", "language=ja"), **NAVIGATION)
        expect(page.locator(".cx-drivers .js-plotly-plot")).to_be_visible(timeout=90_000)
        headline = page.locator(".cx-headline .js-plotly-plot")
        expect(headline).to_be_in_viewport()
        assert page.evaluate("document.documentElement.lang") == "ja"
        report = Axe().run(page)
        assert report.violations_count == 0, report.generate_report()
        too_wide = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.cx-dashboard .js-plotly-plot, .cx-controls .widget-dropdown, .cx-nav'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.className.toString().slice(0, 60))""")
        assert too_wide == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        chart_text = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.cx-dashboard .js-plotly-plot text')).map(t => t.textContent).join(' | ')""")
        assert "NPS" in chart_text and "期間" in chart_text
        assert not ENGLISH_CHART_WORDS.search(chart_text), ENGLISH_CHART_WORDS.findall(chart_text)
        page.screenshot(path=str(screenshot_dir / "dashboard-phone.png"))
        browser.close()
