"""The portal's exports: a tenant's admins download a survey's answers in any format of
:mod:`cxlab.exports` (CSV, Excel, SPSS, Stata, the long CSV...), labelled in the
tenant's language, with the anonymity rules every export follows.

``GET /portal/surveys/<survey>/export?format=sav``. The survey is looked up within the
session's tenant, so another tenant's survey is the portal's 404 page; a viewer gets
the 403 page of :func:`survey_server.portal_access.signed_in`; an admin with a scope
(a store or an area: docs/organisation.md) gets their units' answers only.
"""

from __future__ import annotations

from urllib.parse import quote

import bottle
from cxlab import exports
from cxlab.org.scoped import scope_conditions
from cxlab.stored_responses import iter_responses
from cxlab.surveys.catalog import definition_of, get_survey

from survey_server import i18n
from survey_server.context import ServerContext, tag_request
from survey_server.pages import message_page, url_in_language
from survey_server.portal_access import PortalAccess, Visit, signed_in

EXPORT_ROLE = "admin"
"""Who may take answers out of the portal (viewers see dashboards and reports only)."""
# What the portal offers, in this order, by the names analysts know them by.
PORTAL_FORMATS = [("csv", "CSV"), ("xlsx", "Excel"), ("sav", "SPSS"), ("dta", "Stata"),
                  ("long", None)]


def export_links(survey_slug: str, language: str) -> list[dict[str, str]]:
    """The export links of one survey on the portal's home page.

    >>> export_links("visit", "en")[2]
    {'format': 'sav', 'name': 'SPSS', 'url': '/portal/surveys/visit/export?lang=en&format=sav'}
    """
    base = url_in_language(f"/portal/surveys/{quote(survey_slug)}/export", language)
    return [{"format": kind, "name": name or i18n.text("export_long", language),
             "url": f"{base}&format={kind}"} for kind, name in PORTAL_FORMATS]


class SurveyExports:
    """The /portal/surveys/<survey>/export route, bound to one server."""

    def __init__(self, context: ServerContext, access: PortalAccess) -> None:
        self.context = context
        self.database = context.database
        self.access = access

    def install(self, app: bottle.Bottle) -> None:
        app.get("/portal/surveys/<survey_slug>/export", callback=self.export,
                apply=[self.access.not_found_as_page])

    @signed_in(EXPORT_ROLE)
    def export(self, visit: Visit, survey_slug: str) -> bottle.HTTPResponse:
        kind = bottle.request.query.get("format", "csv")
        with self.database.session() as session:
            survey = get_survey(session, visit.user.tenant, survey_slug)
            language = exports.tenant_language(session, survey)
            # A scoped user's file holds their units' answers only (issue #18).
            scoped = scope_conditions(session, visit.user.tenant.id, visit.user.scope)
        tag_request(survey=survey.slug)
        if kind not in exports.FORMATS:
            problem = i18n.text("export_bad_format", visit.language,
                                format=kind[:20], formats=", ".join(exports.FORMATS))
            return message_page(400, visit.language, "export_refused_title",
                                "export_bad_format", message=problem,
                                link=url_in_language("/portal/", visit.language),
                                link_key="back_to_portal")
        body = exports.export_stream(
            definition_of(survey),
            lambda: iter_responses(self.database, survey, where=scoped and scoped.responses),
            kind, language)
        return bottle.HTTPResponse(body, 200, {
            "Content-Type": exports.FORMATS[kind].content_type,
            "Content-Disposition":
                f'attachment; filename="{exports.file_name(survey.slug, kind)}"',
            "Cache-Control": "private, no-store",
        })
