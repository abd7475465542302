"""Evidence of a copy seen in a file-based source (a Telegram export, a folder or an archive,
a WARC/WACZ file): what that source can prove, as a `Capture` that sealing takes like a web one.

Owns the re-reading of one sighting from its source (through the source's own hardened
reader), the record as found (a Telegram message, the WARC record(s) as stored, the path
inside a folder or an archive), the media as stored with its digests (digests only in a
minor's case), the export's own metadata (digests, sizes, modification times) and the
context and checklist of such a capture. Must not sign, time-stamp, store or log: sealing
(bundle.py) and the custody log (jobs.evidence) do that, for web and file captures alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from warcio.archiveiterator import ArchiveIterator
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from rempart.clock import Clock, utc_now
from rempart.errors import CaptureError, RempartError
from rempart.evidence.artifacts import Artifact, Capture, CapturedMedia, JsonValue
from rempart.evidence.assembly import CONTEXT_JSON, WARC, _extension, _picture_signals
from rempart.evidence.checklist import source_checklist
from rempart.evidence.environment import clock_facts, machine_facts, tool_versions

__all__ = ["SOURCE_CONTEXT_FORMAT", "SOURCE_KINDS", "Sighted", "acquire_record"]

SOURCE_CONTEXT_FORMAT = "rempart-source-context/1"
SOURCE_KINDS = ("telegram", "files", "warc")
MESSAGE_JSON = "source/message.json"
_READ_CHUNK = 1 << 20
_MAX_RECORD_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sighted:
    """The sighting to acquire: its source (kind, name, settings), its key in that source and
    what the scan recorded of it (the media's SHA-256 must still be the one that matched)."""

    kind: str
    source: str
    settings: Mapping[str, Any]
    key: str
    sha256: str
    media_url: str | None = None
    page_url: str | None = None
    post_id: str | None = None
    posted_at: datetime | None = None
    context: Mapping[str, str] = field(default_factory=dict)


class _OnlyThisKey:
    """A scan state under which every other file counts as already handled: the source
    reads the one file asked for and skips the rest unread."""

    def __init__(self, key: str) -> None:
        self._key = key

    def seen(self, key: str) -> bool:
        # An archive is asked about by its own key before its members ("a.zip", then
        # "a.zip!b.jpg"): the one holding the file is read.
        return key != self._key and not self._key.startswith(key + "!")

    def validators(self, url: str) -> None:
        return None

    def save_validators(self, url: str, validators: object) -> None:
        return None


class _Sha256Writer(WARCWriter):  # type: ignore[misc]
    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def acquire_record(
    sighted: Sighted,
    *,
    operator: str,
    organisation: str,
    no_media: bool,
    clock: Clock = utc_now,
) -> Capture:
    """The Capture of one sighting from a file-based source: the source is read again, the
    media checked against the digest that matched, and the record, the export's metadata
    and who acquired it when are assembled. Raises CaptureError when the source no longer
    holds the file, or holds another one under its name."""
    if sighted.kind not in SOURCE_KINDS:
        raise CaptureError("a {kind} source is not a file-based source", kind=sighted.kind)
    started_at = clock()
    clock_state = clock_facts()
    candidate = _read_again(sighted)
    data: bytes = candidate.data
    digest = hashlib.sha256(data).hexdigest()
    if sighted.sha256 and digest != sighted.sha256:
        raise CaptureError(
            "{key} changed since it was scanned (SHA-256 {found}, not {expected}): the "
            "source no longer holds the copy that matched",
            key=sighted.key,
            found=digest,
            expected=sighted.sha256,
        )
    mime = candidate.content_type or "application/octet-stream"
    url = sighted.media_url or candidate.media_url or sighted.key
    root = Path(str(sighted.settings.get("path", ""))).expanduser()
    reader = {"telegram": _telegram, "files": _files, "warc": _warc}[sighted.kind]
    found = reader(root, sighted, no_media)
    acquired = clock()
    media_name = None if no_media else f"media/1.{_extension(mime)}"
    records = _warc_records(sighted, url, data, mime, found, no_media, acquired)
    artifacts = [Artifact(WARC, records, "application/warc", acquired)]
    if found.message is not None:
        encoded = json.dumps(found.message, ensure_ascii=False, indent=1).encode("utf-8")
        artifacts.append(Artifact(MESSAGE_JSON, encoded, "application/json", acquired))
    if media_name is not None:
        artifacts.append(Artifact(media_name, data, mime, acquired))
    media = CapturedMedia(
        url=url,
        sha256=digest,
        size=len(data),
        media_type=mime,
        artifact=media_name,
        **_picture_signals(data, mime),
    )
    finished_at = clock()
    context = _context(
        sighted,
        url=url,
        operator=operator,
        organisation=organisation,
        no_media=no_media,
        started_at=started_at,
        finished_at=finished_at,
        clock_state=clock_state,
        found=found,
        media=media,
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),  # as hash lists carry it
    )
    names = [a.name for a in artifacts] + [CONTEXT_JSON]
    context["checklist"] = source_checklist(context, names)
    encoded = json.dumps(context, ensure_ascii=False, indent=1, sort_keys=True).encode()
    artifacts.append(Artifact(CONTEXT_JSON, encoded, "application/json", finished_at))
    return Capture(
        url=url,
        final_url=url,
        link_path=(url,),
        started_at=started_at,
        finished_at=finished_at,
        artifacts=tuple(artifacts),
        media=(media,),
        context=context,
        no_media=no_media,
    )


def _read_again(sighted: Sighted) -> Any:
    """The candidate the source yields for the sighting's key, read by the source itself."""
    from rempart.sources.base import Candidate
    from rempart.sources.catalog import opened

    problems: list[str] = []
    try:
        with opened(sighted.kind, sighted.source, sighted.settings) as source:
            for item in source.scan(_OnlyThisKey(sighted.key)):
                if isinstance(item, Candidate):
                    if item.key == sighted.key:
                        return item
                elif item.where == sighted.key or not problems:
                    problems.append(item.reason)
    except RempartError as exc:
        raise CaptureError(
            "source {source} cannot be read: {reason}", source=sighted.source, reason=exc
        ) from None
    raise CaptureError(
        "source {source} no longer holds {key}{why}; check that its path ({path}) is the "
        "export, folder or file that was scanned",
        source=sighted.source,
        key=sighted.key,
        why=f" ({problems[-1]})" if problems else "",
        path=str(sighted.settings.get("path", "?")),
    )


# -------------------------------------------------------------------- what each kind proves


@dataclass(slots=True)
class _Found:
    """What a source holds beside the media: the record as found, the export's files."""

    record: dict[str, JsonValue]
    export_files: list[dict[str, JsonValue]]
    message: Any = None  # a Telegram message, as the export's JSON holds it
    # WARC records as stored in the source WARC
    raw_records: bytes | None = field(default=None, repr=False)
    raw_record_headers: list[JsonValue] = field(default_factory=list)


def _file_facts(path: Path, role: str, shown: str) -> dict[str, JsonValue]:
    """Digest, size and modification time of one file of the export, read now."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            while chunk := handle.read(_READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise CaptureError(
            "cannot read {path}: {reason}", path=shown, reason=exc.strerror or type(exc).__name__
        ) from None
    return {
        "role": role,
        "path": shown,
        "sha256": digest.hexdigest(),
        "bytes": size,
        "modified_at": datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat(),
    }


def _member_facts(data: bytes, role: str, shown: str) -> dict[str, JsonValue]:
    return {
        "role": role,
        "path": shown,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }


def _bytes_opener(
    data: bytes,
) -> Callable[[], contextlib.AbstractContextManager[Callable[[int], bytes]]]:
    return lambda: contextlib.nullcontext(io.BytesIO(data).read)


def _telegram(root: Path, sighted: Sighted, no_media: bool) -> _Found:
    from rempart.sources.files import UnreadableMember
    from rempart.sources.json_stream import JsonStreamError
    from rempart.sources.telegram import (
        TelegramLimits,
        _open_tree,
        _plain_text,
        _string,
        find_message,
    )

    chat_id, message_id, reference = ([*sighted.key.split("/", 2), "", ""])[:3]
    limits = TelegramLimits()
    files: list[dict[str, JsonValue]] = []
    if root.is_file():
        files.append(_file_facts(root, "export archive (zip)", root.name))
    try:
        with _open_tree(root, limits.files) as tree:
            for result in tree.results():
                raw = tree.read(result, limits.max_json_bytes)
                try:
                    found = find_message(_bytes_opener(raw), chat_id, message_id)
                except (JsonStreamError, UnicodeDecodeError):
                    continue
                if found is not None:
                    chat, message = found
                    shown = f"{root.name}/{result}"
                    if root.is_dir():
                        files.append(_file_facts(root / result, "result.json", shown))
                    else:
                        files.append(_member_facts(raw, "result.json", shown))
                    sender = message.get("from") or message.get("actor") or message.get("author")
                    media_path = (sighted.media_url or "").removeprefix(f"{root.name}/")
                    if root.is_dir() and media_path:
                        files.append(
                            _file_facts(
                                root / media_path, "media file", f"{root.name}/{media_path}"
                            )
                        )
                    record: dict[str, JsonValue] = {
                        "kind": "telegram message",
                        "result_json": result,
                        "chat": {
                            "id": chat.get("id") if isinstance(chat.get("id"), int | str) else None,
                            "name": _string(chat.get("name")),
                            "type": _string(chat.get("type")),
                        },
                        "message_id": message_id,
                        "date": _string(message.get("date")),
                        "date_unixtime": _string(message.get("date_unixtime")),
                        "author": _string(sender),
                        "author_id": _string(message.get("from_id") or message.get("actor_id")),
                        "text": _plain_text(message.get("text")),
                        "media_reference": reference,
                        "message_file": MESSAGE_JSON,
                    }
                    return _Found(record, files, message=message)
    except UnreadableMember as exc:
        raise CaptureError(
            "the Telegram export {path} cannot be read: {reason}",
            path=root.name,
            reason=exc.reason,
        ) from None
    raise CaptureError(
        "message {message} of chat {chat} is no longer in the Telegram export {path}",
        message=message_id,
        chat=chat_id,
        path=root.name,
    )


def _files(root: Path, sighted: Sighted, no_media: bool) -> _Found:
    label = root.resolve().name or str(root)
    inside = sighted.key
    if root.is_dir():
        inside = inside.removeprefix(f"{label}/")
        on_disk, _, member = inside.partition("!")
        disk_path = root / on_disk
        shown = f"{label}/{on_disk}"
    else:
        _, _, member = inside.partition("!")
        disk_path, shown = root, label
    role = "archive" if member else "file"
    files = [_file_facts(disk_path, role, shown)]
    nested: list[JsonValue] = list(member.split("!")) if member else []
    context: dict[str, JsonValue] = dict(sighted.context)
    record: dict[str, JsonValue] = {
        "kind": "file in an archive" if member else "file in a folder",
        "source_path": str(root),
        "file_on_disk": shown,
        "path_in_archive": nested or None,
        "context": context,
    }
    return _Found(record, files)


def _warc(root: Path, sighted: Sighted, no_media: bool) -> _Found:
    where, _, offset_text = sighted.key.rpartition("#")
    label, _, member = where.partition("!")
    try:
        offset = int(offset_text)
    except ValueError:
        raise CaptureError("{key} names no WARC record", key=sighted.key) from None
    disk_path = root / label if root.is_dir() else root
    files = [_file_facts(disk_path, "WACZ file" if member else "WARC file", label)]
    with ExitStack() as stack:
        try:
            handle: IO[bytes] = stack.enter_context(disk_path.open("rb"))
            if member:
                archive = stack.enter_context(zipfile.ZipFile(handle))
                handle = stack.enter_context(archive.open(member))
                files.append(
                    {
                        "role": "WARC file inside the WACZ",
                        "path": f"{label}!{member}",
                        "bytes": archive.getinfo(member).file_size,
                        "crc32": f"{archive.getinfo(member).CRC:08x}",
                    }
                )
            raw, headers = _stored_record(handle, offset)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise CaptureError(
                "the record {key} cannot be read again: {reason}",
                key=sighted.key,
                reason=type(exc).__name__,
            ) from None
    record: dict[str, JsonValue] = {
        "kind": "WARC record",
        "file": label,
        "member": member or None,
        "offset": offset,
        "stored_bytes": len(raw),
        "stored_sha256": hashlib.sha256(raw).hexdigest(),
        "warc_headers": headers,
        "copied": not no_media,
    }
    return _Found(record, files, raw_records=None if no_media else raw, raw_record_headers=headers)


def _stored_record(handle: IO[bytes], offset: int) -> tuple[bytes, list[JsonValue]]:
    """The bytes of the record at `offset` exactly as stored (a gzip member, or plain), and
    its WARC and HTTP headers."""
    handle.seek(offset)
    iterator = ArchiveIterator(handle)
    record = next(iter(iterator), None)
    if record is None:
        raise ValueError("no record at this offset")
    headers: list[JsonValue] = [[k, v] for k, v in record.rec_headers.headers]
    if record.http_headers is not None:
        headers.append(["(HTTP)", record.http_headers.statusline])
        headers.extend([[k, v] for k, v in record.http_headers.headers])
    iterator.read_to_end(record)
    length = iterator.get_record_length()
    if not length or length > _MAX_RECORD_BYTES:
        raise ValueError("record length out of bounds")
    handle.seek(offset)
    raw = handle.read(length)
    if len(raw) != length:
        raise ValueError("record cut short")
    return raw, headers


# ---------------------------------------------------------------------------- the WARC


def _record_uri(sighted: Sighted) -> str:
    return f"urn:rempart:{sighted.kind}:{quote(sighted.source, safe='')}:{quote(sighted.key)}"


def _warc_records(
    sighted: Sighted,
    url: str,
    data: bytes,
    mime: str,
    found: _Found,
    no_media: bool,
    at: datetime,
) -> bytes:
    """The bundle's WARC: a warcinfo record, then what the source holds: the message
    (resource), the media (resource, or a metadata record of its digests in a minor's case),
    or the source WARC's own records as stored."""
    out = io.BytesIO()
    writer = _Sha256Writer(out, gzip=True, warc_version="WARC/1.1")
    date = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = {
        "software": f"Rempart {tool_versions('none')['rempart']}",
        "format": "WARC File Format 1.1",
        "isPartOf": f"{sighted.kind} source {sighted.source}: {sighted.key}",
        "description": (
            "Records read again from a file-based source when the copy was sealed: the "
            "message or record as the source holds it and the media as stored, digested "
            "at acquisition. For a WARC source, its records are copied as stored."
        ),
        "rempart-no-media": "yes: media bodies withheld, digests only" if no_media else "no",
    }
    writer.write_record(writer.create_warcinfo_record("data.warc.gz", info))
    uri = _record_uri(sighted)
    headers = {"WARC-Date": date}
    if found.message is not None:
        body = json.dumps(found.message, ensure_ascii=False, indent=1).encode("utf-8")
        writer.write_record(
            writer.create_warc_record(
                f"{uri}#message",
                "resource",
                payload=io.BytesIO(body),
                warc_content_type="application/json",
                warc_headers_dict=headers,
            )
        )
    if found.raw_records is not None:
        out.write(_as_gzip_member(found.raw_records))
    elif no_media:
        facts = {
            "withheld": "no_media: a minor's case, digests only",
            "url": url,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "media_type": mime,
            "record": found.record if found.raw_record_headers else None,
        }
        writer.write_record(
            writer.create_warc_record(
                f"{uri}#media",
                "metadata",
                payload=io.BytesIO(json.dumps(facts, sort_keys=True).encode()),
                warc_content_type="application/json",
                warc_headers_dict=headers,
            )
        )
    else:
        writer.write_record(
            writer.create_warc_record(
                url if url.startswith(("http://", "https://")) else f"{uri}#media",
                "resource",
                payload=io.BytesIO(data),
                warc_content_type=mime,
                warc_headers_dict=headers,
            )
        )
    return out.getvalue()


def _as_gzip_member(raw: bytes) -> bytes:
    """A stored record as a gzip member of the bundle's WARC: a gzip member is copied as it
    is; an uncompressed record is compressed alone (its bytes, once decompressed, unchanged)."""
    import gzip

    if raw[:2] == b"\x1f\x8b":
        return raw
    return gzip.compress(raw, mtime=0)


# ----------------------------------------------------------------------------- context


def _context(
    sighted: Sighted,
    *,
    url: str,
    operator: str,
    organisation: str,
    no_media: bool,
    started_at: datetime,
    finished_at: datetime,
    clock_state: dict[str, JsonValue],
    found: _Found,
    media: CapturedMedia,
    md5: str,
) -> dict[str, JsonValue]:
    tools = tool_versions("none")
    tools.pop("chromium", None)
    tools.pop("playwright", None)
    return {
        "format": SOURCE_CONTEXT_FORMAT,
        "operator": {"name": operator, "organisation": organisation},
        "machine": machine_facts(),
        "tools": tools,
        "time": {
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "clock": clock_state,
        },
        "source": {
            "kind": sighted.kind,
            "name": sighted.source,
            "path": str(sighted.settings.get("path", "")),
            "key": sighted.key,
            "files": list(found.export_files),
        },
        "record": found.record,
        "posted": {
            "at": sighted.posted_at.isoformat() if sighted.posted_at else None,
            "post_id": sighted.post_id,
            "page_url": sighted.page_url,
            "context": dict(sighted.context),
        },
        "media": {
            "count": 1,
            "kept": not no_media,
            "items": [
                {
                    "url": media.url,
                    "sha256": media.sha256,
                    "md5": md5,
                    "bytes": media.size,
                    "media_type": media.media_type,
                    "artifact": media.artifact,
                }
            ],
        },
        "no_media": no_media,
    }
