"""Bad input from outside: every row gets a 4xx naming the field and the reason (or, for
a header a browser got wrong, the page in the default language), never a 5xx — on
SQLite and on PostgreSQL. Issue #15 found each of these answering 500 or 503."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.surveys import parse_definition
from sqlalchemy import func, select

from survey_server.app import create_app
from survey_server.testing import PublishedSurvey, publish_survey_with_key, serve_in_thread

ONE_PAGE = parse_definition({
    "slug": "quick", "title": {"ja": "かんたん", "en": "Quick"},
    "attributes": [{"name": "store", "from_query": True}],
    "questions": [
        {"id": "nps", "type": "nps", "required": True, "label": "Recommend?"},
        {"id": "comment", "type": "text", "label": "Comment"},
    ],
})


@dataclass(frozen=True)
class Case:
    """One bad request: what is sent, and the status and error field expected."""

    name: str
    method: str
    path: str  # {survey_id} and {slug} are filled in
    status: int
    error_field: str | None = None  # the "field" of a JSON error, when the answer is JSON
    body: bytes | None = None
    headers: dict[str, bytes | str] = field(default_factory=dict)
    authorized: bool = True  # send the tenant's API key


API = "/api/v1/surveys/{survey_id}/responses"
JSON = {"Content-Type": "application/json"}
CASES = [
    Case("lone surrogate as a question id", "POST", API, 422, "\ud800",
         rb'{"answers": {"\ud800": 1}}', JSON),
    Case("lone surrogate as an attribute name", "POST", API, 422, "attributes.\ud800",
         rb'{"answers": {"nps": 5}, "attributes": {"\ud800": "x"}}', JSON),
    Case("lone surrogate as a top-level field", "POST", API, 422, "\ud800",
         rb'{"answers": {"nps": 5}, "\ud800": 1}', JSON),
    Case("lone surrogate in a batch item", "POST", API + ":batch", 422,
         "responses[0].\ud800", rb'{"responses": [{"answers": {"\ud800": 1}}]}', JSON),
    Case("lone surrogate in a text answer", "POST", API, 422, "comment",
         rb'{"answers": {"nps": 5, "comment": "a\udc00b"}}', JSON),
    Case("NUL in a text answer", "POST", API, 422, "comment",
         rb'{"answers": {"nps": 5, "comment": "a\u0000b"}}', JSON),
    Case("NUL in an attribute value", "POST", API, 422, "attributes.store",
         rb'{"answers": {"nps": 5}, "attributes": {"store": "a\u0000"}}', JSON),
    Case("NUL in an idempotency key", "POST", API, 422, "idempotency_key",
         rb'{"answers": {"nps": 5}, "idempotency_key": "k\u0000"}', JSON),
    Case("Authorization Bearer in Latin-1", "POST", API, 401, "authorization",
         rb'{"answers": {"nps": 5}}', {**JSON, "Authorization": "Bearer éé".encode("latin-1")},
         authorized=False),
    Case("Authorization Basic with a byte that is not UTF-8", "POST", API, 401,
         "authorization", rb'{"answers": {"nps": 5}}',
         {**JSON, "Authorization": b"Basic \xff"}, authorized=False),
    Case("superscript one as the survey id", "POST", "/api/v1/surveys/%C2%B9/responses", 404,
         "survey_id", rb'{"answers": {"nps": 5}}', JSON),
    Case("superscript one as the survey id of an export", "GET",
         "/api/v1/surveys/%C2%B9/responses", 404, "survey_id"),
    Case("Arabic-Indic digits as the survey id", "GET",
         "/api/v1/surveys/%D9%A1/responses", 404, "survey_id"),
    Case("survey page with Accept-Language in Latin-1", "GET", "/s/acme/quick", 200,
         headers={"Accept-Language": "fr-CH, é;q=0.9".encode("latin-1")}),
    Case("survey page with a NUL in a query attribute", "GET", "/s/acme/quick?store=a%00b", 200),
]


@pytest.fixture
def server(any_database: Database, environ: dict[str, str]):
    config = Config.from_environ({**environ, "CXLAB_DATABASE_URL": any_database.url})
    seeded = publish_survey_with_key(any_database, "acme", ONE_PAGE)
    with serve_in_thread(create_app(config, any_database, log_stream=None)) as base_url:
        yield base_url, seeded, any_database


def stored(database: Database, survey: PublishedSurvey) -> int:
    from cxlab.db.models import Response

    with database.session() as session:
        return session.scalar(
            select(func.count()).select_from(Response).where(Response.survey_id == survey.survey_id)
        )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_4xx_naming_the_field(server, case: Case):
    base_url, seeded, database = server
    headers = dict(case.headers)
    if case.authorized:
        headers["Authorization"] = f"Bearer {seeded.api_key}"
    url = base_url + case.path.format(survey_id=seeded.survey_id)
    answer = requests.request(case.method, url, data=case.body, headers=headers, timeout=30)
    assert answer.status_code == case.status, answer.text
    if case.error_field is not None:
        errors = answer.json()["errors"]
        assert case.error_field in {error["field"] for error in errors}, errors
        assert all(error["message"] for error in errors)
    assert stored(database, seeded) == 0  # nothing half-stored either


def nonce_of(page: str) -> str:
    return html.unescape(re.search(r'name="nonce" value="([^"]+)"', page).group(1))


@pytest.mark.parametrize("bad", ["a\x00b", "\x00"], ids=["NUL inside", "NUL alone"])
def test_a_nul_in_a_form_text_answer_is_422_on_the_question(server, bad: str):
    base_url, seeded, database = server
    url = f"{base_url}/s/acme/quick?lang=en"
    page = requests.get(url, timeout=30)
    form = {"nonce": nonce_of(page.text), "page": "0", "nps": "9", "comment": bad}
    answer = requests.post(url, data=form, timeout=30)
    assert answer.status_code == 422
    assert 'id="q-comment-error"' in answer.text
    assert stored(database, seeded) == 0
    # The respondent fixes the answer and the same form is then stored once.
    form["comment"] = "fine"
    assert requests.post(url, data=form, timeout=30).status_code == 200
    assert stored(database, seeded) == 1


def test_a_nul_in_a_portal_login_is_not_a_database_error(server):
    base_url, _seeded, _database = server
    session = requests.Session()
    page = session.get(f"{base_url}/portal/login?lang=en", timeout=30)
    token = html.unescape(re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1))
    answer = session.post(f"{base_url}/portal/login?lang=en", timeout=30, data={
        "csrf_token": token, "email": "ana\x00@acme.example", "password": "x" * 12})
    assert 400 <= answer.status_code < 500, answer.status_code


def test_a_nul_in_a_query_attribute_is_dropped_and_the_answer_stored(server):
    base_url, seeded, database = server
    url = f"{base_url}/s/acme/quick?lang=en&store=a%00b"
    page = requests.get(url, timeout=30)
    answer = requests.post(page.url, timeout=30,
                           data={"nonce": nonce_of(page.text), "page": "0", "nps": "9"})
    assert answer.status_code == 200
    assert stored(database, seeded) == 1
