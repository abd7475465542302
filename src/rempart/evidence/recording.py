"""What the browser did during one capture: every request it made and the answer it got, as
Playwright and Chromium's DevTools protocol report them, and the TLS facts of each origin.

Owns the listeners on a capture's context and page and the collection of answers (headers,
bodies, certificates) once the page has settled. Must not decide what a capture keeps
(capture.py) nor write any file (warc.py).
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, CDPSession, Error, Page, Request, Response

from rempart.clock import Clock

__all__ = ["Exchange", "FailedRequest", "PageRecorder", "TlsOrigin", "host_port", "origin_of"]

Headers = tuple[tuple[str, str], ...]
# Chromium keeps response bodies for DevTools in per-session buffers. Playwright's session
# keeps the bodies this module reads; the recorder's own session needs none.
_NO_BODIES = {"maxTotalBufferSize": 1, "maxResourceBufferSize": 1}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the browser sent and the answer it got, headers as the browser reported
    them. `body` is the body as the browser handed it over, after content decoding; it is
    None where the browser kept none (`body_missing` says why: a redirect, a resource it
    streamed, a limit)."""

    url: str
    method: str
    resource_type: str  # Playwright's: document, stylesheet, image, media, script...
    started_at: datetime
    request_headers: Headers
    request_body: bytes = field(repr=False)
    status: int
    status_text: str
    response_headers: Headers
    body: bytes | None = field(repr=False)
    body_missing: str | None = None
    protocol: str | None = None  # "http/1.1", "h2"... as Chromium reported it
    redirected_to: str | None = None
    main_document: bool = False  # a navigation of the page's main frame (redirects included)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class FailedRequest:
    """A request that got no answer: refused by the relay, failed, aborted or unfinished."""

    url: str
    resource_type: str
    started_at: datetime
    error: str
    main_document: bool = False


@dataclass(frozen=True, slots=True)
class TlsOrigin:
    """What Chromium saw of one HTTPS origin's TLS: the connection's parameters, the
    certificate chain the server sent (PEM, leaf first) and whether Chromium trusted it."""

    origin: str
    protocol: str | None
    cipher: str | None
    key_exchange_group: str | None
    subject: str | None
    issuer: str | None
    san: tuple[str, ...]
    valid_from: datetime | None
    valid_to: datetime | None
    trusted: bool | None  # None: Chromium said neither
    error: str | None  # Chromium's certificate error, e.g. net::ERR_CERT_AUTHORITY_INVALID
    chain_pem: tuple[str, ...]


def host_port(url: str) -> tuple[str, int]:
    """The host and port `url` connects to (the scheme's default port when none given)."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class PageRecorder:
    """Listens to one capture's context and page from before the first request.

    Requests are counted as they start; past `max_requests`, `on_limit` is called once and
    later requests are left out of the record. Answers are read afterwards (`exchanges`),
    while the context is still open, as Chromium keeps bodies only as long as the page.
    """

    def __init__(
        self,
        context: BrowserContext,
        page: Page,
        *,
        clock: Clock,
        max_requests: int,
        on_limit: Callable[[], None],
    ) -> None:
        self._clock = clock
        self._max_requests = max_requests
        self._on_limit = on_limit
        self._page = page
        self._requests: list[Request] = []
        self._started: dict[Request, datetime] = {}
        self._finished: set[Request] = set()
        self._failed: dict[Request, str] = {}
        self.limit_reached = False
        self._protocols: dict[str, str] = {}
        self._security: dict[str, dict[str, Any]] = {}
        self._page_certificate_error: str | None = None
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_finished)
        context.on("requestfailed", self._on_failed)
        self._cdp: CDPSession = context.new_cdp_session(page)
        self._cdp.on("Network.responseReceived", self._on_response)
        self._cdp.on("Security.visibleSecurityStateChanged", self._on_security_state)
        self._cdp.send("Network.enable", _NO_BODIES)
        self._cdp.send("Security.enable")

    @property
    def in_flight(self) -> int:
        """Requests started and neither answered nor failed yet."""
        return len(self._requests) - len(self._finished) - len(self._failed)

    def failed_main_documents(self) -> list[Request]:
        """The page's own requests (redirects included) that got no answer so far."""
        return [r for r in self._failed if self._is_main_document(r)]

    # -- listeners: they only note what happened (Playwright runs them between its calls)

    def _on_request(self, request: Request) -> None:
        if len(self._requests) >= self._max_requests:
            if not self.limit_reached:
                self.limit_reached = True
                self._on_limit()
            return
        self._requests.append(request)
        self._started[request] = self._clock()

    def _on_finished(self, request: Request) -> None:
        if request in self._started:
            self._finished.add(request)

    def _on_failed(self, request: Request) -> None:
        if request in self._started:
            self._failed[request] = request.failure or "failed"

    def _on_response(self, event: dict[str, Any]) -> None:
        response = event.get("response", {})
        url = str(response.get("url", ""))
        if response.get("protocol"):
            self._protocols[url] = str(response["protocol"])
        details = response.get("securityDetails")
        if details and origin_of(url) not in self._security:
            self._security[origin_of(url)] = {**details, "state": response.get("securityState")}

    def _on_security_state(self, event: dict[str, Any]) -> None:
        state = event.get("visibleSecurityState", {}).get("certificateSecurityState") or {}
        if state.get("certificateNetworkError"):
            self._page_certificate_error = str(state["certificateNetworkError"])

    # -- reading the answers

    def exchanges(
        self, *, max_body_bytes: int
    ) -> tuple[tuple[Exchange, ...], tuple[FailedRequest, ...]]:
        """Every recorded request, answered or not, in the order they started. Bodies are
        kept up to `max_body_bytes` in all; past it they are left out (`body_missing`)."""
        answered: list[Exchange] = []
        unanswered: list[FailedRequest] = []
        room = max_body_bytes
        for request in self._requests:
            main = self._is_main_document(request)
            started = self._started[request]
            finished = request in self._finished
            # Never waits: a response still on its way would hold the capture up.
            response = None if request in self._failed else request.existing_response
            if response is None:
                error = self._failed.get(request) or (
                    "no response" if finished else "unfinished when the capture ended"
                )
                unanswered.append(
                    FailedRequest(request.url, request.resource_type, started, error, main)
                )
                continue
            exchange = self._exchange(request, response, started, main, room, finished)
            room -= len(exchange.body or b"")
            answered.append(exchange)
        return tuple(answered), tuple(unanswered)

    def tls(self, origins: Iterable[str], *, page_origin: str) -> tuple[TlsOrigin, ...]:
        """The TLS facts of each HTTPS origin in `origins`. Chromium names a certificate
        error for the page's own origin (`page_origin`); for others it says only whether
        the certificate was trusted."""
        return tuple(
            _tls_origin(
                origin,
                self._security.get(origin, {}),
                self._chain(origin),
                self._page_certificate_error if origin == page_origin else None,
            )
            for origin in dict.fromkeys(origins)
            if origin.startswith("https:")
        )

    def _chain(self, origin: str) -> tuple[str, ...]:
        try:
            answer = self._cdp.send("Network.getCertificate", {"origin": origin})
        except Error:
            return ()
        return tuple(
            ssl.DER_cert_to_PEM_cert(base64.b64decode(der)) for der in answer.get("tableNames", [])
        )

    def _is_main_document(self, request: Request) -> bool:
        if not request.is_navigation_request():
            return False
        try:
            return request.frame == self._page.main_frame
        except Error:
            return False

    def _exchange(
        self,
        request: Request,
        response: Response,
        started: datetime,
        main: bool,
        room: int,
        finished: bool,
    ) -> Exchange:
        redirected_to = request.redirected_to.url if request.redirected_to else None
        body: bytes | None = None
        missing: str | None = None
        if not finished:
            missing = "unfinished when the capture ended"
        elif redirected_to is not None:
            missing = "redirect: the browser keeps no body for it"
        else:
            try:
                body = response.body()
            except Error as exc:
                missing = f"not kept by the browser ({_first_line(exc.message)})"
            if body is not None and len(body) > room:
                body, missing = None, "capture byte limit reached"
        if finished:  # the headers as sent on the wire, once Chromium has them all
            request_headers = _headers(request.headers_array())
            response_headers = _headers(response.headers_array())
        else:
            request_headers = _headers(_pairs(request.headers))
            response_headers = _headers(_pairs(response.headers))
        return Exchange(
            url=request.url,
            method=request.method,
            resource_type=request.resource_type,
            started_at=started,
            request_headers=request_headers,
            request_body=request.post_data_buffer or b"",
            status=int(response.status),
            status_text=str(response.status_text),
            response_headers=response_headers,
            body=body,
            body_missing=missing,
            protocol=self._protocols.get(request.url),
            redirected_to=redirected_to,
            main_document=main,
        )


def _pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _headers(pairs: list[Any]) -> Headers:
    """Header pairs, with any line break removed: they are written into WARC records."""
    return tuple((_one_line(str(pair["name"])), _one_line(str(pair["value"]))) for pair in pairs)


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def _tls_origin(
    origin: str, details: dict[str, Any], chain: tuple[str, ...], page_error: str | None
) -> TlsOrigin:
    state = details.get("state")
    trusted = {"secure": True, "insecure": False, "insecure-broken": False}.get(str(state))
    error = page_error
    if error is None and trusted is False:
        error = "certificate not trusted by Chromium"
    return TlsOrigin(
        origin=origin,
        protocol=details.get("protocol"),
        cipher=details.get("cipher"),
        key_exchange_group=details.get("keyExchangeGroup") or None,
        subject=details.get("subjectName") or None,
        issuer=details.get("issuer") or None,
        san=tuple(str(name) for name in details.get("sanList", [])),
        valid_from=_epoch(details.get("validFrom")),
        valid_to=_epoch(details.get("validTo")),
        trusted=False if page_error else trusted,
        error=error,
        chain_pem=chain,
    )


def _epoch(seconds: Any) -> datetime | None:
    if not isinstance(seconds, int | float):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _first_line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else "unknown error"
