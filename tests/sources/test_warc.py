"""WARC and WACZ files: every image and video among response and resource records, decoded
from chunked and gzip HTTP bodies, keyed by file and record offset, with its captured URL and
the page that embedded it; revisits, truncation and corruption reported while the rest is
still read."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from files_fixtures import FUZZ, RecordingState, jpeg, mp4, mutated, png, scan, zip_bytes
from hypothesis import given
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.sources.warc import WarcLimits, WarcSource, decode_http_body

THREAD_1 = "http://forum.test/thread/1"
THREAD_2 = "http://forum.test/thread/2"
CHUNKED_JPEG = "http://img.test/a.jpg"
PLAIN_PNG = "http://img.test/b.png"
DEFLATED_PNG = "http://img.test/c.png"
VIDEO = "http://vid.test/clip.mp4"
SCREENSHOT = "urn:screenshot:http://forum.test/thread/1"


def chunked(body: bytes, size: int = 300) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    framed = [b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks]
    return b"".join(framed) + b"0\r\n\r\n"


@dataclass
class Crawl:
    """A WARC being written, as a crawler writes one: responses, requests, resources."""

    writer: WARCWriter

    def response(
        self,
        uri: str,
        body: bytes,
        headers: list[tuple[str, str]],
        status: str = "200 OK",
        warc_headers: dict[str, str] | None = None,
    ) -> str:
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        record = self.writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict=warc_headers or {},
        )
        self.writer.write_record(record)
        return str(record.rec_headers.get_header("WARC-Record-ID"))

    def request(self, uri: str, referer: str | None, concurrent_to: str | None = None) -> None:
        headers = [("Host", uri.split("/")[2])] + ([("Referer", referer)] if referer else [])
        path = "/" + uri.split("/", 3)[3]
        http = StatusAndHeaders(f"GET {path} HTTP/1.1", headers, is_http_request=True)
        record = self.writer.create_warc_record(
            uri, "request", payload=io.BytesIO(b""), http_headers=http
        )
        if concurrent_to:
            record.rec_headers.add_header("WARC-Concurrent-To", concurrent_to)
        self.writer.write_record(record)

    def resource(self, uri: str, body: bytes, content_type: str) -> None:
        record = self.writer.create_warc_record(
            uri, "resource", payload=io.BytesIO(body), warc_content_type=content_type
        )
        self.writer.write_record(record)

    def revisit(self, uri: str, content_type: str) -> None:
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = self.writer.create_revisit_record(
            uri,
            digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            refers_to_uri=uri,
            refers_to_date="2024-05-01T10:00:00Z",
            http_headers=http,
        )
        self.writer.write_record(record)


def write_forum_crawl(writer: WARCWriter, page_ids: dict[str, str] | None = None) -> None:
    """Two forum threads, their pictures (one chunked and gzipped, one plain, one deflated),
    a video, a screenshot, a revisit, a 404 and a metadata record."""
    crawl = Crawl(writer)
    writer.write_record(writer.create_warcinfo_record("forum.warc", {"software": "test"}))
    html = [("Content-Type", "text/html; charset=utf-8")]
    crawl.request(THREAD_1, None)
    crawl.response(THREAD_1, b"<html><img src='http://img.test/a.jpg'></html>", html)
    encoded = [
        ("Content-Type", "image/jpeg"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Encoding", "gzip"),
    ]
    page = {"WARC-Page-ID": page_ids[THREAD_1]} if page_ids else None
    jpeg_id = crawl.response(
        CHUNKED_JPEG, chunked(gzip.compress(jpeg(1))), encoded, warc_headers=page
    )
    crawl.request(CHUNKED_JPEG, THREAD_1, concurrent_to=jpeg_id)  # written after, as browsers do
    crawl.response(
        THREAD_2, gzip.compress(b"<html>thread two</html>"), [*html, ("Content-Encoding", "gzip")]
    )
    crawl.request(PLAIN_PNG, THREAD_2)  # written before its response, as wget does
    crawl.response(PLAIN_PNG, png(2), [("Content-Type", "image/png")])
    crawl.response(DEFLATED_PNG, zlib.compress(png(3)), [("Content-Encoding", "deflate")])
    crawl.response(VIDEO, mp4(), [("Content-Type", "video/mp4")], status="206 Partial Content")
    crawl.resource(SCREENSHOT, jpeg(4), "image/jpeg")
    crawl.revisit(CHUNKED_JPEG, "image/jpeg")
    crawl.response("http://forum.test/missing", b"<h1>Not found</h1>", html, status="404 Not Found")
    writer.write_record(
        writer.create_warc_record(
            THREAD_1, "metadata", payload=io.BytesIO(b"outlink: x"), warc_content_type="text/plain"
        )
    )


def forum_warc(gzipped: bool = True) -> bytes:
    buffer = io.BytesIO()
    write_forum_crawl(WARCWriter(buffer, gzip=gzipped))
    return buffer.getvalue()


def target_at(data: bytes, offset: int) -> str:
    """The target URI of the record that starts at `offset`, read back from there."""
    record = next(iter(ArchiveIterator(io.BytesIO(data[offset:]))))
    return str(record.rec_headers.get_header("WARC-Target-URI"))


def by_url(result: Any) -> dict[str, Any]:
    return {candidate.media_url: candidate for candidate in result.candidates}


@pytest.mark.parametrize("gzipped", [True, False], ids=["warc.gz", "warc"])
def test_every_image_and_video_record_is_found_with_url_page_and_capture_time(
    tmp_path: Path, gzipped: bool
) -> None:
    data = forum_warc(gzipped)
    name = "forum.warc.gz" if gzipped else "forum.warc"
    (tmp_path / name).write_bytes(data)

    result = scan(WarcSource(tmp_path / name))

    found = by_url(result)
    assert set(found) == {CHUNKED_JPEG, PLAIN_PNG, DEFLATED_PNG, VIDEO, SCREENSHOT}
    assert found[CHUNKED_JPEG].data == jpeg(1)  # chunks joined, gzip undone
    assert found[DEFLATED_PNG].data == png(3)
    assert found[PLAIN_PNG].data == png(2)
    assert found[SCREENSHOT].data == jpeg(4)
    assert found[VIDEO].content_type == "video/mp4"
    assert found[VIDEO].context["http_status"] == "206"
    for candidate in result.candidates:
        file_name, offset = candidate.key.split("#")
        assert file_name == name
        assert target_at(data, int(offset)) == candidate.media_url
        assert candidate.posted_at is None
        assert candidate.context["archive"] == name
        assert candidate.context["captured_at"].startswith("20")
        assert candidate.context["record_id"].startswith("<urn:uuid:")
    assert found[CHUNKED_JPEG].page_url == THREAD_1  # Referer of the request written after
    assert found[PLAIN_PNG].page_url == THREAD_2  # Referer of the request written before
    assert found[SCREENSHOT].page_url is None
    [revisit] = result.problems
    assert "revisit" in revisit.reason and CHUNKED_JPEG in revisit.reason


def test_seen_records_are_skipped_before_their_payload_is_read(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    crawl = Crawl(WARCWriter(buffer, gzip=True))
    bad_gzip = [("Content-Type", "image/png"), ("Content-Encoding", "gzip")]
    crawl.response("http://img.test/bad.png", gzip.compress(png(1))[:40], bad_gzip)
    crawl.response(PLAIN_PNG, png(2), [("Content-Type", "image/png")])
    (tmp_path / "s.warc.gz").write_bytes(buffer.getvalue())
    first = scan(WarcSource(tmp_path / "s.warc.gz"))
    [broken] = first.problems  # found when its body is decoded

    # Once seen, the same record is passed over: its body is not even read.
    state = RecordingState(handled={broken.where})
    second = scan(WarcSource(tmp_path / "s.warc.gz"), state)

    assert second.problems == []
    assert broken.where in state.asked
    assert [c.key for c in second.candidates] == [c.key for c in first.candidates]


def test_truncated_warc_yields_the_records_before_the_cut(tmp_path: Path) -> None:
    data = forum_warc(gzipped=True)
    cut = data.index(b"\x1f\x8b", len(data) // 2)  # the file ends half-way through
    (tmp_path / "cut.warc.gz").write_bytes(data[: cut + 200])

    result = scan(WarcSource(tmp_path / "cut.warc.gz"))

    assert CHUNKED_JPEG in by_url(result)
    assert result.problems
    assert all(problem.where.startswith("cut.warc.gz#") for problem in result.problems)


@pytest.mark.parametrize("gzipped", [True, False], ids=["warc.gz", "warc"])
def test_corrupt_stretch_is_reported_and_reading_resumes_after_it(
    tmp_path: Path, gzipped: bool
) -> None:
    data = forum_warc(gzipped)
    start = data.index(b"\x1f\x8b", 600) if gzipped else data.index(b"WARC/1.", 600)
    broken = data[:start] + b"\x00garbage\xff" * 40 + data[start + 30 :]
    (tmp_path / "broken.warc").write_bytes(broken)

    result = scan(WarcSource(tmp_path / "broken.warc"))

    corrupt = [problem for problem in result.problems if "corrupt" in problem.reason]
    assert len(corrupt) == 1
    assert "skipped from offset" in corrupt[0].reason
    assert {SCREENSHOT, VIDEO, PLAIN_PNG} <= set(by_url(result))


def test_warc_gzipped_as_one_stream_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "whole.warc.gz").write_bytes(gzip.compress(forum_warc(gzipped=False)))
    result = scan(WarcSource(tmp_path / "whole.warc.gz"))
    assert set(by_url(result)) == {CHUNKED_JPEG, PLAIN_PNG, DEFLATED_PNG, VIDEO, SCREENSHOT}


def test_payload_over_the_limit_is_reported_not_read(tmp_path: Path) -> None:
    (tmp_path / "f.warc.gz").write_bytes(forum_warc())
    limits = WarcLimits(max_payload_bytes=len(jpeg(4)) - 1)
    result = scan(WarcSource(tmp_path / "f.warc.gz", limits=limits))
    large = [problem for problem in result.problems if "larger than" in problem.reason]
    assert len(large) >= 3  # the screenshot, the PNGs, the video


def test_undecodable_image_bodies_are_reported(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    crawl = Crawl(WARCWriter(buffer, gzip=True))
    brotli_like = [("Content-Type", "image/jpeg"), ("Content-Encoding", "br")]
    crawl.response("http://img.test/br.jpg", b"\x8b\x02\x80not really brotli", brotli_like)
    bad_gzip = [("Content-Type", "image/png"), ("Content-Encoding", "gzip")]
    crawl.response("http://img.test/bad.png", gzip.compress(png(1))[:40], bad_gzip)
    crawl.response(PLAIN_PNG, png(2), [("Content-Type", "image/png")])
    (tmp_path / "b.warc.gz").write_bytes(buffer.getvalue())

    result = scan(WarcSource(tmp_path / "b.warc.gz"))

    assert set(by_url(result)) == {PLAIN_PNG}
    reasons = sorted(problem.reason for problem in result.problems)
    assert "'br' is not supported" in reasons[0]
    assert "truncated gzip" in reasons[1]


def test_folder_of_warcs_is_walked_with_relative_names(tmp_path: Path) -> None:
    (tmp_path / "crawls" / "2024").mkdir(parents=True)
    (tmp_path / "crawls" / "a.warc.gz").write_bytes(forum_warc())
    (tmp_path / "crawls" / "2024" / "b.warc").write_bytes(forum_warc(gzipped=False))
    (tmp_path / "crawls" / "notes.txt").write_text("not an archive")

    result = scan(WarcSource(tmp_path / "crawls"))

    files = {candidate.key.split("#")[0] for candidate in result.candidates}
    assert files == {"a.warc.gz", "2024/b.warc"}
    assert len(result.candidates) == 10


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    result = scan(WarcSource(tmp_path / "absent.warc.gz"))
    assert result.candidates == [] and "cannot read" in result.problems[0].reason


# ------------------------------------------------------------------------------------ WACZ

PAGES = {THREAD_1: "page-1", THREAD_2: "page-2"}


def wacz_bytes(pages: dict[str, str], warc: bytes) -> bytes:
    """A WACZ as ArchiveWeb.page and Browsertrix write one: the WARC stored uncompressed in
    the zip, the pages list, and the package description."""
    lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})]
    lines += [
        json.dumps({"id": page_id, "url": url, "ts": "2024-05-01T10:00:00Z", "title": "Thread"})
        for url, page_id in pages.items()
    ]
    files = {"archive/data.warc.gz": warc, "pages/pages.jsonl": "\n".join(lines).encode()}
    package = {
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "resources": [
            {
                "name": path.split("/")[-1],
                "path": path,
                "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
            for path, data in files.items()
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr("datapackage.json", json.dumps(package))
    return buffer.getvalue()


def page_id_warc() -> bytes:
    buffer = io.BytesIO()
    write_forum_crawl(WARCWriter(buffer, gzip=True), page_ids=PAGES)
    return buffer.getvalue()


def test_wacz_records_are_found_with_pages_from_the_page_list(tmp_path: Path) -> None:
    (tmp_path / "crawl.wacz").write_bytes(wacz_bytes(PAGES, page_id_warc()))

    result = scan(WarcSource(tmp_path / "crawl.wacz"))

    found = by_url(result)
    assert set(found) == {CHUNKED_JPEG, PLAIN_PNG, DEFLATED_PNG, VIDEO, SCREENSHOT}
    jpeg_candidate = found[CHUNKED_JPEG]
    assert jpeg_candidate.key.startswith("crawl.wacz!archive/data.warc.gz#")
    assert jpeg_candidate.context["archive"] == "crawl.wacz"
    assert jpeg_candidate.context["warc"] == "archive/data.warc.gz"
    assert jpeg_candidate.page_url == THREAD_1
    assert found[PLAIN_PNG].page_url == THREAD_2
    assert found[SCREENSHOT].page_url is None  # two pages, no clue which one


def test_wacz_of_a_single_page_gives_that_page_to_every_capture(tmp_path: Path) -> None:
    (tmp_path / "one.wacz").write_bytes(wacz_bytes({THREAD_1: "p"}, forum_warc()))
    result = scan(WarcSource(tmp_path / "one.wacz"))
    assert by_url(result)[SCREENSHOT].page_url == THREAD_1
    assert by_url(result)[PLAIN_PNG].page_url == THREAD_2  # a Referer says better


def test_wacz_with_encrypted_or_bomb_warc_is_reported(tmp_path: Path) -> None:
    data = bytearray(wacz_bytes(PAGES, forum_warc()))
    data[6] |= 0x1  # the first member (the WARC) flagged as encrypted
    data[data.find(b"PK\x01\x02") + 8] |= 0x1
    (tmp_path / "locked.wacz").write_bytes(bytes(data))
    result = scan(WarcSource(tmp_path / "locked.wacz"))
    assert result.candidates == []
    assert "encrypted" in result.problems[0].reason


def test_a_corrupt_wacz_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.wacz").write_bytes(b"PK\x03\x04" + bytes(100))
    result = scan(WarcSource(tmp_path / "bad.wacz"))
    assert "not a readable WACZ" in result.problems[0].reason


def test_a_plain_zip_of_warcs_is_read_and_one_without_is_reported(tmp_path: Path) -> None:
    (tmp_path / "crawls.zip").write_bytes(zip_bytes([("2024/forum.warc.gz", forum_warc())]))
    result = scan(WarcSource(tmp_path / "crawls.zip"))
    assert len(result.candidates) == 5
    assert result.candidates[0].key.startswith("crawls.zip!2024/forum.warc.gz#")

    (tmp_path / "other.zip").write_bytes(zip_bytes([("a.jpg", jpeg(1))]))
    assert "without any WARC" in scan(WarcSource(tmp_path / "other.zip")).problems[0].reason


# ------------------------------------------------------------------------------ decoding


def test_chunked_then_gzip_bodies_are_decoded() -> None:
    body = chunked(gzip.compress(jpeg(1)), size=7)
    assert decode_http_body(body, "chunked", "gzip", 1 << 20) == jpeg(1)


@pytest.mark.parametrize(
    "compress", [zlib.compress, lambda data: zlib.compress(data)[2:-4]], ids=["zlib", "raw"]
)
def test_deflate_bodies_are_decoded_with_or_without_zlib_header(
    compress: Callable[[bytes], bytes],
) -> None:
    assert decode_http_body(compress(png(1)), "", "deflate", 1 << 20) == png(1)


def test_bodies_stored_already_decoded_are_taken_as_they_are() -> None:
    assert decode_http_body(jpeg(1), "chunked", "gzip", 1 << 20) == jpeg(1)


def test_gzip_bomb_body_is_refused() -> None:
    bomb = gzip.compress(bytes(10 << 20))
    with pytest.raises(ValueError, match=r"larger than|decompression bomb"):
        decode_http_body(bomb, "", "gzip", 1 << 20)
    head = decode_http_body(bomb, "", "gzip", 512, head=True)
    assert head == bytes(512)


def test_unknown_content_coding_is_refused() -> None:
    with pytest.raises(ValueError, match="not supported"):
        decode_http_body(b"data", "", "compress", 1 << 20)


# -------------------------------------------------------------------------------- fuzzing

_SMALL_WARC = forum_warc(gzipped=True)
_SMALL_PLAIN = forum_warc(gzipped=False)


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=1024),
        mutated(_SMALL_WARC),
        mutated(_SMALL_PLAIN),
        mutated(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 10\r\n\r\nHTTP/1.1 2"),
    )
)
def test_any_bytes_as_a_warc_yield_candidates_or_problems_never_raise(
    tmp_path: Path, data: bytes
) -> None:
    (tmp_path / "fuzz.warc").write_bytes(data)
    scan(WarcSource(tmp_path / "fuzz.warc"))


_SMALL_WACZ = wacz_bytes(PAGES, page_id_warc())


@FUZZ
@given(data=mutated(_SMALL_WACZ))
def test_any_bytes_as_a_wacz_never_raise(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "fuzz.wacz").write_bytes(b"PK" + data[2:])
    scan(WarcSource(tmp_path / "fuzz.wacz"))
