"""Local features of a picture: ORB keypoints (position) and their 256-bit binary descriptors,
found on the luma scaled to at most FEATURE_SIDE pixels, for the matcher's geometric stage.

Owns extraction and the compact byte form stored with a registered item (with its check
points and window keypoints: see CHECK_STEP and WINDOW_SHARE). Pure: luma in,
arrays out; must not touch a store or compare features (matching does). The scaled luma rides
along with a query's features (`pixels`), for the matcher's check that the copy shows the same
content at every keypoint; it is never part of the stored form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rempart.errors import InputError
from rempart.hashing.signals import pickled_by_fields

__all__ = [
    "CHECK_LEVEL",
    "DESCRIPTOR_BYTES",
    "FEATURE_SIDE",
    "MAX_FEATURES",
    "MIN_FEATURES",
    "ORB_SCALE",
    "UNKNOWN_OCTAVE",
    "WINDOW_LIMIT",
    "WINDOW_SHARE",
    "LocalFeatures",
    "check_keypoint",
    "check_radius",
    "extract_features",
    "extract_query_features",
    "extract_window_features",
    "features_again",
    "merge_window_features",
    "orb",
    "scaled_bytes",
    "window_boxes",
]

# Long side the luma is scaled to before extraction: ORB's pyramid (8 levels of 1.2) then
# meets a copy shown down to about a quarter of that size.
FEATURE_SIDE = 512
# Keypoints kept, strongest first: enough for a third of the picture to keep ~100 of them.
MAX_FEATURES = 500
DESCRIPTOR_BYTES = 32  # ORB: 256 bits, like a PDQ hash
ORB_SCALE, ORB_LEVELS = 1.2, 8  # ORB's pyramid
# A picture found small in a query (on a page, in a collage) is scaled up to FEATURE_SIDE, at
# most by this: ORB's finest level then meets the registered picture's finest.
_MAX_GROWTH = 2.0
# A picture with fewer keypoints is too plain for this stage (flat shapes, gradients).
MIN_FEATURES = 40
# A page: one grey level (±_PAGE_TOLERANCE) covers this share of the picture; its blocks of
# _BLOCK pixels where that level covers _PAGE_BLOCK_SHARE are background and text.
_PAGE_TOLERANCE = 6
_PAGE_SHARE = 0.25
_PAGE_BLOCK_SHARE = 0.4
_BLOCK = 16
_PAGE_CONTENT_MIN = 0.08  # share of blocks that are not page, below which none are masked
# A query taken for a page gets its masked features too when the mask takes more than
# _MASKED_SET_PAGE_SHARE of the picture (it is mostly page, and a page-like original was
# registered masked as well: bench/robustness.py, seed 5, an illustration on a flat ground
# under a watermark, 56 % masked, found through its masked set alone), or when at least
# _MASKED_SET_MIN_ON_PAGE of its whole picture's keypoints lie on the masked blocks; else the
# masked set would keep most of the whole set's keypoints and add weaker ones from the same
# blocks.
_MASKED_SET_PAGE_SHARE = 0.5
_MASKED_SET_MIN_ON_PAGE = 0.5
# Check points (registration only): descriptors taken on a regular grid, wherever the picture
# is not flat, at pyramid level CHECK_LEVEL and angle 0, so that the matcher can tell whether a
# query shows the registered content everywhere, flat shapes on plain ground included (they
# hold few keypoints). Every CHECK_STEP pixels of the scaled picture; a point whose patch
# varies by less than CHECK_CONTRAST grey levels (standard deviation) is left out: a flat
# patch's descriptor is noise.
CHECK_STEP = 32
CHECK_LEVEL = 1
CHECK_CONTRAST = 6.0
# Window keypoints (registration only): the picture's windows of WINDOW_SHARE of each side,
# at _WINDOW_STEPS offsets along each side (the first at the picture's edge, the last at the
# opposite one), each one's WINDOW_LIMIT strongest keypoints found as a query cropped there
# would find them: the window at its own resolution scaled to at most FEATURE_SIDE, so at the
# magnification the crop has. A crop of 60-75 % of each side is magnified 1.3-1.7 times
# against the whole picture: ORB's finest levels of the crop see detail that the whole
# picture's keypoints do not hold, and the crop's strongest corners are those of its own
# area, not the picture's (a screenshot's text gets no keypoint beside its sidebar's corners).
# Positions are brought back to the whole picture's pixels; a keypoint two overlapping
# windows both found (the same place and level, descriptors within _WINDOW_SAME_BITS) is
# kept once, so that the matcher's ratio test does not meet it twice.
WINDOW_SHARE = 2 / 3
_WINDOW_STEPS = 3
WINDOW_LIMIT = 200
_WINDOW_SAME_PIXELS = 1.5
_WINDOW_SAME_BITS = 32
# Version 1: points and descriptors; version 2 adds each keypoint's angle and pyramid level,
# and the check points; version 3 adds the window keypoints (points and descriptors).
_BLOB_VERSION = 3
_HEADER = 8  # version (1), reserved (1), count (2), width (2), height (2)
_CHECKS_HEADER = 2  # version 2: number of check points (2)
UNKNOWN_OCTAVE = 255  # a keypoint read from a version 1 blob: its angle and level are unknown


@pickled_by_fields
@dataclass(frozen=True, slots=True, eq=False)
class LocalFeatures:
    """Keypoints of one picture, strongest first: `points` (n × 2, float32, x then y, in the
    pixels of the scaled picture of `width` × `height`) and `descriptors` (n × 32, uint8);
    `angles` (degrees, float32) and `octaves` (ORB's pyramid level, uint8; UNKNOWN_OCTAVE
    when read from an old blob) say where each descriptor was taken. `check_points` and
    `check_descriptors`: the registered picture's check points (see CHECK_STEP), or None;
    `window_points` and `window_descriptors`: its window keypoints (see WINDOW_SHARE), or None.
    `pixels`: the scaled luma they were found on, for a query only (never stored)."""

    width: int
    height: int
    points: npt.NDArray[np.float32]
    descriptors: npt.NDArray[np.uint8]
    angles: npt.NDArray[np.float32] | None = None
    octaves: npt.NDArray[np.uint8] | None = None
    pixels: npt.NDArray[np.uint8] | None = None
    check_points: npt.NDArray[np.float32] | None = None
    check_descriptors: npt.NDArray[np.uint8] | None = None
    window_points: npt.NDArray[np.float32] | None = None
    window_descriptors: npt.NDArray[np.uint8] | None = None

    def __len__(self) -> int:
        return int(self.descriptors.shape[0])

    def __repr__(self) -> str:
        return f"LocalFeatures({len(self)} points, {self.width}x{self.height})"

    def to_bytes(self) -> bytes:
        """Compact form: a header, the points as uint16 quarter-pixels, the angles in 256
        steps and the pyramid levels (a byte each), the descriptors; then the number of check
        points, their points and descriptors."""
        check_points, check_descriptors = self.check_points, self.check_descriptors
        if check_points is None or check_descriptors is None:
            check_points = np.zeros((0, 2), np.float32)
            check_descriptors = np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
        windowed = self.window_points is not None and self.window_descriptors is not None
        header = (
            bytes([_BLOB_VERSION if windowed else 2, 0])
            + np.array([len(self), self.width, self.height], dtype="<u2").tobytes()
        )
        check_part = (
            np.array([len(check_descriptors)], dtype="<u2").tobytes()
            + np.clip(np.rint(check_points * 4), 0, 65535).astype("<u2").tobytes()
            + check_descriptors.tobytes()
        )
        quarters = np.clip(np.rint(self.points * 4), 0, 65535).astype("<u2")
        angles, octaves = self.angles, self.octaves
        if angles is None or octaves is None:
            angles = np.zeros(len(self), np.float32)
            octaves = np.full(len(self), UNKNOWN_OCTAVE, np.uint8)
        steps = (np.rint(angles * 256 / 360).astype(np.int64) % 256).astype(np.uint8)
        return (
            header
            + quarters.tobytes()
            + steps.tobytes()
            + octaves.astype(np.uint8).tobytes()
            + self.descriptors.tobytes()
            + check_part
            + (self._window_part() if windowed else b"")
        )

    def _window_part(self) -> bytes:
        points, descriptors = self.window_points, self.window_descriptors
        assert points is not None and descriptors is not None
        return (
            np.array([len(descriptors)], dtype="<u2").tobytes()
            + np.clip(np.rint(points * 4), 0, 65535).astype("<u2").tobytes()
            + descriptors.tobytes()
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> LocalFeatures:
        damaged = "stored local features are damaged or of an unknown version"
        if len(blob) < _HEADER or blob[0] not in (1, 2, _BLOB_VERSION):
            raise InputError(damaged)
        count, width, height = (int(v) for v in np.frombuffer(blob, "<u2", 3, 2))
        extra = 2 if blob[0] >= 2 else 0  # angle and level bytes
        end = _HEADER + count * (4 + extra + DESCRIPTOR_BYTES)
        checks = windows = 0
        if extra:
            if len(blob) < end + _CHECKS_HEADER:
                raise InputError(damaged)
            checks = int(np.frombuffer(blob, "<u2", 1, end)[0])
            end += _CHECKS_HEADER + checks * (4 + DESCRIPTOR_BYTES)
        windows_at = end
        if blob[0] == 3:
            if len(blob) < end + _CHECKS_HEADER:
                raise InputError(damaged)
            windows = int(np.frombuffer(blob, "<u2", 1, end)[0])
            end += _CHECKS_HEADER + windows * (4 + DESCRIPTOR_BYTES)
        if len(blob) != end:
            raise InputError(damaged)
        points = np.frombuffer(blob, "<u2", count * 2, _HEADER).reshape(-1, 2)
        at = _HEADER + count * 4
        angles, octaves = None, None
        if extra:
            angles = np.frombuffer(blob, np.uint8, count, at).astype(np.float32) * (360 / 256)
            octaves = np.frombuffer(blob, np.uint8, count, at + count).copy()
        at += count * extra
        descriptors = np.frombuffer(blob, np.uint8, count * DESCRIPTOR_BYTES, at)
        check_points, check_descriptors = None, None
        if extra:
            at += count * DESCRIPTOR_BYTES + _CHECKS_HEADER
            quarters = np.frombuffer(blob, "<u2", checks * 2, at).reshape(-1, 2)
            check_points = (quarters / 4).astype(np.float32)
            raw = np.frombuffer(blob, np.uint8, checks * DESCRIPTOR_BYTES, at + checks * 4)
            check_descriptors = raw.reshape(-1, DESCRIPTOR_BYTES).copy()
        window_points, window_descriptors = None, None
        if blob[0] == 3:
            at = windows_at + _CHECKS_HEADER
            quarters = np.frombuffer(blob, "<u2", windows * 2, at).reshape(-1, 2)
            window_points = (quarters / 4).astype(np.float32)
            raw = np.frombuffer(blob, np.uint8, windows * DESCRIPTOR_BYTES, at + windows * 4)
            window_descriptors = raw.reshape(-1, DESCRIPTOR_BYTES).copy()
        return cls(
            width,
            height,
            (points / 4).astype(np.float32),
            descriptors.reshape(-1, DESCRIPTOR_BYTES).copy(),
            angles,
            octaves,
            check_points=check_points,
            check_descriptors=check_descriptors,
            window_points=window_points,
            window_descriptors=window_descriptors,
        )


def _off_page(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """Where keypoints may be found: not on a page's plain background and the text on it.

    A screenshot or web page shows the picture among text whose glyph corners would take
    most of the keypoints. When one grey level covers a large share of the image (a page),
    blocks mostly of that level are masked out; a photograph has no such level and keeps
    every block, and so does a page with nothing else on it."""
    import cv2  # loaded by the caller

    # (OpenCV's histogram and range test: a tenth of numpy's time, every picture pays them)
    counts = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    level = int(np.argmax(counts))
    # the share near that level, from the histogram: a photograph stops here
    near_level = counts[max(0, level - _PAGE_TOLERANCE) : level + _PAGE_TOLERANCE + 1].sum()
    if near_level < _PAGE_SHARE * grey.size:
        return None
    near = cv2.inRange(grey, level - _PAGE_TOLERANCE, level + _PAGE_TOLERANCE)  # 255 or 0
    height, width = grey.shape
    rows, cols = -(-height // _BLOCK), -(-width // _BLOCK)
    padded = cv2.copyMakeBorder(
        near, 0, rows * _BLOCK - height, 0, cols * _BLOCK - width, cv2.BORDER_CONSTANT, value=0
    )
    summed = cv2.integral(padded, sdepth=cv2.CV_32S)[::_BLOCK, ::_BLOCK]
    sums = summed[1:, 1:] - summed[:-1, 1:] - summed[1:, :-1] + summed[:-1, :-1]
    content = sums / (_BLOCK * _BLOCK * 255) < _PAGE_BLOCK_SHARE
    if content.mean() < _PAGE_CONTENT_MIN:
        return None  # the page is the picture (a page of text): keep its own keypoints
    keep = np.repeat(np.repeat(content.astype(np.uint8) * 255, _BLOCK, 0), _BLOCK, 1)
    return np.ascontiguousarray(keep[:height, :width])


def extract_features(
    luma: npt.NDArray[np.generic],
    *,
    side: int = FEATURE_SIDE,
    limit: int = MAX_FEATURES,
    checks: bool = False,
    grow: bool = False,
) -> LocalFeatures:
    """ORB keypoints of the luma scaled so that its long side is at most `side` (`grow`: is
    `side`, scaled up by at most _MAX_GROWTH), and its check points when `checks` (a
    registered picture's; see CHECK_STEP)."""
    grey = scaled_bytes(luma, side, grow)
    return _extract(grey, _off_page(grey), limit, checks)


def extract_window_features(
    luma: npt.NDArray[np.generic],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """A registered picture's window keypoints (see WINDOW_SHARE): their points in the pixels
    of the picture scaled as `extract_features` scales it, and their descriptors."""
    grey = np.asarray(luma)
    if grey.dtype != np.uint8:  # once, not once a window (scaled_bytes would)
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    height, width = grey.shape[:2]
    found = [
        extract_features(grey[top : top + h, left : left + w], limit=WINDOW_LIMIT)
        for left, top, w, h in window_boxes(width, height)
    ]
    return merge_window_features(found, width, height)


def window_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The picture's windows (see WINDOW_SHARE) as (left, top, width, height), a row of
    windows after another, top first: the order the offline page sends their features in."""
    window_w, window_h = max(1, round(width * WINDOW_SHARE)), max(1, round(height * WINDOW_SHARE))
    return [
        (left, top, window_w, window_h)
        for top in _window_offsets(height, window_h, _WINDOW_STEPS)
        for left in _window_offsets(width, window_w, _WINDOW_STEPS)
    ]


def merge_window_features(
    found: Sequence[LocalFeatures], width: int, height: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """The window keypoints of a picture of `width` x `height` from each window's features
    (`extract_features` of window_boxes' windows, in their order; the offline page's come from
    its kernel): brought back to the whole picture's scaled pixels, each window's strongest
    first, a keypoint two overlapping windows found kept once."""
    scale = min(1.0, FEATURE_SIDE / max(height, width, 1))
    found_points: list[npt.NDArray[np.float32]] = []
    found_descriptors: list[npt.NDArray[np.uint8]] = []
    found_octaves: list[npt.NDArray[np.uint8]] = []
    for (left, top, window_w, _), features in zip(window_boxes(width, height), found, strict=True):
        if not len(features):
            continue
        # window pixels (in quarters, as a blob holds them: the page's and bank add's the
        # same) -> the original's -> the whole picture's scaled ones
        inside = features.width / window_w
        quarters = np.rint(features.points * 4) / 4
        placed = (quarters / inside + (left, top)) * scale
        found_points.append(placed.astype(np.float32))
        found_descriptors.append(features.descriptors)
        assert features.octaves is not None
        found_octaves.append(features.octaves)
    if not found_points:
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    # each window's strongest first, then each one's second...: any first rows are spread
    ranks = np.concatenate([np.arange(len(p)) for p in found_points])
    order = np.argsort(ranks, kind="stable")
    points = np.concatenate(found_points)[order]
    descriptors = np.concatenate(found_descriptors)[order]
    kept = _distinct(points, descriptors, np.concatenate(found_octaves)[order])
    return points[kept], descriptors[kept]


def _window_offsets(side: int, window: int, steps: int) -> list[int]:
    """Where windows of `window` pixels start along a side: `steps` offsets, edge to edge."""
    room = side - window
    if room <= 0 or steps < 2:
        return [0]
    return sorted({round(room * i / (steps - 1)) for i in range(steps)})


def _distinct(
    points: npt.NDArray[np.float32],
    descriptors: npt.NDArray[np.uint8],
    octaves: npt.NDArray[np.uint8],
) -> npt.NDArray[np.int64]:
    """Rows of the keypoints to keep: the first of those found again by an overlapping window
    (as near, at the same level, with a like descriptor)."""
    keep = np.ones(len(points), bool)
    # pairs (i < j) as near, at the same level: sorted by x, a row meets the next few only
    order = np.lexsort((points[:, 0], octaves))
    xs, ys, levels = points[order, 0], points[order, 1], octaves[order]
    firsts: list[npt.NDArray[np.int64]] = []
    seconds: list[npt.NDArray[np.int64]] = []
    for shift in range(1, len(order)):
        near = (
            (levels[shift:] == levels[:-shift])
            & (xs[shift:] - xs[:-shift] <= _WINDOW_SAME_PIXELS)
            & (np.abs(ys[shift:] - ys[:-shift]) <= _WINDOW_SAME_PIXELS)
        )
        within = (levels[shift:] == levels[:-shift]) & (
            xs[shift:] - xs[:-shift] <= _WINDOW_SAME_PIXELS
        )
        if not within.any():
            break
        rows = np.flatnonzero(near)
        firsts.append(order[rows])
        seconds.append(order[rows + shift])
    if not firsts:
        return np.flatnonzero(keep)
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    bits = np.bitwise_count(np.bitwise_xor(descriptors[a], descriptors[b])).sum(axis=1)
    twins = bits <= _WINDOW_SAME_BITS
    earlier, later = np.minimum(a, b)[twins], np.maximum(a, b)[twins]
    for first, second in sorted(zip(earlier.tolist(), later.tolist(), strict=True)):
        if keep[first]:
            keep[second] = False
    return np.flatnonzero(keep)


def extract_query_features(luma: npt.NDArray[np.generic]) -> tuple[LocalFeatures, ...]:
    """A query's whole-picture features: those of the whole picture unmasked and, before
    them, those `extract_features` finds when it masks the picture as a page (one grey level
    over a quarter of it) and the mask takes away much of what the whole set holds.

    Both: a crop of a drawing or a screenshot whose flat ground fills a quarter of it is no
    page, and the mask took most of the corners it shares with the registered picture,
    which was not masked (bench/robustness.py's crops, seed 11: 93 of 120 found masked, 99
    with both). The masked set is worth its extraction only where the page takes most of
    the picture (_MASKED_SET_PAGE_SHARE) or its ground and text held many of the whole
    set's keypoints (_MASKED_SET_MIN_ON_PAGE): elsewhere it would repeat most of them (a
    picture with a flat sky, a low-contrast texture)."""
    grey = scaled_bytes(luma, FEATURE_SIDE)
    mask = _off_page(grey)
    whole = _extract(grey, None, MAX_FEATURES, False)
    if mask is None:
        return (whole,)
    masked_share = 1.0 - np.count_nonzero(mask) / mask.size
    if (
        masked_share <= _MASKED_SET_PAGE_SHARE
        and _on_page_share(whole, mask) < _MASKED_SET_MIN_ON_PAGE
    ):
        return (whole,)
    return (_extract(grey, mask, MAX_FEATURES, False), whole)


def _on_page_share(features: LocalFeatures, mask: npt.NDArray[np.uint8]) -> float:
    """Share of the keypoints that lie where `mask` (an `_off_page` mask of the picture they
    were found on) is 0: on a page's ground and text. 0 when there are none."""
    if not len(features):
        return 0.0
    height, width = mask.shape
    columns = np.clip(features.points[:, 0].astype(np.intp), 0, width - 1)
    rows = np.clip(features.points[:, 1].astype(np.intp), 0, height - 1)
    return float(np.count_nonzero(mask[rows, columns] == 0)) / len(features)


def features_again(
    features: LocalFeatures, *, mirror: bool = False, scale: float = 1.0
) -> LocalFeatures | None:
    """A query's features taken again on its picture (`pixels`; None without them), mirrored
    left to right and scaled by `scale` (the long side kept within twice FEATURE_SIDE),
    unmasked. ORB's descriptors turn with a picture but do not mirror with it, and fine
    strokes (text, a texture) give corners only at the scale they were drawn at: once the
    matcher knows which part of which registered picture a query may show, its features
    taken as the registered ones were agree where its own did not."""
    import cv2

    if features.pixels is None:
        return None
    grey = features.pixels[:, ::-1] if mirror else features.pixels
    height, width = grey.shape[:2]
    scale = min(scale, 2 * FEATURE_SIDE / max(height, width, 1))
    if abs(scale - 1.0) > 0.01:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        method = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        grey = np.asarray(
            cv2.resize(np.ascontiguousarray(grey), size, interpolation=method), np.uint8
        )
    return _extract(np.ascontiguousarray(grey), None, MAX_FEATURES, False)


def scaled_bytes(
    luma: npt.NDArray[np.generic], side: int, grow: bool = False, shrink: int | None = None
) -> npt.NDArray[np.uint8]:
    """The luma as uint8, scaled so that its long side is at most `side` (`grow`: is `side`,
    scaled up by at most _MAX_GROWTH); reduced by area means unless `shrink` names another
    OpenCV interpolation."""
    import cv2  # loads only when features are asked for

    grey = np.asarray(luma)
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    height, width = grey.shape[:2]
    scale = min(_MAX_GROWTH if grow else 1.0, side / max(height, width, 1))
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        method = (cv2.INTER_AREA if shrink is None else shrink) if scale < 1.0 else cv2.INTER_LINEAR
        grey = cv2.resize(grey, size, interpolation=method)
    return grey


def _extract(
    grey: npt.NDArray[np.uint8], mask: npt.NDArray[np.uint8] | None, limit: int, checks: bool
) -> LocalFeatures:
    import cv2

    # One thread: a scan already runs one hashing process per core, and OpenCV's idle pool
    # threads would spin on the cores the crawl and the matcher need.
    cv2.setNumThreads(1)

    height, width = grey.shape[:2]
    keypoints, descriptors = orb(limit).detectAndCompute(grey, mask)
    if descriptors is None or not keypoints:
        return LocalFeatures(
            width,
            height,
            np.zeros((0, 2), np.float32),
            np.zeros((0, DESCRIPTOR_BYTES), np.uint8),
            np.zeros(0, np.float32),
            np.zeros(0, np.uint8),
            grey,
        )
    # one pass over the keypoints' attributes (a scan extracts ~400 a picture)
    found = np.array([(k.response, k.angle, k.octave) for k in keypoints], np.float64)
    order = np.argsort(-found[:, 0], kind="stable")[:limit]
    points = cv2.KeyPoint_convert(keypoints)  # type: ignore[attr-defined]
    check_points, check_descriptors = _check_points(grey) if checks else (None, None)
    return LocalFeatures(
        width,
        height,
        np.asarray(points, np.float32).reshape(-1, 2)[order],
        np.ascontiguousarray(descriptors[order]),
        found[order, 1].astype(np.float32),
        found[order, 2].astype(np.uint8),
        grey,
        check_points,
        check_descriptors,
    )


def _check_points(
    grey: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """Descriptors on a grid, at CHECK_LEVEL and angle 0, where the patch is not flat."""
    import cv2

    height, width = grey.shape[:2]
    reach = check_radius() + 1
    ys, xs = np.mgrid[reach : height - reach : CHECK_STEP, reach : width - reach : CHECK_STEP]
    points = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    values = grey.astype(np.float32)
    box = (2 * reach + 1, 2 * reach + 1)
    mean, square = cv2.blur(values, box), cv2.blur(values * values, box)
    spread = np.sqrt(np.maximum(square - mean * mean, 0))
    points = points[spread[points[:, 1].astype(int), points[:, 0].astype(int)] >= CHECK_CONTRAST]
    keypoints = [check_keypoint(cv2, float(x), float(y), i) for i, (x, y) in enumerate(points)]
    kept, descriptors = orb().compute(grey, keypoints)
    if descriptors is None or not kept:
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    return np.array([k.pt for k in kept], np.float32).reshape(-1, 2), descriptors


def check_radius(level: int = CHECK_LEVEL) -> int:
    """Half the side of ORB's patch at a pyramid level, in the picture's pixels."""
    return int(np.ceil(16 * ORB_SCALE**level))


def check_keypoint(cv2: Any, x: float, y: float, index: int, level: int = CHECK_LEVEL) -> Any:
    """A keypoint at which a descriptor is taken, not found: angle 0, at `level`."""
    return cv2.KeyPoint(x, y, 31 * ORB_SCALE**level, 0.0, 0.0, level, index)


def orb(limit: int = MAX_FEATURES) -> Any:
    """The ORB extractor every keypoint and descriptor comes from (cv2 loaded by the caller)."""
    import cv2

    create = cv2.ORB_create  # type: ignore[attr-defined]
    return create(nfeatures=limit, scaleFactor=ORB_SCALE, nlevels=ORB_LEVELS, fastThreshold=12)
