"""What the simulated users do: respondents (open link or personal invitation link),
kiosks and portal clients.

Locust is imported only inside :func:`user_classes`, never at module import time:
importing locust monkey-patches the whole process with gevent, which must happen only
in the load generator's own process (see :mod:`cxlab.loadtest.runner`), never in a
test session, a notebook or the CLI.

:class:`Workload` holds what the users need to know about the stack they hit;
:func:`answer_pool` draws realistic answers from :func:`cxlab.seed.generate_responses`
(the same planted distributions the demo data have), turned into form fields and JSON.

>>> from cxlab.surveys import EXAMPLES_DIR, load_definition
>>> definition = load_definition(EXAMPLES_DIR / "restaurant_visit.yaml")
>>> pool = answer_pool(definition, 3, seed=1)
>>> len(pool), sorted(pool[0]["attributes"])
(3, ['channel', 'store'])
>>> form_fields(definition, pool[0]["answers"], page=0)[0][0]
'nps'
>>> extract_hidden('<input type="hidden" name="nonce" value="a.b-c">', "nonce")
'a.b-c'
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from cxlab.seed import generate_responses
from cxlab.surveys.definition import SurveyDefinition
from cxlab.surveys.types import question_type

# Request names in the statistics: one per step, so the report reads like the journey.
OPEN_PAGE = "respondent: open survey"
SUBMIT_PAGE = "respondent: submit page"
NEXT_PAGE = "respondent: next page"
SUBMIT_LAST = "respondent: submit last page"
INVITE_OPEN = "invitee: open personal link"
INVITE_SUBMIT_PAGE = "invitee: submit page"
INVITE_NEXT_PAGE = "invitee: next page"
INVITE_SUBMIT_LAST = "invitee: submit last page"
API_POST = "kiosk: POST response"
PORTAL_LOGIN_PAGE = "portal: login page"
PORTAL_LOGIN = "portal: log in"
PORTAL_HOME = "portal: home"
# Requests that each store one complete response: responses/s counts these.
RESPONSE_REQUESTS = (SUBMIT_LAST, INVITE_SUBMIT_LAST, API_POST)

# Seconds a person spends on each step, at think_scale 1: reading and answering a page,
# a kiosk's idle time between two customers, a client looking at the portal.
RESPONDENT_THINK = (4.0, 15.0)
KIOSK_THINK = (5.0, 30.0)
PORTAL_THINK = (10.0, 60.0)


@dataclass(frozen=True)
class Workload:
    """The survey, API key, portal user, invitation tokens (one response each) and
    answers the simulated users work with."""

    tenant_slug: str
    survey_slug: str
    survey_id: int
    api_key: str
    portal_email: str = ""
    portal_password: str = ""
    answers: list[dict[str, Any]] = field(default_factory=list)
    invitation_tokens: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def answer_pool(definition: SurveyDefinition, count: int, *, seed: int = 0) -> list[dict]:
    """``count`` answer sets ``{"answers": {...}, "attributes": {...}}`` as JSON values."""
    frame = generate_responses(definition, count, seed=seed)
    attribute_names = [attribute.name for attribute in definition.attributes]
    # Each type turns its generated column(s) into the JSON answers a client sends.
    answers = {question.id: question_type(question.type).answers_from_frame(question, frame)
               for question in definition.questions}
    pool = []
    for index, row in enumerate(frame[attribute_names].to_dict("records")):
        chosen = {qid: values[index] for qid, values in answers.items()
                  if values[index] is not None}
        attributes = {name: str(row[name]) for name in attribute_names}
        pool.append({"answers": chosen, "attributes": attributes})
    return pool


def form_fields(
    definition: SurveyDefinition, answers: dict[str, Any], *, page: int
) -> list[tuple[str, str]]:
    """The form fields a browser sends for ``page``'s questions (multi → repeated,
    matrix → one per row)."""
    fields: list[tuple[str, str]] = []
    for question in definition.page(page):
        value = answers.get(question.id)
        if value is not None:
            fields += question_type(question.type).form_fields(question, value)
    return fields


def extract_hidden(page_html: str, name: str) -> str | None:
    """The value of hidden input ``name`` in a page, as the browser would send it."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page_html)
    return html.unescape(match.group(1)) if match else None


def extract_action(page_html: str) -> str | None:
    match = re.search(r'<form method="post" action="([^"]*)"', page_html)
    return html.unescape(match.group(1)) if match else None


def user_classes(
    workload: Workload, definition: SurveyDefinition, weights: dict[str, int], think_scale: float
) -> list[type]:
    """Locust user classes for ``workload``, weighted (respondent, invitee, kiosk,
    portal)."""
    from locust import HttpUser, between, task
    from locust.exception import StopUser

    def think(bounds: tuple[float, float]):
        return between(bounds[0] * think_scale, bounds[1] * think_scale)

    def pick_answers() -> dict[str, Any]:
        return random.choice(workload.answers)

    # Each personal link is answered once: the invitees of this load generator share
    # one supply of tokens, so no two of them open the same link.
    unused_tokens = iter(workload.invitation_tokens)

    def answer_pages(user: HttpUser, page_html: str, answers: dict[str, Any],
                     names: tuple[str, str, str]) -> None:
        """Submit each page as a browser would: its signed nonce, its page number and
        its answers; follow the 303 to the next page; expect the thank-you page."""
        submit_name, next_name, last_name = names
        for page in range(definition.page_count):
            last = page == definition.page_count - 1
            user.wait()  # reading and answering this page
            action = extract_action(page_html)
            fields = [("nonce", extract_hidden(page_html, "nonce") or ""), ("page", str(page))]
            fields += form_fields(definition, answers, page=page)
            with user.client.post(action, data=fields, name=last_name if last else submit_name,
                                  allow_redirects=False, catch_response=True) as response:
                expected = 200 if last else 303
                if response.status_code != expected or 'name="nonce"' in response.text:
                    response.failure(f"page {page + 1}: HTTP {response.status_code}")
                    return
                location = response.headers.get("Location", "")
            if last:
                return
            with user.client.get(location, name=next_name, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"next page: HTTP {response.status_code}")
                    return
                page_html = response.text

    class Respondent(HttpUser):
        """Opens the open link from a receipt and answers it page by page."""

        weight = weights.get("respondent", 0)
        wait_time = think(RESPONDENT_THINK)

        @task
        def answer_survey(self) -> None:
            chosen = pick_answers()
            query = "&".join(f"{k}={v}" for k, v in chosen["attributes"].items())
            url = f"/s/{workload.tenant_slug}/{workload.survey_slug}?{query}"
            with self.client.get(url, name=OPEN_PAGE, catch_response=True) as response:
                if response.status_code != 200 or 'name="nonce"' not in response.text:
                    response.failure(f"survey page: HTTP {response.status_code}")
                    return
                page_html = response.text
            answer_pages(self, page_html, chosen["answers"],
                         (SUBMIT_PAGE, NEXT_PAGE, SUBMIT_LAST))

    class Invitee(HttpUser):
        """Opens the personal link of an e-mailed invitation (``/i/<token>``; the
        invitation carries the attributes) and answers it page by page."""

        weight = weights.get("invitee", 0)
        wait_time = think(RESPONDENT_THINK)

        @task
        def answer_invitation(self) -> None:
            token = next(unused_tokens, None)
            if token is None:
                raise StopUser  # every invitation answered: nothing left to do
            with self.client.get(f"/i/{token}", name=INVITE_OPEN,
                                 catch_response=True) as response:
                if response.status_code != 200 or 'name="nonce"' not in response.text:
                    response.failure(f"invitation page: HTTP {response.status_code}")
                    return
                page_html = response.text
            answer_pages(self, page_html, pick_answers()["answers"],
                         (INVITE_SUBMIT_PAGE, INVITE_NEXT_PAGE, INVITE_SUBMIT_LAST))

    class Kiosk(HttpUser):
        """A tablet in a store posting each customer's answers to the JSON API."""

        weight = weights.get("kiosk", 0)
        wait_time = think(KIOSK_THINK)

        @task
        def post_response(self) -> None:
            chosen = pick_answers()
            with self.client.post(
                f"/api/v1/surveys/{workload.survey_id}/responses", json=chosen, name=API_POST,
                headers={"Authorization": f"Bearer {workload.api_key}"}, catch_response=True,
            ) as response:
                if response.status_code != 201:
                    response.failure(f"HTTP {response.status_code}: {response.text[:200]}")

    class PortalClient(HttpUser):
        """A client logging in to the portal, then coming back to its home page."""

        weight = weights.get("portal", 0)
        wait_time = think(PORTAL_THINK)

        def on_start(self) -> None:
            with self.client.get("/portal/login", name=PORTAL_LOGIN_PAGE,
                                 catch_response=True) as response:
                token = extract_hidden(response.text, "csrf_token")
                if response.status_code != 200 or token is None:
                    response.failure(f"login page: HTTP {response.status_code}")
                    return
            with self.client.post(
                "/portal/login", name=PORTAL_LOGIN, allow_redirects=False, catch_response=True,
                data={"csrf_token": token, "email": workload.portal_email,
                      "password": workload.portal_password},
            ) as response:
                if response.status_code not in (302, 303):
                    response.failure(f"login: HTTP {response.status_code}")

        @task
        def home(self) -> None:
            with self.client.get("/portal/", name=PORTAL_HOME, allow_redirects=False,
                                 catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"home: HTTP {response.status_code}")

    return [cls for cls in (Respondent, Invitee, Kiosk, PortalClient) if cls.weight > 0]
