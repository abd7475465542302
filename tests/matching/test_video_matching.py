"""Comparing a query video's frame hashes with a reference's: the frame match, the quality gate,
the shares on both sides, the matched time ranges and the decision.

Most tests build frame hashes directly (a reference of random hashes; a query made of the same
hashes with a few bits flipped); the last ones go through real encoded videos end to end.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.hashing.signals import PdqHash, PdqSignal
from rempart.hashing.video import FrameHash, VideoHashes, hash_video_bytes
from rempart.matching.video import (
    TimeRange,
    VideoMatchRule,
    _codes,
    _distances,
    compare_frames,
    compare_videos,
)
from rempart.samples import encode_video, neutral_video


def _random_hash(rng: np.random.Generator) -> PdqHash:
    return PdqHash(rng.bytes(32))


def _flip(code: PdqHash, bits: int, rng: np.random.Generator) -> PdqHash:
    """`code` with exactly `bits` bits flipped."""
    value = int.from_bytes(code.value, "big")
    for bit in rng.choice(256, size=bits, replace=False).tolist():
        value ^= 1 << bit
    return PdqHash(value.to_bytes(32, "big"))


def _video(count: int, seed: int, *, start: float = 0.0, step: float = 1.0) -> list[FrameHash]:
    """`count` frames of unrelated random hashes, quality 100, one every `step` seconds."""
    rng = np.random.default_rng(seed)
    return [FrameHash(start + k * step, PdqSignal(_random_hash(rng), 100)) for k in range(count)]


def _reencoded(
    frames: list[FrameHash], first: int, last: int, *, bits: int = 12, seed: int = 99
) -> list[FrameHash]:
    """Frames first..last-1 as a clip starting at 0 s, each hash `bits` bits off."""
    rng = np.random.default_rng(seed)
    base = frames[first].time_s
    return [
        FrameHash(f.time_s - base, PdqSignal(_flip(f.pdq.hash, bits, rng), f.pdq.quality))
        for f in frames[first:last]
    ]


# ------------------------------------------------------------------------------- the rule


def test_the_same_video_matches_itself_whole() -> None:
    reference = _video(60, seed=1)
    result = compare_frames(_reencoded(reference, 0, 60), reference)
    assert result.matched
    assert (result.query_share, result.reference_share) == (1.0, 1.0)
    assert result.query_ranges == result.reference_ranges == (TimeRange(0.0, 60.0),)


def test_a_clip_from_the_middle_matches_with_its_place_on_both_timelines() -> None:
    reference = _video(120, seed=2)  # a 2 min reference
    clip = _reencoded(reference, 40, 60)  # its seconds 40-60
    result = compare_frames(clip, reference)
    assert result.matched
    assert result.query_share == 1.0
    assert result.reference_share == pytest.approx(20 / 120)
    assert result.query_ranges == (TimeRange(0.0, 20.0),)
    assert result.reference_ranges == (TimeRange(40.0, 60.0),)
    assert [(p.query_s, p.reference_s) for p in result.pairs] == [(t, t + 40.0) for t in range(20)]


def test_a_reference_inside_a_longer_query_matches_by_the_reference_share() -> None:
    reference = _video(30, seed=3)
    padding_before, padding_after = _video(50, seed=4), _video(40, seed=5, start=80)
    inside = [FrameHash(f.time_s + 50, f.pdq) for f in _reencoded(reference, 0, 30)]
    compilation = padding_before + inside + padding_after
    result = compare_frames(compilation, reference)
    assert result.matched
    assert result.query_share == pytest.approx(30 / 120)
    assert result.reference_share == 1.0
    assert result.query_ranges == (TimeRange(50.0, 80.0),)


def test_an_unrelated_video_does_not_match() -> None:
    result = compare_frames(_video(60, seed=6), _video(60, seed=7))
    assert not result.matched
    assert result.query_frames_matched == 0
    assert (result.query_ranges, result.reference_ranges, result.pairs) == ((), (), ())


def test_a_query_sharing_only_a_few_frames_does_not_match() -> None:
    reference = _video(60, seed=8)
    query = _video(20, seed=9)
    shared = _reencoded(reference, 30, 35)  # 5 of the query's 20 seconds
    query[5:10] = [FrameHash(5.0 + f.time_s, f.pdq) for f in shared]
    result = compare_frames(query, reference)
    assert not result.matched
    assert (result.query_share, result.reference_share) == (0.25, 5 / 60)
    assert result.query_ranges == (TimeRange(5.0, 10.0),)
    assert result.reference_ranges == (TimeRange(30.0, 35.0),)


def test_the_share_threshold_decides() -> None:
    reference = _video(10, seed=10)
    query = _reencoded(reference, 0, 10)
    query[8:] = _video(2, seed=11, start=8)  # 8 of 10 frames still match
    assert compare_frames(query, reference).matched
    assert not compare_frames(query, reference, VideoMatchRule(min_share=0.9)).matched


def test_frames_match_up_to_the_threshold_and_not_beyond() -> None:
    reference = _video(10, seed=12)
    assert compare_frames(_reencoded(reference, 0, 10, bits=31), reference).matched
    too_far = compare_frames(_reencoded(reference, 0, 10, bits=32), reference)
    assert not too_far.matched and too_far.query_frames_matched == 0
    assert compare_frames(
        _reencoded(reference, 0, 10, bits=32), reference, VideoMatchRule(threshold=32)
    ).matched


def test_one_frame_in_common_is_not_a_video_match() -> None:
    reference = _video(1, seed=13)
    single = compare_frames(_reencoded(reference, 0, 1), reference)
    assert single.query_share == 1.0 and not single.matched
    assert compare_frames(
        _reencoded(reference, 0, 1), reference, VideoMatchRule(min_matched_frames=1)
    ).matched


# ---------------------------------------------------------------------- the quality gate


def _with_quality(frames: list[FrameHash], quality: int, indexes: range) -> list[FrameHash]:
    return [
        FrameHash(f.time_s, PdqSignal(f.pdq.hash, quality)) if k in indexes else f
        for k, f in enumerate(frames)
    ]


def test_low_quality_frames_are_left_out_on_both_sides() -> None:
    reference = _video(20, seed=14)
    # A fade to black: the query's last 10 samples are flat, with unrelated (noise) hashes.
    query = _reencoded(reference, 0, 10) + _with_quality(
        _video(10, seed=15, start=10), 0, range(10)
    )
    result = compare_frames(query, reference)
    assert result.query_frames == 10 and result.query_share == 1.0 and result.matched
    faded_reference = _with_quality(reference, 49, range(10, 20))
    assert compare_frames(query, faded_reference).reference_share == 1.0


def test_a_black_video_never_matches() -> None:
    black = PdqSignal(PdqHash(bytes(32)), 0)
    frames = [FrameHash(float(k), black) for k in range(30)]
    result = compare_frames(frames, frames)
    assert not result.matched
    assert (result.query_frames, result.reference_frames) == (0, 0)
    assert (result.query_share, result.reference_share) == (0.0, 0.0)


def test_degenerate_hashes_are_left_out_even_with_a_quality() -> None:
    flat = PdqSignal(PdqHash(b"\xff" * 32), 100)
    frames = [FrameHash(float(k), flat) for k in range(10)]
    assert not compare_frames(frames, frames).matched


def test_a_still_held_reference_frame_counts_once() -> None:
    reference = _video(10, seed=16)
    still = [FrameHash(10.0 + k, reference[9].pdq) for k in range(50)]  # held for 50 s
    result = compare_frames(_reencoded(reference, 0, 5), reference + still)
    assert result.reference_frames == 10  # unique hashes, as vPDQ counts them
    assert result.reference_share == 0.5


# ------------------------------------------------------------------------- time ranges


def test_one_missed_sample_inside_a_run_is_bridged_but_two_are_not() -> None:
    reference = _video(30, seed=17)
    query = _reencoded(reference, 0, 30)
    query[10] = _video(1, seed=18, start=10.0)[0]  # one miss at 10 s
    query[20:22] = _video(2, seed=19, start=20.0)  # two misses at 20-21 s
    result = compare_frames(query, reference)
    assert result.query_ranges == (TimeRange(0.0, 20.0), TimeRange(22.0, 30.0))
    assert result.reference_ranges == result.query_ranges
    strict = compare_frames(query, reference, VideoMatchRule(max_missed_samples=0))
    assert len(strict.query_ranges) == 3


def test_ranges_use_each_timeline_own_sampling_interval() -> None:
    reference = _video(40, seed=20, step=0.5)  # sampled twice a second
    clip = _reencoded(reference, 10, 30)
    result = compare_frames(clip, reference)
    assert result.query_ranges == (TimeRange(0.0, 10.0),)
    assert result.reference_ranges == (TimeRange(5.0, 15.0),)


def test_empty_videos_compare_to_nothing() -> None:
    result = compare_frames([], _video(5, seed=21))
    assert not result.matched and result.query_frames == 0
    assert not compare_frames(_video(5, seed=21), []).matched


# ----------------------------------------------------------------- values and their JSON


def test_result_is_frozen_and_serialises_to_json() -> None:
    reference = _video(10, seed=22)
    result = compare_frames(_reencoded(reference, 2, 8), reference)
    with pytest.raises(AttributeError):
        result.matched = False  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_json()))
    assert data["matched"] is True
    assert data["query_ranges"] == [[0.0, 6.0]]
    assert data["reference_ranges"] == [[2.0, 8.0]]
    assert data["rule"]["threshold"] == 31 and data["rule"]["min_quality"] == 50
    assert data["pairs"][0] == [0.0, 2.0, 12]


@pytest.mark.parametrize(
    "options",
    [
        {"threshold": 257},
        {"min_quality": 101},
        {"min_share": 0},
        {"min_share": 1.5},
        {"min_matched_frames": 0},
        {"max_missed_samples": -1},
    ],
)
def test_a_nonsense_rule_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        VideoMatchRule(**options)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=0, max_size=12), st.data())
def test_distances_equal_the_hash_distance(codes: list[bytes], data: st.DataObject) -> None:
    others = data.draw(st.lists(st.binary(min_size=32, max_size=32), max_size=12))
    a = [FrameHash(0.0, PdqSignal(PdqHash(c), 100)) for c in codes]
    b = [FrameHash(0.0, PdqSignal(PdqHash(c), 100)) for c in others]
    expected = [[x.pdq.hash.distance(y.pdq.hash) for y in b] for x in a]
    assert _distances(_codes(a), _codes(b)).tolist() == expected


# ---------------------------------------------------------------- end to end, real videos


@functools.cache
def _hashed(seed: int, seconds: float, **options: object) -> VideoHashes:
    return hash_video_bytes(neutral_video(seed, seconds, **options))  # type: ignore[arg-type]


def test_a_reencoded_20_s_clip_of_a_60_s_video_matches_at_20_to_40_s() -> None:
    reference = _hashed(30, 60, fps=5)
    clip = _hashed(30, 20, fps=12, start_s=20, width=240, height=180, codec="vp9", container="webm")
    result = compare_videos(clip, reference)
    assert result.matched
    assert result.query_share >= 0.9
    assert result.reference_share == pytest.approx(1 / 3, abs=0.05)
    assert result.query_ranges == (TimeRange(0.0, 20.0),)
    assert result.reference_ranges == (TimeRange(20.0, 40.0),)
    reverse = compare_videos(reference, clip)  # the clip registered, the full video found
    assert reverse.matched and reverse.reference_share >= 0.9


def test_an_unrelated_real_video_does_not_match() -> None:
    result = compare_videos(_hashed(31, 30, fps=5), _hashed(30, 60, fps=5))
    assert not result.matched
    assert result.query_frames_matched == 0


def test_a_real_black_video_never_matches_anything() -> None:
    black = hash_video_bytes(encode_video([np.zeros((120, 160, 3), np.uint8)] * 50, fps=5))
    assert not compare_videos(black, black).matched
    assert not compare_videos(black, _hashed(30, 60, fps=5)).matched
