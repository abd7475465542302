"""Helpers for the sealing tests: a fixed sealing key, a tiny neutral capture (a 16x12
generated picture, a few lines of HTML, a WARC of two exchanges), its custody chain, a
recording timestamper. Nothing but generated content."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.evidence.artifacts import Artifact, Capture, CapturedMedia
from rempart.evidence.bundle import capture_custody_detail, seal_capture
from rempart.evidence.custody import CustodyAction, CustodyEvent, append
from rempart.evidence.keys import SigningKey
from rempart.evidence.timestamps import (
    Timestamp,
)
from rempart.samples import neutral_image

CAPTURE_START = datetime(2025, 3, 14, 9, 26, 52, 123456, tzinfo=UTC)
PAGE_URL = "http://forum.example.test/board/landscapes/thread-7"
IMAGE_URL = "http://img.example.test/i/abc123.png"
HTML = (
    b"<!doctype html><html><head><title>Landscapes</title></head>"
    b'<body><p>Thread 7</p><img src="http://img.example.test/i/abc123.png"></body></html>\n'
)


def tiny_png(seed: int = 7) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, 16, 12, style="shapes").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def tiny_warc(html: bytes, png: bytes, at: datetime) -> bytes:
    """Two request/response exchanges, gzip per record, with fixed ids and dates."""
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=True)
    date = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    for number, (url, body, kind) in enumerate(
        ((PAGE_URL, html, "text/html"), (IMAGE_URL, png, "image/png")), start=1
    ):
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(
                f"GET {url.split('.test', 1)[1]} HTTP/1.1",
                [("Host", url.split("/")[2])],
                is_http_request=True,
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-00000000000{number}>",
            },
        )
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=StatusAndHeaders(
                "200 OK",
                [("Content-Type", kind), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-00000000001{number}>",
            },
        )
        writer.write_record(request)
        writer.write_record(response)
    return stream.getvalue()


def make_capture(*, start: datetime = CAPTURE_START, png: bytes | None = None) -> Capture:
    picture = png if png is not None else tiny_png()
    acquired = start + timedelta(seconds=2)
    artifacts = (
        Artifact("archive/data.warc.gz", tiny_warc(HTML, picture, start), "application/warc",
                 acquired),
        Artifact("capture/page.html", HTML, "text/html", acquired),
        Artifact("capture/screenshot.png", picture, "image/png", acquired),
        Artifact("media/abc123.png", picture, "image/png", acquired),
    )  # fmt: skip
    return Capture(
        url=PAGE_URL,
        final_url=PAGE_URL,
        link_path=("http://forum.example.test/", PAGE_URL),
        started_at=start,
        finished_at=start + timedelta(seconds=3),
        artifacts=artifacts,
        media=(
            CapturedMedia(
                url=IMAGE_URL,
                sha256=hashlib.sha256(picture).hexdigest(),
                size=len(picture),
                media_type="image/png",
                artifact="media/abc123.png",
                pdq="f" * 64,
                quality=42,
                width=16,
                height=12,
            ),
        ),
        context={
            "title": "Landscapes",
            "operator": "caseworker-1",
            "user_agent": "Rempart test",
            "server_ip": "127.0.0.1",
        },
    )


def custody_for(capture: Capture, *, operator: str = "caseworker-1") -> tuple[CustodyEvent, ...]:
    opened = append(
        None,
        at=capture.started_at - timedelta(minutes=5),
        actor=operator,
        action=CustodyAction.CASE_OPEN,
        subject="case:C-2025-001",
        detail={"reason": "report received"},
    )
    captured = append(
        opened,
        at=capture.finished_at,
        actor=operator,
        action=CustodyAction.CAPTURE,
        subject="finding:F-17",
        detail=capture_custody_detail(capture),
    )
    return opened, captured


class RecordingTimestamper:
    """Asks the real authority once per distinct input, then answers from its record: the same
    bytes in give the same time-stamps out, so sealing is repeatable."""

    def __init__(self, inner: Callable[[bytes], Sequence[Timestamp]]) -> None:
        self.inner = inner
        self.record: dict[bytes, Sequence[Timestamp]] = {}
        self.calls = 0

    def __call__(self, data: bytes) -> Sequence[Timestamp]:
        self.calls += 1
        if data not in self.record:
            self.record[data] = self.inner(data)
        return self.record[data]


def fixed_signing_key(label: str = "rempart test sealing key") -> SigningKey:
    seed = hashlib.sha256(label.encode()).digest()
    return SigningKey.from_private(
        Ed25519PrivateKey.from_private_bytes(seed), created=CAPTURE_START - timedelta(days=30)
    )


def seal_sample(
    capture: Capture,
    key: SigningKey,
    timestamper: Callable[[bytes], Sequence[Timestamp]],
    **overrides: Any,
) -> bytes:
    arguments: dict[str, Any] = {
        "key": key,
        "custody": custody_for(capture),
        "timestamper": timestamper,
        "case_ref": "C-2025-001",
        "finding_ref": "F-17",
        "operator": "caseworker-1",
        "created": capture.finished_at + timedelta(seconds=1),
    }
    arguments.update(overrides)
    return seal_capture(capture, **arguments)
