"""RegisteredHashes: the matcher's columns of registered extra hashes, against a dictionary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.matching.registered import Registered, RegisteredHashes
from rempart.matching.service import slot_of

_KINDS = (("crop_smooth", "80-x1.4-y1.4"), ("grid", "r1c2"), ("mosaic", "8"), ("frame", ""))


def _rows(
    registry: RegisteredHashes, rng: np.random.Generator, ids: list[int], items: list[int]
) -> tuple[tuple[np.ndarray, ...], dict[int, tuple[int, str, str, float | None, bytes]]]:
    """Columns for `add`, and what the dictionary model expects of each id."""
    n = len(ids)
    picks = rng.integers(0, len(_KINDS), n)
    tags = np.array([registry.tag(*_KINDS[p]) for p in picks], np.uint32)
    at_s = np.array(
        [
            float(i) / 4 if _KINDS[p][0] == "frame" else math.nan
            for i, p in zip(ids, picks, strict=True)
        ]
    )
    codes = rng.integers(0, 256, (n, 32), np.uint8)
    expected = {}
    for row, (signal, item, p) in enumerate(zip(ids, items, picks, strict=True)):
        kind, label = _KINDS[p]
        code = codes[row].tobytes() if kind == "mosaic" else b""
        expected[signal] = (item, kind, label, None if math.isnan(at_s[row]) else at_s[row], code)
    columns = (np.array(ids, np.int64), np.array(items, np.int64), tags, at_s, codes)
    return columns, expected


def _seen(found: Registered) -> tuple[int, str, str, float | None, bytes]:
    return found.item, found.tag.kind, found.tag.label, found.at_s, found.code


def test_registered_hashes_agree_with_a_dictionary_through_adds_and_withdrawals() -> None:
    rng = np.random.default_rng(12)
    registry = RegisteredHashes(slot_of)
    model: dict[int, tuple[int, str, str, float | None, bytes]] = {}
    next_id, next_item = 1, 1
    for step in range(60):
        if step % 3 == 2 and model:  # withdraw some items (and sometimes bring them back)
            items = sorted({v[0] for v in model.values()})
            gone = rng.choice(items, size=min(len(items), 3), replace=False).tolist()
            ids, tags = registry.forget(gone)
            dropped = {s for s, v in model.items() if v[0] in gone}
            assert set(ids.tolist()) == dropped
            assert all(
                registry.tags()[t].kind == model[s][1]
                for s, t in zip(ids.tolist(), tags.tolist(), strict=True)
            )
            back = {s: model.pop(s) for s in dropped}
            if step % 2 and back:  # restored: the same signal ids again
                signals = sorted(back)
                columns, expected = _rows(registry, rng, signals, [back[s][0] for s in signals])
                registry.add(*columns)
                model.update(expected)
        else:
            n = int(rng.integers(1, 40))
            ids = list(range(next_id, next_id + n))
            items = [next_item + int(i) for i in sorted(rng.integers(0, 4, n))]
            next_id, next_item = next_id + n, next_item + 4
            columns, expected = _rows(registry, rng, ids, items)
            registry.add(*columns)
            model.update(expected)
        assert len(registry) == len(model)
        held = sorted(model)
        assert [_seen(r) for r in registry.look_up(np.array(held, np.int64))] == [
            model[s] for s in held
        ]
        gone_ids = np.array([i for i in range(1, next_id) if i not in model], np.int64)
        assert not registry.find(gone_ids).any()


def test_a_signal_id_added_again_replaces_what_was_held() -> None:
    registry = RegisteredHashes(slot_of)
    crop = registry.tag("crop", "centre-80")
    code = np.zeros((1, 32), np.uint8)
    registry.add(
        np.array([7]), np.array([1]), np.array([crop], np.uint32), np.array([math.nan]), code
    )
    registry.add(
        np.array([7]), np.array([2]), np.array([crop], np.uint32), np.array([math.nan]), code
    )
    (found,) = registry.look_up(np.array([7]))
    assert found.item == 2 and found.tag.slot == "picture" and len(registry) == 1


def test_an_unknown_signal_id_is_an_error_not_a_wrong_item() -> None:
    registry = RegisteredHashes(slot_of)
    with pytest.raises(KeyError):
        registry.look_up(np.array([3], np.int64))


def test_withdrawn_items_rows_are_dropped_once_half_their_block_is_withdrawn() -> None:
    registry = RegisteredHashes(slot_of)
    crop = registry.tag("crop", "centre-80")
    ids = np.arange(100, dtype=np.int64)
    items = ids // 10
    tags = np.full(100, crop, np.uint32)
    registry.add(ids, items, tags, np.full(100, math.nan), np.zeros((100, 32), np.uint8))
    assert len(registry) == 100
    held = registry.nbytes
    registry.forget([0, 1, 2, 3, 4, 5])
    assert len(registry) == 40 and registry.nbytes < held / 2
    kept = np.arange(60, 100, dtype=np.int64)
    assert [r.item for r in registry.look_up(kept)] == (kept // 10).tolist()
