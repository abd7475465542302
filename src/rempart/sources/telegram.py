"""Telegram Desktop exports (JSON format) of a channel or group, as a folder or a zip: the
photos, videos and files its messages carry, with the message they were posted in.

Owns the reading of `result.json` (single-chat and full exports) and of the media it points
to. Must not read anything outside the export, trust a path written in the JSON, or let a
malformed export escape as anything but a Problem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, Protocol

from rempart.i18n import N_
from rempart.sources.base import Candidate, Problem, Reason, SourceState
from rempart.sources.files import (
    ARCHIVE_ERRORS,
    SNIFF_BYTES,
    ArchiveLimits,
    UnreadableMember,
    check_zip_directory,
    open_regular_file,
    read_zip_head,
    read_zip_member,
    sniff_media,
    zip_member_reader,
)
from rempart.sources.json_stream import BadValue, JsonStream, JsonStreamError

__all__ = ["TelegramExportSource", "TelegramLimits", "resolve_reference"]

MiB: Final = 1024 * 1024
RESULT_FILE: Final = "result.json"
TEXT_CHARS: Final = 200
_USERNAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")

Items = Iterator[Candidate | Problem]
# Opens a file for reading in chunks: `with opener() as read: read(n)…`
Opener = Callable[[], contextlib.AbstractContextManager[Callable[[int], bytes]]]
Json = Any  # whatever json.loads returned: checked field by field before use


@dataclasses.dataclass(frozen=True, slots=True)
class TelegramLimits:
    """`files` bounds each media file (and a zipped export, like any archive)."""

    max_json_bytes: int = 512 * MiB
    files: ArchiveLimits = dataclasses.field(default_factory=ArchiveLimits)


class _ExportTree(Protocol):
    """An export's files, by path relative to its top (a folder or a zip)."""

    def results(self) -> list[str]:
        """Paths of the result.json files: at the top, else one folder down."""
        ...

    def read(self, relative: str, max_bytes: int) -> bytes:
        """A file's bytes. Raises UnreadableMember when missing, unsafe or too large."""
        ...

    def reader(
        self, relative: str, max_bytes: int
    ) -> contextlib.AbstractContextManager[Callable[[int], bytes]]:
        """A `read(n)` over a file's bytes, raising UnreadableMember like `read` once more
        than `max_bytes` came (or, in a zip, bytes that look like a bomb)."""
        ...

    def read_media(self, relative: str, max_bytes: int) -> tuple[str, bytes] | None:
        """(MIME type, bytes) of an image or video file, None for any other file, read no
        further than its first bytes. Raises UnreadableMember like `read`."""
        ...


class TelegramExportSource:
    """A Telegram Desktop export folder (or a zip of one) in JSON format.

    Keys are `{chat id}/{message id}/{path in the JSON}`. `username` is the channel's public
    username, for t.me links, when the export does not carry it (it usually does not).
    """

    name = "telegram-export"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        username: str | None = None,
        limits: TelegramLimits | None = None,
    ) -> None:
        self._path = Path(path)
        self._username = _clean_username(username)
        self._limits = limits or TelegramLimits()

    def __repr__(self) -> str:
        return f"TelegramExportSource({self._path.name!r})"

    def scan(self, state: SourceState) -> Items:
        label = self._path.resolve().name or str(self._path)
        try:
            with _open_tree(self._path, self._limits.files) as tree:
                yield from self._scan_tree(tree, label, state)
        except UnreadableMember as exc:
            yield Problem(self.name, label, exc.reason)

    def _scan_tree(self, tree: _ExportTree, label: str, state: SourceState) -> Items:
        # Two exports of one channel (taken on different days) share messages: each key is
        # yielded once per scan.
        done: set[str] = set()
        results = tree.results()
        if not results:
            yield Problem(
                self.name,
                label,
                Reason.of(
                    N_("no {file}: export the chat in 'Machine-readable JSON' format"),
                    file=RESULT_FILE,
                ),
            )
        for result in results:
            try:
                yield from self._scan_result(tree, label, result, state, done)
            except UnreadableMember as exc:
                yield Problem(self.name, f"{label}/{result}", exc.reason)
            except (JsonStreamError, UnicodeDecodeError) as exc:
                reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                yield Problem(
                    self.name,
                    f"{label}/{result}",
                    Reason.of(N_("not valid JSON: {error}"), error=reason),
                )

    def _scan_result(
        self, tree: _ExportTree, label: str, result: str, state: SourceState, done: set[str]
    ) -> Items:
        """The messages of one result.json, read as a stream (twice: the chats' fields, then
        their messages): memory holds one message at a time, and a message that cannot be
        decoded is reported and skipped, not the whole export."""
        max_bytes = self._limits.max_json_bytes
        chats = _chat_fields(lambda: tree.reader(result, max_bytes))
        base = posixpath.dirname(result)
        scans: dict[int, _ChatScan] = {}
        with tree.reader(result, max_bytes) as read:
            for number, _, message in _messages(JsonStream(read)):
                scan = scans.get(number)
                if scan is None:
                    chat = self._chat(chats.get(number, {}), label, base)
                    scan = scans[number] = _ChatScan(chat, tree, state, self._limits, done)
                if isinstance(message, BadValue):
                    yield Problem(
                        self.name,
                        f"{scan.chat.chat_id}/?",
                        Reason.of(
                            N_("a message that cannot be read ({error}): skipped"),
                            error=message.reason,
                        ),
                    )
                elif isinstance(message, dict):
                    yield from scan.message(message)

    def _chat(self, chat: Mapping[str, Json], label: str, base: str) -> _Chat:
        return _Chat(
            source=self.name,
            label=label,
            base=base,
            chat_id=_identifier(chat.get("id")) or _identifier(chat.get("name")) or "chat",
            name=_string(chat.get("name")),
            username=self._username or _clean_username(_string(chat.get("username"))),
        )


# --------------------------------------------------------------------------- the JSON


_CHAT_FIELDS: Final = frozenset({"id", "name", "username", "type"})


def _messages(
    stream: JsonStream, *, messages: bool = True
) -> Iterator[tuple[int, dict[str, Json], Json]]:
    """(chat number, chat fields, message) for every message: single-chat exports are one
    chat; full exports list them under chats and left_chats. A message is a dict, or a
    BadValue when it could not be decoded; everything else is skipped unread. With
    `messages=False`, one (chat number, chat fields, None) per chat instead, once its fields
    are all read (a chat's fields may follow its messages)."""
    if stream.peek() != "{":
        stream.skip()
        stream.end()
        return
    yield from _chat_messages(stream, top=True, counter=[0], messages=messages)
    stream.end()


def _chat_messages(
    stream: JsonStream, *, top: bool, counter: list[int], messages: bool
) -> Iterator[tuple[int, dict[str, Json], Json]]:
    number = counter[0]
    counter[0] += 1
    fields: dict[str, Json] = {}
    for key in stream.object_keys():
        if key == "messages" and stream.peek() == "[":
            for _ in stream.array_items():  # one by one, even to skip: each is small
                if messages and stream.peek() == "{":
                    yield number, fields, stream.value()
                else:
                    stream.skip()
        elif top and key in ("chats", "left_chats") and stream.peek() == "{":
            for section_key in stream.object_keys():
                if section_key == "list" and stream.peek() == "[":
                    for _ in stream.array_items():
                        if stream.peek() == "{":
                            yield from _chat_messages(
                                stream, top=False, counter=counter, messages=messages
                            )
                        else:
                            stream.skip()
                else:
                    stream.skip()
        elif key in _CHAT_FIELDS:
            value = stream.value()
            if not isinstance(value, BadValue):
                fields[key] = value
        else:
            stream.skip()
    if not messages:
        yield number, fields, None


def _chat_fields(
    read: Callable[[], contextlib.AbstractContextManager[Callable[[int], bytes]]],
) -> dict[int, dict[str, Json]]:
    """Each chat's fields by chat number: a first pass that decodes no message."""
    with read() as reader:
        return {
            number: fields for number, fields, _ in _messages(JsonStream(reader), messages=False)
        }


def find_message(
    read: Opener,
    chat_id: str,
    message_id: str,
) -> tuple[dict[str, Json], dict[str, Json]] | None:
    """(chat fields, message) of one message of a result.json, or None. `read` opens the
    file (twice: fields first). Raises JsonStreamError or UnicodeDecodeError when the file
    is not JSON."""
    chats = _chat_fields(read)
    with read() as reader:
        for number, _, message in _messages(JsonStream(reader)):
            fields = chats.get(number, {})
            chat = _identifier(fields.get("id")) or _identifier(fields.get("name")) or "chat"
            if (
                chat == chat_id
                and isinstance(message, dict)
                and _identifier(message.get("id")) == message_id
            ):
                return fields, message
    return None


def _identifier(value: Json) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable():
        return value
    return None


def _string(value: Json) -> str:
    return value if isinstance(value, str) else ""


def _plain_text(value: Json) -> str:
    """Message text is a string, or a list of strings and entities ({"type", "text"})."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    parts = (
        part if isinstance(part, str) else _string(part.get("text"))
        for part in value
        if isinstance(part, str | dict)
    )
    return "".join(parts)


def _posted_at(message: Mapping[str, Json]) -> datetime | None:
    """From date_unixtime (UTC); the plain `date` is local time of an unknown zone."""
    value = message.get("date_unixtime")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _clean_username(value: str | None) -> str | None:
    if not value:
        return None
    name = value.strip().removeprefix("https://t.me/").removeprefix("@").strip("/")
    return name if _USERNAME.fullmatch(name) else None


def _not_included(reference: str) -> bool:
    """Telegram writes a sentence in brackets where it left a file out of the export."""
    return reference.startswith("(") and reference.endswith(")")


def resolve_reference(base: str, reference: str) -> str:
    """The path, relative to the export's top, of a file a message names. Raises
    UnreadableMember for absolute paths and any `..`: Telegram never writes them."""
    if "\x00" in reference or not reference.strip():
        raise UnreadableMember(N_("empty or malformed file path"))
    normal = reference.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        raise UnreadableMember(
            Reason.of(N_("absolute path {path!r} outside the export: refused"), path=reference)
        )
    if ".." in normal.split("/"):
        raise UnreadableMember(
            Reason.of(N_("path {path!r} climbs out of the export: refused"), path=reference)
        )
    return posixpath.normpath(posixpath.join(base, normal))


@dataclasses.dataclass(frozen=True, slots=True)
class _Chat:
    """What every candidate of one chat shares."""

    source: str
    label: str  # the export's folder or zip name
    base: str  # folder of the result.json, relative to the export's top
    chat_id: str
    name: str
    username: str | None


class _ChatScan:
    """The media of one chat's messages."""

    def __init__(
        self,
        chat: _Chat,
        tree: _ExportTree,
        state: SourceState,
        limits: TelegramLimits,
        done: set[str],
    ) -> None:
        self.chat = chat
        self._tree = tree
        self._state = state
        self._max_bytes = limits.files.max_file_bytes
        self._done = done  # keys already yielded in this scan

    def message(self, message: Mapping[str, Json]) -> Items:
        photo, file, thumbnail = (
            value if isinstance(value, str) else None
            for value in (message.get("photo"), message.get("file"), message.get("thumbnail"))
        )
        if photo is None and file is None and thumbnail is None:
            return
        message_id = _identifier(message.get("id"))
        if message_id is None:
            where = f"{self.chat.chat_id}/?"
            yield Problem(self.chat.source, where, N_("message without an id: its media skipped"))
            return
        if photo is not None:
            yield from self._media(message, message_id, photo)
        available = False
        if file is not None:
            available = yield from self._media(message, message_id, file)
        if thumbnail is not None and not available:
            yield from self._media(message, message_id, thumbnail)

    def _media(
        self, message: Mapping[str, Json], message_id: str, reference: str
    ) -> Generator[Candidate | Problem, None, bool]:
        """Yields the file's candidate or problem; returns whether the file is available
        (in the export, or already handled on an earlier scan)."""
        key = f"{self.chat.chat_id}/{message_id}/{reference}"
        if _not_included(reference):
            yield Problem(
                self.chat.source,
                key,
                Reason.of(N_("not in the export: {what}"), what=reference[1:-1][:200]),
            )
            return False
        if key in self._done or self._state.seen(key):
            return True
        self._done.add(key)
        try:
            relative = resolve_reference(self.chat.base, reference)
            media = self._tree.read_media(relative, self._max_bytes)
        except UnreadableMember as exc:
            yield Problem(self.chat.source, key, exc.reason)
            return False
        if media is not None:
            mime, data = media
            yield self._candidate(message, message_id, key, relative, data, mime)
        return True

    def _candidate(
        self,
        message: Mapping[str, Json],
        message_id: str,
        key: str,
        relative: str,
        data: bytes,
        mime: str,
    ) -> Candidate:
        chat = self.chat
        sender = message.get("from") or message.get("actor") or message.get("author")
        return Candidate(
            source=chat.source,
            key=key,
            data=data,
            media_url=f"{chat.label}/{relative}",
            page_url=f"https://t.me/{chat.username}/{message_id}" if chat.username else None,
            post_id=message_id,
            posted_at=_posted_at(message),
            content_type=mime,
            context={
                "chat": chat.name,
                "from": _string(sender),
                "text": _plain_text(message.get("text"))[:TEXT_CHARS],
            },
        )


# --------------------------------------------------------------------------- the trees


@contextlib.contextmanager
def _open_tree(path: Path, limits: ArchiveLimits) -> Iterator[_ExportTree]:
    if path.is_dir():
        yield _FolderTree(path)
        return
    if not path.is_file():
        raise UnreadableMember(N_("not found, or not a folder or a zip file"))
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnreadableMember(
            Reason.of(N_("cannot open: {error}"), error=type(exc).__name__)
        ) from None
    with handle, _open_zip(handle, limits) as archive:
        yield _ZipTree(archive, limits)


def _open_zip(handle: IO[bytes], limits: ArchiveLimits) -> zipfile.ZipFile:
    try:
        check_zip_directory(handle, limits)
        handle.seek(0)
        return zipfile.ZipFile(handle)
    except ARCHIVE_ERRORS as exc:
        reason = str(exc)[:200] or type(exc).__name__
        raise UnreadableMember(
            Reason.of(N_("neither an export folder nor a readable zip: {error}"), error=reason)
        ) from None


class _FolderTree:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._real_root = os.path.realpath(root)

    def results(self) -> list[str]:
        if (self._root / RESULT_FILE).is_file():
            return [RESULT_FILE]
        try:
            folders = sorted(path.name for path in self._root.iterdir() if path.is_dir())
        except OSError:
            return []
        return [
            f"{name}/{RESULT_FILE}"
            for name in folders
            if (self._root / name / RESULT_FILE).is_file()
        ]

    def read(self, relative: str, max_bytes: int) -> bytes:
        with self._open(relative, max_bytes) as handle:
            return self._read(handle.read, max_bytes)

    @contextlib.contextmanager
    def reader(self, relative: str, max_bytes: int) -> Iterator[Callable[[int], bytes]]:
        with self._open(relative, max_bytes) as handle:
            taken = 0

            def read(size: int) -> bytes:
                nonlocal taken
                chunk = self._read(handle.read, size)
                taken += len(chunk)
                if taken > max_bytes:  # the file grew after its size was checked
                    raise UnreadableMember(
                        Reason.of(
                            N_("{size} bytes, more than the limit of {limit}"),
                            size=taken,
                            limit=max_bytes,
                        )
                    )
                return chunk

            yield read

    def read_media(self, relative: str, max_bytes: int) -> tuple[str, bytes] | None:
        with self._open(relative, max_bytes) as handle:
            head = self._read(handle.read, SNIFF_BYTES)
            mime = sniff_media(head)
            if mime is None:
                return None
            return mime, head + self._read(handle.read, max_bytes - len(head))

    @staticmethod
    def _read(read: Callable[[int], bytes], size: int) -> bytes:
        """Up to `size` bytes, read a MiB at a time (one big read would allocate `size`)."""
        data = bytearray()
        try:
            while len(data) < size and (chunk := read(min(MiB, size - len(data)))):
                data += chunk
            return bytes(data)
        except OSError as exc:
            raise UnreadableMember(
                Reason.of(N_("cannot read: {error}"), error=type(exc).__name__)
            ) from None

    @contextlib.contextmanager
    def _open(self, relative: str, max_bytes: int) -> Iterator[IO[bytes]]:
        """The file, once it is known to lie inside the export (links resolved) and to be a
        regular file within the size limit."""
        real = os.path.realpath(self._root / relative)
        if os.path.commonpath([real, self._real_root]) != self._real_root:
            raise UnreadableMember(N_("leads out of the export folder (a link?): refused"))
        if not os.path.lexists(real):
            raise UnreadableMember(N_("listed in the export but missing from its folder"))
        with open_regular_file(real, follow_links=False) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise UnreadableMember(
                    Reason.of(
                        N_("{size} bytes, more than the limit of {limit}"),
                        size=size,
                        limit=max_bytes,
                    )
                )
            yield handle


class _ZipTree:
    def __init__(self, archive: zipfile.ZipFile, limits: ArchiveLimits) -> None:
        self._archive = archive
        self._limits = limits
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            if not info.filename.endswith("/"):  # is_dir fails on an empty name
                name = posixpath.normpath(info.filename.replace("\\", "/"))
                self._members.setdefault(name, info)

    def results(self) -> list[str]:
        if RESULT_FILE in self._members:
            return [RESULT_FILE]
        return sorted(
            name
            for name in self._members
            if name.count("/") == 1 and posixpath.basename(name) == RESULT_FILE
        )

    def read(self, relative: str, max_bytes: int) -> bytes:
        return read_zip_member(self._archive, self._member(relative), self._bounds(max_bytes))

    def reader(
        self, relative: str, max_bytes: int
    ) -> contextlib.AbstractContextManager[Callable[[int], bytes]]:
        return zip_member_reader(self._archive, self._member(relative), self._bounds(max_bytes))

    def read_media(self, relative: str, max_bytes: int) -> tuple[str, bytes] | None:
        info = self._member(relative)
        mime = sniff_media(read_zip_head(self._archive, info))
        if mime is None:
            return None
        return mime, read_zip_member(self._archive, info, self._bounds(max_bytes))

    def _member(self, relative: str) -> zipfile.ZipInfo:
        info = self._members.get(relative)
        if info is None:
            raise UnreadableMember(N_("listed in the export but missing from the zip"))
        return info

    def _bounds(self, max_bytes: int) -> ArchiveLimits:
        return dataclasses.replace(self._limits, max_file_bytes=max_bytes)
