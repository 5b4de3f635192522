"""Respondent pages: /s/<tenant>/<survey> (open link) and /i/<token> (invitation).

Server-rendered, no JavaScript, no cookies. The form carries a signed nonce naming the
response's idempotency key, so a double submit stores one response. A long survey is
answered page by page; each finished page is saved server-side as a partial response
that the respondent resumes from the same link (or the resume link of an open survey).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import bottle
from cxlab import invitations, responses
from cxlab.db.models import Invitation, Response, Survey
from cxlab.errors import NotFound
from cxlab.new_responses import NewResponse, store_new_responses
from cxlab.surveys.answers import validate_answers
from cxlab.surveys.catalog import definition_of
from cxlab.surveys.definition import Question, SurveyDefinition, localize
from cxlab.surveys.types import question_type

from survey_server import i18n
from survey_server.context import ServerContext, tag_request
from survey_server.pages import message_page, read_form, render, request_language
from survey_server.security_headers import FRAME_ANCESTORS_KEY
from survey_server.texts import text_problems


def allow_framing(definition: SurveyDefinition) -> None:
    """Let the origins the survey lists (``embed_origins``) show this page in a frame."""
    if definition.embed_origins:
        bottle.request.environ[FRAME_ANCESTORS_KEY] = " ".join(definition.embed_origins)


class RespondentPages:
    """The respondent routes, bound to one server's context."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.database = context.database
        self.tokens = context.tokens
        self.resume_age = timedelta(days=context.config.resume_days)

    def install(self, app: bottle.Bottle) -> None:
        app.route("/s/<tenant_slug>/<survey_slug>", ["GET", "POST"], self.open_link)
        app.route("/i/<token>", ["GET", "POST"], self.invitation_link)

    # ------------------------------------------------------------ routes

    def open_link(self, tenant_slug: str, survey_slug: str) -> bottle.HTTPResponse:
        tag_request(tenant=tenant_slug, survey=survey_slug)
        try:
            found = self.context.lookups.survey_by_slug(tenant_slug, survey_slug)
        except NotFound:
            return message_page(404, request_language(), "not_found_title", "not_found")
        survey, definition = found.survey, found.definition
        allow_framing(definition)
        language = request_language(definition.languages)
        unavailable = self._unavailable(survey, language)
        if unavailable is not None:
            return unavailable
        base_url = f"/s/{quote(tenant_slug)}/{quote(survey_slug)}"
        query_attributes = self._query_attributes(definition)
        action = base_url + "?" + urlencode({**query_attributes, "lang": language})
        flow = _Flow(
            self, survey, definition, language, tenant_slug, action=action,
            attributes=query_attributes, invitation=None,
            continue_url=lambda key: base_url + "?" + urlencode(
                {"resume": self.tokens.resume_token(survey.id, key), "lang": language}
            ),
        )
        if bottle.request.method == "POST":
            # Only an open link's own keys: never one of an invitation's.
            return flow.submit(key_prefix="form-")
        resume = bottle.request.query.get("resume")
        if resume is None:
            return flow.show_page(0, {}, self.tokens.new_key())
        key = self.tokens.key_from_resume_token(survey.id, resume)
        if key is not None:
            with self.database.session() as session:
                stored = responses.find_response(session, survey, key)
            if stored is not None and stored.status == "complete":
                return flow.thanks()
            if stored is not None and stored.submitted_at >= datetime.now(UTC) - self.resume_age:
                return flow.show_page(stored.resume_page or 0, stored.answers, key, resumed=True)
        return message_page(
            410, language, "expired_title", "expired",
            link=base_url + "?" + urlencode({**query_attributes, "lang": language}),
        )

    def invitation_link(self, token: str) -> bottle.HTTPResponse:
        try:
            with self.database.session() as session:
                link = invitations.open_invitation(session, token)
        except NotFound:
            return message_page(404, request_language(), "not_found_title", "not_found")
        invitation, survey = link.invitation, link.survey
        tag_request(tenant=link.tenant_slug, survey=survey.slug)
        definition = definition_of(survey)
        allow_framing(definition)
        language = request_language(definition.languages)
        # One response per invitation: its idempotency key is fixed, so a double
        # submit finds the first and a second visit finds it answered. An unlinked
        # survey's key is random, kept on the invitation only while a long survey is
        # half-done (so the link resumes it), and never names the invitation.
        unlinked = definition.anonymity.unlinked
        key = invitation.response_key if unlinked else f"inv-{invitation.id}"
        url = f"/i/{quote(token)}?" + urlencode({"lang": language})
        flow = _Flow(
            self, survey, definition, language, link.tenant_slug, action=url,
            attributes=dict(invitation.attributes or {}), invitation=invitation,
            continue_url=lambda _key: url,
        )
        if bottle.request.method == "POST":
            return flow.submit(expected_key=key, key_prefix="inv-")
        if invitation.responded_at is not None:
            return message_page(200, language, "already_answered_title", "already_answered")
        unavailable = self._unavailable(survey, language)
        if unavailable is not None:
            return unavailable
        stored = None
        if key is not None:
            with self.database.session() as session:
                stored = responses.find_resumable(session, survey, key, self.resume_age)
        if stored is not None:
            return flow.show_page(stored.resume_page or 0, stored.answers, key, resumed=True)
        return flow.show_page(0, {}, key or self.tokens.new_key("inv-"))

    # ------------------------------------------------------------ helpers

    def _unavailable(self, survey: Survey, language: str) -> bottle.HTTPResponse | None:
        availability = responses.survey_availability(survey)
        if availability == "closed":
            return message_page(410, language, "closed_title", "closed")
        if availability == "not_yet_open":
            return message_page(404, language, "closed_title", "not_yet_open")
        return None

    @staticmethod
    def _query_attributes(definition: SurveyDefinition) -> dict[str, str]:
        # Only attributes the survey whitelists (from_query) with an allowed value;
        # a mistyped receipt link still records the answers, without that attribute.
        query = bottle.request.query
        raw = {
            attribute.name: query.getunicode(attribute.name) or ""
            for attribute in definition.attributes
            if attribute.from_query and attribute.name in query
        }
        clean, _errors = responses.clean_attributes(definition, raw, from_query_only=True)
        # Dropped like a value outside the list: a NUL cannot be stored on PostgreSQL.
        return {name: value for name, value in clean.items()
                if name not in text_problems(clean)}


class _Flow:
    """One respondent's walk through one survey: show a page, take a page."""

    def __init__(
        self, pages: RespondentPages, survey: Survey, definition: SurveyDefinition,
        language: str, tenant_label: str, *, action: str, attributes: dict[str, str],
        invitation: Invitation | None, continue_url,
    ) -> None:
        self.pages = pages
        self.survey = survey
        self.definition = definition
        self.language = language
        self.tenant_label = tenant_label
        self.action = action
        self.attributes = attributes
        self.invitation = invitation
        self.continue_url = continue_url

    def thanks(self) -> bottle.HTTPResponse:
        thanks = self.definition.thanks
        return message_page(
            200, self.language, "thanks_title", "thanks",
            message=localize(thanks, self.language) if thanks else None,
        )

    def show_page(
        self, page: int, values: dict[str, Any], key: str, *,
        errors: dict[str, str] | None = None, status: int = 200, resumed: bool = False,
    ) -> bottle.HTTPResponse:
        definition, language = self.definition, self.language
        page = min(max(page, 0), definition.page_count - 1)
        errors = errors or {}
        questions = [
            _question_view(question, values, errors.get(question.id), language)
            for question in definition.page(page)
            if _shown_on_page(definition, question, page, values)
        ]
        summary = [(q["anchor"], q["label"], q["error"]) for q in questions if q["error"]]
        page_title = definition.page_titles[page] if page < len(definition.page_titles) else None
        last = page == definition.page_count - 1
        resume_hint = None
        if page > 0 or resumed:
            resume_hint = i18n.text("resume_hint", language, count=self.pages.resume_age.days)
        return render(
            "form.tpl", status, lang=language,
            title=localize(definition.title, language),
            intro=localize(definition.intro, language) if definition.intro and page == 0 else "",
            page=page + 1, pages=definition.page_count, page_index=page,
            progress_text=i18n.text(
                "page_of", language, page=page + 1, total=definition.page_count
            ),
            page_title=localize(page_title, language) if page_title else "",
            error_summary=summary,
            error_title=i18n.text("errors_title", language, count=len(summary)),
            action=self.action, nonce=self.pages.tokens.nonce(self.survey.id, key),
            questions=questions, required_text=i18n.text("required", language),
            button=i18n.text("submit" if last else "next", language),
            resume_hint=resume_hint, anonymity=self.anonymity_statement(),
        )

    def anonymity_statement(self) -> str:
        """What this link does with the answers, in the respondent's language."""
        anonymity = self.definition.anonymity
        if self.invitation is None:
            key = "anonymity_open"
        else:
            key = "anonymity_unlinked" if anonymity.unlinked else "anonymity_linked"
        statement = i18n.text(key, self.language)
        if anonymity.unlinked:
            # Only there does every surface, the raw export included, hide small groups.
            groups = i18n.text("anonymity_groups", self.language, min_group=anonymity.min_group)
            statement = i18n.text("two_sentences", self.language, first=statement, second=groups)
        return statement

    def _stored(self, key: str) -> tuple[bool, Response | None]:
        """``(complete, partial)``: whether a complete response is stored under ``key``,
        and the partial response stored under it (to carry its answers over), if any."""
        with self.pages.database.session() as session:
            state = responses.response_state(session, self.survey, key)
            # Only a partial response has answers to carry over: load its row only then.
            if state is None or state[1] != "partial":
                return state is not None, None
            return False, responses.find_response(session, self.survey, key)

    def submit(
        self, expected_key: str | None = None, key_prefix: str = ""
    ) -> bottle.HTTPResponse:
        pages, definition, language = self.pages, self.definition, self.language
        unlinked = self.invitation is not None and definition.anonymity.unlinked
        form = read_form()
        if isinstance(form, bottle.HTTPResponse):
            return form
        nonce = (form.get("nonce") or [None])[0]
        key = pages.tokens.key_from_nonce(self.survey.id, nonce)
        if key is None or not key.startswith(key_prefix) or (
            expected_key is not None and key != expected_key
        ):
            return message_page(400, language, "bad_form_title", "bad_form", link=self.action)
        # An open link's one-page survey has no partial response to carry over: its
        # answer is stored as new, without looking first; only invalid answers look
        # for a complete one, since a double submit is always thanked.
        one_page = self.invitation is None and definition.page_count == 1
        stored = None
        if not one_page:
            complete, stored = self._stored(key)
            if complete:
                return self.thanks()
        if self.invitation is not None and self.invitation.responded_at is not None:
            return message_page(409, language, "already_answered_title", "already_answered")
        if responses.survey_availability(self.survey) != "open":
            return pages._unavailable(self.survey, language)
        saved = dict(stored.answers) if stored is not None else {}
        attributes = dict(stored.attributes) if stored is not None and stored.attributes else (
            self.attributes
        )
        try:
            page = min(max(int((form.get("page") or ["0"])[0]), 0), definition.page_count - 1)
        except ValueError:
            page = 0
        known = {question.id for question in definition.questions}
        this_page = {question.id for question in definition.page(page)}
        answers = {k: v for k, v in saved.items() if k in known and k not in this_page}
        for question in definition.page(page):
            value = question_type(question.type).form_value(question, form)
            if value not in ("", []):
                answers[question.id] = value
        last = page == definition.page_count - 1
        clean, errors = validate_answers(
            definition, answers, pages=None if last else range(page, page + 1)
        )
        errors.update(text_problems({q: answers[q] for q in this_page if q in answers}))
        if errors and one_page and self._stored(key)[0]:
            return self.thanks()
        if errors:
            error_pages = [definition.question(q).page for q in errors if q in known]
            shown = page if page in error_pages or not error_pages else min(error_pages)
            messages = {q: i18n.problem_text(_form_reason(definition, q, m, language), language)
                        for q, m in errors.items()}
            return self.show_page(shown, answers, key, errors=messages, status=422)
        if not last:
            with pages.context.write_gate.writing(), pages.database.session() as session:
                responses.save_partial(
                    session, self.survey, clean, idempotency_key=key, resume_page=page + 1,
                    attributes=attributes, invitation=self.invitation, unlinked=unlinked,
                )
            return bottle.HTTPResponse(status=303, Location=self.continue_url(key))
        group = pages.context.group_commit
        try:
            if self.invitation is None:  # stored as new with the batch's others
                recorded = group.run_together(store_new_responses, NewResponse.of(
                    self.survey, clean, attributes=attributes, idempotency_key=key,
                ))
            else:
                recorded = group.run(
                    lambda session: responses.record_response(
                        session, self.survey, clean, attributes=attributes,
                        idempotency_key=key, invitation=self.invitation, unlinked=unlinked,
                    )
                )
        except responses.AlreadyAnswered:
            return message_page(409, language, "already_answered_title", "already_answered")
        if recorded.created:
            pages.context.metrics.response_accepted(self.tenant_label)
        return self.thanks()


def _form_reason(definition: SurveyDefinition, field: str, reason: str, language: str) -> str:
    """A problem in the respondent's terms (a matrix names its row by its label)."""
    question = next((q for q in definition.questions if q.id == field), None)
    if question is None:
        return reason
    return question_type(question.type).form_reason(question, reason, language)


def _shown_on_page(
    definition: SurveyDefinition, question: Question, page: int, values: dict[str, Any]
) -> bool:
    if question.show_if is None:
        return True
    # A condition on a question of this same page cannot be known before the page is
    # sent (no JavaScript): show the question; validation drops it if it stays hidden.
    if definition.question(question.show_if.question).page == page:
        return True
    # Earlier pages' answers come from the saved, already validated partial response.
    return question.is_shown(values)


def _question_view(
    question: Question, values: dict[str, Any], error: str | None, language: str
) -> dict[str, Any]:
    """What a question's fragment (views/questions/<template>.tpl) shows: the parts
    every question has, then its type's own (choices, rows, value, hint...)."""
    anchor = f"q-{question.id}"
    kind = question_type(question.type)
    view: dict[str, Any] = {
        "id": question.id,
        "anchor": anchor,
        "template": kind.template,
        "label": localize(question.label, language),
        "help": localize(question.help, language) if question.help else "",
        "help_id": f"{anchor}-help" if question.help else "",
        "required": question.required,
        "error": error or "",
        "error_id": f"{anchor}-error" if error else "",
        "hint": "",
        **kind.form_view(question, values.get(question.id), language, i18n.text),
    }
    view["hint_id"] = f"{anchor}-hint" if view["hint"] else ""
    view["described"] = " ".join(
        part for part in (view["help_id"], view["hint_id"], view["error_id"]) if part
    )
    return view
