"""cxlab.weekly_report against seeded data with a planted driver structure (cxlab.seed), and
the tenant without answers."""

import html
import io
import re
from datetime import datetime

import pandas as pd
import pytest
from cxlab import analysis
from cxlab.config import Config
from cxlab.db import Database
from cxlab.errors import CxlabError
from cxlab.seed import plan_drivers, seed_responses
from cxlab.store import load_responses, sync
from cxlab.surveys import EXAMPLES_DIR, load_definition
from cxlab.surveys.catalog import publish_survey
from cxlab.surveys.definition import localize
from cxlab.tenancy import create_tenant
from cxlab.weekly_report import weekly_report

START, END = "2026-11-16T07:00:00+09:00", "2026-11-23T07:00:00+09:00"
SEED = 3


def seed_tenant(config: Config, database: Database, slug: str, name: str, surveys: dict,
                *, first: str = "2026-09-28T07:00:00+09:00", last: str = END) -> dict:
    """Create tenant ``slug`` with ``{survey file: responses}`` seeded between ``first``
    and ``last`` and synced to the store; returns {survey file: DriverPlan}."""
    plans = {}
    with database.session() as session:
        tenant = create_tenant(session, slug, name)
        published = {file: publish_survey(session, tenant, load_definition(EXAMPLES_DIR / file))
                     for file in surveys}
    for file, count in surveys.items():
        definition = load_definition(EXAMPLES_DIR / file)
        result = seed_responses(database, published[file], definition, count, seed=SEED,
                             start=datetime.fromisoformat(first),
                             end=datetime.fromisoformat(last))
        plans[file] = result.plan
    sync(database, config, progress=False)
    return plans


def dashboard_fix_first(data: pd.DataFrame, definition, items: list[str]) -> list[str]:
    """The dashboard's "fix first" list: drivers' quadrant, in priority order."""
    table = analysis.drivers(data, "nps", items, definition=definition, n_boot=0).table
    return table[table["quadrant"] == "fix first"].sort_values("priority_rank")["item"].tolist()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_advice_agrees_with_the_dashboard_and_the_improvement_effect(config, database,
                                                                     language):
    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 4000})
    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    planted = plan_drivers(definition, seed=SEED)
    worst_strong = min(planted.strong, key=planted.item_shift.get)  # planted to perform worst
    assert worst_strong == "wait_time"

    report = weekly_report(config, "sakura", None, START, END, tenant_name="Sakura Dining",
                           language=language)
    [part] = report.surveys
    items = [q.id for q in definition.questions_of_type("rating")]
    week = load_responses(config, "sakura", "store-visit", start=START, end=END)
    assert part.drivers_note == ("From this period's answers." if language == "en"
                                 else "今期の回答から算出。")
    fix_first = dashboard_fix_first(week, definition, items)
    assert fix_first[0] == "wait_time"  # the planted worst-performing strong driver
    effect = analysis.improvement_effect(week, "nps", items, definition=definition,
                                         n_boot=0).table.set_index("item")
    labels = {q.id: q.label[language] for q in definition.questions_of_type("rating")}
    # One sentence per "fix first" item, in the dashboard's order, with its effect.
    for item, sentence in zip(fix_first, part.priorities, strict=False):
        assert sentence.startswith(labels[item][:1].upper() + labels[item][1:]), sentence
        if effect.loc[item, "effect"] > 0:
            points = f"{effect.loc[item, 'effect']:.1f}"
            assert (f"add about {points} NPS points" if language == "en"
                    else f"NPSは約{points}ポイント上がる見込み") in sentence
        else:  # fewer than 5 low or 5 high answers: the product's rule, said in words
            assert "fewer than 5" in effect.loc[item, "note"]
            assert ("Too few low or high ratings" if language == "en"
                    else "改善効果は算出できません") in sentence
    # Nothing the dashboard calls "keep" is ever advised as something to fix.
    keep = part.advice.loc[part.advice["quadrant"] == "keep", "item"]
    fix_sentences = part.priorities[:len(fix_first)]
    for item in keep:
        assert not any(labels[item] in sentence for sentence in fix_sentences)
    if len(keep):
        assert any(sentence.startswith("Keep up:" if language == "en" else "維持：")
                   for sentence in part.priorities)
    page = report.html()
    # One answer count: the headline's; no "complete answers" beside it.
    count = (f"{part.answers:,} answers" if language == "en" else f"回答{part.answers:,}件")
    assert page.count(count) == 1 and "complete answers" not in page
    assert "and scores (" not in page  # the old broken sentence
    # Comment topics: what cxlab.analysis.comment_topics finds on the week's comments.
    comments = pd.concat([pd.DataFrame({"score": week["nps"], "comment": week[column]})
                          for column in ("low_score_reason", "comment")], ignore_index=True)
    topics = analysis.comment_topics(comments[comments["score"].notna()], "comment",
                                     "score").topics
    assert len(part.topics) >= 2
    expected_topics = topics[topics["detractors"] + topics["promoters"] > 0]
    assert part.topics["topic"].tolist() == expected_topics["topic"].tolist()
    first = part.topics.iloc[0]
    share = f"{first.detractor_share:.0%}" if language == "ja" else (
        f"{first.detractor_share:.0%}".replace("%", " %"))
    assert html.escape(f"comments on {first.topic}: {share} of detractors' comments"
                       if language == "en"
                       else f"「{first.topic}」に触れたコメント：批判者のコメントの{share}") in page
    if language == "ja":
        assert report.heading == "Sakura Dining — 週次 顧客体験レポート（2026-11-16 – 2026-11-23）"
        assert part.nps_sentence.startswith("今期のNPS：")
        assert "<h3>店舗別</h3>" in page and "注目のコメント" in page


def test_the_language_defaults_to_the_tenants_surveys_and_is_checked(config, database):
    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 500})
    report = weekly_report(config, "sakura", None, START, END, tenant_name="Sakura Dining")
    assert report.language == "ja"  # the survey's first language
    with pytest.raises(CxlabError, match="report language must be one of ja, en"):
        weekly_report(config, "sakura", None, START, END, tenant_name="Sakura Dining",
                      language="fr")


def test_the_employee_survey_gets_the_ex_report_with_enps_and_area_scores(config, database):
    seed_tenant(config, database, "kaisha", "Kaisha", {"employee_engagement.yaml": 3000})
    report = weekly_report(config, "kaisha", None, START, END, tenant_name="Kaisha",
                           language="en")
    [part] = report.surveys
    assert part.metric == "eNPS"
    assert report.heading.startswith("Kaisha — weekly employee-experience report")
    assert part.nps_sentence.startswith("eNPS this period: ")
    week = load_responses(config, "kaisha", "engagement", start=START, end=END)
    definition = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")
    groups = part.groups.set_index("group")
    assert set(groups.index) == {"engagement", "manager", "growth", "wellbeing"}
    manager = [q.id for q in definition.questions_of_type("rating") if q.group == "manager"]
    assert groups.loc["manager", "mean"] == pytest.approx(week[manager].mean().mean())
    assert groups.loc["manager", "label"] == "Your manager"
    assert groups.loc["manager", "alpha"] == pytest.approx(
        analysis.reliability(week, manager).alpha)
    page = report.html()
    assert "Scores by area" in page and "Your manager: " in page
    assert "<h3>By department</h3>" in page


def test_nps_trend_segments_and_comments_match_the_store(config, database):
    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 4000})
    report = weekly_report(config, "sakura", "store-visit", START, END,
                           tenant_name="Sakura Dining", language="en")
    [part] = report.surveys
    week = load_responses(config, "sakura", "store-visit", start=START, end=END)
    before = load_responses(config, "sakura", "store-visit", start="2026-11-09T07:00:00+09:00",
                            end=START)
    expected = analysis.nps(week["nps"]).iloc[0]
    previous = analysis.nps(before["nps"]).iloc[0]
    assert part.answers == len(week) == part.nps["n"].iloc[0]
    assert part.nps["nps"].iloc[0] == pytest.approx(expected.nps)
    assert part.nps["change"].iloc[0] == pytest.approx(expected.nps - previous.nps)
    assert part.nps_sentence.startswith(
        f"NPS this period: {expected.nps:+.1f} (95 % interval {expected.ci_low:+.1f} to "
        f"{expected.ci_high:+.1f}, {len(week):,} answers)")
    assert f"on the previous period ({previous.nps:+.1f}, {len(before):,} answers" in (
        part.nps_sentence)

    # Eight report-aligned weeks, the last one being the report period.
    assert len(part.trend) == 8
    assert part.trend["week"].iloc[-1] == pd.Timestamp("2026-11-16 07:00")
    assert part.trend["n"].iloc[-1] == len(week) and part.trend["n"].iloc[-2] == len(before)
    assert part.trend["nps"].iloc[-1] == pytest.approx(expected.nps)

    # Segments: best and worst among stores with ≥ 30 answers; small ones not ranked.
    table = part.segments
    ranked = table[table["ranked"]]
    assert (ranked["n"] >= 30).all() and (table.loc[~table["ranked"], "n"] < 30).all()
    assert table["n"].sum() == len(week)
    best = ranked.loc[ranked["nps"].idxmax()]
    worst = ranked.loc[ranked["nps"].idxmin()]
    # Stores are named, not coded: "Shibuya", never "shibuya-01".
    assert part.segment_sentences[0].startswith(f"Best store by NPS: {best['label']} "
                                                f"({best['nps']:+.1f}")
    assert part.segment_sentences[1].startswith(f"Lowest: {worst['label']} ({worst['nps']:+.1f}")

    # Comments: the three newest from detractors and from promoters, in the period.
    comments = part.comments
    assert comments["kind"].tolist() == ["low"] * 3 + ["high"] * 3
    assert (comments.loc[comments["kind"] == "low", "score"] <= 6).all()
    assert (comments.loc[comments["kind"] == "high", "score"] >= 9).all()
    assert (comments["submitted_at"] >= pd.Timestamp(START)).all()
    newest_low = week[(week["nps"] <= 6) & week["low_score_reason"].notna()]
    assert comments["submitted_at"].iloc[0] == newest_low["submitted_at"].max()

    page = report.html()
    assert "<svg" in page and "<script" not in page
    assert "Sakura Dining" in page and part.priorities[0] in page


@pytest.mark.parametrize("language", ["en", "ja"])
def test_segments_are_shown_by_their_value_labels_not_their_codes(config, database,
                                                                   language):
    # Seeded so thinly that some stores have fewer than 30 answers (some fewer than 5):
    # the "not ranked" and the "hidden" lists name them too.
    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 1500})
    report = weekly_report(config, "sakura", "store-visit", START, END,
                           tenant_name="Sakura Dining", language=language)
    [part] = report.surveys
    store = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml").attributes[0]
    assert store.name == "store" and store.value_labels
    table = part.segments
    assert table["label"].tolist() == [store.value_label(code, language)
                                       for code in table["store"]]
    assert set(table["store"]) <= set(store.values)  # the codes stay, for lookups
    assert not table["ranked"].all() and table["ranked"].sum() >= 2
    names = {localize(label, language) for label in store.value_labels.values()}
    sentences = " ".join(part.segment_sentences)
    best = table[table["ranked"]].iloc[0]
    assert best["label"] in names and best["label"] in part.segment_sentences[0]
    for row in table[~table["ranked"]].itertuples():  # not ranked, or hidden: listed
        assert row.label in sentences
    page = report.html()
    for code in store.values:
        assert code not in sentences and code not in page
    if language == "ja":
        assert "渋谷店" in page or "新宿店" in page


def test_every_survey_is_reported_when_none_is_named(config, database):
    seed_tenant(config, database, "sakura", "Sakura Dining",
                {"restaurant_visit.yaml": 2000, "employee_engagement.yaml": 2000})
    report = weekly_report(config, "sakura", None, START, END, tenant_name="Sakura Dining",
                           language="en")
    assert [part.survey for part in report.surveys] == ["engagement", "store-visit"]
    assert report.notes[0] == ("No survey was named: reporting every survey with answers this "
                               "period (“Employee engagement survey” and “Your visit today”).")
    assert "department" in report.surveys[0].segments.columns


def test_a_tenant_without_answers_gets_a_no_answers_report(config, database):
    with database.session() as session:
        create_tenant(session, "quiet", "Quiet Cafe")
    report = weekly_report(config, "quiet", None, START, END, tenant_name="Quiet Cafe",
                           language="en")
    assert report.surveys == [] and not report.demo
    assert "No answers this period</strong> (2026-11-16 – 2026-11-23)" in report.html()
    assert "Quiet Cafe" in report.html()


def test_a_survey_with_answers_only_outside_the_period_is_named(config, database):
    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 500},
                first="2026-08-01T00:00:00+09:00", last="2026-10-01T00:00:00+09:00")
    report = weekly_report(config, "sakura", None, START, END, tenant_name="Sakura Dining",
                           language="en")
    assert report.surveys == []
    assert report.notes == ["Survey “Your visit today” had no answers this period."]
    assert "No answers this period" in report.html()


def test_by_hand_an_unknown_tenant_or_survey_stops_with_what_exists(config, database):
    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 300})
    with database.session() as session:
        create_tenant(session, "quiet", "Quiet Cafe")
    for tenant, survey, message in (
        ("sakrua", None, "unknown tenant 'sakrua' (did you mean 'sakura'?); the store holds: "
                         "sakura"),
        ("quiet", None, "unknown tenant 'quiet'"),
        ("sakura", "store-vist", "tenant 'sakura' has no survey 'store-vist' (did you mean "
                                 "'store-visit'?); its surveys: store-visit"),
        ("demo-wroks", None, "unknown tenant 'demo-wroks'"),
    ):
        with pytest.raises(CxlabError) as raised:
            weekly_report(config, tenant, survey, START, END, demo=True)
        assert str(raised.value).startswith(message)


def test_demo_data_only_for_the_demo_tenant_when_asked(config, database):
    with pytest.raises(CxlabError, match="unknown tenant 'demo'"):
        weekly_report(config, "demo", None, "2026-10-19T07:00:00+09:00",
                      "2026-10-26T07:00:00+09:00")
    asked = weekly_report(config, "demo", None, "2026-10-19T07:00:00+09:00",
                          "2026-10-26T07:00:00+09:00", demo=True, language="en")
    assert asked.demo and asked.tenant == "demo" and asked.surveys
    assert asked.notes == ["Demo data: the seeded demo tenant, not a client's answers."]


def test_a_period_without_a_zone_is_refused(config):
    with pytest.raises(Exception, match="give two ISO times with a zone"):
        weekly_report(config, "sakura", None, "2026-11-16", "2026-11-23")


def test_the_report_renders_to_a_pdf_with_its_japanese_text(config, database):
    from cxlab.report_pdf import report_pdf
    from pypdf import PdfReader

    seed_tenant(config, database, "sakura", "Sakura Dining", {"restaurant_visit.yaml": 2000})
    report = weekly_report(config, "sakura", None, START, END, tenant_name="Sakura Dining",
                           language="ja")
    pdf = report_pdf(report)
    assert pdf.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    compact = re.sub(r"\s+", "", text)
    assert "週次顧客体験レポート" in compact
    assert re.sub(r"\s+", "", report.surveys[0].nps_sentence)[:20] in compact
    assert "優先して改善すべき項目" in compact


def test_answers_off_an_items_scale_are_reported_in_words_not_raised():
    from cxlab.weekly_report.advice import improvement_advice

    definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    items = [q.id for q in definition.questions_of_type("rating")]
    frame = pd.DataFrame({"nps": [9, 3] * 40, **{item: [4, 2] * 40 for item in items}})
    frame.loc[0, "wait_time"] = 9  # a 1–10 answer on a 1–5 item
    table, note = improvement_advice(frame, frame, "nps", items, definition)
    assert table.empty
    assert note == ("What moves NPS could not be analysed: drivers: item 'wait_time' has "
                    "answers outside its scale 1–5 (9).")
