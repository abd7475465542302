"""Real HTTP servers on loopback for the demo sites: one threaded server per site, started
together and shut down together, open keep-alive connections included.

Owns sockets, threads and the HTTP/1.1 framing (standard library http.server). Must not
know any site's pages: each server hands requests to an App (web.py).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from rempart.demo_site.web import App, Request, Response, SiteUrls, answer

__all__ = ["serve_apps"]

_log = logging.getLogger(__name__)
AccessLog = Callable[[str], None]


class _SiteServer(ThreadingHTTPServer):
    """A threaded HTTP server that remembers its open connections, so that closing it also
    closes idle keep-alive connections and joins every handler thread."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], access_log: AccessLog | None) -> None:
        super().__init__(address, _Handler)
        self.app: App | None = None
        self.access_log = access_log
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is ordinary (a crawler stopping early); log it
        quietly instead of printing a traceback on the demo's console."""
        _log.debug("connection from %s ended abruptly", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a crawler reuses its connections
    server_version = "DemoSite/1"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds
    # Headers and body leave in two writes; with Nagle's algorithm the body would wait for
    # the client's delayed ACK (40 ms a response on Linux).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        server = cast(_SiteServer, self.server)
        request = Request.parse(
            self.path,
            if_none_match=self.headers.get("If-None-Match"),
            if_modified_since=self.headers.get("If-Modified-Since"),
        )
        response = self._answer(server, request)
        self.send_response(response.status)
        for name, value in response.headers():
            self.send_header(name, value)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if send_body and response.status != 304:
            self.wfile.write(response.body)

    def _answer(self, server: _SiteServer, request: Request) -> Response:
        if server.app is None:
            return Response(503, b"starting", content_type="text/plain")
        try:
            return answer(server.app, request)
        except Exception:
            _log.exception("demo site failed on %s", request.path)
            return Response(500, b"internal error", content_type="text/plain")

    def log_message(self, format: str, *args: Any) -> None:
        access_log = cast(_SiteServer, self.server).access_log
        if access_log is not None:
            access_log(f"{self.address_string()} {format % args}")


@contextmanager
def serve_apps(
    make_apps: Callable[[SiteUrls], Sequence[App]],
    *,
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] = (0, 0, 0),
    access_log: AccessLog | None = None,
) -> Iterator[SiteUrls]:
    """Serve the forum, image host and mirror apps that `make_apps` builds for the URLs the
    three servers got (port 0: any free port). All three share `host`, each on its own port:
    scheme, host and port make an origin, so they are three sites to a crawler and to the
    takedown part alike. Everything is closed on leaving the block."""
    servers: list[_SiteServer] = []
    threads: list[threading.Thread] = []
    try:
        servers.extend(_SiteServer((host, port), access_log) for port in ports)
        urls = SiteUrls(*(server.origin for server in servers))
        for server, app in zip(servers, make_apps(urls), strict=True):
            server.app = app
        for server, name in zip(servers, ("forum", "imagehost", "mirror"), strict=True):
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"demo-site-{name}",
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        yield urls
    finally:
        for server, _ in zip(servers, threads, strict=False):
            server.shutdown()
        for server in servers:
            server.close_connections()
            server.server_close()
        for thread in threads:
            thread.join()
