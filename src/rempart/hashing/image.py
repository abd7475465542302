"""Everything Rempart keeps about one image file: PDQ (optionally all 8 dihedral variants),
exact digests, size, format and frame count.

Owns the assembly of those signals from bytes or a path. Must not keep the bytes or pixels,
write anything, or let a bad file escape as anything but ImageDecodeError.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from rempart.errors import ImageDecodeError
from rempart.hashing.decode import MAX_FILE_BYTES, decode_luma
from rempart.hashing.pdq import pdq_dihedral_from_luma, pdq_from_luma
from rempart.hashing.signals import Digest, PdqSignal
from rempart.hashing.windows import Window, find_windows

__all__ = ["ImageHashes", "WindowHashes", "hash_image_bytes", "hash_image_file", "hash_many"]

StrPath = str | os.PathLike[str]
# A type variable rather than StrPath, so a list[Path] passes through generic helpers.
AnyPath = TypeVar("AnyPath", bound=StrPath)


@dataclass(frozen=True, slots=True)
class WindowHashes:
    """The hashes of one query window: 8 variants in Dihedral order, or just the original."""

    window: Window
    variants: tuple[PdqSignal, ...]


@dataclass(frozen=True, slots=True)
class ImageHashes:
    """The signals of one image file.

    `width` and `height` are the displayed size (after EXIF orientation). `format` is Pillow's
    name for it ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF", "MPO").
    `frames` > 1 (then `animated`) means only the first frame was hashed. `variants` holds
    the 8 dihedral hashes in Dihedral order when asked for, else nothing.
    """

    pdq: PdqSignal
    digest: Digest
    width: int
    height: int
    format: str
    animated: bool
    frames: int
    variants: tuple[PdqSignal, ...] = ()
    windows: tuple[WindowHashes, ...] = ()


def hash_image_bytes(
    data: bytes, *, dihedral: bool = False, fast: bool = False, windows: bool = False
) -> ImageHashes:
    """Hash an image file's bytes. Raises ImageDecodeError if they are not a safe image.

    `fast=True` decodes JPEG at half scale: about a fifth less CPU, a few bits from the
    reference (see docs/hashing.md). Leave it off for hashes that are shared or compared
    with other tools' hashes. `windows=True` also hashes the query windows found in the
    image (see windows.py), for matching copies that were framed or letterboxed.
    """
    decoded = decode_luma(data, fast=fast)
    signals = _signals(decoded.luma, dihedral)
    return ImageHashes(
        pdq=signals[0],
        digest=_digest(data),
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        animated=decoded.animated,
        frames=decoded.frames,
        variants=signals if dihedral else (),
        windows=tuple(
            WindowHashes(w, _signals(w.crop(decoded.luma), dihedral))
            for w in (find_windows(decoded.luma) if windows else ())
        ),
    )


def _signals(luma: npt.NDArray[np.generic], dihedral: bool) -> tuple[PdqSignal, ...]:
    """The 8 variants in Dihedral order, or just the original's hash."""
    if dihedral:
        return tuple(pdq_dihedral_from_luma(luma).values())
    return (pdq_from_luma(luma),)


def hash_image_file(
    path: StrPath, *, dihedral: bool = False, fast: bool = False, windows: bool = False
) -> ImageHashes:
    """Read and hash one file. A file that cannot be read is an ImageDecodeError too."""
    return hash_image_bytes(_read(Path(path)), dihedral=dihedral, fast=fast, windows=windows)


def hash_many(
    paths: Iterable[AnyPath], *, dihedral: bool = False, fast: bool = False, windows: bool = False
) -> Iterator[tuple[Path, ImageHashes | ImageDecodeError]]:
    """Hash files one by one, in order. A bad file yields its error instead of stopping."""
    for item in paths:
        path = Path(item)
        try:
            yield path, hash_image_file(path, dihedral=dihedral, fast=fast, windows=windows)
        except ImageDecodeError as error:
            yield path, error


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            # Read one byte past the limit to tell "at the limit" from "above it" without
            # trusting stat() (pipes and special files report size 0).
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ImageDecodeError(f"cannot read {path.name}: {reason}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ImageDecodeError(f"{path.name} is over the {MAX_FILE_BYTES >> 20} MiB limit")
    return data


def _digest(data: bytes) -> Digest:
    return Digest(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )
