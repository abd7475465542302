"""One scan of one source: fetch → hash in memory → match → record the sightings that matched.

Owns the scan loop and its durability: candidates are handled in batches, and each batch's
sightings, findings, problems and "seen" marks commit in one transaction, so a scan killed at
any point resumes with nothing lost and nothing recorded twice. Whatever matched nothing
leaves its key and digest, and for the source's retention its hashes and query signals (never
its bytes: rempart.jobs.seen), so that items registered later are matched against it. Must not
print (progress goes to a callback) nor parse sites.

A batch's bytes are hashed in worker processes (rempart.jobs.hash_worker: one per core, all
but the first at a lower priority than this thread) while this thread crawls on and records
the batch before it: hashing is mostly Python and numpy holding the GIL, so threads would
not overlap it with the crawl (see docs/benchmarks.md). Bytes go to the worker and only the
hashes come back; the batch keeps each candidate without its bytes. Workers are spawned, so
a script calling scan_source must guard its entry point (`if __name__ == "__main__":`), as
for any use of multiprocessing; a worker that cannot start leaves the hashing to this
thread.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.errors import Conflict, InputError
from rempart.evidence.held import HeldMedia
from rempart.hashing import ImageHashes, Windows
from rempart.hashing.video import VideoHashes
from rempart.jobs.hash_worker import Outcome, Provenance, Unreadable, hash_all, started
from rempart.jobs.seen import (
    DEFAULT_RETENTION_DAYS,
    purge_seen,
    record_seen,
    retention_days,
    seen_again,
)
from rempart.jobs.state import StoredState, key_sha
from rempart.matching.service import Match, Matcher, Query, QueryResult
from rempart.provenance.match import match_signals, with_match_signals
from rempart.sources.base import Candidate, Problem, Source, Validators
from rempart.sources.web import normalise_url
from rempart.store.database import Database
from rempart.store.models import Finding, ScanProblem, ScanRun, Sighting, SourceRow

__all__ = [
    "STALE_AFTER",
    "ScanProgress",
    "ScanReport",
    "media_key",
    "record_sighting",
    "scan_source",
]

_BATCH = 64  # candidates per transaction
_PROBLEM_BATCH = 256
# Batches being hashed while an earlier one is recorded: one keeps the worker busy, and at
# most two batches' bytes in memory.
_AHEAD = 1
# Hash workers: one per core, all but the first at a lower priority than this scan's own
# thread (crawl, match, store: about one core), so that they take what it leaves, also while
# it waits for them (rempart.jobs.hash_worker); none on one core. One worker hashes ~200
# images/s of 320×240 JPEGs (with windows and local features), ~120/s of 1080p photos.
_MAX_HASH_WORKERS = 4
_HASH_PART = 16  # images a worker takes at a time
# A running scan writes a heartbeat with every batch; one silent this long was killed.
STALE_AFTER = timedelta(minutes=5)


@dataclass(slots=True)
class ScanProgress:
    """Running counts, handed to the progress callback after each batch."""

    candidates: int = 0
    matched: int = 0
    problems: int = 0


@dataclass(frozen=True, slots=True)
class ScanReport:
    run_id: int
    source: str
    candidates: int
    matched: int
    problems: int
    sightings: tuple[int, ...] = field(default=())  # ids of sightings recorded by this run
    # the source gave nothing at all (every page or file failed): it could not be read
    unreadable: bool = False


@dataclass(frozen=True, slots=True)
class _Hashed:
    candidate: Candidate
    hashes: ImageHashes | VideoHashes
    provenance: Provenance | None = None

    def query(self) -> Query:
        if isinstance(self.hashes, VideoHashes):
            return Query.from_video(self.hashes)
        return Query.from_image(self.hashes)


@dataclass(slots=True)
class _Batch:
    """Candidates without their bytes (in `data` until the batch goes to hashing), problems,
    and the page validators the source saved before the batch closed: they commit with it,
    after every candidate the source yielded before saving them."""

    candidates: list[Candidate] = field(default_factory=list)
    data: list[bytes] = field(default_factory=list, repr=False)
    problems: list[Problem] = field(default_factory=list)
    validators: list[tuple[str, Validators]] = field(default_factory=list)
    hashes: list[Future[list[Outcome]]] = field(default_factory=list)  # its parts, in order
    again: list[str] = field(default_factory=list)  # keys skipped as handled: seen again now

    @property
    def hashed(self) -> bool:
        return all(part.done() for part in self.hashes)


def scan_source(
    db: Database,
    matcher: Matcher,
    source_id: int,
    source: Source,
    *,
    clock: Clock = utc_now,
    progress: Callable[[ScanProgress], None] | None = None,
    held: HeldMedia | None = None,
    seen_retention_days: int = DEFAULT_RETENTION_DAYS,
    hash_workers: int | None = None,
) -> ScanReport:
    """Scan `source` (stored as `source_id`) once, resuming where an earlier run stopped.

    With `held`, the bytes of each matched copy are kept encrypted for review (never for a
    minor's case); everything else is dropped after hashing. Each media's hashes and query
    signals are kept for the source's retention (its `seen_retention_days` setting, else
    `seen_retention_days`; 0 keeps none); what any source saw longer ago than its retention
    is purged when the scan ends. `hash_workers`: worker processes that hash (default: one
    per core, none on one core; 0 hashes in this thread)."""
    run_id = _start_run(db, source_id, clock())
    state = StoredState.load(db, source_id)
    counts = ScanProgress()
    recorded: list[int] = []
    keep_days = _retention(db, source_id, seen_retention_days)

    def record(batch: _Batch) -> None:
        recorded.extend(
            _handle(db, matcher, state, run_id, batch, counts, clock, held, keep_days > 0)
        )
        if progress is not None:
            progress(counts)

    pipeline: _Pipeline | None = None
    try:
        with _HashWorkers(hash_workers) as workers, _set_up_frozen():
            pipeline = _Pipeline(state, matcher, workers, record, keep_bytes=held is not None)
            for found in source.scan(pipeline.source_state):
                pipeline.add(found)
            pipeline.finish()
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _finish_run(db, run_id, clock(), status, f"{type(exc).__name__}: {exc}")
        raise
    _finish_run(db, run_id, clock(), "done", None)
    purge_seen(db, default_days=seen_retention_days, clock=clock)  # every source's
    # a web page that answered "not modified" was reached too (WebSource.last_stats)
    unchanged = getattr(getattr(source, "last_stats", None), "pages_unchanged", 0)
    read = counts.candidates > 0 or unchanged > 0
    read = read or (pipeline is not None and pipeline.source_state.read_something)
    return ScanReport(
        run_id,
        source.name,
        counts.candidates,
        counts.matched,
        counts.problems,
        tuple(recorded),
        unreadable=counts.problems > 0 and not read,
    )


@contextmanager
def _set_up_frozen() -> Iterator[None]:
    """While a scan runs, what the process held before it (modules, the matcher's banks, the
    store's mappings) is left out of the garbage collector's full passes, which otherwise
    walk it all again and again for the few cycles a scan's batches leave (gc.freeze; a
    cycle among those objects is collected once the scan ends). A scan in another thread
    of the same process may end the freeze early: the passes then cost what they did."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Pipeline:
    """The batches of one scan, in order: the one filling from the source, then those being
    hashed. A hashed batch is recorded at once; when more than _AHEAD are being hashed, the
    oldest is waited for (so at most _AHEAD + 1 batches' bytes are held)."""

    def __init__(
        self,
        state: StoredState,
        matcher: Matcher,
        workers: _HashWorkers,
        record: Callable[[_Batch], None],
        *,
        keep_bytes: bool = False,
    ) -> None:
        self._keep_bytes = keep_bytes  # until the batch is matched, to hold what matched
        self._state = state
        self._matcher = matcher
        self._workers = workers
        self._record = record
        self.source_state = _HeldValidators(state)
        self._filling = _Batch()
        self._hashing: deque[_Batch] = deque()

    def add(self, found: Candidate | Problem) -> None:
        batch = self._filling
        if isinstance(found, Problem):
            batch.problems.append(found)
        elif not self._state.seen(found.key):
            batch.candidates.append(replace(found, data=b""))
            batch.data.append(found.data)
        else:
            batch.again.append(found.key)
        if len(batch.candidates) >= _BATCH or len(batch.problems) >= _PROBLEM_BATCH:
            self._close()

    def finish(self) -> None:
        self._close()
        while self._hashing:
            self._record(self._hashing.popleft())

    def _close(self) -> None:
        batch, self._filling = self._filling, _Batch()
        batch.validators = self.source_state.take()
        batch.again += self.source_state.take_again()
        if batch.data:
            # asked per batch, as the banks may gain grid or face hashes during a scan
            batch.hashes = self._workers.submit(batch.data, self._matcher.query_windows())
            if not self._keep_bytes:
                batch.data = []
        self._hashing.append(batch)
        while self._hashing and (len(self._hashing) > _AHEAD or self._hashing[0].hashed):
            self._record(self._hashing.popleft())


class _HeldValidators:
    """The SourceState the source sees. Validators it saves wait here until the batch filling
    at the time closes, and then commit with that batch: after every candidate the source
    yielded before saving them (StoredState writes whatever it has pending with the next
    transaction, and a batch now commits after later ones have started filling)."""

    def __init__(self, state: StoredState) -> None:
        self._state = state
        self._held: list[tuple[str, Validators]] = []
        self._again: list[str] = []  # media it was told were handled: still there
        # a source asks about media only once it has read where they are listed
        self.read_something = False

    def seen(self, key: str) -> bool:
        self.read_something = True
        if self._state.seen(key):
            self._again.append(key)
            return True
        return False

    def validators(self, url: str) -> Validators | None:
        return self._state.validators(url)

    def save_validators(self, url: str, validators: Validators) -> None:
        self.read_something = True
        self._held.append((url, validators))

    def take(self) -> list[tuple[str, Validators]]:
        held, self._held = self._held, []
        return held

    def take_again(self) -> list[str]:
        again, self._again = self._again, []
        return again


class _HashWorkers:
    """Hashes batches of bytes in worker processes (`workers`, default one per core, all but the
    first niced: rempart.jobs.hash_worker), started when the first batch closes: a scan that
    finds little starts none. Until a worker is ready (its imports take a fraction of a
    second), and where this process may not have children (one core, or a daemonic
    multiprocessing worker), batches are hashed in this thread, as they always were.
    """

    def __init__(self, workers: int | None = None) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._workers = _hash_workers() if workers is None else max(0, workers)
        self._ready: Future[int] | None = None
        self._here_only = self._workers == 0 or multiprocessing.current_process().daemon

    def __enter__(self) -> _HashWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, data: list[bytes], windows: Windows) -> list[Future[list[Outcome]]]:
        """Hash `data` in parts (see _HASH_PART); the parts' outcomes, in order, are `data`'s."""
        if self._pool is None and not self._here_only:
            # spawn, not fork: the crawler's threads may hold locks a forked child would keep
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self._workers,
                mp_context=context,
                initializer=started,
                initargs=(os.getpid(), context.Value("i", 0)),
            )
            self._ready = self._pool.submit(os.getpid)
        if self._pool is not None and self._worker_ready():
            # small parts, taken by whichever worker is free: a niced worker given little CPU
            # holds up one part, not half the batch
            size = min(_HASH_PART, -(-len(data) // self._workers))
            return [
                self._pool.submit(hash_all, data[start : start + size], windows)
                for start in range(0, len(data), size)
            ]
        here: Future[list[Outcome]] = Future()
        here.set_result(hash_all(data, windows))
        return [here]

    def _worker_ready(self) -> bool:
        """Started and answering; a worker that could not start leaves the hashing here."""
        ready = self._ready
        return ready is not None and ready.done() and ready.exception() is None


def _hash_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(_MAX_HASH_WORKERS, cores or 1) if (cores or 1) > 1 else 0


def _start_run(db: Database, source_id: int, now: datetime) -> int:
    """Claim the source: one live run per source, whatever the number of workers."""
    try:
        with db.session() as session:
            # A run whose scanner died (silent heartbeat, or a process of this machine that
            # no longer exists) was killed: its work up to its last batch stays.
            running = session.scalars(
                select(ScanRun).where(ScanRun.source_id == source_id, ScanRun.status == "running")
            ).all()
            for run in running:
                if aware(run.heartbeat_at) < now - STALE_AFTER or _dead_here(run.worker):
                    run.status, run.finished_at = "interrupted", now
            session.flush()
            claimed = ScanRun(
                source_id=source_id,
                started_at=now,
                heartbeat_at=now,
                worker=f"{socket.gethostname()}:{os.getpid()}",
                status="running",
                candidates=0,
                matched=0,
                problems=0,
            )
            session.add(claimed)
            session.flush()
            return claimed.id
    except IntegrityError:
        raise Conflict("this source is being scanned right now (by another process)") from None


def _dead_here(worker: str) -> bool:
    """True when `worker` (host:pid) names a process of this machine that has ended."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


def _retention(db: Database, source_id: int, default: int) -> int:
    with db.session() as session:
        settings = session.scalar(select(SourceRow.settings).where(SourceRow.id == source_id))
    return retention_days(json.loads(settings or "{}"), default)


def _finish_run(db: Database, run_id: int, now: datetime, status: str, error: str | None) -> None:
    with db.session() as session:
        session.execute(
            update(ScanRun)
            .where(ScanRun.id == run_id)
            .values(status=status, finished_at=now, error=error)
        )


def _handle(
    db: Database,
    matcher: Matcher,
    state: StoredState,
    run_id: int,
    batch: _Batch,
    counts: ScanProgress,
    clock: Clock,
    held: HeldMedia | None,
    keep_seen: bool = True,
) -> list[int]:
    """Match one hashed batch, hold what matched, then record it in one transaction (with
    what was seen, for the source's retention, when `keep_seen`)."""
    outcomes = [outcome for part in batch.hashes for outcome in part.result()]
    hashed: list[_Hashed] = []
    kept: list[bytes] = []
    problems = list(batch.problems)
    data = batch.data or [b""] * len(batch.candidates)
    for c, outcome, content in zip(batch.candidates, outcomes, data, strict=True):
        if isinstance(outcome, Unreadable):
            problems.append(
                Problem.of(c.source, c.media_url or c.key, outcome.template, **outcome.values)
            )
        else:
            hashed.append(_Hashed(c, outcome.hashes, outcome.provenance))
            kept.append(content)
    batch.data = []
    queries = [h.query() for h in hashed]
    results = matcher.match(queries) if hashed else []
    if held is not None:
        for h, result, content in zip(hashed, results, kept, strict=True):
            if result.matches:
                held.keep(h.hashes.digest.sha256, content, {m.bank for m in result.matches})
    for url, validators in batch.validators:
        state.save_validators(url, validators)
    now = clock()
    recorded: list[int] = []
    with db.session() as session:
        for h, result in zip(hashed, results, strict=True):
            if result.matches:
                recorded.append(_record(session, state.source_id, h, result, now))
        if keep_seen:
            kept_seen = [(h.candidate, h.hashes, q) for h, q in zip(hashed, queries, strict=True)]
            record_seen(session, state.source_id, kept_seen, now)
            seen_again(session, state.source_id, batch.again, now)
        digests = {h.candidate.key: h.hashes.digest.sha256 for h in hashed}
        marks = [(key, digests.get(c.key)) for c in batch.candidates for key in (c.key, *c.aliases)]
        state.mark_seen(session, marks, now)
        session.add_all(
            ScanProblem(
                run_id=run_id,
                where=p.where,
                reason=p.reason,
                template=p.template or None,
                values=json.dumps(dict(p.values), sort_keys=True) if p.values else None,
                at=now,
            )
            for p in problems
        )
        counts.candidates += len(batch.candidates)
        counts.matched += len(recorded)
        counts.problems += len(problems)
        session.execute(
            update(ScanRun)
            .where(ScanRun.id == run_id)
            .values(
                candidates=counts.candidates,
                matched=counts.matched,
                problems=counts.problems,
                heartbeat_at=now,
            )
        )
        state.flush_validators(session)
    state.committed([key for c in batch.candidates for key in (c.key, *c.aliases)])
    return recorded


def record_sighting(
    session: Session,
    source_id: int,
    candidate: Candidate,
    hashes: ImageHashes | VideoHashes,
    result: QueryResult,
    now: datetime,
    *,
    first_seen: datetime | None = None,
) -> int:
    """Record a copy as a scan does (see _record), for one seen before (`first_seen`) and
    matched later: its sighting and a pending finding per matched item. Returns the id of the
    copy's first sighting."""
    provenance = Provenance.of(candidate.data) if candidate.data else None
    hashed = _Hashed(candidate, hashes, provenance)
    return _record(session, source_id, hashed, result, now, first_seen)


def _record(
    session: Session,
    source_id: int,
    hashed: _Hashed,
    result: QueryResult,
    now: datetime,
    first_seen: datetime | None = None,
) -> int:
    """The sighting (new, or seen again) and one finding per matched item, on the copy's first
    sighting: a copy already sighted (same digest, or same media URL), by this source or
    another, gains a sighting and keeps its findings and their review. Returns the id of the
    copy's first sighting."""
    c, h = hashed.candidate, hashed.hashes
    sighting = session.scalar(
        select(Sighting).where(Sighting.source_id == source_id, Sighting.key_sha == key_sha(c.key))
    )
    if sighting is None:
        media = media_key(c.media_url)
        same = Sighting.sha256 == h.digest.sha256
        copy = session.scalar(
            select(Sighting)
            .where(
                Sighting.copy_of_id.is_(None),
                or_(same, Sighting.media_key == media) if media else same,
            )
            .order_by(Sighting.id)
            .limit(1)
        )
        sighting = Sighting(
            source_id=source_id,
            key_sha=key_sha(c.key),
            key=c.key,
            media_url=c.media_url,
            page_url=c.page_url,
            post_id=c.post_id,
            posted_at=c.posted_at,
            first_seen_at=first_seen or now,
            last_seen_at=now,
            media="video" if isinstance(h, VideoHashes) else "image",
            content_type=c.content_type,
            sha256=h.digest.sha256,
            md5=h.digest.md5,
            pdq=None if isinstance(h, VideoHashes) else h.pdq.hash.hex,
            quality=None if isinstance(h, VideoHashes) else h.pdq.quality,
            width=h.width,
            height=h.height,
            context=json.dumps(dict(c.context), ensure_ascii=False, sort_keys=True),
            media_key=media,
            copy_of_id=copy.id if copy is not None else None,
        )
        if hashed.provenance is not None:
            sighting.provenance_verdict = hashed.provenance.verdict
            sighting.provenance = hashed.provenance.reading
        session.add(sighting)
        session.flush()
    else:
        sighting.last_seen_at = now
    first = sighting.copy_of_id or sighting.id
    known = set(session.scalars(select(Finding.item_id).where(Finding.sighting_id == first)))
    added = [m for m in result.matches if m.item not in known]
    session.add_all(_finding(first, m, now) for m in added)
    if added:
        session.flush()
        _judge_match(session, first)
    return first


def _judge_match(session: Session, sighting_id: int) -> None:
    """Fold what the copy's matches say (only through a face, only with faces blanked) into
    its stored reading and verdict, from every finding it has (rempart.provenance.match)."""
    copy = session.get(Sighting, sighting_id)
    if copy is None:
        return
    stored = session.scalars(select(Finding.via).where(Finding.sighting_id == sighting_id))
    vias = [tuple(v.split(",")) if v else () for v in stored]
    reading = json.loads(copy.provenance) if copy.provenance else None
    judged = with_match_signals(reading, match_signals(vias))
    if judged != reading:
        copy.provenance = json.dumps(judged, ensure_ascii=False, sort_keys=True) if judged else None
        verdict = judged.get("verdict") if judged else None
        copy.provenance_verdict = verdict if isinstance(verdict, str) else None


def media_key(url: str | None) -> str | None:
    """The SHA-256 of a web media URL, normalised (scheme and host case, default port,
    fragment, session ids): one copy served at one address is one copy. None for what is not
    an http(s) URL (a path inside an export names nothing outside it)."""
    if not url:
        return None
    try:
        return key_sha(normalise_url(url))
    except InputError:
        return None


def _finding(sighting_id: int, m: Match, now: datetime) -> Finding:
    return Finding(
        sighting_id=sighting_id,
        item_id=m.item,
        bank=m.bank,
        method=m.method,
        distance=m.distance,
        threshold=m.threshold,
        variant=m.variant.value if m.variant else None,
        window=m.window,
        reference=m.reference,
        reference_label=m.reference_label,
        detail=json.dumps(dict(m.detail), sort_keys=True),
        via=",".join(m.via) if m.method == "pdq" and m.via else m.method,
        found_at=now,
    )
