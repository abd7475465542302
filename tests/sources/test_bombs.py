"""Decompression bombs that lie: a zip whose central directory understates how much a member
expands, a WARC record whose gzip member or HTTP gzip body expands ~1000 times. Each is
stopped on the bytes actually produced, in bounded steps: a few MiB, never the limit."""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from files_fixtures import jpeg, scan
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.sources.files import FileSource
from rempart.sources.warc import WarcSource, decode_http_body

MiB = 1024 * 1024
EXPANDED = 96 * MiB  # what each bomb expands to; the limits (512 MiB) would let it through
# Bytes held at once while stopping a bomb: the scan holds a few MiB, never EXPANDED.
BOUNDED = 24 * MiB
# warcio inflates a gzipped WARC 16 KiB of input at a time, up to ~16 MiB out (transiently
# twice that): held while it skips the rest of a refused record, whatever the record's size.
WARC_EXPANDED = 256 * MiB
WARC_BOUNDED = 80 * MiB


def _peak(call: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _lying_zip(path: Path) -> None:
    """One member, a JPEG start then zeros (≈100 KB compressed → 96 MiB); its central
    directory claims a compressed size 150 times smaller than the expansion, under the
    200:1 ratio that would refuse it unread."""
    payload = jpeg(1)[:64] + bytes(EXPANDED - 64)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dump/picture.jpg", payload)
    data = bytearray(buffer.getvalue())
    central = data.rindex(b"PK\x01\x02")
    (real,) = struct.unpack_from("<I", data, central + 20)
    claimed = EXPANDED // 150
    assert real < claimed
    struct.pack_into("<I", data, central + 20, claimed)
    path.write_bytes(bytes(data))


def test_a_zip_lying_about_its_member_is_stopped_on_the_bytes_produced(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _lying_zip(root / "leak.zip")

    result, peak = _peak(lambda: scan(FileSource(root)))

    assert result.candidates == []  # type: ignore[attr-defined]
    (problem,) = result.problems  # type: ignore[attr-defined]
    assert "decompression bomb" in problem.reason and "stopped" in problem.reason
    assert peak < BOUNDED, f"{peak / MiB:.1f} MiB held"


def _warc(path: Path, *, payload: bytes, encoding: str | None) -> None:
    headers = [("Content-Type", "image/jpeg")]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "http://forum.example/a.jpg", "response", payload=io.BytesIO(payload), http_headers=http
        )
        writer.write_record(record)


def test_a_warc_record_whose_gzip_member_expands_hugely_is_stopped(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    _warc(warc, payload=jpeg(1)[:64] + bytes(WARC_EXPANDED - 64), encoding=None)
    assert warc.stat().st_size < 1 * MiB

    result, peak = _peak(lambda: scan(WarcSource(warc)))

    assert result.candidates == []  # type: ignore[attr-defined]
    (problem,) = result.problems  # type: ignore[attr-defined]
    assert "decompression bomb" in problem.reason
    assert peak < WARC_BOUNDED, f"{peak / MiB:.1f} MiB held"


def test_a_warc_http_body_gzip_bomb_is_stopped(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    _warc(warc, payload=gzip.compress(bytes(EXPANDED), 9), encoding="gzip")

    result, peak = _peak(lambda: scan(WarcSource(warc)))

    assert result.candidates == []  # type: ignore[attr-defined]
    (problem,) = result.problems  # type: ignore[attr-defined]
    assert "decompression bomb" in problem.reason
    assert peak < BOUNDED, f"{peak / MiB:.1f} MiB held"


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_decoding_a_bomb_under_the_full_limit_stops_within_a_few_mib(coding: str) -> None:
    import zlib

    packed = (
        gzip.compress(bytes(EXPANDED), 9) if coding == "gzip" else zlib.compress(bytes(EXPANDED), 9)
    )

    def decode() -> None:
        with pytest.raises(ValueError, match="decompression bomb"):
            decode_http_body(packed, "", coding, 512 * MiB)

    _, peak = _peak(decode)
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB held"


def test_a_gzipped_picture_still_decodes(tmp_path: Path) -> None:
    picture = jpeg(2)
    assert decode_http_body(gzip.compress(picture), "", "gzip", 512 * MiB) == picture
