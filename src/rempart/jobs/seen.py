"""What was seen before a victim registered: each media a scan handled keeps its hashes and the
matcher's query signals, never its bytes, until its source's retention runs out.

Owns recording those rows (in the scan's own transaction), the retention rule and the purge,
and their counts. Must not fetch, hash or match (rempart.jobs.retro matches them).

Why keep anything about media that matched nothing: a victim who registers today must learn
where her images already were. What is kept are derived hashes (PDQ and its variants and
windows, MD5, SHA-256), from which no picture can be rebuilt, with where and when it was seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from rempart.clock import Clock, utc_now
from rempart.hashing import ImageHashes
from rempart.hashing.video import VideoHashes
from rempart.jobs.state import key_sha
from rempart.matching.packed import pack_query
from rempart.matching.service import Query
from rempart.sources.base import Candidate
from rempart.sources.catalog import RETENTION_SETTING, check_retention
from rempart.store.database import Database
from rempart.store.models import SeenSignals, SourceRow

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "SeenStats",
    "purge_seen",
    "record_seen",
    "retention_days",
    "seen_again",
    "seen_stats",
]

DEFAULT_RETENTION_DAYS = 180


def retention_days(settings: Mapping[str, Any], default: int = DEFAULT_RETENTION_DAYS) -> int:
    """How long a source keeps what it saw: its own setting, else the default."""
    value = settings.get(RETENTION_SETTING)
    return default if value is None else check_retention(value)


def record_seen(
    session: Session,
    source_id: int,
    seen: Sequence[tuple[Candidate, ImageHashes | VideoHashes, Query]],
    now: datetime,
) -> None:
    """Keep each handled media's hashes and query signals (in the scan's transaction); one
    seen again by this source is only marked seen now."""
    if not seen:
        return
    shas = [key_sha(c.key) for c, _, _ in seen]
    known = set(
        session.scalars(
            select(SeenSignals.key_sha).where(
                SeenSignals.source_id == source_id, SeenSignals.key_sha.in_(shas)
            )
        )
    )
    if known:
        session.execute(
            update(SeenSignals)
            .where(SeenSignals.source_id == source_id, SeenSignals.key_sha.in_(known))
            .values(last_seen_at=now, gone_at=None)
        )
    rows: dict[str, dict[str, object]] = {}
    for sha, (c, hashes, query) in zip(shas, seen, strict=True):
        if sha in known or sha in rows:
            continue
        rows[sha] = {
            "source_id": source_id,
            "key_sha": sha,
            "key": c.key,
            "media_url": c.media_url,
            "page_url": c.page_url,
            "post_id": c.post_id,
            "posted_at": c.posted_at,
            "content_type": c.content_type,
            "context": json.dumps(dict(c.context), ensure_ascii=False, sort_keys=True),
            "media": "video" if isinstance(hashes, VideoHashes) else "image",
            "sha256": hashes.digest.sha256,
            "md5": hashes.digest.md5,
            "width": hashes.width,
            "height": hashes.height,
            "signals": pack_query(query),
            "first_seen_at": now,
            "last_seen_at": now,
            "gone_at": None,
        }
    if rows:
        # one multi-row insert: the ORM's unit of work cost ~0.7 ms a media (on the scan's
        # own thread), this ~0.1 ms
        session.execute(insert(SeenSignals), list(rows.values()))


def seen_again(session: Session, source_id: int, keys: Iterable[str], now: datetime) -> None:
    """Media a re-scan skipped because it had handled them: still there, seen now."""
    shas = [key_sha(k) for k in keys]
    for start in range(0, len(shas), 1_000):
        session.execute(
            update(SeenSignals)
            .where(
                SeenSignals.source_id == source_id,
                SeenSignals.key_sha.in_(shas[start : start + 1_000]),
            )
            .values(last_seen_at=now)
        )


def purge_seen(
    db: Database,
    *,
    default_days: int = DEFAULT_RETENTION_DAYS,
    clock: Clock = utc_now,
    source_id: int | None = None,
) -> int:
    """Delete what each source (or only `source_id`) last saw longer ago than its retention.
    Returns how many media were forgotten."""
    now = clock()
    removed = 0
    query = select(SourceRow.id, SourceRow.settings)
    if source_id is not None:
        query = query.where(SourceRow.id == source_id)
    with db.session() as session:
        for sid, settings in session.execute(query).all():
            days = retention_days(json.loads(settings), default_days)
            gone = session.execute(
                delete(SeenSignals).where(
                    SeenSignals.source_id == sid,
                    SeenSignals.last_seen_at < now - timedelta(days=days),
                )
            )
            removed += int(getattr(gone, "rowcount", 0) or 0)
    return removed


@dataclass(frozen=True, slots=True)
class SeenStats:
    """What is kept for one source: how many media, their signals' size, the oldest."""

    source: str
    retention_days: int
    media: int
    gone: int
    signal_bytes: int
    oldest: datetime | None
    newest: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "retention_days": self.retention_days,
            "media": self.media,
            "gone": self.gone,
            "signal_bytes": self.signal_bytes,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
        }


def seen_stats(db: Database, *, default_days: int = DEFAULT_RETENTION_DAYS) -> list[SeenStats]:
    """Per source, by name."""
    with db.session() as session:
        counts = {
            row[0]: row[1:]
            for row in session.execute(
                select(
                    SeenSignals.source_id,
                    func.count(),
                    func.count(SeenSignals.gone_at),
                    func.coalesce(func.sum(func.length(SeenSignals.signals)), 0),
                    func.min(SeenSignals.first_seen_at),
                    func.max(SeenSignals.last_seen_at),
                ).group_by(SeenSignals.source_id)
            )
        }
        sources = session.execute(
            select(SourceRow.id, SourceRow.name, SourceRow.settings).order_by(SourceRow.name)
        ).all()
    stats = []
    for source_id, name, settings in sources:
        media, gone, size, oldest, newest = counts.get(source_id, (0, 0, 0, None, None))
        days = retention_days(json.loads(settings), default_days)
        stats.append(SeenStats(name, days, media, gone, int(size), oldest, newest))
    return stats
