"""Surveys in the database: publish a definition (a new version when it changes), find
and list a tenant's surveys.

>>> from cxlab.db import Database
>>> from cxlab.tenancy import create_tenant
>>> database = Database("sqlite://")
>>> database.migrate()
>>> definition = parse_definition({"slug": "pulse", "title": "Pulse",
...     "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]})
>>> with database.session() as session:
...     tenant = create_tenant(session, "acme", "Acme")
...     publish_survey(session, tenant, definition).version
1
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxlab.db.models import Response, Survey, SurveyVersion, Tenant
from cxlab.errors import CxlabError, NotFound
from cxlab.surveys.definition import SurveyDefinition, localize
from cxlab.surveys.parsing import parse_definition

STATUSES = ("open", "closed")


def publish_survey(
    session: Session, tenant: Tenant, definition: SurveyDefinition, *, status: str = "open"
) -> Survey:
    """Create the survey, or give it a new version if its definition changed.

    Loading the same definition again changes nothing (idempotent).
    """
    if status not in STATUSES:
        raise CxlabError(f"status {status!r}: must be open or closed")
    raw = definition.raw
    survey = session.scalar(
        select(Survey).where(Survey.tenant_id == tenant.id, Survey.slug == definition.slug)
    )
    title = localize(definition.title, definition.languages[0])[:300]
    if survey is None:
        survey = Survey(
            tenant_id=tenant.id, slug=definition.slug, title=title, version=1,
            definition=raw, status=status,
            opens_at=definition.opens_at, closes_at=definition.closes_at,
        )
        session.add(survey)
        session.flush()
    elif _canonical(survey.definition) != _canonical(raw):
        survey.version += 1
        survey.definition = raw
        survey.title = title
        # The definition's window replaces the last one (none given: always open).
        survey.opens_at, survey.closes_at = definition.opens_at, definition.closes_at
    else:
        return survey
    session.add(
        SurveyVersion(
            tenant_id=tenant.id, survey_id=survey.id, version=survey.version, definition=raw
        )
    )
    session.flush()
    return survey


def set_status(session: Session, tenant: Tenant, slug: str, status: str) -> Survey:
    """Open or close the tenant's survey ``slug`` (another tenant's is not found). A
    closed survey takes no answers whatever its ``opens_at``/``closes_at``; an open one
    takes them within that window (:func:`cxlab.responses.survey_availability`).

    >>> from cxlab.db import Database
    >>> from cxlab.tenancy import create_tenant
    >>> database = Database("sqlite://")
    >>> database.migrate()
    >>> with database.session() as session:
    ...     tenant = create_tenant(session, "acme", "Acme")
    ...     _ = publish_survey(session, tenant, parse_definition({"slug": "pulse",
    ...         "title": "Pulse", "questions": [{"id": "enps", "type": "nps", "label": "eNPS"}]}))
    ...     set_status(session, tenant, "pulse", "closed").status
    'closed'
    """
    if status not in STATUSES:
        raise CxlabError(f"status {status!r}: must be open or closed")
    survey = get_survey(session, tenant, slug)
    survey.status = status
    session.flush()
    return survey


def open_link(public_url: str, tenant_slug: str, survey: Survey) -> str:
    """The survey's open link (anyone with it may answer), under ``CXLAB_PUBLIC_URL``.

    >>> open_link("https://cx.example", "acme", Survey(slug="store-visit"))
    'https://cx.example/s/acme/store-visit'
    """
    return f"{public_url.rstrip('/')}/s/{tenant_slug}/{survey.slug}"


def _canonical(raw: dict) -> str:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)


def get_survey(session: Session, tenant: Tenant, slug: str) -> Survey:
    """The tenant's survey ``slug``; another tenant's survey is simply not found."""
    survey = session.scalar(
        select(Survey).where(Survey.tenant_id == tenant.id, Survey.slug == slug)
    )
    if survey is None:
        raise NotFound(
            f"tenant {tenant.slug!r} has no survey {slug!r}; see: cxlab survey list "
            f"--tenant {tenant.slug}"
        )
    return survey


def get_survey_by_id(session: Session, tenant_id: int, survey_id: int) -> Survey:
    """The tenant's survey with this id; another tenant's survey is simply not found."""
    survey = session.scalar(
        select(Survey).where(Survey.tenant_id == tenant_id, Survey.id == survey_id)
    )
    if survey is None:
        raise NotFound(f"no survey {survey_id}")
    return survey


def list_surveys(session: Session, tenant: Tenant | None = None, *,
                 responses_where: Any = None) -> list[tuple[Survey, str, int]]:
    """Surveys with their tenant slug and number of complete responses (those matching
    ``responses_where`` when given: a scoped user's, :mod:`cxlab.org.scoped`)."""
    counted = select(Response.survey_id, func.count().label("n")).where(
        Response.status == "complete")
    if responses_where is not None:
        counted = counted.where(responses_where)
    counts = counted.group_by(Response.survey_id).subquery()
    query = (
        select(Survey, Tenant.slug, func.coalesce(counts.c.n, 0))
        .join(Tenant, Tenant.id == Survey.tenant_id)
        .outerjoin(counts, counts.c.survey_id == Survey.id)
        .order_by(Tenant.slug, Survey.slug)
    )
    if tenant is not None:
        query = query.where(Survey.tenant_id == tenant.id)
    return [tuple(row) for row in session.execute(query)]


def definition_of(survey: Survey) -> SurveyDefinition:
    """The parsed definition of a survey row (cached per version)."""
    return _parse_cached(survey.id, survey.version, _canonical(survey.definition))


@lru_cache(maxsize=256)
def _parse_cached(survey_id: int, version: int, canonical: str) -> SurveyDefinition:
    return parse_definition(json.loads(canonical))
