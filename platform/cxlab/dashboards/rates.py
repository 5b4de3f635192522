"""The dashboard's response-rate section: e-mail invitations sent and answered, per
distribution and by attribute (e.g. store), read from the database for one tenant.

The dashboard (:mod:`cxlab.dashboards.widget`) shows it under the segment table; it is left out,
never an error, when the database is unreachable, lacks the tenant or survey, or is a
SQLite file that does not exist (it is not created), and on demo data.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxlab import charts
from cxlab.analysis.response_rate import format_rate
from cxlab.anonymity import suppressed_groups
from cxlab.config import Config
from cxlab.dashboards.fragments import words
from cxlab.errors import CxlabError
from cxlab.surveys.definition import SurveyDefinition


@dataclass(frozen=True)
class ResponseRates:
    """One survey's e-mail response rates, read from the database (not the store).

    ``distributions``: one row per distribution of the survey, newest first, with
    ``distribution``, ``invited``, ``sent``, ``answered``, ``rate`` (None before any
    e-mail was sent), ``ci_low``, ``ci_high``. ``by_attribute``: ``distribution``,
    ``attribute``'s values, ``sent``, ``responded``, ``rate``, ``ci_low``, ``ci_high``
    (see :func:`cxlab.distribution.rates.response_rates`); empty without an attribute.
    """

    distributions: pd.DataFrame
    by_attribute: pd.DataFrame
    attribute: str | None


def database_file_missing(config: Config) -> bool:
    """Whether the configured database is an SQLite file that does not exist: opening it
    would create an empty one (a dashboard run where no database was ever made).

    >>> database_file_missing(Config.from_environ({"CXLAB_VAR_DIR": "/nonexistent/k"}))
    True
    """
    from sqlalchemy.engine import make_url

    url = make_url(config.database_url)
    return url.get_backend_name() == "sqlite" and not (url.database
                                                       and Path(url.database).is_file())


def load_response_rates(
    config: Config, tenant: str, survey: str, attribute: str | None = None,
) -> ResponseRates | None:
    """``tenant``'s ``survey``'s e-mail response rates per distribution and by
    ``attribute`` (e.g. store), every query filtered by that tenant; None when the
    database is missing or unreachable or lacks the tenant or survey (the dashboard
    then shows no response rate rather than failing)."""
    from sqlalchemy.exc import SQLAlchemyError

    from cxlab.db import Database
    from cxlab.distribution.rates import response_rates, summarize_distributions
    from cxlab.surveys.catalog import get_survey
    from cxlab.tenancy import get_tenant

    if database_file_missing(config):
        return None
    database = Database(config.database_url)
    try:
        with database.session() as session:
            tenant_row = get_tenant(session, tenant)
            survey_row = get_survey(session, tenant_row, survey)
            summaries = [summary for summary in summarize_distributions(session, tenant_row)
                         if summary.distribution.survey_id == survey_row.id]
            rows, segments = [], []
            for summary in summaries:
                overall = response_rates(session, tenant_row, distribution=summary.distribution)
                ci = overall.iloc[0] if len(overall) else {"ci_low": None, "ci_high": None}
                rows.append({"distribution": summary.distribution.name,
                             "invited": summary.invited, "sent": summary.sent,
                             "answered": summary.answered, "rate": summary.rate,
                             "ci_low": ci["ci_low"], "ci_high": ci["ci_high"]})
                if attribute:
                    segments.append(response_rates(session, tenant_row, by=attribute,
                                                   distribution=summary.distribution))
    except (SQLAlchemyError, CxlabError):
        return None
    finally:
        database.dispose()
    columns = ["distribution", "invited", "sent", "answered", "rate", "ci_low", "ci_high"]
    by_attribute = (pd.concat(segments, ignore_index=True) if segments
                    else pd.DataFrame(columns=["distribution", *([attribute] if attribute else []),
                                               "sent", "responded", "rate", "ci_low", "ci_high"]))
    return ResponseRates(pd.DataFrame(rows, columns=columns), by_attribute, attribute)


def response_rate_html(
    rates: ResponseRates | None, definition: SurveyDefinition | None, language: str,
) -> str:
    """The dashboard's "Response rate" section: a table per distribution and one by
    attribute, or a line saying the survey has only open links; "" without ``rates``.

    >>> empty = ResponseRates(pd.DataFrame(), pd.DataFrame(), None)
    >>> "no e-mail distributions" in response_rate_html(empty, None, "en")
    True
    >>> response_rate_html(None, None, "en")
    ''
    """
    if rates is None:
        return ""
    heading = f"<h3>{words('response_rate', language)}</h3>"
    if rates.distributions.empty:
        return f"{heading}<p>{html.escape(words('no_distributions', language))}</p>"

    def interval(frame: pd.DataFrame) -> list[str]:
        return ["" if pd.isna(low) or pd.isna(high) else f"{low:.1%} … {high:.1%}"
                for low, high in zip(frame["ci_low"], frame["ci_high"], strict=True)]

    table = rates.distributions
    shown = pd.DataFrame({
        words("col_distribution", language): table["distribution"],
        words("col_invited", language): table["invited"],
        words("col_sent", language): table["sent"],
        words("col_answered", language): table["answered"],
        words("col_rate", language): [format_rate(rate) for rate in table["rate"]],
        words("col_ci", language): interval(table),
    })
    parts = [heading, shown.to_html(index=False, classes="cx-rates", border=0)]
    hidden = 0
    if rates.attribute and not rates.by_attribute.empty:
        by, hidden = _without_small_groups(rates, definition)
        label = charts.item_label(definition, rates.attribute, language)
        described = definition.attribute(rates.attribute) if definition is not None else None
        parts += [f"<h4>{html.escape(words('rate_by', language, attribute=label))}</h4>",
                  pd.DataFrame({
                      words("col_distribution", language): by["distribution"],
                      label: [described.value_label(value, language) if described else value
                              for value in by[rates.attribute].astype(str)],
                      words("col_sent", language): by["sent"],
                      words("col_answered", language): by["responded"],
                      words("col_rate", language): [format_rate(rate) for rate in by["rate"]],
                      words("col_ci", language): interval(by),
                  }).to_html(index=False, classes="cx-rates-by", border=0)]
    parts.append(f"<p><small>{html.escape(words('rate_note', language))}</small></p>")
    if hidden:
        min_group = definition.anonymity.min_group if definition is not None else 1
        note = words("rates_hidden", language, count=hidden, n=min_group)
        parts.append(f"<p><small>{html.escape(note)}</small></p>")
    return "".join(parts)


def _without_small_groups(rates: ResponseRates,
                          definition: SurveyDefinition | None) -> tuple[pd.DataFrame, int]:
    """The by-attribute rows a client may see, and how many were left out: within each
    distribution (whose total answers are shown above), groups with fewer answers than
    the survey's ``min_group``, and as many others as complementary suppression needs
    (:func:`cxlab.anonymity.suppressed_groups`)."""
    if definition is None:
        return rates.by_attribute, 0
    by = rates.by_attribute
    keep = pd.Series(True, index=by.index)
    for _name, rows in by.groupby("distribution", sort=False):
        counts = dict(zip(rows.index, rows["responded"].astype(int), strict=True))
        for index in suppressed_groups(counts, definition.anonymity.min_group):
            keep[index] = False
    return by[keep], int((~keep).sum())
