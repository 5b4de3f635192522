"""The client portal: /portal/ for tenant users to sign in, see their own surveys
and their distributions' response rates, open a survey's dashboard in Voila, read
their scheduled reports and (tenant admins) send a survey to an uploaded CSV.

The tenant always comes from the signed session cookie, never from the URL. The
session is an itsdangerous-signed cookie (never Bottle's pickling ``secret=``
cookies) holding the user id, the tenant id and a random session id that the CSRF
token of every form is derived from. Before sign-in, a short-lived pre-session
cookie plays that part for the login form.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import bottle
import pandas as pd
from cxlab import distribution, portal_auth, report_files, report_subscriptions
from cxlab.anonymity import suppressed_groups
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.errors import CxlabError, NotFound
from cxlab.portal_auth import LoginPolicy, PortalUser
from cxlab.surveys.catalog import definition_of, get_survey, get_survey_by_id, list_surveys
from cxlab.surveys.definition import localize
from cxlab.tenancy import authenticate_user

from survey_server import i18n
from survey_server.client_address import client_address
from survey_server.context import ServerContext, tag_request
from survey_server.pages import VIEWS_LOOKUP, message_page, read_form, request_language
from survey_server.portal_tokens import (
    LOGIN_FORM_AGE,
    UPLOAD_AGE,
    PortalSessions,
    SessionClaims,
    UploadReferences,
)

SESSION_COOKIE = "cxlab_portal"
LOGIN_COOKIE = "cxlab_portal_login"
COOKIE_PATH = "/portal"
MAX_PASSWORD_LENGTH = 1000
DASHBOARD_NOTEBOOK = "overview.ipynb"
PREVIEW_ROWS = 10
MAX_DISTRIBUTION_NAME = 200
MAX_REMINDER_DAYS = 365
MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns; a larger number names no row
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}  # and the server's own Content-Security-Policy (survey_server.security_headers)
# Reports come out of notebooks: let their scripts draw charts, but in an opaque
# origin, so nothing in them can read or act on the portal.
REPORT_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox allow-scripts allow-popups allow-downloads; "
                               "frame-ancestors 'none'",
}


class PortalPages:
    """The /portal routes, bound to one server's context."""

    def __init__(self, context: ServerContext, policy: LoginPolicy | None = None) -> None:
        self.context = context
        self.database = context.database
        self.config = context.config
        self.policy = policy or LoginPolicy()
        self.sessions = PortalSessions(
            context.config.secret_key,
            idle=timedelta(minutes=context.config.session_idle_minutes),
            absolute=timedelta(hours=context.config.session_max_hours),
        )
        self.dashboard_tokens = DashboardTokens(context.config.secret_key)
        self.uploads = UploadReferences(context.config.secret_key)

    def install(self, app: bottle.Bottle) -> None:
        app.get("/portal", callback=self.to_home)
        app.get("/portal/", callback=self.home)
        app.route("/portal/login", ["GET", "POST"], self.login)
        app.post("/portal/logout", callback=self.logout)
        # The dashboard links here: a link cannot post the CSRF token, so it asks first.
        app.get("/portal/logout", callback=self.confirm_logout)
        app.get("/portal/dashboard/<survey_slug>", callback=self.dashboard)
        app.get("/portal/reports", callback=self.reports)
        app.post("/portal/reports/subscription", callback=self.report_subscription)
        app.get("/portal/reports/<job>/<file_name>", callback=self.report_file)
        app.get("/portal/distributions/<distribution_id:int>", callback=self.distribution)
        app.route("/portal/distributions/new", ["GET", "POST"], self.new_distribution)
        app.post("/portal/distributions/confirm", callback=self.confirm_distribution)

    # ------------------------------------------------------------ routes

    def to_home(self) -> bottle.HTTPResponse:
        return self._redirect("/portal/", request_language())

    def login(self) -> bottle.HTTPResponse:
        language = request_language()
        if bottle.request.method == "GET":
            if self._signed_in() is not None:
                return self._redirect("/portal/", language)
            return self._login_page(language)
        form_id = self.sessions.read_login_form(bottle.request.get_cookie(LOGIN_COOKIE))
        form = _read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        if not self.sessions.csrf_matches(form_id, _field(form, "csrf_token")):
            return self._csrf_refused(language, "/portal/login")
        email = _field(form, "email").strip()[:portal_auth.MAX_EMAIL_LENGTH]
        password = _field(form, "password")
        if not email or not password or len(password) > MAX_PASSWORD_LENGTH:
            return self._login_page(language, 422, email=email, error="login_missing")
        client_ip = client_address(bottle.request.environ, self.config.trusted_proxies)
        with self.database.session() as session:
            locked = portal_auth.lockout(session, email, client_ip, self.policy)
        if locked is not None:
            page = self._login_page(
                language, 429, email=email, error="locked_out",
                minutes=-(-locked.retry_after_seconds // 60),
            )
            page.set_header("Retry-After", str(locked.retry_after_seconds))
            return page
        with self.database.session() as session:
            user = authenticate_user(session, email, password)
            claims = (user.id, user.tenant_id, user.session_generation) if (
                user is not None and user.disabled_at is None) else None
        with self.context.write_gate.writing(), self.database.session() as session:
            if claims is None:
                portal_auth.record_failure(session, email, client_ip, self.policy)
            else:
                portal_auth.clear_failures(session, email, client_ip)
        if claims is None:
            return self._login_page(language, 401, email=email, error="login_failed")
        response = self._redirect("/portal/", language)
        user_id, tenant_id, generation = claims
        self._set_session(response, self.sessions.issue(user_id, tenant_id,
                                                         generation=generation))
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        return response

    def logout(self) -> bottle.HTTPResponse:
        language = request_language()
        claims = self.sessions.read(bottle.request.get_cookie(SESSION_COOKIE))
        form = _read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        bound_to = claims.session_id if claims else None
        if not self.sessions.csrf_matches(bound_to, _field(form, "csrf_token")):
            return self._csrf_refused(language, "/portal/")
        # Server-side: a copy of this cookie taken before sign-out is dead too.
        with self.context.write_gate.writing(), self.database.session() as session:
            portal_auth.end_sessions(session, claims.user_id)
        response = self._redirect("/portal/login", language)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response

    def confirm_logout(self) -> bottle.HTTPResponse:
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        return self._page("portal_logout.tpl", language, signed_in[1],
                          home_url=self._url("/portal/", language))

    def home(self) -> bottle.HTTPResponse:
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, claims = signed_in
        with self.database.session() as session:
            rows = list_surveys(session, user.tenant)
            summaries = distribution.summarize_distributions(session, user.tenant)
        surveys = [
            {
                "title": _survey_title(survey, language), "slug": survey.slug,
                "responses": count,
                "status": i18n.text(
                    "status_closed" if survey.status == "closed" else "status_open", language
                ),
                "dashboard_url": self._url(f"/portal/dashboard/{quote(survey.slug)}", language),
                "distributions": [
                    self._summary_row(summary, language) for summary in summaries
                    if summary.distribution.survey_id == survey.id
                ],
            }
            for survey, _tenant_slug, count in rows
        ]
        return self._page(
            "portal_home.tpl", language, claims, surveys=surveys, email=user.email,
            tenant_name=user.tenant.name, reports_url=self._url("/portal/reports", language),
            new_distribution_url=(
                self._url("/portal/distributions/new", language) if user.may_distribute else ""
            ),
        )

    def dashboard(self, survey_slug: str) -> bottle.HTTPResponse:
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, _claims = signed_in
        try:
            with self.database.session() as session:
                survey = get_survey(session, user.tenant, survey_slug)
        except NotFound:
            return self._not_found(language)
        tag_request(survey=survey.slug)
        token = self.dashboard_tokens.issue(
            user.tenant.slug, user.email, DASHBOARD_NOTEBOOK, survey=survey.slug,
            title=_survey_title(survey, language),
        )
        # The dashboard speaks the portal's language (the hook takes only ja or en).
        location = (f"{self.config.dashboard_url}/voila/render/{DASHBOARD_NOTEBOOK}?"
                    + urlencode({"token": token, "language": language}))
        return bottle.HTTPResponse(
            status=303, Location=location, **{"Cache-Control": "no-store"}
        )

    def reports(self) -> bottle.HTTPResponse:
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, claims = signed_in
        reports = [
            {
                "date": report.stem.replace("T", " "), "job": report.job,
                "file_name": report.file_name,
                "url": f"/portal/reports/{quote(report.job)}/{quote(report.file_name)}",
            }
            for report in report_files.list_reports(self.config.var_dir, user.tenant.slug)
        ]
        with self.database.session() as session:
            subscribed = report_subscriptions.is_subscribed(session, user.user_id,
                                                            user.tenant.id)
        return self._page(
            "portal_reports.tpl", language, claims, reports=reports,
            home_url=self._url("/portal/", language), subscribed=subscribed,
            email=user.email,
            subscription_url=self._url("/portal/reports/subscription", language),
        )

    def report_subscription(self) -> bottle.HTTPResponse:
        """Subscribe or unsubscribe the signed-in user to their own tenant's weekly
        report by e-mail (``action`` = subscribe | unsubscribe). The user and tenant
        are the session's; the form names neither."""
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, claims = signed_in
        form = _read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        if not self.sessions.csrf_matches(claims.session_id, _field(form, "csrf_token")):
            return self._csrf_refused(language, "/portal/reports")
        action = _field(form, "action")
        if action not in ("subscribe", "unsubscribe"):
            return message_page(422, language, "subscription_refused_title",
                                "subscription_bad_action",
                                link=self._url("/portal/reports", language),
                                link_key="back_to_reports")
        change = (report_subscriptions.subscribe if action == "subscribe"
                  else report_subscriptions.unsubscribe)
        with self.context.write_gate.writing(), self.database.session() as session:
            change(session, user.user_id, user.tenant.id, report_subscriptions.WEEKLY_REPORT_JOB)
        return self._redirect("/portal/reports", language)

    def report_file(self, job: str, file_name: str) -> bottle.HTTPResponse:
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, _claims = signed_in
        report = report_files.find_report(self.config.var_dir, user.tenant.slug, job, file_name)
        if report is None:
            return self._not_found(language)
        headers = {**REPORT_HEADERS, "Content-Type": report.content_type}
        if report.format != "html":
            headers["Content-Disposition"] = f'attachment; filename="{report.file_name}"'
        body = report.path.read_bytes()
        headers["Content-Length"] = str(len(body))
        return bottle.HTTPResponse(body, 200, headers)


    def distribution(self, distribution_id: int) -> bottle.HTTPResponse:
        """One distribution's response rate, overall and by each survey attribute."""
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, claims = signed_in
        if not 0 < distribution_id <= MAX_ROW_ID:
            # Beyond any row id (and beyond what the database can compare): not found.
            return self._not_found(language)
        try:
            with self.database.session() as session:
                chosen = distribution.get_distribution(session, user.tenant, distribution_id)
                summary = next(s for s in distribution.summarize_distributions(
                    session, user.tenant) if s.distribution.id == chosen.id)
                survey = get_survey_by_id(session, user.tenant.id, chosen.survey_id)
                min_group = definition_of(survey).anonymity.min_group
                by_attribute = [
                    (localize(attribute.label, language) or attribute.name, attribute.name,
                     distribution.response_rates(session, user.tenant, by=attribute.name,
                                                 distribution=chosen))
                    for attribute in definition_of(survey).attributes
                ]
        except NotFound:
            return self._not_found(language)
        tables = [
            {"label": label, "rows": _rate_rows(table, name, min_group, language)}
            for label, name, table in by_attribute if not table.empty
        ]
        return self._page(
            "portal_distribution.tpl", language, claims,
            survey_title=_survey_title(survey, language),
            summary=self._summary_row(summary, language), tables=tables,
            home_url=self._url("/portal/", language),
        )

    def new_distribution(self) -> bottle.HTTPResponse:
        """Admins: GET the upload form; POST a CSV to see its preview."""
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, claims = signed_in
        if not user.may_distribute:
            return self._forbidden(language)
        with self.database.session() as session:
            surveys = [survey for survey, _slug, _count in list_surveys(session, user.tenant)]
        if bottle.request.method == "GET":
            return self._upload_page(language, claims, surveys)
        content_type = (bottle.request.content_type or "").split(";")[0].strip().lower()
        if content_type != "multipart/form-data":
            return message_page(415, language, "bad_form_title", "bad_form")
        forms, files = bottle.request.forms, bottle.request.files
        if not self.sessions.csrf_matches(claims.session_id, forms.getunicode("csrf_token")):
            return self._csrf_refused(language, "/portal/distributions/new")
        choice = _distribution_choice(forms)
        upload = files.get("recipients")
        # Size: the app's body limit (CXLAB_MAX_BODY_BYTES) refused a larger request.
        data = upload.file.read() if upload else b""
        survey = next((s for s in surveys if s.slug == choice["survey"]), None)
        error = (
            "upload_survey_missing" if survey is None
            else "upload_name_missing" if not choice["name"]
            else "upload_reminder_invalid" if choice["reminder"] == -1
            else "upload_file_missing" if not data
            else None
        )
        if error is not None:
            return self._upload_page(language, claims, surveys, 422, choice=choice,
                                     error=i18n.text(error, language))
        try:
            rows = distribution.parse_recipients(data)
        except distribution.ImportRefused as refused:
            return self._upload_page(language, claims, surveys, 422, choice=choice,
                                     error=str(refused))
        with self.database.session() as session:
            valid, problems, opted_out = distribution.check_recipients(
                session, user.tenant, survey, rows)
        file_name = _store_upload(self._upload_dir(user), data)
        reference = self.uploads.issue(
            user.tenant.id, file_name, survey.id, choice["name"], choice["reminder"])
        columns = [distribution.EMAIL_COLUMN, *sorted(
            {name for row in valid for name in row.values} - {distribution.EMAIL_COLUMN})]
        return self._page(
            "portal_distribution_preview.tpl", language, claims,
            survey_title=_survey_title(survey, language),
            name=choice["name"], reminder=choice["reminder"], rows=len(rows),
            valid=len(valid), problems=[str(p) for p in problems],
            opted_out=[str(p) for p in opted_out], columns=columns,
            first_rows=[[row.values.get(c, "") for c in columns]
                        for row in valid[:PREVIEW_ROWS]],
            reference=reference, confirm_url=self._url("/portal/distributions/confirm", language),
            back_url=self._url("/portal/distributions/new", language),
        )

    def confirm_distribution(self) -> bottle.HTTPResponse:
        """Admins: create the previewed distribution and queue its e-mails at once."""
        language = request_language()
        signed_in = self._signed_in()
        if signed_in is None:
            return self._redirect("/portal/login", language)
        user, claims = signed_in
        form = _read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        if not self.sessions.csrf_matches(claims.session_id, _field(form, "csrf_token")):
            return self._csrf_refused(language, "/portal/distributions/new")
        if not user.may_distribute:
            return self._forbidden(language)
        upload = self.uploads.read(_field(form, "reference"))
        # The tenant is the session's; a reference from another tenant is not found.
        if upload is None or upload.tenant_id != user.tenant.id:
            return self._not_found(language)
        path = self._upload_dir(user) / upload.file_name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return self._not_found(language)
        try:
            with self.context.write_gate.writing(), self.database.session() as session:
                survey = get_survey_by_id(session, user.tenant.id, upload.survey_id)
                report = distribution.create_distribution(
                    session, user.tenant, survey, upload.name,
                    distribution.parse_recipients(data),
                    reminder_after_days=upload.reminder_after_days)
                distribution.queue_invitations(session, self.config, user.tenant,
                                               report.distribution)
                created = report.distribution.id
        except NotFound:
            return self._not_found(language)
        except CxlabError as error:
            return message_page(422, language, "upload_refused_title", "upload_refused",
                                message=str(error), link=self._url(
                                    "/portal/distributions/new", language),
                                link_key="back_to_upload")
        # Gone once used: confirming twice cannot make a second distribution.
        path.unlink(missing_ok=True)
        return self._redirect(f"/portal/distributions/{created}", language)

    # ------------------------------------------------------------ helpers

    def _summary_row(self, summary: distribution.DistributionSummary,
                     language: str) -> dict[str, Any]:
        return {
            "name": summary.distribution.name, "invited": summary.invited,
            "sent": summary.sent, "answered": summary.answered,
            "rate": _percent(summary.rate),
            "url": self._url(f"/portal/distributions/{summary.distribution.id}", language),
        }

    def _upload_page(
        self, language: str, claims: SessionClaims, surveys: list, status: int = 200, *,
        choice: dict[str, Any] | None = None, error: str = "",
    ) -> bottle.HTTPResponse:
        return self._page(
            "portal_distribution_new.tpl", language, claims, status,
            surveys=[{"slug": survey.slug, "title": _survey_title(survey, language)}
                     for survey in surveys],
            choice=choice or {"survey": "", "name": "", "reminder": None}, error=error,
            action=self._url("/portal/distributions/new", language),
            home_url=self._url("/portal/", language),
            max_megabytes=f"{self.config.max_body_bytes / 1_000_000:g}",
        )

    def _upload_dir(self, user: PortalUser) -> Path:
        return self.config.var_dir / "uploads" / user.tenant.slug

    def _forbidden(self, language: str) -> bottle.HTTPResponse:
        response = message_page(
            403, language, "forbidden_title", "admins_only",
            link=self._url("/portal/", language), link_key="back_to_portal",
        )
        response.set_header("Cache-Control", "no-store")
        return response

    def _signed_in(self) -> tuple[PortalUser, SessionClaims] | None:
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

    def _page(
        self, template: str, language: str, claims: SessionClaims | None,
        status: int = 200, **values: Any,
    ) -> bottle.HTTPResponse:
        body = bottle.template(
            template, template_lookup=VIEWS_LOOKUP, lang=language,
            t=lambda key, **more: i18n.text(key, language, **more),
            switch_url=_switch_language_url(language),
            csrf_token=self.sessions.csrf_token(claims.session_id) if claims else "",
            logout_url=self._url("/portal/logout", language), **values,
        )
        response = bottle.HTTPResponse(body, status, dict(PAGE_HEADERS))
        if claims is not None:
            # Re-signed on every page: the session expires after its idle time unused,
            # and at its absolute lifetime in any case (the start time is kept).
            self._set_session(response, self.sessions.renew(claims))
        return response

    def _login_page(
        self, language: str, status: int = 200, *, email: str = "", error: str | None = None,
        **error_values: Any,
    ) -> bottle.HTTPResponse:
        cookie = bottle.request.get_cookie(LOGIN_COOKIE)
        form_id = self.sessions.read_login_form(cookie)
        if form_id is None:
            cookie, form_id = self.sessions.issue_login_form()
        response = self._page(
            "portal_login.tpl", language, None, status, email=email,
            error=i18n.text(error, language, **error_values) if error else "",
            action=self._url("/portal/login", language),
            login_token=self.sessions.csrf_token(form_id),
        )
        response.set_cookie(LOGIN_COOKIE, cookie, **self._cookie_options(LOGIN_FORM_AGE))
        return response

    def _set_session(self, response: bottle.HTTPResponse, value: str) -> None:
        response.set_cookie(SESSION_COOKIE, value, **self._cookie_options(self.sessions.idle))

    def _cookie_options(self, max_age: timedelta) -> dict[str, Any]:
        # Production is served over TLS (docs/security.md): cookies are Secure there
        # whatever a proxy says; elsewhere, when the request came over https.
        secure = self.config.env == "production" or bottle.request.urlparts.scheme == "https"
        return {
            "path": COOKIE_PATH, "httponly": True, "samesite": "lax", "secure": secure,
            "max_age": int(max_age.total_seconds()),
        }

    def _csrf_refused(self, language: str, back: str) -> bottle.HTTPResponse:
        response = message_page(
            403, language, "csrf_title", "csrf", link=self._url(back, language),
            link_key="back_to_portal",
        )
        response.set_header("Cache-Control", "no-store")
        return response

    def _not_found(self, language: str) -> bottle.HTTPResponse:
        return message_page(
            404, language, "not_found_title", "portal_not_found",
            link=self._url("/portal/", language), link_key="back_to_portal",
        )

    def _redirect(self, path: str, language: str) -> bottle.HTTPResponse:
        return bottle.HTTPResponse(
            status=303, Location=self._url(path, language), **{"Cache-Control": "no-store"}
        )

    @staticmethod
    def _url(path: str, language: str) -> str:
        return f"{path}?{urlencode({'lang': language})}"


def _store_upload(folder: Path, data: bytes) -> str:
    """Keep ``data`` under a random name in ``folder``; drops uploads whose preview
    has expired. Returns the file's name."""
    folder.mkdir(parents=True, exist_ok=True)
    expired = time.time() - UPLOAD_AGE.total_seconds()
    for old in folder.glob("*.csv"):
        if old.stat().st_mtime < expired:
            old.unlink(missing_ok=True)
    name = f"{secrets.token_hex(16)}.csv"
    (folder / name).write_bytes(data)
    return name


def _distribution_choice(forms: bottle.FormsDict) -> dict[str, Any]:
    """The upload form's survey, name and reminder delay (None: no reminder; -1: not
    a whole number of days from 1 to MAX_REMINDER_DAYS)."""
    reminder_text = (forms.getunicode("reminder_after_days") or "").strip()
    reminder: int | None = None
    if reminder_text:
        reminder = int(reminder_text) if reminder_text.isdigit() else -1
        if not 1 <= reminder <= MAX_REMINDER_DAYS:
            reminder = -1
    return {
        "survey": (forms.getunicode("survey") or "").strip(),
        "name": (forms.getunicode("name") or "").strip()[:MAX_DISTRIBUTION_NAME],
        "reminder": reminder,
    }


def _rate_rows(table: pd.DataFrame, name: str, min_group: int,
               language: str) -> list[dict[str, Any]]:
    """A response-rate table's rows, with the answered count and rate of any group
    below the survey's min_group hidden — and, since the distribution's total is on
    the same page, as many more as complementary suppression needs."""
    hidden = suppressed_groups(
        {row[name]: int(row["responded"]) for _, row in table.iterrows()}, min_group)
    word = i18n.text("hidden_for_anonymity", language)
    return [
        {"value": row[name], "sent": int(row["sent"]),
         "answered": word if row[name] in hidden else int(row["responded"]),
         "rate": "–" if row[name] in hidden else _percent(row["rate"])}
        for _, row in table.iterrows()
    ]


def _survey_title(survey, language: str) -> str:
    """The survey's title in the page's language (the stored title is its first one)."""
    return localize(definition_of(survey).title, language) or survey.title


def _percent(rate: float | None) -> str:
    return "–" if rate is None or pd.isna(rate) else f"{rate:.1%}"


def _switch_language_url(language: str) -> str:
    other = "en" if language == "ja" else "ja"
    return f"{bottle.request.path}?{urlencode({'lang': other})}"


def _read_portal_form() -> dict[str, list[str]] | bottle.HTTPResponse:
    # An empty POST is a form without a CSRF token (403), not an unknown media type.
    if bottle.request.content_length <= 0 and not bottle.request.environ.get(
        "HTTP_TRANSFER_ENCODING"
    ):
        return {}
    return read_form()


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[-1]
