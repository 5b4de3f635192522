"""Secrets: password hashing (argon2) and tenant-scoped API keys.

API keys look like ``cx_<prefix>_<secret>``. Only a SHA-256 of the whole key is stored
(the key is 256 random bits, so a fast hash is safe; argon2 would make every API call
slow). The prefix is kept in clear to find the row and to show in lists.

>>> key = new_api_key()
>>> key.plaintext.startswith("cx_" + key.prefix + "_")
True
>>> verify_password(hash_password("correct horse"), "correct horse")
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_password_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    plaintext: str
    key_hash: str


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check of a password against its argon2 hash."""
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters"
    return None


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(4)
    plaintext = f"cx_{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(prefix=prefix, plaintext=plaintext, key_hash=hash_api_key(plaintext))


def hash_api_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_key_prefix(plaintext: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != "cx" or len(parts[1]) != 8:
        return None
    return parts[1]


def api_key_matches(plaintext: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(plaintext), key_hash)
