"""Dashboard kernels are freed and capped: a real Voila (``cxlab serve dashboards``) on
127.0.0.1, its kernels counted as the server's child processes.

Each page's kernel is a process whose command line names ``kernel-<id>.json``, the id
the page carries; the tests watch those processes come and go.
"""

from __future__ import annotations

import http.client
import os
import re
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import psutil
import pytest
from conftest import free_port, require_program, stop_process
from cxlab.config import Config
from cxlab.dashboards.hook import spawn_dashboards
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.demo import seed_store

SECRET = "dashboard-kernels-secret-" + "k" * 24
CONNECT_TIMEOUT = 30  # seconds; a loaded CI machine renders a page in well under that
PER_TENANT = 3  # open dashboards of one tenant at most
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[psutil.Process, int]]:
    var_dir = tmp_path_factory.mktemp("kernels") / "var"
    environ = {
        "CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
        "CXLAB_DASHBOARD_WARM_KERNELS": "1",
        "CXLAB_DASHBOARD_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "CXLAB_DASHBOARD_MAX_KERNELS_PER_TENANT": str(PER_TENANT),
    }
    tenants = ("alpha", "beta", "gamma", "delta")
    seed_store(Config.from_environ(environ), dict.fromkeys(tenants, 300))
    port = free_port()
    process = spawn_dashboards({**os.environ, **environ}, port=port)
    yield psutil.Process(process.pid), port
    stop_process(process)


def kernel_ids(voila: psutil.Process) -> set[str]:
    """The ids of the kernels the server runs now (warm ones included)."""
    ids = set()
    for child in voila.children(recursive=True):
        try:
            found = re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(child.cmdline()))
        except psutil.Error:  # it exited while we looked
            continue
        if found:
            ids.add(found.group(1))
    return ids


def wait_for(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.5)


def fresh_token(tenant: str) -> str:
    return DashboardTokens(SECRET).issue(tenant, f"ana@{tenant}.example", "overview.ipynb",
                                         survey="store-visit")


def open_page(port: int, token: str) -> tuple[int, str, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", "/voila/render/overview.ipynb?" + urlencode({"token": token}),
                       headers={"Accept-Language": "en"})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    headers = {name.lower(): value for name, value in response.getheaders()}
    connection.close()
    return response.status, body, headers


def page_kernel(body: str) -> str:
    return re.findall(r'"kernelId": "([0-9a-f-]{36})"', body)[0]


def test_a_token_opens_one_page_once(server):
    _voila, port = server
    token = fresh_token("alpha")
    status, body, _ = open_page(port, token)
    assert status == 200 and page_kernel(body)
    status, body, _ = open_page(port, token)
    assert status == 403
    assert "This link has been used" in body and "widget-view+json" not in body
    assert 'href="http://127.0.0.1:8080/portal/dashboard/store-visit?lang=en"' in body


def test_pages_fetched_without_a_browser_free_their_kernels(server):
    """Five links fetched by a script: each started a kernel that nobody connects to;
    all five are shut down after the connect timeout, and the warm kernel stays."""
    voila, port = server
    opened = []
    for tenant in ("beta", "delta", "beta", "delta", "beta"):  # within each one's cap
        status, body, _ = open_page(port, fresh_token(tenant))
        assert status == 200
        opened.append(page_kernel(body))
        assert opened[-1] in kernel_ids(voila)  # the page's kernel runs
    wait_for(lambda: not set(opened) & kernel_ids(voila), CONNECT_TIMEOUT * 5,
             "kernels of pages nobody opened are still running")
    wait_for(lambda: len(kernel_ids(voila)) >= 1, 120, "the warm kernel was not replaced")


def test_a_tenant_beyond_its_cap_gets_a_busy_page_until_kernels_free(server):
    voila, port = server
    kept = []
    for _ in range(PER_TENANT):
        status, body, _ = open_page(port, fresh_token("gamma"))
        assert status == 200
        kept.append(page_kernel(body))
    status, body, headers = open_page(port, fresh_token("gamma"))
    assert status == 503 and headers.get("retry-after") == "30"
    assert "The dashboards are busy" in body and "Traceback" not in body
    # Another tenant is not held up by gamma's cap.
    status, _, _ = open_page(port, fresh_token("alpha"))
    assert status == 200
    wait_for(lambda: not set(kept) & kernel_ids(voila), CONNECT_TIMEOUT * 5,
             "gamma's kernels were not freed")
    status, _, _ = open_page(port, fresh_token("gamma"))
    assert status == 200


def test_the_pages_shutdown_request_is_accepted(server):
    """What Voila's page sends when it closes: a POST with the XSRF cookie's value."""
    voila, port = server
    status, body, headers = open_page(port, fresh_token("alpha"))
    assert status == 200
    kernel = page_kernel(body)
    xsrf = re.search(r"_xsrf=([^;]+)", headers.get("set-cookie", ""))
    assert xsrf, "the page sets no XSRF cookie, so its shutdown request would be refused"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "POST", f"/voila/api/shutdown/{kernel}", body=urlencode({"_xsrf": xsrf.group(1)}),
        headers={"Cookie": f"_xsrf={xsrf.group(1)}", "Origin": f"http://127.0.0.1:{port}",
                 "Content-Type": "application/x-www-form-urlencoded"})
    assert connection.getresponse().status == 204
    connection.close()
    wait_for(lambda: kernel not in kernel_ids(voila), 60, "the kernel was not shut down")


def test_closing_pages_in_a_browser_leaves_only_the_warm_pool(server):
    from playwright.sync_api import expect, sync_playwright

    chromium = require_program("chromium")
    voila, port = server
    opened = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for round_ in range(6):
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/voila/render/overview.ipynb?"
                      + urlencode({"token": fresh_token(("alpha", "beta")[round_ % 2]),
                                   "language": "en"}))
            expect(page.locator(".cx-headline")).to_be_visible(timeout=90_000)
            opened.append(page_kernel(page.content()))
            # Half leave by closing the tab (beforeunload sends the shutdown request),
            # half by the page going away without it (the websocket closes).
            page.close(run_before_unload=round_ % 2 == 0)
        browser.close()
    wait_for(lambda: not set(opened) & kernel_ids(voila), 60,
             "kernels of closed pages are still running")
    wait_for(lambda: len(kernel_ids(voila)) <= 1, 60, "more than the warm pool runs")
