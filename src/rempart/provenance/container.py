"""Reading a picture's metadata out of its bytes: PNG text chunks (parsed here, bounded),
EXIF through Pillow without decoding pixels, JPEG comments and APP15. Raises on damage;
rempart.provenance.read turns that into an `unreadable` signal."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

from PIL import Image

from rempart.provenance.generators import MAX_TEXT

__all__ = ["Metadata", "read_metadata"]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNKS = 10_000
_MAX_TEXT_CHUNKS = 64
_MAX_TEXT_TOTAL = 8 * MAX_TEXT
_TAG_IMAGE_DESCRIPTION = 0x010E
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_SOFTWARE = 0x0131
_TAG_EXIF_IFD = 0x8769
_TAG_USER_COMMENT = 0x9286
_TAG_MAKER_NOTE = 0x927C


class MetadataUnreadable(ValueError):
    """The file's structure is damaged, or a part of it is larger than Rempart reads."""


@dataclass(slots=True)
class Metadata:
    """What a picture's container says, as text: no pixels."""

    format: str | None = None
    mode: str = ""
    text: dict[str, str] = field(default_factory=dict)
    make: str = ""
    model: str = ""
    software: str = ""
    description: str = ""
    maker_note: bool = False
    deepfacelab: bool = False


def _png_text(data: bytes) -> tuple[dict[str, str], bytes | None]:
    """tEXt, zTXt and iTXt chunks (compressed ones inflated no further than MAX_TEXT), and
    the eXIf chunk, read without decoding pixels (Pillow would, for chunks after IDAT)."""
    found: dict[str, str] = {}
    exif: bytes | None = None
    pos, total = len(_PNG_MAGIC), 0
    for _n in range(_MAX_CHUNKS):
        if pos + 8 > len(data):
            break
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        start, pos = pos + 8, pos + 12 + length
        if pos - 4 > len(data):
            raise MetadataUnreadable("PNG chunk runs past the end of the file")
        if kind == b"IEND":
            break
        if kind == b"eXIf" and exif is None:
            exif = data[start : start + min(length, MAX_TEXT)]
            continue
        if kind not in (b"tEXt", b"zTXt", b"iTXt") or len(found) >= _MAX_TEXT_CHUNKS:
            continue
        body = data[start : start + length]
        key, sep, rest = body.partition(b"\x00")
        if not sep or not key:
            continue
        if kind == b"tEXt":
            raw = rest
        elif kind == b"zTXt":
            raw = _inflate(rest[1:])
        else:
            compressed, rest = rest[:1], rest[2:]
            _lang, _, rest = rest.partition(b"\x00")
            _translated, _, raw = rest.partition(b"\x00")
            raw = _inflate(raw) if compressed == b"\x01" else raw
        if len(raw) > MAX_TEXT:
            raise MetadataUnreadable("PNG text chunk larger than the limit")
        total += len(raw)
        if total > _MAX_TEXT_TOTAL:
            raise MetadataUnreadable("PNG text chunks larger than the limit")
        encoding = "utf-8" if kind == b"iTXt" else "latin-1"
        found[key.decode("latin-1")[:80]] = raw.decode(encoding, errors="replace")
    return found, exif


def _inflate(raw: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_TEXT + 1)
    except zlib.error as exc:
        raise MetadataUnreadable("PNG compressed text is damaged") from exc
    if len(out) > MAX_TEXT:
        raise MetadataUnreadable("PNG compressed text larger than the limit")
    return out


def _user_comment(value: object) -> str:
    """EXIF UserComment: an 8-byte character code, then the text."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        return ""
    head, body = value[:8], value[8 : 8 + MAX_TEXT]
    if head.startswith(b"UNICODE"):
        # Writers disagree on byte order: take the one that yields ASCII-looking text.
        for codec in ("utf-16-be", "utf-16-le"):
            text = body.decode(codec, errors="replace")
            if text[:1].isascii():
                return text
        return body.decode("utf-16-be", errors="replace")
    return body.decode("utf-8", errors="replace").rstrip("\x00")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value[:MAX_TEXT].decode("utf-8", errors="replace").rstrip("\x00")
    return str(value)[:MAX_TEXT].rstrip("\x00") if value is not None else ""


def read_metadata(data: bytes) -> Metadata:
    """The metadata of `data`. Raises MetadataUnreadable (damaged), or Pillow's errors for a
    file it cannot identify; never decodes pixels."""
    meta = Metadata()
    png_exif: bytes | None = None
    is_png = data.startswith(_PNG_MAGIC)
    if is_png:
        text, png_exif = _png_text(data)
        meta.text.update(text)
    with Image.open(io.BytesIO(data)) as image:
        meta.format = image.format
        meta.mode = image.mode
        if image.format != "PNG":
            for key in ("comment", "Comment"):
                if key in image.info:
                    meta.text["Comment"] = _text(image.info[key])
        applist = getattr(image, "applist", [])
        meta.deepfacelab = any(marker == "APP15" for marker, _body in applist)
        if is_png:
            exif = Image.Exif()
            if png_exif:
                exif.load(png_exif)
        else:
            exif = image.getexif()
        meta.make = _text(exif.get(_TAG_MAKE))
        meta.model = _text(exif.get(_TAG_MODEL))
        meta.software = _text(exif.get(_TAG_SOFTWARE))
        meta.description = _text(exif.get(_TAG_IMAGE_DESCRIPTION))
        sub = exif.get_ifd(_TAG_EXIF_IFD)
        comment = _user_comment(sub.get(_TAG_USER_COMMENT))
        if comment.strip():
            meta.text["UserComment"] = comment
        meta.maker_note = bool(sub.get(_TAG_MAKER_NOTE))
    if meta.software and "Software" not in meta.text:
        meta.text["Software"] = meta.software
    return meta
