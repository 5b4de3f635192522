"""Distributions in the client portal on a real server: response rates on the home
page and by attribute, and the CSV upload (preview, confirm), within the tenant
boundary and for admins only."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Distribution, Invitation, OutboxMessage
from cxlab.tenancy import create_user, get_tenant
from sqlalchemy import func, select
from test_distribution import VISIT, import_rows

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

PASSWORD = "correct horse battery"


def recipients(prefix: str) -> bytes:
    """Five recipients <prefix>1..5@example.com: two in 渋谷, three in 新宿."""
    return ("email,store,department\n"
            f"{prefix}1@example.com,渋谷,sales\n"
            f"{prefix}2@example.com,渋谷,sales\n"
            f"{prefix}3@example.com,新宿,hr\n"
            f"{prefix}4@example.com,新宿,\n"
            f"{prefix}5@example.com,新宿,\n").encode()


ACME_LIST = recipients("a")
BAD_LIST = ("email,store,colour\n"
            "ok@example.com,渋谷,red\n"
            "not-an-address,新宿,\n"
            "OK@example.com,新宿,\n"
            "cy@example.com,池袋,\n").encode()


def csrf_of(page: str) -> str:
    return html.unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))


def reference_of(page: str) -> str:
    return html.unescape(re.search(r'name="reference" value="([^"]+)"', page).group(1))


@pytest.fixture
def portal(config: Config, database: Database):
    """Tenants acme (admin ana, viewer vic) and rival (admin rita), each with the
    visit survey and one distribution: acme's sent to five, three answered."""
    publish_survey_with_key(database, "acme", VISIT)
    publish_survey_with_key(database, "rival", VISIT)
    with database.session() as session:
        acme, rival = get_tenant(session, "acme"), get_tenant(session, "rival")
        create_user(session, acme, "ana@acme.example", PASSWORD, role="admin")
        create_user(session, acme, "vic@acme.example", PASSWORD)
        create_user(session, rival, "rita@rival.example", PASSWORD, role="admin")
    import_rows(database, config, ACME_LIST, name="May customers")
    import_rows(database, config, "email,store\nr1@example.com,渋谷\n".encode(), slug="rival",
                name="Rival secret list")
    now = datetime.now(UTC)
    with database.session() as session:
        for invitation in session.scalars(select(Invitation)):
            if invitation.email != "a5@example.com":  # a5's e-mail is still queued
                invitation.sent_at = now
            if invitation.email in ("a1@example.com", "a3@example.com", "a5@example.com"):
                invitation.responded_at = now
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        yield base_url


def signed_in(base_url: str, email: str) -> requests.Session:
    client = requests.Session()
    token = csrf_of(client.get(f"{base_url}/portal/login?lang=en").text)
    response = client.post(f"{base_url}/portal/login?lang=en", allow_redirects=False,
                           data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    return client


def distribution_id(database: Database, name: str) -> int:
    with database.session() as session:
        return session.scalar(select(Distribution.id).where(Distribution.name == name))


def cells(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)]


def test_home_shows_own_distributions_with_their_rates(portal, database):
    page = signed_in(portal, "vic@acme.example").get(f"{portal}/portal/?lang=en").text
    assert "May customers" in page and "Rival secret list" not in page
    row = cells(page)[cells(page).index("May customers"):][:5]
    # Five invited, four e-mails sent, two of those four answered (a5 answered
    # without a sent e-mail, so is not counted).
    assert row == ["May customers", "5", "4", "2", "50.0%"]
    # A viewer sees no upload link; an admin does.
    assert "/portal/distributions/new" not in page
    admin_page = signed_in(portal, "ana@acme.example").get(f"{portal}/portal/?lang=en").text
    assert "/portal/distributions/new" in admin_page


def test_rates_by_attribute_match_the_invitations(portal, database):
    client = signed_in(portal, "ana@acme.example")
    page = client.get(f"{portal}/portal/distributions/"
                      f"{distribution_id(database, 'May customers')}?lang=en")
    assert page.status_code == 200
    assert "Response rate by store" in page.text
    found = cells(page.text)
    assert found[:4] == ["5", "4", "2", "50.0%"]
    # One answer per store is below the survey's min_group (5): sent counts show,
    # answered counts and rates are hidden (issue #14: no group below min_group).
    hidden = "hidden (anonymity)"
    by_store = found[found.index("新宿"):][:4]
    assert by_store == ["新宿", "2", hidden, "–"]
    assert found[found.index("渋谷"):][:4] == ["渋谷", "2", hidden, "–"]
    assert found[found.index("sales"):][:4] == ["sales", "2", hidden, "–"]
    assert found[found.index("(none)"):][:4] == ["(none)", "1", "0", "0.0%"]


def test_another_tenants_distribution_is_not_found(portal, database):
    client = signed_in(portal, "ana@acme.example")
    rival = distribution_id(database, "Rival secret list")
    page = client.get(f"{portal}/portal/distributions/{rival}?lang=en")
    assert page.status_code == 404 and "Rival secret list" not in page.text
    assert client.get(f"{portal}/portal/distributions/999999").status_code == 404
    # Not signed in: to the login page.
    anonymous = requests.get(f"{portal}/portal/distributions/{rival}", allow_redirects=False)
    assert anonymous.status_code == 303 and "/portal/login" in anonymous.headers["Location"]


def upload(client: requests.Session, base_url: str, data: bytes, *, name: str = "June",
           survey: str = "visit", reminder: str = "") -> requests.Response:
    token = csrf_of(client.get(f"{base_url}/portal/distributions/new?lang=en").text)
    return client.post(
        f"{base_url}/portal/distributions/new?lang=en",
        data={"csrf_token": token, "survey": survey, "name": name,
              "reminder_after_days": reminder},
        files={"recipients": ("list.csv", data, "text/csv")},
    )


def confirm(client: requests.Session, base_url: str, reference: str,
            csrf_token: str) -> requests.Response:
    return client.post(f"{base_url}/portal/distributions/confirm?lang=en",
                       data={"csrf_token": csrf_token, "reference": reference},
                       allow_redirects=False)


def counts(database: Database, name: str) -> tuple[int, int]:
    with database.session() as session:
        distribution = session.scalar(select(Distribution).where(Distribution.name == name))
        if distribution is None:
            return 0, 0
        invitations = session.scalar(select(func.count(Invitation.id)).where(
            Invitation.distribution_id == distribution.id))
        queued = session.scalar(select(func.count(OutboxMessage.id)).join(
            Invitation, Invitation.id == OutboxMessage.invitation_id).where(
            Invitation.distribution_id == distribution.id, OutboxMessage.status == "queued"))
        return invitations, queued


def test_preview_lists_every_problem_by_line_and_writes_nothing(portal, database, var_dir):
    client = signed_in(portal, "ana@acme.example")
    preview = upload(client, portal, BAD_LIST)
    assert preview.status_code == 200
    text = html.unescape(preview.text)
    assert "Of 4 line(s), 1 recipient(s) will be invited." in text
    problems = re.findall(r"<li>(.*?)</li>", text)
    assert problems[0].startswith("line 1: column 'colour' is not an attribute")
    assert problems[1:] == ["line 3: 'not-an-address' is not an e-mail address",
                            "line 4: duplicate of line 2",
                            "line 5: store='池袋' must be one of 渋谷, 新宿"]
    assert "ok@example.com" in cells(preview.text)
    assert counts(database, "June") == (0, 0)
    assert len(list((var_dir / "uploads" / "acme").glob("*.csv"))) == 1
    # A file the parser refuses outright is reported on the form.
    refused = upload(client, portal, b"name,store\nx,y\n")
    assert refused.status_code == 422 and "no &#039;email&#039; column" in refused.text


def test_confirm_creates_invitations_and_queues_mails_once(portal, database, var_dir):
    client = signed_in(portal, "ana@acme.example")
    preview = upload(client, portal, recipients("b"), name="June 店舗",
                     reminder="7")
    assert "Of 5 line(s), 5 recipient(s) will be invited." in preview.text
    response = confirm(client, portal, reference_of(preview.text), csrf_of(preview.text))
    assert response.status_code == 303
    created = distribution_id(database, "June 店舗")
    assert f"/portal/distributions/{created}" in response.headers["Location"]
    assert counts(database, "June 店舗") == (5, 5)
    with database.session() as session:
        assert session.get(Distribution, created).reminder_after_days == 7
    assert list((var_dir / "uploads" / "acme").glob("*.csv")) == []
    # Confirming again (a double click) creates nothing more.
    again = confirm(client, portal, reference_of(preview.text), csrf_of(preview.text))
    assert again.status_code == 404
    assert counts(database, "June 店舗") == (5, 5)


def test_shift_jis_upload_works(portal, database):
    client = signed_in(portal, "ana@acme.example")
    data = "email,store\nsj1@example.com,渋谷\nsj2@example.com,新宿\n".encode("cp932")
    preview = upload(client, portal, data, name="Shift_JIS list")
    assert "Of 2 line(s), 2 recipient(s) will be invited." in preview.text
    assert "渋谷" in cells(preview.text)
    assert confirm(client, portal, reference_of(preview.text),
                   csrf_of(preview.text)).status_code == 303
    assert counts(database, "Shift_JIS list") == (2, 2)
    with database.session() as session:
        stores = session.scalars(select(Invitation.attributes).where(
            Invitation.email.like("sj%"))).all()
    assert sorted(attributes["store"] for attributes in stores) == ["新宿", "渋谷"]


def test_a_viewer_is_refused(portal, database):
    admin = signed_in(portal, "ana@acme.example")
    preview = upload(admin, portal, recipients("c"), name="Viewer try")
    viewer = signed_in(portal, "vic@acme.example")
    assert viewer.get(f"{portal}/portal/distributions/new").status_code == 403
    page = viewer.get(f"{portal}/portal/?lang=en").text
    token = csrf_of(page)
    refused = viewer.post(f"{portal}/portal/distributions/new?lang=en",
                          data={"csrf_token": token, "survey": "visit", "name": "x"},
                          files={"recipients": ("l.csv", ACME_LIST, "text/csv")})
    assert refused.status_code == 403
    # Even with an admin's valid reference, a viewer's confirm is refused.
    assert confirm(viewer, portal, reference_of(preview.text), token).status_code == 403
    assert counts(database, "Viewer try") == (0, 0)


def test_a_tampered_reference_or_missing_csrf_is_refused(portal, database):
    client = signed_in(portal, "ana@acme.example")
    preview = upload(client, portal, recipients("d"), name="Tampered")
    reference, token = reference_of(preview.text), csrf_of(preview.text)
    tampered = reference[:-3] + ("AAA" if not reference.endswith("AAA") else "BBB")
    assert confirm(client, portal, tampered, token).status_code == 404
    assert confirm(client, portal, "../../etc/passwd", token).status_code == 404
    assert confirm(client, portal, reference, "wrong").status_code == 403
    no_token = client.post(f"{portal}/portal/distributions/new",
                           files={"recipients": ("l.csv", ACME_LIST, "text/csv")},
                           data={"survey": "visit", "name": "x"})
    assert no_token.status_code == 403
    assert counts(database, "Tampered") == (0, 0)
    assert confirm(client, portal, reference, token).status_code == 303
    assert counts(database, "Tampered") == (5, 5)


def test_another_tenant_cannot_confirm_an_upload(portal, database, var_dir):
    ana = signed_in(portal, "ana@acme.example")
    preview = upload(ana, portal, recipients("e"), name="Acme private")
    rita = signed_in(portal, "rita@rival.example")
    rita_token = csrf_of(rita.get(f"{portal}/portal/?lang=en").text)
    assert confirm(rita, portal, reference_of(preview.text), rita_token).status_code == 404
    assert counts(database, "Acme private") == (0, 0)
    assert len(list((var_dir / "uploads" / "acme").glob("*.csv"))) == 1
    # Nor pick a survey it does not have in the upload form.
    assert upload(rita, portal, ACME_LIST, survey="no-such-survey").status_code == 422
