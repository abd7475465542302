"""WARC (.warc, .warc.gz) and WACZ files from any web archiving tool: the images and videos
among their response and resource records, with the URL and page they were captured from.

Owns the record walk (streamed, record by record, resynchronised past corrupt stretches), the
bounded decoding of HTTP bodies (chunked, gzip, deflate) and the page lookup (WACZ pages,
Referer). Must not read a whole archive into memory or let a malformed one escape as anything
but a Problem.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import gzip
import io
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataException
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import (
    StatusAndHeadersParserException,
)

from rempart.i18n import N_
from rempart.sources.base import Candidate, Problem, Reason, SourceState
from rempart.sources.files import (
    ARCHIVE_ERRORS,
    SNIFF_BYTES,
    ArchiveLimits,
    UnreadableMember,
    check_zip_directory,
    ratio_refusal,
    read_zip_member,
    sniff_media,
)

__all__ = ["WarcLimits", "WarcSource", "decode_http_body"]

MiB: Final = 1024 * 1024
_STEP: Final = 1 * MiB  # a record's payload is read, and judged, this much at a time
ARCHIVE_SUFFIXES: Final = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz")
_PAGE_FILES: Final = ("pages/pages.jsonl", "pages/extraPages.jsonl")
_SCAN_CHUNK: Final = 1 * MiB
_GZIP_MAGIC: Final = b"\x1f\x8b\x08"
_WARC_LINE: Final = b"\nWARC/1."
_NOT_PER_RECORD_GZIP: Final = "non-chunked gzip"

Items = Iterator[Candidate | Problem]
Record = Any  # warcio's ArcWarcRecord (warcio ships no type hints)
Opener = Callable[[], IO[bytes]]

# What warcio, zlib and gzip raise on malformed archives.
_WARC_ERRORS: Final = (
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
    ChunkedDataException,
    *ARCHIVE_ERRORS,
    KeyError,
    IndexError,
)


@dataclasses.dataclass(frozen=True, slots=True)
class WarcLimits:
    """Bounds on one scan. `wacz` bounds a WACZ like any zip (directory, ratio)."""

    max_payload_bytes: int = 512 * MiB  # one record's payload, held in memory to be hashed
    max_resyncs: int = 10_000  # attempts to find the next record past corrupt bytes, per WARC
    max_pages_bytes: int = 64 * MiB  # a WACZ's pages.jsonl
    remembered_requests: int = 10_000  # request records kept for their Referer
    wacz: ArchiveLimits = dataclasses.field(default_factory=ArchiveLimits)


class WarcSource:
    """One WARC or WACZ file, or a folder of them (walked recursively, in name order).

    Keys are `{file}#{record offset}` (`crawl.wacz!archive/data.warc.gz#1234` in a WACZ),
    the offset of the record in the (compressed) WARC, as CDX indexes give it.
    """

    name = "warc"

    def __init__(self, path: str | os.PathLike[str], *, limits: WarcLimits | None = None):
        self._path = Path(path)
        self._limits = limits or WarcLimits()

    def __repr__(self) -> str:
        return f"WarcSource({self._path.name!r})"

    def scan(self, state: SourceState) -> Items:
        for path, label in self._archives():
            yield from self._scan_file(path, label, state)

    def _archives(self) -> Iterator[tuple[Path, str]]:
        if not self._path.is_dir():
            yield self._path, self._path.name
            return
        for path in sorted(self._path.rglob("*")):
            if path.name.lower().endswith(ARCHIVE_SUFFIXES) and _regular_file(path):
                yield path, path.relative_to(self._path).as_posix()

    def _scan_file(self, path: Path, label: str, state: SourceState) -> Items:
        try:
            with path.open("rb") as handle:
                head = handle.read(4)
                size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            yield Problem(
                self.name, label, Reason.of(N_("cannot read: {error}"), error=type(exc).__name__)
            )
            return
        if head.startswith(b"PK"):
            yield from self._scan_wacz(path, label, state)
            return
        meter = _Meter()
        scan = _RecordScan(
            self.name, label, {"archive": label}, _Pages(), self._limits, state, meter
        )
        opener: Opener = lambda: path.open("rb")  # noqa: E731
        gzipped = head.startswith(b"\x1f\x8b")
        yield from scan.run(_records(self.name, opener, size, label, gzipped, self._limits, meter))

    def _scan_wacz(self, path: Path, label: str, state: SourceState) -> Items:
        with contextlib.ExitStack() as stack:
            try:
                handle = stack.enter_context(path.open("rb"))
                check_zip_directory(handle, self._limits.wacz)
                handle.seek(0)
                archive = stack.enter_context(zipfile.ZipFile(handle))
            except UnreadableMember as exc:
                yield Problem(self.name, label, exc.reason)
                return
            except ARCHIVE_ERRORS as exc:
                yield Problem(
                    self.name,
                    label,
                    Reason.of(N_("not a readable WACZ (zip): {error}"), error=_describe(exc)),
                )
                return
            pages = yield from _read_pages(archive, label, self.name, self._limits)
            members = _warc_members(archive)
            if not members:
                yield Problem(self.name, label, N_("a zip without any WARC file: not a WACZ"))
            for info in members:
                yield from self._scan_wacz_member(archive, info, label, pages, state)

    def _scan_wacz_member(
        self,
        archive: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        label: str,
        pages: _Pages,
        state: SourceState,
    ) -> Items:
        where = f"{label}!{info.filename}"
        refusal = _wacz_member_refusal(info, self._limits.wacz)
        if refusal:
            yield Problem(self.name, where, refusal)
            return
        opener: Opener = lambda: archive.open(info)  # noqa: E731
        try:
            with opener() as member:
                gzipped = member.read(2) == b"\x1f\x8b"
        except _WARC_ERRORS as exc:
            yield Problem(
                self.name,
                where,
                Reason.of(N_("unreadable member: {error}"), error=_describe(exc)),
            )
            return
        context = {"archive": label, "warc": info.filename}
        meter = _Meter()
        scan = _RecordScan(self.name, where, context, pages, self._limits, state, meter)
        yield from scan.run(
            _records(self.name, opener, info.file_size, where, gzipped, self._limits, meter)
        )


def _regular_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _describe(exc: BaseException) -> str:
    """One short printable line: warcio quotes the offending bytes, which may be binary."""
    if isinstance(exc, ArchiveLoadFailed | StatusAndHeadersParserException):
        return "no WARC record header where one should start"
    lines = str(exc).strip().splitlines()
    text = "".join(char if char.isprintable() else "?" for char in lines[0][:120]) if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---------------------------------------------------------------------------- WACZ parts


@dataclasses.dataclass(slots=True)
class _Pages:
    """The pages a WACZ says it captured: by id (Browsertrix's WARC-Page-ID) and by URL."""

    by_id: dict[str, str] = dataclasses.field(default_factory=dict)
    urls: set[str] = dataclasses.field(default_factory=set)

    @property
    def only(self) -> str | None:
        """The page, when the archive holds exactly one (every capture then belongs to it)."""
        return next(iter(self.urls)) if len(self.urls) == 1 else None

    def add(self, line: bytes) -> None:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            return
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url:
            return
        self.urls.add(url)
        if isinstance(entry.get("id"), str):
            self.by_id[entry["id"]] = url


def _read_pages(
    archive: zipfile.ZipFile, label: str, source: str, limits: WarcLimits
) -> Generator[Problem, None, _Pages]:
    pages = _Pages()
    bounds = dataclasses.replace(limits.wacz, max_file_bytes=limits.max_pages_bytes)
    for name in _PAGE_FILES:
        try:
            info = archive.getinfo(name)
        except KeyError:
            continue
        try:
            data = read_zip_member(archive, info, bounds)
        except UnreadableMember as exc:
            yield Problem(
                source,
                f"{label}!{name}",
                Reason.of(N_("{reason} (pages unknown)"), reason=exc.reason),
            )
            continue
        for line in data.splitlines():
            pages.add(line)
    return pages


def _warc_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The WARCs of a WACZ (under archive/), or of any zip of WARC files."""
    warcs = sorted(
        (info for info in archive.infolist() if info.filename.lower().endswith(ARCHIVE_SUFFIXES)),
        key=lambda info: info.filename,
    )
    in_wacz_place = [info for info in warcs if info.filename.startswith("archive/")]
    return in_wacz_place or warcs


def _wacz_member_refusal(info: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    if info.flag_bits & 0x1:
        return N_("encrypted member: cannot be read without its password")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
        return Reason.of(
            N_("compression ratio {ratio}:1 (a decompression bomb?): not read"),
            ratio=f"{ratio:.0f}",
        )
    return None


# ------------------------------------------------------------------------- record walk


class _Meter:
    """Bytes read from the (compressed) WARC, to judge what a record expands to against
    what it took on disk: a decompression bomb is stopped on the bytes it produces."""

    def __init__(self) -> None:
        self.consumed = 0
        self._record_start = 0

    def reader(self, raw: IO[bytes]) -> IO[bytes]:
        return _MeteredReader(raw, self)  # type: ignore[return-value]

    def record_starts(self) -> None:
        self._record_start = self.consumed

    def since_record(self) -> int:
        return self.consumed - self._record_start


class _MeteredReader:
    """A file read through a _Meter (seek and tell pass through)."""

    def __init__(self, raw: IO[bytes], meter: _Meter) -> None:
        self._raw = raw
        self._meter = meter

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        self._meter.consumed += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        return None  # the opener's context closes the file

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)


def _records(
    source: str,
    opener: Opener,
    size: int | None,
    where: str,
    member_gzip: bool,
    limits: WarcLimits,
    meter: _Meter,
) -> Iterator[tuple[int, Record] | Problem]:
    """Every record with its offset. Past a record it cannot parse, it looks for the next
    record start (a gzip member, or a `WARC/1.` line) and reports the bytes it skipped."""
    walk = _RecordWalk(source, opener, size, where, member_gzip, limits, meter)
    start: int | None = 0
    while start is not None:
        start = yield from walk.read_from(start)


@dataclasses.dataclass(slots=True)
class _RecordWalk:
    source: str
    opener: Opener
    size: int | None  # of the file, to tell a quiet stop before its end
    where: str
    member_gzip: bool
    limits: WarcLimits
    meter: _Meter
    whole_gzip: bool = False  # one gzip stream for the whole file: offsets are uncompressed
    produced: int = 0
    resyncs: int = 0
    broken_at: int | None = None  # start of an unreadable stretch not reported yet
    broken_reason: str = ""

    def read_from(self, start: int) -> Generator[tuple[int, Record] | Problem, None, int | None]:
        """Reads records from `start`; returns where to go on from, None when done."""
        try:
            with self._open() as raw:
                raw.seek(start)
                return (yield from self._records(raw, start))
        except _WARC_ERRORS as exc:  # the file itself (or its zip member) cannot be read
            yield Problem(
                self.source,
                f"{self.where}#{start}",
                Reason.of(N_("cannot read: {error}"), error=_describe(exc)),
            )
            return None

    def _records(
        self, raw: IO[bytes], start: int
    ) -> Generator[tuple[int, Record] | Problem, None, int | None]:
        iterator = ArchiveIterator(raw, arc2warc=True)
        records = iter(iterator)
        skip = self.produced if self.whole_gzip and start == 0 else 0
        previous: tuple[int, Record] | None = None
        while True:
            try:
                record = next(records)  # drains the previous record first
            except StopIteration:
                yield from self._cut_short(previous)
                yield from self._report_gap(None)
                yield from self._unread_tail(iterator.offset)
                return None
            except Exception as exc:  # warcio is not hardened: it raises anything
                # warcio may name an offset before `start` (seen with gzip members cut
                # short): never resume behind where this read began, or the walk cycles
                at = max(iterator.offset, start)
                return (yield from self._after_failure(raw, at, exc))
            yield from self._cut_short(previous)
            yield from self._report_gap(iterator.offset)
            previous = (iterator.offset, record)
            if skip:
                skip -= 1
                continue
            self.produced += 1
            self.meter.record_starts()
            yield iterator.offset, record

    def _unread_tail(self, stopped_at: int) -> Iterator[Problem]:
        """warcio ends quietly on a record header cut short; the offset it stopped at tells."""
        if self.size is None or self.whole_gzip or stopped_at >= self.size:
            return
        yield Problem(
            self.source,
            f"{self.where}#{stopped_at}",
            Reason.of(
                N_("the last {n} bytes are not a readable record (a truncated or damaged file)"),
                n=self.size - stopped_at,
            ),
        )

    def _cut_short(self, read: tuple[int, Record] | None) -> Iterator[Problem]:
        """A record with no Content-Length (its header was cut), or whose Content-Length runs
        past what the file holds (once drained, its stream's limit is what was missing)."""
        if read is None:
            return
        offset, record = read
        missing = getattr(record.raw_stream, "limit", 0)
        if record.length is None:
            reason: str = N_("record header cut short or without Content-Length")
        elif isinstance(missing, int) and missing > 0:
            reason = Reason.of(
                N_("truncated record: the last {n} bytes its header announces are missing"),
                n=missing,
            )
        else:
            return
        yield Problem(self.source, f"{self.where}#{offset}", reason)

    @contextlib.contextmanager
    def _open(self) -> Iterator[IO[bytes]]:
        with self.opener() as opened:
            raw = self.meter.reader(opened)
            if self.whole_gzip:
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    yield stream  # type: ignore[misc]
            else:
                yield raw

    def _after_failure(
        self, raw: IO[bytes], offset: int, exc: BaseException
    ) -> Generator[Problem, None, int | None]:
        if _NOT_PER_RECORD_GZIP in str(exc) and not self.whole_gzip and not self.resyncs:
            self.whole_gzip = True  # valid, but gzipped as one stream (not per record)
            return 0
        if self.broken_at is None:
            self.broken_at, self.broken_reason = offset, _describe(exc)
        self.resyncs += 1
        found = None
        if self.resyncs <= self.limits.max_resyncs and not self.whole_gzip:
            found = _next_record_start(raw, offset + 1, self.member_gzip)
        if found is None:
            yield from self._report_gap(None)
        return found

    def _report_gap(self, resumed_at: int | None) -> Iterator[Problem]:
        if self.broken_at is None:
            return
        if resumed_at is not None:
            reason = Reason.of(
                N_("corrupt or truncated record ({error}); skipped from offset {start} to {end}"),
                error=self.broken_reason,
                start=self.broken_at,
                end=resumed_at,
            )
        else:
            reason = Reason.of(
                N_("corrupt or truncated record ({error}); skipped from offset {start} to the end"),
                error=self.broken_reason,
                start=self.broken_at,
            )
        yield Problem(self.source, f"{self.where}#{self.broken_at}", reason)
        self.broken_at = None


def _next_record_start(raw: IO[bytes], after: int, member_gzip: bool) -> int | None:
    """Offset of the next place a record may start: a gzip member header in a per-record
    gzipped WARC, a line starting `WARC/1.` in a plain one."""
    pattern, shift = (_GZIP_MAGIC, 0) if member_gzip else (_WARC_LINE, 1)
    position = after - shift
    try:
        raw.seek(max(position, 0))
        carry = b""
        base = max(position, 0)
        while chunk := raw.read(_SCAN_CHUNK):
            window = carry + chunk
            found = window.find(pattern)
            if found >= 0:
                return base - len(carry) + found + shift
            carry = window[-(len(pattern) - 1) :]
            base += len(chunk)
    except _WARC_ERRORS:
        return None
    return None


# -------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True, slots=True)
class _Pending:
    """A candidate held back until the next record, which may be its request (Referer)."""

    candidate: Candidate
    lookups: tuple[str, ...]  # record ids and target URI, to find the request's Referer
    page_id: str | None


class _RecordScan:
    """Turns one WARC's records into candidates and problems."""

    def __init__(
        self,
        source: str,
        label: str,
        context: Mapping[str, str],
        pages: _Pages,
        limits: WarcLimits,
        state: SourceState,
        meter: _Meter,
    ) -> None:
        self._meter = meter
        self._source = source
        self._label = label
        self._context = dict(context)
        self._pages = pages
        self._limits = limits
        self._state = state
        self._referers: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._pending: _Pending | None = None

    def run(self, records: Iterator[tuple[int, Record] | Problem]) -> Items:
        for item in records:
            if isinstance(item, Problem):
                yield item
                continue
            offset, record = item
            kind = record.rec_type
            if kind == "request":
                self._remember_request(record)
            yield from self._release()
            if kind in ("response", "resource"):
                yield from self._media(offset, record)
            elif kind == "revisit":
                yield from self._revisit(offset, record)
        yield from self._release()

    # -- pages

    def _remember_request(self, record: Record) -> None:
        headers = record.http_headers
        referer = headers.get_header("Referer") if headers else None
        if not referer:
            return
        ids = [record.rec_headers.get_header("WARC-Record-ID"), _target(record)]
        ids += _all_headers(record, "WARC-Concurrent-To")
        for key in ids:
            if key:
                self._referers[key] = referer
                self._referers.move_to_end(key)
        while len(self._referers) > 3 * self._limits.remembered_requests:
            self._referers.popitem(last=False)

    def _release(self) -> Iterator[Candidate]:
        pending, self._pending = self._pending, None
        if pending is not None:
            page = self._page_of(pending)
            yield dataclasses.replace(pending.candidate, page_url=page)

    def _page_of(self, pending: _Pending) -> str | None:
        if pending.page_id and pending.page_id in self._pages.by_id:
            return self._pages.by_id[pending.page_id]
        media_url = pending.candidate.media_url
        if media_url in self._pages.urls:
            return media_url
        for key in pending.lookups:
            if key in self._referers:
                return self._referers[key]
        return self._pages.only

    # -- media

    def _media(self, offset: int, record: Record) -> Items:
        key = f"{self._label}#{offset}"
        if self._state.seen(key):
            return
        try:
            body = yield from self._payload(key, record)
        except _BrokenRecord as exc:
            yield self._problem(key, f"unreadable record: {exc}")
            return
        if body is None:
            return
        mime = sniff_media(body[:SNIFF_BYTES])
        if mime is None:
            return
        self._pending = _Pending(
            candidate=self._candidate(key, record, body, mime),
            lookups=_lookups(record),
            page_id=record.rec_headers.get_header("WARC-Page-ID"),
        )

    def _payload(self, key: str, record: Record) -> Generator[Problem, None, bytes | None]:
        """The record's payload, HTTP transfer and content encodings undone; None when it
        is not media (or not worth reporting)."""
        stream = record.raw_stream
        limit = self._limits.max_payload_bytes
        head = _read(stream, SNIFF_BYTES)
        transfer, encoding = _encodings(record)
        if sniff_media(head) is None and not (transfer or encoding):
            return None
        read = bytearray(head)
        while len(read) <= limit and (chunk := _read(stream, min(_STEP, limit + 1 - len(read)))):
            read += chunk
            refusal = ratio_refusal(
                len(read), self._meter.since_record(), self._limits.wacz, stopped=True
            )
            if refusal is not None:
                yield self._problem(key, refusal)
                return None
        body = bytes(read)
        declared_media = _declares_media(record)
        if len(body) > limit:
            if declared_media or sniff_media(head):
                yield self._problem(
                    key, Reason.of(N_("payload larger than {limit} bytes: not read"), limit=limit)
                )
            return None
        expected = record.payload_length if record.payload_length >= 0 else record.length
        if expected is not None and len(body) < expected:
            return None  # cut short: the record walk reports it once the record is drained
        if sniff_media(head):
            return body
        try:
            # Most encoded bodies are pages and scripts: decode the first bytes to know.
            head = decode_http_body(body, transfer, encoding, SNIFF_BYTES, head=True)
            if declared_media or sniff_media(head):
                return decode_http_body(body, transfer, encoding, limit)
        except ValueError as exc:
            if declared_media:
                yield self._problem(key, str(exc))
        return None

    def _candidate(self, key: str, record: Record, body: bytes, mime: str) -> Candidate:
        headers = record.rec_headers
        context = {
            **self._context,
            "captured_at": headers.get_header("WARC-Date") or "",
            "record_id": headers.get_header("WARC-Record-ID") or "",
        }
        truncated = headers.get_header("WARC-Truncated")
        if truncated:
            context["truncated"] = truncated
        status = record.http_headers.get_statuscode() if record.http_headers else None
        if status and status != "200":
            context["http_status"] = status
        return Candidate(
            source=self._source,
            key=key,
            data=body,
            media_url=_target(record),
            content_type=mime,
            context=context,
        )

    def _revisit(self, offset: int, record: Record) -> Items:
        if not _declares_media(record):
            return
        headers = record.rec_headers
        original = headers.get_header("WARC-Refers-To-Target-URI") or _target(record)
        when = headers.get_header("WARC-Refers-To-Date")
        if when:
            reason = Reason.of(
                N_(
                    "revisit record: same bytes as the capture of {original} on {when}, which "
                    "holds them (scanned there when it is in this archive)"
                ),
                original=original,
                when=when,
            )
        else:
            reason = Reason.of(
                N_(
                    "revisit record: same bytes as an earlier capture of {original}, which "
                    "holds them (scanned there when it is in this archive)"
                ),
                original=original,
            )
        yield self._problem(f"{self._label}#{offset}", reason)

    def _problem(self, where: str, reason: str) -> Problem:
        return Problem(self._source, where, reason)


class _BrokenRecord(Exception):
    """A record's stream failed while being read."""


def _read(stream: Any, size: int) -> bytes:
    """Read from warcio's record stream, which may raise anything on a damaged record."""
    try:
        data = stream.read(size)
    except Exception as exc:  # warcio is not hardened: it raises anything
        raise _BrokenRecord(_describe(exc)) from None
    if not isinstance(data, bytes):
        raise _BrokenRecord("record stream returned no bytes")
    return data


def _target(record: Record) -> str | None:
    target = record.rec_headers.get_header("WARC-Target-URI")
    return target if isinstance(target, str) and target else None


def _all_headers(record: Record, name: str) -> list[str]:
    lowered = name.lower()
    return [value for key, value in record.rec_headers.headers if key.lower() == lowered]


def _lookups(record: Record) -> tuple[str, ...]:
    """Where a request's Referer was filed: under the response's id (the request's
    WARC-Concurrent-To), the request's id (the response's), or the URL."""
    ids = [
        record.rec_headers.get_header("WARC-Record-ID"),
        *_all_headers(record, "WARC-Concurrent-To"),
    ]
    ids.append(_target(record))
    return tuple(key for key in ids if key)


def _encodings(record: Record) -> tuple[str, str]:
    headers = record.http_headers
    if not headers:
        return "", ""
    transfer = headers.get_header("Transfer-Encoding") or ""
    encoding = headers.get_header("Content-Encoding") or ""
    return transfer.lower(), encoding.lower()


def _declares_media(record: Record) -> bool:
    declared = (
        record.http_headers.get_header("Content-Type") if record.http_headers else None
    ) or (record.content_type if record.rec_type == "resource" else None)
    return isinstance(declared, str) and declared.lower().startswith(("image/", "video/"))


# ------------------------------------------------------------------------ HTTP bodies


def decode_http_body(
    body: bytes, transfer: str, encoding: str, max_bytes: int, *, head: bool = False
) -> bytes:
    """Undo chunked transfer coding, then each content coding (gzip, deflate), producing
    at most `max_bytes`, or with `head=True` only the first `max_bytes`. A body that does
    not start as the headers claim is taken as already decoded (some tools store it so).
    Raises ValueError (unsupported coding, corrupt or truncated stream, too large)."""
    if "chunked" in transfer:
        with contextlib.suppress(ValueError):
            body = _dechunk(body)
    for coding in reversed([part.strip() for part in encoding.split(",") if part.strip()]):
        if coding in ("identity", "none"):
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise ValueError(f"content-encoding {coding!r} is not supported: not read")
        body = _inflate(body, coding, max_bytes, head=head)
    return body


def _dechunk(body: bytes) -> bytes:
    parts: list[bytes] = []
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise ValueError("not chunked")
        size = int(body[position:line_end].split(b";")[0].strip() or b"x", 16)
        if size == 0:
            return b"".join(parts)
        start = line_end + 2
        if size < 0 or start + size > len(body):
            raise ValueError("chunk runs past the body")
        parts.append(body[start : start + size])
        position = start + size + 2


def _inflate(body: bytes, coding: str, max_bytes: int, *, head: bool) -> bytes:
    if coding == "deflate":
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
    elif body.startswith(b"\x1f\x8b"):
        wbits = 16 + zlib.MAX_WBITS
    else:
        return body  # not compressed after all: stored already decoded
    decompressor = zlib.decompressobj(wbits)
    data = bytearray()
    consumed = 0
    pending = b""
    try:
        # Bounded steps: at most _INFLATE_STEP bytes out of each call, and the ratio of bytes
        # produced to bytes consumed judged after each, so a bomb stops within a few MiB.
        while not decompressor.eof and len(data) <= max_bytes:
            if not pending:
                pending = body[consumed : consumed + _INFLATE_STEP]
                consumed += len(pending)
                if not pending:
                    break
            data += decompressor.decompress(pending, _INFLATE_STEP)
            pending = decompressor.unconsumed_tail
            if head and len(data) >= max_bytes:
                break
            if (
                len(data) > _BOMB_FLOOR
                and len(data) / max(consumed - len(pending), 1) > _BOMB_RATIO
            ):
                raise ValueError(
                    f"{coding} body expands more than {_BOMB_RATIO:.0f} times "
                    "(a decompression bomb?): stopped"
                )
    except zlib.error:
        if coding == "deflate" and wbits < 0:
            return body  # neither zlib nor raw deflate: stored already decoded
        raise ValueError(f"corrupt {coding} body: not read") from None
    if head:
        return bytes(data[:max_bytes])
    if len(data) > max_bytes:
        raise ValueError(f"decoded body larger than {max_bytes} bytes: not read")
    if not decompressor.eof:
        raise ValueError(f"truncated {coding} body: not read")
    return bytes(data)


_INFLATE_STEP: Final = 64 * 1024
_BOMB_FLOOR: Final = ArchiveLimits().ratio_floor  # smaller bodies are never called bombs
_BOMB_RATIO: Final = ArchiveLimits().max_ratio
