"""Exact Hamming range search over 256-bit codes (PDQ hashes): ids in, (query, id, distance) out.

Owns the in-memory index of one bank's codes and its exactness contract; must not touch a
database, files or images: the caller feeds ids and codes, and keeps the truth elsewhere.

Contract shared by every `HammingIndex`:

* `search(queries, radius)` returns every stored item within Hamming distance <= radius of each
  query, each (query, item) pair once with its true distance, sorted by (query_index, distance,
  item_id): exactly what a brute-force scan returns, for any radius in [0, 256].
* `add` inserts or replaces (an id added again takes its new code; within one call the last
  occurrence wins); an added item is found by the very next `search`.
* `remove` withdraws ids (unknown ids are ignored); a removed item is never returned again.
* Codes are the 32 bytes of a hash in the order of its 64-character hex form.

`MultiIndex` is the C-backed index for production sizes (multi-index hashing with pigeonring
filtering, see docs/matching.md); `BruteForceIndex` is the pure-numpy reference semantics and the
test oracle.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from rempart.matching import _mih

__all__ = [
    "CODE_BYTES",
    "DEFAULT_RADIUS",
    "BruteForceIndex",
    "HammingIndex",
    "MultiIndex",
    "SearchResult",
]

CODE_BYTES = 32
DEFAULT_RADIUS = 31  # PDQ's usual match threshold, in bits
_MAX_RADIUS = 256


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Matches as three parallel arrays, sorted by (query_index, distance, item_id)."""

    query_index: NDArray[np.int32]
    item_id: NDArray[np.int64]
    distance: NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.query_index.shape[0])


@runtime_checkable
class HammingIndex(Protocol):
    """An exact, incrementally updated Hamming range-search index (see the module docstring)."""

    def add(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> None:
        """Insert or replace items: ids int64 of shape (n,), codes uint8 of shape (n, 32)."""
        ...

    def remove(self, ids: NDArray[np.int64]) -> int:
        """Withdraw items; unknown ids are ignored. Returns how many were present."""
        ...

    def search(self, queries: NDArray[np.uint8], radius: int = DEFAULT_RADIUS) -> SearchResult:
        """Every stored item within Hamming distance <= radius of each query (uint8 (q, 32))."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, item_id: object) -> bool: ...

    def memory_bytes(self) -> int:
        """Bytes held by the index structures."""
        ...


def _check_ids(ids: object) -> NDArray[np.int64]:
    if not isinstance(ids, np.ndarray) or ids.dtype != np.int64 or ids.ndim != 1:
        raise ValueError("ids must be a 1-D numpy array of int64")
    return ids


def _check_codes(codes: object, name: str = "codes") -> NDArray[np.uint8]:
    if (
        not isinstance(codes, np.ndarray)
        or codes.dtype != np.uint8
        or codes.ndim != 2
        or codes.shape[1] != CODE_BYTES
    ):
        raise ValueError(f"{name} must be a numpy array of uint8 with shape (n, {CODE_BYTES})")
    return codes


def _check_radius(radius: int) -> int:
    try:
        value = operator.index(radius)
    except TypeError:
        raise ValueError(f"radius must be an integer, not {type(radius).__name__}") from None
    if isinstance(radius, bool) or not 0 <= value <= _MAX_RADIUS:
        raise ValueError(f"radius must be an integer in [0, {_MAX_RADIUS}], got {radius!r}")
    return value


def _as_id(item_id: object) -> int | None:
    if isinstance(item_id, bool):
        return None
    try:
        value = operator.index(item_id)  # type: ignore[arg-type]
    except TypeError:
        return None
    return value if -(2**63) <= value < 2**63 else None


class MultiIndex:
    """The production index: C multi-index hashing over 16 chunks with pigeonring filtering.

    Layout: a small mutable tail scanned by brute force, sealed into immutable segments of at
    most 2**max_segment_bits items that merge LSM-style; removal sets a tombstone. Searches may
    run from several Python threads at once (the GIL is released); `add` and `remove` wait for
    running searches. `threads` is how many native threads one `search` call uses.
    """

    __slots__ = ("_ix", "_threads")

    def __init__(
        self, *, threads: int = 1, tail_capacity: int = 2048, max_segment_bits: int = 20
    ) -> None:
        if not 1 <= threads <= 64:
            raise ValueError("threads must be in [1, 64]")
        self._threads = threads
        self._ix = _mih.Index(tail_capacity=tail_capacity, max_segment_bits=max_segment_bits)

    def add(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> None:
        ids = _check_ids(ids)
        codes = _check_codes(codes)
        if ids.shape[0] != codes.shape[0]:
            raise ValueError("ids and codes must have the same length")
        self._ix.add(ids, codes)

    def remove(self, ids: NDArray[np.int64]) -> int:
        return int(self._ix.remove(_check_ids(ids)))

    def search(
        self,
        queries: NDArray[np.uint8],
        radius: int = DEFAULT_RADIUS,
        *,
        threads: int | None = None,
    ) -> SearchResult:
        queries = _check_codes(queries, "queries")
        n_threads = self._threads if threads is None else threads
        if not 1 <= n_threads <= 64:
            raise ValueError("threads must be in [1, 64]")
        q, ids, dist = self._ix.search(queries, _check_radius(radius), n_threads)
        return SearchResult(q, ids, dist)

    def __len__(self) -> int:
        return len(self._ix)

    def __contains__(self, item_id: object) -> bool:
        value = _as_id(item_id)
        return value is not None and bool(self._ix.contains(value))

    def memory_bytes(self) -> int:
        return int(self._ix.memory_bytes())

    def segments(self) -> list[tuple[int, int]]:
        """(slots, live items) of each sealed segment: for diagnostics and tests."""
        return list(self._ix.segments())

    def tail_size(self) -> int:
        """Items in the mutable tail, not yet sealed into a segment."""
        return int(self._ix.tail_size())


class BruteForceIndex:
    """The reference semantics in plain numpy: every query against every code. Small sizes only."""

    __slots__ = ("_codes", "_ids", "_row")

    def __init__(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._codes = np.empty((0, CODE_BYTES), dtype=np.uint8)
        self._row: dict[int, int] = {}

    def add(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> None:
        ids = _check_ids(ids)
        codes = _check_codes(codes)
        if ids.shape[0] != codes.shape[0]:
            raise ValueError("ids and codes must have the same length")
        new_ids: list[int] = []
        new_rows: list[NDArray[np.uint8]] = []
        pending: dict[int, int] = {}  # id -> position in new_ids
        for item_id, code in zip(ids.tolist(), codes, strict=True):
            row = self._row.get(item_id)
            if row is not None:
                self._codes[row] = code
            elif item_id in pending:
                new_rows[pending[item_id]] = code
            else:
                pending[item_id] = len(new_ids)
                new_ids.append(item_id)
                new_rows.append(code)
        if new_ids:
            base = self._ids.shape[0]
            self._ids = np.concatenate([self._ids, np.array(new_ids, dtype=np.int64)])
            self._codes = np.concatenate([self._codes, np.stack(new_rows)])
            for offset, item_id in enumerate(new_ids):
                self._row[item_id] = base + offset

    def remove(self, ids: NDArray[np.int64]) -> int:
        rows = sorted({self._row.pop(i) for i in _check_ids(ids).tolist() if i in self._row})
        if rows:
            keep = np.ones(self._ids.shape[0], dtype=bool)
            keep[rows] = False
            self._ids = self._ids[keep]
            self._codes = self._codes[keep]
            self._row = {item_id: row for row, item_id in enumerate(self._ids.tolist())}
        return len(rows)

    def search(self, queries: NDArray[np.uint8], radius: int = DEFAULT_RADIUS) -> SearchResult:
        queries = _check_codes(queries, "queries")
        r = _check_radius(radius)
        stored = np.ascontiguousarray(self._codes).view(np.uint64)  # (n, 4)
        asked = np.ascontiguousarray(queries).view(np.uint64)  # (q, 4)
        parts_q: list[NDArray[np.int64]] = []
        parts_i: list[NDArray[np.int64]] = []
        parts_d: list[NDArray[np.int64]] = []
        step = max(1, (1 << 22) // max(1, stored.shape[0]))  # bounds the (q, n, 4) temporary
        for start in range(0, asked.shape[0], step):
            block = asked[start : start + step]
            dist = np.bitwise_count(block[:, None, :] ^ stored[None, :, :]).sum(axis=2)
            qi, row = np.nonzero(dist <= r)
            parts_q.append(qi.astype(np.int64) + start)
            parts_i.append(self._ids[row])
            parts_d.append(dist[qi, row].astype(np.int64))
        q_all = np.concatenate(parts_q) if parts_q else np.empty(0, dtype=np.int64)
        i_all = np.concatenate(parts_i) if parts_i else np.empty(0, dtype=np.int64)
        d_all = np.concatenate(parts_d) if parts_d else np.empty(0, dtype=np.int64)
        order = np.lexsort((i_all, d_all, q_all))
        return SearchResult(
            q_all[order].astype(np.int32),
            i_all[order].astype(np.int64),
            d_all[order].astype(np.int32),
        )

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def __contains__(self, item_id: object) -> bool:
        value = _as_id(item_id)
        return value is not None and value in self._row

    def memory_bytes(self) -> int:
        return int(self._ids.nbytes + self._codes.nbytes) + 100 * len(self._row)
