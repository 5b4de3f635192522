"""What every HTML page of the survey server shares: the templates, the page's
language, rendering with headers, the short message page, links that keep the
language, and reading a urlencoded form.

Respondent pages, the opt-out page and the client portal all build on these; none of
them imports another's routes for it.

>>> from survey_server.testing import bound_request
>>> with bound_request("/portal/?lang=en"):
...     request_language(), url_in_language("/portal/reports", "ja")
('en', '/portal/reports?lang=ja')
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import bottle
from cxlab.db.models import Survey
from cxlab.surveys.catalog import definition_of
from cxlab.surveys.definition import localize

from survey_server import i18n
from survey_server.context import request_header

VIEWS_DIR = str(Path(__file__).with_name("views"))
# Bottle caches a compiled template under id(template_lookup): one list for every call,
# or each request may read and compile the template again (a new list, a new id).
VIEWS_LOOKUP = [VIEWS_DIR]
MAX_FORM_FIELDS = 2000
HTML = {"Content-Type": "text/html; charset=utf-8"}
# Distinct message pages kept rendered (a page per text, language and link).
MESSAGE_PAGES_KEPT = 1024


def render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any,
) -> bottle.HTTPResponse:
    """A page from survey_server/views as a response with ``status`` (and ``headers``
    besides its content type).

    >>> page = render("message.tpl", 410, {"Cache-Control": "no-store"}, lang="en",
    ...               title="Closed", message="This survey is closed.", link=None,
    ...               link_text="")
    >>> page.status_code, page.headers["Cache-Control"], "<h1>Closed</h1>" in page.body
    (410, 'no-store', True)
    """
    body = bottle.template(template, template_lookup=VIEWS_LOOKUP, **values)
    return bottle.HTTPResponse(body, status, {**HTML, **(headers or {})})


def message_page(
    status: int, language: str, title_key: str, message_key: str, *,
    message: str | None = None, link: str | None = None, link_key: str = "start_again",
) -> bottle.HTTPResponse:
    """A short page that only says something (closed, not found, thank you...).

    >>> page = message_page(404, "en", "not_found_title", "not_found")
    >>> page.status_code, i18n.text("not_found", "en") in page.body
    (404, True)
    """
    body = _message_html(language, title_key, message_key, message, link, link_key)
    return bottle.HTTPResponse(body, status, dict(HTML))


@lru_cache(maxsize=MESSAGE_PAGES_KEPT)
def _message_html(
    language: str, title_key: str, message_key: str, message: str | None,
    link: str | None, link_key: str,
) -> str:
    # A message page depends on its arguments alone; rendering the template (with its
    # layout) cost more than storing the answer a thank-you page follows.
    return bottle.template(
        "message.tpl", template_lookup=VIEWS_LOOKUP, lang=language,
        title=i18n.text(title_key, language),
        message=message or i18n.text(message_key, language), link=link,
        link_text=i18n.text(link_key, language),
    )


def request_language(available: tuple[str, ...] = i18n.LANGUAGES) -> str:
    """The page's language: ``?lang=``, else the browser's Accept-Language, else the
    first of ``available``.

    >>> from survey_server.testing import bound_request
    >>> with bound_request("/", accept_language="ja,en;q=0.5"):
    ...     request_language()
    'ja'
    """
    request = bottle.request
    return i18n.choose_language(
        request.query.get("lang"), request_header("Accept-Language"), available
    )


def url_in_language(path: str, language: str) -> str:
    """``path`` with the page's language in its query, so a link keeps it.

    >>> url_in_language("/portal/distributions/3", "en")
    '/portal/distributions/3?lang=en'
    """
    return f"{path}?{urlencode({'lang': language})}"


def language_links(language: str) -> list[tuple[str, str, str]]:
    """This page in each other language of the catalogue, for the header's language
    links: (code, the language's name in itself, URL).

    >>> from survey_server.testing import bound_request
    >>> with bound_request("/portal/reports?lang=en"):
    ...     language_links("en")
    [('ja', '日本語', '/portal/reports?lang=ja')]
    """
    return [(code, i18n.text("language_name", code), url_in_language(bottle.request.path, code))
            for code in i18n.LANGUAGES if code != language]


def redirect(path: str, language: str) -> bottle.HTTPResponse:
    """A 303 to ``path`` in ``language``, never cached.

    >>> moved = redirect("/portal/login", "ja")
    >>> moved.status_code, moved.headers["Location"]
    (303, '/portal/login?lang=ja')
    """
    return bottle.HTTPResponse(
        status=303, Location=url_in_language(path, language), **{"Cache-Control": "no-store"}
    )


def survey_title(survey: Survey, language: str) -> str:
    """The survey's title in the page's language (the stored title is its first one)."""
    return localize(definition_of(survey).title, language) or survey.title


def read_form() -> dict[str, list[str]] | bottle.HTTPResponse:
    """The urlencoded form body as ``{name: [values]}``, UTF-8 (Bottle's own parser
    decodes as Latin-1 and caps bodies at its own size); a 415 or 400 page for a body
    that is no such form.

    >>> from survey_server.testing import bound_request
    >>> with bound_request("/", body="a=1&a=%E2%9C%93&b="):
    ...     read_form()
    {'a': ['1', '✓'], 'b': ['']}
    >>> with bound_request("/", body="a=%FF"):
    ...     read_form().status_code
    400
    """
    request = bottle.request
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    language = request_language()
    if content_type not in ("", "application/x-www-form-urlencoded"):
        return message_page(415, language, "bad_form_title", "bad_form")
    try:
        text = request.body.read().decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        return message_page(400, language, "bad_form_title", "bad_form")
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form
