"""Issue #19, import: Qualtrics .qsf and LimeSurvey .lss files (several shapes and tool
versions, fixtures in tests/import_fixtures/ written after each format's documentation)
become definitions that load; what cannot be mapped is listed with its source id; an
imported survey answers and exports with its labels."""

from __future__ import annotations

import json
from pathlib import Path

import pyreadstat
import pytest
import requests
import yaml
from conftest import run_cxlab
from cxlab.db.models import Survey
from cxlab.surveys import parse_definition
from cxlab.surveys.importers import ImportRefused, import_survey
from sqlalchemy import select

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

FIXTURES = Path(__file__).with_name("import_fixtures")


def imported(environ, tmp_path, name: str) -> tuple[dict, str]:
    """Import a fixture with the CLI, load the result into tenant acme; the definition
    written and what the import printed."""
    out = tmp_path / f"{name}.yaml"
    shown = run_cxlab(environ, tmp_path, "survey", "import", str(FIXTURES / name),
                      "--out", str(out)).stdout
    loaded = run_cxlab(environ, tmp_path, "survey", "load", "--tenant", "acme", str(out)).stdout
    assert "is at version 1" in loaded and "Open link:" in loaded
    return yaml.safe_load(out.read_text(encoding="utf-8")), shown


def by_id(definition: dict) -> dict[str, dict]:
    return {q["id"]: q for q in definition["questions"] if "id" in q}


@pytest.fixture
def acme(environ, tmp_path):
    run_cxlab(environ, tmp_path, "init")
    run_cxlab(environ, tmp_path, "tenant", "create", "acme", "--name", "Acme")


def test_a_qualtrics_export_with_blocks_flow_and_translations(acme, environ, tmp_path):
    definition, shown = imported(environ, tmp_path, "store_feedback.qsf")
    questions = by_id(definition)
    assert definition["slug"] == "store-feedback-2026" and definition["languages"] == ["en", "ja"]
    assert [q["type"] for q in questions.values()] == [
        "nps", "single", "multi", "matrix", "text", "number", "text", "dropdown"]
    assert questions["nps"]["required"] is True
    assert questions["nps"]["label"]["ja"].startswith("友人や知人に")
    assert questions["nps"]["label"]["en"] == "How likely are you to recommend us to a friend?"
    assert questions["q2"]["options"][1] == {"value": "2", "label": {"en": "Dinner",
                                                                       "ja": "ディナー"}}
    service = questions["service"]
    assert service["scale"]["max"] == 5 and service["scale"]["labels"][5]["ja"] == "最高"
    assert [row["label"]["ja"] for row in service["rows"]] == ["速さ", "親しみやすさ"]
    assert questions["low_reason"]["show_if"] == {"question": "nps", "in": [0, 1, 2]}
    assert questions["menu"]["show_if"] == {"question": "q2", "equals": "2"}
    assert questions["visits"]["min"] == 0 and questions["visits"]["max"] == 31
    assert "old" not in questions  # the trash block is not a survey block
    # Pages: a page break inside block 1, then block 2 under its own name.
    breaks = [q for q in definition["questions"] if q.get("type") == "page_break"]
    assert breaks == [{"type": "page_break"},
                      {"type": "page_break", "title": {"en": "Your visit"}}]
    for source in ("QO_1", "FL_3", "FL_4", "QID3", "QID7", "QID8", "QID9"):
        assert f"  {source}: " in shown, source  # named, with what was done instead
    assert "heat map: left out" in shown and "a date: a text question" in shown


def test_an_older_qualtrics_export_with_blocks_as_a_mapping(acme, environ, tmp_path):
    definition, shown = imported(environ, tmp_path, "legacy_pulse.qsf")
    questions = by_id(definition)
    assert definition["slug"] == "legacy-pulse"  # the Japanese name makes none: the file's
    assert definition["title"] == {"ja": "社員パルス"} and definition["languages"] == ["ja", "en"]
    assert questions["q1"]["label"] == {"ja": "勤続年数", "en": "Years with the company",
                                        "zh-s": "在公司工作的年数"}  # every language kept
    assert questions["q1"]["step"] == 0.1 and questions["q1"]["required"] is True
    assert [q["type"] for q in questions.values()] == [
        "number", "multi", "multi", "number", "text", "text", "text"]
    assert questions["q3_1"]["min"] == 0 and questions["q3_1"]["max"] == 100
    assert questions["q5"]["show_if"] == {"question": "q1", "min": 3}
    for source in ("QID2", "QID3", "QID4", "QID5"):
        assert f"  {source}: " in shown, source
    assert "taken as min 3" in shown


def test_a_limesurvey_6_export_texts_in_l10ns_tables(acme, environ, tmp_path):
    definition, shown = imported(environ, tmp_path, "restaurant_v6.lss")
    questions = by_id(definition)
    assert definition["title"] == {"en": "Restaurant feedback", "de": "Restaurant-Feedback"}
    assert definition["intro"]["de"] == "Danke für Ihren Besuch."
    assert definition["languages"] == ["en"]  # German texts, the pages' words in English
    assert questions["nps"]["type"] == "nps" and questions["nps"]["required"] is True
    assert questions["nps"]["label"]["de"].startswith("Wie wahrscheinlich")
    service = questions["service"]
    assert service["type"] == "matrix" and service["scale"]["max"] == 4
    assert service["scale"]["labels"][4] == {"en": "Excellent", "de": "Ausgezeichnet"}
    assert [row["id"] for row in service["rows"]] == ["sq001", "sq002"]
    assert questions["heard"]["type"] == "multi"
    assert questions["why"]["show_if"] == {"question": "nps", "max": 6}
    assert questions["why"]["help"] == {"en": "Optional"}
    assert questions["visits"] == {"id": "visits", "type": "number", "label": {
        "en": "Visits this month", "de": "Besuche in diesem Monat"}, "min": 0, "max": 31}
    assert questions["store"]["type"] == "dropdown"
    assert questions["store"]["show_if"] == {"question": "heard", "equals": "SQ001"}
    assert questions["dish"]["show_if"] == {"question": "nps", "in": [9, 10]}
    assert questions["visitdate"]["type"] == "text"
    assert "intro2" not in questions
    assert definition["questions"][3] == {"type": "page_break", "title": {
        "en": "Details", "de": "Einzelheiten"}}
    for source in ("quota 1", "Service (qid 11)", "Heard (qid 12)", "Intro2 (qid 16)",
                   "VisitDate (qid 15)"):
        assert f"  {source}: " in shown, source


def test_a_limesurvey_3_export_a_row_per_language(acme, environ, tmp_path):
    definition, shown = imported(environ, tmp_path, "ways_of_working_v3.lss")
    questions = by_id(definition)
    assert definition["title"] == {"ja": "働き方調査", "en": "Ways of working"}
    assert questions["g1q1"]["type"] == "rating" and questions["g1q1"]["scale"] == 5
    assert questions["g1q2"]["type"] == "matrix"
    assert questions["g1q2"]["rows"][0]["label"] == {"ja": "上司", "en": "Manager"}
    assert questions["g1q3"]["options"][0]["value"] == "Y"
    # The second group's relevance holds for its questions, whose own logic is kept.
    assert questions["g2q1_sq001"]["show_if"] == {"question": "g1q3", "equals": "Y"}
    assert questions["g2q4"]["show_if"] == {"question": "g1q1", "answered": True}
    assert questions["g2q5"]["show_if"] == {"question": "g1q3", "equals": "Y"}
    assert questions["g2q1_sq002"]["label"]["en"] == "Hours per week – Focused work"
    for source in ("G2Q1 (qid 4)", "G2Q2 (qid 5)", "G2Q3 (qid 6)", "G2Q5 (qid 8)"):
        assert f"  {source}: " in shown, source
    assert "ranking: left out" in shown and "sum(G2Q1_SQ001.NAOK" in shown


def test_an_imported_survey_answers_and_exports_with_its_labels(config, database, tmp_path):
    report = import_survey(FIXTURES / "store_feedback.qsf")
    acme = publish_survey_with_key(database, "acme", parse_definition(report.definition))
    with database.session() as session:
        survey = session.scalar(select(Survey).where(Survey.id == acme.survey_id))
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        url = f"{base_url}/api/v1/surveys/{survey.id}/responses"
        headers = {"Authorization": f"Bearer {acme.api_key}"}
        sent = requests.post(url, headers=headers, timeout=30, json={"answers": {
            "nps": 2, "q2": "2", "heard": ["1", "4"], "service": {"r1": 5, "r2": 3},
            "low_reason": "Slow", "menu": "3"}})
        assert sent.status_code == 201, sent.text
        hidden = requests.post(url, headers=headers, timeout=30, json={"answers": {
            "nps": 9, "low_reason": "shown only to detractors"}})
        assert hidden.status_code == 201
        exported = requests.get(url, params={"format": "sav"}, headers=headers, timeout=60)
    path = tmp_path / "store.sav"
    path.write_bytes(exported.content)
    frame, meta = pyreadstat.read_sav(str(path))
    assert frame["nps"].tolist() == [2, 9] and frame["service_r1"].tolist()[0] == 5
    # acme's language is Japanese: the labels are; a text without it keeps its English.
    assert meta.column_names_to_labels["service_r1"] == "サービスを評価してください: 速さ"
    assert meta.variable_value_labels["q2"][2] == "ディナー"
    assert meta.variable_value_labels["menu"][3] == "Curry"
    assert frame["low_reason"].tolist() == ["Slow", ""]  # not asked, so not kept


@pytest.mark.parametrize("name, body, message", [
    ("bad.qsf", b"{not json", "not a Qualtrics .qsf file: not JSON"),
    ("other.qsf", json.dumps({"survey": {}}).encode(), "it has no SurveyElements"),
    ("bad.lss", b"<document><unclosed>", "not a LimeSurvey .lss file: not XML"),
    ("other.lss", b"<document><LimeSurveyDocType>Question</LimeSurveyDocType></document>",
     "not a LimeSurvey survey structure"),
    ("survey.docx", b"PK", "not a .qsf or .lss file"),
])
def test_a_file_that_is_no_survey_is_a_clear_error(environ, tmp_path, name, body, message):
    (tmp_path / name).write_bytes(body)
    with pytest.raises(ImportRefused, match=message):
        import_survey(tmp_path / name)
    refused = run_cxlab(environ, tmp_path, "survey", "import", name, expect_ok=False)
    assert message in refused.stderr
