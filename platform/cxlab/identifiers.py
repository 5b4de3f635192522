"""The shapes of the names and addresses cxlab accepts: slugs and e-mail addresses.

Each is defined once, here, and every check uses it: tenant slugs (:mod:`cxlab.tenancy`),
survey slugs (:mod:`cxlab.surveys`), the store's partition paths
(:mod:`cxlab.store.layout`), users' addresses and recipient files
(:mod:`cxlab.distribution.recipients`).

>>> [bool(SLUG_PATTERN.match(slug)) for slug in ("acme-foods", "store_visit", "../acme", "-x")]
[True, True, False, False]
>>> is_email_address("ana@example.com"), is_email_address("ana@example..com")
(True, False)
"""

from __future__ import annotations

import re

# A tenant's or a survey's slug: lowercase ASCII letters, digits, '-' and '_', starting
# with a letter or digit, at most 63 (the database columns' length). It names folders
# of the analytic store and parts of URLs, so "../other-tenant" can never be one.
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SLUG_RULE = "lowercase letters, digits, '-' and '_', starting with a letter or digit"

# Deliberately plain: an ASCII address with a dotted domain of letters, digits and '-'.
# It is what mail servers accept without SMTPUTF8; what it lets through that no server
# accepts ends as a 5xx 'failed' outbox row, which is reported, not lost.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_EMAIL_LENGTH = 320


def is_email_address(text: str) -> bool:
    """Whether ``text`` is an e-mail address cxlab will write to (see EMAIL_PATTERN)."""
    return len(text) <= MAX_EMAIL_LENGTH and EMAIL_PATTERN.match(text) is not None
