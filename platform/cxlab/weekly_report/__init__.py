"""The weekly experience report of one tenant (notebooks/reports/weekly.ipynb).

This module assembles it; each part is worked out by a module of its own:
:mod:`~cxlab.weekly_report.nps` (the headline and the trend),
:mod:`~cxlab.weekly_report.advice` (what to improve), :mod:`~cxlab.weekly_report.segments`,
:mod:`~cxlab.weekly_report.areas`, :mod:`~cxlab.weekly_report.comments`, and
:mod:`~cxlab.weekly_report.page` (the HTML).

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

import pandas as pd

from cxlab.anonymity import is_small
from cxlab.config import Config
from cxlab.errors import CxlabError
from cxlab.notebook_data import choose_data
from cxlab.report_text import LANGUAGES, listing, say
from cxlab.store import Store, load_responses, survey_definition
from cxlab.surveys.definition import SurveyDefinition, localize
from cxlab.weekly_report.advice import advice_sentences, improvement_advice
from cxlab.weekly_report.areas import area_scores
from cxlab.weekly_report.comments import comment_themes, notable_comments
from cxlab.weekly_report.nps import TREND_WEEKS, nps_headline, nps_sentence, weekly_trend
from cxlab.weekly_report.page import survey_html
from cxlab.weekly_report.segments import segment_highlights, segment_label


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
    held = Store.of(config).surveys(tenant)
    surveys = ([survey] if survey in held else []) if survey else held
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
    headline = nps_headline(week[outcome], previous[outcome])
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
        groups=area_scores(week, definition, language) if metric == "eNPS" else pd.DataFrame(),
        comments=notable_comments(week, outcome, texts),
        segment_label=segment_label(definition, attribute, language) if attribute else "",
        topics=comment_themes(week, outcome, texts),
    )
