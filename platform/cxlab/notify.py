"""Notifications to people: chat webhooks (Slack-compatible JSON) for failed jobs.

A notification is best effort: a webhook that is down or refuses the message is
logged and reported as ``False``, never raised, so it cannot turn one failure into two.

>>> send_webhook(None, "nothing is sent without a URL")
False
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_SECONDS = 10


def send_webhook(url: str | None, text: str, *, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> bool:
    """POST ``{"text": text}`` to ``url`` (Slack, Mattermost, Teams and most chat tools
    accept this); True when the receiver answered 2xx."""
    if not url:
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL validated by Config
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("webhook %s failed: %s; the message was: %s", url, error, text)
        return False
