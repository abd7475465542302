"""PDQ hashes of a luma array: the 16x16 DCT from the C kernel, thresholded at its median.

Owns the bit order, the median rule and the 8 dihedral variants. Must not decode images or do
I/O: it takes a 2-D array of luma values (0-255 scale) and returns values from signals.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rempart.hashing import _pdqcore
from rempart.hashing.signals import Dihedral, PdqHash, PdqSignal

__all__ = [
    "MIN_HASHABLE_SIDE",
    "pdq_dihedral_from_luma",
    "pdq_from_luma",
    "pdq_from_lumas",
    "pdq_steady_bits",
]

# The reference refuses images under 5 pixels on a side (all-zero hash, quality 0). We still
# compute the hash, which keeps it from being degenerate, but report quality 0 the same way.
MIN_HASHABLE_SIDE = 5

# Index of the median the reference thresholds at: its Torben routine returns the lower median,
# the 128th smallest of the 256 coefficients, so a hash has 128 ones unless values tie.
_MEDIAN_RANK = 127

Coefficients = npt.NDArray[np.float32]


def pdq_from_luma(luma: npt.ArrayLike) -> PdqSignal:
    """PDQ hash and quality of a 2-D luma array (rows x columns, values on a 0-255 scale)."""
    coefficients, quality = _coefficients(luma)
    return PdqSignal(_thresholds(coefficients.reshape(1, -1))[0], quality)


def pdq_from_lumas(lumas: Sequence[npt.ArrayLike]) -> list[PdqSignal]:
    """pdq_from_luma of each luma array, their medians taken in one pass (a picture's grid
    cells and windows)."""
    if not lumas:
        return []
    found = [_coefficients(luma) for luma in lumas]
    hashes = _thresholds(np.stack([c.ravel() for c, _ in found]))
    return [PdqSignal(h, quality) for h, (_, quality) in zip(hashes, found, strict=True)]


def pdq_steady_bits(luma: npt.ArrayLike, count: int) -> PdqHash:
    """A mask in the hash's bit order: the `count` bits whose coefficients lie farthest from
    the median, those that a slightly altered copy of the picture keeps (a bit whose
    coefficient lies near the median flips with any noise)."""
    if not 0 < count <= 256:
        raise ValueError(f"count must be in [1, 256], got {count}")
    coefficients, _quality = _coefficients(luma)
    flat = coefficients.ravel()
    margin = np.abs(flat - np.partition(flat, _MEDIAN_RANK)[_MEDIAN_RANK])
    steady = np.zeros(256, dtype=bool)
    steady[np.argsort(-margin, kind="stable")[:count]] = True
    return PdqHash(np.packbits(steady[::-1]).tobytes())


def pdq_dihedral_from_luma(luma: npt.ArrayLike) -> dict[Dihedral, PdqSignal]:
    """The hashes of the image and of its 7 rotations and flips, keyed in Dihedral order.

    Each variant is the hash of the transformed image (np.rot90 turns counter-clockwise, as
    the reference's "rotate90"): the kernel filters with mirrored weights instead of copying
    pixels. The reference's own dihedral routine flips DCT signs instead, which is exact only
    when its sampling grid is symmetric; it can be ~16 bits off (see docs/hashing.md).
    """
    array = _as_kernel_input(luma)
    coefficients, qualities = _pdqcore.dct16_dihedral(array)
    hashes = _thresholds(np.asarray(coefficients).reshape(len(Dihedral), -1))
    return {
        variant: PdqSignal(hashes[k], _quality(array, qualities[k]))
        for k, variant in enumerate(Dihedral)
    }


def _coefficients(luma: npt.ArrayLike) -> tuple[Coefficients, int]:
    array = _as_kernel_input(luma)
    coefficients, quality = _pdqcore.dct16(array)
    return coefficients, _quality(array, quality)


def _quality(array: npt.NDArray[np.generic], quality: int) -> int:
    return 0 if min(array.shape) < MIN_HASHABLE_SIDE else quality


def _as_kernel_input(luma: npt.ArrayLike) -> npt.NDArray[np.uint8] | npt.NDArray[np.float32]:
    """The kernel takes C-contiguous uint8 or float32; anything else numeric is converted."""
    array = np.asarray(luma)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"luma must be a non-empty 2-D array, got shape {array.shape}")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"luma must be numeric, got {array.dtype}")
    converted = np.ascontiguousarray(array, dtype=np.float32)
    # NaN or infinity would turn every coefficient into NaN and the hash into noise.
    if not np.isfinite(converted).all():
        raise ValueError("luma contains NaN or infinite values")
    return converted


def _thresholds(rows: Coefficients) -> list[PdqHash]:
    """The hash of each row of 256 coefficients, in one pass (a scan hashes ~10 variants and
    windows an image): bit k (k = row * 16 + column) is set when coefficient k is above the
    row's median."""
    medians = np.partition(rows, _MEDIAN_RANK, axis=1)[:, _MEDIAN_RANK : _MEDIAN_RANK + 1]
    # the hex form prints bit 255 first, so the bits are packed most significant (k = 255) first
    packed = np.packbits((rows > medians)[:, ::-1], axis=1)
    return [PdqHash(row.tobytes()) for row in packed]
