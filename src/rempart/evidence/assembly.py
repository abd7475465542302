"""The assembly of one capture: from what the browser gave and what the relay saw, the
`Capture` that sealing takes: the WARC, the media as served (hashed with PDQ), the context a
court checks and its NF Z67-147 checklist, and, in a minor's case, no picture at all.

Owns what a capture keeps and withholds, and the shape of its context. Must not drive the
browser or the network (capture.py, relay.py); time comes from the caller's clock.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rempart.clock import Clock
from rempart.errors import ImageDecodeError
from rempart.evidence.artifacts import Artifact, Capture, CapturedMedia, JsonValue
from rempart.evidence.checklist import checklist
from rempart.evidence.environment import machine_facts, tool_versions
from rempart.evidence.recording import Exchange, FailedRequest, TlsOrigin, host_port
from rempart.evidence.relay import RelayReport
from rempart.evidence.warc import WarcExchange, write_warc
from rempart.hashing.sniff import SNIFF_BYTES, sniff_media

if TYPE_CHECKING:  # capture.py imports this module
    from rempart.evidence.capture import CaptureLimits, Operator

__all__ = [
    "BODIES_NOTE",
    "CONTEXT_FORMAT",
    "CONTEXT_JSON",
    "PAGE_HTML",
    "SCREENSHOT",
    "WARC",
    "CaptureRun",
    "Taken",
    "assemble",
    "withhold_inline_media",
]

CONTEXT_FORMAT = "rempart-capture-context/1"
NOT_DETERMINED = "not determined"
SCREENSHOT = "capture/screenshot.png"
PAGE_HTML = "capture/page.html"
WARC = "archive/data.warc.gz"
CONTEXT_JSON = "capture/context.json"

# How the WARC's records were obtained, said in its warcinfo record and in the context.
BODIES_NOTE = (
    "Headers and bodies are those Chromium reported through Playwright and the DevTools "
    "protocol: bodies after content decoding (gzip, br...), so Content-Encoding, "
    "Content-Length and Transfer-Encoding of the wire are kept as X-Rempart-Orig-* headers "
    "and Content-Length gives the stored length. Status lines read HTTP/1.1 whatever the "
    "protocol; WARC-Protocol names the one Chromium used. WARC-IP-Address is the server "
    "address Rempart's relay connected to. Plain-HTTP requests went one to a connection: "
    "the relay dropped the browser's Proxy-Connection header and sent Connection: close, "
    "and the browser was told Connection: close in turn (hop-by-hop headers only). A "
    "response without the body the browser did not keep (redirects, streamed media, "
    "unfinished answers) is marked WARC-Truncated. Requests that got no answer are listed "
    "in a metadata record."
)


@dataclass(frozen=True, slots=True)
class Taken:
    """What the browser gave for one capture, before assembly."""

    final_url: str
    user_agent: str
    load: dict[str, JsonValue]
    screenshot: Artifact | None
    screenshot_facts: dict[str, JsonValue]
    html: Artifact
    exchanges: tuple[Exchange, ...]
    failures: tuple[FailedRequest, ...]
    tls: tuple[TlsOrigin, ...]
    cookies_at_start: int
    cookies_set: list[JsonValue]
    requests_limit: bool


# ------------------------------------------------------------------------------ assembly


@dataclass(frozen=True, slots=True)
class CaptureRun:
    """One capture's setting (who, what, with which browser and limits) and its takings."""

    url: str
    link_path: tuple[str, ...]
    operator: Operator
    browser_version: str
    browser_executable: str
    limits: CaptureLimits
    no_media: bool
    public_ip: str | None
    started_at: datetime
    clock_state: dict[str, JsonValue]
    taken: Taken
    relay: RelayReport


def assemble(inputs: CaptureRun, clock: Clock) -> Capture:
    """The Capture: WARC and media artifacts digested as they are made, then the context
    (with its checklist) written at the capture's end."""
    taken = inputs.taken
    media, media_artifacts = _media(taken.exchanges, inputs.no_media, clock)
    entries = [_warc_entry(e, inputs.relay, inputs.no_media) for e in taken.exchanges]
    warc = write_warc(
        entries,
        filename="data.warc.gz",
        info=_warcinfo(inputs),
        log=_unanswered(taken.failures, inputs.relay),
        log_uri=inputs.url,
    )
    artifacts = [taken.screenshot] if taken.screenshot is not None else []
    artifacts += [taken.html, Artifact(WARC, warc, "application/warc", clock())]
    artifacts += media_artifacts
    # The capture ends with its last acquisition; the context, which records that end, is
    # written at that moment.
    finished_at = clock()
    context = _context(inputs, media, entries, finished_at)
    names = [a.name for a in artifacts] + [CONTEXT_JSON]
    context["checklist"] = checklist(context, names)
    encoded = json.dumps(context, ensure_ascii=False, indent=1, sort_keys=True).encode()
    artifacts.append(Artifact(CONTEXT_JSON, encoded, "application/json", finished_at))
    return Capture(
        url=inputs.url,
        final_url=taken.final_url,
        link_path=inputs.link_path,
        started_at=inputs.started_at,
        finished_at=finished_at,
        artifacts=tuple(artifacts),
        media=tuple(media),
        context=context,
        no_media=inputs.no_media,
    )


def _media(
    exchanges: Iterable[Exchange], no_media: bool, clock: Clock
) -> tuple[list[CapturedMedia], list[Artifact]]:
    """The pictures and videos the page was served (complete answers, one per URL), each
    hashed; stored as media/<n>.<ext> unless no picture may be kept."""
    found: list[CapturedMedia] = []
    stored: dict[str, Artifact] = {}
    seen: set[str] = set()
    for exchange in exchanges:
        body = exchange.body
        kind = _media_type(exchange)
        if body is None or kind is None or exchange.status != 200 or exchange.url in seen:
            continue
        seen.add(exchange.url)
        digest = hashlib.sha256(body).hexdigest()
        name: str | None = None
        if not no_media:
            if digest not in stored:
                extension = _extension(kind)
                name = f"media/{len(stored) + 1}.{extension}"
                stored[digest] = Artifact(name, body, kind, clock())
            name = stored[digest].name
        found.append(
            CapturedMedia(
                url=exchange.url,
                sha256=digest,
                size=len(body),
                media_type=kind,
                artifact=name,
                **_picture_signals(body, kind),
            )
        )
    return found, list(stored.values())


def _media_type(exchange: Exchange) -> str | None:
    """What picture or video an answer holds: its bytes say, else its declared type."""
    if exchange.body:
        sniffed = sniff_media(exchange.body[:SNIFF_BYTES])
        if sniffed:
            return sniffed
    declared = (exchange.header("content-type") or "").split(";", 1)[0].strip().lower()
    if declared.startswith(("image/", "video/")):
        return declared
    return None


def _picture_signals(body: bytes, kind: str) -> dict[str, Any]:
    if not kind.startswith("image/"):
        return {}
    from rempart.hashing.image import hash_image_bytes  # Pillow and the kernel load here

    try:
        hashes = hash_image_bytes(body)
    except ImageDecodeError:
        return {}  # served as a picture, not decodable as one (SVG, truncated...)
    return {
        "pdq": hashes.pdq.hash.hex,
        "quality": hashes.pdq.quality,
        "width": hashes.width,
        "height": hashes.height,
    }


def _extension(kind: str) -> str:
    known = {"image/jpeg": "jpg", "image/tiff": "tif", "image/svg+xml": "svg"}
    guessed = known.get(kind) or (mimetypes.guess_extension(kind) or ".bin").lstrip(".")
    return re.sub(r"[^a-z0-9]", "", guessed.lower()) or "bin"


_INLINE_MEDIA = re.compile(
    rb"data:((?:image|video)/[a-z0-9.+-]+)((?:;[a-z0-9.+=-]*)*),([^\"'()\s<>]*)", re.IGNORECASE
)


def withhold_inline_media(body: bytes) -> tuple[bytes, int]:
    """`body` with every inline picture or video (data: URI) replaced by its digest, and
    how many were replaced. For a minor's case, where no picture may be kept."""
    count = 0

    def digest_only(match: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        digest = hashlib.sha256(match.group(3)).hexdigest().encode()
        return b"data:" + match.group(1) + b";withheld-sha256=" + digest + b","

    return _INLINE_MEDIA.sub(digest_only, body), count


def _warc_entry(exchange: Exchange, relay: RelayReport, no_media: bool) -> WarcExchange:
    server = _server_address(exchange.url, relay)
    if not no_media:
        return WarcExchange(exchange, server, exchange.body)
    if _media_type(exchange) is not None or exchange.resource_type in {"image", "media"}:
        return WarcExchange(exchange, server, None, withheld="no_media: picture or video")
    if exchange.body is None:
        return WarcExchange(exchange, server, None)
    body, count = withhold_inline_media(exchange.body)
    if not count:
        return WarcExchange(exchange, server, body)
    return WarcExchange(
        exchange,
        server,
        body,
        redacted=f"no_media: {count} inline picture(s) replaced by their SHA-256",
    )


def _server_address(url: str, relay: RelayReport) -> str | None:
    """The server address the relay connected to for `url`: its own connection for plain
    HTTP, the tunnel's for HTTPS (None when tunnels to the host went to several)."""
    bare = url.split("#", 1)[0]
    for connection in relay.connections:
        if connection.url == bare and connection.address:
            return connection.address
    host, port = host_port(url)
    addresses = relay.addresses(host, port)
    return addresses[0] if len(addresses) == 1 else None


def _unanswered(failures: Sequence[FailedRequest], relay: RelayReport) -> dict[str, Any] | None:
    if not failures and not relay.refusals():
        return None
    return {
        "unanswered_requests": [_failure_json(f) for f in failures],
        "refused_connections": [
            {"host": c.host, "port": c.port, "url": c.url, "reason": c.refused}
            for c in relay.refusals()
        ],
    }


def _relay_note(url: str, relay: RelayReport) -> str | None:
    """What the relay said of a request that got no answer: refused, or why it failed."""
    bare = url.split("#", 1)[0]
    wanted = host_port(url)
    for connection in relay.connections:
        same = connection.url == bare or (
            connection.url is None and (connection.host, connection.port) == wanted
        )
        if same and (connection.refused or connection.error):
            return f"refused: {connection.refused}" if connection.refused else connection.error
    return None


def _failure_json(failure: FailedRequest) -> dict[str, JsonValue]:
    return {
        "url": failure.url,
        "resource_type": failure.resource_type,
        "started_at": failure.started_at.isoformat(),
        "error": failure.error,
        "main_document": failure.main_document,
    }


def _warcinfo(inputs: CaptureRun) -> dict[str, str]:
    tools = tool_versions(inputs.browser_version)
    return {
        "software": (
            f"Rempart {tools['rempart']} (Chromium {tools['chromium']} through Playwright "
            f"{tools['playwright']}; warcio {tools['warcio']})"
        ),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": f"capture of {inputs.url}",
        "http-header-user-agent": inputs.taken.user_agent,
        "robots": "ignore",
        "description": BODIES_NOTE,
        "rempart-no-media": "yes: picture and video bodies withheld, digests only"
        if inputs.no_media
        else "no",
    }


# ------------------------------------------------------------------------------- context


def _context(
    inputs: CaptureRun,
    media: Sequence[CapturedMedia],
    entries: Sequence[WarcExchange],
    finished_at: datetime,
) -> dict[str, JsonValue]:
    taken = inputs.taken
    main = [e for e in taken.exchanges if e.main_document]
    document = main[-1] if main else None
    limits_reached: list[JsonValue] = []
    if taken.requests_limit:
        limits_reached.append("requests")
    if inputs.relay.limit_reached and inputs.relay.limit_reached not in limits_reached:
        limits_reached.append(inputs.relay.limit_reached)
    if taken.screenshot_facts.get("capped"):
        limits_reached.append("screenshot height")
    if not taken.load.get("network_idle"):
        limits_reached.append("settle time (network not idle)")
    missing_bodies = [e for e in taken.exchanges if e.body_missing == "capture byte limit reached"]
    if missing_bodies and "bytes" not in limits_reached:
        limits_reached.append("bytes")
    return {
        "format": CONTEXT_FORMAT,
        "operator": {"name": inputs.operator.name, "organisation": inputs.operator.organisation},
        "machine": machine_facts(),
        "tools": tool_versions(inputs.browser_version),
        "time": {
            "started_at": inputs.started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "clock": inputs.clock_state,
        },
        "network": {
            "public_ip": inputs.public_ip or NOT_DETERMINED,
            "public_ip_source": "given by the caller" if inputs.public_ip else None,
            "proxy": {
                "upstream": "none",
                "local_relay": inputs.relay.proxy,
                "note": (
                    "Every connection went through Rempart's relay on 127.0.0.1, which "
                    "resolves names, refuses private and local addresses and connects to "
                    "the checked address; it passes HTTPS through untouched (CONNECT) and "
                    "forwards plain HTTP unchanged, and is no caching proxy."
                ),
            },
            "dns": _dns(inputs.relay),
            "servers": [
                {
                    "url": e.exchange.url,
                    "address": e.server_address,
                    "port": host_port(e.exchange.url)[1],
                }
                for e in entries
            ],
            "connections": [
                {
                    "kind": c.kind,
                    "host": c.host,
                    "port": c.port,
                    "url": c.url,
                    "address": c.address,
                    "status": c.status,
                    "bytes_received": c.bytes_received,
                    "refused": c.refused,
                    "error": c.error,
                }
                for c in inputs.relay.connections
            ],
            "bytes_received": inputs.relay.bytes_received,
        },
        "browser": {
            "name": "Chromium",
            "version": inputs.browser_version,
            "executable": inputs.browser_executable,
            "headless": True,
            "user_agent": taken.user_agent,
            "viewport": {
                "width": inputs.limits.viewport.width,
                "height": inputs.limits.viewport.height,
                "device_scale_factor": inputs.limits.viewport.device_scale_factor,
            },
            "javascript": True,
            "profile": {
                "fresh": True,
                "how": (
                    "a new browser context for this capture only: in-memory profile, empty "
                    "cookie jar, empty HTTP cache, no local storage; service workers blocked"
                ),
                "cookies_at_start": taken.cookies_at_start,
                "cache": "empty",
                "storage": "empty",
            },
            "cookies_set_by_sites": taken.cookies_set,
        },
        "page": {
            "url": inputs.url,
            "final_url": taken.final_url,
            "link_path": list(inputs.link_path),
            "redirect_chain": [
                {"url": e.url, "status": e.status, "location": e.redirected_to}
                for e in main
                if e.redirected_to is not None
            ],
            "status": document.status if document else None,
            "status_text": document.status_text if document else None,
            "request_headers": _pairs(document.request_headers) if document else [],
            "response_headers": _pairs(document.response_headers) if document else [],
            "load": taken.load,
        },
        "tls": [_tls_json(origin) for origin in taken.tls],
        "screenshot": taken.screenshot_facts,
        "media": {
            "count": len(media),
            "kept": not inputs.no_media,
            "items": [
                {
                    "url": m.url,
                    "sha256": m.sha256,
                    "media_type": m.media_type,
                    "artifact": m.artifact,
                }
                for m in media
            ],
        },
        "no_media": inputs.no_media,
        "requests": {
            "answered": len(taken.exchanges),
            "unanswered": [
                {**_failure_json(f), "relay": _relay_note(f.url, inputs.relay)}
                for f in taken.failures
            ],
            "bodies_not_kept": [
                {"url": e.url, "why": e.body_missing} for e in taken.exchanges if e.body_missing
            ],
        },
        "limits": {"configured": inputs.limits.as_json(), "reached": limits_reached},
        "warc": {"bodies": BODIES_NOTE, "digest_algorithm": "sha256"},
    }


def _dns(report: RelayReport) -> dict[str, JsonValue]:
    answers: dict[str, JsonValue] = {}
    for answer in report.dns:
        answers.setdefault(answer.host, [])
        entry: dict[str, JsonValue] = {"addresses": list(answer.addresses)}
        if answer.error:
            entry["error"] = answer.error
        listed = answers[answer.host]
        assert isinstance(listed, list)
        listed.append(entry)
    return answers


def _tls_json(origin: TlsOrigin) -> dict[str, JsonValue]:
    return {
        "origin": origin.origin,
        "protocol": origin.protocol,
        "cipher": origin.cipher,
        "key_exchange_group": origin.key_exchange_group,
        "subject": origin.subject,
        "issuer": origin.issuer,
        "san": list(origin.san),
        "valid_from": origin.valid_from.isoformat() if origin.valid_from else None,
        "valid_to": origin.valid_to.isoformat() if origin.valid_to else None,
        "trusted": origin.trusted,
        "error": origin.error,
        "chain_pem": list(origin.chain_pem),
    }


def _pairs(headers: Iterable[tuple[str, str]]) -> list[JsonValue]:
    return [[name, value] for name, value in headers]
