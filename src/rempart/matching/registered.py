"""What the matcher knows of each registered extra hash (a crop, a grid cell, a coarse grid, a
video frame), by its signal id: its item, kind and label, a frame's time, a coarse grid's code.

Owns these columns and their lookups; must not read the store nor search codes (the bank
indexes hold the codes, keyed by -signal id). Held in numpy columns, 37 bytes a hash, where a
Python object, its strings and its dictionary entry took ~620 (80 hashes a picture: 8 million
at 100,000 pictures; bench/matcher_memory.py).

Layout: blocks of rows sorted by signal id, each at most half the size of the one before it
(merged when not), so that a lookup searches a few blocks and a row is copied O(log n) times;
rows added since the last lookup wait and are sorted as one block at the next (a bank's load
adds a chunk at a time and sorts once). A removed row is marked dead, and dropped at the next
merge or once half its block is dead. The kind, label and slot of a row are one small code
into a table of the distinct (kind, label) pairs seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rempart.hashing.windows import WindowKind

__all__ = ["Registered", "RegisteredHashes", "Tag"]

_MOSAIC = WindowKind.MOSAIC.value


@dataclass(frozen=True, slots=True)
class Tag:
    """A registered hash's kind, label, and the index slot it lives in."""

    kind: str
    label: str
    slot: str


@dataclass(frozen=True, slots=True)
class Registered:
    """One registered extra hash, as the matcher reads it back."""

    item: int
    tag: Tag
    at_s: float | None  # a video frame's time
    # a coarse grid's code (compared on a query's steady bits), else b""
    code: bytes = field(repr=False)


@dataclass(slots=True)
class _Block:
    """Rows sorted by signal id. `side` is a row's place in `at_s` and `codes` (-1: none):
    only frames (their time) and coarse grids (their code) have one."""

    ids: NDArray[np.int64]
    items: NDArray[np.int64]
    tags: NDArray[np.uint32]
    side: NDArray[np.int32]
    at_s: NDArray[np.float64]
    codes: NDArray[np.uint8]
    alive: NDArray[np.bool_]
    by_item: NDArray[np.int32]  # rows ordered by item
    item_order: NDArray[np.int64]  # their items, sorted (an item's rows found by bisection)

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        columns = (self.ids, self.items, self.tags, self.side, self.at_s, self.codes, self.alive)
        return sum(a.nbytes for a in (*columns, self.by_item, self.item_order))


def _block(
    ids: NDArray[np.int64],
    items: NDArray[np.int64],
    tags: NDArray[np.uint32],
    side: NDArray[np.int64],
    at_s: NDArray[np.float64],
    codes: NDArray[np.uint8],
) -> _Block:
    """A block of rows (any order; a signal id at most once), sorted by id; `side` is each
    row's place in `at_s` and `codes` (-1: none), which keep only the places used."""
    order = np.argsort(ids, kind="stable")
    used = side[order]
    has = used >= 0
    kept = used[has]
    places = np.full(len(ids), -1, np.int32)
    places[has] = np.arange(len(kept), dtype=np.int32)
    items = items[order]
    by_item = np.argsort(items, kind="stable").astype(np.int32)
    return _Block(
        ids[order],
        items,
        tags[order],
        places,
        np.ascontiguousarray(at_s[kept]),
        np.ascontiguousarray(codes[kept]),
        np.ones(len(ids), bool),
        by_item,
        items[by_item],
    )


def _merged(*blocks: _Block) -> _Block:
    """Blocks' live rows as one: a signal id alive in several keeps its last block's row."""
    parts = [b for b in blocks if len(b)]
    if not parts:
        return blocks[0]
    offsets = np.cumsum([0, *(len(b.at_s) for b in parts)])
    ids = np.concatenate([b.ids[b.alive] for b in parts])
    # the last occurrence of each id: np.unique's first, over the rows reversed
    _, first = np.unique(ids[::-1], return_index=True)
    last = np.sort(len(ids) - 1 - first)
    side = np.concatenate(
        [
            np.where(b.side >= 0, b.side + at, -1)[b.alive]
            for b, at in zip(parts, offsets, strict=False)
        ]
    )
    return _block(
        ids[last],
        np.concatenate([b.items[b.alive] for b in parts])[last],
        np.concatenate([b.tags[b.alive] for b in parts])[last],
        side[last],
        np.concatenate([b.at_s for b in parts]),
        np.concatenate([b.codes for b in parts]),
    )


class RegisteredHashes:
    """The registered extra hashes a matcher has indexed, by signal id (see the module
    docstring). A signal id added again replaces what was held for it."""

    def __init__(self, slot_of: Callable[[str, str], str]) -> None:
        self._slot_of = slot_of
        self._blocks: list[_Block] = []
        self._pending: list[_Block] = []  # added since the last lookup, each sorted alone
        self._tags: list[Tag] = []
        self._tag_codes: dict[tuple[str, str], int] = {}
        self._live = 0

    def __len__(self) -> int:
        self._settle()
        return self._live

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes() for b in (*self._blocks, *self._pending))

    def tag(self, kind: str, label: str) -> int:
        """The code of a (kind, label) pair, made on first use."""
        code = self._tag_codes.get((kind, label))
        if code is None:
            code = len(self._tags)
            self._tags.append(Tag(kind, label, self._slot_of(kind, label)))
            self._tag_codes[(kind, label)] = code
        return code

    def tags(self) -> Sequence[Tag]:
        """Every tag made so far, by code."""
        return self._tags

    def add(
        self,
        ids: NDArray[np.int64],
        items: NDArray[np.int64],
        tags: NDArray[np.uint32],
        at_s: NDArray[np.float64],
        codes: NDArray[np.uint8],
    ) -> None:
        """Rows of hashes (`at_s` NaN for a picture's; `codes` their (n, 32) codes, kept only
        for coarse grids)."""
        if not len(ids):
            return
        if len(np.unique(ids)) != len(ids):
            raise ValueError("a registered hash is added once")
        for block in self._blocks:  # an id held already takes its new row (SQLite reuses ids)
            rows = self._rows(block, ids)
            rows = rows[rows >= 0]
            block.alive[rows] = False
            self._live -= len(rows)
        mosaic = np.array([t.kind == _MOSAIC for t in self._tags], bool)
        has = ~np.isnan(at_s) | mosaic[tags]
        side = np.full(len(ids), -1, np.int64)
        side[has] = np.arange(int(has.sum()))
        self._pending.append(_block(ids, items, tags, side, at_s[has], codes[has]))
        self._live += len(ids)  # corrected by _settle if a pending id comes again

    def _settle(self) -> None:
        """The rows added since the last lookup as one block, and blocks merged until each
        is at most half its elder's size."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        block = _merged(*pending)
        self._live -= sum(len(b) for b in pending) - len(block)
        self._blocks.append(block)
        while len(self._blocks) > 1 and len(self._blocks[-2]) <= 2 * len(self._blocks[-1]):
            newer = self._blocks.pop()
            self._blocks[-1] = _merged(self._blocks[-1], newer)

    def forget(self, items: Sequence[int]) -> tuple[NDArray[np.int64], NDArray[np.uint32]]:
        """Drop the hashes of these items: their signal ids and tags."""
        self._settle()
        wanted = np.unique(np.asarray(items, np.int64))
        ids: list[NDArray[np.int64]] = []
        tags: list[NDArray[np.uint32]] = []
        for n, block in enumerate(self._blocks):
            start = np.searchsorted(block.item_order, wanted, side="left")
            stop = np.searchsorted(block.item_order, wanted, side="right")
            if not np.any(stop > start):
                continue
            rows = block.by_item[
                np.concatenate([np.arange(a, b) for a, b in zip(start, stop, strict=True)])
            ]
            rows = rows[block.alive[rows]]
            block.alive[rows] = False
            ids.append(block.ids[rows])
            tags.append(block.tags[rows])
            if 2 * np.count_nonzero(block.alive) < len(block):  # withdrawn items' rows dropped
                self._blocks[n] = _merged(block)
        self._live -= sum(len(i) for i in ids)
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.uint32)
        return np.concatenate(ids), np.concatenate(tags)

    def find(self, ids: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each signal id is held (alive)."""
        self._settle()
        found = np.zeros(len(ids), bool)
        for block in self._blocks:
            found |= self._rows(block, ids) >= 0
        return found

    def look_up(self, ids: NDArray[np.int64]) -> list[Registered]:
        """The registered hashes of these signal ids (each must be held)."""
        if not len(ids):
            return []
        self._settle()
        found: list[Registered | None] = [None] * len(ids)
        for block in self._blocks:
            rows = self._rows(block, ids)
            hit = np.flatnonzero(rows >= 0)
            for i, row in zip(hit.tolist(), rows[hit].tolist(), strict=True):
                found[i] = self._registered(block, row)
        if None in found:
            raise KeyError(int(ids[found.index(None)]))
        return found  # type: ignore[return-value]

    def _registered(self, block: _Block, row: int) -> Registered:
        tag = self._tags[int(block.tags[row])]
        side = int(block.side[row])
        if side < 0:
            return Registered(int(block.items[row]), tag, None, b"")
        when = float(block.at_s[side])
        code = block.codes[side].tobytes() if tag.kind == _MOSAIC else b""
        return Registered(int(block.items[row]), tag, None if np.isnan(when) else when, code)

    @staticmethod
    def _rows(block: _Block, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Each id's live row in the block, or -1."""
        if not len(block):
            return np.full(len(ids), -1, np.int64)
        at = np.minimum(np.searchsorted(block.ids, ids), len(block) - 1)
        hit = (block.ids[at] == ids) & block.alive[at]
        return np.where(hit, at, -1)
