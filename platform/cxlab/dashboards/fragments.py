"""HTML pieces and words of the client dashboard: its phrases (``dashboard.*`` of
:mod:`cxlab.i18n`, in customer or employee wording), p-values in plain form, chart
outputs, the CSV download, the page's navigation and layout rules. No widgets here:
the widget, the snapshots and the tests all build on these.
"""

from __future__ import annotations

import base64
import html
import json
import re

import pandas as pd

from cxlab import charts
from cxlab.csv_cells import csv_safe_frame
from cxlab.dashboards.images import PLOTLY_MIMETYPE
from cxlab.i18n import phrase, variant
from cxlab.surveys.definition import SurveyDefinition


def words(key: str, language: str, kind: str = "cx", **values: object) -> str:
    """A dashboard phrase in ``language`` (English when the language is unknown), in the
    words of a ``kind`` of survey ("cx" customers, "ex" employees).

    >>> words("fix_first", "en", "ex")[:45]
    'Fix first — these matter most to employees an'
    """
    return phrase(language, variant(f"dashboard.{key}", kind), **values)



def p_value_text(p: float) -> str:
    """A p-value as a reader expects it: never "p = 0.000".

    >>> p_value_text(0.00002), p_value_text(0.0312), p_value_text(0.41)
    ('p < 0.001', 'p = 0.031', 'p = 0.41')
    """
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"



def figure_output(figure: object) -> dict:
    """A display_data output holding ``figure``, as snapshots keep charts and
    :class:`cxlab.dashboards.chart_widget.ChartWidget` shows them.

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


