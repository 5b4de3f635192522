"""The signed values in respondent pages: the form nonce and the resume link token.

Both are signed with itsdangerous under the server's secret key, each with its own
salt, so one can never be passed off as the other. Neither needs a cookie.

>>> tokens = FormTokens("a secret key of some length", resume_days=14)
>>> nonce = tokens.nonce(7, "abc")
>>> tokens.key_from_nonce(7, nonce)
'abc'
>>> tokens.key_from_nonce(8, nonce) is None   # bound to its survey
True
"""

from __future__ import annotations

import secrets

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer


class FormTokens:
    """Signs and checks the idempotency key carried by a respondent's form."""

    def __init__(self, secret_key: str, *, resume_days: int) -> None:
        self._nonces = URLSafeSerializer(secret_key, salt="cxlab.form-nonce")
        self._resume = URLSafeTimedSerializer(secret_key, salt="cxlab.resume-link")
        self.resume_seconds = resume_days * 86_400

    @staticmethod
    def new_key(prefix: str = "form-") -> str:
        """A fresh idempotency key for one respondent's answers (an open survey's, or
        with ``prefix="inv-"`` an unlinked invitation's)."""
        return prefix + secrets.token_urlsafe(18)

    def nonce(self, survey_id: int, key: str) -> str:
        """The hidden form field that names ``key``; submitting twice reuses it."""
        return self._nonces.dumps([survey_id, key])

    def key_from_nonce(self, survey_id: int, nonce: str | None) -> str | None:
        """The key a genuine nonce of ``survey_id`` carries, else None."""
        return self._loads(self._nonces.loads, survey_id, nonce)

    def resume_token(self, survey_id: int, key: str) -> str:
        """The ``?resume=`` value of an open survey's resume link."""
        return self._resume.dumps([survey_id, key])

    def key_from_resume_token(self, survey_id: int, token: str | None) -> str | None:
        """The key of a genuine, unexpired resume token of ``survey_id``, else None."""
        return self._loads(self._resume.loads, survey_id, token, max_age=self.resume_seconds)

    @staticmethod
    def _loads(loads, survey_id: int, value: str | None, **options) -> str | None:
        if not value or len(value) > 500:
            return None
        try:
            signed_survey, key = loads(value, **options)
        except (BadData, TypeError, ValueError):
            return None
        if signed_survey != survey_id or not isinstance(key, str):
            return None
        return key
