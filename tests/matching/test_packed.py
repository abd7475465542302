"""Packed query signals: a query survives packing unchanged, and the first stage of matching
what was seen against new items finds every query the brute-force rule finds."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest

from rempart.hashing import Windows, hash_image_bytes
from rempart.hashing.signals import Digest, Dihedral, PdqHash, PdqSignal
from rempart.matching.packed import RECORD_BYTES, SeenCandidates, pack_query, unpack_query
from rempart.matching.service import FRAME, Query, QuerySignal, slot_of
from rempart.samples import neutral_image


def _jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, 320, 240).save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def test_an_image_query_with_windows_grid_and_smoothed_hash_survives_packing() -> None:
    hashes = hash_image_bytes(
        _jpeg(5), dihedral=True, windows=Windows.PICTURE | Windows.GRID | Windows.SMOOTH
    )
    query = Query.from_image(hashes)
    packed = pack_query(query)
    assert len(packed) == RECORD_BYTES * len(query.signals)
    assert unpack_query(packed, hashes.digest) == query
    assert {s.kind for s in query.signals} >= {"whole", "grid", "smooth"}


def test_video_frames_keep_their_times() -> None:
    rng = np.random.default_rng(1)
    frames = tuple(
        QuerySignal(FRAME, Dihedral.ORIGINAL, PdqSignal(PdqHash(rng.bytes(32)), 90), at_s=t)
        for t in (0.0, 1.0, 2.5)
    )
    query = Query(frames, Digest("a" * 64, "b" * 32))
    back = unpack_query(pack_query(query), query.digest)
    assert back == query
    assert [f.time_s for f in back.frames] == [0.0, 1.0, 2.5]


def test_every_label_a_query_window_carries_survives_packing() -> None:
    """Pictures on a page (region-n), collage cells and faces (n), grid cells, coarse grids:
    a scan keeps each media's query for later registrations, so none may fail to pack."""
    rng = np.random.default_rng(2)
    labelled = [
        ("screen", "region-1"),
        ("screen", "region-8"),
        ("cell", "3"),
        ("grid", "r2c1"),
        ("mosaic", "16"),
        ("face", "0"),
        ("unmarked", ""),
        ("whole", ""),
    ]
    signals = tuple(
        QuerySignal(kind, Dihedral.ORIGINAL, PdqSignal(PdqHash(rng.bytes(32)), 90), label)
        for kind, label in labelled
    )
    query = Query(signals, Digest("a" * 64, "b" * 32))
    assert unpack_query(pack_query(query), query.digest) == query
    with pytest.raises(ValueError, match="cannot be packed"):
        pack_query(Query((*signals[:1], replace(signals[0], label="region-x")), query.digest))


def _flip(code: bytes, bits: list[int]) -> bytes:
    value = bytearray(code)
    for bit in bits:
        value[bit // 8] ^= 1 << (bit % 8)
    return bytes(value)


@pytest.mark.parametrize("more_smoothed", [0, 2_500])  # the smooth slot searched both ways
def test_first_stage_finds_exactly_the_queries_within_radius_in_the_same_slot(
    more_smoothed: int,
) -> None:
    rng = np.random.default_rng(7)
    registered = [(kind, label, rng.bytes(32)) for kind, label in [("whole", ""), ("grid", "r1c1")]]
    registered += [("crop_smooth", "80-x1-y1", rng.bytes(32)), ("crop", "centre-90", rng.bytes(32))]
    near_to = list(registered)
    registered += [("crop_smooth", f"80-x{i}", rng.bytes(32)) for i in range(more_smoothed)]
    radius = 40
    queries: list[Query] = []
    for i in range(300):
        kind, label, code = near_to[i % len(near_to)]
        query_kind = {"crop_smooth": "smooth", "crop": "trimmed"}.get(kind, kind)
        # near (within the radius or just beyond), or the right code in the wrong grid cell
        flips = [int(b) for b in rng.choice(256, int(rng.integers(30, 50)), replace=False)]
        query_label = "" if kind != "grid" else "r0c0" if i % 7 == 0 else label
        near = QuerySignal(
            query_kind, Dihedral.ORIGINAL, PdqSignal(PdqHash(_flip(code, flips)), 90), query_label
        )
        noise = QuerySignal("whole", Dihedral.ROTATE_90, PdqSignal(PdqHash(rng.bytes(32)), 90))
        queries.append(Query((noise, near)))

    def brute(query: Query) -> bool:
        for s in query.signals:
            for kind, label, code in registered:
                same = slot_of(s.kind, s.label) == slot_of(kind, label)
                if same and s.signal.hash.distance(PdqHash(code)) <= radius:
                    return True
        return False

    stage = SeenCandidates(((k, lab, c.hex()) for k, lab, c in registered), radius=radius)
    found = stage.search([pack_query(q) for q in queries])
    expected = [i for i, q in enumerate(queries) if brute(q)]
    assert found == expected
    assert 0 < len(expected) < len(queries)


def test_low_quality_signals_are_left_out() -> None:
    code = bytes(range(32))
    stage = SeenCandidates([("whole", "", code.hex())], radius=10, quality_min=50)
    flat = Query((QuerySignal("whole", Dihedral.ORIGINAL, PdqSignal(PdqHash(code), 20)),))
    sharp = Query((QuerySignal("whole", Dihedral.ORIGINAL, PdqSignal(PdqHash(code), 80)),))
    assert stage.search([pack_query(flat), pack_query(sharp)]) == [1]
