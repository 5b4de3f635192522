"""Short-lived signed tokens that open one tenant's dashboard in Voila.

The client portal issues one when a logged-in user clicks "Open dashboard"; Voila's
prelaunch hook verifies it before a kernel starts. A token names the tenant, the user,
the notebook and (optionally) the survey, and lives five minutes: long enough to load
the page, too short to be worth sharing.

>>> tokens = DashboardTokens("a secret key of some length")
>>> token = tokens.issue("acme", "ana@acme.example", "overview.ipynb", survey="store-visit")
>>> tokens.verify(token, "overview.ipynb").tenant
'acme'
>>> tokens.verify(token, "other.ipynb")
Traceback (most recent call last):
...
cxlab.dashboard_tokens.DashboardTokenError: this link is for another dashboard
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from cxlab.errors import CxlabError

DEFAULT_MAX_AGE_SECONDS = 300
MAX_TOKEN_LENGTH = 1000


class DashboardTokenError(CxlabError):
    """A dashboard token that must be refused; the message is safe to show."""


@dataclass(frozen=True)
class DashboardGrant:
    """What a valid token allows: ``user`` of ``tenant`` may open ``notebook``."""

    tenant: str
    user: str
    notebook: str
    survey: str | None


class DashboardTokens:
    def __init__(self, secret_key: str, *, max_age: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="cxlab.dashboard")
        self.max_age = max_age

    def issue(self, tenant: str, user: str, notebook: str, *, survey: str | None = None) -> str:
        return self._serializer.dumps(
            {"tenant": tenant, "user": user, "notebook": notebook, "survey": survey}
        )

    def verify(self, token: str | None, notebook: str) -> DashboardGrant:
        """The grant of a genuine, unexpired token for ``notebook``; else raise
        :class:`DashboardTokenError` saying why (missing, tampered, expired, other)."""
        if not token:
            raise DashboardTokenError("open dashboards from the client portal")
        if len(token) > MAX_TOKEN_LENGTH:
            raise DashboardTokenError("this dashboard link is not valid")
        try:
            claims = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise DashboardTokenError(
                "this dashboard link has expired: open it again from the portal"
            ) from None
        except BadSignature:
            raise DashboardTokenError("this dashboard link is not valid") from None
        if not isinstance(claims, dict) or not all(
            isinstance(claims.get(key), str) for key in ("tenant", "user", "notebook")
        ):
            raise DashboardTokenError("this dashboard link is not valid")
        if claims["notebook"] != notebook:
            raise DashboardTokenError("this link is for another dashboard")
        survey = claims.get("survey")
        return DashboardGrant(
            tenant=claims["tenant"], user=claims["user"], notebook=claims["notebook"],
            survey=survey if isinstance(survey, str) else None,
        )
