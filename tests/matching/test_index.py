"""Contract of every HammingIndex: exactly the brute-force answer, whatever was added or removed.

Each test runs against every implementation (`index_factory`). The oracle is a plain dict of
id -> code and Python's int.bit_count: too slow for anything but tests, obviously right.
MultiIndex is built with a tiny tail and tiny segments so that sealing, LSM merges and
compaction all happen within a few dozen items; the scalar (non-SIMD) scan is covered too.
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from numpy.typing import NDArray

from rempart.matching import BruteForceIndex, HammingIndex, MultiIndex, SearchResult, _mih

Factory = Callable[[], HammingIndex]

FACTORIES: dict[str, Factory] = {
    "brute": BruteForceIndex,
    "multi-tiny": lambda: MultiIndex(tail_capacity=4, max_segment_bits=5),
    "multi-small": lambda: MultiIndex(tail_capacity=16, max_segment_bits=8),
    "multi-default": MultiIndex,
    "multi-2threads": lambda: MultiIndex(threads=2, tail_capacity=8, max_segment_bits=6),
}


STRATEGY_TABLES, STRATEGY_SCAN = 1, 2


@pytest.fixture(params=[*FACTORIES, "multi-scalar", "multi-tables-only", "multi-scan-only"])
def index_factory(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """Every implementation, plus MultiIndex with the SIMD scan off ("multi-scalar") and with
    the per-segment choice between tables and scan forced one way (at every radius)."""
    if request.param == "multi-scalar":
        was = _mih.set_simd(False)
        try:
            yield FACTORIES["multi-tiny"]
        finally:
            _mih.set_simd(was)
    elif request.param in ("multi-tables-only", "multi-scan-only"):
        mode = STRATEGY_TABLES if request.param == "multi-tables-only" else STRATEGY_SCAN
        was = _mih.set_strategy(mode)
        try:
            yield FACTORIES["multi-small"]
        finally:
            _mih.set_strategy(was)
    else:
        yield FACTORIES[request.param]


# ---------------------------------------------------------------------------------------------
# The oracle and code generators


def expected(
    stored: dict[int, bytes], queries: NDArray[np.uint8], radius: int
) -> list[tuple[int, int, int]]:
    """(query_index, item_id, distance) of every stored item within radius, in contract order."""
    items = [(i, int.from_bytes(c, "big")) for i, c in stored.items()]
    out = []
    for qi, q in enumerate(queries):
        qv = int.from_bytes(q.tobytes(), "big")
        for item_id, v in items:
            d = (qv ^ v).bit_count()
            if d <= radius:
                out.append((qi, item_id, d))
    out.sort(key=lambda t: (t[0], t[2], t[1]))
    return out


def as_tuples(result: SearchResult) -> list[tuple[int, int, int]]:
    assert result.query_index.dtype == np.int32
    assert result.item_id.dtype == np.int64
    assert result.distance.dtype == np.int32
    return list(
        zip(
            result.query_index.tolist(),
            result.item_id.tolist(),
            result.distance.tolist(),
            strict=True,
        )
    )


def flip_bits(code: bytes, bits: list[int]) -> bytes:
    value = int.from_bytes(code, "big")
    for b in bits:
        value ^= 1 << b
    return value.to_bytes(32, "big")


def codes_array(codes: list[bytes]) -> NDArray[np.uint8]:
    return np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(-1, 32).copy()


def ids_array(ids: list[int]) -> NDArray[np.int64]:
    return np.array(ids, dtype=np.int64)


def random_codes(rng: np.random.Generator, n: int) -> NDArray[np.uint8]:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def near(rng: np.random.Generator, code: NDArray[np.uint8], distance: int) -> NDArray[np.uint8]:
    """A copy of code at exactly `distance` bits."""
    out = code.copy()
    for b in rng.choice(256, distance, replace=False):
        out[b // 8] ^= np.uint8(1 << (b % 8))
    return out


code_st = st.binary(min_size=32, max_size=32)
id_st = st.integers(min_value=-(2**63), max_value=2**63 - 1)
small_id_st = st.integers(min_value=0, max_value=60)


@st.composite
def clustered_codes(draw: st.DrawFn, anchors: list[bytes], size: int) -> list[bytes]:
    """Codes at distance 0..40 of the anchors, with some random ones mixed in."""
    out = []
    for _ in range(size):
        if draw(st.booleans()) or not anchors:
            out.append(draw(code_st))
        else:
            anchor = draw(st.sampled_from(anchors))
            bits = draw(st.lists(st.integers(0, 255), max_size=40, unique=True))
            out.append(flip_bits(anchor, bits))
    return out


# ---------------------------------------------------------------------------------------------
# Property: any stored set, any queries, any radius -> the brute-force answer


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("name", list(FACTORIES))
def test_search_equals_brute_force_for_random_and_clustered_codes(
    name: str, data: st.DataObject
) -> None:
    anchors = data.draw(st.lists(code_st, min_size=1, max_size=4))
    n = data.draw(st.integers(0, 120))
    codes = data.draw(clustered_codes(anchors, n))
    ids = data.draw(st.lists(id_st, min_size=n, max_size=n, unique=True))
    queries = codes_array(data.draw(clustered_codes(anchors, data.draw(st.integers(1, 6)))))
    radius = data.draw(st.integers(0, 64))

    index = FACTORIES[name]()
    if n:
        index.add(ids_array(ids), codes_array(codes))
    assert as_tuples(index.search(queries, radius)) == expected(
        dict(zip(ids, codes, strict=True)), queries, radius
    )


class IndexMachine(RuleBasedStateMachine):
    """Interleaved add / remove / re-add / search, checked against the dict oracle each step."""

    factory: Factory = FACTORIES["multi-tiny"]
    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.index = type(self).factory()
        self.model: dict[int, bytes] = {}
        self.anchors: list[bytes] = []

    @initialize(anchors=st.lists(code_st, min_size=1, max_size=3))
    def set_anchors(self, anchors: list[bytes]) -> None:
        self.anchors = anchors

    @rule(target=ids, data=st.data(), new_ids=st.lists(small_id_st, min_size=1, max_size=12))
    def add(self, data: st.DataObject, new_ids: list[int]) -> object:
        codes = data.draw(clustered_codes(self.anchors, len(new_ids)))
        self.index.add(ids_array(new_ids), codes_array(codes))
        for i, c in zip(new_ids, codes, strict=True):  # the last occurrence wins
            self.model[i] = c
        return multiple(*new_ids)

    @rule(item=ids, data=st.data())
    def re_add(self, item: int, data: st.DataObject) -> None:
        code = data.draw(clustered_codes(self.anchors, 1))[0]
        self.index.add(ids_array([item]), codes_array([code]))
        self.model[item] = code

    @rule(gone=st.lists(consumes(ids), max_size=6), unknown=st.lists(small_id_st, max_size=2))
    def remove(self, gone: list[int], unknown: list[int]) -> None:
        wanted = set(gone) | set(unknown)
        present = sum(1 for i in wanted if i in self.model)
        assert self.index.remove(ids_array(gone + unknown)) == present
        for i in wanted:
            self.model.pop(i, None)

    @rule(data=st.data(), radius=st.integers(0, 64))
    def search(self, data: st.DataObject, radius: int) -> None:
        size = data.draw(st.integers(1, 4))
        queries = codes_array(data.draw(clustered_codes(self.anchors, size)))
        assert as_tuples(self.index.search(queries, radius)) == expected(
            self.model, queries, radius
        )

    @rule(item=small_id_st)
    def contains(self, item: int) -> None:
        assert (item in self.index) == (item in self.model)

    @invariant()
    def length_matches(self) -> None:
        assert len(self.index) == len(self.model)


@pytest.mark.parametrize("name", ["brute", "multi-tiny", "multi-small", "multi-2threads"])
def test_interleaved_add_remove_readd_sequences_stay_exact(name: str) -> None:
    machine = type(f"Machine_{name}", (IndexMachine,), {"factory": staticmethod(FACTORIES[name])})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=25, stateful_step_count=40, deadline=None)
    )


# ---------------------------------------------------------------------------------------------
# Examples that read like the contract


def test_empty_index_finds_nothing_and_accepts_empty_queries(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(1)
    assert len(index) == 0
    assert 5 not in index
    for queries in (random_codes(rng, 3), np.empty((0, 32), dtype=np.uint8)):
        for radius in (0, 31, 256):
            result = index.search(queries, radius)
            assert len(result) == 0
    assert index.remove(ids_array([1, 2])) == 0
    index.add(ids_array([]), np.empty((0, 32), dtype=np.uint8))
    assert len(index) == 0


def test_added_item_is_found_by_the_next_search(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(2)
    codes = random_codes(rng, 50)
    for i in range(50):
        index.add(ids_array([i]), codes[i : i + 1])
        result = index.search(codes[i : i + 1], 0)
        assert as_tuples(result) == [(0, i, 0)]
        assert i in index


def test_removed_item_is_never_returned_again(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(3)
    codes = random_codes(rng, 60)
    index.add(np.arange(60, dtype=np.int64), codes)
    for i in range(0, 60, 3):
        assert index.remove(ids_array([i])) == 1
        assert i not in index
        assert i not in index.search(codes, 256).item_id.tolist()
    assert index.remove(ids_array([0, 3])) == 0
    assert len(index) == 40


def test_removed_then_readded_id_is_found_with_its_new_code(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(4)
    old, new = random_codes(rng, 2)
    index.add(ids_array([7]), old[None])
    index.remove(ids_array([7]))
    index.add(ids_array([7]), new[None])
    assert as_tuples(index.search(np.stack([old, new]), 0)) == [(1, 7, 0)]
    assert len(index) == 1


def test_adding_an_existing_id_replaces_its_code(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(5)
    codes = random_codes(rng, 40)
    index.add(np.arange(40, dtype=np.int64), codes)
    replacement = random_codes(rng, 1)
    index.add(ids_array([10]), replacement)
    assert len(index) == 40
    assert as_tuples(index.search(codes[10:11], 0)) == []
    assert as_tuples(index.search(replacement, 0)) == [(0, 10, 0)]


def test_repeated_id_in_one_batch_keeps_its_last_code(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(6)
    codes = random_codes(rng, 3)
    index.add(ids_array([5, 9, 5]), codes)
    assert len(index) == 2
    assert as_tuples(index.search(codes, 0)) == [(1, 9, 0), (2, 5, 0)]


def test_duplicate_codes_under_different_ids_are_all_returned(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(7)
    code = random_codes(rng, 1)
    index.add(np.arange(30, dtype=np.int64), np.repeat(code, 30, axis=0))
    result = index.search(np.concatenate([code, code]), 31)
    assert as_tuples(result) == [(q, i, 0) for q in (0, 1) for i in range(30)]


def test_results_are_sorted_by_query_then_distance_then_id(index_factory: Factory) -> None:
    index = index_factory()
    rng = np.random.default_rng(8)
    anchors = random_codes(rng, 3)
    items = [near(rng, anchors[k % 3], k % 25) for k in range(90)]
    ids = rng.permutation(1000)[:90].astype(np.int64)
    index.add(ids, np.stack(items))
    got = as_tuples(index.search(anchors, 31))
    assert got == sorted(got, key=lambda t: (t[0], t[2], t[1]))
    assert len(got) == 90


@pytest.mark.parametrize("radius", [0, 1, 15, 16, 31, 32, 47, 48, 100, 255, 256])
def test_every_radius_matches_brute_force(index_factory: Factory, radius: int) -> None:
    rng = np.random.default_rng(radius)
    anchors = random_codes(rng, 4)
    items = np.stack([near(rng, anchors[k % 4], int(rng.integers(0, 130))) for k in range(200)])
    index = index_factory()
    index.add(np.arange(200, dtype=np.int64), items)
    stored = {i: items[i].tobytes() for i in range(200)}
    assert as_tuples(index.search(anchors, radius)) == expected(stored, anchors, radius)


def test_extreme_and_sparse_ids_round_trip(index_factory: Factory) -> None:
    ids = [-(2**63), -1, 0, 1, 2**32, 2**40 + 3, 2**63 - 1]
    rng = np.random.default_rng(9)
    codes = random_codes(rng, len(ids))
    index = index_factory()
    index.add(ids_array(ids), codes)
    assert all(i in index for i in ids)
    got = as_tuples(index.search(codes, 0))
    assert got == [(q, i, 0) for q, i in enumerate(ids)]
    assert index.remove(ids_array(ids[::2])) == 4
    assert as_tuples(index.search(codes, 0)) == [(q, ids[q], 0) for q in range(1, 7, 2)]


def test_memory_grows_with_the_items(index_factory: Factory) -> None:
    index = index_factory()
    before = index.memory_bytes()
    rng = np.random.default_rng(10)
    index.add(np.arange(5000, dtype=np.int64), random_codes(rng, 5000))
    assert index.memory_bytes() > before
    assert index.memory_bytes() >= 5000 * 32


@pytest.mark.parametrize(
    ("ids", "codes"),
    [
        (np.arange(2, dtype=np.int32), np.zeros((2, 32), np.uint8)),
        (np.arange(4, dtype=np.int64).reshape(2, 2), np.zeros((2, 32), np.uint8)),
        ([0, 1], np.zeros((2, 32), np.uint8)),
        (np.arange(2, dtype=np.int64), np.zeros((2, 31), np.uint8)),
        (np.arange(2, dtype=np.int64), np.zeros((2, 32), np.int8)),
        (np.arange(2, dtype=np.int64), np.zeros(64, np.uint8)),
        (np.arange(3, dtype=np.int64), np.zeros((2, 32), np.uint8)),
    ],
)
def test_malformed_add_is_rejected(index_factory: Factory, ids: object, codes: object) -> None:
    index = index_factory()
    with pytest.raises(ValueError, match=r"ids|codes"):
        index.add(ids, codes)  # type: ignore[arg-type]
    assert len(index) == 0


@pytest.mark.parametrize(
    ("queries", "radius"),
    [
        (np.zeros((1, 16), np.uint8), 31),
        (np.zeros(32, np.uint8), 31),
        (np.zeros((1, 32), np.uint16), 31),
        (np.zeros((1, 32), np.uint8), -1),
        (np.zeros((1, 32), np.uint8), 257),
        (np.zeros((1, 32), np.uint8), 3.5),
    ],
)
def test_malformed_search_is_rejected(
    index_factory: Factory, queries: object, radius: object
) -> None:
    index = index_factory()
    index.add(ids_array([1]), np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match=r"queries|radius"):
        index.search(queries, radius)  # type: ignore[arg-type]


def test_malformed_remove_is_rejected(index_factory: Factory) -> None:
    with pytest.raises(ValueError, match="ids"):
        index_factory().remove(np.array([1.0]))  # type: ignore[arg-type]


def test_non_integer_ids_are_not_contained(index_factory: Factory) -> None:
    index = index_factory()
    index.add(ids_array([1]), np.zeros((1, 32), np.uint8))
    assert 1 in index
    assert "1" not in index
    assert 1.0 not in index
    assert True not in index
    assert 2**70 not in index


# ---------------------------------------------------------------------------------------------
# MultiIndex internals that the contract relies on


def test_tail_seals_into_segments_that_merge_like_a_binary_counter() -> None:
    index = MultiIndex(tail_capacity=16, max_segment_bits=8)
    rng = np.random.default_rng(11)
    codes = random_codes(rng, 16 * 15)
    for k in range(15):
        index.add(np.arange(16 * k, 16 * (k + 1), dtype=np.int64), codes[16 * k : 16 * (k + 1)])
    # 15 sealed tails = 240 items: segments of 128 + 64 + 32 + 16, as binary 15 = 1111.
    assert sorted(n for n, _ in index.segments()) == [16, 32, 64, 128]
    index.add(np.arange(240, 256, dtype=np.int64), random_codes(rng, 16))
    assert index.segments() == [(256, 256)]  # merged up to the cap 2**8
    for k in range(4):
        index.add(np.arange(256 + 16 * k, 272 + 16 * k, dtype=np.int64), random_codes(rng, 16))
    assert sorted(n for n, _ in index.segments()) == [64, 256]  # never merged past the cap
    assert index.tail_size() == 0
    assert len(index) == 320


def test_half_dead_segments_are_compacted_and_stay_exact() -> None:
    index = MultiIndex(tail_capacity=16, max_segment_bits=10)
    rng = np.random.default_rng(12)
    codes = random_codes(rng, 1024)
    index.add(np.arange(1024, dtype=np.int64), codes)
    assert index.segments() == [(1024, 1024)]
    index.remove(np.arange(0, 500, dtype=np.int64))
    assert index.segments() == [(1024, 524)]  # tombstones only
    index.remove(np.arange(500, 520, dtype=np.int64))
    assert index.segments() == [(504, 504)]  # more than half dead: rebuilt without them
    stored = {i: codes[i].tobytes() for i in range(520, 1024)}
    queries = np.stack([near(rng, codes[i], 20) for i in (0, 519, 520, 1023)])
    assert as_tuples(index.search(queries, 31)) == expected(stored, queries, 31)
    index.remove(np.arange(520, 1024, dtype=np.int64))
    assert index.segments() == []
    assert len(index) == 0


def test_bulk_add_builds_capped_segments_directly() -> None:
    index = MultiIndex(tail_capacity=64, max_segment_bits=12)
    rng = np.random.default_rng(13)
    index.add(rng.permutation(10_000).astype(np.int64), random_codes(rng, 10_000))
    sizes = [n for n, _ in index.segments()]
    assert sum(sizes) == 10_000
    assert max(sizes) <= 4096
    assert index.tail_size() == 0


@pytest.mark.parametrize("n_queries", [1, 8, 300])
@pytest.mark.parametrize("simd", [True, False])
def test_large_segments_match_brute_force_for_small_and_large_batches(
    n_queries: int, simd: bool
) -> None:
    """2**16-item segments: the per-query path (small batches) and the sorted join (large)."""
    rng = np.random.default_rng(14)
    n = 70_000
    codes = random_codes(rng, n)
    ids = rng.permutation(n).astype(np.int64) * 3 - 50_000
    multi, brute = MultiIndex(max_segment_bits=16), BruteForceIndex()
    multi.add(ids, codes)
    brute.add(ids, codes)
    picks = rng.integers(0, n, n_queries)
    queries = np.stack([near(rng, codes[p], int(rng.integers(0, 40))) for p in picks])
    was = _mih.set_simd(simd)
    try:
        for radius in (31, 40):
            got = multi.search(queries, radius)
            assert as_tuples(got) == as_tuples(brute.search(queries, radius))
        # every query lies within 39 bits of the code it was made from
        assert set(got.query_index.tolist()) == set(range(n_queries))
        assert as_tuples(multi.search(queries, 31, threads=2)) == as_tuples(
            brute.search(queries, 31)
        )
    finally:
        _mih.set_simd(was)


FullWidth = tuple[NDArray[np.uint8], MultiIndex, dict[int, list[tuple[int, int, int]]]]


@pytest.fixture(scope="module")
def full_width_bank() -> FullWidth:
    """More than 2**19 codes: one segment with 16-bit bucket keys and no low bits inline, as
    in production; 256 queries (enough for the sorted join), and their answers by numpy."""
    rng = np.random.default_rng(17)
    n = 530_000
    ids = rng.permutation(n).astype(np.int64) + 10**12
    codes = random_codes(rng, n)
    index = MultiIndex()
    index.add(ids, codes)
    assert index.segments() == [(n, n)]
    picks = rng.integers(0, n, 256)
    queries = np.stack([near(rng, codes[p], int(rng.integers(0, 56))) for p in picks])
    stored = codes.view(np.uint64)
    answers: dict[int, list[tuple[int, int, int]]] = {31: [], 47: []}
    for qi, q in enumerate(queries.view(np.uint64)):
        half = np.bitwise_count(stored[:, :2] ^ q[:2]).sum(axis=1)
        rows = np.nonzero(half <= 47)[0]
        dist = np.bitwise_count(stored[rows] ^ q).sum(axis=1)
        for row, d in zip(rows.tolist(), dist.tolist(), strict=True):
            for radius, found in answers.items():
                if d <= radius:
                    found.append((qi, int(ids[row]), d))
    for found in answers.values():
        found.sort(key=lambda t: (t[0], t[2], t[1]))
    return queries, index, answers


@pytest.mark.parametrize("radius", [31, 47])
@pytest.mark.parametrize("simd", [True, False])
def test_full_width_segments_match_brute_force(
    full_width_bank: FullWidth, radius: int, simd: bool
) -> None:
    queries, index, answers = full_width_bank
    was = _mih.set_simd(simd)
    try:
        assert as_tuples(index.search(queries, radius, threads=2)) == answers[radius]
        assert as_tuples(index.search(queries[:5], radius)) == [
            t for t in answers[radius] if t[0] < 5
        ]
    finally:
        _mih.set_simd(was)
    assert len(answers[radius]) > 100  # the planted neighbours within reach


def test_a_flood_of_candidates_is_verified_in_rounds() -> None:
    """Tables forced at a radius where most entries pass the filter: the candidate buffer fills
    up many times within one pass and must be verified and reused, losing nothing."""
    rng = np.random.default_rng(16)
    n = 70_000
    codes = random_codes(rng, n)
    multi, brute = MultiIndex(max_segment_bits=16), BruteForceIndex()
    multi.add(np.arange(n, dtype=np.int64), codes)
    brute.add(np.arange(n, dtype=np.int64), codes)
    queries = np.stack([near(rng, codes[p], 70) for p in rng.integers(0, n, 400)])
    was = _mih.set_strategy(STRATEGY_TABLES)
    try:
        got = multi.search(queries, 80)  # about 10 rounds of 2**21 candidates a segment
    finally:
        _mih.set_strategy(was)
    assert as_tuples(got) == as_tuples(brute.search(queries, 80))
    assert len(got) >= 400


def test_concurrent_searches_and_updates_do_not_interfere() -> None:
    index = MultiIndex(tail_capacity=32, max_segment_bits=10)
    rng = np.random.default_rng(15)
    base = random_codes(rng, 3000)
    index.add(np.arange(3000, dtype=np.int64), base)
    queries = base[:200]
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            for _ in range(20):
                found = set(index.search(queries, 0, threads=2).item_id.tolist())
                assert set(range(100)) <= found  # never touched by the writer
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for k in range(40):
        fresh = random_codes(rng, 25)
        index.add(np.arange(3000 + 25 * k, 3025 + 25 * k, dtype=np.int64), fresh)
        index.remove(np.arange(100 + 20 * k, 120 + 20 * k, dtype=np.int64))
    for t in threads:
        t.join()
    assert not errors
    assert len(index) == 3000 + 1000 - 800


def test_multi_index_constructor_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="threads"):
        MultiIndex(threads=0)
    with pytest.raises(ValueError, match="max_segment_bits"):
        MultiIndex(max_segment_bits=3)
    with pytest.raises(ValueError, match="max_segment_bits"):
        MultiIndex(max_segment_bits=25)
    with pytest.raises(ValueError, match="tail_capacity"):
        MultiIndex(tail_capacity=0)
    with pytest.raises(ValueError, match="tail_capacity"):
        MultiIndex(tail_capacity=65, max_segment_bits=6)


def test_both_implementations_satisfy_the_protocol() -> None:
    assert isinstance(MultiIndex(), HammingIndex)
    assert isinstance(BruteForceIndex(), HammingIndex)


def _nearest2_kernels() -> list[str]:
    """The 2-NN kernels this CPU runs (the scalar loop everywhere)."""
    kernels = []
    was = _mih.set_nearest2_kernel("scalar")
    try:
        for name in ("scalar", "avx2", "avx512"):
            try:
                _mih.set_nearest2_kernel(name)
            except ValueError:
                continue
            kernels.append(name)
    finally:
        _mih.set_nearest2_kernel(was)
    return kernels


@given(
    st.integers(0, 40),
    st.integers(1, 700),
    st.sampled_from([255, 7, 1]),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_nearest2_answers_as_opencvs_knn_match_ties_included(
    queries: int, codes: int, bits: int, seed: int
) -> None:
    """The local-feature stage's 2-NN (matching/features.verify) gives OpenCV's knnMatch
    (k=2) answers, its order of ties too (few distinct bits make many ties), with every kernel
    this CPU has (codes counts not a multiple of a vector's, and under one, included)."""
    import cv2

    rng = np.random.default_rng(seed)
    q = rng.integers(0, 256, (queries, 32), dtype=np.uint8) & np.uint8(bits)
    c = rng.integers(0, 256, (codes, 32), dtype=np.uint8) & np.uint8(bits)
    expected = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(q, c, k=2)
    for kernel in _nearest2_kernels():
        was = _mih.set_nearest2_kernel(kernel)
        try:
            nearest, distance = _mih.nearest2(q, c)
        finally:
            _mih.set_nearest2_kernel(was)
        assert nearest.shape == distance.shape == (queries, 2)
        for i, found in enumerate(expected):
            assert [m.trainIdx for m in found] == [j for j in nearest[i].tolist() if j >= 0]
            assert [m.distance for m in found] == distance[i, : len(found)].tolist()
        if codes == 1 and queries:
            assert (nearest[:, 1] == -1).all() and (distance[:, 1] == 2**31 - 1).all()


def test_nearest2_kernels_agree_over_several_blocks() -> None:
    """More codes than one block of the kernels (512), near and far ones mixed, so that the
    best two change in later blocks and inside a vector: every kernel gives the scalar loop's
    answers; the vector ones are used where the CPU has them (x86-64 has AVX2 since 2013)."""
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (1_300, 32), dtype=np.uint8)
    picks = rng.integers(0, len(codes), 200)
    queries = np.stack([near(rng, codes[p], int(rng.integers(0, 60))) for p in picks])
    codes[1_290:] = codes[picks[:10]]  # exact ties, late, in the scalar tail
    kernels = _nearest2_kernels()
    answers = {}
    for kernel in kernels:
        was = _mih.set_nearest2_kernel(kernel)
        try:
            answers[kernel] = _mih.nearest2(queries, codes)
        finally:
            _mih.set_nearest2_kernel(was)
    for kernel in kernels:
        assert (answers[kernel][0] == answers["scalar"][0]).all(), kernel
        assert (answers[kernel][1] == answers["scalar"][1]).all(), kernel
    if platform.machine() in ("x86_64", "AMD64"):
        assert "avx2" in kernels
    with pytest.raises(ValueError, match="kernel"):
        _mih.set_nearest2_kernel("sse9")


def test_nearest2_refuses_codes_that_are_not_256_bits() -> None:
    with pytest.raises(ValueError, match="shape"):
        _mih.nearest2(np.zeros((3, 16), np.uint8), np.zeros((3, 32), np.uint8))


@given(st.integers(0, 30), st.integers(1, 40), st.integers(1, 8), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_near_postings_are_the_bucket_postings_within_the_radius(
    queries: int, codes: int, stop: int, seed: int
) -> None:
    """The local-feature index's votes (FeatureIndex.candidates): each query's bucket read,
    buckets empty or over `stop` skipped, postings within the radius kept, bucket by bucket."""
    rng = np.random.default_rng(seed)
    buckets = 16
    c = rng.integers(0, 256, (codes, 32), dtype=np.uint8) & np.uint8(rng.choice([255, 3]))
    q = rng.integers(0, 256, (queries, 32), dtype=np.uint8) & np.uint8(rng.choice([255, 3]))
    keys = rng.integers(0, buckets, queries).astype(np.int64)
    posting_keys = np.sort(rng.integers(0, buckets, codes * 2))
    rows = rng.integers(0, codes, codes * 2).astype(np.int32)
    offsets = np.searchsorted(posting_keys, np.arange(buckets + 1)).astype(np.int64)
    radius = int(rng.integers(0, 257))
    found_rows, found_queries = _mih.near_postings(keys, offsets, rows, c, q, stop, radius)
    expected = [
        (int(r), i)
        for i, key in enumerate(keys.tolist())
        if 0 < offsets[key + 1] - offsets[key] <= stop
        for r in rows[offsets[key] : offsets[key + 1]].tolist()
        if _popcount(np.bitwise_xor(c[r], q[i])) <= radius
    ]
    assert list(zip(found_rows.tolist(), found_queries.tolist(), strict=True)) == expected


def _popcount(code: NDArray[np.uint8]) -> int:
    return int(np.unpackbits(code).sum())


def test_near_postings_refuse_a_key_outside_the_table() -> None:
    codes = np.zeros((2, 32), np.uint8)
    offsets = np.array([0, 1, 2], np.int64)
    rows = np.array([0, 1], np.int32)
    with pytest.raises(ValueError, match="outside the table"):
        _mih.near_postings(np.array([2], np.int64), offsets, rows, codes, codes[:1], 4, 64)
    with pytest.raises(ValueError, match="outside the codes"):
        _mih.near_postings(
            np.array([0], np.int64), offsets, np.array([5, 1], np.int32), codes, codes[:1], 4, 64
        )
