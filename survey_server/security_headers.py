"""The security headers every survey-server response carries (respondent pages, API,
portal, errors): a Content-Security-Policy, nosniff, a Referrer-Policy, framing
refused, and HSTS in production.

A response that sets one of these itself keeps its own (portal reports: a sandbox
policy). A survey whose definition lists ``embed_origins`` may be framed by exactly
those origins: its pages name them in ``frame-ancestors`` and send no X-Frame-Options.

>>> headers = SecurityHeaders(production=True)
>>> policy = dict(headers.for_response({}))["Content-Security-Policy"]
>>> policy.startswith("default-src 'self'") and "frame-ancestors 'none'" in policy
True
>>> dict(headers.for_response({"cxlab.frame_ancestors": "https://shop.example"}))[
...     "Content-Security-Policy"].endswith("frame-ancestors https://shop.example")
True
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

VIEWS_DIR = Path(__file__).with_name("views")
# The pages' only inline code is their <style> block: allowed by its hash, so an
# injected style or script is not.
STYLE_TEMPLATES = ("layout.tpl", "portal_layout.tpl")
HSTS = "max-age=31536000; includeSubDomains"
FRAME_ANCESTORS_KEY = "cxlab.frame_ancestors"


def style_hashes(templates: tuple[str, ...] = STYLE_TEMPLATES) -> list[str]:
    """CSP sources (``'sha256-…'``) of the <style> blocks of the page templates."""
    sources = []
    for name in templates:
        text = (VIEWS_DIR / name).read_text(encoding="utf-8")
        for block in re.findall(r"<style>(.*?)</style>", text, re.S):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return sources


class SecurityHeaders:
    """The headers for one server; ``production`` adds HSTS (CXLAB_ENV=production)."""

    def __init__(self, *, production: bool) -> None:
        self.production = production
        self._policy = (
            "default-src 'self'; style-src 'self' " + " ".join(style_hashes())
            + "; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors "
        )

    def for_response(self, environ: dict) -> Iterator[tuple[str, str]]:
        """``(name, value)`` pairs for a response to the request of ``environ``."""
        ancestors = environ.get(FRAME_ANCESTORS_KEY)
        yield "Content-Security-Policy", self._policy + (ancestors or "'none'")
        if not ancestors:
            yield "X-Frame-Options", "DENY"
        yield "X-Content-Type-Options", "nosniff"
        # Personal links (/i/<token>, /u/<token>) must not leak to other sites.
        yield "Referrer-Policy", "no-referrer"
        if self.production:
            yield "Strict-Transport-Security", HSTS

    def add_to(self, headers: list[tuple[str, str]], environ: dict) -> None:
        """Append each header ``headers`` does not set already."""
        present = {name.lower() for name, _ in headers}
        for name, value in self.for_response(environ):
            if name.lower() not in present:
                headers.append((name, value))
