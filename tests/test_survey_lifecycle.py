"""Issue #19, life cycle: opens_at/closes_at in the definition, cxlab survey close|open,
the portal's button for admins; a closed or not yet open survey politely says so in the
respondent's language, and its API answers 409 with the reason."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
import yaml
from conftest import add_users, portal_session, run_cxlab
from cxlab.surveys import DefinitionError, parse_definition
from cxlab.surveys.catalog import get_survey
from cxlab.tenancy import get_tenant

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

PASSWORD = "correct horse battery"
CLOSED = {"ja": "このアンケートの受付は終了しました", "en": "This survey is closed"}
NOT_YET = {"ja": "このアンケートはまだ始まっていません", "en": "This survey is not open yet"}


def survey(slug: str, **window) -> dict:
    return {"slug": slug, "title": {"ja": "来店", "en": "Visit"}, **window,
            "questions": [{"id": "nps", "type": "nps", "label": "NPS"}]}



def answer(base_url, published) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/surveys/{published.survey_id}/responses",
                         headers={"Authorization": f"Bearer {published.api_key}"},
                         json={"answers": {"nps": 9}}, timeout=30)


def page_says(base_url, tenant, slug, words) -> None:
    """The open link shows the message in each language, and no form."""
    for language, text in words.items():
        page = requests.get(f"{base_url}/s/{tenant}/{slug}?lang={language}", timeout=30)
        assert page.status_code in (404, 410), page.status_code
        assert text in page.text and f'<html lang="{language}">' in page.text
        assert "<form" not in page.text



def test_the_definition_takes_a_window_with_its_offset():
    window = parse_definition(survey("s", opens_at="2026-12-01T09:00:00+09:00",
                                     closes_at=datetime(2026, 12, 31, tzinfo=UTC)))
    assert window.opens_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert window.raw["closes_at"] == "2026-12-31T00:00:00+00:00"  # JSON-safe text
    from_yaml = parse_definition(yaml.safe_dump(survey("s")) + "closes_at: 2027-01-01T00:00:00Z\n")
    assert from_yaml.closes_at == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(DefinitionError) as refused:
        parse_definition(survey("s", opens_at="2026-12-01", closes_at="2026-11-01T00:00:00+09:00"))
    assert [path for path, _ in refused.value.problems] == ["opens_at"]
    with pytest.raises(DefinitionError) as refused:
        parse_definition(survey("s", opens_at="2026-12-02T00:00:00+00:00",
                                closes_at="2026-12-01T00:00:00+00:00"))
    assert "must be after opens_at" in str(refused.value)
    with pytest.raises(DefinitionError, match="closes_at: 'soon' must be a date and time"):
        parse_definition(survey("s", closes_at="soon"))


def test_a_window_loaded_from_yaml_closes_and_opens_the_survey(environ, config, any_database,
                                                                tmp_path):
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    environ = {**environ, "CXLAB_DATABASE_URL": any_database.url}  # the CLI's database too
    published = publish_survey_with_key(any_database, "acme", parse_definition(survey("seed")))
    (tmp_path / "over.yaml").write_text(yaml.safe_dump(survey("over", closes_at=past)))
    (tmp_path / "soon.yaml").write_text(yaml.safe_dump(survey("soon", opens_at=future)))
    loaded = run_cxlab(environ, tmp_path, "survey", "load", "--tenant", "acme", "over.yaml").stdout
    assert "Open link: http://127.0.0.1:8080/s/acme/over" in loaded
    assert "closes_at" in loaded and "has passed: closed" in loaded
    soon = run_cxlab(environ, tmp_path, "survey", "load", "--tenant", "acme", "soon.yaml").stdout
    assert "open from" in soon
    with any_database.session() as session:
        acme = get_tenant(session, "acme")
        over, upcoming = (get_survey(session, acme, slug).id for slug in ("over", "soon"))
    with serve_in_thread(create_app(config, any_database, log_stream=None)) as base_url:
        page_says(base_url, "acme", "over", CLOSED)
        page_says(base_url, "acme", "soon", NOT_YET)
        for survey_id, reason in ((over, "closed"), (upcoming, "not_yet_open")):
            refused = answer(base_url, replace(published, survey_id=survey_id))
            assert refused.status_code == 409
            assert refused.json()["reason"] == reason
            assert refused.json()["errors"][0]["field"] == "survey_id"


def test_cxlab_survey_close_and_open(environ, config, database, tmp_path):
    acme = publish_survey_with_key(database, "acme", parse_definition(survey("visit")))
    publish_survey_with_key(database, "rival", parse_definition(survey("rival-only")))
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        assert answer(base_url, acme).status_code == 201
        closed = run_cxlab(environ, tmp_path, "survey", "close", "--tenant", "acme", "visit")
        assert "Survey acme/visit is now closed." in closed.stdout
        refused = answer(base_url, acme)
        assert refused.status_code == 409 and refused.json()["reason"] == "closed"
        page_says(base_url, "acme", "visit", CLOSED)
        # Another tenant's survey is not found, whatever the CLI is told.
        crossing = run_cxlab(environ, tmp_path, "survey", "open", "--tenant", "rival", "visit",
                             expect_ok=False)
        assert "tenant 'rival' has no survey 'visit'" in crossing.stderr
        assert answer(base_url, acme).status_code == 409
        reopened = run_cxlab(environ, tmp_path, "survey", "open", "--tenant", "acme", "visit")
        assert "is now open" in reopened.stdout
        assert answer(base_url, acme).status_code == 201


def test_the_portal_button_closes_for_admins_only_and_within_the_tenant(config, database):
    acme = publish_survey_with_key(database, "acme", parse_definition(survey("visit")))
    rival = publish_survey_with_key(database, "rival", parse_definition(survey("rival-only")))
    add_users(database, PASSWORD, ("acme", "ana@acme.example", "admin"),
              ("acme", "vic@acme.example", "viewer"), ("rival", "rita@rival.example", "admin"))
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        admin, token = portal_session(base_url, "ana@acme.example", PASSWORD)
        home = admin.get(f"{base_url}/portal/?lang=en").text
        action = html.unescape(re.search(r'<form method="post" action="([^"]+)" class="inline">',
                                         home).group(1))
        assert action == "/portal/surveys/visit/status?lang=en" and ">Close</button>" in home
        # Without the page's CSRF token: refused, nothing changes.
        forged = admin.post(base_url + action, data={"action": "close"}, allow_redirects=False)
        assert forged.status_code == 403 and answer(base_url, acme).status_code == 201
        bad = admin.post(base_url + action, data={"action": "pause", "csrf_token": token})
        assert bad.status_code == 422 and "only be opened or closed" in bad.text
        done = admin.post(base_url + action, data={"action": "close", "csrf_token": token},
                          allow_redirects=False)
        assert done.status_code == 303
        assert answer(base_url, acme).status_code == 409
        page_says(base_url, "acme", "visit", CLOSED)
        home = admin.get(f"{base_url}/portal/?lang=ja").text
        assert "終了" in home and ">再開する</button>" in home
        # A viewer sees no button and is refused; another tenant's admin finds nothing.
        viewer, viewer_token = portal_session(base_url, "vic@acme.example", PASSWORD)
        assert 'class="inline"' not in viewer.get(f"{base_url}/portal/?lang=en").text
        assert viewer.post(base_url + action, data={"action": "open", "csrf_token": viewer_token}
                           ).status_code == 403
        rita, rita_token = portal_session(base_url, "rita@rival.example", PASSWORD)
        crossing = rita.post(f"{base_url}/portal/surveys/visit/status",
                             data={"action": "open", "csrf_token": rita_token})
        assert crossing.status_code == 404
        assert answer(base_url, acme).status_code == 409  # still closed
        assert answer(base_url, rival).status_code == 201  # rival's own is untouched
        reopened = admin.post(base_url + action, data={"action": "open", "csrf_token": token},
                              allow_redirects=False)
        assert reopened.status_code == 303 and answer(base_url, acme).status_code == 201
