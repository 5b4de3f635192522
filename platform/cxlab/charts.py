"""Plotly figures for dashboards and reports, labelled from the survey definition.

Each builder takes a tidy frame from :mod:`cxlab.analysis` (or the responses frame
where no analysis step is needed) and the survey definition, and returns a
``plotly.graph_objects.Figure`` titled and labelled in ``language`` ("ja" or "en").
The notebooks only call these; no notebook builds a figure itself.

>>> import pandas as pd
>>> from cxlab.analysis import nps
>>> figure = nps_headline(nps(pd.Series([10, 9, 8, 3, 10, 6])), language="en")
>>> figure.data[0].value
16.7
>>> nps_headline(nps(pd.Series([10, 9])), language="ja").layout.title.text
'NPS'
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from cxlab.i18n import phrase, variant
from cxlab.surveys.definition import SurveyDefinition, localize

COLORS = {
    "detractors": "#d1495b",
    "passives": "#edae49",
    "promoters": "#00798c",
    "fix first": "#d1495b",
    "keep": "#00798c",
    "maintain": "#8d99ae",
    "lower priority": "#c9ccd5",
    "check direction": "#6c3483",
    "line": "#30638e",
    "band": "rgba(48, 99, 142, 0.18)",
}
SCALE_COLORS = ("#d1495b", "#f08a5d", "#e9e4d4", "#7fb8c4", "#00798c")


def text(key: str, language: str, kind: str = "cx", **values: object) -> str:
    """A chart's phrase (``chart.<key>`` of :mod:`cxlab.i18n`) in ``language`` (English
    when the language is unknown), in the words of a ``kind`` of survey ("cx"
    customers, "ex" employees).

    >>> text("segments", "ja", attribute="店舗")
    '店舗別のNPS'
    >>> text("segments", "en", kind="ex", attribute="Department")
    'eNPS by Department'
    """
    return phrase(language, variant(f"chart.{key.replace(' ', '_')}", kind), **values)


def item_label(definition: SurveyDefinition | None, item: str, language: str) -> str:
    """A question's or attribute's label in ``language``; the id when it has none."""
    if definition is None:
        return item
    for question in definition.questions:
        if question.id == item:
            return localize(question.label, language)
    for row in definition.items():  # a matrix row
        if row.id == item:
            return localize(row.label, language)
    attribute = definition.attribute(item)
    return localize(attribute.label, language) if attribute is not None else item


def _slim_white_template() -> go.layout.Template:
    """Plotly's ``plotly_white`` look, cut to what cxlab's charts use: its layout defaults
    for axes, titles, fonts and colours, and the trace defaults of bar, scatter and table.
    The full template also carries defaults for 24 trace types and for maps, polar and
    3-D scenes, and plotly deep-copies the template into every figure: measured, that
    copy was a quarter of a dashboard's re-draw time (80 ms against 20 ms per figure).

    >>> sorted(pio.templates[TEMPLATE].data.to_plotly_json())
    ['bar', 'scatter', 'table']
    """
    white = pio.templates["plotly_white"]
    layout = white.layout.to_plotly_json()
    used = ("annotationdefaults", "autotypenumbers", "colorway", "font", "hoverlabel",
            "hovermode", "paper_bgcolor", "plot_bgcolor", "shapedefaults", "title",
            "xaxis", "yaxis")
    return go.layout.Template(layout={key: layout[key] for key in used if key in layout},
                              data={kind: white.data[kind] for kind in ("bar", "scatter", "table")})


TEMPLATE = "cxlab_white"
pio.templates[TEMPLATE] = _slim_white_template()


def _layout(figure: go.Figure, title: str, height: int = 360) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        template=TEMPLATE,
        # Below the plot, not beside it: on a phone a side legend takes half the width.
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
        font={"family": "system-ui, 'Hiragino Sans', 'Noto Sans CJK JP', sans-serif"},
    )
    return figure


def nps_headline(summary: pd.DataFrame, *, language: str = "ja", ci: float = 0.95,
                 kind: str = "cx") -> go.Figure:
    """The headline number: NPS (eNPS for ``kind="ex"``) of :func:`cxlab.analysis.nps`
    with its interval and n."""
    row = summary.iloc[0]
    n = int(row["n"])
    if n == 0 or pd.isna(row["nps"]):
        subtitle, value = text("no_answers", language), None
    elif not bool(row["enough_answers"]):
        subtitle, value = text("nps_few", language, n=n), round(float(row["nps"]), 1)
    else:
        subtitle = text("nps_headline", language, ci=ci, low=float(row["ci_low"]),
                        high=float(row["ci_high"]), n=n)
        value = round(float(row["nps"]), 1)
    figure = go.Figure(go.Indicator(
        mode="number", value=value,
        number={"valueformat": "+.1f", "font": {"size": 64}},
        title={"text": f"<span style='font-size:0.8em;color:#555'>{subtitle}</span>"},
    ))
    return _layout(figure, text("nps", language, kind), height=220)


def nps_trend(trend_frame: pd.DataFrame, *, language: str = "ja", ci: float = 0.95,
              kind: str = "cx") -> go.Figure:
    """NPS per period from :func:`cxlab.analysis.trend` with its confidence band."""
    periods = pd.to_datetime(trend_frame["period"])
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=list(periods) + list(periods[::-1]),
        y=list(trend_frame["ci_high"]) + list(trend_frame["ci_low"][::-1]),
        fill="toself", fillcolor=COLORS["band"], line={"width": 0}, hoverinfo="skip",
        name=text("interval", language, ci=ci),
    ))
    figure.add_trace(go.Scatter(
        x=periods, y=trend_frame["value"], mode="lines+markers",
        name=text("nps", language, kind),
        line={"color": COLORS["line"], "width": 2},
        customdata=trend_frame[["n"]],
        hovertemplate="%{x|%Y-%m-%d}: %{y:+.1f} (n=%{customdata[0]:,})",
    ))
    # Plotly's own date ticks are English ("Sep 2026"): numeric dates in Japanese.
    figure.update_xaxes(title=text("period", language),
                        tickformat="%Y/%-m/%-d" if language == "ja" else None)
    figure.update_yaxes(title=text("nps", language, kind), zeroline=True)
    return _layout(figure, text("trend", language, kind))


def score_distribution(scores: pd.Series, *, language: str = "ja", kind: str = "cx") -> go.Figure:
    """Answers per 0–10 score, coloured detractor / passive / promoter."""
    counts = scores.dropna().astype(int).value_counts().reindex(range(11), fill_value=0)
    groups = (("detractors", range(0, 7)), ("passives", range(7, 9)), ("promoters", range(9, 11)))
    figure = go.Figure([
        go.Bar(x=list(band), y=counts.loc[list(band)].tolist(), name=text(group, language),
               marker_color=COLORS[group])
        for group, band in groups
    ])
    figure.update_xaxes(title=text("score", language), dtick=1)
    figure.update_yaxes(title=text("answers", language))
    return _layout(figure, text("distribution", language, kind))


def driver_map(
    table: pd.DataFrame, definition: SurveyDefinition | None = None, *, language: str = "ja"
) -> go.Figure:
    """Importance × performance of :func:`cxlab.analysis.drivers` (its ``table``), one
    point per item, with quadrant lines at the average importance (1/p) and the items'
    average performance; "fix first" items are labelled in red.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"item": ["wait", "food"], "importance_share": [0.7, 0.3],
    ...                       "performance": [2.1, 3.9], "quadrant": ["fix first", "maintain"]})
    >>> figure = driver_map(table, language="en")
    >>> [trace.name for trace in figure.data]
    ['fix first', 'maintain']
    >>> figure.data[0].text
    ('wait',)
    >>> reversed_item = table.assign(quadrant=["fix first", "check direction"])
    >>> [trace.name for trace in driver_map(reversed_item, language="en").data][1]
    'check the wording (higher rating, lower NPS)'
    """
    figure = go.Figure()
    # "check direction": an item that goes against the outcome (a reversed wording); it is
    # drawn, never hidden, and never "fix first".
    for quadrant in ("fix first", "keep", "maintain", "lower priority", "check direction"):
        rows = table[table["quadrant"] == quadrant]
        if rows.empty:
            continue
        labels = [item_label(definition, item, language) for item in rows["item"]]
        figure.add_trace(go.Scatter(
            x=rows["importance_share"], y=rows["performance"], name=text(quadrant, language),
            mode="markers+text" if quadrant == "fix first" else "markers",
            text=labels, textposition="top center",
            textfont={"color": COLORS[quadrant], "size": 13},
            marker={"size": 14 if quadrant == "fix first" else 11, "color": COLORS[quadrant],
                    "line": {"width": 1, "color": "white"}},
            hovertemplate="%{text}<br>%{x:.0%} · %{y:.2f}<extra></extra>",
        ))
    if len(table):
        figure.add_vline(x=1 / len(table), line_dash="dot", line_color="#888")
        figure.add_hline(y=float(table["performance"].mean()), line_dash="dot", line_color="#888")
    kind = definition.kind if definition is not None else "cx"
    figure.update_xaxes(title=text("importance", language, kind), tickformat=".0%",
                        rangemode="tozero")
    figure.update_yaxes(title=text("performance", language))
    return _layout(figure, text("drivers", language, kind), height=440)


def item_ratings(
    table: pd.DataFrame, definition: SurveyDefinition | None = None, *, language: str = "ja"
) -> go.Figure:
    """Stacked answer shares per item from :func:`cxlab.analysis.ratings`, lowest
    average at the top, with the average beside each bar."""
    table = table.sort_values("mean", ascending=False)
    labels = [item_label(definition, item, language) for item in table["item"]]
    share_columns = [c for c in table.columns if c.startswith("share_")]
    figure = go.Figure()
    for index, column in enumerate(share_columns):
        step = (len(SCALE_COLORS) - 1) / max(len(share_columns) - 1, 1)
        color = SCALE_COLORS[round(index * step)]
        figure.add_trace(go.Bar(
            y=labels, x=table[column], orientation="h", name=column.removeprefix("share_"),
            marker_color=color, hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        ))
    figure.add_trace(go.Scatter(
        y=labels, x=[1.02] * len(labels), mode="text", showlegend=False, hoverinfo="skip",
        text=[f"{text('mean', language)} {value:.2f}" for value in table["mean"]],
        textposition="middle right",
    ))
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title=text("share", language), tickformat=".0%", range=[0, 1.25])
    return _layout(figure, text("ratings", language), height=120 + 32 * len(labels))


def segment_table(
    by_segment: pd.DataFrame, attribute: str, definition: SurveyDefinition | None = None,
    *, language: str = "ja",
) -> go.Figure:
    """NPS per segment (:func:`cxlab.analysis.nps_by`) as a table; segments without
    enough answers show "too few answers" instead of a number that would mislead.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"store": ["a", "b"], "n": [400, 5], "nps": [12.0, 60.0],
    ...     "ci_low": [4.0, 0.0], "ci_high": [20.0, 100.0], "enough_answers": [True, False]})
    >>> segment_table(frame, "store", language="en").data[0].cells.values[2]
    ['+12.0', 'too few answers']
    """
    rows = segment_rows(by_segment, attribute, language=language, definition=definition)
    figure = go.Figure(go.Table(
        header={"values": list(rows.columns), "fill_color": "#30638e",
                "font": {"color": "white"}, "align": "left"},
        cells={"values": [rows[column] for column in rows.columns], "align": "left",
               "fill_color": [["#ffffff" if ok else "#f3f3f3"
                               for ok in by_segment["enough_answers"]]]},
    ))
    kind = definition.kind if definition is not None else "cx"
    title = text("segments", language, kind, attribute=item_label(definition, attribute, language))
    return _layout(figure, title, height=120 + 30 * len(rows))


def segment_rows(by_segment: pd.DataFrame, attribute: str, *, language: str = "ja",
                 definition: SurveyDefinition | None = None) -> pd.DataFrame:
    """The rows :func:`segment_table` shows: each segment by its label (a store's name,
    from the definition's ``value_labels``; its code when it has none), headed by the
    attribute's label."""
    described = definition.attribute(attribute) if definition is not None else None
    def number(value: float, ok: bool) -> str:
        if not ok or value is None or (isinstance(value, float) and math.isnan(value)):
            return text("too_few", language) if not ok else ""
        return f"{value:+.1f}"

    ok = by_segment["enough_answers"].astype(bool).tolist()
    values = by_segment[attribute].astype(str).tolist()
    return pd.DataFrame({
        item_label(definition, attribute, language):
            [described.value_label(v, language) for v in values] if described else values,
        "n": by_segment["n"].astype(int).tolist(),
        "NPS": [number(v, k) for v, k in zip(by_segment["nps"], ok, strict=True)],
        "CI": ["" if not k else f"{lo:+.1f} … {hi:+.1f}"
               for lo, hi, k in zip(by_segment["ci_low"], by_segment["ci_high"], ok, strict=True)],
    })
