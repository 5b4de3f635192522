"""Response rates of distributions: invitations sent and answered, overall and by
attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxlab.analysis.response_rate import response_rate
from cxlab.config import Config
from cxlab.db import Database
from cxlab.db.models import (
    Distribution,
    Invitation,
    Tenant,
)
from cxlab.distribution import list_distributions
from cxlab.surveys.catalog import definition_of, get_survey_by_id
from cxlab.tenancy import get_tenant


@dataclass(frozen=True)
class DistributionSummary:
    """One distribution's counts: invitations made, e-mails sent, answers among them."""

    distribution: Distribution
    invited: int
    sent: int
    answered: int

    @property
    def rate(self) -> float | None:
        """answered / sent, or None when nothing was sent yet."""
        return self.answered / self.sent if self.sent else None


def summarize_distributions(session: Session, tenant: Tenant, *,
                            invitations_where: Any = None) -> list[DistributionSummary]:
    """Each of the tenant's distributions (newest first) with invited, sent and
    answered; like :func:`response_rates`, only e-mails actually sent count as sent.
    ``invitations_where`` counts only the invitations it matches (a scoped user's,
    :mod:`cxlab.org.scoped`)."""
    counts = {
        distribution_id: (invited, sent or 0, answered or 0)
        for distribution_id, invited, sent, answered in session.execute(
            select(Invitation.distribution_id, func.count(Invitation.id),
                   func.count(Invitation.sent_at),
                   func.count(Invitation.id).filter(Invitation.sent_at.is_not(None),
                                                    Invitation.responded_at.is_not(None)))
            .where(Invitation.tenant_id == tenant.id,
                   Invitation.distribution_id.is_not(None),
                   *([invitations_where] if invitations_where is not None else []))
            .group_by(Invitation.distribution_id)
        )
    }
    return [DistributionSummary(distribution, *counts.get(distribution.id, (0, 0, 0)))
            for distribution in list_distributions(session, tenant)]


def response_rates(
    session: Session, tenant: Tenant, *, by: str | None = None,
    distribution: Distribution | None = None, invitations_where: Any = None,
) -> pd.DataFrame:
    """Sent, answered and rate per distribution (and per attribute ``by``, e.g. store)
    with :func:`cxlab.analysis.response_rate`; only e-mails actually sent count.

    Columns: ``distribution``, [``by``], ``sent``, ``responded``, ``rate``,
    ``ci_low``, ``ci_high``. An invitation without the attribute shows as ``(none)``.
    ``invitations_where`` counts only the invitations it matches (a scoped user's).
    """
    query = (select(Invitation.id, Distribution.name, Invitation.attributes,
                    Invitation.responded_at)
             .join(Distribution, (Distribution.id == Invitation.distribution_id)
                   & (Distribution.tenant_id == Invitation.tenant_id))
             .where(Invitation.tenant_id == tenant.id, Invitation.sent_at.is_not(None)))
    if distribution is not None:
        query = query.where(Invitation.distribution_id == distribution.id)
    if invitations_where is not None:
        query = query.where(invitations_where)
    rows = session.execute(query).all()
    invitations = pd.DataFrame({
        "invitation_id": [row[0] for row in rows],
        "distribution": [row[1] for row in rows],
        **({by: [(row[2] or {}).get(by) or "(none)" for row in rows]} if by else {}),
    })
    responses = pd.DataFrame({"invitation_id": [row[0] for row in rows if row[3] is not None]})
    return response_rate(invitations, responses, by=["distribution", *([by] if by else [])])


@dataclass(frozen=True)
class DistributionRates:
    """One distribution's counts, its survey's slug, and its response rate by each of
    the survey's attributes (one table per attribute that has invitations)."""

    summary: DistributionSummary
    survey: str
    by_attribute: list[pd.DataFrame]


def distribution_rates(config: Config, tenant: str) -> list[DistributionRates]:
    """Each of ``tenant``'s distributions (newest first) with its rates by attribute;
    what ``cxlab distribution list`` prints."""
    with Database.open(config, must_be_migrated=False) as database, \
            database.session() as session:
        owner = get_tenant(session, tenant)
        rates = []
        for summary in summarize_distributions(session, owner):
            survey = get_survey_by_id(session, owner.id, summary.distribution.survey_id)
            tables = [response_rates(session, owner, by=attribute.name,
                                     distribution=summary.distribution)
                      for attribute in definition_of(survey).attributes]
            rates.append(DistributionRates(summary, survey.slug,
                                           [table for table in tables if not table.empty]))
    return rates
