"""Issue #14, items 6 and 7: /metrics is closed without CXLAB_METRICS_TOKEN, and every
response carries the security headers (HSTS and Secure cookies in production)."""

from __future__ import annotations

import base64
import hashlib
import html
import re

import requests
from cxlab.config import Config
from cxlab.surveys import EXAMPLES_DIR, load_definition, parse_definition

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
TOKEN = "metrics-" + "x1y2z3" * 5
SECRET = "production-secret-" + "abcdefghijklmnopqrstuvwxyz0123456789"


def test_metrics_are_404_without_a_token_and_401_without_the_right_one(environ, database):
    publish_survey_with_key(database, "alpha", VISIT)
    closed = Config.from_environ(environ)
    with serve_in_thread(create_app(closed, database, log_stream=None)) as base_url:
        response = requests.get(f"{base_url}/metrics")
        assert response.status_code == 404 and "alpha" not in response.text
    guarded = Config.from_environ({**environ, "CXLAB_METRICS_TOKEN": TOKEN})
    with serve_in_thread(create_app(guarded, database, log_stream=None)) as base_url:
        requests.get(f"{base_url}/s/alpha/store-visit")
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = requests.get(f"{base_url}/metrics", headers=headers)
            assert refused.status_code == 401 and "alpha" not in refused.text
        allowed = requests.get(f"{base_url}/metrics",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200 and "cxlab_http_requests_total" in allowed.text


def _assert_protected(response: requests.Response, *, hsts: bool = False) -> None:
    what = f"{response.request.method} {response.url} ({response.status_code})"
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("Referrer-Policy"), what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert ("Strict-Transport-Security" in response.headers) == hsts, what


def test_every_kind_of_response_carries_the_security_headers(config, database):
    acme = publish_survey_with_key(database, "acme", VISIT)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        page = requests.get(f"{base_url}/s/acme/store-visit")
        responses = [
            page,
            requests.get(f"{base_url}/s/acme/no-such-survey"),
            requests.get(f"{base_url}/i/no-such-token"),
            requests.get(f"{base_url}/nowhere"),
            requests.get(f"{base_url}/healthz"),
            requests.get(f"{base_url}/u/not-a-token"),
            requests.get(f"{base_url}/api/v1/openapi.json"),
            requests.post(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses", json={}),
            requests.get(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                         headers={"Authorization": f"Bearer {acme.api_key}"}),
            requests.get(f"{base_url}/portal/login"),
            requests.get(f"{base_url}/portal/", allow_redirects=False),
        ]
    for response in responses:
        _assert_protected(response)
    policy = page.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'self'") and "script-src" not in policy
    # The page's own <style> block is allowed by its hash, nothing else inline.
    style = re.search(r"<style>(.*?)</style>", page.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy


def test_production_adds_hsts_and_secure_cookies_without_any_proxy_header(environ, database):
    production = Config.from_environ({**environ, "CXLAB_ENV": "production",
                                      "CXLAB_SECRET_KEY": SECRET})
    publish_survey_with_key(database, "acme", VISIT)
    with serve_in_thread(create_app(production, database, log_stream=None)) as base_url:
        page = requests.get(f"{base_url}/s/acme/store-visit")
        login = requests.get(f"{base_url}/portal/login")
        missing = requests.get(f"{base_url}/nowhere")
    for response in (page, login, missing):
        _assert_protected(response, hsts=True)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "; secure" in login.headers["Set-Cookie"].lower()


def test_a_survey_may_name_the_origins_that_embed_it(config, database):
    definition = parse_definition({**VISIT.raw, "slug": "embedded",
                                   "embed_origins": ["https://shop.example"]})
    publish_survey_with_key(database, "acme", definition)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        embedded = requests.get(f"{base_url}/s/acme/embedded")
    assert embedded.status_code == 200
    assert embedded.headers["Content-Security-Policy"].endswith(
        "frame-ancestors https://shop.example")
    assert "X-Frame-Options" not in embedded.headers
    assert html.unescape(embedded.text).count("<form") == 1
