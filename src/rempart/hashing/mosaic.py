"""Pixelated copies: finding a mosaic (constant blocks on a regular grid) in a picture, and
the coarse view of a picture that a mosaic and its original share.

A copy pixelated with blocks of a twelfth to a thirty-second of its width keeps nothing
finer than its blocks: PDQ's 16 x 16 frequencies see mostly the blocks' edges, 80-90 bits
from the original's hash. What the copy keeps is each block's mean, so the picture reduced
to a grid coarser than the blocks (area means) is nearly the same on both sides: the
original's registered hash of that grid (`mosaic_windows`), met by the query's own when the
query is found to be a mosaic (`find_mosaic`).

Owns the detection, the coarse view and how many steady bits a query's grids are compared
on (`steady_bits_for`). Must not match anything or keep pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "GRIDS",
    "Mosaic",
    "coarse_view",
    "find_mosaic",
    "grids_for",
    "plain_ground",
    "steady_bits_for",
]

Luma = npt.NDArray[np.generic]
Pixels = npt.NDArray[np.float32]

# The coarse grids registered for each picture (cells across and down, area means), and the
# side they are rendered at for PDQ (bicubic: PDQ's filters expect a picture, not 8 pixels).
GRIDS = (6, 8, 11, 16)
_RENDER_SIDE = 64
# A query's grid is also compared to the original's on its steadiest bits only: the bits of
# its hash whose coefficients lie farthest from the median (pdq.pdq_steady_bits). A coarse
# grid's hash is mostly signs of near-zero coefficients, which JPEG noise and the blocks' edges
# flip at will; these keep their sign on a copy (docs/matching.md). A mosaic with large flat
# areas (more than _LAYOUT_ALIKE of its neighbouring blocks alike: a screen, a page, a chart)
# is not compared so: it shares its steadiest bits, even 96 of them, with others of its layout.
# Between _TEXTURED_ALIKE and _LAYOUT_ALIKE (a picture on some plain ground: a sky, a wall, a
# studio backdrop; or a sparse screen) it is, with fewer of them allowed to differ
# (`plain_ground`, rempart.matching.service.MOSAIC_PLAIN_GROUND_MISSES).
_STEADY_BITS = 64
_TEXTURED_ALIKE = 0.3
_LAYOUT_ALIKE = 0.45
# A cell of a query's grid spans this many of its mosaic's blocks at least.
_CELL_BLOCKS = 1.4
# A mosaic has this many blocks across its shorter side at least, and at most this many
# across its longer side: coarser is a few blocks (nothing to compare), finer is no longer
# pixelation that defeats PDQ.
_MIN_BLOCKS = 5
_MAX_BLOCKS = 48
# Detection works on the luma reduced by block means to at most this many pixels on its long
# side (a mosaic of 48 blocks keeps blocks of 10 pixels or more).
_WORK_SIDE = 512


@dataclass(frozen=True, slots=True)
class Mosaic:
    """A mosaic found in a picture: its blocks' size in pixels (fractional after a resize)
    and where the first full block starts, on each axis; how many blocks across and down;
    the share of neighbouring blocks of one value (a screen's or a page's flat areas)."""

    block_x: float
    block_y: float
    phase_x: float
    phase_y: float
    across: float
    down: float
    alike: float = 0.0


def grids_for(mosaic: Mosaic) -> tuple[int, ...]:
    """The registered grids that the mosaic's blocks still resolve: each cell at least 1.4
    blocks wide (a smaller cell averages blocks cut by its edges)."""
    return tuple(g for g in GRIDS if g * _CELL_BLOCKS <= mosaic.across)


def steady_bits_for(mosaic: Mosaic) -> int:
    """How many steady bits of each of its grids a mosaic query is compared on (none: its
    grids are met by distance only)."""
    return 0 if mosaic.alike > _LAYOUT_ALIKE else _STEADY_BITS


def plain_ground(mosaic: Mosaic) -> bool:
    """Whether a mosaic compared on steady bits has some plain ground (more than
    _TEXTURED_ALIKE of its neighbouring blocks alike): fewer of its bits may then differ."""
    return mosaic.alike > _TEXTURED_ALIKE


def coarse_view(luma: Luma, grid: int) -> Pixels:
    """The picture reduced to area means over `grid` cells across and as many down as make
    them square, rendered at 64 x 64 for PDQ."""
    from PIL import Image

    height, width = np.asarray(luma).shape[:2]
    down = max(2, round(grid * height / width))
    image = Image.fromarray(np.ascontiguousarray(luma, dtype=np.float32), mode="F")
    cells = image.resize((grid, down), Image.Resampling.BOX)
    rendered = cells.resize((_RENDER_SIDE, _RENDER_SIDE), Image.Resampling.BICUBIC)
    out: Pixels = np.asarray(rendered, dtype=np.float32)
    return out


@dataclass(frozen=True, slots=True)
class _Comb:
    period: float  # pixels between block edges
    phase: float  # where one edge lies, in [0, period)
    strength: float  # how much of the edges' weight the comb holds (1: all of it)


# An axis is cut into blocks when most of its neighbouring pixels are alike (inside blocks)
# and its edges' weight lies on one comb; the blocks must be alike inside, unlike their
# neighbours, and of many values (two values on a grid are a checkerboard or a chart).
_ALIKE = 2.5  # luma levels: neighbours this close lie inside one block (JPEG noise)
_MIN_ALIKE = 0.55  # share of neighbouring pixels inside blocks, on each axis
_MIN_STRENGTH = 0.5  # the comb's share of the edges' weight
_SQUARE = 0.2  # blocks' width and height differ by this share at most
_MAX_RESIDUAL = 4.0  # mean luma deviation inside a block's interior
_RESIDUAL_SHARE = 0.2  # of the mean difference between neighbouring blocks
_MIN_UNLIKE_PAIRS = 0.25  # neighbouring blocks that differ by more than _ALIKE
_MIN_LEVELS = 8  # distinct block values, in steps of 4 luma levels


def find_mosaic(luma: Luma) -> Mosaic | None:
    """The mosaic that the whole picture is, or None: square blocks (of a fifth to a
    forty-eighth of the picture's sides), constant inside, on a regular grid, many values.

    Edges are read on a sample of ~64 rows and ~64 columns: an ordinary picture costs that
    sample (well under a millisecond), a flat one the combs' spectra too; only a picture
    whose edges lie on square combs has its blocks checked."""
    array = np.asarray(luma)
    height, width = array.shape[:2]
    if min(height, width) < 4 * _MIN_BLOCKS:
        return None
    rows = array[:: max(1, height // 64)].astype(np.int16)
    cols = array[:, :: max(1, width // 64)].astype(np.int16)
    dx = np.abs(np.diff(rows, axis=1)).astype(np.float32)
    dy = np.abs(np.diff(cols, axis=0)).astype(np.float32)
    if min((dx <= _ALIKE).mean(), (dy <= _ALIKE).mean()) < _MIN_ALIKE:
        return None  # an ordinary picture: this is all it pays
    shortest = max(3.0, max(width, height) / _MAX_BLOCKS)
    longest = min(width, height) / _MIN_BLOCKS
    across = _comb(dx.mean(axis=0), shortest, longest)
    if across is None:
        return None
    down = _comb(dy.mean(axis=1), shortest, longest)
    if down is None:
        return None
    if abs(across.period - down.period) > _SQUARE * max(across.period, down.period):
        return None
    work, factor = _reduced(array)
    scaled = (
        _Comb(across.period / factor, across.phase / factor, across.strength),
        _Comb(down.period / factor, down.phase / factor, down.strength),
    )
    alike = _blocks_hold(work, *scaled)
    if alike is None:
        return None
    return Mosaic(
        across.period,
        down.period,
        across.phase,
        down.phase,
        width / across.period,
        height / down.period,
        alike,
    )


def _reduced(luma: Luma) -> tuple[Pixels, int]:
    array = np.asarray(luma)
    factor = max(1, math.ceil(max(array.shape[:2]) / _WORK_SIDE))
    if factor == 1:
        return array.astype(np.float32), 1
    rows, cols = array.shape[0] // factor, array.shape[1] // factor
    blocks = array[: rows * factor, : cols * factor].astype(np.float32)
    reduced = blocks.reshape(rows, factor, cols, factor).mean(axis=(1, 3), dtype=np.float32)
    return reduced, factor


def _comb(profile: Pixels, shortest: float, longest: float) -> _Comb | None:
    """The period and phase of the strongest regular comb of edges in an axis's profile of
    neighbour differences (edge k lies between pixels k and k + 1): the fundamental of the
    profile's spectrum, measured finely by zero-padding."""
    total = float(profile.sum())
    if total <= 0 or longest < shortest:
        return None
    length = len(profile) + 1
    pad = 16 * length
    spectrum = np.fft.rfft(profile, n=pad)
    # frequency bin j: j / pad cycles per pixel
    low, high = math.ceil(pad / longest), math.floor(pad / shortest)
    if high <= low:
        return None
    strength = np.abs(spectrum[low : high + 1]) / total
    best = float(strength.max())
    if best < _MIN_STRENGTH:
        return None
    # the lowest frequency nearly as strong as the best: a comb's harmonics are strong too
    j = low + int(np.flatnonzero(strength >= 0.85 * best)[0])
    # the top of that peak (a lobe of the zero-padded spectrum is 32 bins wide)
    start = max(low, j - 8)
    j = start + int(np.argmax(np.abs(spectrum[start : min(high, j + 8) + 1])))
    period = pad / j
    # edge k lies at position k + 1 (between pixels k and k + 1)
    angle = -float(np.angle(spectrum[j]))  # phase of sum(profile * exp(-2 pi i j k / pad))
    phase = ((angle / (2 * math.pi)) * period + 1.0) % period
    if _every_other_tooth(profile, period, phase):
        return None  # the blocks are twice as large: coarser than any pixelation here
    return _Comb(period, phase, float(np.abs(spectrum[j])) / total)


def _every_other_tooth(profile: Pixels, period: float, phase: float) -> bool:
    """Whether only every other tooth of the comb holds an edge (its harmonic was found:
    the true period is twice as long)."""
    teeth = np.arange(phase - 1.0, len(profile), period)
    index = np.clip(np.round(teeth).astype(np.intp), 0, len(profile) - 1)
    near = np.maximum.reduce([profile[np.clip(index + k, 0, len(profile) - 1)] for k in (-1, 0, 1)])
    if len(near) < 4:
        return False
    even, odd = float(near[0::2].mean()), float(near[1::2].mean())
    return min(even, odd) < 0.12 * max(even, odd)


def _labels(size: int, comb: _Comb) -> tuple[npt.NDArray[np.intp], int]:
    """Each pixel's block along one axis, -1 near an edge (a block's interior only)."""
    margin = max(1.5, 0.2 * comb.period)
    position = np.arange(size, dtype=np.float64) + 0.5  # pixel centres
    shifted = (position - comb.phase) / comb.period
    index = np.floor(shifted)
    within = (shifted - index) * comb.period
    inside = (within >= margin) & (within <= comb.period - margin)
    index = index - index.min()
    labels = np.where(inside, index, -1).astype(np.intp)
    return labels, int(index.max()) + 1


def _blocks_hold(work: Pixels, across: _Comb, down: _Comb) -> float | None:
    """The share of neighbouring blocks alike when the grid's blocks are constant inside,
    mostly unlike their neighbours, and of many values; else None."""
    height, width = work.shape
    cols, n_cols = _labels(width, across)
    rows, n_rows = _labels(height, down)
    if n_cols < _MIN_BLOCKS or n_rows < _MIN_BLOCKS:
        return None
    keep = (rows[:, None] >= 0) & (cols[None, :] >= 0)
    block = (rows[:, None] * n_cols + cols[None, :])[keep]
    values = work[keep].astype(np.float64)
    count = np.bincount(block, minlength=n_rows * n_cols)
    if (count > 0).mean() < 0.8:
        return None
    seen = count > 0
    means = np.bincount(block, weights=values, minlength=n_rows * n_cols) / np.maximum(count, 1)
    residual = float(np.abs(values - means[block]).mean())
    grid = means.reshape(n_rows, n_cols)
    seen_grid = seen.reshape(n_rows, n_cols)
    pairs = np.concatenate(
        [
            np.abs(np.diff(grid, axis=1))[seen_grid[:, 1:] & seen_grid[:, :-1]],
            np.abs(np.diff(grid, axis=0))[seen_grid[1:, :] & seen_grid[:-1, :]],
        ]
    )
    if len(pairs) == 0:
        return None
    contrast = float(pairs.mean())
    if residual > _MAX_RESIDUAL or residual > _RESIDUAL_SHARE * contrast:
        return None
    alike = float((pairs <= _ALIKE).mean())
    if 1.0 - alike < _MIN_UNLIKE_PAIRS:
        return None
    if len(np.unique(np.round(means[seen] / 4))) < _MIN_LEVELS:
        return None
    return alike
