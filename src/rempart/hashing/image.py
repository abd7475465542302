"""Everything Rempart keeps about one image file: PDQ (optionally all 8 dihedral variants),
exact digests, size, format and frame count.

Owns the assembly of those signals from bytes or a path. Must not keep the bytes or pixels,
write anything, or let a bad file escape as anything but ImageDecodeError.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import Flag, auto
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from rempart.errors import ImageDecodeError
from rempart.hashing import watermark
from rempart.hashing import windows as window_search
from rempart.hashing.decode import MAX_FILE_BYTES, decode_luma
from rempart.hashing.features import (
    FEATURE_SIDE,
    LocalFeatures,
    extract_features,
    extract_query_features,
    extract_window_features,
)
from rempart.hashing.pdq import (
    pdq_dihedral_from_luma,
    pdq_from_luma,
    pdq_from_lumas,
    pdq_steady_bits,
)
from rempart.hashing.signals import Digest, PdqHash, PdqSignal, pickled_by_fields
from rempart.hashing.windows import Window

__all__ = [
    "ImageHashes",
    "WindowHashes",
    "Windows",
    "hash_image_bytes",
    "hash_image_file",
    "hash_many",
]

StrPath = str | os.PathLike[str]
# A type variable rather than StrPath, so a list[Path] passes through generic helpers.
AnyPath = TypeVar("AnyPath", bound=StrPath)


class Windows(Flag):
    """Which windows to hash besides the whole image (see windows.py and faces.py)."""

    NONE = 0
    PICTURE = auto()  # query windows that may hold the whole original: trimmed, screen, cells…
    GRID = auto()  # fixed sub-windows, matched position to position, against overlays
    FACES = auto()  # face regions and the picture with faces blanked
    CROPS = auto()  # registration only: crops of the original, against cropped copies
    SMOOTH = auto()  # query only: the whole image smoothed, against the smoothed crops
    FEATURES = auto()  # local features (ORB keypoints) for the geometric stage (features.py)
    # coarse grids of the picture against pixelated copies (mosaic.py): every grid when
    # registering (with CROPS), a query's only when it is a mosaic
    MOSAIC = auto()


# What `bank add` (and the demo) register with each picture by default: every extra that
# finds more copies without being the person's face (faces are opt-in).
REGISTRATION_EXTRAS = Windows.CROPS | Windows.GRID | Windows.FEATURES | Windows.MOSAIC


# Kinds hashed in their 8 variants when asked for: a copy may be mirrored or turned. Grid
# cells, crops and the smoothed image are compared in the original orientation only (a
# turned copy's cells are other cells).
_TURNABLE = Windows.PICTURE | Windows.FACES


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class WindowHashes:
    """The hashes of one window: 8 variants in Dihedral order, or just the original."""

    window: Window
    variants: tuple[PdqSignal, ...]
    # a query's coarse grid (MOSAIC): which bits of its hash an altered copy keeps
    # (pdq_steady_bits), to meet the original's grid bit by bit (rempart.matching.service)
    steady: PdqHash | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ImageHashes:
    """The signals of one image file.

    `width` and `height` are the displayed size (after EXIF orientation). `format` is Pillow's
    name for it ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF", "MPO").
    `frames` > 1 (then `animated`) means only the first frame was hashed. `variants` holds
    the 8 dihedral hashes in Dihedral order when asked for, else nothing. `features`, when
    asked for (Windows.FEATURES), holds the whole picture's local features first ("whole"),
    then those of the screenshot's photo and of the collage's cells found among the query
    windows, each with its window kind.
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
    # The PDQ hash python-threatexchange and HMA compute from the raw pixels (no EXIF
    # orientation, palette indices, CMYK channels), where it differs from `pdq`: stored and
    # shared so that a partner hashing the same file finds it.
    partner_pdq: PdqSignal | None = None
    features: tuple[tuple[str, LocalFeatures], ...] = ()  # (window kind, its features)


# Query windows whose own local features are worth extracting: a picture shown small among
# text or beside other pictures, whose keypoints the page's would outnumber; the picture with
# a tiled watermark taken off, whose keypoints the watermark's glyphs took.
_FEATURE_WINDOWS = frozenset(
    {
        window_search.WindowKind.SCREEN,
        window_search.WindowKind.CELL,
        window_search.WindowKind.UNMARKED,
    }
)


def hash_image_bytes(
    data: bytes, *, dihedral: bool = False, fast: bool = False, windows: Windows = Windows.NONE
) -> ImageHashes:
    """Hash an image file's bytes. Raises ImageDecodeError if they are not a safe image.

    `fast=True` decodes JPEG at half scale: about a fifth less CPU, a few bits from the
    reference (see docs/hashing.md). Leave it off for hashes that are shared or compared
    with other tools' hashes. `windows` also hashes those windows of the image: query
    windows to find framed, captioned, screenshotted or collaged copies; registration crops,
    grid cells and faces to store with an item (see Windows).
    """
    decoded = decode_luma(data, fast=fast)
    signals = _signals(decoded.luma, dihedral)
    hashed = _window_hashes(decoded.luma, windows, dihedral)
    found = tuple(w for w, _pixels in hashed)
    return ImageHashes(
        pdq=signals[0],
        digest=_digest(data),
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        animated=decoded.animated,
        frames=decoded.frames,
        variants=signals if dihedral else (),
        windows=found,
        features=_features(decoded.luma, hashed, Windows.CROPS in windows)
        if Windows.FEATURES in windows
        else (),
        partner_pdq=_partner_pdq(decoded.partner_luma, signals[0]),
    )


def _features(
    luma: npt.NDArray[np.generic],
    windows: tuple[tuple[WindowHashes, npt.NDArray[np.generic]], ...],
    registering: bool,
) -> tuple[tuple[str, LocalFeatures], ...]:
    """The whole picture's local features (with its check points when it is being registered:
    crops are asked for only then), and those of the query windows worth it, from the pixels
    they were hashed from: a picture found on a page is scaled up to the features' side (up
    to twice), so that its keypoints are found at the sizes the registered picture's were,
    and taken as it is shown too when that is smaller: scaling up blurs fine strokes (a page
    of text or an interface shown small), whose corners then differ from the registered
    ones (bench/robustness.py, seed 7: a page of text shown 423 pixels wide on a web page,
    no point verified grown, 29 as shown)."""
    screen = window_search.WindowKind.SCREEN
    whole = window_search.WindowKind.WHOLE.value
    if registering:
        points, descriptors = extract_window_features(luma)
        wholes: tuple[LocalFeatures, ...] = (
            replace(
                extract_features(luma, checks=True),
                window_points=points,
                window_descriptors=descriptors,
            ),
        )
    else:
        wholes = extract_query_features(luma)
    found: list[tuple[str, LocalFeatures]] = [(whole, features) for features in wholes]
    for w, pixels in windows:
        if w.window.kind not in _FEATURE_WINDOWS:
            continue
        kind = w.window.kind.value
        found.append((kind, extract_features(pixels, grow=w.window.kind is screen)))
        if w.window.kind is screen and max(pixels.shape[:2]) < FEATURE_SIDE:
            found.append((kind, extract_features(pixels)))
    return tuple(found)


def _partner_pdq(luma: npt.NDArray[np.generic] | None, ours: PdqSignal) -> PdqSignal | None:
    if luma is None:
        return None
    partner = pdq_from_luma(luma)
    return partner if partner.hash != ours.hash else None


def _window_hashes(
    luma: npt.NDArray[np.generic], wanted: Windows, dihedral: bool
) -> tuple[tuple[WindowHashes, npt.NDArray[np.generic]], ...]:
    """Each window's hashes, with the pixels they were hashed from."""
    found: list[tuple[Windows, Window]] = []
    if Windows.PICTURE in wanted:
        found += [(Windows.PICTURE, w) for w in window_search.find_windows(luma)]
        found += [(Windows.PICTURE, w) for w in watermark.unmarked_windows(luma)]
    if Windows.CROPS in wanted:
        found += [(Windows.CROPS, w) for w in window_search.registration_crops(luma)]
    if Windows.SMOOTH in wanted:
        found += [(Windows.SMOOTH, w) for w in window_search.smooth_windows(luma)]
    if Windows.GRID in wanted:
        found += [(Windows.GRID, w) for w in window_search.grid_windows(luma)]
    if Windows.MOSAIC in wanted:
        registering = Windows.CROPS in wanted
        found += [
            (Windows.MOSAIC, w) for w in window_search.mosaic_windows(luma, registering=registering)
        ]
    if Windows.FACES in wanted:
        from rempart.hashing.faces import face_windows  # OpenCV loads only when asked

        found += [(Windows.FACES, w) for w in face_windows(luma)]
    pixels = list(window_search.window_pixels(luma, (w for _, w in found)))
    turned = [dihedral and bool(group & _TURNABLE) for group, _ in found]
    # the windows hashed as they are (grid cells, the smoothed image...), in one pass
    plain = iter(pdq_from_lumas([p for p, turn in zip(pixels, turned, strict=True) if not turn]))
    return tuple(
        (
            WindowHashes(
                w,
                _signals(p, True) if turn else (next(plain),),
                pdq_steady_bits(p, w.steady) if w.steady else None,
            ),
            p,
        )
        for (_, w), p, turn in zip(found, pixels, turned, strict=True)
    )


def _signals(luma: npt.NDArray[np.generic], dihedral: bool) -> tuple[PdqSignal, ...]:
    """The 8 variants in Dihedral order, or just the original's hash."""
    if dihedral:
        return tuple(pdq_dihedral_from_luma(luma).values())
    return (pdq_from_luma(luma),)


def hash_image_file(
    path: StrPath, *, dihedral: bool = False, fast: bool = False, windows: Windows = Windows.NONE
) -> ImageHashes:
    """Read and hash one file. A file that cannot be read is an ImageDecodeError too."""
    return hash_image_bytes(_read(Path(path)), dihedral=dihedral, fast=fast, windows=windows)


def hash_many(
    paths: Iterable[AnyPath],
    *,
    dihedral: bool = False,
    fast: bool = False,
    windows: Windows = Windows.NONE,
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
        raise ImageDecodeError(
            "cannot read {name}: {reason}", name=path.name, reason=reason
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ImageDecodeError(
            "{name} is over the {limit} MiB limit", name=path.name, limit=MAX_FILE_BYTES >> 20
        )
    return data


def _digest(data: bytes) -> Digest:
    return Digest(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )
