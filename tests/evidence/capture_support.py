"""Real servers on 127.0.0.1 for the capture tests: a small site whose answers each test
stages (pages, pictures, redirects, errors, answers that never come), over HTTP or HTTPS
(a trustme CA that Chromium does not trust), and the names and policy the captures use.

Nothing here leaves the machine: `*.test` names resolve to 127.0.0.1 through the capture's
own resolver, and every other name is unknown.
"""

from __future__ import annotations

import base64
import io
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from rempart.evidence.capture import CaptureLimits, Operator
from rempart.fetch import FetchPolicy
from rempart.samples import neutral_image

LOOPBACK = FetchPolicy(
    allow_networks=("127.0.0.1/32",),
    any_port=True,
    connect_timeout_s=2.0,
    read_timeout_s=5.0,
)
OPERATOR = Operator("Camille Martin", "Association Exemple")
# A page of 127.0.0.1 loads in well under a second; the page and screenshot limits here only
# guard against a hang, with room for a loaded machine (tests of the time-outs set their own).
FAST = CaptureLimits(page_timeout_s=30.0, settle_timeout_s=3.0, screenshot_timeout_s=60.0)


def loopback_resolver(host: str, port: int) -> list[str]:
    """`*.test` names live on 127.0.0.1; nothing else is known (tests ask no DNS)."""
    if host.endswith(".test"):
        return ["127.0.0.1"]
    raise socket.gaierror(socket.EAI_NONAME, f"{host} is unknown in tests")


def png_picture(seed: int, width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, width, height, style="shapes").save(buffer, "PNG")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


Answer = tuple[int, dict[str, str], bytes]
Handler = Callable[[str], Answer | None]  # None: never answer


@dataclass
class LoopbackSite:
    """One server; `route` stages an answer for a path (query included) and returns its
    URL. Unstaged paths answer 404. `seen` lists the paths asked, with their headers."""

    origin: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return self.origin + path

    def route(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        answer = (status, {"Content-Type": content_type, **(headers or {})}, body)
        self.handlers[path] = lambda _: answer
        return self.url(path)

    def handle(self, path: str, handler: Handler) -> str:
        self.handlers[path] = handler
        return self.url(path)

    def never_answer(self, path: str) -> str:
        return self.handle(path, lambda _: None)


def _handler_class(site: LoopbackSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            site.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            handler = site.handlers.get(self.path)
            answer = handler(self.path) if handler else (404, {}, b"not here")
            if answer is None:
                site.stop.wait(30)
                self.close_connection = True
                return
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(
    *, tls: trustme.LeafCert | None = None, host_name: str = "127.0.0.1"
) -> Iterator[LoopbackSite]:
    """A site on a free port of 127.0.0.1, named `host_name` in its URLs."""
    site = LoopbackSite("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(site))
    server.daemon_threads = True
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    site.origin = f"{scheme}://{host_name}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield site
    finally:
        site.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
