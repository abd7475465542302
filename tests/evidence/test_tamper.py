"""Every byte of a sealed bundle is covered: changing any single byte, anywhere (file data, ZIP
headers, central directory, signatures, time-stamps), makes verification fail.

The bundle is small (a 6x4 generated picture, one line of HTML, a one-record WARC, a few KB in
all) and sealed once with the demo authority; every variant is then verified offline from the
recorded time-stamp, so no authority runs per byte."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sealing_support import fixed_signing_key
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.artifacts import Artifact, Capture
from rempart.evidence.bundle import capture_custody_detail, seal_capture
from rempart.evidence.custody import CustodyAction, append
from rempart.evidence.timestamps import TimestampAuthority, make_timestamper
from rempart.evidence.verify import VerifyReport, verify_bundle
from rempart.samples import neutral_image

START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
URL = "http://site.example.test/p"
HTML = b"<p>hello</p>\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    neutral_image(3, 6, 4, style="graphic").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _warc() -> bytes:
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=True)
    record = writer.create_warc_record(
        URL,
        "response",
        payload=io.BytesIO(HTML),
        http_headers=StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
        ),
        warc_headers_dict={
            "WARC-Date": "2025-06-01T12:00:00Z",
            "WARC-Record-ID": "<urn:uuid:00000000-0000-4000-8000-000000000001>",
        },
    )
    writer.write_record(record)
    return stream.getvalue()


def small_capture() -> Capture:
    at = START + timedelta(seconds=1)
    return Capture(
        url=URL,
        final_url=URL,
        link_path=(URL,),
        started_at=START,
        finished_at=START + timedelta(seconds=2),
        artifacts=(
            Artifact("archive/data.warc.gz", _warc(), "application/warc", at),
            Artifact("capture/page.html", HTML, "text/html", at),
            Artifact("capture/screenshot.png", _png(), "image/png", at),
        ),
        media=(),
        context={"operator": "cw"},
    )


@pytest.fixture(scope="module")
def small_bundle() -> tuple[bytes, str, object]:
    capture = small_capture()
    key = fixed_signing_key()
    event = append(
        None,
        at=capture.finished_at,
        actor="cw",
        action=CustodyAction.CAPTURE,
        subject="finding:1",
        detail=capture_custody_detail(capture),
    )
    with DemoTimestampAuthority.start() as tsa, httpx.Client(trust_env=False) as http:
        stamper = make_timestamper([TimestampAuthority("t", tsa.url, (tsa.root_pem,))], http=http)
        bundle = seal_capture(
            capture,
            key=key,
            custody=(event,),
            timestamper=stamper,
            case_ref="c",
            finding_ref="1",
            operator="cw",
            created=capture.finished_at,
        )
        return bundle, key.fingerprint, tsa.root


def _verify(bundle: bytes, small: tuple[bytes, str, object]) -> VerifyReport:
    _, fingerprint, root = small
    return verify_bundle(bundle, trusted_keys=[fingerprint], tsa_roots=[root])  # type: ignore[list-item]


def test_the_small_bundle_is_small_and_verifies(small_bundle: tuple[bytes, str, object]) -> None:
    bundle = small_bundle[0]
    assert len(bundle) < 12_000
    report = _verify(bundle, small_bundle)
    assert report.ok and report.trusted, [c for c in report.checks if c.status != "pass"]


def _undetected(job: tuple[bytes, str, bytes, int, int]) -> list[tuple[int, int]]:
    """The single-byte changes in positions [start, stop) that still verify (none, we hope).
    Two per byte: XOR 0xFF flips every bit; XOR 1 << (position % 8) one bit, so that over
    any eight neighbouring bytes every bit position is flipped alone."""
    bundle, fingerprint, root_der, start, stop = job
    root = x509.load_der_x509_certificate(root_der)
    found = []
    for position in range(start, stop):
        for mask in (0xFF, 1 << (position % 8)):
            tampered = bytearray(bundle)
            tampered[position] ^= mask
            report = verify_bundle(bytes(tampered), trusted_keys=[fingerprint], tsa_roots=[root])
            if report.ok:
                found.append((position, mask))
    return found


@pytest.mark.slow
def test_changing_any_single_byte_fails_verification(
    small_bundle: tuple[bytes, str, object],
) -> None:
    bundle, fingerprint, root = small_bundle
    root_der = root.public_bytes(serialization.Encoding.DER)  # type: ignore[attr-defined]
    step = 512
    jobs = [
        (bundle, fingerprint, root_der, start, min(start + step, len(bundle)))
        for start in range(0, len(bundle), step)
    ]
    workers = max(1, min(2, os.cpu_count() or 1))
    # spawn, not fork: this process runs server threads (the demo authorities).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        undetected = [change for found in pool.map(_undetected, jobs) for change in found]
    assert undetected == [], f"undetected changes at {undetected[:10]}"


def test_truncating_or_extending_the_bundle_fails(small_bundle: tuple[bytes, str, object]) -> None:
    bundle = small_bundle[0]
    for cut in (1, 2, 22, 23, len(bundle) // 2, len(bundle) - 1):
        assert not _verify(bundle[:-cut], small_bundle).ok
    for extra in (b"\0", b"PK\x05\x06" + bytes(18), bundle[:30]):
        assert not _verify(bundle + extra, small_bundle).ok
        assert not _verify(extra + bundle, small_bundle).ok
    digest = hashlib.sha256(bundle).hexdigest()
    assert _verify(bundle, small_bundle).bundle_sha256 == digest
