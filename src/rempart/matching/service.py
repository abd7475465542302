"""Matching queries against the banks: per-bank thresholds and quality gates, the 8 dihedral
variants, query windows and registered extra hashes with per-kind calibrated thresholds, exact
digests, allow banks that suppress matches, and indexes kept current from the item change log
without rebuilds.

Holds in-memory indexes per bank, one per slot: "picture" (items' hashes, their registered
crops, video frames: anything that may stand for the whole picture), "smooth" (registered
smoothed crops, met by the query's smoothed hash), one per grid cell label, "face" and
"face_blanked". A query signal is searched only in its slot. Reads the store, never writes it.

A second stage works on local features (matching/features.py): a query whose PDQ hashes met
nothing within STANDALONE_BITS of a bank's item has its keypoints voted through the bank's
feature index, and the few candidates are verified geometrically; such a match's method is
"local-features". A PDQ match above STANDALONE_BITS (the windows', crops', grid cells' and
smoothed hashes' calibrated thresholds reach 46-52) is kept only when the same item is
verified geometrically: it is then marked corroborated. A partner reproducing a match with
PDQ alone at 31 bits needs no such check.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from rempart.errors import NotFound
from rempart.hashing import ImageHashes, Windows
from rempart.hashing.features import UNKNOWN_OCTAVE, LocalFeatures, features_again
from rempart.hashing.signals import Digest, Dihedral, LoneDigest, PdqHash, PdqSignal
from rempart.hashing.video import FrameHash, VideoHashes
from rempart.hashing.windows import (
    LATTICE_MIDDLE_LABEL,
    SMOOTH_CENTRE_LABEL,
    WindowKind,
    registered_box,
)
from rempart.matching.calibration import DEFAULT_BANK_THRESHOLD, threshold_for
from rempart.matching.features import (
    CORROBORATION_LIMITS,
    SEARCH_LIMITS,
    Candidate,
    FeatureIndex,
    Verification,
    verify,
)
from rempart.matching.index import MultiIndex
from rempart.matching.registered import RegisteredHashes
from rempart.matching.video import (
    VideoMatchRule,
    compare_frames,
    sampling_interval,
    time_ranges,
)
from rempart.store.database import Database
from rempart.store.models import Bank, BankKind, Item, ItemEvent, ItemFeatures, ItemSignal

__all__ = [
    "FRAME",
    "LOCAL_FEATURES",
    "STANDALONE_BITS",
    "Match",
    "Matcher",
    "Query",
    "QueryResult",
    "QuerySignal",
    "slot_of",
]

# A PDQ match this close stands alone (PDQ's usual threshold, what a partner reproduces);
# one further away must be corroborated by the local-feature stage.
STANDALONE_BITS = 31
# The query's smoothed centre meets the lattice's middle crop this many bits under the bank's
# threshold at most (24 at the default 31); see _smoothed_centre.
_CENTRE_MARGIN = 7
# A pixelated copy (see _mosaic_kept): its finest coarse grid within this many bits of the
# original's (the second finest within the MOSAIC kind's threshold), one of the two of at
# least this PDQ quality.
MOSAIC_FINEST_BITS = 28
MOSAIC_MIN_QUALITY = 20
# Or, when the query says which bits of its grids are steady (mosaic.steady_bits_for,
# rempart.hashing.pdq.pdq_steady_bits): its two finest grids differ from the original's on at
# most this many of those bits together, each grid within MOSAIC_SEARCH_BITS whole.
MOSAIC_STEADY_MISSES = 6
MOSAIC_SEARCH_BITS = 64
# A mosaic on some plain ground (31-45 % of its neighbouring blocks alike: a sky, a wall, a
# sparse screen) may differ on this many only: unrelated screens meet there at 6-9 steady bits,
# textured pictures at 14 or more (docs/benchmarks.md, fifth pass).
MOSAIC_PLAIN_GROUND_MISSES = 2
# A pixelated query's other hashes (the whole picture, its crops, windows and smoothed crops)
# lie 80-90 bits from an unpixelated original's: they meet one only as a copy of a registered
# mosaic does, or a flat or blurry picture that the blocks barely change (bench: 4-24 bits, a
# field of stars at 24). Beyond this many bits they stand only beside the item's coarse grids
# (_mosaic_kept): two pixelated screenshots of one application's layout meet there at 28-30.
MOSAIC_PLAIN_BITS = 24
# The method of a match found by local features and geometric verification.
LOCAL_FEATURES = "local-features"

# Events are read again this far behind the newest one seen: a PostgreSQL sequence number can
# become visible after a higher one (concurrent transactions), and must not be skipped.
_EVENT_LOOKBACK = 500
# Native threads one bank search uses: the index splits its 16 tables between them. A search
# of fewer hashes than _PARALLEL_FROM uses one: starting and joining threads costs more than
# it saves (a lone hash against 1M: 0.23 ms on one thread, 0.51 ms on two, bench/match_api).
_SEARCH_THREADS = max(1, min(4, os.cpu_count() or 1))
_PARALLEL_FROM = 16


# The kind of a video frame's hash, on either side (not a window of a picture).
FRAME = "frame"
# Kinds that may stand for the whole original picture: they share the "picture" slot.
_PICTURE_KINDS = frozenset(
    {
        WindowKind.WHOLE,
        WindowKind.TRIMMED,
        WindowKind.UNCAPTIONED,
        WindowKind.SCREEN,
        WindowKind.CELL,
        WindowKind.DESKEWED,
        WindowKind.UNMARKED,
        WindowKind.CROP,
        FRAME,
    }
)


# Smoothed hashes (see rempart.hashing.windows.Window.smooth) only ever meet each other.
_SMOOTH_KINDS = frozenset({WindowKind.SMOOTH, WindowKind.CROP_SMOOTH})


def slot_of(kind: str, label: str) -> str:
    """Which index a hash of this kind lives in (registered) or is searched in (query)."""
    if kind in _PICTURE_KINDS:
        return "picture"
    if kind in _SMOOTH_KINDS:
        return "smooth"
    if kind == WindowKind.GRID:
        return f"grid:{label}"  # a grid cell only ever meets the same cell
    if kind == WindowKind.MOSAIC:
        return f"mosaic:{label}"  # a coarse grid only ever meets the same grid
    return kind


def _kind_threshold(kind: str, bank_threshold: int) -> int:
    """A bank's threshold for hashes of this kind: calibrated per kind (calibration.py)."""
    return threshold_for(WindowKind.WHOLE if kind == FRAME else WindowKind(kind), bank_threshold)


def _pair_threshold(query_kind: str, registered_kind: str, bank_threshold: int) -> int:
    """A registered extra hash (a crop, a grid cell, a face) was calibrated against every
    query hash that meets it: its kind's threshold rules. Against an item's own hash, the
    query window's kind rules, and the whole query as a window: a whole picture whose hash
    lies beyond the bank's threshold is met up to the picture windows' own (a trimmed window
    that trims nothing meets it there already), but such a match needs corroboration
    (STANDALONE_BITS), which a mirrored copy gets from its features mirrored back
    (_mirrored_corroboration)."""
    if registered_kind == query_kind == WindowKind.WHOLE:
        return _kind_threshold(WindowKind.TRIMMED, bank_threshold)
    if registered_kind in (WindowKind.WHOLE, FRAME):
        return _kind_threshold(query_kind, bank_threshold)
    return _kind_threshold(registered_kind, bank_threshold)


@dataclass(frozen=True, slots=True)
class QuerySignal:
    """One PDQ hash of a query: of the whole image, one of its windows, or a video frame."""

    kind: str  # a WindowKind value or FRAME
    variant: Dihedral
    signal: PdqSignal
    label: str = ""
    at_s: float | None = None  # a frame's time in the video
    # a coarse grid's steady bits (see rempart.hashing.image.WindowHashes.steady); not packed
    # (rempart.matching.packed): a query matched later meets coarse grids by distance only
    steady: PdqHash | None = None
    # a coarse grid of a mosaic with some plain ground (rempart.hashing.mosaic.plain_ground):
    # MOSAIC_PLAIN_GROUND_MISSES of its steady bits may differ, not MOSAIC_STEADY_MISSES
    plain_ground: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """What is matched: PDQ signals (the whole image's original hash first, then its other
    variants, its windows, or a video's frames), and the file's digests."""

    signals: tuple[QuerySignal, ...] = ()
    digest: Digest | None = None
    quality_known: bool = True  # raw hashes from a list may come without a quality
    # local features of the picture and of some of its windows: (window kind, features)
    features: tuple[tuple[str, LocalFeatures], ...] = ()
    lone_digest: LoneDigest | None = None  # one digest alone, when `digest` is not known

    @property
    def exact(self) -> tuple[str | None, str | None]:
        """The file's SHA-256 and MD5, each None when not known."""
        if self.digest is not None:
            return self.digest.sha256, self.digest.md5
        lone = self.lone_digest
        if lone is None:
            return None, None
        return (lone.value, None) if lone.algorithm == "sha256" else (None, lone.value)

    @classmethod
    def from_hash(cls, pdq: PdqHash, quality: int | None = None) -> Query:
        signal = PdqSignal(pdq, 100 if quality is None else quality)
        whole = QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, signal)
        return cls((whole,), None, quality is not None)

    @classmethod
    def from_image(cls, hashes: ImageHashes) -> Query:
        """All 8 variants when they were computed (a copy may be mirrored or rotated), and
        the windows' hashes when they were."""
        variants = hashes.variants or (hashes.pdq,)
        signals = [
            QuerySignal(WindowKind.WHOLE, variant, signal)
            for variant, signal in zip(Dihedral, variants, strict=False)
        ]
        for w in hashes.windows:
            signals += [
                QuerySignal(
                    w.window.kind,
                    variant,
                    signal,
                    w.window.label,
                    steady=w.steady if variant is Dihedral.ORIGINAL else None,
                    plain_ground=w.window.plain_ground,
                )
                for variant, signal in zip(Dihedral, w.variants, strict=False)
            ]
        return cls(tuple(signals), hashes.digest, features=hashes.features)

    @classmethod
    def from_video(cls, hashes: VideoHashes) -> Query:
        """One signal per sampled frame, with its time (vPDQ-style); mirrored or turned
        videos are not looked for."""
        signals = tuple(
            QuerySignal(FRAME, Dihedral.ORIGINAL, f.pdq, at_s=f.time_s) for f in hashes.frames
        )
        return cls(signals, hashes.digest)

    @property
    def frames(self) -> tuple[FrameHash, ...]:
        """The video frames of the query (none for a picture)."""
        return tuple(
            FrameHash(s.at_s, s.signal)
            for s in self.signals
            if s.kind == FRAME and s.at_s is not None
        )

    @property
    def gate_signal(self) -> PdqSignal | None:
        """The signal whose quality decides whether a picture is matched at all."""
        first = self.signals[0] if self.signals else None
        return first.signal if first is not None and first.kind != FRAME else None


@dataclass(frozen=True, slots=True)
class Match:
    """One item a query matched, and how.

    `method` "pdq": `distance` bits of 256 differ, `threshold` the pair's limit; `detail`
    holds `corroborated_inliers` when the match lay above STANDALONE_BITS and the local
    features confirmed it. `method` "local-features": the copy was found and verified
    geometrically; `distance` is then the number of agreeing keypoints (inliers) and
    `threshold` the minimum the rule that confirmed it asked (MIN_INLIERS, fewer when the
    content check vouched for it: matching/features.py); `window` which part of the query
    held it.
    """

    bank: str
    bank_kind: BankKind
    item: int
    label: str
    distance: int
    method: str  # "pdq", "local-features", "sha256" or "md5"
    variant: Dihedral | None = None  # which rotation/flip of the query matched
    threshold: int = 0
    window: str | None = None  # which part of the query matched (a WindowKind or FRAME)
    reference: str | None = None  # which registered hash matched: "whole", a kind, FRAME
    reference_label: str = ""  # which crop, cell or face
    # videos: where on each timeline, and how much of each matched (JSON-able)
    detail: tuple[tuple[str, object], ...] = ()
    # Every kind of index the item was hit in, not only the best hit's ("picture", "smooth",
    # "grid", "face", "face_blanked"), sorted: a copy met only through "face" matched its
    # face while the rest of the picture differed (see rempart.provenance.match).
    via: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            **dict(self.detail),
            "bank": self.bank,
            "item": self.item,
            "label": self.label,
            "distance": self.distance,
            "method": self.method,
            "variant": self.variant.value if self.variant else None,
            "threshold": self.threshold,
            "window": self.window,
            "reference": self.reference,
            "reference_label": self.reference_label or None,
        }


@dataclass(frozen=True, slots=True)
class QueryResult:
    matches: tuple[Match, ...] = ()
    # protect-bank matches cancelled because the query also matched an allow bank
    suppressed: tuple[Match, ...] = ()
    allowed_by: tuple[Match, ...] = ()
    below_quality_gate: tuple[str, ...] = ()  # banks whose gate the query's quality missed


@dataclass(slots=True)
class _BankIndex:
    id: int
    name: str
    kind: BankKind
    threshold: int
    quality_min: int
    features: FeatureIndex  # voting in memory, an item's full features read from the store
    slots: dict[str, MultiIndex] = field(default_factory=dict)
    kinds: dict[str, set[str]] = field(default_factory=dict)  # registered kinds per slot

    def slot(self, name: str, kind: str = WindowKind.WHOLE.value) -> MultiIndex:
        """The slot's index, noting that hashes of `kind` are (to be) registered in it."""
        self.kinds.setdefault(name, set()).add(kind)
        if name not in self.slots:
            self.slots[name] = MultiIndex(threads=_SEARCH_THREADS)
        return self.slots[name]


@dataclass(frozen=True, slots=True)
class _Hit:
    distance: int
    limit: int
    query: QuerySignal
    reference: str
    reference_label: str
    reference_at_s: float | None = None  # a registered video frame's time
    # a coarse grid whose query knows its steady bits: how many of them differ, and whether
    # _mosaic_kept took the hit for them
    steady_misses: int | None = None
    steady_kept: bool = False

    @property
    def stands_alone(self) -> bool:
        # a coarse grid met on its steady bits is corroborated by the other grid (_mosaic_kept)
        return self.steady_kept or _stands_alone(self.distance, self.query.kind, self.reference)


_SIGNAL_COLUMNS = (
    ItemSignal.id,
    ItemSignal.item_id,
    ItemSignal.kind,
    ItemSignal.label,
    ItemSignal.pdq,
    ItemSignal.quality,
    ItemSignal.at_s,
)


_EXACT = frozenset({"sha256", "md5"})
# The labels of the items among :ids that are not withdrawn.
_CURRENT_LABELS = select(Item.id, Item.label).where(
    Item.id.in_(bindparam("ids", expanding=True)), Item.withdrawn_at.is_(None)
)


def _codes(hexes: Sequence[str]) -> NDArray[np.uint8]:
    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


_LOAD_CHUNK = 100_000


def _driver_rows(session: Session, statement: ClauseElement) -> Iterator[list[tuple[Any, ...]]]:
    """A statement's rows, _LOAD_CHUNK at a time, through the driver's own cursor:
    SQLAlchemy's result rows cost as much again as the database's work (a million hashes: 10 s
    to load instead of 5 on a loaded 2-core machine), and a chunk at a time bounds memory
    (on PostgreSQL a server-side cursor: a plain one receives every row at once)."""
    connection = session.connection()
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    driver: Any = connection.connection.driver_connection
    named = connection.dialect.name == "postgresql"
    cursor = driver.cursor(name="rempart_matcher_load") if named else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_LOAD_CHUNK):
            yield rows
    finally:
        cursor.close()


def _active_hashes(session: Session, bank_id: int) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """The bank's active items' ids and PDQ codes."""
    statement = select(Item.id, Item.pdq).where(
        Item.bank_id == bank_id, Item.withdrawn_at.is_(None), Item.pdq.is_not(None)
    )
    ids: list[NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    codes: list[NDArray[np.uint8]] = [_codes([])]
    for rows in _driver_rows(session, statement):
        ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        codes.append(_codes([r[1] for r in rows]))
    return np.concatenate(ids), np.concatenate(codes)


class Matcher:
    """Bank indexes in memory. `match` first applies every item change committed before it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._banks: dict[int, _BankIndex] = {}
        self._seen_seq = 0
        self._first_refresh = True
        self._applied: set[int] = set()
        self._registered = RegisteredHashes(slot_of)  # signal id -> what it is
        self._frames: dict[int, list[FrameHash]] = {}  # video item id -> its frames, in order

    def refresh(self) -> None:
        """Load new banks, forget deleted ones, apply item changes since the last refresh."""
        with self._db.session() as session:
            # Read first: a bank loaded below reflects at least every event up to `newest`.
            newest = session.scalar(select(func.max(ItemEvent.seq))) or 0
            banks = {b.id: b for b in session.scalars(select(Bank))}
            for bank_id in list(self._banks):
                if bank_id not in banks:
                    del self._banks[bank_id]
            loaded_now: set[int] = set()
            for bank in banks.values():
                known = self._banks.get(bank.id)
                if known is None:
                    self._banks[bank.id] = self._load(session, bank)
                    loaded_now.add(bank.id)
                else:
                    known.threshold, known.quality_min = bank.threshold, bank.quality_min
            # A first refresh loads every bank afresh: older events are already reflected.
            start_from = newest if self._first_refresh else self._seen_seq
            self._first_refresh = False
            since = max(0, start_from - _EVENT_LOOKBACK)
            events = session.execute(
                select(ItemEvent.seq, ItemEvent.item_id, ItemEvent.bank_id).where(
                    ItemEvent.seq > since
                )
            ).all()
            touched = sorted(
                {
                    item_id
                    for seq, item_id, bank_id in events
                    if seq not in self._applied and not (bank_id in loaded_now and seq <= newest)
                }
            )
            for start in range(0, len(touched), 10_000):
                self._apply_current_state(session, touched[start : start + 10_000])
        self._seen_seq = max(self._seen_seq, newest)
        self._applied.update(seq for seq, _, _ in events)
        self._applied = {s for s in self._applied if s > self._seen_seq - _EVENT_LOOKBACK}

    def _load(self, session: Session, bank: Bank) -> _BankIndex:
        loaded = _BankIndex(
            bank.id,
            bank.name,
            bank.kind,
            bank.threshold,
            bank.quality_min,
            FeatureIndex(self._stored_features),
        )
        ids, codes = _active_hashes(session, bank.id)
        if len(ids):
            loaded.slot("picture").add(ids, codes)
        signals = (
            select(*_SIGNAL_COLUMNS)
            .join(Item, Item.id == ItemSignal.item_id)
            .where(Item.bank_id == bank.id, Item.withdrawn_at.is_(None))
        )
        # read a chunk at a time (memory stays bounded), indexed at once per slot: an index
        # sealed in one piece is searched faster than one grown by parts (see index.py)
        parts: dict[tuple[str, str], list[tuple[NDArray[np.int64], NDArray[np.uint8]]]]
        parts = defaultdict(list)
        for rows in _driver_rows(session, signals):
            for key, part in self._note_signals(rows).items():
                parts[key].append(part)
        for (slot, kind), pieces in parts.items():
            ids = np.concatenate([i for i, _ in pieces])
            loaded.slot(slot, kind).add(ids, np.concatenate([c for _, c in pieces]))
            pieces.clear()  # each slot's copy freed once indexed
        # read in batches: only each item's strongest descriptors are kept (see FeatureIndex)
        features = (
            select(ItemFeatures.item_id, ItemFeatures.data)
            .join(Item, Item.id == ItemFeatures.item_id)
            .where(Item.bank_id == bank.id, Item.withdrawn_at.is_(None))
        )
        count = (
            select(func.count(ItemFeatures.item_id))
            .join(Item, Item.id == ItemFeatures.item_id)
            .where(Item.bank_id == bank.id, Item.withdrawn_at.is_(None))
        )
        loaded.features.reserve(session.scalar(count) or 0)
        self._index_features(loaded, session.execute(features.execution_options(yield_per=1_000)))
        return loaded

    @staticmethod
    def _index_features(bank: _BankIndex, rows: Iterable[tuple[int, bytes]]) -> None:
        for item_id, data in rows:
            bank.features.add(item_id, LocalFeatures.from_bytes(data))

    def _stored_features(self, item_id: int) -> LocalFeatures | None:
        """An item's local features as the store holds them (a candidate to verify)."""
        with self._db.session() as session:
            data = session.scalar(select(ItemFeatures.data).where(ItemFeatures.item_id == item_id))
        return None if data is None else LocalFeatures.from_bytes(data)

    def _index_signals(self, bank: _BankIndex, rows: Sequence[Sequence[Any]]) -> None:
        """Index extra hashes (rows of _SIGNAL_COLUMNS) in their slots."""
        for (slot, kind), (ids, codes) in self._note_signals(rows).items():
            bank.slot(slot, kind).add(ids, codes)

    def _note_signals(
        self, rows: Sequence[Sequence[Any]]
    ) -> dict[tuple[str, str], tuple[NDArray[np.int64], NDArray[np.uint8]]]:
        """Note what each extra hash (rows of _SIGNAL_COLUMNS) is in self._registered
        (columns: no Python object a hash) and a video's frames; the index ids (-signal id)
        and codes to index, by (slot, kind)."""
        if not rows:
            return {}
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        items = np.fromiter((r[1] for r in rows), np.int64, len(rows))
        tag = self._registered.tag
        tags = np.fromiter((tag(str(r[2]), str(r[3])) for r in rows), np.uint32, len(rows))
        at_s = np.fromiter(
            (r[6] if isinstance(r[6], float) else np.nan for r in rows), np.float64, len(rows)
        )
        codes = _codes([str(r[4]) for r in rows])
        self._registered.add(ids, items, tags, at_s, codes)
        for row in rows:
            _, item_id, kind, _, pdq, quality, when = row
            if kind == FRAME and isinstance(when, float):
                frame = FrameHash(when, PdqSignal(PdqHash.from_hex(str(pdq)), int(str(quality))))
                self._frames.setdefault(item_id, []).append(frame)
        for item_id in {int(r[1]) for r in rows if r[2] == FRAME}:
            if item_id in self._frames:
                self._frames[item_id].sort(key=lambda f: f.time_s)
        known = self._registered.tags()
        group: dict[tuple[str, str], int] = {}
        groups = np.array(
            [group.setdefault((t.slot, t.kind), len(group)) for t in known], np.int64
        )[tags]
        return {
            key: (-ids[groups == number], codes[groups == number])
            for key, number in group.items()
            if np.any(groups == number)
        }

    def _forget_signals(self, item_ids: Sequence[int]) -> None:
        for item_id in item_ids:
            self._frames.pop(item_id, None)
        ids, tags = self._registered.forget(item_ids)
        known = self._registered.tags()
        for code in np.unique(tags).tolist():
            slot = known[code].slot
            gone = -ids[tags == code]
            for bank in self._banks.values():
                if slot in bank.slots:
                    bank.slots[slot].remove(gone)

    def _apply_current_state(self, session: Session, item_ids: list[int]) -> None:
        rows = session.execute(
            select(Item.id, Item.bank_id, Item.pdq, Item.withdrawn_at).where(Item.id.in_(item_ids))
        ).all()
        present = {r[0] for r in rows}
        gone = np.array([i for i in item_ids if i not in present], dtype=np.int64)
        if len(gone):  # deleted with their bank
            for known in self._banks.values():
                if "picture" in known.slots:
                    known.slots["picture"].remove(gone)
        self._forget_signals(item_ids)
        for item_id in item_ids:
            for known in self._banks.values():
                known.features.remove(item_id)
        adds: dict[int, list[tuple[int, str]]] = {}
        removes: dict[int, list[int]] = {}
        active: dict[int, int] = {}  # item id -> bank id
        for item_id, bank_id, pdq, withdrawn_at in rows:
            if bank_id not in self._banks:
                continue
            if withdrawn_at is None:
                active[item_id] = bank_id
                if pdq is not None:
                    adds.setdefault(bank_id, []).append((item_id, pdq))
            elif pdq is not None:
                removes.setdefault(bank_id, []).append(item_id)
        for bank_id, pairs in adds.items():
            ids = np.array([item_id for item_id, _ in pairs], dtype=np.int64)
            self._banks[bank_id].slot("picture").add(ids, _codes([pdq for _, pdq in pairs]))
        for bank_id, item_list in removes.items():
            bank = self._banks[bank_id]
            if "picture" in bank.slots:
                bank.slots["picture"].remove(np.array(item_list, dtype=np.int64))
        if active:
            signals = session.execute(
                select(*_SIGNAL_COLUMNS).where(ItemSignal.item_id.in_(list(active)))
            ).all()
            per_bank: dict[int, list[tuple[object, ...]]] = defaultdict(list)
            for row in signals:
                per_bank[active[row[1]]].append(tuple(row))
            for bank_id, bank_rows in per_bank.items():
                self._index_signals(self._banks[bank_id], bank_rows)
            features = session.execute(
                select(ItemFeatures.item_id, ItemFeatures.data).where(
                    ItemFeatures.item_id.in_(list(active))
                )
            ).all()
            for item_id, data in features:
                self._index_features(self._banks[active[item_id]], [(item_id, data)])

    def bank_names(self) -> set[str]:
        return {bank.name for bank in self._banks.values()}

    def query_windows(self) -> Windows:
        """The windows worth hashing in a query: grid cells, the smoothed image and faces
        only when some bank holds registered hashes of those kinds (they cost time on every
        query)."""
        self.refresh()
        wanted = Windows.PICTURE
        slots = {name for bank in self._banks.values() for name in bank.slots}
        if any(name.startswith("grid:") for name in slots):
            wanted |= Windows.GRID
        if "smooth" in slots:
            wanted |= Windows.SMOOTH
        if slots & {WindowKind.FACE.value, WindowKind.FACE_BLANKED.value}:
            wanted |= Windows.FACES
        if any(name.startswith("mosaic:") for name in slots):
            wanted |= Windows.MOSAIC  # costs an ordinary picture ~1 ms (mosaic.py)
        if any(len(bank.features) for bank in self._banks.values()):
            wanted |= Windows.FEATURES
        return wanted

    def match(
        self,
        queries: Sequence[Query],
        *,
        banks: Collection[str] | None = None,
        refresh: bool = True,
    ) -> list[QueryResult]:
        """Match each query against every bank (or only `banks`); results in query order.
        `refresh=False`: the caller follows the change log itself (a withdrawn item is still
        never answered: every hit is checked against the store)."""
        if refresh:
            self.refresh()
        unknown = set(banks or ()) - self.bank_names()
        if unknown:
            raise NotFound(
                "no bank named {name!r} (see `rempart bank list`)", name=sorted(unknown)[0]
            )
        found: list[list[Match]] = [[] for _ in queries]
        gated: list[list[str]] = [[] for _ in queries]
        for bank in self._banks.values():
            if banks is None or bank.name in banks:
                self._match_bank(bank, queries, found, gated)
        self._match_digests(queries, found, banks)
        self._drop_stale(found)
        return [_resolve(matches, tuple(g)) for matches, g in zip(found, gated, strict=True)]

    def _match_bank(
        self,
        bank: _BankIndex,
        queries: Sequence[Query],
        found: list[list[Match]],
        gated: list[list[str]],
    ) -> None:
        by_slot: dict[str, list[tuple[int, QuerySignal]]] = defaultdict(list)
        for qi, query in enumerate(queries):
            gate = query.gate_signal
            below = query.quality_known and gate is not None and gate.quality < bank.quality_min
            if below:
                gated[qi].append(bank.name)
            for signal in query.signals:
                if signal.kind == WindowKind.MOSAIC:
                    # a pixelated copy is flat to PDQ (quality 15-25): its coarse grids pass
                    # the gate, to be met at their own, strict threshold (_mosaic_kept)
                    by_slot[slot_of(signal.kind, signal.label)].append((qi, signal))
                    continue
                if below:
                    continue
                if query.quality_known and signal.signal.quality < bank.quality_min:
                    continue  # a flat window or frame says nothing
                by_slot[slot_of(signal.kind, signal.label)].append((qi, signal))
        hits: dict[tuple[int, int], list[_Hit]] = defaultdict(list)
        for slot, entries in by_slot.items():
            index = bank.slots.get(slot)
            if index is None or len(index) == 0:
                continue
            self._search_slot(slot, bank, index, entries, hits)
        mine: list[list[Match]] = [[] for _ in queries]
        for (qi, item), found_hits in hits.items():
            item_hits = _mosaic_kept(queries[qi], found_hits, bank.threshold)
            if not item_hits:
                continue
            # A hit that stands alone outranks a closer one that needs corroboration (a
            # grid cell often lies closer than the whole picture's hash of a stretched copy).
            best = min(item_hits, key=lambda h: (not h.stands_alone, h.distance, h.limit))
            detail = self._video_detail(queries[qi], item, item_hits, bank.threshold)
            if detail is None:
                continue  # a few frames in common, not the video
            if best.steady_kept:
                misses = sum(h.steady_misses or 0 for h in item_hits if h.steady_kept)
                detail = (*detail, ("steady_misses", misses))
            mine[qi].append(
                Match(
                    bank.name,
                    bank.kind,
                    item,
                    "",
                    best.distance,
                    "pdq",
                    best.query.variant,
                    best.limit,
                    best.query.kind,
                    best.reference,
                    best.reference_label,
                    detail,
                    _via(item_hits),
                )
            )
        for qi, query in enumerate(queries):
            if bank.name not in gated[qi]:
                found[qi] += _corroborated(bank, query, mine[qi])
            elif mosaics := [m for m in mine[qi] if m.window == WindowKind.MOSAIC]:
                gated[qi].remove(bank.name)  # found as a pixelated copy after all
                found[qi] += mosaics
            elif local := _corroborated(bank, query, []):
                # the gate is PDQ's (a flat hash says little); the local features have their
                # own floor and checks: a crop of a dark sky with a rocket in it, PDQ quality
                # 44, is verified on 126 points (bench/robustness.py, seed 2026)
                gated[qi].remove(bank.name)
                found[qi] += local

    def _video_detail(
        self, query: Query, item: int, hits: list[_Hit], bank_threshold: int
    ) -> tuple[tuple[str, object], ...] | None:
        """Where a video query or a video item matched, on each timeline; None when two
        videos share too little to be one (vPDQ's rule, see matching/video.py)."""
        query_frames = query.frames
        reference_frames = self._frames.get(item)
        if not query_frames and reference_frames is None:
            return ()
        if query_frames and reference_frames is not None:
            rule = VideoMatchRule(threshold=_kind_threshold(FRAME, bank_threshold))
            video = compare_frames(query_frames, reference_frames, rule)
            if not video.matched:
                return None
            return (
                ("query_ranges", [r.to_json() for r in video.query_ranges]),
                ("reference_ranges", [r.to_json() for r in video.reference_ranges]),
                ("query_share", round(video.query_share, 3)),
                ("reference_share", round(video.reference_share, 3)),
            )
        if query_frames:  # a picture of the bank seen in a video
            times = sorted({h.query.at_s for h in hits if h.query.at_s is not None})
            interval = sampling_interval(query_frames)
            return (("query_ranges", [r.to_json() for r in time_ranges(times, interval)]),)
        # a picture that is one of a registered video's frames
        times = sorted({h.reference_at_s for h in hits if h.reference_at_s is not None})
        interval = sampling_interval(reference_frames or ())
        return (("reference_ranges", [r.to_json() for r in time_ranges(times, interval)]),)

    def _search_slot(
        self,
        slot: str,
        bank: _BankIndex,
        index: MultiIndex,
        entries: list[tuple[int, QuerySignal]],
        hits: dict[tuple[int, int], list[_Hit]],
    ) -> None:
        """Search one slot's index with every query signal meant for it, keeping each hit
        within its pair's threshold (see _pair_threshold)."""
        kinds = {signal.kind for _, signal in entries} | bank.kinds.get(slot, set())
        # the kinds' own thresholds: a whole query meets an item's own hash beyond the bank's
        # threshold (_pair_threshold) only where the slot is searched that far anyway, as it is
        # where the bank holds registered crops (and so local features that may corroborate)
        radius = max(_kind_threshold(kind, bank.threshold) for kind in kinds)
        if any(signal.steady is not None for _, signal in entries):
            radius = max(radius, MOSAIC_SEARCH_BITS + bank.threshold - DEFAULT_BANK_THRESHOLD)
        batch = np.frombuffer(
            b"".join(signal.signal.hash.value for _, signal in entries), dtype=np.uint8
        ).reshape(-1, 32)
        result = index.search(batch, radius, threads=1 if len(entries) < _PARALLEL_FROM else None)
        extra = result.item_id < 0
        registered = iter(self._registered.look_up(-result.item_id[extra]))
        for row, ref, distance, is_extra in zip(
            result.query_index.tolist(),
            result.item_id.tolist(),
            result.distance.tolist(),
            extra.tolist(),
            strict=True,
        ):
            qi, signal = entries[row]
            at_s = None
            code = b""
            if not is_extra:
                item, kind, label = ref, WindowKind.WHOLE.value, ""
            else:
                known = next(registered)
                item, kind, label = known.item, known.tag.kind, known.tag.label
                at_s, code = known.at_s, known.code
            limit = _pair_threshold(signal.kind, kind, bank.threshold)
            if _smoothed_centre(signal):
                if label != LATTICE_MIDDLE_LABEL:
                    continue
                limit = bank.threshold - _CENTRE_MARGIN
            misses = None
            if signal.steady is not None and ref < 0 and kind == WindowKind.MOSAIC:
                misses = _steady_misses(signal.signal.hash, signal.steady, code)
            if distance <= limit or misses is not None:
                # beyond its threshold, a grid is kept only for its steady bits (_mosaic_kept)
                limit = limit if distance <= limit else radius
                hit = _Hit(distance, limit, signal, kind, label, at_s, steady_misses=misses)
                hits[(qi, item)].append(hit)

    def _match_digests(
        self, queries: Sequence[Query], found: list[list[Match]], banks: Collection[str] | None
    ) -> None:
        by_sha: dict[str, list[int]] = defaultdict(list)
        by_md5: dict[str, list[int]] = defaultdict(list)
        for qi, q in enumerate(queries):
            sha256, md5 = q.exact
            if sha256 is not None:
                by_sha[sha256].append(qi)
            if md5 is not None:
                by_md5[md5].append(qi)
        if not by_sha and not by_md5:
            return
        query = (
            select(Item.id, Item.sha256, Item.md5, Bank.name, Bank.kind)
            .join(Bank, Bank.id == Item.bank_id)
            .where(
                Item.withdrawn_at.is_(None),
                or_(Item.sha256.in_(list(by_sha)), Item.md5.in_(list(by_md5))),
            )
        )
        if banks is not None:
            query = query.where(Bank.name.in_(list(banks)))
        with self._db.session() as session:
            rows = session.execute(query).all()
        # Every query that gave a digest gets its match (two uploads of one file in a batch
        # both do); the SHA-256 is named when it agrees, else the MD5.
        for item_id, sha256, md5, bank_name, kind in rows:
            by_sha256 = set(by_sha.get(sha256, ())) if sha256 is not None else set()
            for qi in sorted(by_sha256):
                found[qi].append(Match(bank_name, kind, item_id, "", 0, "sha256"))
            for qi in by_md5.get(md5, ()) if md5 is not None else ():
                if qi not in by_sha256:
                    found[qi].append(Match(bank_name, kind, item_id, "", 0, "md5"))

    def _drop_stale(self, found: list[list[Match]]) -> None:
        """Check every hit against the store's current state, and fill in labels.

        The index is refreshed first, so this only matters for a withdrawal committed while the
        search ran; it makes "never matches after the withdrawal returns" hold unconditionally.
        """
        ids = sorted({m.item for matches in found for m in matches})
        if not ids:
            return
        labels: dict[int, str] = {}
        # A bare connection and a statement built once: a tenth of an ORM session's cost, paid
        # by every request that matched something.
        with self._db.engine.connect() as connection:
            for start in range(0, len(ids), 10_000):
                chunk = ids[start : start + 10_000]
                labels.update(connection.execute(_CURRENT_LABELS, {"ids": chunk}).all())
        for i, matches in enumerate(found):
            kept: dict[tuple[str, int], Match] = {}
            for m in matches:
                if m.item not in labels:
                    continue
                m = replace(m, label=labels[m.item])
                key = (m.bank, m.item)
                # an exact digest hit outranks a perceptual one for the same item
                if key not in kept or (m.method in _EXACT and kept[key].method not in _EXACT):
                    kept[key] = m
            found[i] = sorted(
                kept.values(),
                key=lambda m: (m.method == LOCAL_FEATURES, m.distance, m.bank, m.item),
            )


def _mosaic_kept(query: Query, hits: list[_Hit], bank_threshold: int) -> list[_Hit]:
    """A mosaic query's hits on an item: its coarse-grid hits when they make a pixelated copy
    (with its other hits beside them), else only its other hits within MOSAIC_PLAIN_BITS
    (shifted with the bank's threshold). A copy is the query's two finest grids both met, and
    either the finest within MOSAIC_FINEST_BITS (shifted too) and one of the two not flat to
    PDQ (quality MOSAIC_MIN_QUALITY), or, when the query knows its grids' steady bits, at most
    MOSAIC_STEADY_MISSES of them differing on the two grids together
    (MOSAIC_PLAIN_GROUND_MISSES for a mosaic on some plain ground).

    A coarse grid holds a few dozen cells: two screenshots of one application's layout, or
    two charts, pixelated, are alike on any one grid (bench: 2 bits apart), and the flatter
    the grid the closer. Two grids and some texture make it a copy (docs/matching.md). A flat
    grid's hash is mostly signs of near-zero coefficients, which a copy's noise flips: its
    steady bits are the ones that a copy keeps and another picture does not."""
    mosaic = WindowKind.MOSAIC.value
    if not any(s.kind == mosaic for s in query.signals):
        return hits  # not a mosaic
    grid_hits = [h for h in hits if h.query.kind == mosaic]
    plain = [h for h in hits if h.query.kind != mosaic]
    kept = _grids_kept(query, grid_hits, bank_threshold)
    if kept:
        return [*plain, *kept]
    shift = bank_threshold - DEFAULT_BANK_THRESHOLD
    return [h for h in plain if h.distance <= MOSAIC_PLAIN_BITS + shift]


def _grids_kept(query: Query, hits: list[_Hit], bank_threshold: int) -> list[_Hit]:
    """A mosaic query's coarse-grid hits on one item that make a pixelated copy (see
    _mosaic_kept), or none."""
    mosaic = WindowKind.MOSAIC.value
    grids = sorted(
        {int(s.label) for s in query.signals if s.kind == mosaic and s.label.isdigit()},
        reverse=True,
    )[:2]
    if len(grids) < 2:
        return []
    best: dict[int, _Hit] = {}
    for h in hits:  # the coarse-grid hits only
        if h.query.label.isdigit():
            grid = int(h.query.label)
            if grid not in best or h.distance < best[grid].distance:
                best[grid] = h
    finest, second = (best.get(g) for g in grids)
    if finest is None or second is None:
        return []
    shift = bank_threshold - DEFAULT_BANK_THRESHOLD
    near = finest.distance <= MOSAIC_FINEST_BITS + shift and second.distance <= _kind_threshold(
        mosaic, bank_threshold
    )
    textured = max(finest.query.signal.quality, second.query.signal.quality) >= MOSAIC_MIN_QUALITY
    if near and textured:
        return [finest, second]
    if finest.steady_misses is None or second.steady_misses is None:
        return []
    plain = finest.query.plain_ground or second.query.plain_ground
    allowed = MOSAIC_PLAIN_GROUND_MISSES if plain else MOSAIC_STEADY_MISSES
    if finest.steady_misses + second.steady_misses > allowed:
        return []
    return [replace(finest, steady_kept=True), replace(second, steady_kept=True)]


def _steady_misses(query: PdqHash, steady: PdqHash, code: bytes) -> int:
    """How many of a query's steady bits differ between its hash and a registered code."""
    differ = int.from_bytes(query.value) ^ int.from_bytes(code)
    return (differ & int.from_bytes(steady.value)).bit_count()


def _via(hits: list[_Hit]) -> tuple[str, ...]:
    """The kinds of index a query's hits on one item came from; grid cells as one."""
    return tuple(
        sorted({str(slot_of(h.query.kind, h.query.label)).partition(":")[0] for h in hits})
    )


def _smoothed_centre(signal: QuerySignal) -> bool:
    """Whether a query hash is its smoothed centre 80 %, which meets only the registered
    lattice's middle crop (the one it shows when the query is the whole picture), and only
    within _CENTRE_MARGIN bits under the bank's threshold, standing alone. Against any of the
    65 smoothed crops, other shots of a registered scene (the camera moved by 1-4 %) came
    within 32-34 bits (bench/robustness.py, seed 2026); against the middle one, within 42
    (seed 7), which the local features' corroboration then let through: whole copies shrunk
    or recoloured lie 0-24 bits from it."""
    return signal.kind == WindowKind.SMOOTH and signal.label == SMOOTH_CENTRE_LABEL


def _stands_alone(distance: int, window: str | None, reference: str | None) -> bool:
    """Whether a PDQ match needs no corroboration: within STANDALONE_BITS, and not through a
    grid cell (a quarter of a chart, a UI or a still life meets another's at any distance:
    bench/robustness.py saw 94 false matches in 2 million pairs, 22 of them under 29 bits)."""
    grid = WindowKind.GRID.value
    return distance <= STANDALONE_BITS and grid not in (window, reference)


def _match_stands_alone(match: Match) -> bool:
    if match.window == WindowKind.MOSAIC and any(k == "steady_misses" for k, _ in match.detail):
        return True  # two coarse grids met on their steady bits (_mosaic_kept)
    return _stands_alone(match.distance, match.window, match.reference)


def _corroborated(bank: _BankIndex, query: Query, matches: list[Match]) -> list[Match]:
    """A query's matches in one bank after the local-feature stage: PDQ matches that stand
    alone (`_stands_alone`) as they are, the others only when the same item is verified
    geometrically, and, when PDQ found nothing within STANDALONE_BITS, the items that the
    local features alone find and verify."""
    kept = [m for m in matches if _match_stands_alone(m)]
    doubtful = {m.item: m for m in matches if not _match_stands_alone(m)}
    if not query.features or not len(bank.features):
        return kept  # nothing can corroborate: what a partner could not reproduce goes
    searched = not kept  # no item stands alone: look for copies by their features
    verified: dict[int, tuple[str, Verification]] = {}
    for kind, features in query.features:
        wanted = frozenset(doubtful) - set(verified)
        if searched:
            candidates = bank.features.voted(features, wanted)
        else:
            candidates = [Candidate(i) for i in wanted if i in bank.features]
        for candidate in candidates:
            item = candidate.item
            if item in verified:
                continue
            reference = bank.features.features_of(item)
            # a copy shows the registered content wherever it shows the picture; less is
            # asked of a PDQ match's corroboration (see matching/features.py)
            eased = item in doubtful and _eased(doubtful[item])
            limits = CORROBORATION_LIMITS if eased else SEARCH_LIMITS
            check = (
                verify(features, reference, limits, candidate.window_votes)
                if reference is not None
                else None
            )
            if check is not None and _told(kind, eased, check, features, reference):
                verified[item] = (kind, check)
    verified |= _corroborated_again(bank, query, doubtful, verified)
    for item, (kind, check) in sorted(verified.items()):
        pdq = doubtful.get(item)
        if pdq is not None:
            kept.append(replace(pdq, detail=(*pdq.detail, ("corroborated_inliers", check.inliers))))
        elif searched:
            kept.append(
                Match(
                    bank.name,
                    bank.kind,
                    item,
                    "",
                    check.inliers,
                    LOCAL_FEATURES,
                    None,
                    check.needed,
                    kind,
                    None,
                    "",
                    (
                        ("inliers", check.inliers),
                        ("scale", round(check.scale, 3)),
                        ("angle", round(check.angle, 1)),
                        *_content_detail(check),
                    ),
                )
            )
    return kept


def _eased(match: Match) -> bool:
    """Whether a doubtful PDQ match is corroborated at CORROBORATION_LIMITS, looser than a
    search's: yes through a query window or a registered crop, cell or frame, which says the
    picture (or a part of it) is alike; not the whole query against the item's own hash beyond
    the bank's threshold (_pair_threshold), which other shots of a scene reach (a landscape's,
    48 and 52 bits, verified at the eased limits: bench/robustness.py, seed 5): that pair only
    proposes the item, checked as a search checks it."""
    return not match.window == match.reference == WindowKind.WHOLE


# The variants of a query that are mirror images of it (a flip, or a flip and a quarter turn).
_MIRRORED = frozenset(
    {Dihedral.FLIP_X, Dihedral.FLIP_Y, Dihedral.FLIP_PLUS_1, Dihedral.FLIP_MINUS_1}
)
# A query window shown within this ratio of the registered part's size is not taken again at
# that size: ORB's pyramid (levels 1.2 apart) meets it as it is.
_SCALE_SLACK = 1.25


def _corroborated_again(
    bank: _BankIndex,
    query: Query,
    doubtful: dict[int, Match],
    verified: dict[int, tuple[str, Verification]],
) -> dict[int, tuple[str, Verification]]:
    """Doubtful PDQ matches that the query's own features did not verify, verified on the
    features of the window that matched taken again as the registered picture's were: mirrored
    back when a mirrored variant of the query matched (ORB's descriptors do not mirror: a
    photographed page mirrored, its hash 38 bits away, 202 points agreeing mirrored back and
    none before; bench/robustness.py, seed 7), and scaled to the size of the registered part
    it matched (a collage's cell of a page of text or a brick wall, 32-36 bits from the
    registered square, 21 and 75 points agreeing at the registered size and none as shown;
    seeds 2026 and 7). The hash says which part of which picture the window may show; the
    features, taken so, say whether it does, checked as a search checks them (SEARCH_LIMITS):
    a copy's agree at nearly every point it shows. One ORB extraction per window and item, only
    for such matches (rare on unrelated pictures: their windows lie ~100 bits from every
    item)."""
    found: dict[int, tuple[str, Verification]] = {}
    for item, match in doubtful.items():
        if item in verified or item not in bank.features or match.reference is None:
            continue
        reference = bank.features.features_of(item)
        if reference is None:
            continue
        box = registered_box(
            match.reference, match.reference_label, reference.width, reference.height
        )
        if box is None:
            continue
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        mirror = match.variant in _MIRRORED
        seen: set[int] = set()
        for kind, features in query.features:
            pixels = features.pixels
            if kind != match.window or pixels is None or id(pixels) in seen:
                continue
            seen.add(id(pixels))  # a page's masked and unmasked sets share their pixels
            scale = float(np.sqrt(area / max(pixels.shape[0] * pixels.shape[1], 1)))
            rescale = not 1 / _SCALE_SLACK <= scale <= _SCALE_SLACK
            if not (mirror or rescale):
                continue  # taken as it is already
            again = features_again(features, mirror=mirror, scale=scale if rescale else 1.0)
            if again is None:
                continue
            check = verify(again, reference, SEARCH_LIMITS)
            if check is not None and _told(kind, False, check, again, reference):
                found[item] = (kind, check)
                break
    return found


def _told(
    kind: str,
    corroborating: bool,
    check: Verification,
    query: LocalFeatures,
    reference: LocalFeatures | None,
) -> bool:
    """Whether a verification may stand: a copy found by its local features alone must have
    had its content checked (enough registered points shown whole: the geometry alone agrees
    with another shot of the scene), unless its item was registered before the check existed
    (no angles); through a collage cell, at its check points. A cell hides the rest of the
    query from the content check: a landscape's sky and hills taken for a collage cell showed
    none of what its other shot changed (bench/robustness.py, 1 false match in 118,000 pairs)."""
    if corroborating or reference is None:
        return True
    if kind == WindowKind.CELL.value and reference.check_points is not None:
        return check.unlike.checks is not None
    if query.pixels is None or reference.angles is None or reference.octaves is None:
        return True
    if np.any(reference.octaves == UNKNOWN_OCTAVE):
        return True
    return check.unlike.keypoints is not None or check.unlike.checks is not None


def _content_detail(check: Verification) -> tuple[tuple[str, object], ...]:
    """The content check's shares (see matching/features.py), when it could be made."""
    shares = (
        ("unlike_keypoints", check.unlike.keypoints),
        ("unlike_check_points", check.unlike.checks),
    )
    return tuple((name, round(share, 3)) for name, share in shares if share is not None)


def _resolve(matches: list[Match], gated: tuple[str, ...]) -> QueryResult:
    allow = tuple(m for m in matches if m.bank_kind is BankKind.ALLOW)
    protect = tuple(m for m in matches if m.bank_kind is BankKind.PROTECT)
    if allow:
        return QueryResult((), protect, allow, gated)
    return QueryResult(protect, (), (), gated)
