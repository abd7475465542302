"""One scan of one source: fetch → hash in memory → match → record the sightings that matched.

Owns the scan loop and its durability: candidates are handled in batches, and each batch's
sightings, findings, problems and "seen" marks commit in one transaction, so a scan killed at
any point resumes with nothing lost and nothing recorded twice. Whatever matched nothing
leaves only its key and digest. Must not print (progress goes to a callback) nor parse sites.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import Clock, utc_now
from rempart.errors import Conflict, ImageDecodeError
from rempart.hashing import ImageHashes, hash_image_bytes
from rempart.jobs.state import StoredState, key_sha
from rempart.matching.service import Match, Matcher, Query, QueryResult
from rempart.sources.base import Candidate, Problem, Source
from rempart.store.database import Database
from rempart.store.models import Finding, ScanProblem, ScanRun, Sighting

__all__ = ["STALE_AFTER", "ScanProgress", "ScanReport", "aware", "scan_source"]

_BATCH = 64  # candidates per transaction
# A running scan writes a heartbeat with every batch; one silent this long was killed.
STALE_AFTER = timedelta(minutes=5)
_PROBLEM_BATCH = 256


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


@dataclass(frozen=True, slots=True)
class _Hashed:
    candidate: Candidate
    hashes: ImageHashes


def scan_source(
    db: Database,
    matcher: Matcher,
    source_id: int,
    source: Source,
    *,
    clock: Clock = utc_now,
    progress: Callable[[ScanProgress], None] | None = None,
) -> ScanReport:
    """Scan `source` (stored as `source_id`) once, resuming where an earlier run stopped."""
    run_id = _start_run(db, source_id, clock())
    state = StoredState.load(db, source_id)
    counts = ScanProgress()
    recorded: list[int] = []
    candidates: list[Candidate] = []
    problems: list[Problem] = []

    def flush() -> None:
        recorded.extend(_handle(db, matcher, state, run_id, candidates, problems, counts, clock))
        candidates.clear()
        problems.clear()
        if progress is not None:
            progress(counts)

    try:
        for found in source.scan(state):
            if isinstance(found, Problem):
                problems.append(found)
            elif not state.seen(found.key):
                candidates.append(found)
            if len(candidates) >= _BATCH or len(problems) >= _PROBLEM_BATCH:
                flush()
        flush()
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _finish_run(db, run_id, clock(), status, f"{type(exc).__name__}: {exc}")
        raise
    _finish_run(db, run_id, clock(), "done", None)
    return ScanReport(
        run_id, source.name, counts.candidates, counts.matched, counts.problems, tuple(recorded)
    )


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


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _finish_run(db: Database, run_id: int, now: datetime, status: str, error: str | None) -> None:
    with db.session() as session:
        session.execute(
            update(ScanRun)
            .where(ScanRun.id == run_id)
            .values(status=status, finished_at=now, error=error)
        )


def _hash(candidates: Sequence[Candidate], matcher: Matcher) -> tuple[list[_Hashed], list[Problem]]:
    windows = matcher.query_windows()
    hashed: list[_Hashed] = []
    problems: list[Problem] = []
    for c in candidates:
        try:
            hashed.append(_Hashed(c, hash_image_bytes(c.data, dihedral=True, windows=windows)))
        except ImageDecodeError as exc:
            problems.append(Problem(c.source, c.media_url or c.key, str(exc)))
    return hashed, problems


def _handle(
    db: Database,
    matcher: Matcher,
    state: StoredState,
    run_id: int,
    candidates: list[Candidate],
    problems: list[Problem],
    counts: ScanProgress,
    clock: Clock,
) -> list[int]:
    """Hash and match one batch, then record it in one transaction."""
    hashed, unreadable = _hash(candidates, matcher)
    results = matcher.match([Query.from_image(h.hashes) for h in hashed]) if hashed else []
    now = clock()
    recorded: list[int] = []
    with db.session() as session:
        for h, result in zip(hashed, results, strict=True):
            if result.matches:
                recorded.append(_record(session, state.source_id, h, result, now))
        digests = {h.candidate.key: h.hashes.digest.sha256 for h in hashed}
        for c in candidates:
            state.mark_seen(session, c.key, digests.get(c.key), now)
        all_problems = [*problems, *unreadable]
        session.add_all(
            ScanProblem(run_id=run_id, where=p.where, reason=p.reason, at=now) for p in all_problems
        )
        counts.candidates += len(candidates)
        counts.matched += len(recorded)
        counts.problems += len(all_problems)
        session.execute(
            update(ScanRun)
            .where(ScanRun.id == run_id)
            .values(candidates=counts.candidates, matched=counts.matched, problems=counts.problems)
        )
        state.flush_validators(session)
    state.committed([c.key for c in candidates])
    return recorded


def _record(
    session: Session, source_id: int, hashed: _Hashed, result: QueryResult, now: datetime
) -> int:
    """The sighting (new, or seen again) and one finding per matched item."""
    c, h = hashed.candidate, hashed.hashes
    sighting = session.scalar(
        select(Sighting).where(Sighting.source_id == source_id, Sighting.key_sha == key_sha(c.key))
    )
    if sighting is None:
        sighting = Sighting(
            source_id=source_id,
            key_sha=key_sha(c.key),
            key=c.key,
            media_url=c.media_url,
            page_url=c.page_url,
            post_id=c.post_id,
            posted_at=c.posted_at,
            first_seen_at=now,
            last_seen_at=now,
            media="image",
            content_type=c.content_type,
            sha256=h.digest.sha256,
            md5=h.digest.md5,
            pdq=h.pdq.hash.hex,
            quality=h.pdq.quality,
            width=h.width,
            height=h.height,
            context=json.dumps(dict(c.context), ensure_ascii=False, sort_keys=True),
        )
        session.add(sighting)
        session.flush()
    else:
        sighting.last_seen_at = now
    known = set(session.scalars(select(Finding.item_id).where(Finding.sighting_id == sighting.id)))
    for m in result.matches:
        if m.item not in known:
            session.add(_finding(sighting.id, m, now))
    return sighting.id


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
        detail="{}",
        found_at=now,
    )
