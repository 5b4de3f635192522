"""Who may see a portal page, checked in one place.

A portal route declares what it needs with :func:`signed_in` and receives a
:class:`Visit` (the user, the session, the page's language, the posted form); the
decorator answers everyone else, in this order:

1. no genuine, live session → 303 to the sign-in page;
2. a role below the route's → 403 saying who may;
3. a POST whose form is unreadable → 415 / 400, whose CSRF token is missing or wrong
   → 403 saying the form expired.

:meth:`PortalAccess.not_found_as_page` is the one place where a :class:`NotFound`
raised by a portal route becomes the portal's 404 page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import bottle
from cxlab import portal_auth
from cxlab.config import Config
from cxlab.db import Database
from cxlab.errors import NotFound
from cxlab.portal_auth import PortalUser
from cxlab.tenancy import ROLES

from survey_server import i18n
from survey_server.context import tag_request
from survey_server.pages import (
    language_links,
    message_page,
    read_form,
    redirect,
    render,
    request_language,
    url_in_language,
)
from survey_server.portal_tokens import PortalSessions, SessionClaims

SESSION_COOKIE = "cxlab_portal"
LOGIN_COOKIE = "cxlab_portal_login"
COOKIE_PATH = "/portal"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}  # and the server's own Content-Security-Policy (survey_server.security_headers)


@dataclass(frozen=True)
class Visit:
    """One signed-in request: who, under which session, in which language, and the
    form it posted (empty for a GET).

    >>> Visit(None, None, "en", {"action": ["subscribe", "unsubscribe"]}).field("action")
    'unsubscribe'
    """

    user: PortalUser
    claims: SessionClaims
    language: str
    form: dict[str, list[str]] = field(default_factory=dict)

    def field(self, name: str) -> str:
        """The last value posted for ``name``, or ''."""
        return form_field(self.form, name)


def form_field(form: dict[str, list[str]], name: str) -> str:
    """The last value of ``name`` in a form read by :func:`read_form`, or ''.

    >>> form_field({"csrf_token": ["a", "b"]}, "csrf_token"), form_field({}, "email")
    ('b', '')
    """
    values = form.get(name) or [""]
    return values[-1]


def role_allows(role: str, needed: str) -> bool:
    """Whether a user with ``role`` may use a route for ``needed`` (roles rank as
    listed in ``cxlab.tenancy.ROLES``, lowest first).

    >>> role_allows("admin", "viewer"), role_allows("viewer", "admin")
    (True, False)
    """
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


class PortalAccess:
    """The portal's session cookies, pages and refusals, for one server."""

    def __init__(self, config: Config, database: Database) -> None:
        self.config = config
        self.database = database
        self.sessions = PortalSessions(
            config.secret_key,
            idle=timedelta(minutes=config.session_idle_minutes),
            absolute=timedelta(hours=config.session_max_hours),
        )

    def visitor(self) -> tuple[PortalUser, SessionClaims] | None:
        """The signed-in user, if the session cookie is genuine, within its idle and
        absolute lifetimes, not ended since (sign-out, password reset, disabling) and
        the user still exists."""
        claims = self.sessions.read(bottle.request.get_cookie(SESSION_COOKIE))
        if claims is None:
            return None
        with self.database.session() as session:
            user = portal_auth.portal_user(
                session, claims.user_id, claims.tenant_id, claims.generation)
        if user is None:
            return None
        tag_request(tenant=user.tenant.slug)
        return user, claims

    def admit(self, role: str, csrf_back: str, multipart: bool) -> Visit | bottle.HTTPResponse:
        """The :class:`Visit` of this request, or the response refusing it (see the
        module's docstring for the order of the checks)."""
        language = request_language()
        signed_in = self.visitor()
        if signed_in is None:
            return redirect("/portal/login", language)
        user, claims = signed_in
        if not role_allows(user.role, role):
            return self.refusal(403, language, "forbidden_title", "admins_only", "/portal/")
        if bottle.request.method != "POST":
            return Visit(user, claims, language)
        form = read_upload_form() if multipart else read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        if not self.sessions.csrf_matches(claims.session_id, form_field(form, "csrf_token")):
            return self.csrf_refused(language, csrf_back)
        return Visit(user, claims, language, form)

    def page(
        self, template: str, language: str, claims: SessionClaims | None,
        status: int = 200, **values: Any,
    ) -> bottle.HTTPResponse:
        """A portal page in ``language``; for a signed-in visitor, with the CSRF token
        of its forms and the session cookie re-signed."""
        response = render(
            template, status, PAGE_HEADERS, lang=language,
            t=lambda key, **more: i18n.text(key, language, **more),
            language_links=language_links(language),
            csrf_token=self.sessions.csrf_token(claims.session_id) if claims else "",
            logout_url=url_in_language("/portal/logout", language), **values,
        )
        if claims is not None:
            # Re-signed on every page: the session expires after its idle time unused,
            # and at its absolute lifetime in any case (the start time is kept).
            self.set_session(response, self.sessions.renew(claims))
        return response

    def set_session(self, response: bottle.HTTPResponse, value: str) -> None:
        response.set_cookie(SESSION_COOKIE, value, **self.cookie_options(self.sessions.idle))

    def cookie_options(self, max_age: timedelta) -> dict[str, Any]:
        # Production is served over TLS (docs/security.md): cookies are Secure there
        # whatever a proxy says; elsewhere, when the request came over https.
        secure = self.config.env == "production" or bottle.request.urlparts.scheme == "https"
        return {
            "path": COOKIE_PATH, "httponly": True, "samesite": "lax", "secure": secure,
            "max_age": int(max_age.total_seconds()),
        }

    def csrf_refused(self, language: str, back: str) -> bottle.HTTPResponse:
        return self.refusal(403, language, "csrf_title", "csrf", back)

    def refusal(self, status: int, language: str, title_key: str, message_key: str,
                back: str) -> bottle.HTTPResponse:
        """A message page refusing the request, linking back into the portal."""
        response = message_page(status, language, title_key, message_key,
                                link=url_in_language(back, language),
                                link_key="back_to_portal")
        response.set_header("Cache-Control", "no-store")
        return response

    def not_found(self, language: str) -> bottle.HTTPResponse:
        return message_page(
            404, language, "not_found_title", "portal_not_found",
            link=url_in_language("/portal/", language), link_key="back_to_portal",
        )

    def not_found_as_page(self, callback: Callable) -> Callable:
        """A Bottle plugin for portal routes: a :class:`NotFound` they raise (another
        tenant's survey, report or upload included) is the portal's 404 page."""

        @functools.wraps(callback)
        def answered(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except NotFound:
                return self.not_found(request_language())

        return answered


def signed_in(role: str = "viewer", *, csrf_back: str = "/portal/",
              multipart: bool = False) -> Callable:
    """Put :meth:`PortalAccess.admit` in front of a portal route (a method of an
    object whose ``access`` is a :class:`PortalAccess`); the route gets the
    :class:`Visit` after ``self``.

    ``csrf_back`` is where the page refusing a bad CSRF token links back to (the page
    holding the form); ``multipart`` reads a POST as multipart/form-data (a file
    upload: anything else is a 415) instead of a urlencoded form.

    >>> @signed_in("admin")
    ... def confirm(pages, visit): ...
    >>> confirm.__name__
    'confirm'
    """
    if role not in ROLES:
        raise ValueError(f"role {role!r}: must be one of {', '.join(ROLES)}")

    def decorate(route: Callable) -> Callable:
        @functools.wraps(route)
        def admitted(pages, *args, **kwargs):
            visit = pages.access.admit(role, csrf_back, multipart)
            if isinstance(visit, bottle.HTTPResponse):
                return visit
            return route(pages, visit, *args, **kwargs)

        return admitted

    return decorate


def read_portal_form() -> dict[str, list[str]] | bottle.HTTPResponse:
    """A posted urlencoded form (see :func:`read_form`); an empty POST is a form
    without a CSRF token (a 403 follows), not an unknown media type."""
    if bottle.request.content_length <= 0 and not bottle.request.environ.get(
        "HTTP_TRANSFER_ENCODING"
    ):
        return {}
    return read_form()


def read_upload_form() -> dict[str, list[str]] | bottle.HTTPResponse:
    """A posted multipart form's fields (its files stay in ``bottle.request.files``);
    a 415 page for any other body."""
    content_type = (bottle.request.content_type or "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        return message_page(415, request_language(), "bad_form_title", "bad_form")
    forms = bottle.request.forms
    # getunicode: UTF-8, and '' for a value that is not (never a 500).
    return {name: [forms.getunicode(name, default="")] for name in forms}
