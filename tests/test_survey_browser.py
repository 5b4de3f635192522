"""A respondent on a phone: headless Chromium (Debian's, never a downloaded one) fills
the restaurant survey, submits, sees the thank-you page; the answers are stored.
Saves a screenshot of the form (docs/img/survey-form.png with
CXLAB_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from conftest import require_program
from cxlab.db.models import Response
from cxlab.surveys import EXAMPLES_DIR, load_definition
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from survey_server.app import create_app
from survey_server.testing import publish_survey_with_key, serve_in_thread

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "ja-JP"}


def test_phone_respondent_fills_the_restaurant_survey(config, database, screenshot_dir):
    screenshot = screenshot_dir / "survey-form.png"
    chromium = require_program("chromium")
    seeded = publish_survey_with_key(database, "acme", load_definition(
        EXAMPLES_DIR / "restaurant_visit.yaml"))
    with serve_in_thread(create_app(config, database, log_stream=None)) as base_url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(**PHONE).new_page()
            # The README's picture is in English: Debian's chromium has no Japanese font
            # unless fonts-noto-cjk is installed.
            page.goto(f"{base_url}/s/acme/store-visit?lang=en")
            page.get_by_role("group", name="How likely").get_by_label("9", exact=True).check()
            page.screenshot(path=str(screenshot))

            page.goto(f"{base_url}/s/acme/store-visit?store=shibuya-01")
            expect(page.locator("h1")).to_have_text("ご来店アンケート")
            recommend = page.get_by_role("group", name="このお店を友人や知人にすすめる")
            recommend.get_by_label("5", exact=True).check()
            page.get_by_role("button", name="次へ").click()

            expect(page.get_by_text("2ページ中2ページ目")).to_be_visible()
            page.get_by_role("group", name="入店時のお出迎え").get_by_label(
                "4", exact=True).check()
            page.get_by_role("group", name="料理の味").get_by_label("5", exact=True).check()
            page.get_by_label("ディナー").check()
            page.get_by_label("SNS").check()
            page.get_by_label("通りがかり").check()
            page.get_by_label("評価が低かった理由を教えてください").fill("少し待ちました")
            page.get_by_label("その他ご意見・ご感想").fill("また来ます")
            page.get_by_role("button", name="送信する").press("Enter")  # by keyboard
            expect(page.get_by_role("status")).to_contain_text("ご回答ありがとうございました")
        finally:
            browser.close()
    with database.session() as session:
        [row] = session.scalars(select(Response).where(Response.survey_id == seeded.survey_id))
    assert row.status == "complete"
    assert row.attributes == {"store": "shibuya-01"}
    assert row.answers == {
        "nps": 5, "greeting": 4, "food_quality": 5, "visit_purpose": "dinner",
        "heard_from": ["sns", "walk_by"], "low_score_reason": "少し待ちました",
        "comment": "また来ます",
    }
    assert screenshot.stat().st_size > 10_000
