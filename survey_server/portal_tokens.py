"""The portal's signed values: the session cookie with the CSRF tokens derived from
it, and the reference a CSV preview's confirm form carries.

All are signed with itsdangerous under the server's secret key, each with its own salt
(never Bottle's pickling ``secret=`` cookies), and each carries only ids, never a path
or anything a user could change.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

SESSION_IDLE = timedelta(minutes=60)
SESSION_MAX = timedelta(hours=12)
LOGIN_FORM_AGE = timedelta(hours=2)
MAX_COOKIE_LENGTH = 1000
# A recipient CSV waits this long between its preview and the confirmation.
UPLOAD_AGE = timedelta(hours=1)
UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.csv")
MAX_REFERENCE_LENGTH = 4000  # a 200-character Japanese name, JSON-escaped and signed


@dataclass(frozen=True)
class SessionClaims:
    """A session cookie's content: ids, the user's session generation when it was
    issued (a raised generation ends it) and when it began (epoch seconds)."""

    user_id: int
    tenant_id: int
    session_id: str
    generation: int = 0
    issued_at: int = 0


class PortalSessions:
    """Signs and reads the portal's cookies and derives their CSRF tokens.

    >>> sessions = PortalSessions("a secret key of some length")
    >>> claims = sessions.read(sessions.issue(3, 1, generation=2))
    >>> (claims.user_id, claims.tenant_id, claims.generation)
    (3, 1, 2)
    >>> sessions.read(sessions.renew(claims)).session_id == claims.session_id
    True
    >>> sessions.csrf_matches(claims.session_id, sessions.csrf_token(claims.session_id))
    True
    >>> sessions.read("tampered" + sessions.issue(3, 1)) is None
    True
    """

    def __init__(
        self, secret_key: str, *, idle: timedelta = SESSION_IDLE,
        absolute: timedelta = SESSION_MAX,
    ) -> None:
        self._sessions = URLSafeTimedSerializer(secret_key, salt="cxlab.portal-session")
        self._login_forms = URLSafeTimedSerializer(secret_key, salt="cxlab.portal-login")
        self._csrf_key = hmac.new(
            secret_key.encode(), b"cxlab.portal-csrf", hashlib.sha256
        ).digest()
        self.idle = idle
        self.absolute = absolute

    def issue(self, user_id: int, tenant_id: int, *, generation: int = 0) -> str:
        """A new session's cookie value: a new random id, begun now."""
        return self._dump(SessionClaims(
            user_id, tenant_id, secrets.token_urlsafe(24), generation, int(time.time())))

    def renew(self, claims: SessionClaims) -> str:
        """The same session signed afresh (its idle time restarts; its start stays)."""
        return self._dump(claims)

    def _dump(self, claims: SessionClaims) -> str:
        return self._sessions.dumps({
            "u": claims.user_id, "t": claims.tenant_id, "s": claims.session_id,
            "g": claims.generation, "i": claims.issued_at,
        })

    def read(self, value: str | None) -> SessionClaims | None:
        """The claims of a genuine session cookie used within the idle time and begun
        within the absolute lifetime, else None. (Whether the user's generation still
        matches is the caller's check: it needs the database.)"""
        claims = self._loads(self._sessions, value, self.idle)
        if not isinstance(claims, dict):
            return None
        user_id, tenant_id, session_id = claims.get("u"), claims.get("t"), claims.get("s")
        generation, issued_at = claims.get("g"), claims.get("i")
        if not (isinstance(user_id, int) and isinstance(tenant_id, int)
                and isinstance(session_id, str) and session_id
                and isinstance(generation, int) and isinstance(issued_at, int)):
            return None
        if time.time() - issued_at > self.absolute.total_seconds():
            return None
        return SessionClaims(user_id, tenant_id, session_id, generation, issued_at)

    def issue_login_form(self) -> tuple[str, str]:
        """A pre-session cookie value and the id its login form's token derives from."""
        form_id = secrets.token_urlsafe(24)
        return self._login_forms.dumps(form_id), form_id

    def read_login_form(self, value: str | None) -> str | None:
        form_id = self._loads(self._login_forms, value, LOGIN_FORM_AGE)
        return form_id if isinstance(form_id, str) and form_id else None

    def csrf_token(self, bound_to: str) -> str:
        return hmac.new(self._csrf_key, bound_to.encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, bound_to: str | None, token: str | None) -> bool:
        if not bound_to or not token:
            return False
        return hmac.compare_digest(self.csrf_token(bound_to), token)

    @staticmethod
    def _loads(serializer: URLSafeTimedSerializer, value: str | None, age: timedelta) -> Any:
        if not value or len(value) > MAX_COOKIE_LENGTH:
            return None
        try:
            return serializer.loads(value, max_age=int(age.total_seconds()))
        except (BadData, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class UploadReference:
    """What a preview's confirmation may create: the tenant, the stored file's name,
    the survey, the distribution's name and its reminder delay."""

    tenant_id: int
    file_name: str
    survey_id: int
    name: str
    reminder_after_days: int | None


class UploadReferences:
    """Signs the confirm form's reference to an uploaded recipient file, so the form
    names no path and nothing a user could change.

    >>> references = UploadReferences("a secret key of some length")
    >>> value = references.issue(1, "0" * 32 + ".csv", 2, "May", None)
    >>> references.read(value).file_name == "0" * 32 + ".csv"
    True
    >>> references.read(value[:-2] + "xx") is None
    True
    """

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="cxlab.portal-upload")

    def issue(self, tenant_id: int, file_name: str, survey_id: int, name: str,
              reminder_after_days: int | None) -> str:
        return self._serializer.dumps(
            {"t": tenant_id, "f": file_name, "s": survey_id, "n": name,
             "r": reminder_after_days})

    def read(self, value: str) -> UploadReference | None:
        if not value or len(value) > MAX_REFERENCE_LENGTH:
            return None
        try:
            claims = self._serializer.loads(value, max_age=int(UPLOAD_AGE.total_seconds()))
            reference = UploadReference(claims["t"], claims["f"], claims["s"], claims["n"],
                                        claims["r"])
        except (BadData, TypeError, ValueError, KeyError):
            return None
        if not (isinstance(reference.tenant_id, int) and isinstance(reference.survey_id, int)
                and isinstance(reference.file_name, str)
                and UPLOAD_NAME.fullmatch(reference.file_name)):
            return None
        return reference
