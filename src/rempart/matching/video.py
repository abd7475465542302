"""Whether a query video shows (part of) a reference video, from their per-frame PDQ hashes:
shares of frames matched on both sides, and where on each timeline the matching runs lie.

Owns the per-pair comparison rule (vPDQ's frame match and quality gate, plus clip matching) and
its JSON form. Must not decode video, touch a store or index: it compares two lists of hashes.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import NDArray

from rempart.hashing.signals import PDQ_BITS
from rempart.hashing.video import DEFAULT_FPS, FrameHash, VideoHashes

__all__ = [
    "DEFAULT_MIN_MATCHED_FRAMES",
    "DEFAULT_MIN_QUALITY",
    "DEFAULT_MIN_SHARE",
    "DEFAULT_THRESHOLD",
    "FramePair",
    "TimeRange",
    "VideoMatch",
    "VideoMatchRule",
    "compare_frames",
    "compare_videos",
    "sampling_interval",
    "time_ranges",
]

DEFAULT_THRESHOLD = 31  # bits: vPDQ's (and PDQ's) frame match distance
DEFAULT_MIN_QUALITY = 50  # vPDQ's quality gate, applied to both videos' frames
DEFAULT_MIN_SHARE = 0.8  # vPDQ's 80%, here of either video (see VideoMatchRule)
DEFAULT_MIN_MATCHED_FRAMES = 2  # one lone frame in common is an image match, not a video's

_WORDS = PDQ_BITS // 64
# Query rows compared at once, so that the (rows x reference x 4) XOR stays near 32 MiB.
_PAIRS_PER_CHUNK = 1 << 20
# A gap between matched samples counts as "one sample" up to this fraction over the interval,
# since timestamps of re-encoded videos drift by a frame or so.
_GAP_SLACK = 0.5


@dataclass(frozen=True, slots=True)
class VideoMatchRule:
    """How two videos are compared.

    Frames whose hash has quality below `min_quality` (flat, dark or blurred frames) are left
    out on both sides. A query frame and a reference frame match at Hamming distance <=
    `threshold`. The videos match when at least `min_matched_frames` query frames match and
    either share reaches `min_share`: the query's share (the query is a clip of the reference,
    or the same video) or the reference's share of unique frames (the reference is contained
    in the query, e.g. inside a compilation). A matched run on a timeline may skip up to
    `max_missed_samples` samples in a row.
    """

    threshold: int = DEFAULT_THRESHOLD
    min_quality: int = DEFAULT_MIN_QUALITY
    min_share: float = DEFAULT_MIN_SHARE
    min_matched_frames: int = DEFAULT_MIN_MATCHED_FRAMES
    max_missed_samples: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= PDQ_BITS:
            raise ValueError(f"threshold must be in [0, {PDQ_BITS}], got {self.threshold}")
        if not 0 <= self.min_quality <= 100:
            raise ValueError(f"min_quality must be in [0, 100], got {self.min_quality}")
        if not 0 < self.min_share <= 1:
            raise ValueError(f"min_share must be in (0, 1], got {self.min_share}")
        if self.min_matched_frames < 1 or self.max_missed_samples < 0:
            raise ValueError("min_matched_frames must be >= 1 and max_missed_samples >= 0")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A stretch of a timeline, in seconds: from the first matched sample to the end of the
    last one (its time plus the sampling interval), so 20 samples a second apart span 20 s."""

    start_s: float
    end_s: float

    def to_json(self) -> list[float]:
        return [round(self.start_s, 3), round(self.end_s, 3)]


@dataclass(frozen=True, slots=True)
class FramePair:
    """A matched query sample and the closest reference sample to it (earliest on ties)."""

    query_s: float
    reference_s: float
    distance: int


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """The comparison of a query video with one reference video.

    `query_share`: matched query samples / query samples that passed the quality gate.
    `reference_share`: matched unique reference hashes / unique reference hashes that passed
    (vPDQ's measure: a still scene held for a minute counts once). `*_frames` give the counts
    behind each share. Ranges are the matched runs on each video's own timeline.
    """

    matched: bool
    query_share: float
    reference_share: float
    query_frames: int
    query_frames_matched: int
    reference_frames: int
    reference_frames_matched: int
    query_ranges: tuple[TimeRange, ...]
    reference_ranges: tuple[TimeRange, ...]
    pairs: tuple[FramePair, ...] = ()
    rule: VideoMatchRule = field(default_factory=VideoMatchRule)

    def to_json(self) -> dict[str, object]:
        return {
            "matched": self.matched,
            "query_share": round(self.query_share, 4),
            "reference_share": round(self.reference_share, 4),
            "query_frames": self.query_frames,
            "query_frames_matched": self.query_frames_matched,
            "reference_frames": self.reference_frames,
            "reference_frames_matched": self.reference_frames_matched,
            "query_ranges": [r.to_json() for r in self.query_ranges],
            "reference_ranges": [r.to_json() for r in self.reference_ranges],
            "pairs": [
                [round(p.query_s, 3), round(p.reference_s, 3), p.distance] for p in self.pairs
            ],
            "rule": asdict(self.rule),
        }


def compare_videos(
    query: VideoHashes, reference: VideoHashes, rule: VideoMatchRule | None = None
) -> VideoMatch:
    """Compare two hashed videos (each sampled at its own `fps`)."""
    return compare_frames(
        query.frames,
        reference.frames,
        rule,
        query_interval_s=1 / query.fps,
        reference_interval_s=1 / reference.fps,
    )


def compare_frames(
    query: Sequence[FrameHash],
    reference: Sequence[FrameHash],
    rule: VideoMatchRule | None = None,
    *,
    query_interval_s: float | None = None,
    reference_interval_s: float | None = None,
) -> VideoMatch:
    """Compare the sampled frames of a query video with a reference's (see VideoMatchRule).

    The sampling intervals are inferred from the frame times when not given (the median gap;
    1 / DEFAULT_FPS for a single frame). Brute force: every usable query frame against every
    usable reference frame, which suits the few thousand samples of one video.
    """
    rule = rule or VideoMatchRule()
    q_frames = _usable(query, rule.min_quality)
    r_frames = _usable(reference, rule.min_quality)
    q_interval = query_interval_s or sampling_interval(query)
    r_interval = reference_interval_s or sampling_interval(reference)
    distances = _distances(_codes(q_frames), _codes(r_frames))
    within = distances <= rule.threshold
    q_hit: NDArray[np.bool_] = np.asarray(within.any(axis=1))
    r_hit: NDArray[np.bool_] = np.asarray(within.any(axis=0))
    q_share = _share(int(q_hit.sum()), len(q_frames))
    r_unique, r_unique_hit = _unique_counts(r_frames, r_hit)
    r_share = _share(r_unique_hit, r_unique)
    matched_count = int(q_hit.sum())
    return VideoMatch(
        matched=matched_count >= rule.min_matched_frames
        and max(q_share, r_share) >= rule.min_share,
        query_share=q_share,
        reference_share=r_share,
        query_frames=len(q_frames),
        query_frames_matched=matched_count,
        reference_frames=r_unique,
        reference_frames_matched=r_unique_hit,
        query_ranges=time_ranges(_times(q_frames, q_hit), q_interval, rule.max_missed_samples),
        reference_ranges=time_ranges(_times(r_frames, r_hit), r_interval, rule.max_missed_samples),
        pairs=_pairs(q_frames, r_frames, distances, q_hit),
        rule=rule,
    )


# ------------------------------------------------------------------------------- helpers


def _usable(frames: Sequence[FrameHash], min_quality: int) -> list[FrameHash]:
    """Frames past the quality gate, in time order. Degenerate hashes (all but a few bits
    equal) say nothing about a picture and are dropped with them."""
    kept = [f for f in frames if f.pdq.quality >= min_quality and not f.pdq.hash.is_degenerate]
    return sorted(kept, key=lambda f: f.time_s)


def sampling_interval(frames: Sequence[FrameHash]) -> float:
    """The sampling interval: the median gap between successive sample times."""
    times = sorted({f.time_s for f in frames})
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return statistics.median(gaps) if gaps else 1 / DEFAULT_FPS


def _codes(frames: Sequence[FrameHash]) -> NDArray[np.uint64]:
    """The hashes as rows of 4 machine words (byte order is irrelevant to popcount of XOR)."""
    packed = b"".join(f.pdq.hash.value for f in frames)
    return np.frombuffer(packed, dtype=np.uint64).reshape(len(frames), _WORDS)


def _distances(query: NDArray[np.uint64], reference: NDArray[np.uint64]) -> NDArray[np.int32]:
    """Hamming distance of every query row to every reference row, (q, r) int32."""
    out = np.empty((query.shape[0], reference.shape[0]), dtype=np.int32)
    rows = max(1, _PAIRS_PER_CHUNK // max(1, reference.shape[0]))
    for top in range(0, query.shape[0], rows):
        xor = query[top : top + rows, np.newaxis, :] ^ reference[np.newaxis, :, :]
        out[top : top + rows] = np.bitwise_count(xor).sum(axis=2, dtype=np.int32)
    return out


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _unique_counts(frames: Sequence[FrameHash], hit: NDArray[np.bool_]) -> tuple[int, int]:
    """(unique hashes, unique hashes matched): equal hashes match or miss together."""
    matched: dict[bytes, bool] = {}
    for frame, is_hit in zip(frames, hit.tolist(), strict=True):
        matched[frame.pdq.hash.value] = bool(is_hit)
    return len(matched), sum(matched.values())


def _times(frames: Sequence[FrameHash], hit: NDArray[np.bool_]) -> list[float]:
    return [f.time_s for f, is_hit in zip(frames, hit.tolist(), strict=True) if is_hit]


def time_ranges(
    times: Sequence[float], interval: float, max_missed: int = 1
) -> tuple[TimeRange, ...]:
    """Matched sample times (sorted) as runs on their timeline, bridging `max_missed` misses."""
    """Merge sorted matched sample times into runs; a run survives `max_missed` samples in a
    row that did not match (or did not pass the quality gate)."""
    if not times:
        return ()
    longest_gap = (max_missed + 1 + _GAP_SLACK) * interval
    ranges: list[TimeRange] = []
    start = previous = times[0]
    for t in times[1:]:
        if t - previous > longest_gap:
            ranges.append(TimeRange(start, previous + interval))
            start = t
        previous = t
    ranges.append(TimeRange(start, previous + interval))
    return tuple(ranges)


def _pairs(
    query: Sequence[FrameHash],
    reference: Sequence[FrameHash],
    distances: NDArray[np.int32],
    hit: NDArray[np.bool_],
) -> tuple[FramePair, ...]:
    """For each matched query sample, its closest reference sample."""
    if not hit.any():
        return ()
    best = distances.argmin(axis=1)  # argmin takes the first, i.e. earliest, on ties
    return tuple(
        FramePair(query[i].time_s, reference[j].time_s, int(distances[i, j]))
        for i, j in enumerate(best.tolist())
        if hit[i]
    )
