"""What every response goes through, outermost: security headers (CSP with no inline code,
no framing, no referrer, nosniff, HSTS over TLS, no-store), the request size limit, the rate
limit, and a generic error page instead of any stack trace.

An ASGI wrapper around the application, so that even a crash inside it is answered with the
same headers. Decides nothing about accounts.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rempart.i18n import gettext
from rempart.web.language import COOKIE, choose
from rempart.web.ratelimit import Buckets

__all__ = ["CSP", "Guard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("rempart.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
# Responses whose headers the guard sets itself (the application's are replaced).
_OWNED = {name for name, _ in _ALWAYS} | {b"cache-control", _HSTS[0]}
_API_PREFIXES = ("/api/", "/m/")
# Pages that send their own, stricter policy: the victim's offline page runs its inline
# script (by digest) and its WebAssembly kernel, and may connect nowhere at all.
_OWN_CSP = frozenset({"/intake"})


class _TooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    for part in (_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def client_key(scope: Scope) -> str:
    """Whose bucket a request spends: its API token's (hashed), else its address's."""
    auth = _header(scope, b"authorization") or ""
    if auth.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:32]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "-")


class Guard:
    def __init__(self, app: ASGIApp, *, max_body: int, buckets: Buckets, language: str) -> None:
        self.app, self.max_body, self.buckets, self.language = app, max_body, buckets, language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        secure = scope.get("scheme") == "https"
        lang = choose(_cookie(scope, COOKIE), _header(scope, b"accept-language"), self.language)
        started = False
        too_large = False  # the body went over the limit: whatever the app answers, 413

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                await reply(413, gettext("The request is too large.", lang=lang))
            if too_large:
                return
            if message["type"] == "http.response.start":
                started = True
                given = message.get("headers", [])
                headers = [(k, v) for k, v in given if k not in _OWNED]
                own = [(k, v) for k, v in given if k == b"content-security-policy"]
                if path in _OWN_CSP and own:
                    headers.extend(own[:1])
                    headers.extend(h for h in _ALWAYS if h[0] != b"content-security-policy")
                else:
                    headers.extend(_ALWAYS)
                if secure:
                    headers.append(_HSTS)
                cache = b"public, max-age=3600" if path.startswith("/static/") else b"no-store"
                headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        async def reply(
            status: int, text: str, extra: tuple[tuple[bytes, bytes], ...] = ()
        ) -> None:
            nonlocal started
            started = True
            if path.startswith(_API_PREFIXES):
                body = json.dumps({"message": text}).encode()
                kind = b"application/json"
            else:
                body = _page(status, text, lang).encode()
                kind = b"text/html; charset=utf-8"
            headers = [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                *extra,
                *_ALWAYS,
                (b"cache-control", b"no-store"),
            ]
            if secure:
                headers.append(_HSTS)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await reply(413, gettext("The request is too large.", lang=lang))
            return
        if not self.buckets.allow(client_key(scope)):
            retry = str(self.buckets.retry_after()).encode()
            await reply(
                429,
                gettext("Too many requests: slow down and try again.", lang=lang),
                ((b"retry-after", retry),),
            )
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:  # the app let it through: nothing sent yet, the 413 goes now
            if not started:
                await reply(413, gettext("The request is too large.", lang=lang))
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if not started:
                await reply(500, gettext("Something went wrong on our side.", lang=lang))


def _page(status: int, text: str, lang: str) -> str:
    """A bare error page (the application's templates may be what failed)."""
    from html import escape

    title = gettext("Rempart", lang=lang)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="/static/rempart.css"><title>{escape(title)}</title>'
        f'</head><body><main class="narrow"><h1>{status}</h1><p>{escape(text)}</p>'
        "</main></body></html>"
    )
