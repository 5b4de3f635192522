"""The weekly experience report of one tenant (notebooks/reports/weekly.ipynb).

:func:`weekly_report` loads each survey's answers for the report period and the weeks
before it, once, and works out everything the report says, in the tenant's language
(Japanese or English): NPS (eNPS for an employee survey) with its interval and the
change from the previous period, the weekly trend, what to improve first — the
dashboard's "fix first" quadrant of :func:`cxlab.analysis.drivers`, each with its
improvement effect in NPS points (:func:`cxlab.analysis.improvement_effect`) — the best
and worst segment, area scores for an employee survey, and a few notable comments.
Small groups are suppressed as everywhere else (:mod:`cxlab.anonymity`): a survey with
fewer than its ``anonymity.min_group`` answers shows only a note, and so do small
periods of the trend and small segments (with complementary ones).
The notebook only displays :meth:`WeeklyReport.html`, so the scheduler's HTML export
is one self-contained page (charts are inline SVG: no JavaScript, nothing downloaded).

>>> from cxlab.demo import demo_config
>>> report = weekly_report(demo_config(responses=600), "demo", None,
...                        "2026-10-19T07:00:00+09:00", "2026-10-26T07:00:00+09:00",
...                        language="en")
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
from cxlab.analysis.drivers import ANSWERS_PER_ITEM, CHECK_DIRECTION, MIN_ANSWERS
from cxlab.analysis.improvement import LOW_POINTS
from cxlab.analysis.nps import DETRACTOR_MAX, MIN_N, PROMOTER_MIN
from cxlab.analysis.reliability import _alpha as cronbach_alpha
from cxlab.anonymity import is_small, suppressed_groups
from cxlab.charts import item_label
from cxlab.config import Config
from cxlab.errors import CxlabError
from cxlab.notebook_data import choose_data
from cxlab.report_text import LANGUAGES, listing, percent, say
from cxlab.store import Store, load_responses, survey_definition
from cxlab.surveys.definition import SurveyDefinition, localize

TREND_WEEKS = 8  # the report week and the seven before it
COMMENTS_EACH = 3  # low-score and high-score comments shown
MIN_SEGMENT_ANSWERS = MIN_N  # the "too few answers" rule
EFFECT_BOOTSTRAP = 300
TOPICS = 6  # comment topics looked for (NMF)


@dataclass
class SurveyReport:
    """One survey's part of the report, everything computed and phrased."""

    survey: str
    title: str
    metric: str  # "NPS" or "eNPS"
    language: str
    answers: int
    nps: pd.DataFrame  # two rows: "this period", "previous period"
    nps_sentence: str
    trend: pd.DataFrame  # one row per week: week, n, nps, ci_low, ci_high, note
    priorities: list[str]
    drivers_note: str
    advice: pd.DataFrame  # the drivers table with the improvement effect, per item
    segments: pd.DataFrame
    segment_sentences: list[str]
    groups: pd.DataFrame  # employee surveys: one row per area (question group)
    comments: pd.DataFrame  # kind ("low"/"high"), submitted_at, score, comment
    segment_label: str = ""  # the attribute's label ("Store", "店舗")
    topics: pd.DataFrame = field(default_factory=pd.DataFrame)  # comment topics by group
    # Fewer answers than the survey's anonymity.min_group: nothing but a note is shown.
    hidden: bool = False


@dataclass
class WeeklyReport:
    """The report of one tenant for ``start`` ≤ submitted_at < ``end``."""

    tenant: str
    tenant_name: str
    start: pd.Timestamp
    end: pd.Timestamp
    language: str = "en"
    surveys: list[SurveyReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    demo: bool = False

    @property
    def period(self) -> str:
        """The period as the scheduler names it: start and end dates (end exclusive)."""
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    @property
    def heading(self) -> str:
        employee = bool(self.surveys) and all(p.metric == "eNPS" for p in self.surveys)
        return say("heading_ex" if employee else "heading_cx", self.language,
                   name=self.tenant_name, period=self.period)

    def html(self) -> str:
        """The whole report as one HTML fragment (headings, text, tables, SVG charts)."""
        parts = [f"<h1>{html.escape(self.heading)}</h1>"]
        parts += [f"<p><em>{html.escape(note)}</em></p>" for note in self.notes]
        if not self.surveys:
            parts.append(f"<p class='cx-no-answers'>"
                         f"{say('no_answers', self.language, period=html.escape(self.period))}"
                         "</p>")
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
    language: str | None = None,
) -> WeeklyReport:
    """Build the report of ``tenant`` for ``start`` ≤ submitted_at < ``end``.

    ``survey`` None reports every survey of the tenant with answers in the period
    (a note names those without). The scheduler passes ``tenant_name``: a tenant
    without synced answers then gets "no answers this period". Run by hand (no
    ``tenant_name``), the tenant and survey must exist in the store — an unknown one
    raises :class:`~cxlab.errors.CxlabError` listing what exists
    (:func:`cxlab.notebook_data.choose_data`) — and ``demo=True`` allows the seeded
    demo tenant "demo" where the store lacks it; it never stands in for another tenant.

    ``language`` ("ja" or "en") is the tenant's report language; None takes the first
    language of the tenant's first survey definition (its respondents' language).
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise CxlabError(f"report period {start} – {end}: give two ISO times with a zone, "
                         "start before end (e.g. 2026-11-16T07:00:00+09:00)")
    if language is not None and language not in LANGUAGES:
        raise CxlabError(f"report language must be one of {', '.join(LANGUAGES)} "
                         f"(got {language!r})")
    by_hand = tenant_name is None
    if by_hand:  # a name the store lacks is a typo here, not "no answers"
        chosen = choose_data(tenant, survey, demo=demo, config=config)
        config, tenant, demo = chosen.config, chosen.tenant, chosen.demo
    else:
        demo = False
    surveys = tenant_surveys(config, tenant, survey)
    definitions = {slug: survey_definition(config, tenant, slug) for slug in surveys}
    if language is None:
        first = next(iter(definitions.values()), None)
        language = next((lang for lang in (first.languages if first else ())
                         if lang in LANGUAGES), "en")
    report = WeeklyReport(tenant=tenant, tenant_name=tenant_name or tenant.title(),
                          start=start, end=end, language=language, demo=demo)
    if demo:
        report.notes.append(say("demo", language))
    for slug in surveys:
        part = survey_report(config, tenant, slug, start, end, language=language,
                             definition=definitions[slug])
        if part is None:
            title = localize(definitions[slug].title, language)
            report.notes.append(say("survey_without_answers", language, title=title))
        else:
            report.surveys.append(part)
    if len(surveys) > 1 and report.surveys:
        names = listing([f"“{part.title}”" for part in report.surveys], language)
        report.notes.insert(0, say("every_survey", language, names=names))
    return report


def tenant_surveys(config: Config, tenant: str, survey: str | None) -> list[str]:
    """``[survey]`` if the store holds it, else every survey the store holds for ``tenant``."""
    held = [s for t, s in Store.of(config).partitions() if t == tenant]
    if survey:
        return [survey] if survey in held else []
    return sorted(held)


def survey_report(
    config: Config, tenant: str, survey: str, start: pd.Timestamp, end: pd.Timestamp, *,
    language: str = "en", definition: SurveyDefinition | None = None,
) -> SurveyReport | None:
    """One survey's part of the report, or None when it has no answers in the period."""
    definition = definition or survey_definition(config, tenant, survey)
    min_group = definition.anonymity.min_group
    roles = definition.roles()
    outcome, items, attribute = roles.outcome, list(roles.items), roles.segment
    metric = "eNPS" if outcome == "enps" else "NPS"
    texts = [q.id for q in definition.questions_of_type("text")]
    window_start = start - (TREND_WEEKS - 1) * (end - start)
    columns = ["submitted_at", *([attribute] if attribute else []), outcome, *items, *texts]
    history = load_responses(config, tenant, survey, start=window_start, end=end,
                             columns=columns)
    week = history[history["submitted_at"] >= start]
    answers = int(week[outcome].notna().sum())
    if answers == 0:
        return None
    title = localize(definition.title, language)
    if answers < min_group:
        # Scores, trend, segments and comments of so few people could name them.
        return SurveyReport(
            survey=survey, title=title, metric=metric, language=language, answers=answers,
            nps=pd.DataFrame(), nps_sentence=say("hidden_survey", language, min_group=min_group),
            trend=pd.DataFrame(), priorities=[], drivers_note="", advice=pd.DataFrame(),
            segments=pd.DataFrame(), segment_sentences=[], groups=pd.DataFrame(),
            comments=pd.DataFrame(), hidden=True,
        )
    previous = history[(history["submitted_at"] >= start - (end - start))
                       & (history["submitted_at"] < start)]
    if is_small(int(previous[outcome].notna().sum()), min_group):
        previous = previous.iloc[0:0]  # too few to compare with: shown as no answers
    headline = nps_change(week[outcome], previous[outcome])
    priorities, drivers_note, table = [], "", pd.DataFrame()
    if items:
        table, drivers_note = improvement_advice(week, history, outcome, items, definition,
                                                 language=language)
        priorities = advice_sentences(table, definition, metric=metric, language=language)
    segments, segment_sentences = pd.DataFrame(), []
    if attribute:
        segments, segment_sentences = segment_highlights(
            week, outcome, attribute, definition, metric=metric, language=language,
            min_group=min_group)
    return SurveyReport(
        survey=survey, title=title, metric=metric, language=language, answers=answers,
        nps=headline, nps_sentence=nps_sentence(headline, metric=metric, language=language),
        trend=weekly_trend(history, outcome, start, end, min_group=min_group,
                           language=language),
        priorities=priorities,
        drivers_note=drivers_note, advice=table, segments=segments,
        segment_sentences=segment_sentences,
        groups=group_scores(week, definition, language) if metric == "eNPS" else pd.DataFrame(),
        comments=notable_comments(week, outcome, texts),
        segment_label=_segment_label(definition, attribute, language) if attribute else "",
        topics=comment_themes(week, outcome, texts),
    )


def nps_change(this: pd.Series, previous: pd.Series, *, ci: float = 0.95) -> pd.DataFrame:
    """NPS with CI and n of this and the previous period, the change and its p-value.

    The change is tested with z = ΔNPS / √(SE₁² + SE₂²), two independent samples, as
    :func:`cxlab.analysis.trend` does; when a period's SE is 0 (every answer in one
    group) by the exact permutation test :func:`cxlab.analysis.trend` uses then.

    >>> table = nps_change(pd.Series([10] * 60 + [3] * 40), pd.Series([10] * 50 + [3] * 50))
    >>> table[["period", "n"]].to_numpy().tolist(), table["nps"].round(1).tolist()
    ([['this period', 100], ['previous period', 100]], [20.0, 0.0])
    >>> round(float(table["change"].iloc[0]), 1), round(float(table["p_change"].iloc[0]), 3)
    (20.0, 0.153)
    """
    from cxlab.analysis.trend import flat_nps_change_p

    table = pd.concat([analysis.nps(this, ci=ci), analysis.nps(previous, ci=ci)],
                      ignore_index=True)
    table.insert(0, "period", ["this period", "previous period"])
    change = table["nps"].iloc[0] - table["nps"].iloc[1]
    se_now, se_before = table["se"].iloc[0], table["se"].iloc[1]
    if table["n"].min() > 0 and (se_now == 0 or se_before == 0):
        counts = table[["promoters", "passives", "detractors"]].to_numpy(dtype=np.int64)
        p, _ = flat_nps_change_p(counts[1], counts[0])
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            z = change / np.hypot(se_now, se_before)
        p = 2 * special.ndtr(-abs(z)) if np.isfinite(z) else np.nan
    table["change"] = [change, np.nan]
    table["p_change"] = [p, np.nan]
    return table


def nps_sentence(table: pd.DataFrame, *, metric: str = "NPS", language: str = "en") -> str:
    """The headline in words, from :func:`nps_change`.

    >>> table = nps_change(pd.Series([10] * 60 + [3] * 40), pd.Series([10] * 50 + [3] * 50))
    >>> nps_sentence(table)  # doctest: +NORMALIZE_WHITESPACE
    'NPS this period: +20.0 (95 % interval +0.6 to +38.2, 100 answers), up 20.0 points
    on the previous period (+0.0, 100 answers; within the margin of error).'
    >>> sentence = nps_sentence(table, language="ja")
    >>> sentence[:37]
    '今期のNPS：+20.0（95%区間 +0.6〜+38.2、回答100件）'
    >>> sentence[37:]
    '。前期（+0.0、回答100件）から20.0ポイント上昇（誤差の範囲内）。'
    """
    this, before = table.iloc[0], table.iloc[1]
    text = say("nps_this", language, metric=metric, value=this.nps, low=this.ci_low,
               high=this.ci_high, n=int(this.n))
    if before.n == 0:
        return text + say("nps_no_previous", language)
    change = this.change
    direction = (say("up", language, size=abs(change)) if change > 0
                 else say("down", language, size=abs(change)) if change < 0
                 else say("same", language))
    verdict = say("significant" if this.p_change < 0.05 else "within", language)
    return text + say("nps_change", language, direction=direction, before=before.nps,
                      n_before=int(before.n), verdict=verdict)


def weekly_trend(
    responses: pd.DataFrame, outcome: str, start: pd.Timestamp, end: pd.Timestamp,
    *, weeks: int = TREND_WEEKS, min_group: int = 1, language: str = "en",
) -> pd.DataFrame:
    """NPS with CI per report-length period, the last ``weeks`` ending at ``end``.

    Periods are aligned to the report (not to calendar weeks in UTC), so the last row
    is exactly the report period; ``week`` is each period's first day. A period with
    fewer than ``min_group`` answers shows as empty (n 0, no NPS; its note says why,
    in ``language``).

    >>> stamps = pd.to_datetime(["2026-11-10", "2026-11-17", "2026-11-18"], utc=True)
    >>> frame = pd.DataFrame({"submitted_at": stamps, "nps": [10, 3, 9]})
    >>> table = weekly_trend(frame, "nps", pd.Timestamp("2026-11-16", tz="UTC"),
    ...                      pd.Timestamp("2026-11-23", tz="UTC"), weeks=3)
    >>> table["week"].dt.strftime("%m-%d").tolist(), table["n"].tolist()
    (['11-02', '11-09', '11-16'], [0, 1, 2])
    >>> table["nps"].tolist()
    [nan, 100.0, 0.0]
    >>> hidden = weekly_trend(frame, "nps", pd.Timestamp("2026-11-16", tz="UTC"),
    ...                       pd.Timestamp("2026-11-23", tz="UTC"), weeks=3, min_group=2)
    >>> hidden["n"].tolist(), hidden["nps"].tolist()[1:], hidden["note"].iloc[1]
    ([0, 0, 2], [nan, 0.0], 'hidden (too few answers)')
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
    small = table["n"].map(lambda n: is_small(int(n), min_group)).astype(bool)
    table.loc[small, ["nps", "ci_low", "ci_high"]] = np.nan
    table.loc[small, "n"] = 0
    table["note"] = table["note"].astype(object)
    table.loc[small, "note"] = say("hidden_note", language)
    return table[["week", "n", "nps", "ci_low", "ci_high", "note"]]


def improvement_advice(
    week: pd.DataFrame, history: pd.DataFrame, outcome: str, items: list[str],
    definition: SurveyDefinition, *, language: str = "en",
) -> tuple[pd.DataFrame, str]:
    """The drivers table (quadrant, priority — what the dashboard shows) joined with the
    improvement effect of each item, and a note on the data used.

    Both run on the period's answers, or on the last weeks' when the period has too
    few for stable estimates (the note says which; no second answer count is given).
    """
    wanted = max(MIN_ANSWERS, ANSWERS_PER_ITEM * len(items))
    complete = int(week[[outcome, *items]].notna().all(axis=1).sum())
    data, note = week, say("from_period", language)
    if complete < wanted:
        data, note = history, say("from_history", language, weeks=TREND_WEEKS)
    try:
        result = analysis.drivers(data, outcome, items, definition=definition, n_boot=0)
    except CxlabError as error:  # e.g. answers off an item's scale: say so, keep the rest
        return pd.DataFrame(), say("drivers_error", language, metric=_metric(outcome),
                                   reason=str(error))
    table = result.table
    if not np.isfinite(table["importance"]).any():
        return table.iloc[0:0], say("too_few_drivers", language, metric=_metric(outcome))
    effect = analysis.improvement_effect(data, outcome, items, definition=definition,
                                         n_boot=EFFECT_BOOTSTRAP)
    columns = ["item", "n_low", "low_share", "penalty", "reward", "effect", "effect_ci_low",
               "effect_ci_high", "what_if_nps", "effect_rank"]
    merged = table.merge(effect.table[columns], on="item", how="left",
                         suffixes=("", "_effect"))
    merged = merged.rename(columns={"note_effect": "effect_note"})
    return merged, note


def _metric(outcome: str) -> str:
    return "eNPS" if outcome == "enps" else "NPS"


def advice_sentences(
    table: pd.DataFrame, definition: SurveyDefinition | None, *, metric: str = "NPS",
    language: str = "en",
) -> list[str]:
    """What to improve, in words that agree with the dashboard: the "fix first" items in
    the dashboard's order (priority rank), each with its improvement effect in NPS
    points; items to keep; the largest improvement effect when it is not among them;
    items against the outcome. A "keep" item is never called a priority.

    >>> table = pd.DataFrame({"item": ["speed", "taste", "price"],
    ...     "quadrant": ["fix first", "keep", "lower priority"], "priority_rank": [1, 2, 3],
    ...     "importance_share": [0.5, 0.3, 0.2], "mean": [2.1, 4.4, 3.0],
    ...     "effect": [6.2, 0.5, 1.0], "effect_ci_low": [3.1, 0.0, 0.2],
    ...     "effect_ci_high": [9.0, 1.2, 2.0], "n_low": [40, 3, 20]})
    >>> for sentence in advice_sentences(table, None):  # doctest: +NORMALIZE_WHITESPACE
    ...     print(sentence)
    Speed matters to NPS (50 % of what the items explain) and scores below the other items
    (2.1 of 5): fix it first. Moving its low ratings (1–2) up to the middle would add about
    6.2 NPS points (95 % interval 3.1 to 9.0).
    Keep up: Taste — they matter to NPS and score well.
    """
    if table.empty:
        return []
    bottom, top = _scale(definition, table["item"].iloc[0]) if definition else (1, 5)
    low = f"{bottom}–{bottom + LOW_POINTS - 1}"
    label = {item: _capital(item_label(definition, item, language)) for item in table["item"]}
    sentences = []
    fix = table[table["quadrant"] == "fix first"].sort_values("priority_rank")
    for row in fix.itertuples(index=False):
        sentence = say("fix_first", language, label=label[row.item], metric=metric,
                       share=percent(row.importance_share, language), mean=row.mean, top=top)
        if np.isfinite(row.effect) and row.effect > 0:
            sentence += say("effect", language, low=low, effect=row.effect, metric=metric,
                            effect_low=row.effect_ci_low, effect_high=row.effect_ci_high)
        else:
            sentence += say("effect_unknown", language, metric=metric)
        sentences.append(sentence)
    if fix.empty:
        sentences.append(say("no_fix", language, metric=metric))
    keep = table[table["quadrant"] == "keep"].sort_values("priority_rank")
    if len(keep):
        sentences.append(say("keep", language, metric=metric,
                             labels=listing([label[i] for i in keep["item"]], language)))
    ranked = table[np.isfinite(table["effect"]) & (table["effect"] > 0)]
    if len(ranked):
        best = ranked.sort_values("effect", ascending=False).iloc[0]
        if best["item"] not in set(fix["item"]):
            sentences.append(say("largest_effect", language, label=label[best["item"]],
                                 effect=best["effect"], metric=metric, low=low))
    for item in table.loc[table["quadrant"] == CHECK_DIRECTION, "item"]:
        sentences.append(say("check_direction", language, label=label[item], metric=metric))
    return sentences


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def segment_highlights(
    responses: pd.DataFrame, outcome: str, attribute: str,
    definition: SurveyDefinition | None = None, *, min_n: int = MIN_SEGMENT_ANSWERS,
    metric: str = "NPS", language: str = "en", min_group: int = 1,
) -> tuple[pd.DataFrame, list[str]]:
    """NPS per segment, and sentences naming the best and worst segment among those with
    at least ``min_n`` answers (the rest are "too few answers" and not ranked).

    Segments are named by their label in ``language`` (the attribute's
    ``value_labels``: a store's name, not its code), kept in the column ``label``
    beside the code. Segments below ``min_group`` answers, and as many more as
    complementary suppression needs (:mod:`cxlab.anonymity`: the report shows the
    total), are hidden: their n and NPS are blanked and only their names are listed.

    >>> frame = pd.DataFrame({"store": ["a"] * 40 + ["b"] * 40 + ["c"] * 5,
    ...                       "nps": [10] * 30 + [3] * 10 + [9] * 20 + [5] * 20 + [10] * 5})
    >>> table, sentences = segment_highlights(frame, "nps", "store")
    >>> table[["store", "n", "nps", "ranked"]].to_numpy().tolist()
    [['a', 40, 50.0, True], ['b', 40, 0.0, True], ['c', 5, 100.0, False]]
    >>> for sentence in sentences:
    ...     print(sentence)
    Best store by NPS: a (+50.0, 95 % interval +20.6 to +72.4, 40 answers).
    Lowest: b (+0.0, 95 % interval -29.4 to +29.4, 40 answers).
    Not ranked (fewer than 30 answers): c (5).

    With ``min_group=6``, c is hidden, and a with it (else total − b would be c's 5):

    >>> table, sentences = segment_highlights(frame, "nps", "store", min_group=6)
    >>> table[["store", "n", "nps", "hidden"]].to_numpy().tolist()
    [['b', 40, 0.0, False], ['a', <NA>, nan, True], ['c', <NA>, nan, True]]
    >>> print(sentences[-1])  # doctest: +NORMALIZE_WHITESPACE
    Hidden to protect anonymity (fewer than 6 answers, or needed to keep those from being
    worked out): a and c.
    """
    label = _segment_label(definition, attribute, language)
    table = analysis.nps_by(responses, outcome, by=attribute, min_n=min_n)
    table = table[table["n"] > 0].copy()
    table[attribute] = table[attribute].astype(str)
    table.insert(table.columns.get_loc(attribute) + 1, "label",
                 [_value_label(definition, attribute, code, language)
                  for code in table[attribute]])
    hidden = suppressed_groups(dict(zip(table[attribute], table["n"], strict=True)), min_group)
    table["hidden"] = table[attribute].isin(hidden)
    table["ranked"] = (table["n"] >= min_n) & ~table["hidden"]
    # Hidden segments last, by name: their order must not rank them either.
    table["order"] = table["nps"].mask(table["hidden"])
    table = table.sort_values(["hidden", "ranked", "order", "label"],
                              ascending=[True, False, False, True]).reset_index(drop=True)
    table = table.drop(columns="order")
    for column in table.columns.difference([attribute, "label", "hidden", "ranked", "note"]):
        values = table[column]
        if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            values = values.astype("Int64" if column != "enough_answers" else "boolean")
        table[column] = values.mask(table["hidden"])  # counts, shares, NPS: all blanked
    table["note"] = table["note"].astype(object)
    table.loc[table["hidden"], "note"] = say("hidden_note", language)
    ranked = table[table["ranked"]]
    sentences = []
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        sentences.append(say("best", language, label=label, metric=metric,
                             phrase=_segment_phrase(best, attribute, language)))
        sentences.append(say("lowest", language, label=label,
                             phrase=_segment_phrase(worst, attribute, language)))
    else:
        sentences.append(say("too_few_segments", language, label=label, min_n=min_n))
    small = table[~table["ranked"] & ~table["hidden"]]
    if len(small) and len(ranked) >= 2:
        listed = listing([say("label_n", language, label=row.label, n=row.n)
                          for row in small.itertuples()], language)
        sentences.append(say("not_ranked", language, min_n=min_n, listed=listed))
    if table["hidden"].any():
        names = listing(table.loc[table["hidden"], "label"].tolist(), language)
        sentences.append(say("hidden_segments", language, min_group=min_group, names=names))
    return table, sentences


def _segment_label(definition: SurveyDefinition | None, attribute: str, language: str) -> str:
    label = item_label(definition, attribute, language)
    return label.lower() if language == "en" else label  # "by store", not "by Store"


def _value_label(definition: SurveyDefinition | None, attribute: str, code: str,
                 language: str) -> str:
    """A segment's name: the attribute's ``value_labels`` entry, or the code itself."""
    described = next((a for a in definition.attributes if a.name == attribute),
                     None) if definition else None
    return described.value_label(code, language) if described else code


def _segment_phrase(row: pd.Series, attribute: str, language: str) -> str:
    return say("segment", language, name=row["label"], value=row.nps, low=row.ci_low,
               high=row.ci_high, n=int(row.n))


def group_scores(
    responses: pd.DataFrame, definition: SurveyDefinition, language: str = "en"
) -> pd.DataFrame:
    """Employee surveys: the score of each area (question group) — mean of its items on
    their scale, share choosing the top two answers, Cronbach's alpha — best first.

    >>> from cxlab.seed import generate_responses
    >>> from cxlab.surveys import EXAMPLES_DIR, load_definition
    >>> definition = load_definition(EXAMPLES_DIR / "employee_engagement.yaml")
    >>> table = group_scores(generate_responses(definition, 300, seed=1), definition, "ja")
    >>> sorted(table["group"]) == sorted(["engagement", "manager", "growth", "wellbeing"])
    True
    >>> table.loc[table["group"] == "manager", "label"].item()
    '上司'
    """
    rows = []
    for group, items in definition.item_groups().items():
        ratings = analysis.ratings(responses, items, scale=_scale(definition, items[0]))
        first = definition.question(definition.item(items[0]).question)
        title = (definition.page_titles[first.page]
                 if first.page < len(definition.page_titles) else None)
        # Cronbach's alpha of complete answers, as analysis.reliability computes it, but
        # without importing pingouin into the report kernel (2–3 s; tests compare the two).
        complete = responses[items].dropna().to_numpy(dtype=float)
        alpha = (cronbach_alpha(np.cov(complete, rowvar=False))
                 if len(items) > 1 and len(complete) > 1 else float("nan"))
        rows.append({"group": group, "label": localize(title, language) if title else group,
                     "items": len(items), "mean": float(ratings["mean"].mean()),
                     "top2_share": float(ratings["top2_share"].mean()),
                     "scale_max": first.scale_max, "alpha": alpha})
    table = pd.DataFrame(rows, columns=["group", "label", "items", "mean", "top2_share",
                                        "scale_max", "alpha"])
    return table.sort_values("mean", ascending=False).reset_index(drop=True)


def _scale(definition: SurveyDefinition, item: str) -> tuple[int, int]:
    return definition.item(item).scale


def comment_themes(
    responses: pd.DataFrame, outcome: str, columns: list[str], *, topics: int = TOPICS,
) -> pd.DataFrame:
    """Topics of the period's comments (all text questions together; NMF over key
    phrases, :func:`cxlab.analysis.comment_topics`) with each topic's share of
    detractors' and of promoters' comments; topics no detractor or promoter mentions
    are left out. Empty without enough comments to find topics.
    """
    if not columns:
        return pd.DataFrame()
    frame = pd.concat([pd.DataFrame({"score": responses[outcome], "comment": responses[c]})
                       for c in columns], ignore_index=True)
    frame = frame[frame["score"].notna()]
    result = analysis.comment_topics(frame, "comment", "score", n_topics=topics)
    table = result.topics
    if table.empty:
        return table
    return table[(table["detractors"] + table["promoters"]) > 0].reset_index(drop=True)


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
def trend_svg(
    trend: pd.DataFrame, *, width: int = 640, height: int = 220, language: str = "en",
    metric: str = "NPS",
) -> str:
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
             f'role="img" aria-label="{html.escape(say("trend", language, metric=metric))}" '
             'font-family="sans-serif" font-size="11">',
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
                 f"{html.escape(say('trend_caption', language))}</text></svg>")
    return "".join(parts)


def survey_html(part: SurveyReport) -> str:
    """One survey's section of the report as HTML, in the report's language."""
    escape, language, metric = html.escape, part.language, part.metric
    out = [f"<h2>{escape(part.title)}</h2>",
           f"<p class='cx-nps'><strong>{escape(part.nps_sentence)}</strong></p>"]
    if part.hidden:  # too few answers: the note is all there is
        return "\n".join(out)
    out += [f"<h3>{escape(say('trend', language, metric=metric))}</h3>",
            trend_svg(part.trend, language=language, metric=metric)]
    if part.priorities or part.drivers_note:
        out.append(f"<h3>{escape(say('improve', language))}</h3>")
        if part.priorities:
            out.append("<ol>" + "".join(f"<li>{escape(s)}</li>" for s in part.priorities)
                       + "</ol>")
        out.append(f"<p><small>{escape(part.drivers_note)}</small></p>")
    if not part.groups.empty:
        out.append(f"<h3>{escape(say('groups', language))}</h3><ul>" + "".join(
            "<li>" + escape(say("group_row", language, group=row.label, mean=row.mean,
                                top=row.scale_max, top2=percent(row.top2_share, language)))
            + "</li>" for row in part.groups.itertuples(index=False)) + "</ul>")
    if part.segment_sentences:
        out.append(f"<h3>{escape(say('segments', language, label=part.segment_label))}</h3>")
        out.append("<ul>" + "".join(f"<li>{escape(s)}</li>" for s in part.segment_sentences)
                   + "</ul>")
    if not part.topics.empty:
        out.append(f"<h3>{escape(say('topics', language))}</h3><ul>" + "".join(
            "<li>" + escape(say("topic_row", language, topic=row.topic,
                                det=percent(row.detractor_share, language),
                                pro=percent(row.promoter_share, language))) + "</li>"
            for row in part.topics.itertuples(index=False)) + "</ul>")
    out.append(f"<h3>{escape(say('comments', language))}</h3>")
    if part.comments.empty:
        out.append(f"<p>{escape(say('no_comments', language))}</p>")
    for kind, heading in (("low", "from_detractors"), ("high", "from_promoters")):
        rows = part.comments[part.comments["kind"] == kind]
        if len(rows):
            out.append(f"<p>{escape(say(heading, language))}:</p><ul>" + "".join(
                f"<li><small>{row.submitted_at:%Y-%m-%d} · {row.score}</small> "
                f"{escape(str(row.comment))}</li>" for row in rows.itertuples(index=False))
                + "</ul>")
    return "\n".join(out)
