"""Short-lived, single-use signed tokens that open one tenant's dashboard in Voila.

The client portal issues one when a logged-in user clicks "Open dashboard"; Voila's
prelaunch hook verifies it before a kernel starts and redeems it, so each token opens
one page once. A token names the tenant, the user, the notebook and (optionally) the
survey, carries a random id, and lives five minutes: long enough to load the page, too
short to be worth sharing. It also carries the user's scope (:mod:`cxlab.org.scope`): the
unit codes whose answers the kernel loads, or none for the whole tenant; being signed,
a scope cannot be widened or dropped without the token being refused.

>>> tokens = DashboardTokens("a secret key of some length")
>>> token = tokens.issue("acme", "ana@acme.example", "overview.ipynb", survey="store-visit")
>>> tokens.verify(token, "overview.ipynb").tenant
'acme'
>>> tokens.verify(tokens.issue("acme", "s@acme.example", "overview.ipynb",
...                            scope=("shibuya-01",)), "overview.ipynb").scope
('shibuya-01',)
>>> tokens.verify(token, "other.ipynb")
Traceback (most recent call last):
...
cxlab.dashboards.tokens.DashboardTokenError: this link is for another dashboard
>>> redeemed = RedeemedTokens(max_age=300)
>>> grant = tokens.verify(token, "overview.ipynb")
>>> redeemed.redeem(grant)
>>> try:
...     redeemed.redeem(grant)
... except DashboardTokenError as refused:
...     print(refused.reason)
used
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from cxlab.errors import CxlabError
from cxlab.org.scope import parse_scope

DEFAULT_MAX_AGE_SECONDS = 300
MAX_TOKEN_LENGTH = 4000  # a scope of a few dozen unit codes fits

# Why a token is refused; the dashboard server words each one in the page's language.
MISSING, INVALID, EXPIRED, USED, OTHER_NOTEBOOK = (
    "missing", "invalid", "expired", "used", "other-notebook")
REASON_MESSAGES = {
    MISSING: "open dashboards from the client portal",
    INVALID: "this dashboard link is not valid",
    EXPIRED: "this dashboard link has expired: open it again from the portal",
    USED: "this dashboard link has been used: open it again from the portal",
    OTHER_NOTEBOOK: "this link is for another dashboard",
}


class DashboardTokenError(CxlabError):
    """A dashboard token that must be refused: ``reason`` is one of the codes above, and
    ``survey`` the survey a genuine (expired or used) token named, for a link back."""

    def __init__(self, reason: str, survey: str | None = None) -> None:
        super().__init__(REASON_MESSAGES[reason])
        self.reason = reason
        self.survey = survey


@dataclass(frozen=True)
class DashboardGrant:
    """What a valid token allows: ``user`` of ``tenant`` may open ``notebook`` once."""

    tenant: str
    user: str
    notebook: str
    survey: str | None
    token_id: str = ""
    title: str | None = None  # the survey's title in the portal's language: the page's title
    # The unit codes the user is limited to (cxlab.org.scope); None: the whole tenant.
    scope: tuple[str, ...] | None = None


class DashboardTokens:
    def __init__(self, secret_key: str, *, max_age: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="cxlab.dashboard")
        self.max_age = max_age

    def issue(self, tenant: str, user: str, notebook: str, *, survey: str | None = None,
              title: str | None = None, scope: tuple[str, ...] | None = None) -> str:
        return self._serializer.dumps({
            "tenant": tenant, "user": user, "notebook": notebook, "survey": survey,
            "id": secrets.token_urlsafe(12), "title": title,
            "scope": list(scope) if scope is not None else None,
        })

    def verify(self, token: str | None, notebook: str) -> DashboardGrant:
        """The grant of a genuine, unexpired token for ``notebook``; else raise
        :class:`DashboardTokenError` saying why (missing, tampered, expired, other)."""
        if not token:
            raise DashboardTokenError(MISSING)
        if len(token) > MAX_TOKEN_LENGTH:
            raise DashboardTokenError(INVALID)
        try:
            claims = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            # The signature is genuine, so the survey it names may be linked back to.
            _genuine, claims = self._serializer.loads_unsafe(token)
            raise DashboardTokenError(EXPIRED, _survey_of(claims)) from None
        except BadSignature:
            raise DashboardTokenError(INVALID) from None
        if not isinstance(claims, dict) or not all(
            isinstance(claims.get(key), str) for key in ("tenant", "user", "notebook", "id")
        ):
            raise DashboardTokenError(INVALID)
        if claims["notebook"] != notebook:
            raise DashboardTokenError(OTHER_NOTEBOOK)
        try:
            scope = parse_scope(claims.get("scope"))
        except CxlabError:
            raise DashboardTokenError(INVALID) from None
        return DashboardGrant(
            tenant=claims["tenant"], user=claims["user"], notebook=claims["notebook"],
            survey=_survey_of(claims), token_id=claims["id"],
            title=claims["title"] if isinstance(claims.get("title"), str) else None,
            scope=scope,
        )


def _survey_of(claims: object) -> str | None:
    survey = claims.get("survey") if isinstance(claims, dict) else None
    return survey if isinstance(survey, str) else None


class RedeemedTokens:
    """The ids of tokens already used to open a page, kept as long as a token lives.

    One per dashboard server process: a token replayed against the same server is
    refused. (Several dashboard servers behind a load balancer need sticky routing by
    token for the same guarantee; docs/dashboards.md says so.)
    """

    def __init__(self, max_age: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        self.max_age = max_age
        self._redeemed: dict[str, float] = {}
        self._lock = threading.Lock()

    def redeem(self, grant: DashboardGrant) -> None:
        """Record ``grant``'s token as used, or raise :class:`DashboardTokenError` (used)."""
        now = time.monotonic()
        with self._lock:
            # Forget ids older than a token can live: they are refused as expired anyway.
            for token_id, redeemed_at in list(self._redeemed.items()):
                if now - redeemed_at > self.max_age + 60:
                    del self._redeemed[token_id]
            if grant.token_id in self._redeemed:
                raise DashboardTokenError(USED, grant.survey)
            self._redeemed[grant.token_id] = now
