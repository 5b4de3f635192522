"""The whole client journey in headless Chromium: log in to the portal, see only the own
tenant's surveys, open the dashboard (portal → signed token → Voila), wait for the driver
chart, change the period and see the figures change."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from conftest import free_port, require_program
from cxlab import tenancy
from cxlab.config import Config
from cxlab.dashboards.hook import spawn_dashboards
from cxlab.db import Database
from cxlab.demo import seed_store
from playwright.sync_api import expect, sync_playwright

from survey_server.app import create_app
from survey_server.testing import serve_in_thread

SECRET = "portal-browser-secret-" + "q" * 24
PASSWORD = "a long passphrase"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TREND_POINTS = "document.querySelector('.cx-trend .js-plotly-plot').data[1].x.length"


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("journey") / "var"
    dashboard_port = free_port()
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
               "CXLAB_DASHBOARD_URL": f"http://127.0.0.1:{dashboard_port}"}
    config = Config.from_environ(environ)
    seed_store(config, {"sakura": 1500, "rival": 300})
    database = Database(config.database_url)
    with database.session() as session:
        tenancy.create_user(session, tenancy.get_tenant(session, "sakura"),
                            "ana@sakura.example", PASSWORD)
    voila = spawn_dashboards({**os.environ, **environ}, port=dashboard_port)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        yield base_url
    voila.terminate()
    voila.wait(timeout=10)
    database.dispose()


def test_log_in_open_the_dashboard_and_change_the_period(portal_url):
    chromium = require_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1800})
        page.goto(f"{portal_url}/portal/login?lang=en")
        page.get_by_label("E-mail").fill("ana@sakura.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button").click()

        expect(page.locator("main")).to_contain_text("store-visit")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(1)  # the rival's survey of the same name is not listed
        expect(rows.first).to_contain_text("1500")
        page.get_by_role("link", name=re.compile("Open dashboard")).click()

        expect(page).to_have_url(re.compile(r"/voila/render/overview\.ipynb\?token="))
        expect(page.locator(".cx-drivers .js-plotly-plot")).to_be_visible(timeout=60_000)
        expect(page.locator(".cx-as-of")).to_contain_text("1,500")
        weeks = page.evaluate(TREND_POINTS)
        page.locator(".cx-controls select").first.select_option(index=3)
        page.wait_for_function(f"{TREND_POINTS} !== {weeks}", timeout=30_000)
        browser.close()
