# ruff: noqa: F811 - the fixtures imported from test_portal are used as arguments
"""Issue #14 on the portal: out-of-range ids (item 10), sessions that really end
(item 4), sign-in throttling without lock-out (item 8)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import requests
from cxlab.db.models import User
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import update
from test_portal import (  # noqa: F401 - fixtures are found by name
    Portal,
    csrf_of,
    login,
    make_portal,
    portal,
    signed_in,
)

from survey_server.portal_tokens import PortalSessions, SessionClaims


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
