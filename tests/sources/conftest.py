"""Real HTTP servers on 127.0.0.1 for the fetch and web-source tests, and an in-memory state.

Each `LoopbackSite` is a threaded stdlib server on its own port, named like `forum.test`; the
test fetchers resolve `*.test` names to 127.0.0.1 (the one network they are allowed), so a
test can stage a forum and its image host as two sites. Nothing here leaves the machine.

Tests reach everything through fixtures and `LoopbackSite.route/reply`; they import names
from here only for type annotations, as a conftest is not an importable module.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rempart.fetch import Fetcher, FetchPolicy, Resolver, system_resolver
from rempart.sources.base import Validators

LOOPBACK = FetchPolicy(
    allow_networks=("127.0.0.1/32",),
    any_port=True,
    per_host_interval_s=0.0,
    per_host_concurrency=8,
    # guards against a hang only, with room for a loaded machine (time-out tests set their own)
    connect_timeout_s=20.0,
    read_timeout_s=20.0,
    total_timeout_s=60.0,
    contact_url="https://rempart.test/contact",
)


def loopback_resolver(host: str, port: int) -> list[str]:
    """`*.test` names live on loopback; `localhost` and numeric forms go to the machine's
    resolver (its hosts file, no query sent); any other name is unknown: tests ask no DNS."""
    if host.endswith(".test"):
        return ["127.0.0.1"]
    if host == "localhost" or host.replace(".", "").isdigit():
        return list(system_resolver(host, port))
    raise socket.gaierror(socket.EAI_NONAME, f"{host} is unknown in tests")


@dataclass(frozen=True)
class Seen:
    """One request a site received."""

    path: str
    headers: Mapping[str, str]  # lower-case names
    at: float


@dataclass
class Reply:
    """What a site answers. An ETag or Last-Modified in `headers` makes the site answer a
    matching conditional request with 304, as a real server does."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float | None = None  # send the body a byte at a time, this many seconds apart
    delay_s: float = 0.0  # wait this long before answering
    length: bool = True  # False: no Content-Length, the body ends when the connection closes


Route = Reply | Callable[[Seen], Reply]


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (as refused or timed-out fetches do) are no error here."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class LoopbackSite:
    """A threaded HTTP/1.1 server on 127.0.0.1 answering from a route table."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: dict[str, Route] = {}
        self.fallback: Callable[[Seen], Reply] | None = None
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{self.name}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, path: str, answer: Route | bytes = b"", **options: Any) -> str:
        """Serve `path` (with or without its query): bytes and `Reply` options, a Reply, or a
        function of the request giving one. Returns the path's full URL."""
        self.routes[path] = Reply(answer, **options) if isinstance(answer, bytes) else answer
        return self.url(path)

    @staticmethod
    def reply(body: bytes = b"", **options: Any) -> Reply:
        return Reply(body, **options)

    def hits(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, seen: Seen) -> Reply:
        route = self.routes.get(seen.path) or self.routes.get(seen.path.split("?", 1)[0])
        if route is None:
            route = self.fallback or Reply(b"not found", 404)
        reply = route(seen) if callable(route) else route
        return _conditional(reply, seen)

    def enter(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _conditional(reply: Reply, seen: Seen) -> Reply:
    validators = Validators(reply.headers.get("ETag"), reply.headers.get("Last-Modified"))
    etag_hit = validators.etag and seen.headers.get("if-none-match") == validators.etag
    date_hit = (
        validators.last_modified
        and seen.headers.get("if-modified-since") == validators.last_modified
    )
    if reply.status == 200 and (etag_hit or date_hit):
        return Reply(b"", 304, dict(reply.headers))
    return reply


def _handler_for(site: LoopbackSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.path, headers, time.monotonic())
            site.enter(seen)
            try:
                self._send(site.answer(seen))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                site.leave()

        def _send(self, reply: Reply) -> None:
            if reply.delay_s:
                time.sleep(reply.delay_s)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if not reply.length:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif "Content-Length" not in reply.headers:
                body_length = 0 if reply.status == 304 else len(reply.body)
                self.send_header("Content-Length", str(body_length))
            self.end_headers()
            if reply.status == 304:
                return
            if reply.trickle_s is None:
                self.wfile.write(reply.body)
                return
            for i in range(len(reply.body)):
                self.wfile.write(reply.body[i : i + 1])
                self.wfile.flush()
                time.sleep(reply.trickle_s)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def resolver() -> Resolver:
    """Names `*.test` on loopback, as the test fetchers do."""
    return loopback_resolver


@pytest.fixture
def make_site() -> Iterator[Callable[[str], LoopbackSite]]:
    """Starts loopback sites by name (`forum.test`, `img.test`...); all stop after the test."""
    sites: list[LoopbackSite] = []

    def start(name: str = "site.test") -> LoopbackSite:
        site = LoopbackSite(name)
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.close()


@pytest.fixture
def site(make_site: Callable[[str], LoopbackSite]) -> LoopbackSite:
    return make_site("site.test")


@pytest.fixture
def make_fetcher() -> Iterator[Callable[..., Fetcher]]:
    """Fetchers allowed on 127.0.0.1 only, resolving `*.test` there; `**changes` adjust
    the policy, `fetcher_options` go to the Fetcher itself."""
    fetchers: list[Fetcher] = []

    def build(fetcher_options: dict[str, Any] | None = None, **changes: Any) -> Fetcher:
        from dataclasses import replace

        options: dict[str, Any] = {"resolver": loopback_resolver, **(fetcher_options or {})}
        fetcher = Fetcher(replace(LOOPBACK, **changes), **options)
        fetchers.append(fetcher)
        return fetcher

    yield build
    for fetcher in fetchers:
        fetcher.close()


@pytest.fixture
def fetcher(make_fetcher: Callable[..., Fetcher]) -> Fetcher:
    return make_fetcher()


class MemoryState:
    """The pipeline's durable state, in memory: what was handled and the saved validators.

    `handle` is what the pipeline does with each candidate; tests call it on what a scan
    yields, so a second scan sees the first one's work."""

    def __init__(self) -> None:
        self.handled: set[str] = set()
        self.saved: dict[str, Validators] = {}
        self.asked: list[str] = []

    def seen(self, key: str) -> bool:
        self.asked.append(key)
        return key in self.handled

    def validators(self, url: str) -> Validators | None:
        return self.saved.get(url)

    def save_validators(self, url: str, validators: Validators) -> None:
        self.saved[url] = validators

    def handle(self, key: str) -> None:
        self.handled.add(key)


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()
