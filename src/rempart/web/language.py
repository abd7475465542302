"""Which language a request is answered in: the `lang` cookie (set by the language switch),
else the browser's Accept-Language, else the service's default. Pure."""

from __future__ import annotations

from rempart.i18n import LANGUAGES

__all__ = ["COOKIE", "choose"]

COOKIE = "rempart_lang"


def choose(cookie: str | None, accept_language: str | None, default: str) -> str:
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        lang = tag.strip().lower()[:2]
        if lang in LANGUAGES and weight > 0:
            ranked.append((-weight, position, lang))
    return min(ranked)[2] if ranked else default
