"""The web service's settings: Rempart's own (`rempart.config.Settings`) plus how it faces
the network, read from REMPART_WEB_* variables. Pure parsing; built on demand, never at import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from rempart.accounts.policy import SessionRule
from rempart.config import ConfigError, Settings
from rempart.i18n import current_language

__all__ = ["WebSettings"]


def _int(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(
            "{key} must be a whole number from {low} to {high}, not {value!r}",
            key=key,
            low=low,
            high=high,
            value=raw,
        )
    return value


@dataclass(frozen=True, slots=True)
class WebSettings:
    """REMPART_WEB_SECURE_COOKIES: `auto` (Secure when the request came over TLS, as told by
    uvicorn: directly, or X-Forwarded-Proto from a proxy in REMPART_WEB_TRUSTED_PROXIES) or
    `always` (behind a TLS proxy whose headers are not forwarded). REMPART_WEB_MAX_BODY: the
    largest request body in bytes. REMPART_WEB_RATE and REMPART_WEB_BURST: requests per second
    and burst per client (address, or API token); 0 turns rate limiting off.
    REMPART_WEB_SESSION_IDLE_MIN / REMPART_WEB_SESSION_HOURS: session lifetimes.
    REMPART_WEB_FRESH_MS: how old, at most, what each process remembers for the match API
    may be (the banks' change log, the banks, an accepted token): an added item, a new bank
    or a revoked token takes effect within that time; 0 reads the store on every request."""

    core: Settings
    secure_cookies: str = "auto"
    trusted_proxies: str = "127.0.0.1"
    max_body: int = 1 << 20
    rate: float = 50.0
    burst: int = 100
    language: str = "en"
    sessions: SessionRule = field(default_factory=SessionRule)
    fresh_s: float = 0.5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if env is None else env
        secure = env.get("REMPART_WEB_SECURE_COOKIES", "auto").strip().lower() or "auto"
        if secure not in ("auto", "always"):
            raise ConfigError(
                "REMPART_WEB_SECURE_COOKIES must be auto or always, not {value!r}", value=secure
            )
        idle = _int(env, "REMPART_WEB_SESSION_IDLE_MIN", 30, 1, 24 * 60)
        hours = _int(env, "REMPART_WEB_SESSION_HOURS", 12, 1, 24 * 30)
        return cls(
            core=Settings.from_env(env),
            secure_cookies=secure,
            trusted_proxies=env.get("REMPART_WEB_TRUSTED_PROXIES", "127.0.0.1").strip(),
            max_body=_int(env, "REMPART_WEB_MAX_BODY", 1 << 20, 1024, 1 << 30),
            rate=_int(env, "REMPART_WEB_RATE", 50, 0, 1_000_000),
            burst=_int(env, "REMPART_WEB_BURST", 100, 1, 1_000_000),
            language=current_language(env),
            sessions=SessionRule(idle=timedelta(minutes=idle), absolute=timedelta(hours=hours)),
            fresh_s=_int(env, "REMPART_WEB_FRESH_MS", 500, 0, 60_000) / 1000,
        )
