"""The client portal's pages on a real server, across the tenant boundary: a user sees
their own tenant's surveys, dashboards and reports, and another tenant's are not found.
The portal fixture is test_portal's."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.surveys import EXAMPLES_DIR, load_definition
from test_portal import (  # noqa: F401 - make_portal is a fixture, found by name
    REPORT,
    Portal,
    make_portal,
    raw_get,
    signed_in,
    write_report,
)


@pytest.fixture
def portal(make_portal) -> Portal:  # noqa: F811 - make_portal is test_portal's fixture
    return make_portal()


def test_the_portal_lists_only_the_users_tenant_surveys(portal: Portal):
    client = signed_in(portal)
    page = client.get(portal.base_url + "/portal/?lang=en")
    assert page.status_code == 200
    assert "Signed in as ana@acme.example (Acme)" in page.text
    assert 'href="/portal/dashboard/store-visit?lang=en"' in page.text
    assert page.text.count(">Open dashboard</a>") == 2
    assert "rival" not in page.text.lower()
    assert 'href="/portal/reports?lang=en"' in page.text
    assert 'action="/portal/logout?lang=en"' in page.text
    assert '<th scope="col" class="number">Responses</th>' in page.text


def test_the_dashboard_link_redirects_to_voila_with_a_valid_token(portal: Portal):
    client = signed_in(portal)
    response = client.get(portal.base_url + "/portal/dashboard/store-visit",
                          allow_redirects=False)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(portal.config.dashboard_url + "/voila/render/overview.ipynb?token=")
    token = parse_qs(urlsplit(location).query)["token"][0]
    grant = DashboardTokens(portal.config.secret_key).verify(token, "overview.ipynb")
    assert (grant.tenant, grant.user, grant.survey) == ("acme", "ana@acme.example", "store-visit")
    english = client.get(portal.base_url + "/portal/dashboard/store-visit?lang=en",
                         allow_redirects=False).headers["Location"]
    assert parse_qs(urlsplit(english).query)["language"] == ["en"]
    # The survey's title in the page's language becomes the dashboard tab's title.
    title = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml").title
    english_token = parse_qs(urlsplit(english).query)["token"][0]
    assert DashboardTokens(portal.config.secret_key).verify(
        english_token, "overview.ipynb").title == title["en"]


def test_survey_titles_follow_the_page_language(portal: Portal):
    client = signed_in(portal)
    title = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml").title
    assert title["en"] in client.get(portal.base_url + "/portal/?lang=en").text
    assert title["ja"] in client.get(portal.base_url + "/portal/?lang=ja").text


def test_another_tenants_dashboard_is_not_found(portal: Portal):
    client = signed_in(portal)
    for slug in ("rival-secret", "no-such-survey"):
        response = client.get(portal.base_url + f"/portal/dashboard/{slug}",
                              allow_redirects=False)
        assert response.status_code == 404, slug
        assert "Traceback" not in response.text
    for path in ("/portal/dashboard/..", "/portal/dashboard/%2e%2e",
                 "/portal/dashboard/..%2F..%2Frival%2Frival-secret"):
        assert raw_get(portal, path, client) == 404, path
    rival = signed_in(portal, "rita@rival.example")
    assert rival.get(portal.base_url + "/portal/dashboard/rival-secret",
                     allow_redirects=False).status_code == 303
    assert rival.get(portal.base_url + "/portal/dashboard/store-visit",
                     allow_redirects=False).status_code == 404


def test_reports_are_listed_newest_first_and_served_for_the_own_tenant_only(portal: Portal):
    client = signed_in(portal)
    page = client.get(portal.base_url + "/portal/reports?lang=en")
    assert page.status_code == 200
    links = re.findall(r'href="(/portal/reports/[^"]+)"', page.text)
    assert links == ["/portal/reports/monthly/2026-05-31.ipynb",
                     "/portal/reports/weekly/2026-05-08.html",
                     "/portal/reports/weekly/2026-05-01.html"]
    report = client.get(portal.base_url + links[2])
    assert report.status_code == 200 and report.text == REPORT
    assert report.headers["Content-Type"] == "text/html; charset=utf-8"
    assert report.headers["Content-Security-Policy"].startswith("sandbox")
    assert report.headers["X-Content-Type-Options"] == "nosniff"
    notebook = client.get(portal.base_url + links[0])
    assert notebook.headers["Content-Type"] == "application/x-ipynb+json"
    assert notebook.headers["Content-Disposition"].startswith("attachment")
    # Rival's own files: the URL cannot name another tenant, and rival's job is unknown.
    private = client.get(portal.base_url + "/portal/reports/private/2026-04-01.html")
    assert private.status_code == 404
    rival = signed_in(portal, "rita@rival.example")
    assert rival.get(portal.base_url + "/portal/reports/weekly/2026-05-01.html").text == (
        "rival secret")
    assert "monthly" not in rival.get(portal.base_url + "/portal/reports").text


def test_report_path_tricks_are_not_found(portal: Portal):
    client = signed_in(portal)
    reports = portal.var_dir / "reports"
    (reports / "acme" / "weekly" / "2026-06-01.html").symlink_to(
        reports / "rival" / "weekly" / "2026-05-01.html")
    (reports / "acme" / "stolen").symlink_to(reports / "rival" / "private")
    write_report(portal.var_dir, "acme", "weekly", "notes.html", "not a report")
    tricks = [
        "/portal/reports/weekly/..%2F..%2Frival%2Fweekly%2F2026-05-01.html",
        "/portal/reports/..%2Frival%2Fweekly/2026-05-01.html",
        "/portal/reports/../rival/weekly/2026-05-01.html",
        "/portal/reports/weekly/../../rival/weekly/2026-05-01.html",
        "/portal/reports/%2E%2E/2026-05-01.html",
        "/portal/reports/weekly/%2Fetc%2Fpasswd",
        "/portal/reports//etc/passwd",
        "/portal/reports/weekly/.2026-05-15.running.ipynb",
        "/portal/reports/weekly/notes.html",
        "/portal/reports/weekly/2026-06-01.html",
        "/portal/reports/stolen/2026-04-01.html",
        "/portal/reports/weekly/2026-05-01.html%00.txt",
        "/portal/reports/weekly/2026-05-01.html/",
    ]
    for path in tricks:
        assert raw_get(portal, path, client) == 404, path
    listing = client.get(portal.base_url + "/portal/reports").text
    assert "2026-06-01" not in listing and "stolen" not in listing and "notes" not in listing
