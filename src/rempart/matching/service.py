"""Matching queries against the banks: per-bank thresholds and quality gates, the 8 dihedral
variants, exact digests, allow banks that suppress matches, and an index kept current from the
item change log without rebuilds.

Holds one in-memory index per bank; reads the store, never writes it.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rempart.errors import NotFound
from rempart.hashing import ImageHashes
from rempart.hashing.signals import Digest, Dihedral, PdqHash, PdqSignal
from rempart.hashing.windows import WindowKind
from rempart.matching.index import MultiIndex
from rempart.store.database import Database
from rempart.store.models import Bank, BankKind, Item, ItemEvent

__all__ = ["Match", "Matcher", "Query", "QueryResult"]

# Events are read again this far behind the newest one seen: a PostgreSQL sequence number can
# become visible after a higher one (concurrent transactions), and must not be skipped.
_EVENT_LOOKBACK = 500
# Native threads one bank search uses: the index splits its 16 tables between them.
_SEARCH_THREADS = max(1, min(4, os.cpu_count() or 1))


Signals = tuple[tuple[Dihedral, PdqSignal], ...]


@dataclass(frozen=True, slots=True)
class Query:
    """What is matched: PDQ signals of the whole image (the original first, then other
    variants), of its query windows, and its digests."""

    variants: Signals = ()
    digest: Digest | None = None
    quality_known: bool = True  # raw hashes from a list may come without a quality
    windows: tuple[tuple[WindowKind, Signals], ...] = ()

    @classmethod
    def from_hash(cls, pdq: PdqHash, quality: int | None = None) -> Query:
        signal = PdqSignal(pdq, 100 if quality is None else quality)
        return cls(((Dihedral.ORIGINAL, signal),), None, quality is not None)

    @classmethod
    def from_image(cls, hashes: ImageHashes) -> Query:
        """All 8 variants when they were computed (a copy may be mirrored or rotated), and
        the query windows' hashes when they were."""
        if hashes.variants:
            variants = tuple(zip(Dihedral, hashes.variants, strict=True))
        else:
            variants = ((Dihedral.ORIGINAL, hashes.pdq),)
        windows = tuple(
            (w.window.kind, tuple(zip(Dihedral, w.variants, strict=False))) for w in hashes.windows
        )
        return cls(variants, hashes.digest, windows=windows)

    def signals(self) -> Iterator[tuple[WindowKind, Dihedral, PdqSignal]]:
        for variant, signal in self.variants:
            yield WindowKind.WHOLE, variant, signal
        for kind, signals in self.windows:
            for variant, signal in signals:
                yield kind, variant, signal


@dataclass(frozen=True, slots=True)
class Match:
    bank: str
    bank_kind: BankKind
    item: int
    label: str
    distance: int
    method: str  # "pdq", "sha256" or "md5"
    variant: Dihedral | None = None  # which rotation/flip of the query matched
    threshold: int = 0
    window: WindowKind | None = None  # which part of the query matched (None: a digest)

    def to_json(self) -> dict[str, object]:
        return {
            "bank": self.bank,
            "item": self.item,
            "label": self.label,
            "distance": self.distance,
            "method": self.method,
            "variant": self.variant.value if self.variant else None,
            "threshold": self.threshold,
            "window": self.window.value if self.window else None,
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
    index: MultiIndex = field(default_factory=lambda: MultiIndex(threads=_SEARCH_THREADS))


def _codes(hexes: Sequence[str]) -> NDArray[np.uint8]:
    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


class Matcher:
    """Bank indexes in memory. `match` first applies every item change committed before it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._banks: dict[int, _BankIndex] = {}
        self._seen_seq = 0
        self._first_refresh = True
        self._applied: set[int] = set()

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
        loaded = _BankIndex(bank.id, bank.name, bank.kind, bank.threshold, bank.quality_min)
        # Core, not ORM, rows: a million ORM rows cost seconds of bookkeeping.
        rows = (
            session.connection()
            .execute(
                select(Item.id, Item.pdq).where(
                    Item.bank_id == bank.id, Item.withdrawn_at.is_(None), Item.pdq.is_not(None)
                )
            )
            .all()
        )
        if rows:
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            loaded.index.add(ids, _codes([r[1] for r in rows if r[1] is not None]))
        return loaded

    def _apply_current_state(self, session: Session, item_ids: list[int]) -> None:
        rows = session.execute(
            select(Item.id, Item.bank_id, Item.pdq, Item.withdrawn_at).where(Item.id.in_(item_ids))
        ).all()
        present = {r[0] for r in rows}
        gone = np.array([i for i in item_ids if i not in present], dtype=np.int64)
        if len(gone):  # deleted with their bank
            for known in self._banks.values():
                known.index.remove(gone)
        adds: dict[int, list[tuple[int, str]]] = {}
        removes: dict[int, list[int]] = {}
        for item_id, bank_id, pdq, withdrawn_at in rows:
            if bank_id not in self._banks or pdq is None:
                continue
            if withdrawn_at is None:
                adds.setdefault(bank_id, []).append((item_id, pdq))
            else:
                removes.setdefault(bank_id, []).append(item_id)
        for bank_id, pairs in adds.items():
            ids = np.array([item_id for item_id, _ in pairs], dtype=np.int64)
            self._banks[bank_id].index.add(ids, _codes([pdq for _, pdq in pairs]))
        for bank_id, item_list in removes.items():
            self._banks[bank_id].index.remove(np.array(item_list, dtype=np.int64))

    def bank_names(self) -> set[str]:
        return {bank.name for bank in self._banks.values()}

    def match(
        self, queries: Sequence[Query], *, banks: Collection[str] | None = None
    ) -> list[QueryResult]:
        """Match each query against every bank (or only `banks`); results in query order."""
        self.refresh()
        unknown = set(banks or ()) - self.bank_names()
        if unknown:
            raise NotFound(f"no bank named {sorted(unknown)[0]!r} (see `rempart bank list`)")
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
        owners: list[tuple[int, WindowKind, Dihedral]] = []
        codes: list[bytes] = []
        for qi, query in enumerate(queries):
            if not query.variants:
                continue
            if query.quality_known and query.variants[0][1].quality < bank.quality_min:
                gated[qi].append(bank.name)
                continue
            for kind, variant, signal in query.signals():
                if query.quality_known and signal.quality < bank.quality_min:
                    continue  # a flat window says nothing
                owners.append((qi, kind, variant))
                codes.append(signal.hash.value)
        if not codes or len(bank.index) == 0:
            return
        batch = np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(-1, 32)
        result = bank.index.search(batch, bank.threshold)
        best: dict[tuple[int, int], tuple[int, WindowKind, Dihedral]] = {}
        for row, item, distance in zip(
            result.query_index.tolist(),
            result.item_id.tolist(),
            result.distance.tolist(),
            strict=True,
        ):
            qi, kind, variant = owners[row]
            key = (qi, item)
            if key not in best or distance < best[key][0]:
                best[key] = (distance, kind, variant)
        for (qi, item), (distance, kind, variant) in best.items():
            found[qi].append(
                Match(
                    bank.name, bank.kind, item, "", distance, "pdq", variant, bank.threshold, kind
                )
            )

    def _match_digests(
        self, queries: Sequence[Query], found: list[list[Match]], banks: Collection[str] | None
    ) -> None:
        wanted = [(qi, q.digest) for qi, q in enumerate(queries) if q.digest is not None]
        if not wanted:
            return
        by_sha = {d.sha256: qi for qi, d in wanted}
        by_md5 = {d.md5: qi for qi, d in wanted}
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
        for item_id, sha256, md5, bank_name, kind in rows:
            if sha256 in by_sha:
                found[by_sha[sha256]].append(Match(bank_name, kind, item_id, "", 0, "sha256"))
            elif md5 in by_md5:
                found[by_md5[md5]].append(Match(bank_name, kind, item_id, "", 0, "md5"))

    def _drop_stale(self, found: list[list[Match]]) -> None:
        """Check every hit against the store's current state, and fill in labels.

        The index is refreshed first, so this only matters for a withdrawal committed while the
        search ran; it makes "never matches after the withdrawal returns" hold unconditionally.
        """
        ids = sorted({m.item for matches in found for m in matches})
        if not ids:
            return
        labels: dict[int, str] = {}
        with self._db.session() as session:
            for start in range(0, len(ids), 10_000):
                chunk = ids[start : start + 10_000]
                labels.update(
                    session.execute(
                        select(Item.id, Item.label).where(
                            Item.id.in_(chunk), Item.withdrawn_at.is_(None)
                        )
                    ).all()
                )
        for i, matches in enumerate(found):
            kept: dict[tuple[str, int], Match] = {}
            for m in matches:
                if m.item not in labels:
                    continue
                m = replace(m, label=labels[m.item])
                key = (m.bank, m.item)
                # an exact digest hit outranks a perceptual one for the same item
                if key not in kept or (m.method != "pdq" and kept[key].method == "pdq"):
                    kept[key] = m
            found[i] = sorted(kept.values(), key=lambda m: (m.distance, m.bank, m.item))


def _resolve(matches: list[Match], gated: tuple[str, ...]) -> QueryResult:
    allow = tuple(m for m in matches if m.bank_kind is BankKind.ALLOW)
    protect = tuple(m for m in matches if m.bank_kind is BankKind.PROTECT)
    if allow:
        return QueryResult((), protect, allow, gated)
    return QueryResult(protect, (), (), gated)
