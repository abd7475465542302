"""Matching newly registered items against what scans saw before (rempart.jobs.seen), then
confirming each earlier sighting by fetching its address again before it becomes a finding.

Owns the three steps: a cheap first pass over every kept media (an index over the few new
items' hashes, the kept signals streamed through it in chunks, and their digests), the
Matcher's own decision on the few candidates, and the confirmation (a re-fetch through the
source's guarded fetcher, hashed in memory, matched again). A finding is made only for media
still served and still matching; an address found gone is noted, with no finding. Must not
print (results come back as values).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select, update

from rempart.clock import Clock, aware, utc_now
from rempart.errors import ImageDecodeError, NotFound
from rempart.evidence.held import HeldMedia
from rempart.fetch import Fetcher, FetchError, FetchFailure
from rempart.hashing import ImageHashes, Windows, hash_image_bytes
from rempart.hashing.signals import Digest
from rempart.hashing.sniff import SNIFF_BYTES, is_video
from rempart.hashing.video import VideoHashes, hash_video_bytes
from rempart.hashing.windows import WindowKind
from rempart.i18n import N_
from rempart.jobs.scan import record_sighting
from rempart.jobs.watchlist import SourceInfo, get_source, scan_settings
from rempart.matching.calibration import THRESHOLDS, threshold_for
from rempart.matching.packed import SeenCandidates, unpack_query
from rempart.matching.service import Matcher, Query, QueryResult, slot_of
from rempart.sources import catalog
from rempart.sources.base import Candidate
from rempart.store.database import Database
from rempart.store.models import Bank, BankKind, Item, ItemSignal, SeenSignals, SourceRow

__all__ = [
    "EarlierSighting",
    "Outcome",
    "RetroResult",
    "Search",
    "bank_item_ids",
    "confirm_earlier",
    "find_earlier",
]

_CHUNK = 100_000  # kept media read and searched at once (~80 MB of signals)
_FETCH_THREADS = 4
_GONE_STATUSES = frozenset({404, 410, 451})


class Outcome(StrEnum):
    FOUND = "found"  # still served and still matching: a finding to review
    GONE = "gone"  # the address answers that it is gone: noted, no finding
    CHANGED = "changed"  # the address serves something else now: noted, no finding
    UNREACHABLE = "unreachable"  # could not tell (timeout, server error): try again later
    KEPT = "kept"  # an export, archive or folder: matched on the hashes kept, not re-read


@dataclass(frozen=True, slots=True)
class EarlierSighting:
    """A media seen before the items it matches were registered: where, when, which items."""

    seen_id: int
    source_id: int
    source: str
    source_kind: str
    key: str
    media_url: str | None
    page_url: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    items: tuple[int, ...]
    result: QueryResult  # the matcher's result on the kept signals, for those items only
    media: str = "image"
    query: Query = field(default_factory=Query)  # the kept signals, with the digests
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Search:
    """The first steps' account: how many kept media were compared, how fast, what matched."""

    items: int
    compared: int
    candidates: int
    seconds: float
    earlier: tuple[EarlierSighting, ...] = ()


@dataclass(frozen=True, slots=True)
class RetroResult:
    """What became of one earlier sighting once checked again."""

    earlier: EarlierSighting
    outcome: Outcome
    reason: str = ""  # English catalog message (a fetch failure's reason), for the record
    values: dict[str, str] = field(default_factory=dict)
    sighting: int | None = None  # the copy's first sighting, with its findings, when FOUND

    def to_json(self) -> dict[str, object]:
        e = self.earlier
        return {
            "seen": e.seen_id,
            "source": e.source,
            "media_url": e.media_url,
            "page_url": e.page_url,
            "first_seen_at": aware(e.first_seen_at).isoformat(),
            "items": list(e.items),
            "outcome": self.outcome.value,
            "reason": self.reason.format(**self.values) if self.reason else None,
            "sighting": self.sighting,
        }


def bank_item_ids(db: Database, bank: str | None = None) -> list[int]:
    """The active items of a protect bank (of every protect bank when None)."""
    query = (
        select(Item.id)
        .join(Bank, Bank.id == Item.bank_id)
        .where(Item.withdrawn_at.is_(None), Bank.kind == BankKind.PROTECT)
        .order_by(Item.id)
    )
    with db.session() as session:
        if bank is not None and session.scalar(select(Bank.id).where(Bank.name == bank)) is None:
            raise NotFound("no bank named {name!r} (see `rempart bank list`)", name=bank)
        if bank is not None:
            query = query.where(Bank.name == bank)
        return list(session.scalars(query))


# ------------------------------------------------------------------- finding candidates


def find_earlier(
    db: Database,
    matcher: Matcher,
    item_ids: Collection[int],
    *,
    chunk: int = _CHUNK,
    clock: Callable[[], float] = time.perf_counter,
) -> Search:
    """Every kept media (not found gone) that the Matcher matches to one of `item_ids`."""
    started = clock()
    items, registered, radius, quality_min = _registered(db, item_ids)
    if not items:
        return Search(0, 0, 0, clock() - started)
    first = SeenCandidates(registered, radius=radius, quality_min=quality_min)
    candidates: set[int] = set(_same_digest(db, items))
    compared = 0
    last = 0
    with db.session() as session:
        connection = session.connection()
        while True:
            rows = connection.execute(
                select(SeenSignals.id, SeenSignals.signals)
                .where(SeenSignals.id > last, SeenSignals.gone_at.is_(None))
                .order_by(SeenSignals.id)
                .limit(chunk)
            ).all()
            if not rows:
                break
            compared += len(rows)
            last = rows[-1][0]
            found = first.search([bytes(r[1]) for r in rows])
            candidates.update(rows[i][0] for i in found)
    earlier = _decide(db, matcher, sorted(candidates), set(items))
    return Search(len(items), compared, len(candidates), clock() - started, tuple(earlier))


def _registered(
    db: Database, item_ids: Collection[int]
) -> tuple[
    dict[int, tuple[str | None, str | None]], list[tuple[str, str, str]], dict[str, int], int
]:
    """The active protect items among `item_ids` (id -> digests), their hashes as
    (kind, label, hex), the widest threshold of their banks and their lowest quality gate."""
    ids = sorted(set(item_ids))
    items: dict[int, tuple[str | None, str | None]] = {}
    registered: list[tuple[str, str, str]] = []
    thresholds: set[int] = set()
    gates: set[int] = set()
    with db.session() as session:
        for start in range(0, len(ids), 5_000):
            part = ids[start : start + 5_000]
            rows = session.execute(
                select(Item.id, Item.pdq, Item.sha256, Item.md5, Bank.threshold, Bank.quality_min)
                .join(Bank, Bank.id == Item.bank_id)
                .where(
                    Item.id.in_(part),
                    Item.withdrawn_at.is_(None),
                    Bank.kind == BankKind.PROTECT,
                )
            ).all()
            for item_id, pdq, sha256, md5, threshold, gate in rows:
                items[item_id] = (sha256, md5)
                thresholds.add(threshold)
                gates.add(gate)
                if pdq is not None:
                    registered.append((WindowKind.WHOLE.value, "", pdq))
            active = [r[0] for r in rows]
            if active:
                registered += [
                    (str(kind), str(label), str(pdq))
                    for kind, label, pdq in session.execute(
                        select(ItemSignal.kind, ItemSignal.label, ItemSignal.pdq).where(
                            ItemSignal.item_id.in_(active)
                        )
                    )
                ]
    # per slot: every pair's threshold there is at most the widest of the kinds that meet
    # in it, in the widest bank (the picture slot 52, smoothed 46, grid cells 50 by default)
    radius: dict[str, int] = {}
    for kind, label, _ in registered:
        slot = slot_of(kind, label)
        if slot not in radius:
            radius[slot] = max(
                (
                    threshold_for(other, t)
                    for other in THRESHOLDS
                    if slot_of(other, label) == slot
                    for t in thresholds
                ),
                default=0,
            )
    return items, registered, radius, min(gates, default=0)


def _same_digest(db: Database, items: dict[int, tuple[str | None, str | None]]) -> list[int]:
    sha = sorted({s for s, _ in items.values() if s})
    md5 = sorted({m for _, m in items.values() if m})
    found: list[int] = []
    with db.session() as session:
        for start in range(0, max(len(sha), len(md5)), 1_000):
            clauses = []
            if sha[start : start + 1_000]:
                clauses.append(SeenSignals.sha256.in_(sha[start : start + 1_000]))
            if md5[start : start + 1_000]:
                clauses.append(SeenSignals.md5.in_(md5[start : start + 1_000]))
            found += session.scalars(
                select(SeenSignals.id).where(or_(*clauses), SeenSignals.gone_at.is_(None))
            )
    return found


def _decide(
    db: Database, matcher: Matcher, seen_ids: Sequence[int], items: set[int]
) -> list[EarlierSighting]:
    """The Matcher's own decision on each candidate (thresholds per pair, quality gates,
    allow banks), kept for the new items only."""
    earlier: list[EarlierSighting] = []
    for start in range(0, len(seen_ids), 1_000):
        with db.session() as session:
            rows = session.execute(
                select(SeenSignals, SourceRow.name, SourceRow.kind)
                .join(SourceRow, SourceRow.id == SeenSignals.source_id)
                .where(SeenSignals.id.in_(seen_ids[start : start + 1_000]))
                .order_by(SeenSignals.id)
            ).all()
            kept = [
                (row, name, kind, unpack_query(row.signals, Digest(row.sha256, row.md5)))
                for row, name, kind in rows
            ]
        results = matcher.match([query for _, _, _, query in kept]) if kept else []
        for (row, name, kind, query), result in zip(kept, results, strict=True):
            matches = tuple(m for m in result.matches if m.item in items)
            if not matches:
                continue
            earlier.append(
                EarlierSighting(
                    row.id,
                    row.source_id,
                    name,
                    kind,
                    row.key,
                    row.media_url,
                    row.page_url,
                    row.first_seen_at,
                    row.last_seen_at,
                    tuple(sorted({m.item for m in matches})),
                    QueryResult(matches),
                    row.media,
                    query,
                    row.width,
                    row.height,
                )
            )
    return earlier


# ------------------------------------------------------------------- confirming them


@dataclass(frozen=True, slots=True)
class _Fetched:
    earlier: EarlierSighting
    outcome: Outcome | None = None  # None: fetched and hashed
    reason: str = ""
    values: dict[str, str] = field(default_factory=dict)
    hashes: ImageHashes | VideoHashes | None = None
    # kept only to hold a matched copy for review (a vault was given)
    data: bytes = field(default=b"", repr=False)


def confirm_earlier(
    db: Database,
    matcher: Matcher,
    earlier: Sequence[EarlierSighting],
    *,
    clock: Clock = utc_now,
    held: HeldMedia | None = None,
    progress: Callable[[RetroResult], None] | None = None,
) -> list[RetroResult]:
    """Fetch each earlier sighting's media again through its source's fetcher (same guards,
    networks, cookies), hash it in memory and match it: still there and still matching, it
    becomes a sighting with pending findings, like a scan's; gone, it is noted, with no
    finding. Media of an export, archive or folder (no address to fetch) are matched on the
    hashes kept."""
    windows = matcher.query_windows()
    by_source: dict[int, list[EarlierSighting]] = {}
    for e in earlier:
        by_source.setdefault(e.source_id, []).append(e)
    results: list[RetroResult] = []
    for source_id, group in by_source.items():
        info = _source(db, source_id)
        # the source's own settings, its proxy password unsealed when the vault is open here
        settings = scan_settings(info, held.vault if held is not None else None)
        with (
            catalog.fetcher_for(info.kind, settings) as fetcher,
            ThreadPoolExecutor(_FETCH_THREADS, thread_name_prefix="retro") as pool,
        ):
            fetched = list(
                pool.map(lambda e: _fetch(fetcher, e, windows, keep=held is not None), group)
            )
        for f in fetched:
            result = _settle(db, matcher, f, clock(), held)
            if progress is not None:
                progress(result)
            results.append(result)
    return results


def _source(db: Database, source_id: int) -> SourceInfo:
    with db.session() as session:
        name = session.scalars(select(SourceRow.name).where(SourceRow.id == source_id)).one()
    return get_source(db, name)


def _web(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("http://", "https://"))


def _fetch(fetcher: Fetcher, e: EarlierSighting, windows: Windows, *, keep: bool) -> _Fetched:
    if not _web(e.media_url):
        return _Fetched(e, Outcome.KEPT)
    assert e.media_url is not None
    try:
        answer = fetcher.fetch(
            e.media_url, accept="image/*,video/*,*/*;q=0.8", referer=e.page_url or None
        )
    except FetchError as exc:
        gone = exc.status in _GONE_STATUSES or exc.reason is FetchFailure.DNS
        template = exc.template or str(exc)
        values = {key: str(value) for key, value in exc.values.items()}
        return _Fetched(e, Outcome.GONE if gone else Outcome.UNREACHABLE, template, values)
    body = answer.body
    try:
        hashes: ImageHashes | VideoHashes
        if is_video(body[:SNIFF_BYTES]):
            hashes = hash_video_bytes(body)
        else:
            hashes = hash_image_bytes(body, dihedral=True, windows=windows)
    except ImageDecodeError as exc:
        values = {key: str(value) for key, value in exc.values.items()}
        return _Fetched(e, Outcome.CHANGED, exc.template or str(exc), values)
    return _Fetched(e, None, hashes=hashes, data=body if keep else b"")


def _settle(
    db: Database, matcher: Matcher, f: _Fetched, now: datetime, held: HeldMedia | None
) -> RetroResult:
    e = f.earlier
    if f.outcome in (Outcome.GONE, Outcome.CHANGED, Outcome.UNREACHABLE):
        if f.outcome is not Outcome.UNREACHABLE:
            _mark_gone(db, e.seen_id, now)
        assert f.outcome is not None
        return RetroResult(e, f.outcome, f.reason, f.values)
    if f.hashes is None:  # KEPT: the hashes seen stand for the media
        hashes = _kept_hashes(e)
        result, how = e.result, "kept hashes"
    else:
        hashes = f.hashes
        fresh = matcher.match([_query(hashes)])[0]
        result = QueryResult(tuple(m for m in fresh.matches if m.item in e.items))
        how = "refetch"
        if not result.matches:
            _mark_gone(db, e.seen_id, now)
            return RetroResult(e, Outcome.CHANGED, N_("it serves other content now"))
        if held is not None and f.data:
            held.keep(hashes.digest.sha256, f.data, {m.bank for m in result.matches})
    seen_before = aware(e.first_seen_at).isoformat()
    marked = tuple(
        replace(m, detail=(*m.detail, ("seen_before", seen_before), ("confirmed_by", how)))
        for m in result.matches
    )
    with db.session() as session:
        row = session.get(SeenSignals, e.seen_id)
        candidate = Candidate(
            e.source,
            e.key,
            b"",
            media_url=e.media_url,
            page_url=e.page_url,
            post_id=row.post_id if row else None,
            posted_at=row.posted_at if row else None,
            content_type=row.content_type if row else None,
            context=json.loads(row.context) if row else {},
        )
        sighting = record_sighting(
            session,
            e.source_id,
            candidate,
            hashes,
            QueryResult(marked),
            now,
            first_seen=e.first_seen_at,
        )
        if row is not None and f.hashes is not None:
            row.last_seen_at = now
    return RetroResult(e, Outcome.KEPT if f.hashes is None else Outcome.FOUND, sighting=sighting)


def _query(hashes: ImageHashes | VideoHashes) -> Query:
    if isinstance(hashes, VideoHashes):
        return Query.from_video(hashes)
    return Query.from_image(hashes)


def _kept_hashes(e: EarlierSighting) -> ImageHashes | VideoHashes:
    """The kept signals in the shape a sighting records (digests, PDQ, size)."""
    digest = e.query.digest
    assert digest is not None
    width, height = e.width or 0, e.height or 0
    if e.media == "video":
        return VideoHashes(digest, 0.0, width, height, "", "", 0.0, e.query.frames)
    whole = e.query.gate_signal
    assert whole is not None
    return ImageHashes(whole, digest, width, height, "", False, 1)


def _mark_gone(db: Database, seen_id: int, now: datetime) -> None:
    with db.session() as session:
        session.execute(update(SeenSignals).where(SeenSignals.id == seen_id).values(gone_at=now))
