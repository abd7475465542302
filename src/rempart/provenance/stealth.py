"""Text hidden in the least significant bits of a picture's alpha channel ("stealth pnginfo",
written by NovelAI and by an AUTOMATIC1111 extension). Pure: bytes or an alpha plane in, text
out; bounded (payload and inflated size capped), never executed.

The writers put the bits column by column, top to bottom: the 15-byte magic
`stealth_pnginfo` (plain text) or `stealth_pngcomp` (gzip), the payload's length in bits as a
32-bit big-endian integer, then the payload.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from rempart.provenance.generators import MAX_TEXT

__all__ = [
    "MAX_LOOK_WIDTH",
    "HiddenTextUnreadable",
    "hidden_fields",
    "hidden_text",
    "png_may_hide_text",
]

PLAIN = b"stealth_pnginfo"
GZIP = b"stealth_pngcomp"
_HEADER_BITS = len(PLAIN) * 8 + 32
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNKS = 10_000
_MAX_FIELDS = 64
# The cheap look inflates 152 rows: at most 152 × (1 + 4 × 16384) bytes, about 10 MB.
MAX_LOOK_WIDTH = 16384


class HiddenTextUnreadable(ValueError):
    """A hidden payload was announced but is damaged, runs past the picture or is larger
    than Rempart reads."""


def _bits(alpha: NDArray[np.uint8], start: int, count: int) -> NDArray[np.uint8]:
    """`count` low bits of `alpha` from bit `start`, in the writers' column-major order;
    only the columns needed are touched."""
    height = alpha.shape[0]
    columns = -(-(start + count) // height)
    return (alpha[:, :columns].T.reshape(-1)[start : start + count] & 1).astype(np.uint8)


def _gunzip(payload: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(payload, MAX_TEXT + 1)
    except zlib.error as exc:
        raise HiddenTextUnreadable("hidden gzip payload is damaged") from exc
    if len(out) > MAX_TEXT:
        raise HiddenTextUnreadable("hidden payload larger than the limit")
    return out


def hidden_text(alpha: NDArray[np.uint8]) -> str | None:
    """The text hidden in a (height, width) alpha plane, or None when no magic is there."""
    if alpha.ndim != 2 or alpha.size < _HEADER_BITS:
        return None
    magic = np.packbits(_bits(alpha, 0, len(PLAIN) * 8)).tobytes()
    if magic not in (PLAIN, GZIP):
        return None
    length = int.from_bytes(np.packbits(_bits(alpha, len(PLAIN) * 8, 32)).tobytes(), "big")
    if length > alpha.size - _HEADER_BITS:
        raise HiddenTextUnreadable("hidden payload runs past the end of the picture")
    if length // 8 > MAX_TEXT:
        raise HiddenTextUnreadable("hidden payload larger than the limit")
    payload = np.packbits(_bits(alpha, _HEADER_BITS, length // 8 * 8)).tobytes()
    if magic == GZIP:
        payload = _gunzip(payload)
    return payload.decode("utf-8", errors="replace")


def hidden_fields(text: str) -> dict[str, str]:
    """The fields a hidden text stands for: NovelAI's JSON object (`Software`, `Source`,
    `Comment`…), else AUTOMATIC1111's `parameters` text."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text[:MAX_TEXT])
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, Mapping):
            fields: dict[str, str] = {}
            for key, value in list(data.items())[:_MAX_FIELDS]:
                fields[str(key)[:80]] = value if isinstance(value, str) else json.dumps(value)
            return fields
    return {"parameters": text}


def png_may_hide_text(data: bytes) -> bool | None:
    """Whether an 8-bit RGBA PNG starts with a hidden-text magic, read from the first column
    of its first rows only (no more is inflated than those rows): True or False; None when
    that cannot be told this cheaply (another kind of PNG, under 152 rows, wider than
    MAX_LOOK_WIDTH, damaged): decode it whole, within the caller's own bounds."""
    if not data.startswith(_PNG_MAGIC):
        return None
    rows = _HEADER_BITS
    pos, header = len(_PNG_MAGIC), None
    inflater, raw, need = zlib.decompressobj(), b"", 0
    for _n in range(_MAX_CHUNKS):
        if pos + 8 > len(data) or len(raw) >= need > 0:
            break
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR" and len(body) == 13 and header is None:
            header = struct.unpack(">IIBBBBB", body)
            width, height, depth, colour, _compression, _filter, interlace = header
            if depth != 8 or colour != 6 or interlace or height < rows:
                return None
            if not 0 < width <= MAX_LOOK_WIDTH:
                return None
            need = rows * (1 + 4 * width)
        elif kind == b"IDAT" and need:
            try:
                raw += inflater.decompress(body, need - len(raw))
            except zlib.error:
                return None
        elif kind == b"IEND":
            break
    if not need or len(raw) < need:
        return None
    stride = need // rows
    alpha = np.zeros((rows, 1), dtype=np.uint8)
    above = 0
    for row in range(rows):
        # Pixel 0 has no left neighbour: every PNG filter predicts it from the pixel above
        # (Up, Paeth), half of it (Average) or nothing (None, Sub).
        kind, value = raw[row * stride], raw[row * stride + 4]
        if kind in (2, 4):
            value += above
        elif kind == 3:
            value += above // 2
        above = value & 0xFF
        alpha[row, 0] = above
    magic = np.packbits(_bits(alpha, 0, len(PLAIN) * 8)).tobytes()
    return magic in (PLAIN, GZIP)
