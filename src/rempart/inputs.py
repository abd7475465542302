"""Files from outside read with a size cap: never more than the cap plus one byte.

It owns the cap check on whole-file reads (bundles, lists, keys, settings); it must not
parse what it reads. `/dev/zero`, a FIFO or a huge file fails in bounded memory and time.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rempart.errors import InputError

__all__ = ["InputTooLarge", "KiB", "MiB", "read_capped", "read_text_capped"]

KiB = 1024
MiB = 1024 * KiB
_CHUNK = 1 * MiB


class InputTooLarge(InputError):
    """A file is larger than what Rempart reads for its kind."""


def read_capped(path: str | os.PathLike[str], limit: int) -> bytes:
    """The whole of `path`, or InputTooLarge as soon as more than `limit` bytes came.

    Devices (`/dev/zero`) are refused unread. Size from stat() is a first check only (a
    pipe reports 0); the bytes read are what counts, in bounded steps. OSError passes
    through for the caller to word.
    """
    path = Path(path)
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        if stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode):
            raise InputError("{path} is a device, not a file", path=str(path))
        if status.st_size > limit:
            raise _too_large(path, limit)
        data = bytearray()
        while len(data) <= limit:
            chunk = handle.read(min(_CHUNK, limit + 1 - len(data)))
            if not chunk:
                return bytes(data)
            data += chunk
    raise _too_large(path, limit)


def read_text_capped(path: str | os.PathLike[str], limit: int, encoding: str = "utf-8") -> str:
    """`read_capped` decoded; UnicodeDecodeError passes through."""
    return read_capped(path, limit).decode(encoding)


def _too_large(path: Path, limit: int) -> InputTooLarge:
    return InputTooLarge(
        "{path} is over the {limit} limit for this kind of file", path=str(path), limit=_size(limit)
    )


def _size(count: int) -> str:
    if count >= MiB and count % MiB == 0:
        return f"{count // MiB} MiB"
    if count >= KiB and count % KiB == 0:
        return f"{count // KiB} KiB"
    return f"{count} bytes"
