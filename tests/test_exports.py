"""Issue #19, exports: every format (CSV with BOM, Excel, SPSS, Stata, long CSV) from the
CLI, the portal and the API, read back and compared; tenants, roles and bad formats."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import requests
from conftest import add_users, portal_session, run_cxlab
from cxlab.exports import export_stream
from cxlab.stored_responses import StoredResponse
from cxlab.surveys import parse_definition
from openpyxl import load_workbook

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

PASSWORD = "correct horse battery"
FIVE = {"min": 1, "max": 5, "labels": {1: {"ja": "不満", "en": "Poor"},
                                        5: {"ja": "満足", "en": "Great"}}}
VISIT = parse_definition({
    "slug": "visit", "title": {"ja": "来店", "en": "Visit"},
    "attributes": [{"name": "store", "values": ["shibuya-01", "umeda-04"],
                    "value_labels": {"shibuya-01": {"ja": "渋谷店", "en": "Shibuya"}}}],
    "questions": [
        {"id": "nps", "type": "nps", "label": {"ja": "おすすめ度", "en": "Recommend"}},
        {"id": "food", "type": "rating", "scale": FIVE,
         "label": {"ja": "料理の味", "en": "Taste"}},
        {"id": "service", "type": "matrix", "scale": FIVE, "label": {"ja": "接客", "en": "Staff"},
         "rows": [{"id": "speed", "label": {"ja": "速さ", "en": "Speed"}}, "manners"]},
        {"id": "purpose", "type": "single", "label": {"ja": "目的", "en": "Purpose"},
         "options": [{"value": "lunch", "label": {"ja": "ランチ", "en": "Lunch"}},
                     {"value": "dinner", "label": {"ja": "ディナー", "en": "Dinner"}}]},
        {"id": "heard", "type": "multi", "label": {"ja": "きっかけ", "en": "Heard"},
         "options": [{"value": "sns", "label": "SNS"},
                     {"value": "friend", "label": {"ja": "知人", "en": "A friend"}}]},
        {"id": "pref", "type": "dropdown", "label": {"ja": "都道府県", "en": "Prefecture"},
         "options": [{"value": "tokyo", "label": {"ja": "東京都", "en": "Tokyo"}},
                     {"value": "osaka", "label": {"ja": "大阪府", "en": "Osaka"}}]},
        {"id": "spend", "type": "number", "label": {"ja": "金額", "en": "Spend"}, "step": 0.5},
        {"id": "comment", "type": "text", "label": {"ja": "ご意見", "en": "Comment"}},
    ],
})
ANSWERS = [
    ({"store": "shibuya-01"},
     {"nps": 9, "food": 5, "service": {"speed": 4, "manners": 5}, "purpose": "dinner",
      "heard": ["sns", "friend"], "pref": "tokyo", "spend": 1250.5, "comment": "=1+1 美味しい"}),
    ({"store": "umeda-04"}, {"nps": 3, "heard": ["friend"], "purpose": "lunch"}),
    ({}, {"nps": 10, "food": 1, "service": {"manners": 2}, "pref": "osaka"}),
]


@pytest.fixture
def served(config, any_database, environ):
    """A server with tenant acme (survey visit, three answers sent through the API, an
    admin and a viewer) and tenant rival (its own visit survey, its own admin), on
    SQLite and on PostgreSQL; ``environ`` is then the CLI's, on the same database."""
    database = any_database
    environ.update(CXLAB_DATABASE_URL=database.url)
    acme = publish_survey_with_key(database, "acme", VISIT)
    rival = publish_survey_with_key(database, "rival", VISIT)
    add_users(database, PASSWORD, ("acme", "ana@acme.example", "admin"),
              ("acme", "vic@acme.example", "viewer"), ("rival", "rita@rival.example", "admin"))
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        for attributes, answers in ANSWERS:
            sent = requests.post(
                f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                headers={"Authorization": f"Bearer {acme.api_key}"},
                json={"answers": answers, "attributes": attributes}, timeout=30)
            assert sent.status_code == 201, sent.text
        yield base_url, acme, rival




def read_labelled(path: Path):
    reader = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
    return reader(str(path))


def check_labelled(path: Path):
    """The answers and labels of a .sav or .dta file, as the survey gave them (Japanese:
    acme's language)."""
    frame, meta = read_labelled(path)
    assert len(frame) == 3
    assert frame["nps"].tolist() == [9, 3, 10]
    assert frame["food"].tolist()[0] == 5 and frame["food"].isna().tolist()[1]
    assert frame["service_speed"].tolist()[0] == 4 and frame["service_manners"].tolist()[2] == 2
    assert frame["purpose"].tolist()[:2] == [2, 1]
    assert frame["heard__sns"].tolist()[:2] == [1, 0]
    assert frame["heard__friend"].tolist()[:2] == [1, 1]
    assert pd.isna(frame["heard__sns"].tolist()[2])  # not answered is not "not chosen"
    assert frame["pref"].tolist()[::2] == [1, 2]
    assert frame["spend"].tolist()[0] == 1250.5
    assert frame["comment"].tolist()[0] == "=1+1 美味しい"
    assert frame["store"].tolist()[:2] == [1, 2]
    labels = meta.column_names_to_labels
    assert labels["nps"] == "おすすめ度" and labels["service_speed"] == "接客: 速さ"
    assert labels["heard__friend"] == "きっかけ: 知人" and labels["comment"] == "ご意見"
    values = {name: {int(code): text for code, text in mapping.items()}
              for name, mapping in meta.variable_value_labels.items()}
    assert values["purpose"] == {1: "ランチ", 2: "ディナー"}
    assert values["pref"] == {1: "東京都", 2: "大阪府"}
    assert values["food"] == {1: "不満", 5: "満足"} == values["service_manners"]
    assert values["nps"] == {0: "全くすすめない", 10: "非常にすすめる"}
    assert values["heard__sns"] == {0: "非選択", 1: "選択"}
    assert values["store"] == {1: "渋谷店", 2: "umeda-04"}


def test_every_format_round_trips_from_the_cli(served, environ, tmp_path):
    run_cxlab(environ, tmp_path, "export", "--tenant", "acme", "--survey", "visit",
              "--format", "csv")
    wide = (tmp_path / "visit-responses.csv").read_bytes()
    assert wide.startswith(b"\xef\xbb\xbf")  # Excel reads the Japanese as UTF-8
    rows = list(csv.DictReader(io.StringIO(wide.decode("utf-8-sig"))))
    assert [row["nps"] for row in rows] == ["9", "3", "10"]
    assert rows[0]["comment"] == "'=1+1 美味しい" and rows[0]["heard"] == "sns;friend"

    for kind in ("sav", "dta"):
        out = tmp_path / f"answers.{kind}"
        shown = run_cxlab(environ, tmp_path, "export", "--tenant", "acme", "--survey", "visit",
                          "--format", kind, "--out", str(out)).stdout
        assert f"to {out}" in shown
        check_labelled(out)

    run_cxlab(environ, tmp_path, "export", "--tenant", "acme", "--survey", "visit",
              "--format", "xlsx")
    sheet = load_workbook(tmp_path / "visit-responses.xlsx").active
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(2, header.index("comment") + 1).value == "=1+1 美味しい"
    assert sheet.cell(2, header.index("comment") + 1).data_type == "s"

    run_cxlab(environ, tmp_path, "export", "--tenant", "acme", "--survey", "visit",
              "--format", "long")
    long = pd.read_csv(tmp_path / "visit-responses.long.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert list(long.columns) == ["response_id", "question", "value", "label"]
    first = long[long.response_id == long.response_id.iloc[0]]
    lines = set(zip(first.question, first.value, first.label, strict=True))
    assert {("store", "shibuya-01", "渋谷店"), ("nps", "9", ""), ("food", "5", "満足"),
            ("service_speed", "4", ""), ("service_manners", "5", "満足"),
            ("purpose", "dinner", "ディナー"), ("heard", "sns", "SNS"),
            ("heard", "friend", "知人"), ("pref", "tokyo", "東京都"), ("spend", "1250.5", ""),
            ("comment", "'=1+1 美味しい", "")} == lines


def test_the_api_and_the_portal_give_the_same_labelled_files(served, tmp_path):
    base_url, acme, _rival = served
    headers = {"Authorization": f"Bearer {acme.api_key}"}
    admin = portal_session(base_url, "ana@acme.example", PASSWORD)[0]
    home = admin.get(f"{base_url}/portal/?lang=en").text
    links = dict(re.findall(r'href="([^"]+)" download aria-label="[^"]+ as ([^"]+)"', home))
    assert set(links.values()) == {"CSV", "Excel", "SPSS", "Stata", "Long CSV"}
    for url, name in links.items():  # each link, as the page gives it, downloads
        response = admin.get(base_url + html.unescape(url))
        assert response.status_code == 200 and len(response.content) > 100, name
    for kind in ("sav", "dta"):
        api = requests.get(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                           params={"format": kind}, headers=headers, timeout=60)
        portal = admin.get(f"{base_url}/portal/surveys/visit/export",
                           params={"format": kind}, timeout=60)
        for source, response in (("api", api), ("portal", portal)):
            assert response.status_code == 200
            assert f'filename="visit-responses.{kind}"' in response.headers[
                "Content-Disposition"]
            path = tmp_path / f"{source}.{kind}"
            path.write_bytes(response.content)
            check_labelled(path)
    long = admin.get(f"{base_url}/portal/surveys/visit/export?format=long")
    assert long.content.startswith(b"\xef\xbb\xbfresponse_id,question,value,label")


def test_another_tenants_survey_cannot_be_exported(served, environ, tmp_path):
    base_url, acme, rival = served
    # The CLI: rival has a survey of the same slug, with no answers: never acme's.
    run_cxlab(environ, tmp_path, "export", "--tenant", "rival", "--survey", "visit",
              "--format", "long", "--out", "rival.csv")
    assert (tmp_path / "rival.csv").read_bytes() == \
        b"\xef\xbb\xbfresponse_id,question,value,label\n"
    missing = run_cxlab(environ, tmp_path, "export", "--tenant", "rival", "--survey", "nope",
                        "--format", "sav", expect_ok=False)
    assert "tenant 'rival' has no survey 'nope'" in missing.stderr
    # The API: rival's key does not find acme's survey id.
    refused = requests.get(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses",
                           params={"format": "sav"}, timeout=30,
                           headers={"Authorization": f"Bearer {rival.api_key}"})
    assert refused.status_code == 404 and "おすすめ度" not in refused.text
    # The portal: the slug names rival's own survey, empty; acme's answers never come.
    rita = portal_session(base_url, "rita@rival.example", PASSWORD)[0]
    own = rita.get(f"{base_url}/portal/surveys/visit/export?format=long")
    assert own.status_code == 200 and b"shibuya" not in own.content
    empty = tmp_path / "rival.sav"
    empty.write_bytes(rita.get(f"{base_url}/portal/surveys/visit/export?format=sav").content)
    assert len(pyreadstat.read_sav(str(empty))[0]) == 0  # rival's own survey: no answers
    assert rita.get(f"{base_url}/portal/surveys/nope/export?format=sav").status_code == 404


def test_a_viewer_may_not_export_in_the_portal(served):
    base_url, _acme, _rival = served
    viewer = portal_session(base_url, "vic@acme.example", PASSWORD)[0]
    refused = viewer.get(f"{base_url}/portal/surveys/visit/export?format=csv&lang=en")
    assert refused.status_code == 403 and "shibuya" not in refused.text
    assert "/export?format=" not in viewer.get(f"{base_url}/portal/?lang=en").text


def test_a_bad_format_is_a_clear_error_everywhere(served, environ, tmp_path):
    base_url, acme, _rival = served
    cli = run_cxlab(environ, tmp_path, "export", "--tenant", "acme", "--survey", "visit",
                    "--format", "pdf", expect_ok=False)
    assert "Invalid value for '--format'" in cli.stderr and "'sav'" in cli.stderr
    api = requests.get(f"{base_url}/api/v1/surveys/{acme.survey_id}/responses?format=pdf",
                       headers={"Authorization": f"Bearer {acme.api_key}"}, timeout=30)
    assert api.status_code == 400
    assert api.json()["errors"][0]["field"] == "format" and "sav" in json.dumps(api.json())
    admin = portal_session(base_url, "ana@acme.example", PASSWORD)[0]
    for language, words in (("en", "There is no export format 'pdf'"),
                            ("ja", "エクスポート形式'pdf'はありません")):
        page = admin.get(f"{base_url}/portal/surveys/visit/export?format=pdf&lang={language}")
        assert page.status_code == 400 and words in html.unescape(page.text)


@pytest.mark.parametrize("kind", ["sav", "long"])
def test_an_anonymous_surveys_small_segment_is_hidden_in_every_format(kind, tmp_path):
    pulse = parse_definition({
        "slug": "pulse", "title": "Pulse", "kind": "ex",
        "attributes": [{"name": "dept", "values": ["sales", "hr"]}],
        "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]})

    def rows():
        return [StoredResponse(n, "complete", 1, datetime(2026, 11, 18, 9, n, tzinfo=UTC),
                               {"dept": "hr" if n < 2 else "sales"}, {"enps": n})
                for n in range(20)]

    data = b"".join(export_stream(pulse, rows, kind, "en"))
    if kind == "long":
        assert b",dept,hr," not in data and data.count(b",dept,(hidden),(hidden)") >= 2
        return
    path = tmp_path / "pulse.sav"
    path.write_bytes(data)
    frame, meta = pyreadstat.read_sav(str(path))
    labels = {int(code): text for code, text in meta.variable_value_labels["dept"].items()}
    shown = [labels[int(code)] for code in frame["dept"]]
    assert "hr" not in shown and shown.count("(hidden)") >= 2
    assert {stamp.hour for stamp in frame["submitted_at"]} == {0}  # the day only
