"""Running scans: one source now (`rempart scan`), or every source on its schedule
(`rempart watch`), in this process or by handing them to the distributed engine (tasks.py).

Owns scheduling: which sources are due. Must not print; callers report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from rempart.clock import Clock, aware, utc_now
from rempart.evidence.held import HeldMedia
from rempart.evidence.vault import Vault
from rempart.jobs.scan import STALE_AFTER, ScanProgress, ScanReport, scan_source
from rempart.jobs.seen import DEFAULT_RETENTION_DAYS
from rempart.jobs.watchlist import get_source, scan_settings
from rempart.matching.service import Matcher
from rempart.sources import catalog
from rempart.store.database import Database
from rempart.store.models import ScanRun, SourceRow

__all__ = ["due_sources", "run_scan", "watch"]


def run_scan(
    db: Database,
    matcher: Matcher,
    name: str,
    *,
    progress: Callable[[ScanProgress], None] | None = None,
    vault: Vault | None = None,
    seen_retention_days: int = DEFAULT_RETENTION_DAYS,
) -> ScanReport:
    """Scan the stored source `name` once, in this process. With a `vault`, the bytes of
    matched copies are held there, encrypted, for review (never for a minor's case). What
    was seen is kept `seen_retention_days` unless the source says otherwise."""
    info = get_source(db, name)
    held = HeldMedia.for_db(db, vault) if vault is not None else None
    with catalog.opened(info.kind, info.name, scan_settings(info, vault)) as source:
        return scan_source(
            db,
            matcher,
            info.id,
            source,
            progress=progress,
            held=held,
            seen_retention_days=seen_retention_days,
        )


def due_sources(db: Database, now: datetime) -> list[str]:
    """Sources with an interval whose last scan ended at least that long ago (or never ran),
    and that nobody is scanning now."""
    due: list[str] = []
    with db.session() as session:
        for row in session.scalars(select(SourceRow).where(SourceRow.every_s.is_not(None))):
            last = session.scalar(
                select(ScanRun)
                .where(ScanRun.source_id == row.id)
                .order_by(ScanRun.id.desc())
                .limit(1)
            )
            if last is None:
                due.append(row.name)
            elif last.status == "running":
                if aware(last.heartbeat_at) < now - STALE_AFTER:
                    due.append(row.name)  # its scanner died: resume it
            elif _elapsed(now, last.finished_at) >= (row.every_s or 0):
                due.append(row.name)
    return due


def _elapsed(now: datetime, moment: datetime | None) -> float:
    return (now - aware(moment)).total_seconds() if moment is not None else float("inf")


def watch(
    db: Database,
    start: Callable[[str], None],
    *,
    stop: threading.Event,
    poll_s: float = 30.0,
    clock: Clock = utc_now,
) -> None:
    """Until `stop` is set: every `poll_s` seconds, `start` each due source (scan it here, or
    enqueue it for the workers). A source is started again only once its run has ended."""
    started: dict[str, datetime] = {}
    while not stop.is_set():
        now = clock()
        for name in due_sources(db, now):
            # an enqueued scan has no run row yet: don't enqueue it twice meanwhile
            if name in started and (now - started[name]) < STALE_AFTER:
                continue
            started[name] = now
            start(name)
        stop.wait(poll_s)
