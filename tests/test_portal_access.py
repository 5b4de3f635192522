"""The portal's `signed_in(role=…)` decorator and its NotFound → 404 handler, on a
real server: a probe app whose routes do nothing but what the decorator lets through,
over a real database with two tenants."""

from __future__ import annotations

import html
from dataclasses import dataclass

import bottle
import pytest
import requests
from cxlab.errors import NotFound
from cxlab.tenancy import create_tenant, create_user

from survey_server import i18n
from survey_server.portal_access import (
    SESSION_COOKIE,
    PortalAccess,
    Visit,
    read_upload_form,
    signed_in,
)
from survey_server.testing import bound_request, serve_in_thread

PASSWORD = "correct horse battery"


class Probe:
    """Routes that show what the decorator handed them."""

    def __init__(self, access: PortalAccess) -> None:
        self.access = access

    @signed_in()
    def anyone(self, visit: Visit) -> str:
        return f"{visit.user.email} of {visit.user.tenant.slug} in {visit.language}"

    @signed_in("admin")
    def admins(self, visit: Visit) -> str:
        return f"admin {visit.user.email}"

    @signed_in(csrf_back="/portal/probe/form")
    def form(self, visit: Visit) -> str:
        return f"{visit.user.email} posted {visit.field('word')}"

    @signed_in()
    def missing(self, visit: Visit, name: str) -> str:
        raise NotFound(f"no {name} in {visit.user.tenant.slug}")


@dataclass
class Users:
    """Cookies of signed-in users, and the CSRF token of each session."""

    cookies: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture
def probe(config, database):
    access = PortalAccess(config, database)
    cookies, tokens = {}, {}
    with database.session() as session:
        acme = create_tenant(session, "acme", "Acme")
        rival = create_tenant(session, "rival", "Rival")
        users = {
            "viewer": create_user(session, acme, "vic@acme.example", PASSWORD),
            "admin": create_user(session, acme, "ada@acme.example", PASSWORD, role="admin"),
            "rival": create_user(session, rival, "rita@rival.example", PASSWORD, role="admin"),
        }
        session.flush()
        for name, user in users.items():
            cookies[name] = access.sessions.issue(user.id, user.tenant_id,
                                                  generation=user.session_generation)
            tokens[name] = access.sessions.csrf_token(
                access.sessions.read(cookies[name]).session_id)
        # A cookie naming the rival admin's user id under acme: signed, but a lie.
        cookies["crossed"] = access.sessions.issue(users["rival"].id, acme.id,
                                                   generation=users["rival"].session_generation)
    app = bottle.Bottle()
    pages = Probe(access)
    handled = [access.not_found_as_page]
    app.get("/portal/probe", callback=pages.anyone, apply=handled)
    app.get("/portal/probe/admins", callback=pages.admins, apply=handled)
    app.post("/portal/probe/form", callback=pages.form, apply=handled)
    app.get("/portal/probe/missing/<name>", callback=pages.missing, apply=handled)
    with serve_in_thread(app) as base_url:
        yield base_url, Users(cookies, tokens)


def as_user(users: Users, name: str) -> requests.Session:
    client = requests.Session()
    client.cookies.set(SESSION_COOKIE, users.cookies[name], path="/portal")
    return client


def test_without_a_session_every_route_redirects_to_sign_in(probe):
    base_url, _users = probe
    for method, path in [("GET", "/portal/probe"), ("GET", "/portal/probe/admins"),
                         ("POST", "/portal/probe/form"), ("GET", "/portal/probe/missing/x")]:
        response = requests.request(method, f"{base_url}{path}?lang=en",
                                    data={"word": "hi"}, allow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/portal/login?lang=en"
        assert response.headers["Cache-Control"] == "no-store"


def test_a_tampered_or_crossed_cookie_is_no_session(probe):
    base_url, users = probe
    tampered = requests.Session()
    tampered.cookies.set(SESSION_COOKIE, users.cookies["admin"][:-2] + "xx", path="/portal")
    crossed = as_user(users, "crossed")
    for client in (tampered, crossed):
        response = client.get(f"{base_url}/portal/probe", allow_redirects=False)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/portal/login")


def test_the_route_gets_the_sessions_user_and_tenant(probe):
    base_url, users = probe
    page = as_user(users, "rival").get(f"{base_url}/portal/probe?lang=ja")
    assert page.status_code == 200
    assert page.text == "rita@rival.example of rival in ja"


def test_a_role_too_low_gets_403_saying_who_may(probe):
    base_url, users = probe
    refused = as_user(users, "viewer").get(f"{base_url}/portal/probe/admins?lang=en")
    assert refused.status_code == 403
    assert i18n.text("admins_only", "en") in html.unescape(refused.text)
    assert refused.headers["Cache-Control"] == "no-store"
    allowed = as_user(users, "admin").get(f"{base_url}/portal/probe/admins")
    assert (allowed.status_code, allowed.text) == (200, "admin ada@acme.example")


def test_a_post_without_the_sessions_csrf_token_gets_403_with_the_reason(probe):
    base_url, users = probe
    url = f"{base_url}/portal/probe/form?lang=en"
    client = as_user(users, "viewer")
    for data in ({"word": "hi"}, {"word": "hi", "csrf_token": "bad"},
                 {"word": "hi", "csrf_token": users.tokens["admin"]}, {}):
        refused = client.post(url, data=data, allow_redirects=False)
        assert refused.status_code == 403, data
        assert i18n.text("csrf", "en") in html.unescape(refused.text)
        assert 'href="/portal/probe/form?lang=en"' in refused.text
    accepted = client.post(url, data={"word": "hi", "csrf_token": users.tokens["viewer"]})
    assert (accepted.status_code, accepted.text) == (200, "vic@acme.example posted hi")


def test_a_form_that_is_not_urlencoded_is_refused_before_the_route(probe):
    base_url, users = probe
    client = as_user(users, "viewer")
    url = f"{base_url}/portal/probe/form?lang=en"
    multipart = client.post(url, files={"word": ("w.txt", b"hi")},
                            data={"csrf_token": users.tokens["viewer"]})
    assert multipart.status_code == 415
    not_utf8 = client.post(url, data=b"word=%FF&csrf_token=" + users.tokens["viewer"].encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert not_utf8.status_code == 400


def test_not_found_raised_by_a_route_is_the_portals_404_page(probe):
    base_url, users = probe
    page = as_user(users, "viewer").get(f"{base_url}/portal/probe/missing/report?lang=en")
    assert page.status_code == 404
    assert i18n.text("portal_not_found", "en") in html.unescape(page.text)
    assert "Traceback" not in page.text


def test_an_unknown_role_is_refused_when_the_route_is_declared():
    with pytest.raises(ValueError, match="'owner'"):
        signed_in("owner")


def test_an_upload_form_must_be_multipart():
    with bound_request("/portal/distributions/new?lang=en", body="a=1"):
        assert read_upload_form().status_code == 415
