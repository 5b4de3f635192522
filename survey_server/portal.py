"""The client portal: /portal/ for tenant users to sign in, see their own surveys
and their distributions' response rates, open a survey's dashboard in Voila and read
their scheduled reports; tenant admins send a survey to an uploaded CSV
(:mod:`survey_server.portal_upload`).

The tenant always comes from the signed session cookie, never from the URL. The
session is an itsdangerous-signed cookie (never Bottle's pickling ``secret=``
cookies) holding the user id, the tenant id and a random session id that the CSRF
token of every form is derived from. Before sign-in, a short-lived pre-session
cookie plays that part for the login form. Every signed-in route is guarded by
:func:`survey_server.portal_access.signed_in`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import bottle
import pandas as pd
from cxlab import distribution, portal_auth, report_files, report_subscriptions
from cxlab.analysis.response_rate import format_rate
from cxlab.anonymity import suppressed_groups
from cxlab.dashboards.tokens import DashboardTokens
from cxlab.distribution.rates import DistributionSummary, response_rates, summarize_distributions
from cxlab.errors import NotFound
from cxlab.identifiers import MAX_EMAIL_LENGTH
from cxlab.org.scoped import scope_conditions
from cxlab.portal_auth import LoginPolicy
from cxlab.responses import survey_availability
from cxlab.surveys.catalog import definition_of, get_survey, get_survey_by_id, list_surveys
from cxlab.surveys.definition import localize
from cxlab.tenancy import authenticate_user

from survey_server import i18n
from survey_server.client_address import client_address
from survey_server.context import ServerContext, tag_request
from survey_server.pages import (
    message_page,
    redirect,
    request_language,
    survey_title,
    url_in_language,
)
from survey_server.portal_access import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    PortalAccess,
    Visit,
    form_field,
    read_portal_form,
    role_allows,
    signed_in,
)
from survey_server.portal_exports import EXPORT_ROLE, SurveyExports, export_links
from survey_server.portal_lifecycle import LIFECYCLE_ROLE, SurveyLifecycle, status_form
from survey_server.portal_tokens import LOGIN_FORM_AGE
from survey_server.portal_upload import DistributionUpload

MAX_PASSWORD_LENGTH = 1000
DASHBOARD_NOTEBOOK = "overview.ipynb"
MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns; a larger number names no row
# Reports come out of notebooks: let their scripts draw charts, but in an opaque
# origin, so nothing in them can read or act on the portal.
STATUS_KEYS = {"open": "status_open", "closed": "status_closed",
               "not_yet_open": "status_not_yet_open"}
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
        self.access = PortalAccess(context.config, context.database)
        self.sessions = self.access.sessions
        self.dashboard_tokens = DashboardTokens(context.config.secret_key)
        self.upload = DistributionUpload(context, self.access)
        self.exports = SurveyExports(context, self.access)
        self.lifecycle = SurveyLifecycle(context, self.access)

    def install(self, app: bottle.Bottle) -> None:
        routes = [
            ("/portal", "GET", self.to_home),
            ("/portal/", "GET", self.home),
            ("/portal/login", ["GET", "POST"], self.login),
            ("/portal/logout", "POST", self.logout),
            # The dashboard links here: a link cannot post the CSRF token, so it asks first.
            ("/portal/logout", "GET", self.confirm_logout),
            ("/portal/dashboard/<survey_slug>", "GET", self.dashboard),
            ("/portal/reports", "GET", self.reports),
            ("/portal/reports/subscription", "POST", self.report_subscription),
            ("/portal/reports/<job>/<file_name>", "GET", self.report_file),
            ("/portal/distributions/<distribution_id:int>", "GET", self.distribution),
        ]
        for rule, methods, callback in routes:
            app.route(rule, methods, callback, apply=[self.access.not_found_as_page])
        self.upload.install(app)
        self.exports.install(app)
        self.lifecycle.install(app)

    # ------------------------------------------------------------ sign-in

    def to_home(self) -> bottle.HTTPResponse:
        return redirect("/portal/", request_language())

    def login(self) -> bottle.HTTPResponse:
        language = request_language()
        if bottle.request.method == "GET":
            if self.access.visitor() is not None:
                return redirect("/portal/", language)
            return self._login_page(language)
        form_id = self.sessions.read_login_form(bottle.request.get_cookie(LOGIN_COOKIE))
        form = read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        if not self.sessions.csrf_matches(form_id, form_field(form, "csrf_token")):
            return self.access.csrf_refused(language, "/portal/login")
        email = form_field(form, "email").strip()[:MAX_EMAIL_LENGTH]
        password = form_field(form, "password")
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
        response = redirect("/portal/", language)
        user_id, tenant_id, generation = claims
        self.access.set_session(response, self.sessions.issue(user_id, tenant_id,
                                                                generation=generation))
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        return response

    def logout(self) -> bottle.HTTPResponse:
        # Not signed_in: a session whose user is gone may still sign out (and is
        # refused only for a wrong CSRF token).
        language = request_language()
        claims = self.sessions.read(bottle.request.get_cookie(SESSION_COOKIE))
        form = read_portal_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        bound_to = claims.session_id if claims else None
        if not self.sessions.csrf_matches(bound_to, form_field(form, "csrf_token")):
            return self.access.csrf_refused(language, "/portal/")
        # Server-side: a copy of this cookie taken before sign-out is dead too.
        with self.context.write_gate.writing(), self.database.session() as session:
            portal_auth.end_sessions(session, claims.user_id)
        response = redirect("/portal/login", language)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response

    @signed_in()
    def confirm_logout(self, visit: Visit) -> bottle.HTTPResponse:
        return self.access.page("portal_logout.tpl", visit.language, visit.claims,
                                home_url=url_in_language("/portal/", visit.language))

    def _login_page(
        self, language: str, status: int = 200, *, email: str = "", error: str | None = None,
        **error_values: Any,
    ) -> bottle.HTTPResponse:
        cookie = bottle.request.get_cookie(LOGIN_COOKIE)
        form_id = self.sessions.read_login_form(cookie)
        if form_id is None:
            cookie, form_id = self.sessions.issue_login_form()
        response = self.access.page(
            "portal_login.tpl", language, None, status, email=email,
            error=i18n.text(error, language, **error_values) if error else "",
            action=url_in_language("/portal/login", language),
            login_token=self.sessions.csrf_token(form_id),
        )
        response.set_cookie(LOGIN_COOKIE, cookie,
                            **self.access.cookie_options(LOGIN_FORM_AGE))
        return response

    # ------------------------------------------------------------ surveys

    @signed_in()
    def home(self, visit: Visit) -> bottle.HTTPResponse:
        user, language = visit.user, visit.language
        with self.database.session() as session:
            # A scoped user's counts are of their units' answers and invitations only.
            scoped = scope_conditions(session, user.tenant.id, user.scope)
            rows = list_surveys(session, user.tenant,
                                responses_where=scoped and scoped.responses)
            summaries = summarize_distributions(
                session, user.tenant, invitations_where=scoped and scoped.invitations)
        surveys = [
            {
                "title": survey_title(survey, language), "slug": survey.slug,
                "responses": count,
                "status": i18n.text(STATUS_KEYS[survey_availability(survey)], language),
                "status_form": status_form(survey.slug, survey.status, language),
                "dashboard_url": url_in_language(
                    f"/portal/dashboard/{quote(survey.slug)}", language),
                "exports": export_links(survey.slug, language),
                "distributions": [
                    summary_row(summary, language) for summary in summaries
                    if summary.distribution.survey_id == survey.id
                ],
            }
            for survey, _tenant_slug, count in rows
        ]
        return self.access.page(
            "portal_home.tpl", language, visit.claims, surveys=surveys, email=user.email,
            tenant_name=user.tenant.name,
            reports_url=url_in_language("/portal/reports", language),
            survey_exports=role_allows(user.role, EXPORT_ROLE),
            survey_lifecycle=role_allows(user.role, LIFECYCLE_ROLE),
            new_distribution_url=(
                url_in_language("/portal/distributions/new", language)
                if user.may_distribute else ""
            ),
        )

    @signed_in()
    def dashboard(self, visit: Visit, survey_slug: str) -> bottle.HTTPResponse:
        user, language = visit.user, visit.language
        with self.database.session() as session:
            survey = get_survey(session, user.tenant, survey_slug)
        tag_request(survey=survey.slug)
        # The scope travels signed in the token: the kernel loads only its answers.
        token = self.dashboard_tokens.issue(
            user.tenant.slug, user.email, DASHBOARD_NOTEBOOK, survey=survey.slug,
            title=survey_title(survey, language), scope=user.scope,
        )
        # The dashboard speaks the portal's language (the hook takes only ja or en).
        location = (f"{self.config.dashboard_url}/voila/render/{DASHBOARD_NOTEBOOK}?"
                    + urlencode({"token": token, "language": language}))
        return bottle.HTTPResponse(
            status=303, Location=location, **{"Cache-Control": "no-store"}
        )

    # ------------------------------------------------------------ reports

    @signed_in()
    def reports(self, visit: Visit) -> bottle.HTTPResponse:
        """The tenant's reports; none for a scoped user (they cover every store)."""
        user, language = visit.user, visit.language
        reports = [] if user.scope is not None else [
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
        return self.access.page(
            "portal_reports.tpl", language, visit.claims, reports=reports,
            home_url=url_in_language("/portal/", language), subscribed=subscribed,
            email=user.email,
            subscription_url=url_in_language("/portal/reports/subscription", language),
            scoped=user.scope is not None,
        )

    @signed_in(csrf_back="/portal/reports")
    def report_subscription(self, visit: Visit) -> bottle.HTTPResponse:
        """Subscribe or unsubscribe the signed-in user to their own tenant's weekly
        report by e-mail (``action`` = subscribe | unsubscribe). The user and tenant
        are the session's; the form names neither."""
        user, language = visit.user, visit.language
        action = visit.field("action")
        if user.scope is not None and action == "subscribe":
            return self.access.refusal(403, language, "forbidden_title",
                                       "reports_not_in_scope", "/portal/reports")
        if action not in ("subscribe", "unsubscribe"):
            return message_page(422, language, "subscription_refused_title",
                                "subscription_bad_action",
                                link=url_in_language("/portal/reports", language),
                                link_key="back_to_reports")
        change = (report_subscriptions.subscribe if action == "subscribe"
                  else report_subscriptions.unsubscribe)
        with self.context.write_gate.writing(), self.database.session() as session:
            change(session, user.user_id, user.tenant.id, report_subscriptions.WEEKLY_REPORT_JOB)
        return redirect("/portal/reports", language)

    @signed_in()
    def report_file(self, visit: Visit, job: str, file_name: str) -> bottle.HTTPResponse:
        # A report covers every store: a scoped user finds none (as if there were none).
        report = None if visit.user.scope is not None else report_files.find_report(
            self.config.var_dir, visit.user.tenant.slug, job, file_name)
        if report is None:
            raise NotFound(f"no report {job}/{file_name}")
        headers = {**REPORT_HEADERS, "Content-Type": report.content_type}
        if report.format != "html":
            headers["Content-Disposition"] = f'attachment; filename="{report.file_name}"'
        body = report.path.read_bytes()
        headers["Content-Length"] = str(len(body))
        return bottle.HTTPResponse(body, 200, headers)

    # ------------------------------------------------------------ distributions

    @signed_in()
    def distribution(self, visit: Visit, distribution_id: int) -> bottle.HTTPResponse:
        """One distribution's response rate, overall and by each survey attribute."""
        user, language = visit.user, visit.language
        if not 0 < distribution_id <= MAX_ROW_ID:
            # Beyond any row id (and beyond what the database can compare): not found.
            raise NotFound(f"no distribution {distribution_id}")
        with self.database.session() as session:
            chosen = distribution.get_distribution(session, user.tenant, distribution_id)
            scoped = scope_conditions(session, user.tenant.id, user.scope)
            within = scoped and scoped.invitations
            summary = next(s for s in summarize_distributions(
                session, user.tenant, invitations_where=within) if s.distribution.id == chosen.id)
            survey = get_survey_by_id(session, user.tenant.id, chosen.survey_id)
            min_group = definition_of(survey).anonymity.min_group
            by_attribute = [
                (localize(attribute.label, language) or attribute.name, attribute.name,
                 response_rates(session, user.tenant, by=attribute.name,
                                distribution=chosen, invitations_where=within))
                for attribute in definition_of(survey).attributes
            ]
        tables = [
            {"label": label, "rows": rate_rows(table, name, min_group, language)}
            for label, name, table in by_attribute if not table.empty
        ]
        return self.access.page(
            "portal_distribution.tpl", language, visit.claims,
            survey_title=survey_title(survey, language),
            summary=summary_row(summary, language), tables=tables,
            home_url=url_in_language("/portal/", language),
        )


def summary_row(summary: DistributionSummary, language: str) -> dict[str, Any]:
    """A distribution's line on the portal: its counts, rate and page."""
    return {
        "name": summary.distribution.name, "invited": summary.invited,
        "sent": summary.sent, "answered": summary.answered,
        "rate": format_rate(summary.rate),
        "url": url_in_language(f"/portal/distributions/{summary.distribution.id}", language),
    }


def rate_rows(table: pd.DataFrame, name: str, min_group: int,
              language: str) -> list[dict[str, Any]]:
    """A response-rate table's rows, with the answered count and rate of any group
    below the survey's min_group hidden — and, since the distribution's total is on
    the same page, as many more as complementary suppression needs.

    >>> table = pd.DataFrame({"store": ["A", "B", "C"], "sent": [40, 30, 9],
    ...                       "responded": [20, 12, 2], "rate": [0.5, 0.4, 2 / 9]})
    >>> [(row["value"], row["answered"], row["rate"])
    ...  for row in rate_rows(table, "store", 5, "en")]
    [('A', 20, '50.0%'), ('B', 'hidden (anonymity)', '–'), ('C', 'hidden (anonymity)', '–')]
    """
    hidden = suppressed_groups(
        {row[name]: int(row["responded"]) for _, row in table.iterrows()}, min_group)
    word = i18n.text("hidden_for_anonymity", language)
    return [
        {"value": row[name], "sent": int(row["sent"]),
         "answered": word if row[name] in hidden else int(row["responded"]),
         "rate": format_rate(None if row[name] in hidden else row["rate"])}
        for _, row in table.iterrows()
    ]
