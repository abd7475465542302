"""The arithmetic of secrets: argon2id password hashes, TOTP codes (RFC 6238), API tokens and
session ids (random, stored as SHA-256 only), and constant-time comparison.

Randomness and time are passed in where a test needs to fix them; no database, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "TOKEN_PREFIX",
    "Totp",
    "digest",
    "generated_password",
    "hash_password",
    "new_secret",
    "new_token",
    "password_needs_rehash",
    "same",
    "verify_password",
]

TOKEN_PREFIX = "rmp_"  # noqa: S105 - a marker, not a secret
# argon2id with the library's defaults (RFC 9106 "second recommended" profile).
_HASHER = PasswordHasher()
# A hash to verify against when the account does not exist: the same time is spent either way.
_DUMMY = _HASHER.hash("no such account, same cost")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: no account; still costs one verification)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def generated_password() -> str:
    """A password to hand over once: 20 characters, about 120 bits."""
    return secrets.token_urlsafe(15)


def new_token() -> str:
    """An API token or session id: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a token or session id: its SHA-256 (the secret is high-entropy, so a
    fast hash is enough and lookups stay one indexed query)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Totp:
    """A TOTP second factor (30-second steps, 6 digits, SHA-1: what authenticator apps read)."""

    secret: str  # base32

    @classmethod
    def new(cls) -> Totp:
        import pyotp

        return cls(pyotp.random_base32(32))

    def uri(self, account: str, issuer: str = "Rempart") -> str:
        import pyotp

        return pyotp.TOTP(self.secret).provisioning_uri(name=account, issuer_name=issuer)

    def code_at(self, unix_time: float) -> str:
        import pyotp

        return pyotp.TOTP(self.secret).at(int(unix_time))

    def step_of(self, code: str, unix_time: float, after_step: int) -> int | None:
        """The time step `code` belongs to (this step or the one either side, for clock
        drift), if it is later than `after_step` (a code is used once); else None."""
        import pyotp

        code = code.strip().replace(" ", "")
        if not (len(code) == 6 and code.isdigit()):
            return None
        totp = pyotp.TOTP(self.secret)
        now_step = int(unix_time) // totp.interval
        for step in (now_step - 1, now_step, now_step + 1):
            if step > after_step and same(totp.at(step * totp.interval), code):
                return step
        return None
