"""Query windows: the parts of a fetched image worth hashing besides the whole of it.

Copies come back letterboxed or framed by flat borders; a single global hash then misses them.
This module finds such windows in a luma array. Pure: arrays in, boxes out; it must not
decode, hash or match (hashing the windows and calibrating their thresholds happen elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

__all__ = ["Window", "WindowKind", "trim_flat_borders"]

# A row or column whose luma varies less than this (standard deviation, 0-255 scale) belongs
# to a bar or border: letterbox bars are flat, and JPEG noise on a flat bar stays below ~3.
_FLAT_STD = 4.0
# Trimming less than this share of a side is noise, not a border.
_MIN_TRIM = 0.02
# What remains must still be a real part of the picture.
_MIN_KEPT_AREA = 0.2


class WindowKind(StrEnum):
    WHOLE = "whole"
    TRIMMED = "trimmed"  # flat borders and letterbox bars removed


@dataclass(frozen=True, slots=True)
class Window:
    """A box (left, top, right, bottom; right and bottom exclusive) in the luma's pixels."""

    kind: WindowKind
    left: int
    top: int
    right: int
    bottom: int

    def crop(self, luma: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return luma[self.top : self.bottom, self.left : self.right]


def _first_busy(std: npt.NDArray[np.float64]) -> int:
    """Index of the first entry above the flatness threshold (len(std) if none)."""
    busy = np.flatnonzero(std > _FLAT_STD)
    return int(busy[0]) if busy.size else len(std)


def trim_flat_borders(luma: npt.NDArray[np.generic]) -> Window | None:
    """The picture inside flat borders or letterbox bars, or None when there is none to trim.

    Rows are trimmed from the top and bottom while they are flat, then columns from the left
    and right within the remaining rows. A flat image, or one whose trimmed part would be too
    small to stand for the picture, gives None.
    """
    if luma.ndim != 2 or min(luma.shape) < 8:
        return None
    values = np.asarray(luma, dtype=np.float32)
    height, width = values.shape
    row_std = values.std(axis=1)
    top = _first_busy(row_std)
    if top == height:
        return None
    bottom = height - _first_busy(row_std[::-1])
    col_std = values[top:bottom].std(axis=0)
    left = _first_busy(col_std)
    right = width - _first_busy(col_std[::-1])
    trimmed = (top / height, (height - bottom) / height, left / width, (width - right) / width)
    if max(trimmed) < _MIN_TRIM:
        return None
    if (bottom - top) * (right - left) < _MIN_KEPT_AREA * height * width:
        return None
    return Window(WindowKind.TRIMMED, left, top, right, bottom)
