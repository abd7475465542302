"""Who calls the match API, remembered briefly so that a request does not read the store:
the tokens this process accepted (by their SHA-256, never the secret) and the list of banks,
each read again at most every `fresh_s` seconds.

A revoked token, a narrowed scope or a new bank therefore takes effect within `fresh_s` (half
a second by default) in every process; an expiry takes effect at its moment, from the memory.
A refused token is never remembered: each refusal goes to the store, and is logged there.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rempart.accounts.policy import Principal
from rempart.accounts.tokens import BankRow, ScopedBanks, authenticate_token, bank_rows, scope_of
from rempart.clock import Clock
from rempart.store.database import Database

__all__ = ["Callers"]

_MAX_TOKENS = 10_000  # remembered at once; beyond, the memory starts afresh


@dataclass(frozen=True, slots=True)
class _Accepted:
    principal: Principal
    expires_at: datetime | None
    read_at: float  # monotonic seconds


class Callers:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        fresh_s: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db, self._clock, self._fresh, self._now = db, clock, fresh_s, monotonic
        self._tokens: dict[str, _Accepted] = {}
        self._banks: tuple[float, list[BankRow]] | None = None
        self._lock = threading.Lock()

    def principal(self, secret: str | None, *, action: str, client: str) -> Principal:
        """The token's Principal; AccessError (logged) when it is missing, unknown, expired or
        revoked."""
        key = hashlib.sha256(secret.encode()).hexdigest() if secret else ""
        known = self._tokens.get(key) if key else None
        if (
            known is not None
            and self._now() - known.read_at < self._fresh
            and (known.expires_at is None or self._clock() < known.expires_at)
        ):
            return known.principal
        self._tokens.pop(key, None)
        principal, expires_at = authenticate_token(
            self._db, secret, action=action, client=client, clock=self._clock
        )
        if self._fresh > 0:
            if len(self._tokens) >= _MAX_TOKENS:
                self._tokens.clear()
            self._tokens[key] = _Accepted(principal, expires_at, self._now())
        return principal

    def scope(self, principal: Principal) -> ScopedBanks:
        """The banks `principal` may see, from the list of banks read at most `fresh_s` ago."""
        cached = self._banks
        if cached is None or self._now() - cached[0] >= self._fresh:
            with self._lock:
                cached = self._banks
                if cached is None or self._now() - cached[0] >= self._fresh:
                    cached = (self._now(), bank_rows(self._db))
                    self._banks = cached
        return scope_of(cached[1], principal)
