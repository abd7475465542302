"""A capture's exchanges as a WARC 1.1 file (ISO 28500), gzip-compressed record by record,
written with warcio so that warcio's own reader and checker accept it.

Owns the mapping of one recorded exchange to WARC records: a `request` and a `response` record
(or, where no picture may be kept, a `metadata` record holding the body's digest only), SHA-256
block and payload digests, the server address, and a `warcinfo` record saying how the bodies
were obtained. Must not decide what is withheld; capture.py tells it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from rempart.evidence.recording import Exchange

__all__ = ["ORIGINAL_HEADER_PREFIX", "WarcExchange", "payload_digest", "write_warc"]

ORIGINAL_HEADER_PREFIX = "X-Rempart-Orig-"
# Framing headers that describe the bytes on the wire, not the decoded body stored here.
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True, slots=True)
class WarcExchange:
    """One exchange as it goes into the WARC.

    `body` is what the response record holds (the browser's body, or that body with inline
    pictures withheld, see `redacted`); `withheld` names why no body is stored at all, and
    then a metadata record carries the body's digest and size instead of a response record.
    """

    exchange: Exchange
    server_address: str | None
    body: bytes | None = field(repr=False)
    withheld: str | None = None
    redacted: str | None = None  # why the stored body differs from the browser's


class _Sha256Writer(WARCWriter):  # type: ignore[misc]
    """warcio's writer, digesting with SHA-256 (as every other digest of a capture)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def payload_digest(data: bytes) -> str:
    """The WARC form of a SHA-256 digest: "sha256:" and base32, as warcio writes it."""
    digester = Digester("sha256")
    digester.update(data)
    return str(digester)


def write_warc(
    exchanges: Iterable[WarcExchange],
    *,
    filename: str,
    info: Mapping[str, str],
    log: Mapping[str, Any] | None = None,
    log_uri: str = "",
) -> bytes:
    """The WARC file's bytes: a warcinfo record (`info`), each exchange, and, when given, a
    metadata record holding `log` as JSON (e.g. the requests that got no answer)."""
    out = io.BytesIO()
    writer = _Sha256Writer(out, gzip=True, warc_version="WARC/1.1")
    writer.write_record(writer.create_warcinfo_record(filename, dict(info)))
    for item in exchanges:
        for record in _records(writer, item):
            writer.write_record(record)
    if log is not None:
        writer.write_record(_json_record(writer, log_uri, "metadata", log, {}))
    return out.getvalue()


def _records(writer: WARCWriter, item: WarcExchange) -> list[Any]:
    exchange = item.exchange
    date = _warc_date(exchange.started_at)
    if item.withheld is not None:
        answer = _withheld_record(writer, item, date)
    else:
        answer = _response_record(writer, item, date)
    answer_id = answer.rec_headers.get_header("WARC-Record-ID")
    request = writer.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(exchange.request_body),
        length=len(exchange.request_body),
        http_headers=StatusAndHeaders(
            f"{exchange.method} {_target(exchange.url)} HTTP/1.1",
            list(exchange.request_headers),
            is_http_request=True,
        ),
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": answer_id},
    )
    return [request, answer]


def _response_record(writer: WARCWriter, item: WarcExchange, date: str) -> Any:
    exchange = item.exchange
    body = item.body or b""
    headers = _stored_headers(exchange.response_headers, len(body))
    warc_headers: dict[str, str] = {"WARC-Date": date, **_protocol(exchange)}
    if item.server_address:
        warc_headers["WARC-IP-Address"] = item.server_address
    if item.body is None and _had_body(exchange):
        warc_headers["WARC-Truncated"] = "unspecified"
    if item.redacted:
        warc_headers["WARC-Rempart-Redacted"] = item.redacted
        if exchange.body is not None:
            warc_headers["WARC-Rempart-Original-Payload-Digest"] = payload_digest(exchange.body)
    return writer.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders(
            f"{exchange.status} {exchange.status_text}".strip(), headers, protocol="HTTP/1.1"
        ),
        warc_headers_dict=warc_headers,
    )


def _withheld_record(writer: WARCWriter, item: WarcExchange, date: str) -> Any:
    """A body that may not be kept: its digest, size and headers, never its bytes."""
    exchange = item.exchange
    body = exchange.body
    note: dict[str, Any] = {
        "withheld": item.withheld,
        "status": exchange.status,
        "status_text": exchange.status_text,
        "headers": [list(pair) for pair in exchange.response_headers],
        "payload_sha256": _hex(body),
        "payload_digest": payload_digest(body) if body is not None else None,
        "payload_size": len(body) if body is not None else None,
        "server_address": item.server_address,
    }
    return _json_record(writer, exchange.url, "metadata", note, {"WARC-Date": date})


def _json_record(
    writer: WARCWriter, uri: str, kind: str, data: Mapping[str, Any], headers: dict[str, str]
) -> Any:
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode()
    return writer.create_warc_record(
        uri,
        kind,
        payload=io.BytesIO(payload),
        length=len(payload),
        warc_content_type="application/json",
        warc_headers_dict=headers,
    )


def _stored_headers(headers: Iterable[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    """The response headers for the stored (decoded) body: the wire's framing headers keep
    their values under X-Rempart-Orig-*, and Content-Length gives the stored length, so
    that readers do not decode an already decoded body."""
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in _FRAMING:
            kept.append((ORIGINAL_HEADER_PREFIX + name, value))
        else:
            kept.append((name, value))
    kept.append(("Content-Length", str(length)))
    return kept


def _had_body(exchange: Exchange) -> bool:
    length = exchange.header("content-length")
    if length is not None:
        return length.strip() not in {"", "0"}
    return exchange.header("transfer-encoding") is not None


def _protocol(exchange: Exchange) -> dict[str, str]:
    """WARC-Protocol (proposed for WARC 1.1 and written by Webrecorder's tools): the
    application protocol as Chromium named it."""
    return {"WARC-Protocol": exchange.protocol} if exchange.protocol else {}


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _warc_date(moment: datetime) -> str:
    return str(datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def _hex(body: bytes | None) -> str | None:
    return hashlib.sha256(body).hexdigest() if body is not None else None
