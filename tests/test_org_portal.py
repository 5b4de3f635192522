"""The portal for scoped users (issue #18), on a real server: a store manager sees
only their store's answers and invitations (home counts, distribution pages), an area
manager exactly their stores rolled up — a moved store's answers before the move stay
with its old area — the dashboard token carries the scope, and the tenant-wide reports
(lists, files, e-mailed PDFs) reach no scoped user. Another tenant's units of the same
codes change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from cxlab import org, report_subscriptions
from cxlab.config import Config
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.db import Database
from cxlab.db.models import Distribution, Invitation, Response, User
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import create_user, get_tenant
from sqlalchemy import select
from test_distribution_portal import cells, signed_in
from test_org import JUNE, MOVED, TREE
from test_portal import write_report

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

PASSWORD = "correct horse battery"
# (store, month, answers): Shinjuku's May answers are Kanto's, its July ones Kansai's.
ANSWERS = [("shibuya-01", 5, 7), ("shinjuku-02", 5, 4), ("shinjuku-02", 7, 6),
           ("umeda-04", 5, 9)]
# (store, invitations sent, answered)
INVITED = [("shibuya-01", 6, 3), ("shinjuku-02", 5, 2), ("umeda-04", 8, 5)]
USERS = {"boss@acme.example": None, "shibuya@acme.example": ["shibuya-01"],
         "kanto@acme.example": ["kanto"], "kansai@acme.example": ["kansai"]}


@pytest.fixture
def portal(config: Config, database: Database):
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    publish_survey_with_key(database, "acme", definition)
    publish_survey_with_key(database, "rival", definition)
    with database.session() as session:
        acme, rival = get_tenant(session, "acme"), get_tenant(session, "rival")
        survey = get_survey(session, acme, "store-visit")
        org.load_tree(session, acme, org.read_units_text(TREE, "csv"))
        org.load_tree(session, acme, org.read_units_text(MOVED, "csv"), effective=JUNE)
        # The rival's "kanto" holds Umeda: a scope resolves in its own tenant only.
        org.load_tree(session, rival, org.read_units_text(
            "code,name,kind,parent\nkanto,Kanto,area,\numeda-04,Umeda,store,kanto\n", "csv"))
        for email, scope in USERS.items():
            create_user(session, acme, email, PASSWORD)
            if scope:
                org.set_scope(session, acme, email, scope)
        for store, month, count in ANSWERS:
            for number in range(count):
                session.add(Response(
                    tenant_id=acme.id, survey_id=survey.id, survey_version=1,
                    submitted_at=datetime(2026, month, 10 + number, tzinfo=UTC),
                    answers={"nps": 9}, attributes={"store": store}))
        rival_survey = get_survey(session, rival, "store-visit")
        session.add(Response(tenant_id=rival.id, survey_id=rival_survey.id, survey_version=1,
                             submitted_at=datetime(2026, 5, 1, tzinfo=UTC), answers={"nps": 1},
                             attributes={"store": "umeda-04"}))
        sending = Distribution(tenant_id=acme.id, survey_id=survey.id, name="May customers")
        session.add(sending)
        session.flush()
        for store, sent, answered in INVITED:
            for number in range(sent):
                session.add(Invitation(
                    tenant_id=acme.id, survey_id=survey.id, distribution_id=sending.id,
                    token=f"{store}-{number}", email=f"{store}-{number}@example.com",
                    attributes={"store": store}, sent_at=datetime(2026, 5, 2, tzinfo=UTC),
                    created_at=datetime(2026, 5, 1, tzinfo=UTC),
                    responded_at=datetime(2026, 5, 3, tzinfo=UTC) if number < answered else None))
    write_report(config.var_dir, "acme", "weekly", "2026-05-08.html", "every store's report")
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        yield base_url


def survey_count(page: str) -> int:
    """The response count of the restaurant survey on the home page."""
    found = re.search(r'\(store-visit\)</span></td>.*?data-label="Responses">([\d,]+)</td>',
                      page, re.S)
    return int(found.group(1).replace(",", ""))


def distribution_counts(page: str) -> list[str]:
    """Invited, sent, answered of the home page's distribution line."""
    row = re.search(r"<tr>\s*<td>May customers</td>.*?</tr>", page, re.S).group(0)
    return cells(row)[1:4]


@pytest.mark.parametrize(("email", "answers", "invited"), [
    ("boss@acme.example", 26, "19"),
    ("shibuya@acme.example", 7, "6"),
    ("kanto@acme.example", 7 + 4, "11"),   # Shinjuku's May answers, not its July ones
    # Shinjuku's July answers; its invitations were made in May, when it was Kanto's.
    ("kansai@acme.example", 6 + 9, "8"),
])
def test_home_counts_only_the_users_scope(portal, email, answers, invited):
    page = signed_in(portal, email).get(f"{portal}/portal/?lang=en").text
    assert survey_count(page) == answers
    assert distribution_counts(page)[0] == invited


def test_a_distribution_page_shows_only_the_scopes_stores(portal, database):
    with database.session() as session:
        sending = session.scalar(select(Distribution.id))
    client = signed_in(portal, "shibuya@acme.example")
    page = client.get(f"{portal}/portal/distributions/{sending}?lang=en").text
    assert "shibuya-01" in page or "Shibuya" in page
    for other in ("shinjuku-02", "Shinjuku", "umeda-04", "Umeda"):
        assert other not in page
    boss = signed_in(portal, "boss@acme.example").get(
        f"{portal}/portal/distributions/{sending}?lang=en").text
    assert "umeda-04" in boss or "Umeda" in boss


def test_the_dashboard_token_carries_the_scope(portal, config):
    tokens = DashboardTokens(config.secret_key)
    for email, scope in USERS.items():
        location = signed_in(portal, email).get(
            f"{portal}/portal/dashboard/store-visit", allow_redirects=False).headers["Location"]
        grant = tokens.verify(parse_qs(urlsplit(location).query)["token"][0], "overview.ipynb")
        assert grant.scope == (tuple(scope) if scope else None), email


def test_tenant_wide_reports_reach_no_scoped_user(portal, database):
    boss = signed_in(portal, "boss@acme.example")
    assert "2026-05-08" in boss.get(f"{portal}/portal/reports?lang=en").text
    assert boss.get(f"{portal}/portal/reports/weekly/2026-05-08.html").status_code == 200
    store = signed_in(portal, "shibuya@acme.example")
    page = store.get(f"{portal}/portal/reports?lang=en").text
    assert "2026-05-08" not in page and "every store" in page
    assert 'name="action" value="subscribe"' not in page
    file = store.get(f"{portal}/portal/reports/weekly/2026-05-08.html")
    assert file.status_code == 404 and "every store's report" not in file.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = store.post(f"{portal}/portal/reports/subscription?lang=en",
                         data={"csrf_token": csrf, "action": "subscribe"})
    assert refused.status_code == 403
    with database.session() as session:
        acme = get_tenant(session, "acme")
        users = {user.email: user.id for user in session.scalars(select(User))}
        # Even a subscription row made before the scope was set delivers nothing.
        for email in ("boss@acme.example", "shibuya@acme.example"):
            session.add(report_subscriptions.ReportSubscription(
                tenant_id=acme.id, user_id=users[email], job="weekly-report"))
        session.flush()
        assert [user.email for user in report_subscriptions.subscribers(session, acme.id)] == [
            "boss@acme.example"]


@pytest.mark.parametrize(("email", "stores"), [
    ("boss@acme.example", {"shibuya-01": 7, "shinjuku-02": 10, "umeda-04": 9}),
    # Shinjuku's May answers were Kanto's; its July ones are Kansai's.
    ("kanto@acme.example", {"shibuya-01": 7, "shinjuku-02": 4}),
])
def test_an_admins_export_holds_their_scopes_answers_only(portal, database, email, stores):
    import csv
    import io

    with database.session() as session:
        session.scalar(select(User).where(User.email == email)).role = "admin"
    reply = signed_in(portal, email).get(
        f"{portal}/portal/surveys/store-visit/export?format=csv&lang=en")
    assert reply.status_code == 200
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    found: dict[str, int] = {}
    for row in rows:
        found[row["store"]] = found.get(row["store"], 0) + 1
    assert found == stores
