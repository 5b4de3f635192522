"""The question types added through the registry — matrix, number, dropdown — end to
end: YAML → the respondent form in headless Chromium on a phone → stored → synced to
the Parquet store → read back; and the JSON API accepting and refusing their answers
with the field and the reason. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from conftest import require_program
from cxlab.analysis import drivers
from cxlab.db.models import Response
from cxlab.loadtest.scenarios import answer_pool, form_fields
from cxlab.seed import generate_responses, plan_drivers
from cxlab.store import load_responses, sync
from cxlab.surveys import EXAMPLES_DIR, load_definition, validate_answers
from cxlab.surveys.types import QUESTION_TYPES
from openpyxl import load_workbook
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from test_survey_browser import CHROMIUM_ARGS
from test_survey_browser import PHONE as PHONE_JA

from survey_server.app import create_app
from survey_server.openapi import answers_schema
from survey_server.testing import publish_survey_with_key, serve_in_thread

SHOP = load_definition(EXAMPLES_DIR / "shop_visit.yaml")
ROWS = ["cleanliness", "stock", "freshness", "checkout", "staff", "prices"]
PHONE = {**PHONE_JA, "locale": "en-GB"}
TAP_TARGET_PX = 44  # WCAG 2.5.5 and Apple's guideline: a finger needs 44 × 44 px


def test_the_shop_example_uses_the_new_types_and_its_roles_include_matrix_rows():
    assert {q.type for q in SHOP.questions} >= {"matrix", "number", "dropdown"}
    roles = SHOP.roles()
    assert roles.outcome == "nps" and roles.segment == "store"
    assert roles.items == tuple(f"store_rating_{row}" for row in ROWS)
    assert SHOP.item("store_rating_prices").label["en"] == "Prices"
    assert SHOP.item("store_rating_prices").scale == (1, 5)
    assert len(SHOP.question("prefecture").options) == 47


def test_phone_respondent_answers_them_and_they_reach_the_store(config, any_database):
    database = any_database
    seeded = publish_survey_with_key(database, "acme", SHOP)
    chromium = require_program("chromium")
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(**PHONE).new_page()
            page.goto(f"{base_url}/s/acme/shop-visit?store=ginza-01&lang=en")
            # Usable on a 390 px phone: nothing scrolls sideways, each point is a big target.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            sizes = page.locator("#q-store_rating label.choice").evaluate_all(
                "labels => labels.map(l => [l.getBoundingClientRect().width,"
                " l.getBoundingClientRect().height])")
            assert len(sizes) == 6 * 5 and min(min(size) for size in sizes) >= TAP_TARGET_PX
            report = Axe().run(page)
            assert report.violations_count == 0, report.generate_report()

            page.get_by_role("group", name="How likely").get_by_label("9", exact=True).check()
            grid = page.get_by_role("group", name="Please rate each of these")
            for row, point in zip(ROWS[:-1], [5, 4, 4, 2, 5], strict=True):
                label = SHOP.item(f"store_rating_{row}").label["en"]
                grid.get_by_role("group", name=label, exact=True).get_by_label(
                    str(point), exact=True).check()
            page.get_by_label("How many times a month").fill("40")
            page.get_by_label("Prefecture you live in").fill("Tokio")
            page.get_by_role("button", name="Submit").click()

            # Every problem is named, in the respondent's terms; nothing typed is lost.
            expect(page.locator("#error-summary")).to_be_visible()
            expect(page.locator("#q-store_rating-error")).to_have_text(
                "Row 'Prices': this row needs an answer")
            expect(page.locator("#q-visits_per_month-error")).to_have_text(
                "Must be a whole number from 0 to 31")
            expect(page.locator("#q-prefecture-error")).to_have_text(
                "'Tokio' is not one of the 47 options")
            expect(page.locator("#q-store_rating_checkout-1")).to_be_checked()  # 2 of 1..5
            expect(page.get_by_label("How many times a month")).to_have_value("40")
            report = Axe().run(page)
            assert report.violations_count == 0, report.generate_report()

            page.get_by_role("group", name="Prices", exact=True).get_by_label(
                "2", exact=True).check()
            page.get_by_label("How many times a month").fill("１２")  # a Japanese keyboard's
            page.get_by_label("Prefecture you live in").fill("Tokyo")
            page.get_by_role("button", name="Submit").click()
            expect(page.get_by_role("status")).to_contain_text("Thank you")
        finally:
            browser.close()

    with database.session() as session:
        [row] = session.scalars(select(Response).where(Response.survey_id == seeded.survey_id))
    assert row.status == "complete" and row.attributes == {"store": "ginza-01"}
    assert row.answers == {
        "nps": 9, "visits_per_month": 12, "prefecture": "tokyo",
        "store_rating": {"cleanliness": 5, "stock": 4, "freshness": 4, "checkout": 2,
                         "staff": 5, "prices": 2},
    }

    assert sync(database, config, progress=False).appended == 1
    frame = load_responses(config, "acme", "shop-visit")
    record = frame.iloc[0]
    for name, point in zip(ROWS, [5, 4, 4, 2, 5, 2], strict=True):
        assert str(frame[f"store_rating_{name}"].dtype) == "Int8"
        assert record[f"store_rating_{name}"] == point
    assert str(frame["visits_per_month"].dtype) == "Float64"
    assert record["visits_per_month"] == 12
    assert frame["prefecture"].cat.categories[12] == "tokyo" and record["prefecture"] == "tokyo"
    # A matrix's id stands for its rows' columns, as a multi's does for its options.
    rows = load_responses(config, "acme", "shop-visit", columns=["store_rating"])
    assert list(rows.columns) == [f"store_rating_{name}" for name in ROWS]


def test_japanese_respondents_pick_a_prefecture_by_its_japanese_name(config, database):
    publish_survey_with_key(database, "acme", SHOP)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        page = requests.get(f"{base_url}/s/acme/shop-visit?lang=ja")
        assert '<option value="東京都"></option>' in page.text
        assert 'inputmode="numeric"' in page.text and "0〜31" in page.text
        nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
        answers = [("nonce", nonce), ("page", "0"), ("nps", "8"), ("prefecture", "大阪府"),
                   ("visits_per_month", "3.5")]
        answers += [(f"store_rating_{row}", "3") for row in ROWS]
        refused = requests.post(f"{base_url}/s/acme/shop-visit?lang=ja", data=answers)
        assert refused.status_code == 422
        assert "0から31までの数字で答えてください" in refused.text
        assert 'value="大阪府"' in refused.text  # the choice is shown again, as typed
        answers[-7] = ("visits_per_month", "3")
        assert requests.post(f"{base_url}/s/acme/shop-visit?lang=ja",
                             data=answers).status_code == 200
    with database.session() as session:
        [row] = session.scalars(select(Response))
    assert row.answers["prefecture"] == "osaka" and row.answers["visits_per_month"] == 3


def post(base_url, survey_id, answers, key):
    return requests.post(
        f"{base_url}/api/v1/surveys/{survey_id}/responses", data=json.dumps({"answers": answers}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


GOOD = {"nps": 7, "store_rating": dict.fromkeys(ROWS, 3), "visits_per_month": 4,
        "prefecture": "hokkaido"}


@pytest.mark.parametrize(("answers", "field", "message"), [
    ({"store_rating": {**dict.fromkeys(ROWS, 3), "speed": 4}}, "store_rating",
     "no row 'speed'; rows: cleanliness, stock, freshness, checkout, staff, prices"),
    ({"store_rating": {**dict.fromkeys(ROWS, 3), "stock": 6}}, "store_rating",
     "row 'stock': must be a whole number from 1 to 5"),
    ({"store_rating": {"cleanliness": 4}}, "store_rating",
     "row 'stock': this row needs an answer"),
    ({"store_rating": [3, 3]}, "store_rating",
     "must be an object of row → answer, rows: cleanliness, stock, freshness, checkout, "
     "staff, prices"),
    ({"visits_per_month": 2.5}, "visits_per_month", "must be a whole number from 0 to 31"),
    ({"visits_per_month": "often"}, "visits_per_month", "must be a whole number from 0 to 31"),
    ({"visits_per_month": True}, "visits_per_month", "must be a whole number from 0 to 31"),
    ({"prefecture": "atlantis"}, "prefecture", "'atlantis' is not one of the 47 options"),
    ({"prefecture": 13}, "prefecture", "must be one of the 47 options"),
])
def test_the_api_refuses_a_bad_answer_with_its_field_and_reason(
        config, database, answers, field, message):
    acme = publish_survey_with_key(database, "acme", SHOP)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        refused = post(base_url, acme.survey_id, {**GOOD, **answers}, acme.api_key)
        assert refused.status_code == 422
        assert refused.json()["errors"] == [{"field": field, "message": message}]
        with database.session() as session:
            assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_the_api_accepts_them_and_no_tenant_writes_to_another(config, database):
    acme = publish_survey_with_key(database, "acme", SHOP)
    rival = publish_survey_with_key(database, "rival", SHOP)
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url:
        accepted = post(base_url, acme.survey_id, {**GOOD, "visits_per_month": 4.0},
                        acme.api_key)
        assert accepted.status_code == 201
        assert post(base_url, acme.survey_id, GOOD, rival.api_key).status_code == 404
        spec = requests.get(f"{base_url}/api/v1/openapi.json").json()
        exported = {kind: requests.get(
            f"{base_url}/api/v1/surveys/{acme.survey_id}/responses?format={kind}",
            headers={"Authorization": f"Bearer {acme.api_key}"}) for kind in ("csv", "xlsx")}
    with database.session() as session:
        [row] = session.scalars(select(Response))
    assert row.answers == GOOD and row.survey_id == acme.survey_id
    # Exports give a matrix one column per row, as the analytic store does.
    header, values = list(csv.reader(io.StringIO(exported["csv"].content.decode("utf-8-sig"))))
    record = dict(zip(header, values, strict=True))
    assert [record[f"store_rating_{row}"] for row in ROWS] == ["3"] * 6
    assert (record["visits_per_month"], record["prefecture"]) == ("4", "hokkaido")
    sheet = load_workbook(io.BytesIO(exported["xlsx"].content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == header and rows[1][header.index("store_rating_prices")] == 3
    answers = spec["components"]["schemas"]["ResponseIn"]["properties"]["answers"]
    assert answers == answers_schema()
    assert {"type": "number"} in answers["additionalProperties"]["anyOf"]
    assert "row id → integer" in answers["description"]


def test_every_type_has_a_template_fragment_and_api_description():
    from survey_server.pages import VIEWS_DIR

    for kind in QUESTION_TYPES.values():
        assert (EXAMPLES_DIR.parents[3] / "survey_server" / "views" / "questions"
                / f"{kind.template}.tpl").is_file(), kind.name
        assert kind.answer_help.endswith(f"for {kind.name}"), kind.name
    assert VIEWS_DIR.endswith("views")


def test_generated_answers_fit_the_definition_and_fill_the_form():
    pool = answer_pool(SHOP, 200, seed=3)
    for entry in pool:
        assert validate_answers(SHOP, entry["answers"]) == (entry["answers"], {})
    grid = next(entry["answers"]["store_rating"] for entry in pool)
    assert set(grid) == set(ROWS)
    fields = dict(form_fields(SHOP, pool[0]["answers"], page=0))
    assert {f"store_rating_{row}" for row in ROWS} <= set(fields)
    frame = generate_responses(SHOP, 300, seed=3)
    assert frame["visits_per_month"].between(0, 31).all()
    assert set(frame["prefecture"]) <= set(SHOP.question("prefecture").option_values())


def test_matrix_rows_are_driver_items_and_the_planted_drivers_are_found():
    plan = plan_drivers(SHOP, seed=4)
    assert set(plan.weights) == set(SHOP.roles().items)
    frame = generate_responses(SHOP, 4000, seed=4)
    result = drivers(frame, "nps", list(SHOP.roles().items), definition=SHOP, n_boot=0)
    top = result.table.sort_values("importance", ascending=False)["item"].head(3)
    assert set(top) == set(plan.strong)
    assert isinstance(frame["store_rating_prices"].dtype, pd.Int64Dtype)
