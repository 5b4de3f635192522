"""What the dashboard never shows: a figure from fewer answers than the survey's minimum
group, a segment that could be recovered by subtraction, an error cell for a survey
that has no answers yet, or statistical jargon in client text."""

from __future__ import annotations

import base64
import html
import json
import re

import pandas as pd
import pytest
from cxlab.dashboards.data import load_dashboard_data
from cxlab.dashboards.page import DashboardMessage, build_dashboard
from cxlab.dashboards.widget import Dashboard
from cxlab.demo import demo_config
from cxlab.store import load_responses


@pytest.fixture(scope="module")
def demo():
    return demo_config(responses=600)


def segment_codes(board: Dashboard) -> list[str]:
    """The segments the table shows, by code (the table shows their labels)."""
    table = board.figures["segments"]["data"]["application/vnd.plotly.v1+json"]["data"][0]
    attribute = board.data.definition.attribute(board.data.attribute)
    code_of = {attribute.value_label(code, board.language): code for code in attribute.values}
    return [code_of.get(str(label), str(label)) for label in table["cells"]["values"][0]]


def test_a_selection_of_fewer_than_min_group_answers_shows_no_figure(demo):
    data = load_dashboard_data(demo, "demo", "store-visit")
    counts = data.responses[data.attribute].value_counts()
    small = next(str(store) for store, n in counts.items() if 0 < n < 5)
    board = Dashboard(data, language="en")
    board.segments.value = small
    assert 0 < board.view_size < data.definition.anonymity.min_group
    assert board.figures == {}
    assert "Too few answers to show" in board.empty.value
    assert board.comments.value == "" and board.fix_first.value == ""
    assert board.download.value == ""


def test_a_comment_search_never_shows_the_comments_of_a_withheld_view(demo):
    data = load_dashboard_data(demo, "demo", "store-visit")
    counts = data.responses[data.attribute].value_counts()
    small = next(str(store) for store, n in counts.items() if 0 < n < 5)
    board = Dashboard(data, language="en")
    board.segments.value = small
    for search in ("a", "e", " "):  # typing into the search box
        board.comment_filter.value = search
        assert board.comments.value == ""


def test_comments_are_read_for_the_view_on_screen_not_held_in_memory(demo):
    data = load_dashboard_data(demo, "demo", "store-visit")
    assert not set(data.text_columns) & set(data.responses.columns)
    board = Dashboard(data, language="en")
    store = str(data.responses[data.attribute].value_counts().index[0])
    board.segments.value = store
    shown = re.findall(r"<li><small>(\d{4}-\d\d-\d\d) · (\d+)</small> ([^<]*)</li>",
                       board.comments.value)
    # The same comments, read with every column from the store and filtered here.
    every = load_responses(demo, "demo", "store-visit")
    mine = every[every[data.attribute] == store].sort_values("submitted_at", ascending=False,
                                                             kind="stable")
    expected = [text for row in mine[data.text_columns].itertuples(index=False)
                for text in row if isinstance(text, str) and text]
    assert shown and [html.unescape(text) for _, _, text in shown] == expected[:len(shown)]
    assert len(shown) == min(len(expected), 15)


def test_a_view_whose_complement_is_small_is_not_shown(demo):
    """Everyone but 1–4 people: whole minus view would show those few."""
    data = load_dashboard_data(demo, "demo", "store-visit")
    frame = data.responses
    big = str(frame[data.attribute].value_counts().index[0])
    # Keep the big store and three answers of another: the "big store" view is the
    # whole minus three people.
    others = frame[frame[data.attribute] != big].head(3)
    data.answers = pd.concat([frame[frame[data.attribute] == big], others])
    board = Dashboard(data, language="en")
    assert board.figures  # the whole is large enough
    board.segments.value = big
    assert board.figures == {} and "Too few answers to show" in board.empty.value


def test_small_segments_are_hidden_with_a_complement_and_said_so(demo):
    data = load_dashboard_data(demo, "demo", "store-visit")
    counts = data.responses[data.attribute].value_counts()
    board = Dashboard(data, language="en")
    shown = segment_codes(board)
    small = [str(store) for store, n in counts.items() if 0 < n < 5]
    assert small and not set(small) & set(shown)
    # Hidden ones add up to at least min_group, so the total gives none of them away.
    hidden = [str(store) for store in counts.index if str(store) not in shown]
    assert len(hidden) >= 2 and counts[hidden].sum() >= 5
    assert f"{len(hidden)} Store(s) with too few answers are not shown" in (
        board.segments_note.value)
    # Nor in the CSV download (a data: URL with the table in base64).
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", board.download.value).group(1)
    csv_text = base64.b64decode(payload).decode("utf-8-sig")
    assert not any(store in csv_text for store in hidden)


def test_segment_differences_are_told_in_plain_words(demo):
    data = load_dashboard_data(demo, "demo", "store-visit")
    board = Dashboard(data, language="en")
    note = board.segments_note.value
    visible = note.split(">", 1)[1]  # the text a client reads, after the tooltip
    assert "difference between Stores" in visible or "Stores differ clearly" in visible
    assert "welch" not in visible and "p =" not in visible and "p <" not in visible
    assert 'title="welch_anova, p' in note  # the detail, for a consultant, on hover
    japanese = Dashboard(load_dashboard_data(demo, "demo", "store-visit"), language="ja")
    assert "差" in japanese.segments_note.value and "Store" not in (
        japanese.segments_note.value.split(">", 1)[1])


def test_a_survey_with_no_synced_answers_shows_a_friendly_message(demo):
    board = build_dashboard(demo, "demo", "never-synced", language="ja",
                            portal_url="https://cx.example/portal/")
    assert isinstance(board, DashboardMessage)
    shown = json.dumps([child.value for child in board.widget.children], ensure_ascii=False)
    assert "まだ回答がありません" in shown and "error" not in shown.lower()
    assert "https://cx.example/portal/?lang=ja" in shown  # a way back


def test_the_dashboard_links_back_to_the_portal_and_to_sign_out(demo):
    board = build_dashboard(demo, "demo", "store-visit", language="en",
                            portal_url="https://cx.example/portal/")
    assert 'href="https://cx.example/portal/?lang=en"' in board.nav.value
    assert 'href="https://cx.example/portal/logout?lang=en"' in board.nav.value
    assert board.nav in board.widget.children[:2]  # beside the title, at the top


def seeded(tmp_path_factory, tenant: str, responses: int, survey_file: str):
    """A private store seeded with ``responses`` answers to an example survey."""
    from cxlab.config import Config
    from cxlab.demo import seed_store

    var_dir = tmp_path_factory.mktemp(tenant) / "var"
    config = Config.from_environ({"CXLAB_VAR_DIR": str(var_dir), "CXLAB_ENV": "test"})
    seed_store(config, {tenant: responses}, survey_file=survey_file)
    return config


@pytest.fixture(scope="module")
def employees(tmp_path_factory):
    return seeded(tmp_path_factory, "works", 800, "employee_engagement.yaml")


def test_an_employee_survey_speaks_of_employees_and_enps(employees):
    for language, customer_words in (("en", ("customer", "Customer")), ("ja", ("お客様",))):
        board = build_dashboard(employees, "works", "engagement", language=language)
        board.data.responses  # noqa: B018 - wait for the answers
        shown = json.dumps([board.fix_first.value, board.groups.value, board.comments.value,
                            board.figures], ensure_ascii=False)
        assert "eNPS" in json.dumps(board.figures["headline"], ensure_ascii=False)
        assert "eNPS" in json.dumps(board.figures["trend"], ensure_ascii=False)
        assert not any(word in shown for word in customer_words)
        # Seeded comments are employees' words, not a restaurant's.
        assert "料理" not in shown and "food" not in shown


def test_an_employee_survey_shows_a_score_per_item_group_with_its_n(employees):
    from cxlab.analysis.groups import group_scores

    board = build_dashboard(employees, "works", "engagement", language="en")
    groups = board.data.definition.item_groups()
    table = group_scores(board.data.responses, groups).set_index("group")
    html_table = board.groups.value
    assert "Scores by theme" in html_table
    for group, label in (("engagement", "Engagement"), ("manager", "Manager"),
                         ("growth", "Growth")):
        row = table.loc[group]
        assert f"<th scope='row'>{label}</th><td>{row['favourable']:.0%}</td>" in html_table
        assert f"<td>{int(row['n']):,}</td>" in html_table
    japanese = build_dashboard(employees, "works", "engagement", language="ja")
    assert "エンゲージメント" in japanese.groups.value and "テーマ別" in japanese.groups.value


def test_segments_are_shown_by_their_labels_and_downloaded_with_numbers(demo):
    data = load_dashboard_data(demo, "demo", "store-visit")
    board = Dashboard(data, language="ja")
    table = board.figures["segments"]["data"]["application/vnd.plotly.v1+json"]["data"][0]
    assert "渋谷店" in table["cells"]["values"][0] and table["header"]["values"][0] == "店舗"
    assert ("渋谷店", "shibuya-01") in board.segments.options
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", board.download.value).group(1)
    csv_text = base64.b64decode(payload).decode("utf-8")
    assert csv_text.startswith("\ufeff店舗,code,n,NPS,low,high")  # BOM: Excel reads UTF-8
    first = csv_text.splitlines()[1].split(",")
    assert first[:2] == ["渋谷店", "shibuya-01"] and float(first[3]) <= float(first[5])


def test_the_improvement_effect_ranks_the_planted_driver_first_in_nps_points(demo):
    """The seeded data plant waiting time as the item that hurts most when rated low: the
    dashboard's improvement table puts it first, with the analysis' own figures."""
    from cxlab.analysis.improvement import improvement_effect

    data = load_dashboard_data(demo, "demo", "store-visit")
    board = Dashboard(data, language="en")
    expected = improvement_effect(data.responses, data.outcome, data.items,
                                  definition=data.definition, n_boot=0).table.iloc[0]
    assert expected["item"] == "wait_time"
    rows = re.findall(r"<th scope='row'>([^<]+)</th><td>([+-][\d.]+)</td><td>([+-][\d.]+)</td>",
                      board.improvement.value)
    assert rows[0] == ("Waiting time for your food", f"{expected['effect']:+.1f}",
                       f"{expected['what_if_nps']:+.1f}")
    assert all(float(effect) > 0 for _, effect, _ in rows)
    assert "改善効果" in Dashboard(data, language="ja").improvement.value


@pytest.fixture(scope="module")
def shops(tmp_path_factory):
    return seeded(tmp_path_factory, "shops", 600, "shop_visit.yaml")


def test_a_matrix_only_survey_has_its_rows_as_driver_items(shops):
    data = load_dashboard_data(shops, "shops", "shop-visit")
    rows = [item.id for item in data.definition.items()]
    assert rows and data.items == rows
    assert not data.definition.questions_of_type("rating")  # only the matrix rates
    board = Dashboard(data, language="en")
    assert "drivers" in board.figures
    labels = {item.id: item.label["en"] for item in data.definition.items()}
    fix_first = board.fix_first.value + board.improvement.value
    assert any(label in fix_first for label in labels.values())
    assert not any(row_id in fix_first for row_id in labels)  # labels, never column ids
