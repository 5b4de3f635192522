"""Respondent pages on a real server: question types, languages, errors, idempotency,
status pages, long surveys saved and resumed, invitations used once."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Invitation, Response, Survey
from cxlab.invitations import create_invitation
from cxlab.surveys import EXAMPLES_DIR, load_definition, parse_definition
from cxlab.surveys.catalog import get_survey_by_id
from cxlab.tenancy import get_tenant
from sqlalchemy import select, update

from survey_server.app import create_app
from survey_server.testing import PublishedSurvey, publish_survey_with_key, serve_in_thread

ALL_TYPES = parse_definition("""
slug: all-types
title: {ja: 全タイプ調査, en: Every type}
thanks: {ja: ありがとう！, en: Thanks a lot!}
attributes:
  - {name: store, from_query: true, values: [s1, s2]}
  - {name: region}
questions:
  - {id: nps, type: nps, required: true, label: {ja: おすすめ度, en: "Would you recommend us?"}}
  - {id: rate, type: rating, required: true, scale: 5, label: {ja: 満足度, en: Satisfaction}}
  - id: pick
    type: single
    required: true
    label: {ja: 目的, en: Purpose}
    options: [{value: a, label: {ja: あ, en: Apple}}, {value: b, label: {ja: い, en: Banana}}]
  - {id: many, type: multi, label: {ja: 複数, en: Several}, options: [x, y, z]}
  - {id: why, type: text, show_if: {question: nps, max: 6}, label: {ja: 理由, en: "Why?"}}
  - {id: note, type: text, label: {ja: ご意見, en: Comments}, help: {ja: 任意, en: Optional}}
""")


@pytest.fixture
def server(config: Config, database: Database):
    """A running server with tenant "acme": the all-types survey and two examples."""
    seeded = {
        "all": publish_survey_with_key(database, "acme", ALL_TYPES),
        "visit": publish_survey_with_key(database, "acme", load_definition(
            EXAMPLES_DIR / "restaurant_visit.yaml")),
        "engagement": publish_survey_with_key(database, "acme", load_definition(
            EXAMPLES_DIR / "employee_engagement.yaml")),
    }
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        yield base_url, seeded


def nonce_of(page: str) -> str:
    return html.unescape(re.search(r'name="nonce" value="([^"]+)"', page).group(1))


def stored(database: Database, survey_id: int) -> list[Response]:
    with database.session() as session:
        return list(session.scalars(
            select(Response).where(Response.survey_id == survey_id).order_by(Response.id)
        ))


def test_every_question_type_round_trips(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?store=s1&lang=en"
    page = requests.get(url)
    assert page.status_code == 200
    for kind in ('type="radio" id="q-nps-10"', 'type="radio" id="q-rate-4"',
                 'type="checkbox" id="q-many-2"', '<textarea id="q-note"', "Banana"):
        assert kind in page.text
    answer = {"nonce": nonce_of(page.text), "page": "0", "nps": "3", "rate": "4", "pick": "b",
              "many": ["x", "z"], "why": "too slow", "note": "  とても良い 👍 "}
    thanks = requests.post(url, data=answer)
    assert thanks.status_code == 200
    assert "Thanks a lot!" in thanks.text
    [row] = stored(database, seeded["all"].survey_id)
    assert row.status == "complete"
    assert row.answers == {"nps": 3, "rate": 4, "pick": "b", "many": ["x", "z"],
                           "why": "too slow", "note": "とても良い 👍"}
    assert row.attributes == {"store": "s1"}


def test_answer_to_a_hidden_question_is_dropped(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types"
    page = requests.get(url)
    response = requests.post(url, data={
        "nonce": nonce_of(page.text), "nps": "9", "rate": "5", "pick": "a", "why": "n/a"})
    assert response.status_code == 200
    [row] = stored(database, seeded["all"].survey_id)
    assert row.answers == {"nps": 9, "rate": 5, "pick": "a"}


def test_only_whitelisted_query_attributes_are_recorded(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?store=s9&region=north&evil=1"
    page = requests.get(url)
    requests.post(url, data={"nonce": nonce_of(page.text), "nps": "9", "rate": "5", "pick": "a"})
    [row] = stored(database, seeded["all"].survey_id)
    assert row.attributes == {}  # s9 is not a store; region is not from_query


def test_language_from_query_or_accept_language(server):
    base_url, _ = server
    japanese = requests.get(f"{base_url}/s/acme/all-types",
                            headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert '<html lang="ja">' in japanese.text
    assert "おすすめ度" in japanese.text and "送信する" in japanese.text
    english = requests.get(f"{base_url}/s/acme/all-types",
                           headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Would you recommend us?" in english.text
    forced = requests.get(f"{base_url}/s/acme/all-types?lang=en",
                          headers={"Accept-Language": "ja"})
    assert "Would you recommend us?" in forced.text


def test_invalid_submission_shows_errors_next_to_fields_and_keeps_values(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?lang=ja"
    page = requests.get(url)
    response = requests.post(url, data={
        "nonce": nonce_of(page.text), "rate": "9", "pick": "b", "many": ["y"],
        "note": "<b>keep me</b>"})
    assert response.status_code == 422
    text = response.text
    assert 'role="alert"' in text and "2件の回答を確認してください" in text
    assert re.search(r'id="q-nps-error">この質問にお答えください<', text)
    assert re.search(r'id="q-rate-error">1から5までの数字で答えてください<', text)
    assert 'aria-describedby="q-rate-hint q-rate-error"' not in text  # rating 5 has no labels
    assert 'aria-describedby="q-rate-error"' in text
    assert re.search(r'id="q-pick-1" name="pick" value="b" checked', text)
    assert re.search(r'id="q-many-1" name="many" value="y" checked', text)
    assert "&lt;b&gt;keep me&lt;/b&gt;</textarea>" in text  # kept, and escaped
    assert stored(database, seeded["all"].survey_id) == []


def test_double_submit_records_one_response_and_thanks_twice(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?lang=en"
    form = {"nonce": nonce_of(requests.get(url).text), "nps": "10", "rate": "5", "pick": "a"}
    first, second = requests.post(url, data=form), requests.post(url, data=form)
    assert (first.status_code, second.status_code) == (200, 200)
    assert "Thanks a lot!" in second.text
    assert len(stored(database, seeded["all"].survey_id)) == 1


def test_a_repeat_of_a_stored_answer_is_thanked_where_a_new_one_is_refused(server, database):
    """A one-page survey's answer is stored without looking for it first; a repeat
    with answers that would now be refused still finds the stored answer and is
    thanked, while a new respondent is shown the problem."""
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?lang=en"
    form = {"nonce": nonce_of(requests.get(url).text), "nps": "10", "rate": "5", "pick": "a"}
    other = {**form, "nonce": nonce_of(requests.get(url).text)}
    assert "Thanks a lot!" in requests.post(url, data=form).text
    invalid = requests.post(url, data={**form, "nps": "11"})
    assert invalid.status_code == 200 and "Thanks a lot!" in invalid.text
    assert requests.post(url, data={**other, "nps": "11"}).status_code == 422
    assert len(stored(database, seeded["all"].survey_id)) == 1


def test_forged_or_foreign_nonce_is_refused(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?lang=en"
    forged = requests.post(url, data={"nonce": "WzEsImZvcm0tYSJd.forged", "nps": "9",
                                      "rate": "5", "pick": "a"})
    assert forged.status_code == 400 and "reload" in forged.text
    other_survey = nonce_of(requests.get(f"{base_url}/s/acme/store-visit").text)
    foreign = requests.post(url, data={"nonce": other_survey, "nps": "9", "rate": "5",
                                       "pick": "a"})
    assert foreign.status_code == 400
    assert stored(database, seeded["all"].survey_id) == []


def test_unknown_tenant_survey_or_path_is_a_friendly_404(server):
    base_url, _ = server
    for path in ("/s/nobody/all-types", "/s/acme/nothing", "/i/not-a-token", "/nowhere"):
        response = requests.get(base_url + path + "?lang=en")
        assert response.status_code == 404, path
        assert "Please check the link" in response.text
        assert "Traceback" not in response.text


def test_closed_survey_is_410(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/all-types?lang=en"
    nonce = nonce_of(requests.get(url).text)
    with database.session() as session:
        session.execute(update(Survey).where(Survey.id == seeded["all"].survey_id)
                        .values(closes_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert requests.get(url).status_code == 410
    late = requests.post(url, data={"nonce": nonce, "nps": "9", "rate": "5", "pick": "a"})
    assert late.status_code == 410 and "This survey is closed" in late.text
    assert stored(database, seeded["all"].survey_id) == []


def test_body_over_the_limit_is_413(environ, database):
    config = Config.from_environ({**environ, "CXLAB_MAX_BODY_BYTES": "4000"})
    publish_survey_with_key(database, "acme", ALL_TYPES)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        url = f"{base_url}/s/acme/all-types?lang=en"
        response = requests.post(url, data={"nonce": "x", "note": "a" * 5000})
        assert response.status_code == 413
        assert "too large" in response.text
        api = requests.post(f"{base_url}/api/v1/surveys/1/responses", data=b"{" * 5000)
        assert api.status_code == 413 and api.json()["errors"][0]["field"] == "request"


def test_long_survey_saves_each_page_and_resumes_from_the_link(server, database):
    base_url, seeded = server
    url = f"{base_url}/s/acme/store-visit?store=shibuya-01&lang=en"
    first = requests.get(url)
    assert "Page 1 of 2" in first.text
    saved = requests.post(url, data={"nonce": nonce_of(first.text), "page": "0", "nps": "4"},
                          allow_redirects=False)
    assert saved.status_code == 303
    resume_url = base_url + saved.headers["Location"]
    [partial] = stored(database, seeded["visit"].survey_id)
    assert (partial.status, partial.answers, partial.resume_page) == ("partial", {"nps": 4}, 1)
    assert partial.attributes == {"store": "shibuya-01"}
    # The respondent leaves and comes back days later with the link.
    back = requests.get(resume_url)
    assert back.status_code == 200 and "Page 2 of 2" in back.text
    assert "What disappointed you most?" in back.text  # shown: nps 4 <= 6
    assert "Bookmark this page" in back.text
    done = requests.post(url, data={"nonce": nonce_of(back.text), "page": "1",
                                    "greeting": "2", "low_score_reason": "cold food"})
    assert done.status_code == 200 and "Thank you!" in done.text
    [row] = stored(database, seeded["visit"].survey_id)
    assert row.id == partial.id and row.status == "complete" and row.resume_page is None
    assert row.answers == {"nps": 4, "greeting": 2, "low_score_reason": "cold food"}
    assert "Thank you!" in requests.get(resume_url).text  # the link now only thanks


def test_resume_link_expires(server, database, config):
    base_url, seeded = server
    url = f"{base_url}/s/acme/store-visit?lang=en"
    saved = requests.post(url, data={"nonce": nonce_of(requests.get(url).text), "nps": "9"},
                          allow_redirects=False)
    too_old = datetime.now(UTC) - timedelta(days=config.resume_days + 1)
    with database.session() as session:
        session.execute(update(Response).values(submitted_at=too_old))
    expired = requests.get(base_url + saved.headers["Location"])
    assert expired.status_code == 410 and "expired" in expired.text
    assert len(stored(database, seeded["visit"].survey_id)) == 1  # still partial, unused


def make_invitation(database: Database, seeded: PublishedSurvey, attributes: dict) -> str:
    with database.session() as session:
        survey = get_survey_by_id(session, seeded.tenant_id, seeded.survey_id)
        tenant = get_tenant(session, seeded.tenant_slug)
        return create_invitation(session, tenant, survey, attributes).token


def test_invitation_is_used_once(server, database):
    base_url, seeded = server
    token = make_invitation(database, seeded["all"], {"region": "north"})
    url = f"{base_url}/i/{token}?lang=en"
    form = {"nonce": nonce_of(requests.get(url).text), "nps": "8", "rate": "4", "pick": "a"}
    assert requests.post(url, data=form).status_code == 200
    again = requests.get(url)
    assert again.status_code == 200 and "already answered" in again.text
    assert 'name="nonce"' not in again.text
    assert "Thanks a lot!" in requests.post(url, data=form).text  # a double submit
    [row] = stored(database, seeded["all"].survey_id)
    assert row.attributes == {"region": "north"} and row.invitation_id is not None
    with database.session() as session:
        assert session.get(Invitation, row.invitation_id).responded_at is not None


def test_invitation_of_a_long_survey_resumes_where_the_respondent_stopped(server, database):
    base_url, seeded = server
    token = make_invitation(database, seeded["engagement"], {"department": "sales"})
    url = f"{base_url}/i/{token}?lang=en"
    first = requests.get(url)
    assert "Page 1 of 4" in first.text
    step = requests.post(url, data={"nonce": nonce_of(first.text), "page": "0", "enps": "7"},
                         allow_redirects=False)
    assert step.status_code == 303
    page_two = requests.get(url)  # the same personal link, later
    assert "Page 2 of 4" in page_two.text
    scores = {q: "4" for q in ("eng_proud", "eng_energy", "eng_stay", "eng_extra")}
    missing_one = requests.post(url, data={"nonce": nonce_of(page_two.text), "page": "1",
                                           **scores, "eng_stay": ""})
    assert missing_one.status_code == 422 and 'id="q-eng_stay-error"' in missing_one.text
    requests.post(url, data={"nonce": nonce_of(page_two.text), "page": "1", **scores})
    assert "Page 3 of 4" in requests.get(url).text
    [partial] = stored(database, seeded["engagement"].survey_id)
    assert partial.status == "partial" and partial.resume_page == 2
    assert partial.answers == {"enps": 7, **{q: 4 for q in scores}}
