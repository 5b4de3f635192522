"""HTML pieces and words of the client dashboard: the phrase table (ja/en, customer or
employee wording), p-values in plain form, chart outputs, the CSV download, the page's
navigation and layout rules. No widgets here: the widget, the snapshots and the tests
all build on these.
"""

from __future__ import annotations

import base64
import html
import json
import re

import pandas as pd

from cxlab import charts
from cxlab.csv_cells import csv_safe_frame
from cxlab.dashboards.images import PLOTLY_MIMETYPE  # drawn by jupyterlab-plotly
from cxlab.surveys.definition import SurveyDefinition

WORDS = {
    "en": {"all": "Whole period", "90d": "Last 90 days", "30d": "Last 30 days",
           "7d": "Last 7 days", "period": "Period", "segment": "", "every": "All",
           "as_of": "data as of {time} · {n:,} answers loaded",
           "empty": "No answers yet for this selection. Widen the period or choose "
                    "another {attribute}.",
           "fix_first": "Fix first — these matter most to customers and score below the rest:",
           "no_fix": "No item is both important and weak right now.",
           "drivers_unavailable": "Not enough answers to tell what moves NPS ({reason}).",
           "download": "Download this table (CSV)", "comments": "Recent comments",
           "filter": "Filter comments", "no_comments": "No comments match.",
           "differ": "{attribute}s differ clearly.",
           "same": "No clear difference between {attribute}s.",
           "demo": "Demo data: this tenant has no synced answers here.",
           "too_few": "Too few answers to show: at least {n} are needed so that no one "
                      "can be recognised. Widen the period or choose all {attribute}s.",
           "hidden_groups": "{count} {attribute}(s) with too few answers are not shown.",
           "not_synced": "No answers yet. Answers appear here a few minutes after they "
                         "arrive.",
           "unreachable": "The answers cannot be read right now. Please try again in a few "
                          "minutes.",
           "portal": "← Portal", "sign_out": "Sign out",
           "improvement": "Improvement effect: what raises NPS most",
           "improvement_note": "NPS now {nps:+.1f}. If an item's low ratings moved up to "
                               "the middle of its scale, NPS would rise by its effect "
                               "(penalty–reward analysis).",
           "item": "Item", "effect": "Effect (NPS points)", "what_if": "NPS after",
           "kpis": "Key figures", "score": "NPS",
           "interval_n": "95 % interval {low:+.0f} to {high:+.0f} · {n:,} answers",
           "answers": "Answers in this view", "change": "Change against the {days} days before",
           "change_before": "Change against the period before",
           "up": "Up clearly", "down": "Down clearly", "steady": "No clear change",
           "no_previous": "Too few answers in the {days} days before to compare",
           "whole": "Whole period: nothing before it to compare"},
    "ja": {"all": "全期間", "90d": "直近90日", "30d": "直近30日", "7d": "直近7日",
           "period": "期間", "segment": "", "every": "すべて",
           "as_of": "データ更新 {time}・回答 {n:,} 件",
           "empty": "この条件の回答はまだありません。"
                    "期間を広げるか、別の{attribute}を選んでください。",
           "fix_first": "最優先で改善：お客様にとって重要で、評価が他より低い項目",
           "no_fix": "重要かつ評価の低い項目は現在ありません。",
           "drivers_unavailable": "回答が少なく、NPSを動かす要因を推定できません（{reason}）。",
           "download": "この表をダウンロード（CSV）", "comments": "最近のコメント",
           "filter": "コメントを検索", "no_comments": "該当するコメントはありません。",
           "differ": "{attribute}によって明らかな差があります。",
           "same": "{attribute}による明確な差はありません。",
           "demo": "デモデータです（このテナントの回答はまだ同期されていません）。",
           "too_few": "回答が少ないため表示しません（回答者を特定できないよう、{n}件以上が"
                      "必要です）。期間を広げるか、すべての{attribute}を選んでください。",
           "hidden_groups": "回答が少ない{attribute}（{count}件）は表示していません。",
           "not_synced": "まだ回答がありません。回答は届いてから数分後にここに表示されます。",
           "unreachable": "現在、回答を読み込めません。数分後にもう一度お試しください。",
           "portal": "← ポータル", "sign_out": "サインアウト",
           "improvement": "改善効果：NPSを最も上げる項目",
           "improvement_note": "現在のNPSは{nps:+.1f}。ある項目の低い評価が中間まで上がると、"
                               "NPSはその改善効果の分だけ上がります（ペナルティ・リワード分析）。",
           "item": "項目", "effect": "改善効果（NPSポイント）", "what_if": "改善後のNPS",
           "kpis": "主な指標", "score": "NPS",
           "interval_n": "95%信頼区間 {low:+.0f}〜{high:+.0f}・回答 {n:,} 件",
           "answers": "この条件の回答数", "change": "その前の{days}日間との差",
           "change_before": "前の期間との差",
           "up": "明らかに上昇", "down": "明らかに低下", "steady": "明確な変化はありません",
           "no_previous": "その前の{days}日間の回答が少ないため比較できません",
           "whole": "全期間のため、比較する前の期間はありません"},
}


# Employee surveys (``kind: ex``) speak of employees; every other phrase is shared.
EX_WORDS = {
    "en": {"fix_first": "Fix first — these matter most to employees and score below the rest:",
           "groups": "Scores by theme", "group": "Theme", "favourable": "Favourable",
           "interval": "95 % interval", "mean": "Average",
           "improvement": "Improvement effect: what raises eNPS most",
           "improvement_note": "eNPS now {nps:+.1f}. If an item's low ratings moved up to "
                               "the middle of its scale, eNPS would rise by its effect "
                               "(penalty–reward analysis).",
           "effect": "Effect (eNPS points)", "what_if": "eNPS after", "score": "eNPS"},
    "ja": {"fix_first": "最優先で改善：従業員にとって重要で、評価が他より低い項目",
           "groups": "テーマ別のスコア", "group": "テーマ", "favourable": "肯定的回答",
           "interval": "95%信頼区間", "mean": "平均",
           "improvement": "改善効果：eNPSを最も上げる項目",
           "improvement_note": "現在のeNPSは{nps:+.1f}。ある項目の低い評価が中間まで上がると、"
                               "eNPSはその改善効果の分だけ上がります（ペナルティ・リワード分析）。",
           "effect": "改善効果（eNPSポイント）", "what_if": "改善後のeNPS", "score": "eNPS"},
}


def words(key: str, language: str, kind: str = "cx", **values: object) -> str:
    """A dashboard phrase in ``language``, in the words of a ``kind`` of survey.

    >>> words("fix_first", "en", "ex")[:45]
    'Fix first — these matter most to employees an'
    """
    if kind == "ex" and key in EX_WORDS.get(language, {}):
        phrase = EX_WORDS[language][key]
        return phrase.format(**values) if values else phrase
    phrase = WORDS.get(language, WORDS["en"])[key]
    return phrase.format(**values) if values else phrase



def p_value_text(p: float) -> str:
    """A p-value as a reader expects it: never "p = 0.000".

    >>> p_value_text(0.00002), p_value_text(0.0312), p_value_text(0.41)
    ('p < 0.001', 'p = 0.031', 'p = 0.41')
    """
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"



def figure_output(figure: object) -> dict:
    """A display_data output holding ``figure`` for an ``ipywidgets.Output``.

    >>> import plotly.graph_objects as go
    >>> sorted(figure_output(go.Figure())["data"])
    ['application/vnd.plotly.v1+json', 'text/plain']
    """
    bundle = json.loads(figure.to_json())
    bundle["config"] = {"displaylogo": False, "responsive": True}
    title = bundle.get("layout", {}).get("title", {}).get("text", "figure")
    return {"output_type": "display_data", "metadata": {},
            "data": {PLOTLY_MIMETYPE: bundle, "text/plain": f"<plotly figure: {title}>"}}


def segment_download(by_segment: pd.DataFrame, definition: SurveyDefinition, attribute: str,
                     language: str) -> pd.DataFrame:
    """The segment table as a spreadsheet wants it: the segment's label and code, then
    one column per number (n, NPS, and its interval's low and high), unformatted.

    >>> from cxlab.surveys import EXAMPLES_DIR, load_definition
    >>> visit = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
    >>> table = pd.DataFrame({"store": ["shibuya-01"], "n": [40], "nps": [12.5],
    ...                       "ci_low": [-3.0], "ci_high": [28.0]})
    >>> segment_download(table, visit, "store", "ja").to_dict("records")
    [{'店舗': '渋谷店', 'code': 'shibuya-01', 'n': 40, 'NPS': 12.5, 'low': -3.0, 'high': 28.0}]
    """
    described = definition.attribute(attribute)
    codes = by_segment[attribute].astype(str).tolist()
    return pd.DataFrame({
        charts.item_label(definition, attribute, language):
            [described.value_label(code, language) if described else code for code in codes],
        "code": codes, "n": by_segment["n"].astype(int).tolist(),
        "NPS": by_segment["nps"].round(1).tolist(), "low": by_segment["ci_low"].round(1).tolist(),
        "high": by_segment["ci_high"].round(1).tolist(),
    })


def chart_summary(section: str, figure: object) -> str:
    """A chart in words, for its image's alt text: its title, and for the headline its
    value with interval and n, for the trend its first and last point.

    >>> import pandas as pd
    >>> from cxlab.analysis import nps
    >>> chart_summary("headline", charts.nps_headline(nps(pd.Series([10] * 30 + [3] * 10)),
    ...                                                language="en"))
    'NPS +50.0 (95% interval +20.6 to +72.4 · 40 answers)'
    """
    title = figure.layout.title.text or ""
    if section == "headline" and figure.data and figure.data[0].value is not None:
        detail = re.sub(r"<[^>]+>", "", figure.data[0].title.text or "")
        return f"{title} {figure.data[0].value:+.1f} ({detail})"
    if section == "trend" and len(figure.data) > 1 and figure.data[1].y is not None:
        values = [float(v) for v in figure.data[1].y if v is not None and v == v]
        if values:
            return f"{title}: {values[0]:+.1f} → {values[-1]:+.1f}"
    return title


def chart_summaries_html(summaries: dict[str, str]) -> str:
    """The hidden list cxlab's Voila template reads to give each chart image its alt."""
    items = "".join(f'<li data-section="cx-{html.escape(name)}">{html.escape(text)}</li>'
                    for name, text in summaries.items())
    return f'<ul class="cx-chart-summaries" hidden>{items}</ul>'


def csv_link(frame: pd.DataFrame, filename: str, label: str) -> str:
    """An HTML link that downloads ``frame`` as CSV, with no server round trip.

    >>> csv_link(pd.DataFrame({"a": [1]}), "t.csv", "CSV")[:60]
    '<a download="t.csv" href="data:text/csv;charset=utf-8;base64'
    """
    # A byte-order mark so Excel opens Japanese text as UTF-8; no cell a spreadsheet runs.
    text = csv_safe_frame(frame).to_csv(index=False)
    payload = base64.b64encode(("\ufeff" + text).encode()).decode()
    return (f'<a download="{html.escape(filename)}" href="data:text/csv;charset=utf-8;'
            f'base64,{payload}" class="cx-download">{html.escape(label)}</a>')



PAGE_STYLE = """<style>
.cx-controls { flex-wrap: wrap; gap: 4px 16px; }
.cx-controls .widget-dropdown { max-width: 100%; }
.cx-groups table, .cx-response-rate table { display: block; overflow-x: auto; }
.cx-nav a { margin-right: .2em; }
@media (max-width: 600px) {
  .cx-controls .widget-dropdown { width: 100%; }
  .cx-controls .widget-dropdown > select { flex: 1 1 auto; min-width: 0; }
}
</style>"""


def navigation_html(portal_url: str, language: str) -> str:
    """Links back to the portal and to sign out, in ``language`` (none without a portal).

    >>> links = navigation_html("https://cx.example/portal/", "en").removeprefix(PAGE_STYLE)
    >>> print(links.replace(" · ", "\\n"))
    <a href="https://cx.example/portal/?lang=en" target="_top">← Portal</a>
    <a href="https://cx.example/portal/logout?lang=en" target="_top">Sign out</a>
    """
    if not portal_url:
        return PAGE_STYLE
    links = [(f"{portal_url}?lang={language}", words("portal", language)),
             (f"{portal_url}logout?lang={language}", words("sign_out", language))]
    return PAGE_STYLE + " · ".join(
        f'<a href="{html.escape(url)}" target="_top">{html.escape(label)}</a>'
        for url, label in links)


