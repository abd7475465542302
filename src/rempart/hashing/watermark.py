"""Half-transparent watermarks: finding text tiled across a picture in one light or dark ink at
one opacity, and the picture with that overlay taken off.

A watermark blends an ink (white or black) at a constant opacity a over the strokes of its
text: light ink turns a pixel of luma y into y + a (255 - y), dark ink into (1 - a) y. In
log(256 - y) (light ink) or log(1 + y) (dark ink) that is one constant step, K = -log(1 - a),
down on every stroke pixel whatever the picture beneath: a morphological closing wider than
the strokes fills them, and the gap it fills is K on every stroke, so that the gaps of a whole
picture pile up at K. Text tiled across the picture puts thick strokes (3 pixels or more)
there in most of it; a picture's own thin lines, flat graphics and page text give no such pile
or keep to a part of the picture. Raising each stroke pixel's gap back by up to K restores the
picture's own luma there (nearly: JPEG and the glyphs' soft edges leave faint outlines), and
its hashes and keypoints with it (bench/robustness.py: tiled text moved a copy's PDQ 30-100
bits off and took most of its keypoints).

Owns the detection and the overlay's removal. Pure: luma in, luma out; must not hash or match.
A handle in a corner is not looked for: it covers too little to move a hash or many keypoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rempart.hashing.features import FEATURE_SIDE, scaled_bytes
from rempart.hashing.signals import pickled_by_fields
from rempart.hashing.windows import Window, WindowKind

__all__ = ["Overlay", "find_overlay", "remove_overlay", "unmarked_windows"]

Luma = npt.NDArray[np.generic]
Pixels = npt.NDArray[np.float32]

# Detection and removal work on the luma reduced to at most this long side, the local
# features' own (rempart.hashing.features.FEATURE_SIDE): the unmarked picture is hashed and
# its keypoints sought at that size. Detection, on every picture, reduces it by taking the
# nearest pixel (a tenth of area means' cost; strokes survive it), removal by area means.
_WORK_SIDE = FEATURE_SIDE
# The closing's side (work pixels) when detecting: wider than most watermarks' strokes (bold
# text of 5-12 % of the picture's height: strokes of 3-12 pixels at 512; a square fills a
# diagonal stroke up to 1.4 times its side), narrower than flat areas (9: a fifth fewer
# watermarks found; 13, or a second look at half the size: more pictures taken for one).
# When removing, it grows by _KERNEL_GROWTH up to _MAX_KERNEL while that finds a share
# _MORE_STROKES larger of pixels at K: strokes too wide for it were found only in part.
_KERNEL = 11
_KERNEL_GROWTH = 4
_MAX_KERNEL = 25
_MORE_STROKES = 1.15
# Gaps are measured in steps of 1/_STEPS of log luma (a byte each: log(256) * 40 < 256), and
# K looked for between these (an opacity between ~20 and ~75 %).
_STEPS = 40
_MIN_STEP, _MAX_STEP = 0.2, 1.4
# A stroke pixel's gap lies within this share of K of it (JPEG noise, texture beneath).
_STROKE_TOLERANCE = 0.2
# Strokes: what remains of the pixels at K after an opening of 3 x 3 (a picture's own thin
# lines, page text and gridlines do not), over this share of the picture, and in most of it:
# of a 4 x 4 grid of cells, this share holds a third of the mean density or more.
_MIN_STROKES = 0.015
_MIN_CELLS = 0.75
_CELLS = 4
# Ink lies over a picture: strokes mostly of the picture's ground are that ground, the gaps
# between a page's lines of text (pages of text and interface screenshots passed every test
# above: bench/robustness.py's corpus). The ground, in each of the _CELLS x _CELLS cells (the
# light falls unevenly on a photographed page): the levels around the cell's most common one
# whose counts reach _GROUND_PEAK of its count (a scanned or photographed page's grain
# spreads it), at least _GROUND_LEVELS and at most _GROUND_SPREAD either side of it (a
# picture's broad histogram is no ground).
_GROUND_LEVELS = 3
_GROUND_SPREAD = 8
_GROUND_PEAK = 0.25
_MAX_ON_GROUND = 0.75
# A pile: a local maximum of the smoothed histogram, on this share of the pixels at least.
_MIN_PILE = 0.001
# Where strokes are taken off: the pixels at K, opened by 2 x 2 (lone pixels of texture) and
# widened by a pixel (the glyphs' soft edges); their gap is raised back by up to K.
_REMOVAL_TOLERANCE = 0.3

# log(1 + v) for each luma level: in log luma (removal), and in steps (detection)
_LOG = np.log(np.arange(256, dtype=np.float32) + 1.0)
_LOG_STEPS = np.rint(_LOG * _STEPS).astype(np.uint8)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Overlay:
    """A half-transparent overlay found on a picture: its ink light (white) or dark (black),
    and its step K = -log(1 - opacity) in log luma (see the module's docstring)."""

    light: bool
    step: float

    @property
    def opacity(self) -> float:
        return float(1.0 - np.exp(-self.step))


def _work(luma: Luma, shrink: int) -> npt.NDArray[np.uint8]:
    """The luma as bytes, reduced to at most _WORK_SIDE on its long side."""
    return np.ascontiguousarray(scaled_bytes(luma, _WORK_SIDE, shrink=shrink))


def _beneath(grey: npt.NDArray[np.uint8], light: bool, side: int) -> npt.NDArray[np.uint8]:
    """The picture with strokes of this ink narrower than `side` filled in."""
    import cv2

    kernel = np.ones((side, side), np.uint8)
    return np.asarray(cv2.morphologyEx(grey, cv2.MORPH_OPEN if light else cv2.MORPH_CLOSE, kernel))


def _gap_steps(grey: npt.NDArray[np.uint8], light: bool) -> npt.NDArray[np.uint8]:
    """How far each pixel lies below what is beneath it (in steps of log luma, toward the
    ink's opposite): a stroke of the overlay's ink lies K below, whatever the picture."""
    import cv2

    table = _LOG_STEPS[::-1].copy() if light else _LOG_STEPS
    beneath = _beneath(grey, light, _KERNEL)
    return np.asarray(cv2.subtract(cv2.LUT(beneath, table), cv2.LUT(grey, table)), np.uint8)


def _piles(gaps: npt.NDArray[np.uint8]) -> list[int]:
    """The steps where gaps pile up (local maxima of the smoothed histogram, on every other
    row), most first; at most two."""
    import cv2

    # (OpenCV's histogram: the same counts as numpy's bincount, without copying the rows)
    counts = cv2.calcHist([gaps[::2]], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    smooth = np.convolve(counts, [1, 2, 3, 2, 1], "same") / 9
    floor = _MIN_PILE * counts.sum()
    low, high = round(_MIN_STEP * _STEPS), round(_MAX_STEP * _STEPS)
    steps = smooth[low : high + 1]
    peaks = (
        (steps >= smooth[low - 1 : high]) & (steps >= smooth[low + 1 : high + 2]) & (steps >= floor)
    )
    found = np.flatnonzero(peaks) + low
    return [int(p) for p in found[np.argsort(-smooth[found], kind="stable")[:2]]]


def _strokes(grey: npt.NDArray[np.uint8], gaps: npt.NDArray[np.uint8], step: int) -> float:
    """The share of the picture in thick strokes at `step`, or 0 where they keep to a part
    of it or are the picture's own ground."""
    import cv2

    spread = _STROKE_TOLERANCE * step
    near = cv2.inRange(gaps, max(1, math.ceil(step - spread)), math.floor(step + spread))
    thick: npt.NDArray[np.uint8] = np.asarray(
        cv2.morphologyEx(near, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    )
    share = cv2.countNonZero(thick) / thick.size
    if share < _MIN_STROKES:
        return 0.0
    height, width = thick.shape
    rows, cols = height // _CELLS, width // _CELLS
    cells = thick[: rows * _CELLS, : cols * _CELLS].reshape(_CELLS, rows, _CELLS, cols)
    if float((cells.mean(axis=(1, 3)) >= 255 * share / 3).mean()) < _MIN_CELLS:
        return 0.0
    whole = (slice(0, rows * _CELLS), slice(0, cols * _CELLS))
    if _on_ground(grey[whole], thick[whole]) > _MAX_ON_GROUND:
        return 0.0
    return share


def _on_ground(grey: npt.NDArray[np.uint8], thick: npt.NDArray[np.uint8]) -> float:
    """The share of the strokes (`thick`, as `grey`: both cut to whole _CELLS x _CELLS
    cells) that lie on their cell's ground: a page's light varies across it."""
    import cv2

    height, width = grey.shape
    # each pixel's cell, numbered row by row; each cell's histogram, then its strokes' alone
    across = np.arange(_CELLS, dtype=np.uint8)
    numbers = across[:, None] * _CELLS + across
    cell = np.repeat(np.repeat(numbers, height // _CELLS, 0), width // _CELLS, 1)
    sizes, ranges = [256, _CELLS * _CELLS], [0, 256, 0, _CELLS * _CELLS]
    counts = cv2.calcHist([grey, cell], [0, 1], None, sizes, ranges).T.astype(np.intp)
    strokes = cv2.calcHist([grey, cell], [0, 1], thick, sizes, ranges).T.astype(np.intp)
    low, high = _ground(counts)
    within = np.cumsum(strokes, axis=1)
    rows = np.arange(len(counts))
    on = within[rows, high] - np.where(low > 0, within[rows, low - 1], 0)
    return float(on.sum()) / max(1, int(strokes.sum()))


def _ground(counts: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The lowest and highest level of the ground (see _GROUND_PEAK) of each histogram (a row
    of `counts`, 256 levels)."""
    level = np.argmax(counts, axis=1)[:, None]
    levels = np.arange(256)
    under = counts < _GROUND_PEAK * np.take_along_axis(counts, level, axis=1)
    # the last level under the peak's share below it, the first above it
    low = np.where(under & (levels < level), levels, -1).max(axis=1) + 1
    high = np.where(under & (levels > level), levels, 256).min(axis=1) - 1
    level = level[:, 0]
    low = level - np.clip(level - low, _GROUND_LEVELS, _GROUND_SPREAD)
    high = level + np.clip(high - level, _GROUND_LEVELS, _GROUND_SPREAD)
    return np.maximum(low, 0), np.minimum(high, 255)


def find_overlay(luma: Luma) -> Overlay | None:
    """The half-transparent text tiled across the picture, or None (see the module's
    docstring). Where light and dark ink both seem to be, the one with more strokes."""
    import cv2

    grey = _work(luma, cv2.INTER_NEAREST)
    if min(grey.shape[:2]) < 4 * _KERNEL:
        return None
    best: tuple[float, Overlay] | None = None
    for light in (True, False):
        gaps = _gap_steps(grey, light)
        for step in _piles(gaps):
            share = _strokes(grey, gaps, step)
            if share > 0 and (best is None or share > best[0]):
                best = (share, Overlay(light, step / _STEPS))
    return None if best is None else best[1]


def _log_gaps(grey: npt.NDArray[np.uint8], light: bool, side: int) -> Pixels:
    """_gap_steps in log luma, for a kernel of `side`."""
    if light:
        return np.asarray(_LOG[255 - _beneath(grey, True, side)] - _LOG[255 - grey], np.float32)
    return np.asarray(_LOG[_beneath(grey, False, side)] - _LOG[grey], np.float32)


def _widest_gaps(grey: npt.NDArray[np.uint8], overlay: Overlay) -> Pixels:
    """The gaps for the kernel that fills the overlay's strokes whole (see _MORE_STROKES)."""
    side = _KERNEL
    gaps = _log_gaps(grey, overlay.light, side)
    found = float(np.mean(np.abs(gaps - overlay.step) < _STROKE_TOLERANCE * overlay.step))
    while side < _MAX_KERNEL:
        wider = _log_gaps(grey, overlay.light, side + _KERNEL_GROWTH)
        more = float(np.mean(np.abs(wider - overlay.step) < _STROKE_TOLERANCE * overlay.step))
        if more < found * _MORE_STROKES:
            break
        side, gaps, found = side + _KERNEL_GROWTH, wider, more
    return gaps


def remove_overlay(luma: Luma, overlay: Overlay) -> Pixels:
    """The picture (reduced to at most _WORK_SIDE) with the overlay taken off its strokes."""
    import cv2

    grey = _work(luma, cv2.INTER_AREA)
    gaps = _widest_gaps(grey, overlay)
    step = overlay.step
    near = (np.abs(gaps - step) < _REMOVAL_TOLERANCE * step).astype(np.uint8)
    near = cv2.morphologyEx(near, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    strokes = cv2.dilate(near, np.ones((3, 3), np.uint8)) > 0
    lift = np.where(strokes, np.minimum(gaps, step), 0.0).astype(np.float32)
    values = grey.astype(np.float32)
    if overlay.light:  # 256 - y grows back by exp(lift)
        restored = 256.0 - (256.0 - values) * np.exp(lift)
    else:
        restored = (values + 1.0) * np.exp(lift) - 1.0
    return np.asarray(np.clip(restored, 0, 255), np.float32)


def unmarked_windows(luma: Luma) -> tuple[Window, ...]:
    """UNMARKED: the whole picture with a tiled half-transparent overlay taken off, when one
    is found (none on most pictures)."""
    overlay = find_overlay(luma)
    if overlay is None:
        return ()
    height, width = luma.shape[:2]
    return (Window(WindowKind.UNMARKED, 0, 0, width, height, overlay=overlay),)
