"""A loopback HTTP server for re-check tests and the bench: a route table of replies, a
reply that holds until released (a server slower than the fetch limit, with no wall-clock
guess), and neutral generated pictures. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rempart.fetch import FetchPolicy, system_resolver
from rempart.samples import neutral_image

LOOPBACK = FetchPolicy(
    allow_networks=("127.0.0.1/32",),
    any_port=True,
    per_host_interval_s=0.0,
    per_host_concurrency=16,
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    total_timeout_s=5.0,
)


def resolver(host: str, port: int) -> list[str]:
    """`*.test` names live on loopback; `*.invalid` names do not exist (NXDOMAIN)."""
    if host.endswith(".test"):
        return ["127.0.0.1"]
    if host.endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return list(system_resolver(host, port))


def jpeg(seed: int, width: int = 320, height: int = 240, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, width, height).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(seed: int, width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, width, height).save(buffer, "PNG")
    return buffer.getvalue()


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None  # answer only once this is set


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class Site:
    def __init__(self, name: str = "host.test") -> None:
        self.name = name
        self.routes: dict[str, Reply | Callable[[], Reply]] = {}
        self.released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://{self.name}:{self.port}{path}"

    def route(self, path: str, body: bytes = b"", **options: Any) -> str:
        self.routes[path] = Reply(body, **options)
        return self.url(path)

    def slow(self, path: str) -> str:
        """Answers only when the site closes: slower than any fetch limit."""
        self.routes[path] = Reply(b"late", hold=self.released)
        return self.url(path)

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            route = site.routes.get(self.path.split("?", 1)[0])
            reply = (route() if callable(route) else route) or Reply(b"not found", 404)
            if reply.hold is not None:
                reply.hold.wait()
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
