"""A query's PDQ signals packed into bytes, to keep what a scan saw (never the media itself)
and match it later against items registered since, and the first, cheap stage of that match.

Owns the packed form (fixed 40-byte records) and `SeenCandidates`: which packed queries come
within the widest threshold of some new item's hash in the same slot. The exact decision stays
the Matcher's (a candidate is unpacked and matched by it). Must not read or write the store.

Record layout (little-endian): the 32 bytes of the hash, its kind, its dihedral variant, its
quality, its label, then a video frame's time in seconds (float32; NaN for a picture).
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from rempart.hashing.signals import Digest, Dihedral, PdqHash, PdqSignal
from rempart.hashing.windows import WindowKind
from rempart.matching.index import MultiIndex
from rempart.matching.service import FRAME, Query, QuerySignal, slot_of

__all__ = ["RECORD", "RECORD_BYTES", "SeenCandidates", "pack_query", "unpack_query"]

RECORD = np.dtype(
    [
        ("code", "u1", (32,)),
        ("kind", "u1"),
        ("variant", "u1"),
        ("quality", "u1"),
        ("label", "u1"),
        ("at_s", "<f4"),
    ]
)
RECORD_BYTES = RECORD.itemsize  # 40

# Stored codes: never renumber (rows already stored use them).
_KINDS: dict[str, int] = {
    WindowKind.WHOLE.value: 0,
    WindowKind.TRIMMED.value: 1,
    WindowKind.UNCAPTIONED.value: 2,
    WindowKind.SCREEN.value: 3,
    WindowKind.CELL.value: 4,
    WindowKind.DESKEWED.value: 5,
    WindowKind.GRID.value: 6,
    WindowKind.SMOOTH.value: 7,
    WindowKind.CROP.value: 8,
    WindowKind.CROP_SMOOTH.value: 9,
    WindowKind.FACE.value: 10,
    WindowKind.FACE_BLANKED.value: 11,
    FRAME: 12,
    WindowKind.MOSAIC.value: 13,
    WindowKind.UNMARKED.value: 14,
}
_KIND_OF = {code: kind for kind, code in _KINDS.items()}
_MOSAIC_CODE = _KINDS[WindowKind.MOSAIC.value]
_VARIANTS = tuple(Dihedral)
_VARIANT_CODE = {variant: code for code, variant in enumerate(_VARIANTS)}
_GRID_LABEL = re.compile(r"r([0-2])c([0-2])")
_NUMBER_BASE = 16  # labels "0", "1"… (collage cells, faces, coarse grids) are 16 + n
_REGION_BASE = 216  # labels "region-1", "region-2"… (pictures on a page) are 216 + n
_REGION_LABEL = re.compile(r"region-([0-9]{1,2})")
# A slot with at least this many registered hashes (the 65 smoothed crops of each item) is
# searched the other way round: an index over the chunk's signals, the registered hashes as
# queries. Multi-index hashing pays off on the larger side: with 100 items (6,500 smoothed
# crops) and chunks of 100,000 media, 0.4 s a chunk instead of 1.5 s (bench/retro.py).
_INDEX_SEEN_FROM = 2_000


@functools.lru_cache(maxsize=1024)
def _label_code(label: str) -> int:
    """Query labels: "" (0), grid cells r0c0…r2c2 (1-9), numbered cells, faces and coarse
    grids (16 + n, n < 200), pictures on a page (216 + n for "region-n", n < 40)."""
    if not label:
        return 0
    grid = _GRID_LABEL.fullmatch(label)
    if grid is not None:
        return 1 + 3 * int(grid.group(1)) + int(grid.group(2))
    if _numbered(label):
        return _NUMBER_BASE + int(label)
    region = _REGION_LABEL.fullmatch(label)
    if region is not None and int(region.group(1)) < 256 - _REGION_BASE:
        return _REGION_BASE + int(region.group(1))
    raise ValueError(f"a query label that cannot be packed: {label!r}")


def _numbered(label: str) -> bool:
    return label.isdigit() and int(label) < _REGION_BASE - _NUMBER_BASE


def _label_of(code: int) -> str:
    if code == 0:
        return ""
    if code < _NUMBER_BASE:
        row, col = divmod(code - 1, 3)
        return f"r{row}c{col}"
    if code >= _REGION_BASE:
        return f"region-{code - _REGION_BASE}"
    return str(code - _NUMBER_BASE)


def pack_query(query: Query) -> bytes:
    """The query's signals as records (its digest is stored beside them, not in them)."""
    signals = query.signals
    records = np.empty(len(signals), dtype=RECORD)
    if not signals:
        return b""
    codes = b"".join(s.signal.hash.value for s in signals)
    records["code"] = np.frombuffer(codes, dtype=np.uint8).reshape(-1, 32)
    records["kind"] = [_KINDS[s.kind] for s in signals]
    records["variant"] = [_VARIANT_CODE[s.variant] for s in signals]
    records["quality"] = [s.signal.quality for s in signals]
    records["label"] = [_label_code(s.label) for s in signals]
    records["at_s"] = [math.nan if s.at_s is None else s.at_s for s in signals]
    return records.tobytes()


def unpack_query(packed: bytes, digest: Digest | None = None) -> Query:
    """The query `pack_query` packed, with `digest` (kept in its own columns)."""
    if len(packed) % RECORD_BYTES:
        raise ValueError("packed signals are whole 40-byte records")
    records = np.frombuffer(packed, dtype=RECORD)
    signals = tuple(
        QuerySignal(
            _KIND_OF[int(r["kind"])],
            _VARIANTS[int(r["variant"])],
            PdqSignal(PdqHash(r["code"].tobytes()), int(r["quality"])),
            _label_of(int(r["label"])),
            None if math.isnan(float(r["at_s"])) else float(r["at_s"]),
        )
        for r in records
    )
    return Query(signals, digest)


# ------------------------------------------------------------------------ first stage


def _slot_table() -> NDArray[np.int16]:
    """Slot number of each (kind code, label code): the Matcher's slot_of, as a lookup."""
    names: dict[str, int] = {}
    table = np.full((256, 256), -1, dtype=np.int16)
    for kind, code in _KINDS.items():
        for label in range(256):
            try:
                name = slot_of(kind, _label_of(label))
            except ValueError:
                continue
            table[code, label] = names.setdefault(name, len(names))
    return table


_SLOTS = _slot_table()


def _slot(kind: str, label: str) -> int:
    """The slot number of a registered hash: -1 for labels no query hash ever carries (crops
    live in the picture or smooth slot whatever their label; only grid cells need theirs)."""
    code = _KINDS[kind]
    if kind == WindowKind.GRID.value:
        grid = _GRID_LABEL.fullmatch(label)
        return int(_SLOTS[code, _label_code(label)]) if grid else -1
    if kind == WindowKind.MOSAIC.value:  # a coarse grid meets the same grid only
        return int(_SLOTS[code, _label_code(label)]) if _numbered(label) else -1
    return int(_SLOTS[code, 0])


class SeenCandidates:
    """Which packed queries come within `radius` bits of some registered hash in the same
    slot (the Matcher's rule: a query signal only meets hashes in its own slot), ignoring
    signals below `quality_min`. A superset of what the Matcher matches when `radius` is at
    least every pair's threshold: the Matcher decides on what it returns.

    Holds one small index per slot over the new items' hashes (few), and streams the seen
    queries through it: per chunk, one search per slot over all its signals. A slot holding
    many registered hashes is searched the other way round (see _INDEX_SEEN_FROM)."""

    def __init__(
        self,
        registered: Iterable[tuple[str, str, str]],  # (kind, label, PDQ hex)
        *,
        radius: int | Mapping[str, int],
        quality_min: int = 0,
        threads: int = 1,
    ) -> None:
        by_slot: dict[int, list[bytes]] = defaultdict(list)
        self._radius: dict[int, int] = {}
        for kind, label, hexed in registered:
            slot = _slot(kind, label)
            if slot < 0:
                continue
            by_slot[slot].append(bytes.fromhex(hexed))
            name = slot_of(kind, label)
            wide = radius if isinstance(radius, int) else radius.get(name, 0)
            self._radius[slot] = max(self._radius.get(slot, 0), wide)
        self._threads = threads
        self._indexes: dict[int, MultiIndex] = {}
        self._codes: dict[int, NDArray[np.uint8]] = {}
        for slot, codes in by_slot.items():
            array = np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(-1, 32)
            self._codes[slot] = array
            if len(codes) < _INDEX_SEEN_FROM:
                index = MultiIndex(threads=threads)
                index.add(np.arange(len(codes), dtype=np.int64), array)
                self._indexes[slot] = index
        self._quality_min = quality_min

    def __len__(self) -> int:
        return sum(len(codes) for codes in self._codes.values())

    def search(self, packed: Sequence[bytes]) -> list[int]:
        """Positions in `packed` (each one query's records) that are candidates, in order."""
        if not self._codes or not packed:
            return []
        counts = np.fromiter((len(p) // RECORD_BYTES for p in packed), np.int64, len(packed))
        records = np.frombuffer(b"".join(packed), dtype=RECORD)
        rows = np.repeat(np.arange(len(packed), dtype=np.int64), counts)
        slots = _SLOTS[records["kind"], records["label"]]
        # a pixelated copy's coarse grids pass the gate, as in the Matcher
        keep = (records["quality"] >= self._quality_min) | (records["kind"] == _MOSAIC_CODE)
        hit = np.zeros(len(packed), dtype=bool)
        for slot, registered in self._codes.items():
            mask = keep & (slots == slot)
            if not mask.any():
                continue
            codes = np.ascontiguousarray(records["code"][mask])
            index = self._indexes.get(slot)
            if index is not None:
                found = index.search(codes, self._radius[slot])
                hit[rows[mask][found.query_index]] = True
            else:
                seen = MultiIndex(threads=self._threads)
                seen.add(np.arange(len(codes), dtype=np.int64), codes)
                found = seen.search(registered, self._radius[slot])
                hit[rows[mask][found.item_id]] = True
        return np.flatnonzero(hit).tolist()
