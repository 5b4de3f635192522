# ruff: noqa: F811 - the fixtures imported from test_portal are used as arguments
"""Issue #14 on the portal: out-of-range ids (item 10), sessions that really end
(item 4), sign-in throttling without lock-out (item 8)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import User
from cxlab.portal_auth import LoginPolicy
from cxlab.surveys import parse_definition
from cxlab.tenancy import create_user, get_tenant
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import update
from test_portal import (  # noqa: F401 - fixtures are found by name
    PASSWORD,
    Portal,
    csrf_of,
    login,
    make_portal,
    portal,
    signed_in,
)

from survey_server.app import create_app
from survey_server.portal_tokens import PortalSessions, SessionClaims
from survey_server.testing import publish_survey_with_key, serve_in_thread


def test_out_of_range_numeric_ids_are_404_not_500(portal: Portal):
    client = signed_in(portal)
    for number in ("99999999999999999999", "9223372036854775808", "2147483648", "0"):
        response = client.get(f"{portal.base_url}/portal/distributions/{number}?lang=en",
                              allow_redirects=False)
        assert response.status_code == 404, number
        assert "Traceback" not in response.text
    api = requests.get(f"{portal.base_url}/api/v1/surveys/99999999999999999999/responses",
                       headers={"Authorization": "Bearer nope"})
    assert api.status_code in (401, 404)


# ------------------------------------------------------------ sessions (item 4)


def _forged_session(portal: Portal, claims: SessionClaims, *, signed_ago: int = 0) -> str:
    """A genuine cookie value (the server's key) with ``claims``, signed ``signed_ago``
    seconds ago."""

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - signed_ago

    serializer = URLSafeTimedSerializer(portal.config.secret_key, salt="cxlab.portal-session",
                                        signer=Backdated)
    return serializer.dumps({"u": claims.user_id, "t": claims.tenant_id, "s": claims.session_id,
                             "g": claims.generation, "i": claims.issued_at})


def _opens_home(portal: Portal, cookie: str) -> bool:
    client = requests.Session()
    client.cookies.set("cxlab_portal", cookie, path="/portal")
    return client.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 200


def test_signing_out_ends_every_copy_of_the_cookie(portal: Portal):
    client = signed_in(portal)
    stolen = client.cookies["cxlab_portal"]
    assert _opens_home(portal, stolen)
    token = csrf_of(client.get(portal.base_url + "/portal/").text)
    assert client.post(portal.base_url + "/portal/logout", data={"csrf_token": token},
                       allow_redirects=False).status_code == 303
    assert not _opens_home(portal, stolen)
    # Signing in again gives a working session; the old copy stays dead.
    fresh = signed_in(portal)
    assert fresh.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 200
    assert not _opens_home(portal, stolen)


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(portal: Portal):
    client = signed_in(portal)
    with portal.database.session() as session:
        session.execute(update(User).where(User.email == "ana@acme.example")
                        .values(disabled_at=datetime.now(UTC)))
    assert client.get(portal.base_url + "/portal/", allow_redirects=False).status_code == 303
    assert login(portal, "ana@acme.example").status_code == 401


def test_sessions_have_an_idle_timeout_and_an_absolute_lifetime(portal: Portal):
    client = signed_in(portal)
    claims = PortalSessions(portal.config.secret_key).read(client.cookies["cxlab_portal"])
    assert claims is not None and _opens_home(portal, _forged_session(portal, claims))
    idle = portal.config.session_idle_minutes * 60
    assert not _opens_home(portal, _forged_session(portal, claims, signed_ago=idle + 60))
    # Re-signing on every page does not stretch a session past its absolute lifetime.
    started_long_ago = replace(
        claims, issued_at=int(time.time()) - portal.config.session_max_hours * 3600 - 60)
    assert not _opens_home(portal, _forged_session(portal, started_long_ago))
    # The page no longer re-signs a cookie for hours: its Max-Age is the idle time.
    page = client.get(portal.base_url + "/portal/")
    assert f"Max-Age={idle}" in page.headers["Set-Cookie"]


# ------------------------------------------------------------ throttling (item 8)


@pytest.fixture
def behind_proxy(environ, database: Database):
    """A portal whose only peer is its TLS proxy on 127.0.0.1 (CXLAB_TRUSTED_PROXIES)."""
    config = Config.from_environ({**environ, "CXLAB_TRUSTED_PROXIES": "127.0.0.1/32"})
    publish_survey_with_key(database, "acme", parse_definition({
        "slug": "s", "title": "S", "questions": [{"id": "nps", "type": "nps", "label": "N"}]}))
    with database.session() as session:
        create_user(session, get_tenant(session, "acme"), "ana@acme.example", PASSWORD)
        create_user(session, get_tenant(session, "acme"), "ben@acme.example", PASSWORD)
    policy = LoginPolicy(free_failures=3, max_failures_per_ip=5)
    app = create_app(config, database, log_stream=None, login_policy=policy)
    with serve_in_thread(app) as base_url:
        yield Portal(base_url, config, database, config.var_dir)


def from_address(address: str) -> requests.Session:
    client = requests.Session()
    client.headers["X-Forwarded-For"] = f"6.6.6.6, {address}"  # left part: client-made
    return client


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(behind_proxy):
    attacker = from_address("203.0.113.66")
    for number in range(5):
        assert login(behind_proxy, f"x{number}@acme.example", "wrong password!",
                     client=attacker).status_code == 401
    assert login(behind_proxy, "ben@acme.example", client=attacker).status_code == 429
    # Everyone else comes through the same proxy address and is not affected.
    assert login(behind_proxy, "ana@acme.example",
                 client=from_address("198.51.100.7")).status_code == 303


def test_knowing_an_email_does_not_lock_its_owner_out(behind_proxy):
    attacker = from_address("203.0.113.66")
    statuses = [login(behind_proxy, "ana@acme.example", "wrong password!",
                      client=attacker).status_code for _ in range(8)]
    assert statuses[:3] == [401] * 3 and set(statuses[3:]) == {429}  # slowed, not counted
    refused = login(behind_proxy, "ana@acme.example", client=attacker)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert login(behind_proxy, "ana@acme.example",
                 client=from_address("198.51.100.7")).status_code == 303


def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_portal):
    portal = make_portal(LoginPolicy(free_failures=50, max_failures_per_ip=3))
    for number in range(3):
        client = from_address(f"198.51.100.{number}")  # forged: the peer is no proxy
        assert login(portal, f"x{number}@acme.example", "wrong password!",
                     client=client).status_code == 401
    assert login(portal, "ana@acme.example",
                 client=from_address("198.51.100.99")).status_code == 429
