"""The static opening page (cxlab.dashboards.static_page): a real Voila
(``cxlab serve dashboards``) on 127.0.0.1 answers a valid token for the
opening view with the page the sync rendered — no kernel starts — and its form opens
the live dashboard with a fresh single-use token; kernels are counted as the server's
child processes. Screenshots go to docs/img/ with CXLAB_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import http.client
import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlencode

import pandas as pd
import psutil
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import free_port, require, require_program
from cxlab.config import Config
from cxlab.dashboards.hook import spawn_dashboards
from cxlab.dashboards.images import images_enabled
from cxlab.dashboards.prepare import refresh_snapshots
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.db import Database
from cxlab.demo import seed_store
from cxlab.seed import seed_responses
from cxlab.store import load_responses, sync
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import get_tenant
from playwright.sync_api import expect, sync_playwright
from test_dashboards_kernels import kernel_ids, wait_for

SECRET = "dashboard-static-secret-" + "s" * 24
SURVEY = "store-visit"
# Distinct sizes: a page says whose data it shows. "tiny" has stores of 1–4 answers;
# "stale" gets new answers after its page was rendered; "staff" has an EX survey only.
TENANTS = {"alpha": 2000, "beta": 900, "tiny": 30, "stale": 600}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ENGLISH_WORDS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Period|Answers|Score|interval|"
    r"NPS by|Trend|Drivers?)\b")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Config, int, psutil.Process]]:
    require(images_enabled("en") and images_enabled("ja"),
            "the static page needs chart images (kaleido, Chromium, a Japanese font)")
    var_dir = tmp_path_factory.mktemp("static") / "var"
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
               "CXLAB_DASHBOARD_WARM_KERNELS": "1", "CXLAB_DASHBOARD_CONNECT_TIMEOUT": "20",
               "CXLAB_DASHBOARD_STATIC_PERIODS": "all,7d", "CXLAB_DASHBOARD_STATIC_SEGMENTS": "3"}
    config = Config.from_environ(environ)
    seed_store(config, TENANTS)
    seed_store(config, {"staff": 300}, survey_file="employee_engagement.yaml")
    for tenant in TENANTS:
        refresh_snapshots(config, tenant, SURVEY)
    # "plain" as a machine that renders no chart images leaves it: plotly.js draws them.
    seed_store(config, {"plain": 700})
    refresh_snapshots(replace(config, chart_images="off"), "plain", SURVEY)
    port = free_port()
    process = spawn_dashboards({**os.environ, **environ}, port=port)
    voila = psutil.Process(process.pid)
    wait_for(lambda: len(kernel_ids(voila)) >= 1, 120, "the warm kernel did not start")
    yield config, port, voila
    process.terminate()
    process.wait(timeout=10)


def token(tenant: str, survey: str = SURVEY) -> str:
    return DashboardTokens(SECRET).issue(tenant, f"ana@{tenant}.example", "overview.ipynb",
                                         survey=survey)


def get(port: int, query: dict[str, str], language: str = "en") -> tuple[int, str, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", "/voila/render/overview.ipynb?" + urlencode(query),
                       headers={"Accept-Language": language})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    headers = {name.lower(): value for name, value in response.getheaders()}
    connection.close()
    return response.status, body, headers


def is_static(body: str) -> bool:
    return 'class="cx-dashboard cx-static"' in body and "kernelId" not in body


def live_token(body: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', body).group(1)


def test_the_opening_view_is_served_without_a_kernel(server):
    _config, port, voila = server
    before = kernel_ids(voila)
    status, body, headers = get(port, {"token": token("alpha"), "language": "en"})
    assert status == 200 and is_static(body)
    assert "2,000 answers" in body
    # Every chart as its still image, each said in words.
    images = re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]*)"', body)
    assert len(images) == 6 and all(images)
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "img-src data:" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    time.sleep(3)  # a kernel started for the page would show up by now
    assert kernel_ids(voila) == before


def test_without_images_the_static_page_has_plotly_draw_its_charts(server):
    """Charts without a still image travel as figures that plotly.js, loaded from the
    dashboard server (nothing inline, nothing from elsewhere), draws as the page opens."""
    _config, port, voila = server
    before = kernel_ids(voila)
    status, body, headers = get(port, {"token": token("plain"), "language": "en"})
    assert status == 200 and is_static(body) and "700 answers" in body
    assert "data:image/png" not in body
    plots = re.findall(r'<div class="cx-plot" role="img" aria-label="([^"]*)"', body)
    assert len(plots) == 6 and all(plots)
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1]
    chromium = require_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 2400})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" else None)
        page.goto(f"http://127.0.0.1:{port}/voila/render/overview.ipynb?"
                  + urlencode({"token": token("plain"), "language": "en"}), timeout=120_000)
        expect(page.locator(".cx-plot.js-plotly-plot")).to_have_count(6, timeout=60_000)
        assert page.evaluate("document.querySelector('.cx-headline .js-plotly-plot')"
                             ".data[0].value") is not None
        assert problems == []
        browser.close()
    assert kernel_ids(voila) == before


def test_a_token_opens_the_static_page_once(server):
    _config, port, _voila = server
    opening = token("beta")
    status, body, _ = get(port, {"token": opening})
    assert status == 200 and is_static(body) and "900 answers" in body
    status, body, _ = get(port, {"token": opening})
    assert status == 403 and "This link has been used" in body and "cx-static" not in body


@pytest.mark.parametrize("forged", ["", "garbage", token("alpha")[:-3] + "AAA",
                                    DashboardTokens("another key " * 4).issue(
                                        "alpha", "eve", "overview.ipynb", survey=SURVEY)])
def test_a_forged_token_gets_no_static_page(server, forged):
    _config, port, _voila = server
    status, body, _ = get(port, {"token": forged})
    assert status == 403 and "cx-static" not in body and "data:image/png" not in body


def test_a_token_cannot_reach_another_tenants_page(server):
    """alpha's token asking for beta's data in the query gets alpha's page; alpha's token
    naming the survey only "staff" has gets no page of staff's."""
    _config, port, _voila = server
    status, body, _ = get(port, {"token": token("alpha"), "tenant": "beta", "language": "en"})
    assert status == 200 and is_static(body) and "2,000 answers" in body
    status, body, _ = get(port, {"token": token("alpha", "engagement"),
                                 "tenant": "staff", "language": "en"})
    # No page of staff's: the live dashboard of alpha's (absent) survey, which says so.
    assert status == 200 and "kernelId" in body and "cx-static" not in body
    assert "300 answers" not in body and "data:image/png" not in body


def test_the_live_token_of_a_static_page_opens_one_live_page(server):
    _config, port, voila = server
    _status, body, _ = get(port, {"token": token("alpha")})
    query = {"token": live_token(body), "period": "7d", "segment": "shibuya-01"}
    status, live, _ = get(port, query)
    assert status == 200 and "kernelId" in live and "cx-static" not in live
    status, replay, _ = get(port, query)
    assert status == 403 and "This link has been used" in replay
    kernel = re.findall(r'"kernelId": "([0-9a-f-]{36})"', live)[0]
    wait_for(lambda: kernel not in kernel_ids(voila), 200, "the unopened live page's kernel runs")


def test_a_period_over_every_store_is_a_static_page_too(server):
    """The sync rendered "last 7 days" (CXLAB_DASHBOARD_STATIC_PERIODS=all,7d): choosing
    it on the static page gets its page, with its own figures, and no kernel; a period it
    did not render, a store, or live=1 opens the live dashboard."""
    config, port, voila = server
    answers = load_responses(config, "alpha", SURVEY)
    stamps = answers["submitted_at"]
    week = int((stamps > stamps.max() - pd.Timedelta(days=7)).sum())
    assert 5 <= week < len(answers)
    before = kernel_ids(voila)
    _status, opening, _ = get(port, {"token": token("alpha"), "language": "en"})
    status, body, _ = get(port, {"token": live_token(opening), "period": "7d", "segment": "",
                                 "language": "en"})
    assert status == 200 and is_static(body)
    assert f"{week:,} answers" in body and "2,000 answers" not in body.split("</form>")[1]
    assert re.search(r'<option value="7d" selected>', body)
    # Only "all" and 7d are static here: the page says a period may open the live one.
    assert "Choosing another period or" in body
    time.sleep(3)  # a kernel started for either page would show up by now
    assert kernel_ids(voila) == before
    # Its form carries a fresh single-use token, like the opening page's.
    status, again, _ = get(port, {"token": live_token(opening), "period": "7d"})
    assert status == 403 and "This link has been used" in again
    for query in ({"period": "30d", "segment": ""}, {"period": "7d", "segment": "shibuya-01"},
                  {"period": "7d", "live": "1"}):
        status, live, _ = get(port, {"token": token("alpha"), **query})
        assert status == 200 and "kernelId" in live and "cx-static" not in live, query
    # A period the dashboard does not know is the opening view, as the live page says.
    status, unknown, _ = get(port, {"token": token("alpha"), "period": "3y", "language": "en"})
    assert status == 200 and is_static(unknown) and "2,000 answers" in unknown
    # Every page is current, the 7-day one of "tiny" (too few answers: opens live) too.
    assert not any(refresh_snapshots(config, tenant, SURVEY) for tenant in ("alpha", "tiny"))


def test_a_store_over_the_whole_period_is_a_static_page_too(server):
    """CXLAB_DASHBOARD_STATIC_SEGMENTS=3: the sync rendered the whole period of alpha's
    three largest stores. Choosing one of them gets its page (its own answers, the store
    chosen in the form, no kernel); a smaller store, or a store over 7 days, opens live."""
    config, port, voila = server
    counts = load_responses(config, "alpha", SURVEY)["store"].value_counts()
    largest, fourth = str(counts.index[0]), str(counts.index[3])
    before = kernel_ids(voila)
    status, body, headers = get(port, {"token": token("alpha"), "segment": largest,
                                       "period": "all", "language": "en"})
    assert status == 200 and is_static(body)
    sections = body.split("</form>")[1]  # the header says how many answers were loaded
    assert f"{counts.iloc[0]:,} answers" in sections and "2,000 answers" not in sections
    assert re.search(f'<option value="{largest}" selected>', body)
    assert "Choosing another period or" in body  # 90d and 30d have no pages here
    # These pages carry no images: plotly.js draws them, from this server only.
    assert 'class="cx-plot"' in body and "script-src 'self'" in headers[
        "content-security-policy"]
    time.sleep(3)  # a kernel started for the page would show up by now
    assert kernel_ids(voila) == before
    for query in ({"segment": fourth}, {"segment": largest, "period": "7d"}):
        status, live, _ = get(port, {"token": token("alpha"), **query})
        assert status == 200 and "kernelId" in live and "cx-static" not in live, query


def test_no_figure_from_fewer_than_min_group_answers(server):
    """"tiny" has stores of fewer than 5 answers: the page names none of them outside
    the filter's list, and says how many are not shown."""
    config, port, _voila = server
    answers = load_responses(config, "tiny", SURVEY)
    counts = answers["store"].value_counts()
    small = counts[(counts > 0) & (counts < 5)]
    assert len(small) > 0, "the test needs a store with 1–4 answers"
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    status, body, _ = get(port, {"token": token("tiny"), "language": "en"})
    assert status == 200 and is_static(body)
    shown = body.split("</form>", 1)[1]  # the sections, after the controls
    for code in small.index:
        assert definition.attribute("store").value_label(str(code), "en") not in shown
    assert re.search(r"\d+ Store\(s\) with too few answers are not shown", shown)


def test_a_new_sync_makes_the_page_stale(server):
    config, port, _voila = server
    status, body, _ = get(port, {"token": token("stale"), "language": "en"})
    assert status == 200 and is_static(body)
    database = Database(config.database_url)
    with database.session() as session:
        survey = get_survey(session, get_tenant(session, "stale"), SURVEY)
    seed_responses(database, survey, load_definition(EXAMPLES_DIR / "restaurant_visit.yaml"), 7,
                seed=11)
    sync(database, config, progress=False)  # without refreshing the static page
    database.dispose()
    status, body, _ = get(port, {"token": token("stale"), "language": "en"})
    assert status == 200 and "cx-static" not in body and "kernelId" in body
    refresh_snapshots(config, "stale", SURVEY)
    status, body, _ = get(port, {"token": token("stale"), "language": "en"})
    assert is_static(body) and "607 answers" in body


def open_browser(playwright):
    return playwright.chromium.launch(executable_path=require_program("chromium"),
                                      args=CHROMIUM_ARGS)


def url(port: int, tenant: str, language: str) -> str:
    return (f"http://127.0.0.1:{port}/voila/render/overview.ipynb?"
            + urlencode({"token": token(tenant), "language": language}))


def test_the_form_opens_the_live_dashboard_at_that_period_and_store(server, screenshot_dir):
    _config, port, _voila = server
    with sync_playwright() as playwright:
        browser = open_browser(playwright)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url(port, "alpha", "en"))
        expect(page.locator(".cx-drivers img")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "en"
        report = Axe().run(page)
        assert report.violations_count == 0, report.generate_report()
        page.screenshot(path=str(screenshot_dir / "dashboard-1366.png"), full_page=True)
        page.select_option("select[name=period]", label="Last 7 days")
        page.select_option("select[name=segment]", label="Shibuya")
        page.get_by_role("button", name="Show").click()
        selects = page.locator(".cx-controls select")
        expect(page.locator(".cx-headline .js-plotly-plot")).to_be_visible(timeout=90_000)
        chosen = [selects.nth(i).evaluate("s => s.selectedOptions[0].textContent")
                  .replace("\xa0", " ") for i in range(2)]
        assert chosen == ["Last 7 days", "Shibuya"]
        page.screenshot(path=str(screenshot_dir / "dashboard-live-1366.png"), full_page=True)
        assert errors == []
        browser.close()


def test_on_a_phone_in_japanese_the_static_page_fits_and_speaks_one_language(
        server, screenshot_dir):
    _config, port, _voila = server
    with sync_playwright() as playwright:
        browser = open_browser(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(url(port, "alpha", "ja"))
        # The KPI cards first, on screen without scrolling; the headline chart below them.
        expect(page.locator(".cx-kpi").first).to_be_in_viewport()
        assert "NPS" in page.locator(".cx-kpi").first.inner_text()
        expect(page.locator(".cx-headline img")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "ja"
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        too_wide = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.cx-dashboard > *, .cx-dashboard img')).filter(
            e => e.getBoundingClientRect().right > 390.5).map(e => e.className)""")
        assert too_wide == []
        # Sections after the controls: the KPIs (headline) come first.
        first = page.evaluate("document.querySelector('.cx-dashboard > section').className")
        assert "cx-headline" in first or "cx-kpis" in first
        alts = page.evaluate("Array.from(document.images).map(i => i.alt).join(' ')")
        text = page.evaluate("document.body.innerText")
        assert not ENGLISH_WORDS.search(alts), alts
        assert not ENGLISH_WORDS.search(text), ENGLISH_WORDS.search(text)
        report = Axe().run(page)
        assert report.violations_count == 0, report.generate_report()
        page.screenshot(path=str(screenshot_dir / "dashboard-390.png"), full_page=True)
        browser.close()
