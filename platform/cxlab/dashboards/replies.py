"""What the dashboard server answers without a kernel: refusal pages in the viewer's
language with a way back to the portal, and the static opening page the sync rendered
(:mod:`cxlab.dashboards.static_page`), with the per-viewer parts filled in.

>>> from types import SimpleNamespace
>>> sent = {}
>>> handler = SimpleNamespace(set_status=lambda code: sent.update(status=code),
...     set_header=lambda name, value: sent.update({name: value}),
...     finish=lambda body: sent.update(body=body))
>>> try:
...     static_reply(handler, f'<input value="{TOKEN_SLOT}"><a href="{PORTAL_SLOT}">',
...                  "t&1", "https://cx.example")
... except tornado.web.Finish:
...     pass
>>> sent["status"], sent["body"]
(200, '<input value="t&amp;1"><a href="https://cx.example/portal/">')
>>> sent["Content-Security-Policy"].startswith("default-src 'none'")
True
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import tornado.web

from cxlab.i18n import DEFAULT_LANGUAGE, LANGUAGES, phrase

# Filled per request in a static page: a fresh token for the live dashboard, and the
# portal's address (as this server knows it, whatever the sync's configuration was).
TOKEN_SLOT = "cxlab-slot-live-token"
PORTAL_SLOT = "cxlab-slot-portal"
STATIC_PAGE_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# A static page whose charts plotly.js draws (no images): its two scripts from this
# server, nothing inline. plotly.js adds its own <style> elements (allowed above).
STATIC_PAGE_SCRIPT_POLICY = STATIC_PAGE_POLICY + "; script-src 'self'"
PAGE = """<!doctype html><html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>
body {{ font-family: system-ui, "Noto Sans CJK JP", sans-serif; margin: 0; padding: 3em 1.5em;
  color: #1f2933; background: #f5f7fa; }}
main {{ max-width: 34em; margin: 0 auto; background: #fff; padding: 2em;
  border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.4em; margin-top: 0; }}
a.button {{ display: inline-block; margin-top: 1em; padding: .7em 1.2em; border-radius: 6px;
  background: #1d4ed8; color: #fff; text-decoration: none; font-weight: 600; }}
</style></head><body><main><h1>{title}</h1><p>{message}</p>{action}</main></body></html>"""


def response_headers(production: bool) -> dict[str, str]:
    """Headers on every dashboard-server response: never framed, no MIME sniffing, and no
    Referer (the page's address carries its token), plus HSTS in production.

    >>> sorted(response_headers(production=True))[:3]
    ['Content-Security-Policy', 'Referrer-Policy', 'Strict-Transport-Security']
    """
    headers = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if production:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def page_language(handler: Any) -> str:
    """One of :data:`cxlab.i18n.LANGUAGES`: the ``language`` query argument, else the
    browser's first choice among them (Accept-Language), else the default (``ja``).

    >>> from types import SimpleNamespace
    >>> page_language(SimpleNamespace(get_query_argument=lambda name, default=None: None,
    ...     request=SimpleNamespace(headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"})))
    'en'
    """
    chosen = handler.get_query_argument("language", None)
    if chosen in LANGUAGES:
        return chosen
    headers = getattr(getattr(handler, "request", None), "headers", {}) or {}
    for part in str(headers.get("Accept-Language", "")).split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def refusal_page(handler: Any, status: int, reason: str, *, language: str = "ja",
                 action_url: str | None = None, action: str = "to_portal") -> None:
    """Answer ``status`` with a page in ``language`` that says why (``reason``) and
    offers one button, then stop the request (no traceback)."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    title = phrase(language, f"refusal.{reason}.title")
    message = phrase(language, f"refusal.{reason}.message")
    label = phrase(language, f"refusal.{action}")
    button = (f'<a class="button" href="{html.escape(action_url)}">{html.escape(label)}</a>'
              if action_url else "")
    finish_page(handler, status, PAGE.format(language=language, title=html.escape(title),
                                             message=html.escape(message), action=button),
                {"Retry-After": "30"} if status == 503 else {})


def finish_page(handler: Any, status: int, body: str, headers: dict[str, str]) -> None:
    """Answer ``status`` with the HTML ``body``, the server's own headers and ``headers``,
    never cached (its address holds a token); then stop the request."""
    handler.set_status(status)
    # Voila's own handlers set these by default; tornado's plain ones (404s) do not.
    for name, value in {**getattr(handler, "settings", {}).get("headers", {}),
                        **headers}.items():
        handler.set_header(name, value)
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.set_header("Cache-Control", "no-store")
    handler.finish(body)
    raise tornado.web.Finish()


def draws_charts(page: str) -> bool:
    """Whether a rendered static page draws charts with plotly.js (some had no image),
    and so needs the policy that lets it load its two scripts from the server.

    >>> draws_charts('<div class="cx-plot">'), draws_charts('<img src="data:">')
    (True, False)
    """
    return 'class="cx-plot"' in page


def static_reply(handler: Any, page: str, live_token: str, portal_url: str) -> None:
    """Answer with a static opening page (:mod:`cxlab.dashboards.static_page`): its form
    carries ``live_token`` (single use, for the live dashboard), its links the portal.
    With chart images it runs no script and loads nothing: its policy allows inline
    styles and images only, and a form that goes back to this server; a page whose
    charts plotly.js draws may load scripts from this server too."""
    filled = (page.replace(TOKEN_SLOT, html.escape(live_token, quote=True))
              .replace(PORTAL_SLOT, html.escape(f"{portal_url}/portal/", quote=True)))
    policy = STATIC_PAGE_SCRIPT_POLICY if draws_charts(page) else STATIC_PAGE_POLICY
    finish_page(handler, 200, filled, {"Content-Security-Policy": policy})


def portal_link(portal_url: str, survey: str | None, language: str) -> str:
    """Where "open it again" leads: the portal route that mints a fresh dashboard token.

    >>> portal_link("https://cx.example", "store-visit", "en")
    'https://cx.example/portal/dashboard/store-visit?lang=en'
    >>> portal_link("https://cx.example", None, "ja")
    'https://cx.example/portal/?lang=ja'
    """
    path = f"/portal/dashboard/{quote(survey, safe='')}" if survey else "/portal/"
    return f"{portal_url}{path}?lang={language}"
