"""The portal's open/close button: a tenant's admins close a survey (its pages then say
so politely in the respondent's language, its API answers 409) or open it again.

``POST /portal/surveys/<survey>/status`` with ``action=close`` or ``open`` and the
page's CSRF token. The survey is looked up within the session's tenant: another
tenant's survey is the portal's 404 page, whatever its name.
"""

from __future__ import annotations

from urllib.parse import quote

import bottle
from cxlab.surveys.catalog import set_status

from survey_server.context import ServerContext, tag_request
from survey_server.pages import message_page, redirect, url_in_language
from survey_server.portal_access import PortalAccess, Visit, signed_in

LIFECYCLE_ROLE = "admin"
ACTIONS = {"close": "closed", "open": "open"}


def status_form(survey_slug: str, status: str, language: str) -> dict[str, str]:
    """Where a survey's button posts, and what it does.

    >>> status_form("visit", "open", "en")
    {'url': '/portal/surveys/visit/status?lang=en', 'action': 'close', 'label': 'close_survey'}
    """
    action = "close" if status == "open" else "open"
    return {"url": url_in_language(f"/portal/surveys/{quote(survey_slug)}/status", language),
            "action": action, "label": f"{action}_survey"}


class SurveyLifecycle:
    """The /portal/surveys/<survey>/status route, bound to one server."""

    def __init__(self, context: ServerContext, access: PortalAccess) -> None:
        self.context = context
        self.database = context.database
        self.access = access

    def install(self, app: bottle.Bottle) -> None:
        app.post("/portal/surveys/<survey_slug>/status", callback=self.change,
                 apply=[self.access.not_found_as_page])

    @signed_in(LIFECYCLE_ROLE)
    def change(self, visit: Visit, survey_slug: str) -> bottle.HTTPResponse:
        status = ACTIONS.get(visit.field("action"))
        if status is None:
            return message_page(422, visit.language, "status_refused_title",
                                "status_bad_action",
                                link=url_in_language("/portal/", visit.language),
                                link_key="back_to_portal")
        with self.context.write_gate.writing(), self.database.session() as session:
            survey = set_status(session, visit.user.tenant, survey_slug, status)
            tag_request(survey=survey.slug)
        # Survey rows are cached per worker for CXLAB_LOOKUP_TTL: forget this one now.
        self.context.lookups.forget_surveys()
        return redirect("/portal/", visit.language)
