"""Issue #14, item 11: cxlab apikey list|revoke and cxlab user
list|disable|enable|reset-password|unlock, end to end against a running portal."""

from __future__ import annotations

import html
import re

import requests
from cxlab import tenancy
from cxlab.db.models import LoginAttempt
from cxlab.portal_auth import LoginPolicy, record_failure
from sqlalchemy import func, select
from test_cli import cxlab  # noqa: F401 - the fixture, found by name

from survey_server.app import create_app
from survey_server.testing import serve_in_thread

OLD, NEW = "first long passphrase", "second long passphrase"


def sign_in(base_url: str, email: str, password: str) -> tuple[int, requests.Session]:
    client = requests.Session()
    page = client.get(f"{base_url}/portal/login?lang=en").text
    token = html.unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
    response = client.post(f"{base_url}/portal/login?lang=en", allow_redirects=False,
                           data={"email": email, "password": password, "csrf_token": token})
    return response.status_code, client


def home(base_url: str, client: requests.Session) -> int:
    return client.get(f"{base_url}/portal/", allow_redirects=False).status_code


def test_api_keys_are_listed_and_revoked(cxlab, database):  # noqa: F811
    cxlab("init")
    cxlab("tenant", "create", "acme", "--name", "Acme")
    key = cxlab("apikey", "create", "--tenant", "acme", "--name", "kiosk").stdout.strip()
    listing = cxlab("apikey", "list", "--tenant", "acme").stdout
    prefix = listing.split()[0]
    assert prefix in key and "kiosk" in listing and "active" in listing
    assert key not in listing  # only the prefix is ever shown
    cxlab("apikey", "revoke", "--tenant", "acme", prefix)
    assert "revoked" in cxlab("apikey", "list", "--tenant", "acme").stdout
    with database.session() as session:
        assert tenancy.authenticate_api_key(session, key) is None
    cxlab("tenant", "create", "rival", "--name", "Rival")
    other = cxlab("apikey", "revoke", "--tenant", "rival", prefix, expect_ok=False)
    assert "has no API key" in other.stderr


def test_users_are_listed_disabled_enabled_reset_and_unlocked(cxlab, config, database):  # noqa: F811
    cxlab("init")
    cxlab("tenant", "create", "acme", "--name", "Acme")
    cxlab("user", "create", "--tenant", "acme", "ana@acme.example", stdin=OLD + "\n")
    assert "ana@acme.example" in cxlab("user", "list", "--tenant", "acme").stdout
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        status, client = sign_in(base_url, "ana@acme.example", OLD)
        assert status == 303 and home(base_url, client) == 200

        cxlab("user", "reset-password", "ana@acme.example", stdin=NEW + "\n")
        assert home(base_url, client) == 303  # the session signed in before has ended
        assert sign_in(base_url, "ana@acme.example", OLD)[0] == 401
        status, client = sign_in(base_url, "ana@acme.example", NEW)
        assert status == 303

        cxlab("user", "disable", "ana@acme.example")
        assert "disabled" in cxlab("user", "list", "--tenant", "acme").stdout
        assert home(base_url, client) == 303
        assert sign_in(base_url, "ana@acme.example", NEW)[0] == 401
        cxlab("user", "enable", "ana@acme.example")
        assert sign_in(base_url, "ana@acme.example", NEW)[0] == 303

    with database.session() as session:
        for _ in range(4):
            record_failure(session, "ana@acme.example", "192.0.2.1", LoginPolicy())
    assert "Forgot 4" in cxlab("user", "unlock", "ana@acme.example").stdout
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
    assert "no user" in cxlab("user", "disable", "nobody@acme.example", expect_ok=False).stderr
    short = cxlab("user", "reset-password", "ana@acme.example", stdin="short\n", expect_ok=False)
    assert "at least 10" in short.stderr
