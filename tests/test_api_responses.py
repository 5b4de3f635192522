"""The JSON API on a real server: keys, idempotency, validation, batches, tenancy,
exports and the OpenAPI document."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import ApiKey, Response, Survey
from cxlab.surveys import EXAMPLES_DIR, load_definition
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")


@pytest.fixture
def api(config: Config, database: Database):
    """A running server; tenant acme has the visit survey, tenant rival one of its own."""
    acme = publish_survey_with_key(database, "acme", VISIT)
    rival = publish_survey_with_key(database, "rival", VISIT)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        yield base_url, acme, rival


def post(base_url, survey_id, body, key, suffix=""):
    return requests.post(
        f"{base_url}/api/v1/surveys/{survey_id}/responses{suffix}",
        data=body if isinstance(body, bytes) else json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )


def count(database: Database, survey_id: int, status: str = "complete") -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Response).where(
            Response.survey_id == survey_id, Response.status == status))


def test_create_and_idempotent_repeat(api, database):
    base_url, acme, _ = api
    body = {"answers": {"nps": 9, "greeting": 5, "heard_from": ["sns", "friend"]},
            "attributes": {"store": "umeda-04"}, "submitted_at": "2026-05-01T12:30:00+09:00",
            "idempotency_key": "kiosk-7:000123"}
    first = post(base_url, acme.survey_id, body, acme.api_key)
    assert first.status_code == 201
    again = post(base_url, acme.survey_id, body, acme.api_key)
    assert again.status_code == 200 and again.json() == first.json()
    keyless = post(base_url, acme.survey_id, {"answers": {"nps": 9}}, acme.api_key)
    assert keyless.status_code == 201 and keyless.json()["id"] != first.json()["id"]
    with database.session() as session:
        row = session.get(Response, first.json()["id"])
    assert row.answers == {"nps": 9, "greeting": 5, "heard_from": ["sns", "friend"]}
    assert row.attributes == {"store": "umeda-04"}
    assert row.submitted_at == datetime(2026, 5, 1, 3, 30, tzinfo=UTC)
    assert count(database, acme.survey_id) == 2


def test_validation_errors_list_every_problem(api, database):
    base_url, acme, _ = api
    response = post(base_url, acme.survey_id, {
        "answers": {"nps": 11, "greeting": "great", "visit_purpose": "brunch", "q99": 1},
        "attributes": {"store": "mars-01", "colour": "red"},
        "submitted_at": "yesterday", "idempotency_key": "", "extra": True,
    }, acme.api_key)
    assert response.status_code == 422
    problems = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert problems["nps"] == "must be a whole number from 0 to 10"
    assert problems["greeting"] == "must be a whole number from 1 to 5"
    assert problems["visit_purpose"].startswith("must be one of: lunch")
    assert problems["q99"] == "no such question in this survey"
    assert problems["attributes.store"].startswith("must be one of: shibuya-01")
    assert problems["attributes.colour"] == "no such attribute in this survey"
    assert "ISO 8601" in problems["submitted_at"]
    assert "idempotency_key" in problems and problems["extra"].startswith("unknown field")
    missing = post(base_url, acme.survey_id, {"answers": {}}, acme.api_key)
    assert missing.json()["errors"] == [
        {"field": "nps", "message": "this question needs an answer"}]
    future = post(base_url, acme.survey_id, {"answers": {"nps": 1}, "submitted_at":
                  (datetime.now(UTC) + timedelta(days=2)).isoformat()}, acme.api_key)
    assert future.json()["errors"][0] == {"field": "submitted_at",
                                          "message": "must not be in the future"}
    nul = post(base_url, acme.survey_id, {"answers": {"nps": 1, "comment": "a\u0000b"}},
               acme.api_key)
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "comment"
    assert count(database, acme.survey_id) == 0


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
])
def test_malformed_body_is_400(api, body, reason):
    base_url, acme, _ = api
    response = post(base_url, acme.survey_id, body, acme.api_key)
    assert response.status_code == 400
    assert reason in response.json()["errors"][0]["message"]


def test_missing_wrong_or_revoked_key_is_401(api, database):
    base_url, acme, _ = api
    url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses"
    body = {"answers": {"nps": 9}}
    assert requests.post(url, json=body).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Basic eDp5"}).status_code == 401
    wrong = acme.api_key[:-4] + "AAAA"
    refused = requests.post(url, json=body, headers={"Authorization": f"Bearer {wrong}"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["errors"][0]["field"] == "authorization"
    with database.session() as session:
        session.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
    assert post(base_url, acme.survey_id, body, acme.api_key).status_code == 401
    assert count(database, acme.survey_id) == 0


def test_another_tenants_survey_is_not_found(api, database):
    base_url, acme, rival = api
    body = {"answers": {"nps": 9}}
    crossing = post(base_url, acme.survey_id, body, rival.api_key)
    nowhere = post(base_url, 999_999, body, rival.api_key)
    assert crossing.status_code == nowhere.status_code == 404
    assert crossing.json() == nowhere.json()  # no hint that the survey exists
    export = requests.get(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                          headers={"Authorization": f"Bearer {rival.api_key}"})
    assert export.status_code == 404
    batch = post(base_url, acme.survey_id, {"responses": [body]}, rival.api_key, ":batch")
    assert batch.status_code == 404
    assert count(database, acme.survey_id) == 0
    assert post(base_url, rival.survey_id, body, rival.api_key).status_code == 201


def test_closed_survey_is_409_with_its_reason(api, database):
    base_url, acme, _ = api
    with database.session() as session:
        session.execute(update(Survey).where(Survey.id == acme.survey_id).values(status="closed"))
    refused = post(base_url, acme.survey_id, {"answers": {"nps": 9}}, acme.api_key)
    assert refused.status_code == 409 and refused.json()["reason"] == "closed"


def test_batch_is_one_transaction_of_up_to_1000(api, database):
    base_url, acme, _ = api
    items = [{"answers": {"nps": i % 11}, "idempotency_key": f"import-{i}"} for i in range(1000)]
    created = post(base_url, acme.survey_id, {"responses": items}, acme.api_key, ":batch")
    assert created.status_code == 201
    assert created.json()["created"] == 1000 and len(set(created.json()["ids"])) == 1000
    repeat = post(base_url, acme.survey_id, {"responses": items[:3]}, acme.api_key, ":batch")
    assert repeat.status_code == 200
    assert repeat.json() == {"ids": created.json()["ids"][:3], "created": 0}
    too_many = post(base_url, acme.survey_id, {"responses": items + items[:1]}, acme.api_key,
                    ":batch")
    assert too_many.status_code == 422 and "at most 1000" in too_many.json()["errors"][0]["message"]
    fresh = [{"answers": {"nps": 5}}, {"answers": {"nps": 50}}, {"answers": {"nps": 6}}]
    rejected = post(base_url, acme.survey_id, {"responses": fresh}, acme.api_key, ":batch")
    assert rejected.status_code == 422
    assert rejected.json()["errors"] == [
        {"field": "responses[1].nps", "message": "must be a whole number from 0 to 10"}]
    assert count(database, acme.survey_id) == 1000  # nothing of the rejected batch


def test_export_streams_csv_jsonl_and_xlsx(api, database):
    base_url, acme, _ = api
    post(base_url, acme.survey_id, {"answers": {"nps": 9, "heard_from": ["sns", "walk_by"],
         "comment": "=1+1 美味しい"}, "attributes": {"store": "sakae-06"},
         "submitted_at": "2026-01-01T00:00:00Z"}, acme.api_key)
    post(base_url, acme.survey_id, {"answers": {"nps": 3}}, acme.api_key)
    url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses"
    headers = {"Authorization": f"Bearer {acme.api_key}"}

    exported = requests.get(url, headers=headers)
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["nps"] for row in rows] == ["9", "3"]
    assert rows[0]["heard_from"] == "sns;walk_by" and rows[0]["store"] == "sakae-06"
    assert rows[0]["comment"] == "'=1+1 美味しい"  # neutralised: text, not a formula

    lines = requests.get(url, params={"format": "jsonl", "since": "2026-02-01T00:00:00Z"},
                         headers=headers).text.splitlines()
    assert [json.loads(line)["answers"] for line in lines] == [{"nps": 3}]

    workbook = load_workbook(io.BytesIO(requests.get(url, params={"format": "xlsx"},
                                                     headers=headers).content))
    sheet = workbook.active
    assert sheet.cell(1, 1).value == "response_id"
    comment_column = [c.value for c in sheet[1]].index("comment") + 1
    assert sheet.cell(2, comment_column).value == "=1+1 美味しい"
    assert sheet.cell(2, comment_column).data_type == "s"  # text, not a formula

    bad = requests.get(url, params={"format": "pdf", "since": "soon"}, headers=headers)
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"format", "since"}


def test_partial_responses_are_exported_only_when_asked(api, database, config):
    base_url, acme, _ = api
    page = requests.get(f"{base_url}/s/acme/store-visit")
    nonce = html.unescape(re.search(r'name="nonce" value="([^"]+)"', page.text).group(1))
    requests.post(f"{base_url}/s/acme/store-visit", data={"nonce": nonce, "nps": "5"},
                  allow_redirects=False)
    url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses?format=jsonl"
    headers = {"Authorization": f"Bearer {acme.api_key}"}
    assert requests.get(url, headers=headers).text == ""
    partial = requests.get(url + "&include_partial=true", headers=headers).text.splitlines()
    assert [json.loads(line)["status"] for line in partial] == ["partial"]


def test_openapi_document_describes_the_api(api):
    base_url, _, _ = api
    spec = requests.get(f"{base_url}/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/v1/surveys/{survey_id}/responses",
                                  "/api/v1/surveys/{survey_id}/responses:batch"}
    post_op = spec["paths"]["/api/v1/surveys/{survey_id}/responses"]["post"]
    assert {"201", "200", "401", "404", "422"} <= set(post_op["responses"])


def test_cached_lookups_expire_so_a_revoked_key_stops_working(environ, database):
    """With CXLAB_LOOKUP_TTL=1 a worker reuses a key's tenant for at most a second."""
    acme = publish_survey_with_key(database, "acme", VISIT)
    config = Config.from_environ({**environ, "CXLAB_LOOKUP_TTL": "1"})
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        body = {"answers": {"nps": 7}}
        assert post(base_url, acme.survey_id, body, acme.api_key).status_code == 201
        with database.session() as session:
            session.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
            session.execute(update(Survey).values(status="closed"))
        assert post(base_url, acme.survey_id, body, acme.api_key).status_code == 201
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while post(base_url, acme.survey_id, body, acme.api_key).status_code != 401:
            assert datetime.now(UTC) < deadline, "the revoked key still works after its TTL"
    assert count(database, acme.survey_id) >= 2


def test_an_empty_field_name_is_named_in_the_error(api):
    """Found by the fuzz test: {"": null} once gave an error with an empty field."""
    base_url, acme, _ = api
    for suffix in ("", ":batch"):
        answer = post(base_url, acme.survey_id, {"": None}, acme.api_key, suffix)
        assert answer.status_code == 422
        fields = [error["field"] for error in answer.json()["errors"]]
        assert "(empty name)" in fields and all(fields)
