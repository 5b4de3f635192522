"""Issue #14, item 5: an unlinked EX survey answered through invitations keeps no
link from an answer to an address — not in any table, not in the store — while
response rates still work."""

from __future__ import annotations

import html
import re
from datetime import UTC

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Distribution, Invitation, Response
from cxlab.distribution.rates import response_rates
from cxlab.invitations import create_invitation
from cxlab.store import load_responses, sync
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import get_survey_by_id
from cxlab.tenancy import get_tenant
from sqlalchemy import inspect, select, text

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

EX = parse_definition({
    "slug": "pulse", "title": "Pulse", "kind": "ex",
    "attributes": [{"name": "department", "values": ["sales", "hr"]}],
    "questions": [{"id": "enps", "type": "nps", "label": "eNPS", "required": True},
                  {"type": "page_break"},
                  {"id": "comment", "type": "text", "label": "Comment"}],
})


def nonce_of(page: str) -> str:
    return html.unescape(re.search(r'name="nonce" value="([^"]+)"', page).group(1))


def answer_in_two_pages(base_url: str, token: str, enps: int, comment: str) -> None:
    url = f"{base_url}/i/{token}?lang=en"
    first = requests.post(url, data={"nonce": nonce_of(requests.get(url).text),
                                     "page": "0", "enps": str(enps)}, allow_redirects=False)
    assert first.status_code == 303
    resumed = requests.get(url)  # the link resumes the half-done response at page 2
    assert resumed.status_code == 200 and 'name="comment"' in resumed.text
    done = requests.post(url, data={"nonce": nonce_of(resumed.text), "page": "1",
                                    "comment": comment})
    assert done.status_code == 200
    again = requests.get(url)
    assert "already" in again.text.lower()


@pytest.mark.parametrize("use_postgres", [False, True], ids=["sqlite", "postgresql"])
def test_unlinked_invitation_answers_keep_no_link_to_an_address(
    request, environ, tmp_path, use_postgres,
):
    if use_postgres:
        environ = {**environ, "CXLAB_DATABASE_URL": request.getfixturevalue("postgres_url")}
    config = Config.from_environ(environ)
    database = Database(config.database_url)
    database.migrate()
    acme = publish_survey_with_key(database, "acme", EX)
    emails = ["ana@acme.example", "ben@acme.example", "cho@acme.example"]
    with database.session() as session:
        tenant = get_tenant(session, "acme")
        survey = get_survey_by_id(session, tenant.id, acme.survey_id)
        sending = Distribution(tenant_id=tenant.id, survey_id=survey.id, name="May")
        session.add(sending)
        session.flush()
        invitations = [create_invitation(session, tenant, survey, {"department": "sales"}, e)
                       for e in emails]
        for invitation in invitations:
            invitation.sent_at, invitation.distribution_id = invitation.created_at, sending.id
        tokens = [(i.id, i.token) for i in invitations]
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        for (_id, token), score in zip(tokens[:2], (9, 3), strict=True):
            answer_in_two_pages(base_url, token, score, f"comment {score}")

    with database.session() as session:
        stored = list(session.scalars(select(Response)))
        assert len(stored) == 2 and all(r.status == "complete" for r in stored)
        assert all(r.invitation_id is None for r in stored)
        answered = list(session.scalars(select(Invitation).where(
            Invitation.responded_at.is_not(None))))
        assert len(answered) == 2
        # Only *that* it was answered: the day, and no key to the response is kept.
        for invitation in answered:
            moment = invitation.responded_at.astimezone(UTC)
            assert (moment.hour, moment.minute, moment.second, moment.microsecond) == (0,) * 4
            assert invitation.response_key is None
        # No column of the responses table holds an invitation id, a token or an address.
        columns = [c["name"] for c in inspect(session.connection()).get_columns("responses")]
        for row in session.execute(text("SELECT * FROM responses")).mappings():
            cells = " ".join(str(row[c]) for c in columns)
            for invitation_id, token in tokens:
                assert token not in cells
                assert row["idempotency_key"] != f"inv-{invitation_id}"
            assert not any(email in cells for email in emails)
        rates = response_rates(session, tenant)
    assert rates["responded"].sum() == 2 and rates["sent"].sum() == 3

    store = str(tmp_path / "store")
    sync(database, store, progress=False)
    frame = load_responses(store, "acme", "pulse")
    assert len(frame) == 2 and frame["invitation_id"].isna().all()
    assert not frame.astype(str).apply(lambda c: c.str.contains("@")).any().any()
    database.dispose()


def test_a_linked_cx_invitation_still_records_its_invitation(config, database):
    cx = parse_definition({**EX.raw, "kind": "cx"})
    assert cx.anonymity.unlinked is False
    acme = publish_survey_with_key(database, "acme", cx)
    with database.session() as session:
        tenant = get_tenant(session, "acme")
        survey = get_survey_by_id(session, tenant.id, acme.survey_id)
        invitation = create_invitation(session, tenant, survey, {}, "dan@acme.example")
        token, invitation_id = invitation.token, invitation.id
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        # The page says truthfully that this answer is not anonymous ...
        linked = requests.get(f"{base_url}/i/{token}?lang=en").text
        assert "can see them as yours" in linked and "anonymous" not in linked
        assert "groups of at least" not in linked
        # ... and an open link that it stores no name or address.
        open_page = requests.get(f"{base_url}/s/acme/pulse?lang=ja").text
        assert "お名前やメールアドレスなしで保存されます" in open_page
        answer_in_two_pages(base_url, token, 8, "fine")
    with database.session() as session:
        (row,) = session.scalars(select(Response))
        assert row.invitation_id == invitation_id


def test_an_invitations_form_cannot_be_sent_through_the_open_link(config, database):
    seeded = publish_survey_with_key(database, "acme", EX)
    with database.session() as session:
        tenant = get_tenant(session, "acme")
        survey = get_survey_by_id(session, tenant.id, seeded.survey_id)
        token = create_invitation(session, tenant, survey, {"department": "hr"}).token
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        nonce = nonce_of(requests.get(f"{base_url}/i/{token}?lang=en").text)
        sent = requests.post(f"{base_url}/s/acme/pulse?lang=en",
                             data={"nonce": nonce, "page": "0", "enps": "5"},
                             allow_redirects=False)
    assert sent.status_code == 400
    with database.session() as session:
        assert session.scalar(select(Response.id)) is None
