"""HTTP as the demo sites' pages see it: a parsed request in, a response out, with validators
(ETag, Last-Modified) and 304 Not Modified answers to conditional requests.

Owns the request and response values, the three sites' base URLs, and the rules of
conditional GET. Must not open sockets (servers.py) or know any site's pages.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import MappingProxyType
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "App",
    "Request",
    "Response",
    "SiteUrls",
    "answer",
    "esc",
    "html_page",
    "iso_time",
    "not_found",
    "redirect",
    "text",
]

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class SiteUrls:
    """Where the three sites are served, each as scheme://host:port without a final slash."""

    forum: str
    imagehost: str
    mirror: str


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    query: Mapping[str, str]  # the first value of each parameter
    if_none_match: str | None = None
    if_modified_since: str | None = None

    @classmethod
    def parse(
        cls,
        target: str,
        *,
        if_none_match: str | None = None,
        if_modified_since: str | None = None,
    ) -> Request:
        """From a request target ("/board/x?page=2") and its conditional headers."""
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        return cls(parts.path or "/", MappingProxyType(query), if_none_match, if_modified_since)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = field(repr=False)
    content_type: str = HTML
    last_modified: datetime | None = None
    location: str | None = None
    cache_control: str = "no-cache"
    etag: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        found = [("Content-Type", self.content_type), ("Cache-Control", self.cache_control)]
        if self.etag is not None:
            found.append(("ETag", self.etag))
        if self.last_modified is not None:
            found.append(("Last-Modified", format_datetime(self.last_modified, usegmt=True)))
        if self.location is not None:
            found.append(("Location", self.location))
        return found


class App(Protocol):
    """One site: answers a request. Implementations must be safe to call from many threads."""

    def handle(self, request: Request) -> Response: ...


def answer(app: App, request: Request) -> Response:
    """The app's response with its ETag set, or 304 when the client's copy is current."""
    response = app.handle(request)
    if response.status != 200:
        return response
    tagged = replace(response, etag=f'"{hashlib.sha256(response.body).hexdigest()[:20]}"')
    if _not_modified(request, tagged):
        return replace(tagged, status=304, body=b"")
    return tagged


def _not_modified(request: Request, response: Response) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if request.if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in request.if_none_match.split(",")}
        return "*" in tags or response.etag in tags
    if request.if_modified_since is None or response.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(request.if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return response.last_modified.replace(microsecond=0) <= since


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def html_page(markup: str, last_modified: datetime | None = None, status: int = 200) -> Response:
    return Response(status, markup.encode(), last_modified=last_modified)


def text(body: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(200, body.encode(), content_type=content_type, cache_control="max-age=3600")


def redirect(location: str, status: int = 301) -> Response:
    return Response(status, b"", location=location)


def not_found(message: str = "Not found", status: int = 404) -> Response:
    body = f"<!DOCTYPE html><html><body><h1>{status}</h1><p>{esc(message)}</p></body></html>"
    return Response(status, body.encode())
