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

__all__ = ["Window", "WindowKind", "find_windows", "trim_flat_borders"]

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


def _flat_lines(luma: npt.NDArray[np.generic], axis: int, from_end: bool) -> int:
    """How many rows (axis 0) or columns (axis 1) from one edge are flat.

    Reads blocks of growing size from the edge and stops at the first busy line, so an image
    without borders costs a few lines, not a pass over every pixel (this runs on every query).
    """
    count = int(luma.shape[axis])
    start, step = 0, 8
    while start < count:
        stop = min(count, start + step)
        lines = slice(count - stop, count - start) if from_end else slice(start, stop)
        block = luma[lines] if axis == 0 else luma[:, lines]
        spread = np.asarray(block, dtype=np.float32).std(axis=1 - axis)
        if from_end:
            spread = spread[::-1]
        busy = np.flatnonzero(spread > _FLAT_STD)
        if busy.size:
            return start + int(busy[0])
        start, step = stop, step * 2
    return count


def trim_flat_borders(luma: npt.NDArray[np.generic]) -> Window | None:
    """The picture inside flat borders or letterbox bars, or None when there is none to trim.

    Rows are trimmed from the top and bottom while they are flat, then columns from the left
    and right within the remaining rows. A flat image, or one whose trimmed part would be too
    small to stand for the picture, gives None.
    """
    if luma.ndim != 2 or min(luma.shape) < 8:
        return None
    height, width = luma.shape
    top = _flat_lines(luma, 0, from_end=False)
    if top == height:
        return None
    bottom = height - _flat_lines(luma, 0, from_end=True)
    inner = luma[top:bottom]
    left = _flat_lines(inner, 1, from_end=False)
    right = width - _flat_lines(inner, 1, from_end=True)
    trimmed = (top / height, (height - bottom) / height, left / width, (width - right) / width)
    if max(trimmed) < _MIN_TRIM:
        return None
    if (bottom - top) * (right - left) < _MIN_KEPT_AREA * height * width:
        return None
    return Window(WindowKind.TRIMMED, left, top, right, bottom)


def find_windows(luma: npt.NDArray[np.generic]) -> tuple[Window, ...]:
    """Every query window found in the image, the whole image excepted."""
    return tuple(w for w in (trim_flat_borders(luma),) if w is not None)
