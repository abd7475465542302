"""The only way out to the network: one guarded HTTP client (`Fetcher`) for every request.

Owns the SSRF guard (addresses checked after DNS, the connection made to the very address
checked, every redirect hop re-checked), size, time and decompression limits, per-host
politeness, retries, conditional requests, cookies, proxies and content sniffing.
Must not parse pages or keep bodies, and lets nothing but FetchError escape a fetch.

How a fetch runs: the URL is checked (scheme, credentials, port); the per-host gate waits
for a free slot and the host's minimum interval; httpx builds the request (cookies, headers)
and hands it to `_PinnedTransport`, whose network backend resolves the name, refuses any
address outside the policy and connects to the checked address itself, so the name is never
resolved twice. Every socket read and write is bounded by the fetch's total deadline.
Redirects are followed here, hop by hop, never by httpx.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import importlib
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, cast
from urllib.parse import urljoin

import httpcore
import httpx

from rempart import __version__
from rempart.errors import InputError, RempartError
from rempart.hashing.sniff import SNIFF_BYTES, sniff_media
from rempart.i18n import N_, gettext

__all__ = [
    "AddressGuard",
    "CookieSpec",
    "FetchError",
    "FetchFailure",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "Resolver",
    "Validators",
    "address_refusal",
    "load_cookies_txt",
    "site_key",
    "sniff_type",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""Maps (host name, port) to IP address strings; raises OSError when the name is unknown."""
CookieSpec = http.cookiejar.CookieJar | Mapping[str, Mapping[str, str]]
"""A cookie jar (e.g. from `load_cookies_txt`), or {site domain: {cookie name: value}}."""

_KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "content-disposition",
        "etag",
        "last-modified",
        "date",
        "server",
        "location",
        "retry-after",
        "x-robots-tag",
    }
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 503})


# ------------------------------------------------------------------------------------ errors


class FetchFailure(StrEnum):
    """Why a fetch failed; stable English values, fit for logs and stored Problem reasons,
    and message ids of the catalog (shown translated)."""

    BAD_URL = N_("bad url")
    REFUSED_ADDRESS = N_("refused address")
    REFUSED_PORT = N_("refused port")
    DNS = N_("name not resolved")
    CONNECT = N_("connection failed")
    CONNECTION = N_("connection broken")
    PROXY = N_("proxy failed")
    TIMEOUT = N_("timeout")
    TOO_LARGE = N_("too large")
    DECODING = N_("bad content encoding")
    TOO_MANY_REDIRECTS = N_("too many redirects")
    REDIRECT_LOOP = N_("redirect loop")
    HTTP_STATUS = N_("http error")


_TRANSIENT = frozenset(
    {
        FetchFailure.DNS,
        FetchFailure.CONNECT,
        FetchFailure.CONNECTION,
        FetchFailure.PROXY,
        FetchFailure.TIMEOUT,
    }
)


class FetchError(RempartError):
    """A fetch that did not give a usable answer: refused, too large, too slow, an HTTP error."""

    def __init__(
        self, reason: FetchFailure, url: str, detail: str = "", *, status: int | None = None
    ) -> None:
        self.reason = reason
        self.url = url
        self.detail = detail
        self.status = status
        if detail:
            super().__init__(N_("{reason}: {detail}"), reason=reason.value, detail=detail)
        else:
            super().__init__(N_("{reason}"), reason=reason.value)

    def localized(self, lang: str | None = None) -> str:
        """The reason in `lang` (the reason code translated), with its technical detail."""
        reason = gettext(self.reason.value, lang=lang)
        if self.detail:
            return gettext("{reason}: {detail}", lang=lang, reason=reason, detail=self.detail)
        return reason

    @property
    def transient(self) -> bool:
        """True when trying again later may succeed (timeouts, 5xx, 429, broken connections)."""
        if self.reason is FetchFailure.HTTP_STATUS:
            return self.status is not None and (self.status >= 500 or self.status == 429)
        return self.reason in _TRANSIENT


# ------------------------------------------------------------------------- policy and result


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators of a page, to re-fetch it only when it changed."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits and manners of one Fetcher. The defaults suit the open web; tests and loopback
    benchmarks widen `allow_networks` and ports explicitly."""

    allow_networks: Sequence[str] = ()  # e.g. ("127.0.0.1/32",): the only exceptions to the guard
    allowed_ports: frozenset[int] = frozenset({80, 443})
    any_port: bool = False
    max_body_bytes: int = 25 * 1024 * 1024
    max_url_length: int = 4096
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0
    max_redirects: int = 5
    per_host_concurrency: int = 4
    per_host_interval_s: float = 0.25
    max_connections: int = 64
    max_retries: int = 2
    backoff_s: float = 1.0
    max_retry_after_s: float = 60.0
    contact_url: str = ""  # shown in the User-Agent, so site operators can reach the operator

    def __post_init__(self) -> None:
        for network in self.allow_networks:
            ipaddress.ip_network(network, strict=False)  # ValueError for a typo, at the edge
        numbers = (
            self.max_body_bytes,
            self.max_url_length,
            self.per_host_concurrency,
            self.max_connections,
        )
        if min(numbers) < 1:
            raise ValueError("sizes, lengths and concurrency limits must be at least 1")
        if min(self.connect_timeout_s, self.read_timeout_s, self.total_timeout_s) <= 0:
            raise ValueError("timeouts must be positive")
        if min(self.max_redirects, self.max_retries) < 0 or self.per_host_interval_s < 0:
            raise ValueError("redirect, retry and interval limits cannot be negative")

    @property
    def user_agent(self) -> str:
        contact = f" (+{self.contact_url})" if self.contact_url else ""
        return f"Rempart/{__version__}{contact}"

    def networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.allow_networks)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One answer: a 2xx with its (decoded, size-capped) body, or a 304 with no body."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    headers: Mapping[str, str]  # a subset: type, length, validators, date, server...
    body: bytes = field(repr=False)
    sniffed_type: str | None  # from the body's first bytes; None when not recognised
    declared_type: str | None  # the Content-Type header's media type, for reference
    validators: Validators = field(default_factory=Validators)
    redirects: tuple[str, ...] = ()  # the URLs that answered with a redirect, in order

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        """What the body is: the sniffed type when recognised, else what the server said."""
        return self.sniffed_type or self.declared_type


# ----------------------------------------------------------------------------- address guard


def address_refusal(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why connecting to `address` is refused, or None when it is public (or allowed).

    IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by the
    IPv4 address they carry as well.
    """
    allowed = tuple(allowed)
    inner = _embedded_ipv4(address)
    if any(a in net for net in allowed for a in (address, *inner)):
        return None
    for candidate in (address, *inner):
        why = _unroutable(candidate)
        if why:
            return why if candidate is address else f"{why} (embedded {candidate})"
    return None


def _embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return tuple(found)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _unroutable(address: IPAddress) -> str | None:
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally routable", not address.is_global),
    )
    return next((f"{name} address {address}" for name, hit in checks if hit), None)


def system_resolver(host: str, port: int) -> Sequence[str]:
    """The machine's resolver (getaddrinfo), addresses in its order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressGuard:
    """Resolves a host name and returns its addresses only when every one of them is allowed:
    a name with one public and one private address is refused, as DNS rebinding looks so.

    Ports: `allowed_ports` everywhere; with `any_port`, any port too, but only on the allowed
    networks (a loopback test site), never on a public address."""

    def __init__(
        self,
        networks: tuple[IPNetwork, ...],
        resolver: Resolver,
        *,
        allowed_ports: frozenset[int] | None = None,
        any_port: bool = False,
    ) -> None:
        self._networks = networks
        self._resolver = resolver
        self._allowed_ports = allowed_ports
        self._any_port = any_port

    @classmethod
    def of(cls, policy: FetchPolicy, resolver: Resolver) -> AddressGuard:
        """The guard that enforces `policy`'s networks and ports."""
        return cls(
            policy.networks(),
            resolver,
            allowed_ports=policy.allowed_ports,
            any_port=policy.any_port,
        )

    def checked_addresses(self, host: str, port: int, url: str) -> list[str]:
        literal = _ip_literal(host)
        if literal is not None:
            self.check(literal, url)
            self.check_port([literal], port, url)
            return [str(literal)]
        try:
            names = list(self._resolver(host, port))
        except (OSError, UnicodeError) as exc:
            raise FetchError(FetchFailure.DNS, url, f"{host}: {exc}") from None
        if not names:
            raise FetchError(FetchFailure.DNS, url, f"{host}: no address")
        addresses = [ipaddress.ip_address(name.split("%", 1)[0]) for name in names]
        for address in addresses:
            self.check(address, url, host)
        self.check_port(addresses, port, url)
        return [str(address) for address in addresses]

    def port_open_everywhere(self, port: int) -> bool:
        """Whether `port` may be reached on any public address (no address needed to say)."""
        return self._allowed_ports is None or port in self._allowed_ports

    def check_port(self, addresses: Sequence[IPAddress], port: int, url: str) -> None:
        """Refuses `port` unless it is allowed everywhere, or `any_port` holds and every one
        of `addresses` lies in an allowed network."""
        if self.port_open_everywhere(port):
            return
        if self._any_port and addresses and all(self._in_networks(a) for a in addresses):
            return
        raise FetchError(FetchFailure.REFUSED_PORT, url, f"port {port}")

    def _in_networks(self, address: IPAddress) -> bool:
        inner = _embedded_ipv4(address)
        return any(a in net for net in self._networks for a in (address, *inner))

    def check(self, address: IPAddress, url: str, host: str | None = None) -> None:
        why = address_refusal(address, self._networks)
        if why:
            named = f"{host} resolves to {why}" if host else why
            raise FetchError(FetchFailure.REFUSED_ADDRESS, url, named)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


# ------------------------------------------------------------ network backend and transport

# The deadline of the fetch running in this thread (time.monotonic), read by every socket
# operation: a server trickling bytes cannot stretch a fetch past it, headers included.
_DEADLINE: ContextVar[float | None] = ContextVar("rempart_fetch_deadline", default=None)


def _bounded(timeout: float | None, late: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise late("total deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """Connects where asked (used for an operator-configured proxy), under the deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedBackend(_DeadlineBackend):
    """Resolves the name itself, refuses what the policy refuses, and connects to the very
    address it checked (TLS still verifies and sends the name, which httpcore passes on)."""

    def __init__(self, guard: AddressGuard) -> None:
        super().__init__()
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        where = f"//{host}:{port}"
        failure: httpcore.ConnectError | None = None
        for address in self._guard.checked_addresses(host, port, where):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"cannot connect to {host}")


_CORE_FAILURES: tuple[tuple[type[Exception], FetchFailure], ...] = (
    (httpcore.TimeoutException, FetchFailure.TIMEOUT),
    (httpcore.ProxyError, FetchFailure.PROXY),
    (httpcore.ConnectError, FetchFailure.CONNECT),
    (httpcore.NetworkError, FetchFailure.CONNECTION),
    (httpcore.ProtocolError, FetchFailure.CONNECTION),
    (httpcore.UnsupportedProtocol, FetchFailure.BAD_URL),
)


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """httpcore's exceptions, as FetchError (ours pass through untouched)."""
    try:
        yield
    except FetchError as exc:  # the guard names host:port only; say which URL it refused
        raise FetchError(exc.reason, url, exc.detail, status=exc.status) from None
    except Exception as exc:
        for kind, reason in _CORE_FAILURES:
            if isinstance(exc, kind):
                raise FetchError(reason, url, str(exc) or type(exc).__name__) from None
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes], url: str) -> None:
        self._inner = inner
        self._url = url

    def __iter__(self) -> Iterator[bytes]:
        with _translated(self._url):
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class _PinnedTransport(httpx.BaseTransport):
    """httpx's request, sent through an httpcore pool whose backend pins checked addresses."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self._pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=cast(Iterable[bytes], request.stream),
            extensions=request.extensions,
        )
        with _translated(str(request.url)):
            core_response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(cast(Iterable[bytes], core_response.stream), str(request.url)),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


def _pool(
    policy: FetchPolicy, guard: AddressGuard, proxy: str | None, ssl_context: ssl.SSLContext
) -> httpcore.ConnectionPool:
    common: dict[str, Any] = {"max_connections": policy.max_connections, "keepalive_expiry": 5.0}
    if proxy is None:
        return httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=_GuardedBackend(guard), **common
        )
    parsed = httpx.URL(proxy)
    auth = (parsed.username, parsed.password) if parsed.username else None
    bare = parsed.copy_with(username=None, password=None)
    if parsed.scheme in {"socks5", "socks5h"}:
        return httpcore.SOCKSProxy(
            proxy_url=str(bare.copy_with(scheme="socks5")),
            proxy_auth=auth,
            ssl_context=ssl_context,
            network_backend=_DeadlineBackend(),
            **common,
        )
    if parsed.scheme in {"http", "https"}:
        return httpcore.HTTPProxy(
            proxy_url=str(bare),
            proxy_auth=auth,
            ssl_context=ssl_context,
            network_backend=_DeadlineBackend(),
            **common,
        )
    raise ValueError(f"unsupported proxy scheme {parsed.scheme!r}: use http, https or socks5")


# --------------------------------------------------------------------------------- politeness


class _HostGate:
    """At most `concurrency` requests in flight to one host, and request starts to one host
    spaced by at least `interval` seconds. A host is a name with its port when the URL gives
    one (`site_key`): two servers on one address, on two ports, are two sites."""

    def __init__(
        self,
        concurrency: int,
        interval: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._concurrency = concurrency
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self._concurrency))
        with slot:
            self._wait_interval(host)
            yield

    def _wait_interval(self, host: str) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self._interval
        if start > now:
            self._sleep(start - now)


def site_key(host: str, port: int | None) -> str:
    """One site's key for politeness and per-site limits: its host name, with `:port` when
    the URL names a port (an IPv6 address in brackets). No port: the scheme's default, one
    site for http and https alike."""
    name = host.lower().rstrip(".")
    if port is None:
        return name
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


# ------------------------------------------------------------------------- bounded decoding


class _Decoder(Protocol):
    def feed(self, data: bytes, room: int) -> bytes:
        """Decoded bytes of `data`; returns `room` bytes or more only when the cap is hit."""
        ...

    def flush(self) -> bytes: ...


class _Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Inflate:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it), output capped."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._zlib = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, room)
        self._started = True
        return out

    def flush(self) -> bytes:
        return self._zlib.flush()


class _Unbrotli:
    def __init__(self, module: Any) -> None:
        self._brotli = module.Decompressor()

    def feed(self, data: bytes, room: int) -> bytes:
        out = bytes(self._brotli.process(data, output_buffer_limit=room))
        while len(out) < room and not self._brotli.can_accept_more_data():
            out += self._brotli.process(b"", output_buffer_limit=room - len(out))
        return out

    def flush(self) -> bytes:
        return b""


def _brotli_module() -> Any:
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        return None
    # Only a Decompressor that can cap its output (brotli >= 1.2) is safe against bombs.
    return module if hasattr(module.Decompressor, "can_accept_more_data") else None


_BROTLI = _brotli_module()
_ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"


def _decoder(encoding: str, url: str) -> _Decoder:
    name = encoding.strip().lower()
    if name in {"", "identity"}:
        return _Identity()
    if name in {"gzip", "x-gzip"}:
        return _Inflate(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _Inflate(zlib.MAX_WBITS)
    if name == "br" and _BROTLI is not None:
        return _Unbrotli(_BROTLI)
    raise FetchError(FetchFailure.DECODING, url, f"unsupported content-encoding {encoding!r}")


def _read_body(response: httpx.Response, url: str, cap: int) -> bytes:
    """The decoded body, refusing more than `cap` bytes on the wire or once decoded."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(FetchFailure.TOO_LARGE, url, f"Content-Length {declared} > {cap}")
    encoding = response.headers.get("content-encoding", "")
    decoder = _decoder(encoding, url)
    body = bytearray()
    received = 0
    try:
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > cap:
                raise FetchError(FetchFailure.TOO_LARGE, url, f"more than {cap} bytes")
            body += decoder.feed(chunk, cap - len(body) + 1)
            _check_decoded(body, cap, url, encoding)
        body += decoder.flush()
    except zlib.error as exc:
        raise FetchError(FetchFailure.DECODING, url, f"{encoding}: {exc}") from None
    except Exception as exc:
        if _BROTLI is not None and isinstance(exc, _BROTLI.error):
            raise FetchError(FetchFailure.DECODING, url, f"{encoding}: {exc}") from None
        raise
    _check_decoded(body, cap, url, encoding)
    return bytes(body)


def _check_decoded(body: bytearray, cap: int, url: str, encoding: str) -> None:
    if len(body) > cap:
        bomb = f" once decoded ({encoding})" if encoding else ""
        raise FetchError(FetchFailure.TOO_LARGE, url, f"more than {cap} bytes{bomb}")


# --------------------------------------------------------------------------------- sniffing

_HTML_STARTS = tuple(
    f"<{tag}".encode()
    for tag in (
        "!doctype html",
        "html",
        "head",
        "body",
        "script",
        "iframe",
        "h1",
        "div",
        "font",
        "table",
        "a",
        "style",
        "title",
        "b",
        "br",
        "p",
        "!--",
        "meta",
    )
)


def sniff_type(data: bytes) -> str | None:
    """The media type that the first bytes show (images, videos, HTML), or None."""
    return sniff_media(data[:SNIFF_BYTES]) or (
        "text/html" if _looks_like_html(data[:1024]) else None
    )


def _looks_like_html(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return any(
        text.startswith(start) and text[len(start) : len(start) + 1] in {b" ", b">", b"\t", b"\n"}
        for start in _HTML_STARTS
    )


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind or None


# ----------------------------------------------------------------------------------- cookies


def load_cookies_txt(path: str | Path) -> http.cookiejar.CookieJar:
    """A Netscape/Mozilla cookies.txt (as browser extensions export it). Expired cookies are
    dropped; an expiry of 0, which exporters write for session cookies, means none."""
    jar = http.cookiejar.MozillaCookieJar(str(path))
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, http.cookiejar.LoadError) as exc:
        raise InputError(
            "cannot read cookies file {name}: {error}", name=Path(path).name, error=str(exc)
        ) from None
    now = time.time()
    for cookie in list(jar):
        if cookie.expires == 0:
            cookie.expires = None
        elif cookie.expires is not None and cookie.expires < now:
            jar.clear(cookie.domain, cookie.path, cookie.name)
    return jar


def _cookie_jar(spec: CookieSpec | None) -> http.cookiejar.CookieJar:
    if isinstance(spec, http.cookiejar.CookieJar):
        return spec
    jar = http.cookiejar.CookieJar()
    for domain, cookies in (spec or {}).items():
        for name, value in cookies.items():
            jar.set_cookie(_site_cookie(domain.strip().lstrip(".").lower(), name, value))
    return jar


def _site_cookie(domain: str, name: str, value: str) -> http.cookiejar.Cookie:
    """A cookie sent to `domain` and its subdomains only, never to another site."""
    if not domain:
        raise ValueError("each cookie needs the domain of the site it belongs to")
    return http.cookiejar.Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain=domain,
        domain_specified=False,
        domain_initial_dot=False,
        path="/",
        path_specified=True,
        secure=False,
        expires=None,
        discard=True,
        comment=None,
        comment_url=None,
        rest={},
    )


# ----------------------------------------------------------------------------------- fetcher


class _RetryLater(Exception):
    def __init__(self, error: FetchError, retry_after: str | None) -> None:
        self.error = error
        self.retry_after = retry_after


# The Fetcher keeps its jar and applies it under a lock (httpx's jar is not safe to share
# between threads); an answer sets cookies only through these headers (http.cookiejar).
_SET_COOKIE = frozenset({"set-cookie", "set-cookie2"})
_KEEP_CHECKED = 256


class Fetcher:
    """The guarded HTTP client. Thread-safe: one instance serves a whole scan's threads.

    `cookies` are sent only to the sites they belong to; `proxy` is http(s):// or socks5://
    (names are then resolved by the proxy, after a local check). `ssl_context` replaces the
    default trust (certifi's CAs), e.g. for a private CA. `resolver`, `clock` and `sleep` are
    passed in so that tests can name hosts on loopback and skip real waits; `clock`/`sleep`
    drive politeness and retries, never socket deadlines.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        cookies: CookieSpec | None = None,
        proxy: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._guard = AddressGuard.of(self.policy, resolver)
        self._proxied = proxy is not None
        self._sleep = sleep
        self._gate = _HostGate(
            self.policy.per_host_concurrency, self.policy.per_host_interval_s, clock, sleep
        )
        self._cookies = httpx.Cookies(_cookie_jar(cookies))
        self._cookie_lock = threading.Lock()
        # Requests go to the transport as they are: no httpx.Client around it, whose per
        # request work (merging its defaults, its own cookie jar, redirects, logging) this
        # class does itself or does not need. The headers are those such a client sent.
        self._transport = _PinnedTransport(
            _pool(self.policy, self._guard, proxy, ssl_context or httpx.create_ssl_context())
        )
        self._headers = httpx.Headers(  # in the order such a client sent them
            {
                "Accept": "*/*",
                "Connection": "keep-alive",
                "User-Agent": self.policy.user_agent,
                "Accept-Encoding": _ACCEPT_ENCODING,
            }
        )
        self._timeouts = httpx.Timeout(
            self.policy.total_timeout_s,
            connect=self.policy.connect_timeout_s,
            read=self.policy.read_timeout_s,
        ).as_dict()
        self._checked_literals: set[tuple[str, int]] = set()  # IP literals the guard allowed
        self._closed = False

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._transport.close()

    def fetch(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        max_bytes: int | None = None,
        accept: str = "*/*",
        referer: str | None = None,
    ) -> FetchResult:
        """GET `url`, following redirects; conditional when `validators` are given (a 304
        comes back as a result with `not_modified`). Raises FetchError for anything else
        than a 2xx or 304, after retrying 429/503 as the server asks (within bounds)."""
        cap = min(max_bytes or self.policy.max_body_bytes, self.policy.max_body_bytes)
        headers = {"Accept": accept, **({"Referer": referer} if referer else {})}
        attempt = 0
        while True:
            try:
                return self._follow(url, headers, validators, cap)
            except _RetryLater as later:
                delay = self._retry_delay(later.retry_after, attempt)
                if delay is None or attempt >= self.policy.max_retries:
                    raise later.error from None
            self._sleep(delay)
            attempt += 1

    # -- one attempt: the redirect chain under one deadline

    def _follow(
        self,
        url: str,
        headers: dict[str, str],
        validators: Validators | None,
        cap: int,
    ) -> FetchResult:
        token = _DEADLINE.set(time.monotonic() + self.policy.total_timeout_s)
        try:
            current, hops = url, [url]
            while True:
                target = self._checked_url(current)
                conditional = _conditional_headers(validators) if current == url else {}
                result = self._hop(url, target, {**headers, **conditional}, validators, cap)
                if isinstance(result, FetchResult):
                    return replace(result, redirects=tuple(hops[:-1]))
                current = self._next_hop(current, result, hops)
        except httpx.HTTPError as exc:  # httpx's own checks, should any fire
            failure = FetchFailure.TIMEOUT if isinstance(exc, httpx.TimeoutException) else None
            raise FetchError(failure or FetchFailure.CONNECTION, url, str(exc)) from None
        finally:
            _DEADLINE.reset(token)

    def _next_hop(self, current: str, location: str, hops: list[str]) -> str:
        following = urljoin(current, location)
        if following in hops:
            raise FetchError(FetchFailure.REDIRECT_LOOP, hops[0], f"{current} -> {following}")
        if len(hops) > self.policy.max_redirects:
            raise FetchError(
                FetchFailure.TOO_MANY_REDIRECTS, hops[0], f"over {self.policy.max_redirects}"
            )
        hops.append(following)
        return following

    def _hop(
        self,
        url: str,
        target: httpx.URL,
        headers: dict[str, str],
        validators: Validators | None,
        cap: int,
    ) -> FetchResult | str:
        """One request: a result, or the Location to follow."""
        if self._closed:
            raise RuntimeError("this Fetcher is closed")
        with self._gate.turn(site_key(target.host, target.port)):
            sent = self._headers.copy()
            sent.update(headers)
            request = httpx.Request(
                "GET", target, headers=sent, extensions={"timeout": self._timeouts}
            )
            with self._cookie_lock:
                if next(iter(self._cookies.jar), None) is not None:  # an empty jar adds none
                    self._cookies.set_cookie_header(request)
            response = self._transport.handle_request(request)
            response.request = request
            try:
                if not _SET_COOKIE.isdisjoint(response.headers.keys()):  # else none to take
                    with self._cookie_lock:
                        self._cookies.extract_cookies(response)
                return self._answer(url, str(target), response, validators, cap)
            finally:
                response.close()

    def _answer(
        self,
        url: str,
        final_url: str,
        response: httpx.Response,
        validators: Validators | None,
        cap: int,
    ) -> FetchResult | str:
        status = response.status_code
        if status in _REDIRECTS and response.headers.get("location"):
            return response.headers["location"]
        if status in _RETRY_STATUSES:
            error = FetchError(FetchFailure.HTTP_STATUS, url, f"HTTP {status}", status=status)
            raise _RetryLater(error, response.headers.get("retry-after"))
        if status == 304:
            return _result(url, final_url, response, b"", validators)
        if not 200 <= status < 300:
            raise FetchError(FetchFailure.HTTP_STATUS, url, f"HTTP {status}", status=status)
        return _result(url, final_url, response, _read_body(response, url, cap), None)

    def _retry_delay(self, retry_after: str | None, attempt: int) -> float | None:
        """Seconds to wait before trying again: Retry-After when the server gives it (seconds
        or a date), else exponential backoff; None when the wait asked is beyond the policy."""
        if retry_after is None:
            return min(self.policy.backoff_s * 2.0**attempt, self.policy.max_retry_after_s)
        delay = _parse_retry_after(retry_after)
        if delay is None or delay > self.policy.max_retry_after_s:
            return None
        return max(delay, 0.0)

    def _checked_url(self, url: str) -> httpx.URL:
        if len(url) > self.policy.max_url_length:
            raise FetchError(FetchFailure.BAD_URL, url[:200], "URL too long")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise FetchError(FetchFailure.BAD_URL, url, str(exc)) from None
        if parsed.scheme not in {"http", "https"}:
            raise FetchError(FetchFailure.BAD_URL, url, f"scheme {parsed.scheme!r} not allowed")
        if parsed.userinfo:
            raise FetchError(FetchFailure.BAD_URL, url, "credentials in URL")
        if not parsed.host:
            raise FetchError(FetchFailure.BAD_URL, url, "no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if not self.policy.any_port and port not in self.policy.allowed_ports:
            raise FetchError(FetchFailure.REFUSED_PORT, url, f"port {port}")
        self._precheck_host(parsed.host, port, url)
        return parsed

    def _precheck_host(self, host: str, port: int, url: str) -> None:
        """Refuse early what needs no connection to refuse. Behind a proxy, which resolves
        names itself, this is the only check: a name this machine cannot resolve is left to
        the proxy (an onion service, a name only the proxy's network knows), on an allowed
        port only, as `any_port` holds only for addresses seen in the allowed networks."""
        literal = _ip_literal(host)
        if literal is not None:
            # a literal's verdict depends on it and the port only: an allowed one is asked once
            if (host, port) not in self._checked_literals:
                self._guard.checked_addresses(host, port, url)
                if len(self._checked_literals) < _KEEP_CHECKED:
                    self._checked_literals.add((host, port))
        elif self._proxied:
            try:
                self._guard.checked_addresses(host, port, url)
            except FetchError as exc:
                if exc.reason is not FetchFailure.DNS:
                    raise
                if not self._guard.port_open_everywhere(port):
                    raise FetchError(FetchFailure.REFUSED_PORT, url, f"port {port}") from None


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    if validators is None:
        return {}
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def _result(
    url: str,
    final_url: str,
    response: httpx.Response,
    body: bytes,
    asked: Validators | None,
) -> FetchResult:
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    validators = Validators(
        etag=headers.get("etag") or (asked.etag if asked else None),
        last_modified=headers.get("last-modified") or (asked.last_modified if asked else None),
    )
    return FetchResult(
        url=url,
        final_url=final_url,
        status=response.status_code,
        headers=MappingProxyType(headers),
        body=body,
        sniffed_type=sniff_type(body) if body else None,
        declared_type=_media_type(headers.get("content-type")),
        validators=validators,
    )
