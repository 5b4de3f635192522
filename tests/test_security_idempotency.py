"""Issue #14, items 2 and 3: idempotency keys are scoped to their source, an
invitation has one response written only through its link, the Idempotency-Key header
works, and a reused key with another body is refused."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Invitation, Response
from cxlab.invitations import create_invitation
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import get_survey_by_id
from cxlab.tenancy import get_tenant
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

PULSE = parse_definition({
    "slug": "pulse", "title": "Pulse", "attributes": ["department"],
    "questions": [{"id": "nps", "type": "nps", "label": "NPS", "required": True},
                  {"id": "comment", "type": "text", "label": "Comment"}],
})


@pytest.fixture
def server(config: Config, database: Database):
    acme = publish_survey_with_key(database, "acme", PULSE)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        yield base_url, acme


def invite(database: Database, seeded, email="ana@acme.example") -> Invitation:
    with database.session() as session:
        tenant = get_tenant(session, seeded.tenant_slug)
        survey = get_survey_by_id(session, tenant.id, seeded.survey_id)
        invitation = create_invitation(session, tenant, survey, {"department": "sales"}, email)
        session.expunge(invitation)
    return invitation


def answer_invitation(base_url: str, token: str, nps: int) -> requests.Response:
    page = requests.get(f"{base_url}/i/{token}?lang=en")
    nonce = html.unescape(re.search(r'name="nonce" value="([^"]+)"', page.text).group(1))
    return requests.post(f"{base_url}/i/{token}?lang=en", data={"nonce": nonce, "nps": str(nps)})


def api_post(base_url, seeded, body, headers=None, suffix=""):
    return requests.post(
        f"{base_url}/api/v1/surveys/{seeded.survey_id}/responses{suffix}", data=json.dumps(body),
        headers={"Authorization": f"Bearer {seeded.api_key}",
                 "Content-Type": "application/json", **(headers or {})})


def rows(database: Database, survey_id: int) -> list[Response]:
    with database.session() as session:
        found = list(session.scalars(select(Response).where(Response.survey_id == survey_id)
                                     .order_by(Response.id)))
        session.expunge_all()
    return found


def test_an_api_key_cannot_pre_empt_an_invitees_answer(server, database):
    base_url, acme = server
    invitation = invite(database, acme)
    for key in (f"inv-{invitation.id}", f"inv-{invitation.id + 1}"):
        assert api_post(base_url, acme, {"answers": {"nps": 0}, "idempotency_key": key}
                        ).status_code == 201
    thanked = answer_invitation(base_url, invitation.token, 10)
    assert thanked.status_code == 200
    stored = [row for row in rows(database, acme.survey_id) if row.invitation_id is not None]
    assert [(row.invitation_id, row.answers["nps"]) for row in stored] == [(invitation.id, 10)]
    with database.session() as session:
        assert session.get(Invitation, invitation.id).responded_at is not None
    # The client's keys live in the API key's namespace, apart from server-made ones.
    assert all(row.idempotency_key.startswith("api:") for row in rows(database, acme.survey_id)
               if row.invitation_id is None)


def test_one_response_per_invitation_is_a_database_constraint(any_database):
    acme = publish_survey_with_key(any_database, "acme", PULSE)
    invitation = invite(any_database, acme)
    row = dict(tenant_id=acme.tenant_id, survey_id=acme.survey_id, survey_version=1,
               submitted_at=datetime.now(UTC), answers={"nps": 9}, invitation_id=invitation.id)
    with any_database.session() as session:
        session.add(Response(**row, idempotency_key="a"))
    with pytest.raises(IntegrityError), any_database.session() as session:
        session.add(Response(**row, idempotency_key="b"))


def test_a_reused_key_with_another_body_is_422_and_the_same_body_200(server, database):
    base_url, acme = server
    body = {"answers": {"nps": 9}, "idempotency_key": "till-3:0001"}
    first = api_post(base_url, acme, body)
    assert first.status_code == 201
    again = api_post(base_url, acme, body)
    assert (again.status_code, again.json()) == (200, first.json())
    changed = api_post(base_url, acme, {**body, "answers": {"nps": 2}})
    assert changed.status_code == 422
    (error,) = changed.json()["errors"]
    assert error["field"] == "idempotency_key" and "different body" in error["message"]
    batch = api_post(base_url, acme, {"responses": [{"answers": {"nps": 1}},
                                                    {**body, "answers": {"nps": 3}}]},
                     suffix=":batch")
    assert batch.status_code == 422
    assert batch.json()["errors"][0]["field"] == "responses[1].idempotency_key"
    assert [row.answers for row in rows(database, acme.survey_id)] == [{"nps": 9}]


def test_the_idempotency_key_header_is_honoured(server, database):
    base_url, acme = server
    spec = requests.get(f"{base_url}/api/v1/openapi.json").json()
    post_op = spec["paths"]["/api/v1/surveys/{survey_id}/responses"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in post_op["parameters"]}
    header = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = api_post(base_url, acme, {"answers": {"nps": 7}}, header)
    second = api_post(base_url, acme, {"answers": {"nps": 7}}, header)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    other = api_post(base_url, acme, {"answers": {"nps": 1}}, header)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "idempotency_key"
    clash = api_post(base_url, acme, {"answers": {"nps": 7}, "idempotency_key": "x"}, header)
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "Idempotency-Key"
    # The key in the body, then the same key in the header only: one request, one row.
    both = api_post(base_url, acme, {"answers": {"nps": 8}, "idempotency_key": "y"},
                    {"Idempotency-Key": "y"})
    header_only = api_post(base_url, acme, {"answers": {"nps": 8}}, {"Idempotency-Key": "y"})
    assert (both.status_code, header_only.status_code) == (201, 200)
    assert both.json() == header_only.json()
    batch = {"responses": [{"answers": {"nps": 4}}, {"answers": {"nps": 5}}]}
    batch_header = {"Idempotency-Key": "batch-1"}
    assert api_post(base_url, acme, batch, batch_header, ":batch").status_code == 201
    repeat = api_post(base_url, acme, batch, batch_header, ":batch")
    assert repeat.status_code == 200 and repeat.json()["created"] == 0
    longer = {"responses": [*batch["responses"], {"answers": {"nps": 6}}]}
    assert api_post(base_url, acme, longer, batch_header, ":batch").status_code == 422
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 4
