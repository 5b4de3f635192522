"""The client portal on a real server: sign-in, session cookie, CSRF and lockout (the
tenant boundary of its pages is in test_portal_pages)."""

from __future__ import annotations

import base64
import html
import http.client
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import LoginAttempt, User
from cxlab.portal_auth import LoginPolicy
from cxlab.surveys import EXAMPLES_DIR, load_definition, parse_definition
from cxlab.tenancy import create_user, get_tenant
from sqlalchemy import delete, select

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

PASSWORD = "correct horse battery"
RIVAL_SURVEY = parse_definition({
    "slug": "rival-secret", "title": "Rival secret survey",
    "questions": [{"id": "nps", "type": "nps", "label": "NPS"}],
})
REPORT = "<!DOCTYPE html><title>weekly</title><p>acme weekly report</p>"


@dataclass
class Portal:
    base_url: str
    config: Config
    database: Database
    var_dir: Path


def write_report(var_dir: Path, tenant: str, job: str, name: str, text: str) -> Path:
    path = var_dir / "reports" / tenant / job / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def make_portal(config: Config, database: Database):
    """Start a portal with ``policy``: tenant acme (two surveys, user ana) and tenant
    rival (one survey, user rita), each with report files."""
    for example in ("restaurant_visit.yaml", "employee_engagement.yaml"):
        publish_survey_with_key(database, "acme", load_definition(EXAMPLES_DIR / example))
    publish_survey_with_key(database, "rival", RIVAL_SURVEY)
    with database.session() as session:
        create_user(session, get_tenant(session, "acme"), "ana@acme.example", PASSWORD)
        create_user(session, get_tenant(session, "rival"), "rita@rival.example", PASSWORD)
    write_report(config.var_dir, "acme", "weekly", "2026-05-01.html", REPORT)
    write_report(config.var_dir, "acme", "weekly", "2026-05-08.html", REPORT)
    write_report(config.var_dir, "acme", "monthly", "2026-05-31.ipynb", "{}")
    write_report(config.var_dir, "acme", "weekly", ".2026-05-15.running.ipynb", "{}")
    write_report(config.var_dir, "rival", "weekly", "2026-05-01.html", "rival secret")
    write_report(config.var_dir, "rival", "private", "2026-04-01.html", "rival secret")

    servers = []

    def start(policy: LoginPolicy | None = None) -> Portal:
        app = create_app(config, database, log_stream=None, login_policy=policy)
        server = serve_in_thread(app)
        servers.append(server)
        return Portal(server.__enter__(), config, database, config.var_dir)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def portal(make_portal) -> Portal:
    return make_portal()


def csrf_of(page: str) -> str:
    return html.unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))


def login(portal: Portal, email: str, password: str = PASSWORD,
          client: requests.Session | None = None) -> requests.Response:
    client = client if client is not None else requests.Session()
    token = csrf_of(client.get(portal.base_url + "/portal/login?lang=en").text)
    return client.post(
        portal.base_url + "/portal/login?lang=en",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def signed_in(portal: Portal, email: str = "ana@acme.example") -> requests.Session:
    client = requests.Session()
    assert login(portal, email, client=client).status_code == 303
    return client


def set_cookies(response: requests.Response) -> dict[str, str]:
    """Each Set-Cookie header of ``response`` by cookie name."""
    headers = response.raw.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def raw_get(portal: Portal, path: str, client: requests.Session) -> int:
    """GET ``path`` exactly as written (no client-side normalisation)."""
    host, port = urlsplit(portal.base_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    connection.request("GET", path, headers={"Cookie": cookie})
    status = connection.getresponse().status
    connection.close()
    return status


# ------------------------------------------------------------ sign-in and session


def test_login_page_is_an_accessible_form_in_both_languages(portal):
    page = requests.get(portal.base_url + "/portal/login", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert '<label for="email">E-mail address</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    japanese = requests.get(portal.base_url + "/portal/login?lang=ja")
    assert '<html lang="ja">' in japanese.text and "パスワード" in japanese.text


def test_pages_redirect_to_login_when_not_signed_in(portal):
    for path in ("/portal", "/portal/", "/portal/reports", "/portal/dashboard/store-visit",
                 "/portal/reports/weekly/2026-05-01.html"):
        response = requests.get(portal.base_url + path, allow_redirects=True)
        assert response.url.startswith(portal.base_url + "/portal/login"), path
        assert "csrf_token" in response.text


def test_login_succeeds_with_the_right_password_and_sets_a_safe_cookie(portal):
    response = login(portal, " Ana@Acme.example ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/portal/?lang=en"
    cookie = set_cookies(response)["cxlab_portal"]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/portal" in flags
    assert "max-age=3600" in flags  # the idle timeout (CXLAB_SESSION_IDLE_MINUTES=60)
    assert "secure" not in flags  # plain http here; https below
    payload = cookie.split("=", 1)[1].split(";")[0].split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # user id, tenant id, session id, session generation, start time: nothing else
    assert set(claims) == {"u", "t", "s", "g", "i"}


def test_the_cookie_is_secure_over_https(portal):
    client = requests.Session()
    token = csrf_of(client.get(portal.base_url + "/portal/login").text)
    response = client.post(
        portal.base_url + "/portal/login", allow_redirects=False,
        data={"email": "ana@acme.example", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 303
    assert "; secure" in set_cookies(response)["cxlab_portal"].lower()


def test_login_fails_with_a_wrong_password_or_unknown_email(portal):
    for email, password in (("ana@acme.example", "wrong password!"),
                            ("nobody@acme.example", PASSWORD)):
        response = login(portal, email, password)
        assert response.status_code == 401
        assert "The e-mail address or password is not correct." in response.text
        assert "cxlab_portal" not in set_cookies(response)
        assert 'aria-invalid="true"' in response.text


def test_bad_login_input_gets_a_clear_4xx(portal):
    client = requests.Session()
    token = csrf_of(client.get(portal.base_url + "/portal/login?lang=en").text)
    url = portal.base_url + "/portal/login?lang=en"
    empty = client.post(url, data={"email": "", "password": "", "csrf_token": token})
    assert empty.status_code == 422 and "Please enter" in empty.text
    huge = client.post(url, data={"email": "a@b.c", "password": "x" * 5000, "csrf_token": token})
    assert huge.status_code == 422
    multipart = client.post(url, files={"email": ("a", b"x")})
    assert multipart.status_code == 415
    garbage = client.post(url, data=b"email=\xff\xfe", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert garbage.status_code == 400
    for response in (empty, huge, multipart, garbage):
        assert "Traceback" not in response.text


def test_a_tampered_or_stale_session_cookie_is_refused(portal):
    client = signed_in(portal)
    assert client.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 200
    value = client.cookies["cxlab_portal"]
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    for forged in (tampered, "x" + value, value.split(".")[0], "", "a" * 5000):
        other = requests.Session()
        other.cookies.set("cxlab_portal", forged, path="/portal")
        response = other.get(portal.base_url + "/portal/", allow_redirects=False)
        assert response.status_code == 303, forged
        assert response.headers["Location"].startswith("/portal/login")
    # A user removed since signing in is signed out.
    with portal.database.session() as session:
        session.execute(delete(User).where(User.email == "ana@acme.example"))
    response = client.get(portal.base_url + "/portal/", allow_redirects=False)
    assert response.status_code == 303


def test_every_post_needs_the_right_csrf_token(portal):
    url = portal.base_url + "/portal/login"
    fresh = requests.Session()
    fresh.get(url)
    credentials = {"email": "ana@acme.example", "password": PASSWORD}
    assert fresh.post(url, data=credentials).status_code == 403
    assert fresh.post(url, data={**credentials, "csrf_token": "0" * 64}).status_code == 403
    # A token from another browser's login form does not fit this browser's cookie.
    stranger = requests.Session()
    stranger_token = csrf_of(stranger.get(url).text)
    assert fresh.post(url, data={**credentials, "csrf_token": stranger_token}).status_code == 403
    # Without the pre-session cookie, even a once-valid token is refused.
    assert requests.post(url, data={**credentials, "csrf_token": stranger_token}).status_code == 403

    client = signed_in(portal)
    page = client.get(portal.base_url + "/portal/")
    logout = portal.base_url + "/portal/logout"
    for data in ({}, {"csrf_token": "bad"}, {"csrf_token": stranger_token},
                 {"csrf_token": csrf_of(signed_in(portal).get(portal.base_url + "/portal/").text)}):
        refused = client.post(logout, data=data, allow_redirects=False)
        assert refused.status_code == 403
        assert "Traceback" not in refused.text
    assert client.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 200
    assert csrf_of(page.text)


def test_the_dashboards_sign_out_link_asks_then_signs_out(portal):
    """The dashboard links to GET /portal/logout: a page with the CSRF-protected form."""
    client = signed_in(portal)
    page = client.get(portal.base_url + "/portal/logout?lang=en")
    assert page.status_code == 200 and "Sign out of the portal?" in page.text
    response = client.post(portal.base_url + "/portal/logout?lang=en",
                           data={"csrf_token": csrf_of(page.text)}, allow_redirects=False)
    assert response.status_code == 303
    assert client.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 303
    signed_out = client.get(portal.base_url + "/portal/logout", allow_redirects=False)
    assert signed_out.status_code == 303 and "/portal/login" in signed_out.headers["Location"]


def test_logout_clears_the_session(portal):
    client = signed_in(portal)
    token = csrf_of(client.get(portal.base_url + "/portal/").text)
    response = client.post(portal.base_url + "/portal/logout?lang=en",
                           data={"csrf_token": token}, allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/portal/login?lang=en"
    assert "max-age=-1" in set_cookies(response)["cxlab_portal"].lower()
    assert "cxlab_portal" not in client.cookies
    assert client.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 303


# ------------------------------------------------------------ lockout


def test_repeated_failures_slow_that_account_from_that_address(make_portal):
    policy = LoginPolicy(free_failures=3, first_delay=timedelta(minutes=15),
                         max_failures_per_ip=50, window=timedelta(minutes=15))
    portal = make_portal(policy)
    for _ in range(3):
        assert login(portal, "ana@acme.example", "wrong password!").status_code == 401
    locked = login(portal, "ana@acme.example")  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Please try again in 15 minute(s)." in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    # Per e-mail: another user from the same address still signs in.
    assert login(portal, "rita@rival.example").status_code == 303
    # The wait lifts once the failures are older than the window.
    with portal.database.session() as session:
        for attempt in session.scalars(select(LoginAttempt)):
            attempt.attempted_at -= policy.window
    assert login(portal, "ana@acme.example").status_code == 303


def test_repeated_failures_from_one_address_lock_that_address_out(make_portal):
    portal = make_portal(LoginPolicy(free_failures=50, max_failures_per_ip=3,
                                     window=timedelta(minutes=15)))
    for email in ("a@x.example", "b@x.example", "c@x.example"):
        assert login(portal, email, "wrong password!").status_code == 401
    assert login(portal, "ana@acme.example").status_code == 429
    # Lockouts live in the database: a second server (another worker) sees them too.
    other_worker = make_portal(LoginPolicy(free_failures=50, max_failures_per_ip=3))
    assert login(other_worker, "rita@rival.example").status_code == 429
