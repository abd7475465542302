"""The guarded relay: a forwarding proxy on 127.0.0.1 that one capture's browser context goes
through, so that every connection the browser opens passes Rempart's address guard.

Owns the resolution of names for the browser (answers recorded), the address check (the very
check `Fetcher` applies, from rempart.fetch), the connection to the checked address, and the
byte and connection limits of a capture. Must not alter what passes through: plain-HTTP
requests are forwarded as sent (hop-by-hop headers aside) and HTTPS is tunnelled (CONNECT),
never decrypted, so the browser sees the server's own certificate.

One capture, one relay: it listens on its own port, its log holds that capture's traffic only,
and leaving the `with` block closes every connection it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from types import TracebackType
from urllib.parse import urlsplit

from rempart.fetch import (
    AddressGuard,
    FetchError,
    FetchFailure,
    FetchPolicy,
    Resolver,
    system_resolver,
)
from rempart.i18n import Phrase

__all__ = ["DnsAnswer", "GuardedRelay", "RelayConnection", "RelayReport"]

_HEAD_LIMIT = 64 * 1024  # request or response head, as a browser or server sends it
_CHUNK = 64 * 1024
# Hop-by-hop headers (RFC 9110, 7.6.1) and the proxy's own: never forwarded.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """What the resolver said for one host name: its addresses in order, or why none."""

    host: str
    addresses: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RelayConnection:
    """One connection the browser asked for: a plain-HTTP request (`url` set, one connection
    each) or an HTTPS tunnel (`url` None: its content is encrypted). `refused` says why the
    relay would not connect (address guard, port, limit); `error` why the server could not
    be reached; `address` is the server address actually connected to."""

    kind: str  # "http" or "tunnel"
    host: str
    port: int
    url: str | None
    address: str | None = None
    status: int | None = None  # the HTTP status of a plain-HTTP answer
    bytes_received: int = 0
    refused: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RelayReport:
    """Everything the relay saw, in order: DNS answers and connections."""

    proxy: str
    dns: tuple[DnsAnswer, ...]
    connections: tuple[RelayConnection, ...]
    bytes_received: int
    limit_reached: str | None  # "bytes", "connections" or a reason given to refuse_new

    def refusals(self) -> tuple[RelayConnection, ...]:
        return tuple(c for c in self.connections if c.refused)

    def addresses(self, host: str, port: int) -> tuple[str, ...]:
        """The server addresses connected to for `host`:`port`, first use first."""
        found = (
            c.address
            for c in self.connections
            if c.host == host and c.port == port and c.address is not None
        )
        return tuple(dict.fromkeys(found))


class _NoConnection(Exception):
    """The relay refused or failed to connect; the reason is recorded in the log."""


@dataclass(slots=True)
class _Entry:
    """A connection being handled; frozen into a RelayConnection for the report."""

    record: RelayConnection


@dataclass(slots=True)
class _State:
    dns: list[DnsAnswer] = field(default_factory=list)  # each distinct answer, first first
    entries: list[_Entry] = field(default_factory=list)
    bytes_received: int = 0
    limit_reached: str | None = None


class GuardedRelay:
    """A forwarding proxy for one capture, listening on 127.0.0.1 in a thread of its own.

    Each name is resolved by the relay (`resolver`), every answer checked by the address
    guard under `policy` (private, loopback, link-local... refused unless the policy's
    `allow_networks` hold them; a name with one refused answer is refused), and the
    connection made to a checked address. Ports outside the policy are refused. Once more
    than `max_bytes` came from servers, every connection is closed and new ones refused;
    past `max_connections`, new ones are refused (`limit_reached` says which limit).

    `refuse_all=True` makes a relay that connects nowhere: the browser-wide proxy, so that
    traffic outside a capture's context cannot leave the machine either.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver = system_resolver,
        max_bytes: int = 200 * 1024 * 1024,
        max_connections: int = 1000,
        refuse_all: bool = False,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._guard = AddressGuard.of(policy, self._recording_resolver)
        self._max_bytes = max_bytes
        self._max_connections = max_connections
        self._refuse_all = refuse_all
        self._state = _State()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="rempart-relay", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._port = 0

    # -- life cycle (caller's thread)

    def __enter__(self) -> GuardedRelay:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()
        started: Future[int] = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._port = started.result(timeout=10)

    def close(self) -> None:
        """Stop listening, close every connection and end the relay's thread."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                shutdown = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
                shutdown.result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()

    @property
    def proxy_server(self) -> str:
        """What the browser is told to use, e.g. "http://127.0.0.1:40123"."""
        return f"http://127.0.0.1:{self._port}"

    def refuse_new(self, reason: str) -> None:
        """Refuse every new connection from now on (a capture limit was reached elsewhere);
        connections already open go on."""
        with self._lock:
            self._state.limit_reached = self._state.limit_reached or reason

    @property
    def limit_reached(self) -> str | None:
        with self._lock:
            return self._state.limit_reached

    def report(self) -> RelayReport:
        with self._lock:
            state = self._state
            return RelayReport(
                proxy=self.proxy_server,
                dns=tuple(state.dns),
                connections=tuple(e.record for e in state.entries),
                bytes_received=state.bytes_received,
                limit_reached=state.limit_reached,
            )

    # -- the loop's thread

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._serve, host="127.0.0.1", port=0, limit=_HEAD_LIMIT
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # a client or server that hung up or spoke nonsense: nothing to answer
        except asyncio.CancelledError:
            pass  # the relay closed the connection (capture over, limit reached)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(
            reader.readuntil(b"\r\n\r\n"), timeout=self._policy.read_timeout_s
        )
        request = _Head.parse(head)
        if request.method == b"CONNECT":
            await self._tunnel(request, reader, writer)
        else:
            await self._forward(request, reader, writer)

    async def _tunnel(
        self, request: _Head, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, port = _authority(request.target.decode("ascii"))
        entry = self._begin(RelayConnection("tunnel", host, port, None))
        try:
            up_reader, up_writer = await self._open(entry, host, port, f"https://{host}:{port}")
        except _NoConnection:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        try:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await self._relay(entry, reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()

    async def _forward(
        self, request: _Head, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        url = request.target.decode("ascii")
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            return  # a proxy is asked for absolute http:// URLs only; anything else: hang up
        host, port = parts.hostname, parts.port or 80
        entry = self._begin(RelayConnection("http", host, port, url))
        try:
            up_reader, up_writer = await self._open(entry, host, port, url)
        except _NoConnection:
            return  # no answer at all: the page sees a failed request, not a server's reply
        try:
            body = await _request_body(request, reader, self._max_bytes)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            up_writer.write(request.forwarded(path.encode("ascii"), body))
            await up_writer.drain()
            try:
                head = await asyncio.wait_for(
                    up_reader.readuntil(b"\r\n\r\n"), timeout=self._policy.read_timeout_s
                )
            except TimeoutError:
                waited = f"{self._policy.read_timeout_s:g}"
                self._update(entry, error=Phrase("no answer within {seconds} s", seconds=waited))
                return
            answer = _Head.parse(head)
            self._update(entry, status=answer.status)
            if not self._received(entry, len(answer.raw)):
                return
            writer.write(answer.closing())
            await writer.drain()
            await self._relay(entry, reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()

    async def _open(
        self, entry: _Entry, host: str, port: int, url: str
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to a checked address of `host`, or _NoConnection (recorded)."""
        why = self._refusal(port)
        if why is None:
            try:
                addresses = await asyncio.get_running_loop().run_in_executor(
                    None, self._guard.checked_addresses, host, port, url
                )
            except FetchError as exc:
                if exc.reason is FetchFailure.REFUSED_PORT:
                    why = Phrase("port {port} not allowed", port=port)
                elif exc.reason is FetchFailure.REFUSED_ADDRESS:
                    why = exc.detail
                else:
                    self._update(entry, error=exc.detail or exc.reason.value)
                    raise _NoConnection(exc.detail) from None
        if why is not None:
            self._update(entry, refused=why)
            raise _NoConnection(why)
        failure = "no address"
        for address in addresses:
            try:
                opened = await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=_HEAD_LIMIT),
                    timeout=self._policy.connect_timeout_s,
                )
            except (OSError, TimeoutError) as exc:
                failure = f"{address}: {exc.__class__.__name__} {exc}".strip()
                continue
            self._update(entry, address=address)
            return opened
        self._update(entry, error=failure)
        raise _NoConnection(failure)

    def _refusal(self, port: int) -> str | None:
        """Why a connection is refused (a Phrase: English in the capture, any language shown)."""
        if self._refuse_all:
            return Phrase("no capture in progress")
        with self._lock:
            if self._state.limit_reached:
                return Phrase("capture limit reached ({limit})", limit=self._state.limit_reached)
            if len(self._state.entries) > self._max_connections:
                self._state.limit_reached = "connections"
                return Phrase("capture limit reached ({limit})", limit="connections")
        if not self._policy.any_port and port not in self._policy.allowed_ports:
            return Phrase("port {port} not allowed", port=port)
        return None

    async def _relay(
        self,
        entry: _Entry,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        server_reader: asyncio.StreamReader,
        server_writer: asyncio.StreamWriter,
    ) -> None:
        """Copy bytes both ways until either side closes or a limit is reached."""
        outbound = asyncio.ensure_future(_pipe(client_reader, server_writer, None))
        inbound = asyncio.ensure_future(
            _pipe(server_reader, client_writer, lambda n: self._received(entry, n))
        )
        try:
            await asyncio.wait({outbound, inbound}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (outbound, inbound):
                task.cancel()
            await asyncio.gather(outbound, inbound, return_exceptions=True)

    # -- the log

    def _recording_resolver(self, host: str, port: int) -> Sequence[str]:
        try:
            answers = list(self._resolver(host, port))
        except (OSError, UnicodeError) as exc:
            self._note_dns(DnsAnswer(host, (), f"{exc.__class__.__name__}: {exc}"))
            raise
        self._note_dns(DnsAnswer(host, tuple(answers)))
        return answers

    def _note_dns(self, answer: DnsAnswer) -> None:
        with self._lock:
            if answer not in self._state.dns:
                self._state.dns.append(answer)

    def _begin(self, record: RelayConnection) -> _Entry:
        entry = _Entry(record)
        with self._lock:
            self._state.entries.append(entry)
        return entry

    def _update(self, entry: _Entry, **changes: object) -> None:
        with self._lock:
            entry.record = replace(entry.record, **changes)  # type: ignore[arg-type]

    def _received(self, entry: _Entry, count: int) -> bool:
        """Count bytes from a server; False once the capture's byte limit is passed."""
        with self._lock:
            entry.record = replace(entry.record, bytes_received=entry.record.bytes_received + count)
            self._state.bytes_received += count
            over = self._state.bytes_received > self._max_bytes
            if over:
                self._state.limit_reached = self._state.limit_reached or "bytes"
        if over:
            self._loop.call_soon(self._cut_all)
        return not over

    def _cut_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()


async def _pipe(
    source: asyncio.StreamReader,
    sink: asyncio.StreamWriter,
    count: Callable[[int], bool] | None,
) -> None:
    while True:
        chunk = await source.read(_CHUNK)
        if not chunk:
            return
        if count is not None and not count(len(chunk)):
            return
        sink.write(chunk)
        await sink.drain()


async def _request_body(request: _Head, reader: asyncio.StreamReader, cap: int) -> bytes:
    """A request's body, framed by Content-Length (browsers frame uploads so through a
    proxy); a chunked upload is not relayed."""
    if request.header(b"transfer-encoding"):
        raise ValueError("chunked request bodies are not relayed")
    declared = request.header(b"content-length") or b"0"
    length = int(declared)
    if length < 0 or length > cap:
        raise ValueError("request body too large")
    return await reader.readexactly(length) if length else b""


def _authority(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"bad CONNECT target {target[:100]!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class _Head:
    """The start line and headers of a request or response, as bytes."""

    raw: bytes = field(repr=False)
    start: tuple[bytes, ...] = field(repr=False)
    headers: tuple[tuple[bytes, bytes], ...] = field(repr=False)  # cookies, tokens

    @classmethod
    def parse(cls, raw: bytes) -> _Head:
        lines = raw.split(b"\r\n")
        start = tuple(lines[0].split(b" ", 2))
        if len(start) < 2:
            raise ValueError("bad start line")
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(b":")
            if not sep or not name.strip():
                raise ValueError("bad header line")
            headers.append((name.strip(), value.strip()))
        return cls(raw, start, tuple(headers))

    @property
    def method(self) -> bytes:
        return self.start[0]

    @property
    def target(self) -> bytes:
        return self.start[1]

    @property
    def status(self) -> int:
        return int(self.start[1])

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def _end_to_end(self) -> list[tuple[bytes, bytes]]:
        listed = {
            token.strip().lower()
            for value in (v for k, v in self.headers if k.lower() == b"connection")
            for token in value.split(b",")
        }
        return [
            (k, v)
            for k, v in self.headers
            if k.lower() not in _HOP_BY_HOP and k.lower() not in listed
        ]

    def forwarded(self, path: bytes, body: bytes) -> bytes:
        """The request as sent to the server: origin-form target, one request a
        connection (so each connection's server address belongs to one URL)."""
        lines = [b" ".join((self.method, path, b"HTTP/1.1"))]
        lines += [k + b": " + v for k, v in self._end_to_end()]
        if body:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    def closing(self) -> bytes:
        """The response head as passed to the browser: the server's own, but for the
        connection, which the relay closes after this answer."""
        kept = [
            (k, v)
            for k, v in self.headers
            if k.lower() not in {b"connection", b"keep-alive", b"proxy-connection"}
        ]
        lines = [b" ".join(self.start)] + [k + b": " + v for k, v in kept]
        lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n"
