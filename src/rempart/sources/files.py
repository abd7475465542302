"""Folders and archives (zip, tar, tar.gz/bz2/xz): a victim's own screenshots or a seized
collection, walked for image and video files recognised by their leading bytes.

Owns media sniffing, the walk of folders and archives (one nested level at most) and the
limits that keep a hostile archive from exhausting memory or time; the Telegram and WARC
sources share its sniffing and zip helpers. Must not extract anything to disk, follow links,
or let a malformed archive escape as anything but a Problem.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Literal, Protocol

from rempart.errors import InputError
from rempart.hashing.sniff import SNIFF_BYTES, sniff_media
from rempart.i18n import N_
from rempart.sources.base import Candidate, Problem, Reason, SourceState

__all__ = [
    "ARCHIVE_ERRORS",
    "SNIFF_BYTES",
    "ArchiveLimits",
    "FileSource",
    "UnreadableMember",
    "check_zip_directory",
    "open_regular_file",
    "ratio_refusal",
    "read_zip_head",
    "read_zip_member",
    "sniff_archive",
    "sniff_media",
    "unsafe_member_name",
    "zip_member_reader",
]

MiB: Final = 1024 * 1024
GiB: Final = 1024 * MiB

# Enough leading bytes to recognise every format below (MPEG-TS needs three packets, tar
# its 512-byte header).
# SNIFF_BYTES and sniff_media live in rempart.hashing.sniff (every part uses them).

Items = Iterator[Candidate | Problem]
ArchiveKind = Literal["zip", "tar", "gzip", "bzip2", "xz", "7z", "rar", "zstd"]


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on what one scan reads. The defaults let a real seized collection through and
    stop a decompression bomb within a few megabytes."""

    max_file_bytes: int = 512 * MiB  # one media file or member, held in memory to be hashed
    max_archive_bytes: int = 16 * GiB  # uncompressed bytes walked in one archive, nested included
    max_members: int = 100_000  # members of one archive, nested included
    max_ratio: float = 200.0  # uncompressed / compressed size; images barely compress
    ratio_floor: int = 1 * MiB  # smaller members are never called bombs, whatever their ratio
    max_nesting: int = 1  # archives inside archives are opened this deep, no deeper


class UnreadableMember(InputError):
    """An archive member or export file refused or unreadable; `reason` says why, in words."""

    def __init__(self, reason: str) -> None:
        if isinstance(reason, Reason):
            super().__init__(reason.template, **reason.values)
        else:
            super().__init__(reason)
        self.reason = reason


# What the standard library's archive and decompression modules raise on malformed input.
ARCHIVE_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    lzma.LZMAError,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
    UnicodeError,
)


# ------------------------------------------------------------------------------ sniffing


def sniff_archive(head: bytes) -> ArchiveKind | None:
    """The kind of archive or compressed stream `head` starts, or None."""
    signatures: tuple[tuple[bytes, ArchiveKind], ...] = (
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07", "rar"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
    )
    for magic, kind in signatures:
        if head.startswith(magic):
            return kind
    return "tar" if _looks_like_tar(head) else None


def _looks_like_tar(head: bytes) -> bool:
    """A POSIX ustar/GNU magic, or an old-style header whose checksum adds up."""
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    try:
        recorded = int(head[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(head[:148]) + 8 * 32 + sum(head[156:512])
    return recorded == computed and head[0] != 0


def unsafe_member_name(name: str) -> str | None:
    """Why an archive member's name is hostile (absolute, drive letter, `..`), or None."""
    if not name:
        return N_("member has no name")
    if "\x00" in name:
        return N_("member name contains a NUL byte")
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return Reason.of(N_("absolute member name {name!r} (path traversal)"), name=name)
    if ".." in normal.split("/"):
        return Reason.of(
            N_("member name {name!r} climbs out of the archive (path traversal)"), name=name
        )
    return None


# --------------------------------------------------------------------------- zip helpers

_EOCD: Final = b"PK\x05\x06"
_ZIP64_LOCATOR: Final = b"PK\x06\x07"
_ZIP64_EOCD: Final = b"PK\x06\x06"
# A central directory entry is 46 bytes plus its name; allow generous names before calling
# a directory too large for its declared member count.
_DIRECTORY_BYTES_PER_MEMBER: Final = 1024


def check_zip_directory(fileobj: IO[bytes], limits: ArchiveLimits) -> None:
    """Refuse a zip whose central directory declares more members than the limit, before
    the standard library parses all of them into memory. Raises UnreadableMember."""
    declared = _zip_directory(fileobj)
    if declared is None:
        return  # zipfile will report the missing directory itself
    members, size = declared
    if members > limits.max_members or size > limits.max_members * _DIRECTORY_BYTES_PER_MEMBER:
        raise UnreadableMember(
            Reason.of(
                N_("archive declares {members} members, more than the limit of {limit}: not read"),
                members=members,
                limit=limits.max_members,
            )
        )


def _zip_directory(fileobj: IO[bytes]) -> tuple[int, int] | None:
    """(member count, directory size) from the end-of-central-directory records."""
    end = fileobj.seek(0, io.SEEK_END)
    tail_start = max(0, end - (22 + 65_535))
    fileobj.seek(tail_start)
    tail = fileobj.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    members, size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if members == 0xFFFF or size == 0xFFFFFFFF:
        return _zip64_directory(fileobj, tail_start + at) or (members, size)
    return members, size


def _zip64_directory(fileobj: IO[bytes], eocd_at: int) -> tuple[int, int] | None:
    if eocd_at < 20:
        return None
    fileobj.seek(eocd_at - 20)
    locator = fileobj.read(20)
    if not locator.startswith(_ZIP64_LOCATOR):
        return None
    (record_at,) = struct.unpack("<Q", locator[8:16])
    fileobj.seek(record_at)
    record = fileobj.read(56)
    if len(record) < 56 or not record.startswith(_ZIP64_EOCD):
        return None
    members, size = struct.unpack("<QQ", record[32:48])
    return int(members), int(size)


def read_zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits
) -> bytes:
    """A member's bytes, read into memory under the size and ratio limits. Raises
    UnreadableMember (encrypted, too large, bomb-like, corrupt)."""
    data = bytearray()
    with zip_member_reader(archive, info, limits) as read:
        while chunk := read(_ZIP_STEP):
            data += chunk
    return bytes(data)


@contextlib.contextmanager
def zip_member_reader(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits
) -> Iterator[Callable[[int], bytes]]:
    """A `read(n)` of the member's bytes that raises UnreadableMember (encrypted, too large,
    bomb-like, corrupt) as soon as the bytes produced say so. The directory's sizes may lie:
    what counts is what the decompressor produces against what it consumed, at every step."""
    _check_zip_member(info, limits)
    produced = 0

    def read(size: int) -> bytes:
        nonlocal produced
        try:
            chunk = member.read(min(size, _ZIP_STEP))
        except ARCHIVE_ERRORS as exc:
            raise UnreadableMember(
                Reason.of(N_("corrupt member: {error}"), error=_describe(exc))
            ) from None
        produced += len(chunk)
        if produced > limits.max_file_bytes:
            raise UnreadableMember(_too_large(produced, limits))
        refusal = ratio_refusal(produced, _zip_consumed(member, info), limits, stopped=True)
        if refusal:
            raise UnreadableMember(refusal)
        return chunk

    try:
        member = archive.open(info)
    except ARCHIVE_ERRORS as exc:
        raise UnreadableMember(
            Reason.of(N_("corrupt member: {error}"), error=_describe(exc))
        ) from None
    with member:
        yield read


_ZIP_STEP = 64 * 1024  # the decompressor reads about as much compressed input per step


def _zip_consumed(member: IO[bytes], info: zipfile.ZipInfo) -> int:
    """Compressed bytes read so far for `member` (zipfile counts down what is left)."""
    left = getattr(member, "_compress_left", None)
    return info.compress_size - left if isinstance(left, int) else info.compress_size


def read_zip_head(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's first SNIFF_BYTES. Raises UnreadableMember (encrypted, corrupt)."""
    if info.flag_bits & 0x1:
        raise UnreadableMember(N_("encrypted member: cannot be read without its password"))
    try:
        with archive.open(info) as member:
            return member.read(SNIFF_BYTES)
    except ARCHIVE_ERRORS as exc:
        raise UnreadableMember(
            Reason.of(N_("corrupt member: {error}"), error=_describe(exc))
        ) from None


def _check_zip_member(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    if info.flag_bits & 0x1:
        raise UnreadableMember(N_("encrypted member: cannot be read without its password"))
    if info.file_size > limits.max_file_bytes:
        raise UnreadableMember(_too_large(info.file_size, limits))
    refusal = ratio_refusal(info.file_size, info.compress_size, limits)
    if refusal:
        raise UnreadableMember(refusal)


def ratio_refusal(
    uncompressed: int, compressed: int, limits: ArchiveLimits, *, stopped: bool = False
) -> Reason | None:
    if uncompressed <= limits.ratio_floor:
        return None
    ratio = uncompressed / max(compressed, 1)
    if ratio <= limits.max_ratio:
        return None
    template = (
        N_("compression ratio {ratio}:1 is above {limit}:1 (a decompression bomb?): stopped")
        if stopped
        else N_("compression ratio {ratio}:1 is above {limit}:1 (a decompression bomb?): not read")
    )
    return Reason.of(template, ratio=f"{ratio:.0f}", limit=f"{limits.max_ratio:.0f}")


def _too_large(size: int, limits: ArchiveLimits) -> Reason:
    return Reason.of(
        N_("{size} bytes, more than the limit of {limit}: not read"),
        size=size,
        limit=limits.max_file_bytes,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


# ------------------------------------------------------------------------------- walking


@dataclass(slots=True)
class _Budget:
    """What is left to read of one top-level archive, its nested archives included."""

    bytes_left: int
    members_left: int
    exhausted: Reason | None = None

    def spend(self, size: int, limits: ArchiveLimits) -> bool:
        """Count `size` bytes read; False once the archive's total is spent."""
        self.bytes_left -= size
        if self.bytes_left < 0:
            self.exhausted = Reason.of(
                N_(
                    "stopped: more than {limit} uncompressed bytes in one archive "
                    "(a decompression bomb?)"
                ),
                limit=limits.max_archive_bytes,
            )
        return self.exhausted is None

    def count_member(self, limits: ArchiveLimits) -> bool:
        self.members_left -= 1
        if self.members_left < 0:
            self.exhausted = Reason.of(
                N_("stopped after {limit} members (limit reached)"), limit=limits.max_members
            )
        return self.exhausted is None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _LimitReached(Exception):
    """Raised by _CappedReader inside tarfile, which lets it through untouched."""

    def __init__(self, reason: Reason | None) -> None:
        super().__init__(reason)
        self.reason = reason


class _CountingReader(io.RawIOBase):
    """Counts the compressed bytes a decompressor pulls from the file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)


@dataclass(slots=True)
class _CappedReader:
    """The decompressed tar stream, stopped as soon as it breaks the archive's total or its
    running compression ratio breaks the limit."""

    stream: _Readable
    compressed: _CountingReader | None
    budget: _Budget
    limits: ArchiveLimits
    produced: int = field(default=0)

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.produced += len(data)
        if not self.budget.spend(len(data), self.limits):
            raise _LimitReached(self.budget.exhausted)
        if self.compressed is not None:
            refusal = ratio_refusal(
                self.produced, self.compressed.consumed, self.limits, stopped=True
            )
            if refusal:
                raise _LimitReached(refusal)
        return data


def _decompressed(kind: ArchiveKind, raw: _CountingReader) -> _Readable:
    """A decompressing reader over `raw`; it asks for bounded output on each read, unlike
    tarfile's own stream decompression."""
    buffered = io.BufferedReader(raw)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=buffered, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(buffered, mode="rb")
    return lzma.LZMAFile(buffered, mode="rb")


@dataclass(frozen=True, slots=True)
class _Walk:
    """One scan: the source's name, its limits and the pipeline's state."""

    source: str
    limits: ArchiveLimits
    state: SourceState

    def problem(self, where: str, reason: str) -> Problem:
        return Problem(source=self.source, where=where, reason=reason)

    def candidate(self, key: str, data: bytes, mime: str, archive: str, path: str) -> Candidate:
        return Candidate(
            source=self.source,
            key=key,
            data=data,
            media_url=key,
            content_type=mime,
            context={"archive": archive, "path": path},
        )


class FileSource:
    """A folder (walked recursively, links not followed) or one archive file.

    Keys are stable paths: `Screenshots/2024/a.png` for a file in a folder, and
    `collection.zip!dir/b.jpg` or `collection.zip!inner.tar!c.mp4` inside archives.
    """

    name = "files"

    def __init__(self, path: str | os.PathLike[str], *, limits: ArchiveLimits | None = None):
        self._path = Path(path)
        self._limits = limits or ArchiveLimits()

    def __repr__(self) -> str:
        return f"FileSource({self._path.name!r})"

    def scan(self, state: SourceState) -> Items:
        walk = _Walk(self.name, self._limits, state)
        label = self._path.resolve().name or str(self._path)
        if self._path.is_dir():
            yield from _scan_folder(walk, self._path, label)
        elif self._path.is_file():
            yield from _scan_disk_file(walk, self._path, label, label, label, follow_links=True)
        else:
            yield walk.problem(label, "not found, or not a folder or regular file")


def _scan_folder(walk: _Walk, root: Path, label: str) -> Items:
    """Depth-first in name order; an explicit stack, so deep trees need no recursion."""
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, relative = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield walk.problem(
                f"{label}/{relative}".rstrip("/"),
                Reason.of(N_("cannot list: {error}"), error=_describe(exc)),
            )
            continue
        subfolders: list[tuple[Path, str]] = []
        for entry in entries:
            path_in = f"{relative}/{entry.name}".lstrip("/")
            where = f"{label}/{path_in}"
            if entry.is_symlink():
                yield walk.problem(where, N_("symbolic link: not followed"))
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append((Path(entry.path), path_in))
            elif entry.is_file(follow_symlinks=False):
                yield from _scan_disk_file(walk, Path(entry.path), where, label, path_in)
            else:
                yield walk.problem(
                    where, N_("not a regular file (device, pipe or socket): skipped")
                )
        stack.extend(reversed(subfolders))


def _scan_disk_file(
    walk: _Walk, path: Path, key: str, archive: str, path_in: str, *, follow_links: bool = False
) -> Items:
    if walk.state.seen(key):
        return
    try:
        handle = open_regular_file(path, follow_links=follow_links)
    except UnreadableMember as exc:
        yield walk.problem(key, exc.reason)
        return
    try:
        with handle:
            head = handle.read(SNIFF_BYTES)
            mime = sniff_media(head)
            if mime is not None:
                data = head + handle.read(walk.limits.max_file_bytes + 1 - len(head))
                yield _media_or_problem(walk, key, data, mime, archive, path_in)
                return
            kind = sniff_archive(head)
            if kind is not None:
                handle.seek(0)
                budget = _Budget(walk.limits.max_archive_bytes, walk.limits.max_members)
                yield from _scan_archive(walk, handle, kind, key, 0, budget)
    except OSError as exc:
        yield walk.problem(key, Reason.of(N_("cannot read: {error}"), error=_describe(exc)))


def open_regular_file(path: str | os.PathLike[str], *, follow_links: bool) -> IO[bytes]:
    """A regular file opened for reading. Opened non-blocking, so that a pipe or device is
    refused rather than waited on; with `follow_links=False`, a link is refused too (one
    swapped in after a folder was listed). Raises UnreadableMember."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableMember(N_("no such file")) from None
    except OSError as exc:
        raise UnreadableMember(
            Reason.of(N_("cannot open: {error}"), error=_describe(exc))
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnreadableMember(N_("not a regular file (folder, device, pipe): skipped"))
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _media_or_problem(
    walk: _Walk, key: str, data: bytes, mime: str, archive: str, path_in: str
) -> Candidate | Problem:
    if len(data) > walk.limits.max_file_bytes:
        return walk.problem(key, _too_large(len(data), walk.limits))
    return walk.candidate(key, data, mime, archive, path_in)


def _scan_archive(
    walk: _Walk, fileobj: IO[bytes], kind: ArchiveKind, label: str, depth: int, budget: _Budget
) -> Items:
    if kind == "zip":
        yield from _scan_zip(walk, fileobj, label, depth, budget)
    elif kind in ("tar", "gzip", "bzip2", "xz"):
        yield from _scan_tar(walk, fileobj, kind, label, depth, budget)
    else:
        yield walk.problem(
            label, Reason.of(N_("{kind} archives are not supported: extract it first"), kind=kind)
        )


# ----------------------------------------------------------------------------------- zip


def _scan_zip(walk: _Walk, fileobj: IO[bytes], label: str, depth: int, budget: _Budget) -> Items:
    try:
        check_zip_directory(fileobj, walk.limits)
        fileobj.seek(0)
        archive = zipfile.ZipFile(fileobj)
    except UnreadableMember as exc:
        yield walk.problem(label, exc.reason)
        return
    except ARCHIVE_ERRORS as exc:
        yield walk.problem(
            label, Reason.of(N_("not a readable zip archive: {error}"), error=_describe(exc))
        )
        return
    with archive:
        names: set[str] = set()
        for info in archive.infolist():
            if info.filename.endswith("/"):  # ZipInfo.is_dir fails on an empty name
                continue
            if not budget.count_member(walk.limits):
                break
            yield from _zip_member(walk, archive, info, label, depth, budget, names)
            if budget.exhausted:
                break
    if budget.exhausted and depth == 0:
        yield walk.problem(label, budget.exhausted)


def _zip_member(
    walk: _Walk,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    label: str,
    depth: int,
    budget: _Budget,
    names: set[str],
) -> Items:
    key = f"{label}!{info.filename}"
    hostile = unsafe_member_name(info.filename)
    if hostile or info.filename in names:
        yield walk.problem(key, hostile or N_("duplicate member name: only the first is read"))
        return
    names.add(info.filename)
    if walk.state.seen(key):
        return
    try:
        head = read_zip_head(archive, info)
    except UnreadableMember as exc:
        yield walk.problem(key, exc.reason)
        return
    mime, kind = sniff_media(head), sniff_archive(head)
    if mime is None and kind is None:
        return
    try:
        data = read_zip_member(archive, info, walk.limits)
    except UnreadableMember as exc:
        yield walk.problem(key, exc.reason)
        return
    if not budget.spend(len(data), walk.limits):
        return
    if mime is not None:
        yield walk.candidate(key, data, mime, label, info.filename)
    elif kind is not None:
        yield from _nested(walk, data, kind, key, depth, budget)


def _nested(
    walk: _Walk, data: bytes, kind: ArchiveKind, key: str, depth: int, budget: _Budget
) -> Items:
    if depth >= walk.limits.max_nesting:
        yield walk.problem(
            key,
            Reason.of(
                N_("archive nested more than {limit} level(s) deep: not opened"),
                limit=walk.limits.max_nesting,
            ),
        )
        return
    yield from _scan_archive(walk, io.BytesIO(data), kind, key, depth + 1, budget)


# ----------------------------------------------------------------------------------- tar


def _scan_tar(
    walk: _Walk, fileobj: IO[bytes], kind: ArchiveKind, label: str, depth: int, budget: _Budget
) -> Items:
    """Read as a stream, in order: nothing is seeked back, nothing waits in memory but the
    member at hand."""
    counting = _CountingReader(fileobj) if kind != "tar" else None
    stream = _decompressed(kind, counting) if counting is not None else fileobj
    capped = _CappedReader(stream, counting, budget, walk.limits)
    members = 0
    names: set[str] = set()
    try:
        with tarfile.open(fileobj=capped, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                members += 1
                if not budget.count_member(walk.limits):
                    break
                yield from _tar_member(walk, archive, member, label, depth, budget, names)
                if budget.exhausted:
                    break
    except _LimitReached as exc:
        if not (budget.exhausted and depth > 0):  # the outermost archive reports the total
            yield walk.problem(label, exc.reason or str(exc))
        return
    except ARCHIVE_ERRORS as exc:
        yield walk.problem(label, _tar_failure(kind, members, exc))
        return
    if budget.exhausted and depth == 0:
        yield walk.problem(label, budget.exhausted)


def _tar_failure(kind: ArchiveKind, members: int, exc: BaseException) -> Reason:
    error = _describe(exc)
    if members:
        return Reason.of(
            N_("corrupt or truncated after {members} member(s): {error}"),
            members=members,
            error=error,
        )
    if kind == "tar":
        return Reason.of(N_("not a readable tar archive: {error}"), error=error)
    return Reason.of(
        N_("not a readable tar archive (a compressed file, but not a tar?): {error}"), error=error
    )


def _tar_member(
    walk: _Walk,
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    label: str,
    depth: int,
    budget: _Budget,
    names: set[str],
) -> Items:
    key = f"{label}!{member.name}"
    refusal = _tar_type_refusal(member) or unsafe_member_name(member.name)
    if refusal:
        yield walk.problem(key, refusal)
        return
    if not member.isreg():
        return
    if member.name in names:
        yield walk.problem(key, N_("duplicate member name: only the first is read"))
        return
    names.add(member.name)
    if walk.state.seen(key):
        return
    extracted = archive.extractfile(member)
    if extracted is None:
        return
    head = extracted.read(SNIFF_BYTES)
    mime, kind = sniff_media(head), sniff_archive(head)
    if mime is None and kind is None:
        return
    if member.size > walk.limits.max_file_bytes:
        yield walk.problem(key, _too_large(member.size, walk.limits))
        return
    data = head + extracted.read(walk.limits.max_file_bytes + 1 - len(head))
    if mime is not None:
        yield walk.candidate(key, data, mime, label, member.name)
    elif kind is not None:
        yield from _nested(walk, data, kind, key, depth, budget)


def _tar_type_refusal(member: tarfile.TarInfo) -> str | None:
    if member.issym() or member.islnk():
        template = (
            N_("symbolic link to {target!r}: skipped")
            if member.issym()
            else N_("hard link to {target!r}: skipped")
        )
        return Reason.of(template, target=member.linkname)
    if member.ischr() or member.isblk() or member.isfifo():
        return N_("device or pipe member: skipped")
    return None
