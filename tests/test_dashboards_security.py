"""The dashboard server refuses everything but a valid token for a dashboard notebook:
a real Voila (``cxlab serve dashboards``) on 127.0.0.1, shared by this module."""

from __future__ import annotations

import http.client
import os
import re
import time
from collections.abc import Iterator

import pytest
from conftest import free_port, stop_process
from cxlab.config import Config
from cxlab.dashboards.hook import prelaunch_hook, spawn_dashboards
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.demo import seed_store
from itsdangerous.timed import TimestampSigner

SECRET = "dashboard-test-secret-" + "x" * 24
TENANTS = {"alpha": 2000, "beta": 900}  # distinct sizes: the page says whose data it shows


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    var_dir = tmp_path_factory.mktemp("dashboards") / "var"
    environ = {"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test", "CXLAB_SECRET_KEY": SECRET,
               "CXLAB_DASHBOARD_CONNECT_TIMEOUT": "10"}
    seed_store(Config.from_environ(environ), TENANTS)
    port = free_port()
    process = spawn_dashboards({**os.environ, **environ}, port=port)
    yield "127.0.0.1", port
    stop_process(process)


def get(server: tuple[str, int], path: str, language: str = "en") -> tuple[int, str]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``), from a
    browser that prefers ``language``."""
    connection = http.client.HTTPConnection(*server, timeout=60)
    connection.request("GET", path, headers={"Accept-Language": language})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, body


def token(tenant: str = "alpha", notebook: str = "overview.ipynb") -> str:
    return DashboardTokens(SECRET).issue(tenant, "ana@example.com", notebook,
                                                   survey="store-visit")


def answers_shown(body: str) -> int:
    """The answer count of the Japanese status line, as the start of the widget's
    plain-text form shows it (JSON-escaped)."""
    counts = re.findall(r"(\d[\d,]*) \\u4ef6", body)
    assert counts, "the dashboard's status line is missing"
    return int(counts[0].replace(",", ""))


def test_valid_token_renders_the_tenants_dashboard(server):
    status, body = get(server, f"/voila/render/overview.ipynb?token={token()}", "ja")
    assert status == 200
    assert answers_shown(body) == TENANTS["alpha"]
    assert "application/vnd.jupyter.widget-view+json" in body


def test_pooled_kernels_serve_each_tenant_once_and_only_its_data(server):
    """The server hands out warm kernels (cxlab.dashboards.kernels): tenants in turn each see
    their own answers, and no kernel serves two pages."""
    kernels = []
    for tenant in ("alpha", "beta", "alpha", "beta"):
        status, body = get(server, f"/voila/render/overview.ipynb?token={token(tenant)}", "ja")
        assert status == 200
        assert answers_shown(body) == TENANTS[tenant]
        kernels += re.findall(r'"kernelId": "([0-9a-f-]{36})"', body)
    assert len(kernels) == 4 and len(set(kernels)) == 4


def test_tenant_in_the_query_string_is_ignored(server):
    status, body = get(server, f"/voila/render/overview.ipynb?token={token()}&tenant=beta"
                               "&survey=other", "ja")
    assert status == 200
    assert answers_shown(body) == TENANTS["alpha"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Dashboards open from the client portal"),
        ("?token=", "Dashboards open from the client portal"),
        ("?token=not-a-token", "This dashboard link is not valid"),
    ],
)
def test_missing_or_garbage_token_is_refused(server, query, message):
    status, body = get(server, f"/voila/render/overview.ipynb{query}")
    assert status == 403
    assert message in body
    assert "Traceback" not in body and "widget-view+json" not in body


def test_tampered_signature_is_refused(server):
    genuine = token()
    forged = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    status, body = get(server, f"/voila/render/overview.ipynb?token={forged}")
    assert (status, "This dashboard link is not valid" in body) == (403, True)


def test_token_signed_with_another_key_is_refused(server):
    other = DashboardTokens("another-secret-" + "y" * 30).issue("alpha", "u", "overview.ipynb")
    status, _ = get(server, f"/voila/render/overview.ipynb?token={other}")
    assert status == 403


def test_expired_token_is_refused(server, monkeypatch):
    # Signed ten minutes ago: twice the five minutes a dashboard token lives.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 600)
    expired = token()
    monkeypatch.undo()
    status, body = get(server, f"/voila/render/overview.ipynb?token={expired}")
    assert status == 403
    assert "This link has expired" in body
    # A way back: the portal route that mints a fresh token for the same survey.
    assert 'href="http://127.0.0.1:8080/portal/dashboard/store-visit?lang=en"' in body
    status, body = get(server, f"/voila/render/overview.ipynb?token={expired}", "ja")
    assert status == 403 and "有効期限が切れています" in body and 'lang="ja"' in body


def test_token_for_another_notebook_is_refused(server):
    status, body = get(server, f"/voila/render/overview.ipynb?token={token(notebook='x.ipynb')}")
    assert (status, "This link is for another dashboard" in body) == (403, True)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/voila/tree",
        "/voila/tree/",
        "/voila/tree/ops",
        "/voila/api/contents",
        "/voila/api/contents/overview.ipynb",
        "/voila/files/overview.ipynb",
        "/voila/files/../../platform/cxlab/config.py",
        "/voila/render/../ops/capacity.ipynb",
        "/voila/render/..%2fops%2fcapacity.ipynb",
        "/voila/render/%2e%2e/reports/weekly.ipynb",
        "/voila/render/../reports/weekly.ipynb",
        "/voila/render/../explore.ipynb",
        "/voila/render/dashboards/overview.ipynb",
        "/ops/capacity.ipynb",
        "/voila/render/overview.py",
        "/notebooks/explore.ipynb",
    ],
)
def test_listing_raw_files_and_other_folders_are_unreachable(server, path):
    notebook = path.rsplit("/", 1)[-1] or "overview.ipynb"
    status, body = get(server, f"{path}?token={token(notebook=notebook)}")
    assert status in (403, 404), (path, status)
    assert "widget-view+json" not in body
    assert "Traceback" not in body and "import " not in body
    assert "secret" not in body.lower()


def test_ops_notebook_with_a_token_for_it_is_unreachable(server):
    for path in ("/voila/render/capacity.ipynb", "/voila/render/weekly.ipynb"):
        notebook = path.rsplit("/", 1)[-1]
        status, _ = get(server, f"{path}?token={token(notebook=notebook)}")
        assert status == 404  # not in notebooks/dashboards/, token or not


def test_hook_injects_tenant_and_survey_from_the_token_only():
    import nbformat
    from cxlab.dashboards.hook import DASHBOARDS_DIR

    notebook = nbformat.read(DASHBOARDS_DIR / "overview.ipynb", as_version=4)
    arguments = {"token": token("beta"), "tenant": "alpha"}

    class Handler:
        path_args = ["overview.ipynb"]

        def get_query_argument(self, name, default=None):
            return arguments.get(name, default)

    injected = prelaunch_hook(SECRET)(Handler(), notebook=notebook, cwd=str(DASHBOARDS_DIR))
    cell = next(c for c in injected.cells if "injected-parameters" in c.metadata["tags"])
    assert 'tenant = "beta"' in cell.source
    assert 'survey = "store-visit"' in cell.source
    assert "demo_fallback = False" in cell.source
    assert "alpha" not in cell.source
    assert 'language = "ja"' in cell.source  # none asked for, no browser preference


def test_hook_takes_only_a_known_language_from_the_query_string():
    import nbformat
    from cxlab.dashboards.hook import DASHBOARDS_DIR

    def injected(language: str) -> str:
        notebook = nbformat.read(DASHBOARDS_DIR / "overview.ipynb", as_version=4)
        arguments = {"token": token(), "language": language}

        class Handler:
            path_args = ["overview.ipynb"]

            def get_query_argument(self, name, default=None):
                return arguments.get(name, default)

        cells = prelaunch_hook(SECRET)(Handler(), notebook=notebook, cwd=".").cells
        return next(c for c in cells if "injected-parameters" in c.metadata["tags"]).source

    assert 'language = "en"' in injected("en")
    assert "import" not in injected('en"\nimport os')
    assert 'language = "ja"' in injected("fr")  # unknown: the default, never "fr"


def head_of(server: tuple[str, int], path: str) -> dict[str, str]:
    connection = http.client.HTTPConnection(*server, timeout=120)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return {name.lower(): value for name, value in response.getheaders()}


def test_every_response_forbids_framing_sniffing_and_referrers(server):
    """The page's address carries its token: no Referer may take it elsewhere."""
    for path in (f"/voila/render/overview.ipynb?token={token()}",  # the dashboard
                 "/voila/render/overview.ipynb?token=bad",  # a refusal
                 "/voila/tree", "/nothing-here"):  # 404s from either kind of handler
        headers = head_of(server, path)
        assert headers.get("referrer-policy") == "no-referrer", path
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), path
        assert headers.get("x-content-type-options") == "nosniff", path
        assert headers.get("x-frame-options") == "DENY", path
        assert "strict-transport-security" not in headers  # not production
    cookie = head_of(server, f"/voila/render/overview.ipynb?token={token()}").get("set-cookie")
    assert cookie and "_xsrf=" in cookie and "samesite=strict" in cookie.lower()
