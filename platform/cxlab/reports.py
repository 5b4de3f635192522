"""The weekly customer-experience report of one tenant (notebooks/reports/weekly.ipynb).

:func:`weekly_report` loads each survey's answers for the report period and the weeks
before it, once, and works out everything the report says: NPS with its interval and
the change from the previous period, the weekly trend, the top improvement priorities
in plain language, the best and worst segment, and a few notable comments. The
notebook only displays :meth:`WeeklyReport.html`, so the scheduler's HTML export is
one self-contained page (charts are inline SVG: no JavaScript, nothing downloaded).

>>> from cxlab.demo import demo_config
>>> report = weekly_report(demo_config(responses=600), "demo", None,
...                        "2026-10-19T07:00:00+09:00", "2026-10-26T07:00:00+09:00")
>>> report.heading
'Demo — weekly customer-experience report, 2026-10-19 – 2026-10-26'
>>> [(part.survey, part.answers) for part in report.surveys]
[('store-visit', 51)]
>>> report.surveys[0].nps_sentence.startswith("NPS this period: ")
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import special

from cxlab import analysis
from cxlab.analysis.drivers import ANSWERS_PER_ITEM, MIN_ANSWERS
from cxlab.analysis.nps import DETRACTOR_MAX, MIN_N, PROMOTER_MIN
from cxlab.charts import item_label
from cxlab.config import Config
from cxlab.errors import CxlabError
from cxlab.notebook_data import choose_data
from cxlab.store import Store, load_responses, survey_definition
from cxlab.surveys.definition import SurveyDefinition, localize

LANGUAGE = "en"
TREND_WEEKS = 8  # the report week and the seven before it
PRIORITIES = 3
COMMENTS_EACH = 3  # low-score and high-score comments shown
MIN_SEGMENT_ANSWERS = MIN_N  # the "too few answers" rule
ORDINALS = ("first", "second", "third", "fourth", "fifth")


@dataclass
class SurveyReport:
    """One survey's part of the report, everything computed and phrased."""

    survey: str
    title: str
    answers: int
    nps: pd.DataFrame  # two rows: "this period", "previous period"
    nps_sentence: str
    trend: pd.DataFrame  # one row per week: week, n, nps, ci_low, ci_high, note
    priorities: list[str]
    drivers_note: str
    segments: pd.DataFrame
    segment_sentences: list[str]
    comments: pd.DataFrame  # kind ("low"/"high"), submitted_at, score, comment


@dataclass
class WeeklyReport:
    """The report of one tenant for ``start`` ≤ submitted_at < ``end``."""

    tenant: str
    tenant_name: str
    start: pd.Timestamp
    end: pd.Timestamp
    surveys: list[SurveyReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    demo: bool = False

    @property
    def period(self) -> str:
        """The period as the scheduler names it: start and end dates (end exclusive)."""
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    @property
    def heading(self) -> str:
        return f"{self.tenant_name} — weekly customer-experience report, {self.period}"

    def html(self) -> str:
        """The whole report as one HTML fragment (headings, text, tables, SVG charts)."""
        parts = [f"<h1>{html.escape(self.heading)}</h1>"]
        parts += [f"<p><em>{html.escape(note)}</em></p>" for note in self.notes]
        if not self.surveys:
            parts.append(f"<p class='cx-no-answers'><strong>No answers this period</strong> "
                         f"({html.escape(self.period)}): there is nothing to report.</p>")
        parts += [survey_html(part) for part in self.surveys]
        return "\n".join(parts)


def weekly_report(
    config: Config,
    tenant: str,
    survey: str | None,
    start: str | datetime,
    end: str | datetime,
    *,
    tenant_name: str | None = None,
    demo: bool = False,
) -> WeeklyReport:
    """Build the report of ``tenant`` for ``start`` ≤ submitted_at < ``end``.

    ``survey`` None reports every survey of the tenant with answers in the period
    (a note names those without). The scheduler passes ``tenant_name``: a tenant
    without synced answers then gets "no answers this period". Run by hand (no
    ``tenant_name``), the tenant and survey must exist in the store — an unknown one
    raises :class:`~cxlab.errors.CxlabError` listing what exists
    (:func:`cxlab.notebook_data.choose_data`) — and ``demo=True`` allows the seeded
    demo tenant "demo" where the store lacks it; it never stands in for another tenant.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise CxlabError(f"report period {start} – {end}: give two ISO times with a zone, "
                         "start before end (e.g. 2026-11-16T07:00:00+09:00)")
    by_hand = tenant_name is None
    if by_hand:  # a name the store lacks is a typo here, not "no answers"
        chosen = choose_data(tenant, survey, demo=demo, config=config)
        config, tenant, demo = chosen.config, chosen.tenant, chosen.demo
    else:
        demo = False
    surveys = tenant_surveys(config, tenant, survey)
    report = WeeklyReport(tenant=tenant, tenant_name=tenant_name or tenant.title(),
                          start=start, end=end, demo=demo)
    if demo:
        report.notes.append("Demo data: the seeded demo tenant, not a client's answers.")
    for slug in surveys:
        part = survey_report(config, tenant, slug, start, end)
        if part is None:
            report.notes.append(f"Survey {slug!r} had no answers this period.")
        else:
            report.surveys.append(part)
    if len(surveys) > 1 and report.surveys:
        names = ", ".join(repr(part.survey) for part in report.surveys)
        report.notes.insert(0, f"No survey was named: reporting every survey with answers "
                               f"this period ({names}).")
    return report


def tenant_surveys(config: Config, tenant: str, survey: str | None) -> list[str]:
    """``[survey]`` if the store holds it, else every survey the store holds for ``tenant``."""
    held = [s for t, s in Store.of(config).partitions() if t == tenant]
    if survey:
        return [survey] if survey in held else []
    return sorted(held)


def survey_report(
    config: Config, tenant: str, survey: str, start: pd.Timestamp, end: pd.Timestamp
) -> SurveyReport | None:
    """One survey's part of the report, or None when it has no answers in the period."""
    definition = survey_definition(config, tenant, survey)
    outcome = definition.questions_of_type("nps")[0].id
    items = [q.id for q in definition.questions_of_type("rating")]
    texts = [q.id for q in definition.questions_of_type("text")]
    attribute = definition.attributes[0].name if definition.attributes else None
    window_start = start - (TREND_WEEKS - 1) * (end - start)
    columns = ["submitted_at", *([attribute] if attribute else []), outcome, *items, *texts]
    history = load_responses(config, tenant, survey, start=window_start, end=end,
                             columns=columns)
    week = history[history["submitted_at"] >= start]
    if week[outcome].notna().sum() == 0:
        return None
    previous = history[(history["submitted_at"] >= start - (end - start))
                       & (history["submitted_at"] < start)]
    headline = nps_change(week[outcome], previous[outcome])
    priorities, drivers_note = [], ""
    if items:
        priorities, drivers_note = improvement_priorities(week, history, outcome, items,
                                                          definition)
    segments, segment_sentences = pd.DataFrame(), []
    if attribute:
        segments, segment_sentences = segment_highlights(week, outcome, attribute, definition)
    return SurveyReport(
        survey=survey, title=localize(definition.title, LANGUAGE),
        answers=int(week[outcome].notna().sum()), nps=headline,
        nps_sentence=nps_sentence(headline),
        trend=weekly_trend(history, outcome, start, end), priorities=priorities,
        drivers_note=drivers_note, segments=segments, segment_sentences=segment_sentences,
        comments=notable_comments(week, outcome, texts),
    )


def nps_change(this: pd.Series, previous: pd.Series, *, ci: float = 0.95) -> pd.DataFrame:
    """NPS with CI and n of this and the previous period, the change and its p-value.

    The change is tested with z = ΔNPS / √(SE₁² + SE₂²), two independent samples, as
    :func:`cxlab.analysis.trend` does.

    >>> table = nps_change(pd.Series([10] * 60 + [3] * 40), pd.Series([10] * 50 + [3] * 50))
    >>> table[["period", "n"]].to_numpy().tolist(), table["nps"].round(1).tolist()
    ([['this period', 100], ['previous period', 100]], [20.0, 0.0])
    >>> round(float(table["change"].iloc[0]), 1), round(float(table["p_change"].iloc[0]), 3)
    (20.0, 0.153)
    """
    table = pd.concat([analysis.nps(this, ci=ci), analysis.nps(previous, ci=ci)],
                      ignore_index=True)
    table.insert(0, "period", ["this period", "previous period"])
    change = table["nps"].iloc[0] - table["nps"].iloc[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = change / np.hypot(table["se"].iloc[0], table["se"].iloc[1])
    table["change"] = [change, np.nan]
    table["p_change"] = [2 * special.ndtr(-abs(z)) if np.isfinite(z) else np.nan, np.nan]
    return table


def nps_sentence(table: pd.DataFrame) -> str:
    """The headline in words, from :func:`nps_change`.

    >>> table = nps_change(pd.Series([10] * 60 + [3] * 40), pd.Series([10] * 50 + [3] * 50))
    >>> nps_sentence(table)  # doctest: +NORMALIZE_WHITESPACE
    'NPS this period: +20.0 (95 % interval +0.6 to +38.2, 100 answers), up 20.0 points
    on the previous period (+0.0, 100 answers; within the margin of error).'
    """
    this, before = table.iloc[0], table.iloc[1]
    text = (f"NPS this period: {this.nps:+.1f} (95 % interval {this.ci_low:+.1f} to "
            f"{this.ci_high:+.1f}, {this.n:,} answers)")
    if this.note and this.note != "no answers":
        text += f" — {this.note}"
    if before.n == 0:
        return text + "; no answers in the previous period to compare with."
    change = this.change
    direction = "up" if change > 0 else "down" if change < 0 else "unchanged,"
    size = f" {abs(change):.1f} points" if change else ""
    verdict = ("a significant change" if this.p_change < 0.05
               else "within the margin of error")
    return (f"{text}, {direction}{size} on the previous period ({before.nps:+.1f}, "
            f"{before.n:,} answers; {verdict}).")


def weekly_trend(
    responses: pd.DataFrame, outcome: str, start: pd.Timestamp, end: pd.Timestamp,
    *, weeks: int = TREND_WEEKS,
) -> pd.DataFrame:
    """NPS with CI per report-length period, the last ``weeks`` ending at ``end``.

    Periods are aligned to the report (not to calendar weeks in UTC), so the last row
    is exactly the report period; ``week`` is each period's first day.

    >>> stamps = pd.to_datetime(["2026-11-10", "2026-11-17", "2026-11-18"], utc=True)
    >>> frame = pd.DataFrame({"submitted_at": stamps, "nps": [10, 3, 9]})
    >>> table = weekly_trend(frame, "nps", pd.Timestamp("2026-11-16", tz="UTC"),
    ...                      pd.Timestamp("2026-11-23", tz="UTC"), weeks=3)
    >>> table["week"].dt.strftime("%m-%d").tolist(), table["n"].tolist()
    (['11-02', '11-09', '11-16'], [0, 1, 2])
    >>> table["nps"].tolist()
    [nan, 100.0, 0.0]
    """
    length = end - start
    first = end - weeks * length
    kept = responses[(responses["submitted_at"] >= first) & (responses["submitted_at"] < end)]
    offset = ((kept["submitted_at"] - first) // length).astype("int64")
    labels = [(first + k * length).tz_convert(start.tz).tz_localize(None) for k in range(weeks)]
    frame = pd.DataFrame({"week": pd.Categorical.from_codes(offset, categories=labels),
                          outcome: kept[outcome].to_numpy()})
    table = analysis.nps_by(frame, outcome, by="week")
    table["week"] = pd.to_datetime(table["week"].astype("datetime64[ns]"))
    return table[["week", "n", "nps", "ci_low", "ci_high", "note"]]


def improvement_priorities(
    week: pd.DataFrame, history: pd.DataFrame, outcome: str, items: list[str],
    definition: SurveyDefinition, *, top: int = PRIORITIES,
) -> tuple[list[str], str]:
    """The ``top`` improvement priorities as sentences, and a note on the data used.

    Runs :func:`cxlab.analysis.drivers` on the period's answers, or on the last
    weeks' when the period has too few for stable importances (the note says which).
    """
    wanted = max(MIN_ANSWERS, ANSWERS_PER_ITEM * len(items))
    complete = int(week[[outcome, *items]].notna().all(axis=1).sum())
    data, note = week, f"From this period's {complete:,} complete answers."
    if complete < wanted:
        data = history
        note = (f"This period has {complete:,} complete answers (fewer than {wanted:,}), "
                f"so the priorities use the last {TREND_WEEKS} weeks.")
    scale = definition.question(items[0])
    result = analysis.drivers(data, outcome, items, scale=(scale.scale_min, scale.scale_max),
                              n_boot=0)
    if not np.isfinite(result.table["importance"]).any():
        return [], f"Too few answers to tell what moves NPS ({'; '.join(result.warnings)})."
    return priority_sentences(result.table, definition, top=top), note


def priority_sentences(
    table: pd.DataFrame, definition: SurveyDefinition | None, *, top: int = PRIORITIES,
    language: str = LANGUAGE,
) -> list[str]:
    """Plain-language sentences for the ``top`` rows of a drivers table, by priority.

    >>> table = pd.DataFrame({"item": ["speed", "taste", "price"],
    ...     "importance_rank": [1, 2, 3], "importance_share": [0.5, 0.3, 0.2],
    ...     "mean": [2.1, 4.0, 3.0], "priority_rank": [1, 3, 2]})
    >>> for sentence in priority_sentences(table, None):  # doctest: +NORMALIZE_WHITESPACE
    ...     print(sentence)
    Speed matters most to NPS and scores lowest (2.1): improving it is the first priority.
    Price is third in importance to NPS (20 % of what the items explain) and scores
    second lowest (3.0): improving it is the second priority.
    Taste is second in importance to NPS (30 % of what the items explain) and scores
    highest (4.0): improving it is the third priority.
    """
    ranked = table.dropna(subset=["priority_rank"]).sort_values("priority_rank").head(top)
    by_mean = table["mean"].rank(method="min").astype(int)
    lowest = dict(zip(table["item"], by_mean, strict=True))
    sentences = []
    for position, row in enumerate(ranked.itertuples(index=False)):
        label = item_label(definition, row.item, language)
        label = label[0].upper() + label[1:]
        rank = int(row.importance_rank)
        if rank == 1:
            matters = "matters most to NPS"
        else:
            matters = (f"is {ORDINALS[rank - 1] if rank <= len(ORDINALS) else f'#{rank}'} in "
                       f"importance to NPS ({row.importance_share:.0%} of what the items "
                       "explain)").replace("%", " %")
        place = lowest[row.item]
        if place == 1:
            scores = "scores lowest"
        elif place == len(table):
            scores = "scores highest"
        elif place <= len(ORDINALS):
            scores = f"scores {ORDINALS[place - 1]} lowest"
        else:
            scores = "scores"
        sentences.append(f"{label} {matters} and {scores} ({row.mean:.1f}): improving it is "
                         f"the {ORDINALS[position]} priority.")
    return sentences


def segment_highlights(
    responses: pd.DataFrame, outcome: str, attribute: str,
    definition: SurveyDefinition | None = None, *, min_n: int = MIN_SEGMENT_ANSWERS,
) -> tuple[pd.DataFrame, list[str]]:
    """NPS per segment, and sentences naming the best and worst segment among those with
    at least ``min_n`` answers (the rest are "too few answers" and not ranked).

    >>> frame = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 40 + ["c"] * 5,
    ...                       "nps": [10] * 30 + [3] * 10 + [9] * 20 + [5] * 20 + [10] * 5})
    >>> table, sentences = segment_highlights(frame, "nps", "store")
    >>> table[["store", "n", "nps", "ranked"]].to_numpy().tolist()
    [['a', 40, 50.0, True], ['b', 40, 0.0, True], ['c', 5, 100.0, False]]
    >>> for sentence in sentences:
    ...     print(sentence)
    Best store by NPS: a (+50.0, 95 % interval +20.6 to +72.4, 40 answers).
    Lowest: b (+0.0, 95 % interval -29.4 to +29.4, 40 answers).
    1 store with fewer than 30 answers is not ranked: c (5).
    """
    label = item_label(definition, attribute, LANGUAGE).lower()
    table = analysis.nps_by(responses, outcome, by=attribute, min_n=min_n)
    table = table[table["n"] > 0].copy()
    table[attribute] = table[attribute].astype(str)
    table["ranked"] = table["n"] >= min_n
    table = table.sort_values(["ranked", "nps"], ascending=False).reset_index(drop=True)
    ranked = table[table["ranked"]]
    sentences = []
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        sentences.append(f"Best {label} by NPS: {_segment_phrase(best, attribute)}.")
        sentences.append(f"Lowest: {_segment_phrase(worst, attribute)}.")
    else:
        sentences.append(f"Too few answers to compare {label}s this period: a {label} needs "
                         f"at least {min_n} answers to be ranked.")
    small = table[~table["ranked"]]
    if len(small) and len(ranked) >= 2:
        listed = ", ".join(f"{row[attribute]} ({row.n})" for _, row in small.iterrows())
        plural = f"{len(small)} {label}{'s' if len(small) > 1 else ''}"
        verb = "are" if len(small) > 1 else "is"
        sentences.append(f"{plural} with fewer than {min_n} answers {verb} not ranked: "
                         f"{listed}.")
    return table, sentences


def _segment_phrase(row: pd.Series, attribute: str) -> str:
    return (f"{row[attribute]} ({row.nps:+.1f}, 95 % interval {row.ci_low:+.1f} to "
            f"{row.ci_high:+.1f}, {row.n:,} answers)")


def notable_comments(
    responses: pd.DataFrame, outcome: str, columns: list[str], *, each: int = COMMENTS_EACH,
) -> pd.DataFrame:
    """The ``each`` most recent comments from detractors (0–6) and from promoters (9–10).

    >>> frame = pd.DataFrame({
    ...     "submitted_at": pd.to_datetime(["2026-11-17", "2026-11-18", "2026-11-19"], utc=True),
    ...     "nps": [2, 10, 9], "why": ["Slow.", "Lovely!", None]})
    >>> notable_comments(frame, "nps", ["why"])[["kind", "score", "comment"]]
       kind  score  comment
    0   low      2    Slow.
    1  high     10  Lovely!
    """
    parts = [pd.DataFrame({"submitted_at": responses["submitted_at"],
                           "score": responses[outcome], "comment": responses[column]})
             for column in columns]
    empty = pd.DataFrame(columns=["kind", "submitted_at", "score", "comment"])
    if not parts:
        return empty
    comments = pd.concat(parts, ignore_index=True)
    text = comments["comment"].astype("string").str.strip()
    comments = comments[text.notna() & (text != "") & comments["score"].notna()]
    # Newest first, each text once: many customers leave the same short comment.
    comments = comments.sort_values("submitted_at", ascending=False).drop_duplicates("comment")
    low = comments[comments["score"] <= DETRACTOR_MAX].head(each)
    high = comments[comments["score"] >= PROMOTER_MIN].head(each)
    found = pd.concat([low.assign(kind="low"), high.assign(kind="high")], ignore_index=True)
    return found[["kind", "submitted_at", "score", "comment"]] if len(found) else empty


def trend_svg(trend: pd.DataFrame, *, width: int = 640, height: int = 220) -> str:
    """A small inline SVG of NPS per week with its interval (no script, exports as is).

    >>> table = pd.DataFrame({"week": pd.to_datetime(["2026-11-09", "2026-11-16"]),
    ...     "n": [40, 50], "nps": [10.0, 20.0], "ci_low": [0.0, 12.0], "ci_high": [20.0, 28.0]})
    >>> svg = trend_svg(table)
    >>> svg.startswith("<svg"), svg.count("<circle"), "11-16" in svg
    (True, 2, True)
    """
    shown = trend[trend["n"] > 0]
    left, right, top, bottom = 48, 16, 16, 36
    low = float(min(shown["ci_low"].min(), 0)) if len(shown) else -10.0
    high = float(max(shown["ci_high"].max(), 0)) if len(shown) else 10.0
    low, high = np.floor(low / 10) * 10 - 5, np.ceil(high / 10) * 10 + 5
    step = (width - left - right) / max(len(trend) - 1, 1)

    def x(index: int) -> float:
        return left + index * step

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="NPS per week" font-family="sans-serif" font-size="11">',
             f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
             'stroke="#bbb" stroke-dasharray="3,3"/>',
             f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
             f'<text x="{left - 6}" y="{y(high) + 10:.1f}" text-anchor="end">{high:+.0f}</text>',
             f'<text x="{left - 6}" y="{y(low):.1f}" text-anchor="end">{low:+.0f}</text>']
    points = []
    for index, row in enumerate(trend.itertuples(index=False)):
        parts.append(f'<text x="{x(index):.1f}" y="{height - 14}" text-anchor="middle">'
                     f'{row.week:%m-%d}</text>')
        if row.n == 0:
            continue
        points.append(f"{x(index):.1f},{y(row.nps):.1f}")
        parts.append(f'<line x1="{x(index):.1f}" x2="{x(index):.1f}" y1="{y(row.ci_low):.1f}" '
                     f'y2="{y(row.ci_high):.1f}" stroke="#9ecae1" stroke-width="6"/>')
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f77b4" '
                     'stroke-width="2"/>')
    for index, row in enumerate(trend.itertuples(index=False)):
        if row.n:
            parts.append(f'<circle cx="{x(index):.1f}" cy="{y(row.nps):.1f}" r="4" '
                         f'fill="#1f77b4"><title>{row.week:%Y-%m-%d}: {row.nps:+.1f} '
                         f'(n = {row.n})</title></circle>')
    parts.append(f'<text x="{width - right}" y="{height - 2}" text-anchor="end" fill="#666">'
                 "week starting; bars: 95 % interval</text></svg>")
    return "".join(parts)


def survey_html(part: SurveyReport) -> str:
    """One survey's section of the report as HTML."""
    escape = html.escape
    out = [f"<h2>{escape(part.title)} <small>({escape(part.survey)})</small></h2>",
           f"<p class='cx-nps'><strong>{escape(part.nps_sentence)}</strong></p>",
           "<h3>NPS over the last weeks</h3>", trend_svg(part.trend),
           "<h3>What to improve first</h3>"]
    if part.priorities:
        out.append("<ol>" + "".join(f"<li>{escape(s)}</li>" for s in part.priorities) + "</ol>")
    out.append(f"<p><small>{escape(part.drivers_note)}</small></p>")
    if part.segment_sentences:
        out.append("<h3>Segments</h3>")
        out.append("<ul>" + "".join(f"<li>{escape(s)}</li>" for s in part.segment_sentences)
                   + "</ul>")
    out.append("<h3>Notable comments</h3>")
    if part.comments.empty:
        out.append("<p>No comments this period.</p>")
    for kind, heading in (("low", "From detractors (0–6)"), ("high", "From promoters (9–10)")):
        rows = part.comments[part.comments["kind"] == kind]
        if len(rows):
            out.append(f"<p>{heading}:</p><ul>" + "".join(
                f"<li><small>{row.submitted_at:%Y-%m-%d} · {row.score}</small> "
                f"{escape(str(row.comment))}</li>" for row in rows.itertuples(index=False))
                + "</ul>")
    return "\n".join(out)
