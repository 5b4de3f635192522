"""Issue #14, item 5: a 3-answer segment of an anonymous survey is suppressed on the
weekly report, the export and the portal, the survey page says so truthfully, and
two shown numbers cannot be subtracted to reveal the hidden segment."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
import requests
from cxlab import responses
from cxlab.anonymity import may_show_part, suppressed_groups
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import Distribution
from cxlab.exports import segments as exports
from cxlab.invitations import create_invitation
from cxlab.store import sync
from cxlab.stored_responses import StoredResponse
from cxlab.surveys import parse_definition
from cxlab.surveys.catalog import get_survey_by_id
from cxlab.tenancy import create_user, get_tenant
from cxlab.weekly_report import weekly_report

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

START, END = "2026-11-16T07:00:00+09:00", "2026-11-23T07:00:00+09:00"
SIZES = {"sales": 20, "hr": 3, "it": 8}
PASSWORD = "correct horse battery"
EX = parse_definition({
    "slug": "pulse", "title": "Pulse", "kind": "ex",
    "attributes": [{"name": "department", "values": list(SIZES)}],
    "questions": [{"id": "enps", "type": "nps", "label": "eNPS", "required": True},
                  {"id": "comment", "type": "text", "label": "Comment"}],
})


@pytest.fixture
def answered(config: Config, database: Database):
    """Tenant acme: every invitee of each department answered (sales 20, hr 3, it 8)."""
    seeded = publish_survey_with_key(database, "acme", EX)
    tokens = {}
    with database.session() as session:
        tenant = get_tenant(session, "acme")
        create_user(session, tenant, "ana@acme.example", PASSWORD, role="admin")
        survey = get_survey_by_id(session, tenant.id, seeded.survey_id)
        sending = Distribution(tenant_id=tenant.id, survey_id=survey.id, name="Pulse May")
        session.add(sending)
        session.flush()
        for department, size in SIZES.items():
            for number in range(size):
                invitation = create_invitation(session, tenant, survey,
                                               {"department": department},
                                               f"{department}{number}@acme.example")
                invitation.sent_at, invitation.distribution_id = datetime.now(UTC), sending.id
                # hr answers 0 (all detractors), the rest 10: any leak shows in the NPS.
                score = 0 if department == "hr" else 10
                responses.record_response(
                    session, survey, {"enps": score, "comment": f"{department} says hi"},
                    attributes={"department": department}, invitation=invitation,
                    unlinked=True, idempotency_key=f"inv-t{department}{number}",
                    submitted_at=datetime(2026, 11, 18, 3, tzinfo=UTC))
            tokens[department] = create_invitation(session, tenant, survey,
                                                   {"department": department}).token
        distribution_id = sending.id
    sync(database, config, progress=False)
    return seeded, distribution_id, tokens


HIDDEN_SEGMENTS = {"en": "Hidden to protect anonymity", "ja": "匿名性を守るため非表示"}
FEWER_THAN_5 = {"en": "Fewer than 5 answers", "ja": "5件未満"}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_weekly_report_hides_the_small_segment_and_its_complement(config, answered,
                                                                      language):
    report = weekly_report(config, "acme", "pulse", START, END, tenant_name="Acme",
                           language=language)
    (part,) = report.surveys
    table = part.segments.set_index("department")
    assert bool(table.loc["hr", "hidden"]) and bool(table.loc["it", "hidden"])
    assert not bool(table.loc["sales", "hidden"]) and table.loc["sales", "n"] == 20
    assert table.loc[["hr", "it"], "nps"].isna().all()
    assert table.loc[["hr", "it"], "n"].isna().all()
    # Total minus every shown segment is the two hidden ones together (11), never hr's 3.
    assert part.answers - int(table["n"].dropna().sum()) == SIZES["hr"] + SIZES["it"]
    page = report.html()
    assert HIDDEN_SEGMENTS[language] in page and "hr (" not in page and "hr（" not in page
    assert any(HIDDEN_SEGMENTS[language] in s and "hr" in s and "it" in s
               for s in part.segment_sentences)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_survey_with_too_few_answers_shows_no_results_in_the_report(config, database,
                                                                     language):
    seeded = publish_survey_with_key(database, "tiny", EX)
    with database.session() as session:
        survey = get_survey_by_id(session, seeded.tenant_id, seeded.survey_id)
        for score in (0, 3, 10):
            responses.record_response(session, survey, {"enps": score, "comment": "mine"},
                                      submitted_at=datetime(2026, 11, 18, tzinfo=UTC))
    sync(database, config, progress=False)
    report = weekly_report(config, "tiny", "pulse", START, END, language=language)
    (part,) = report.surveys
    assert part.hidden and FEWER_THAN_5[language] in part.nps_sentence
    assert "mine" not in report.html()


def test_the_export_and_the_portal_hide_the_small_segment(config, database, answered):
    seeded, distribution_id, tokens = answered
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        exported = requests.get(f"{base_url}/api/v1/surveys/{seeded.survey_id}/responses",
                                headers={"Authorization": f"Bearer {seeded.api_key}"})
        client = requests.Session()
        login_page = client.get(f"{base_url}/portal/login?lang=en").text
        token = html.unescape(re.search(r'name="csrf_token" value="([^"]+)"',
                                        login_page).group(1))
        assert client.post(f"{base_url}/portal/login?lang=en", allow_redirects=False, data={
            "email": "ana@acme.example", "password": PASSWORD, "csrf_token": token,
        }).status_code == 303
        portal = client.get(f"{base_url}/portal/distributions/{distribution_id}?lang=en").text
        pages = {language: requests.get(f"{base_url}/i/{tokens['hr']}?lang={language}").text
                 for language in ("ja", "en")}
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 31  # every answer is there ...
    shown = [row["department"] for row in rows]
    assert "hr" not in shown and shown.count("(hidden)") == 11  # ... but not hr's segment
    assert {row["submitted_at"] for row in rows} == {"2026-11-18T00:00:00Z"}  # the day only
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", portal, re.S)]
    assert cells[cells.index("hr"):][:4] == ["hr", "3", "hidden (anonymity)", "–"]
    assert cells[cells.index("it"):][:4] == ["it", "8", "hidden (anonymity)", "–"]
    assert cells[cells.index("sales"):][:4] == ["sales", "20", "20", "100.0%"]
    assert "匿名の調査です" in pages["ja"] and "5人以上" in pages["ja"]
    assert "This survey is anonymous" in pages["en"] and "at least 5 people" in pages["en"]


def test_two_overlapping_groups_cannot_be_subtracted_to_reveal_a_small_one():
    # "Everyone" (31) and "everyone but hr" (28) differ by hr's 3: the second is refused.
    assert not may_show_part(28, 31, 5)
    # A 7-day and an 8-day window differing by 2 answers: the larger shown, the part not.
    assert not may_show_part(50, 52, 5) and may_show_part(50, 60, 5)
    # In a table with its total shown, hiding hr alone would leave total − shown = hr.
    hidden = suppressed_groups(SIZES, 5)
    assert hidden == {"hr", "it"}
    assert sum(SIZES[g] for g in hidden) >= 5 and len(hidden) >= 2


def test_a_lone_answer_on_its_day_loses_its_segment_in_the_export():
    def row(number, department, day):
        return StoredResponse(number, "complete", 1, datetime(2026, 11, day, 9, 41, tzinfo=UTC),
                              {"department": department}, {"enps": 9})

    rows = [row(n, "sales", 18) for n in range(8)] + [row(99, "sales", 20)]
    hidden = exports.small_segments(EX, rows, 5)
    shown = list(exports.without_small_segments(EX, rows, hidden))
    assert [r.attributes["department"] for r in shown] == ["sales"] * 8 + ["(hidden)"]
    assert all((r.submitted_at.hour, r.submitted_at.minute) == (0, 0) for r in shown)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_small_previous_period_is_neither_compared_with_nor_charted(config, database,
                                                                      language):
    seeded = publish_survey_with_key(database, "small", EX)
    with database.session() as session:
        survey = get_survey_by_id(session, seeded.tenant_id, seeded.survey_id)
        # This period 10 answers; the one before 3 (all 0: a leak would show in the NPS).
        for number, (day, score) in enumerate([(18, 10)] * 10 + [(11, 0)] * 3):
            responses.record_response(session, survey, {"enps": score},
                                      attributes={"department": "sales"},
                                      idempotency_key=f"small-{number}",
                                      submitted_at=datetime(2026, 11, day, 3, tzinfo=UTC))
    sync(database, config, progress=False)
    (part,) = weekly_report(config, "small", "pulse", START, END, tenant_name="Small",
                            language=language).surveys
    assert not part.hidden and part.answers == 10
    assert part.nps["n"].tolist() == [10, 0]  # the previous period counts as empty
    assert part.nps_sentence.endswith(
        "no answers in the previous period to compare with." if language == "en"
        else "前期の回答がないため比較できません。")
    previous = part.trend.iloc[-2]
    assert previous["n"] == 0 and previous["nps"] != previous["nps"]  # blanked, NaN
    assert previous["note"] == ("hidden (too few answers)" if language == "en"
                                else "非表示（回答数が少ないため）")
    assert part.trend["n"].iloc[-1] == 10
