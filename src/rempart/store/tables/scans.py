"""Tables of what Rempart watches and finds: sources, scan runs and their problems, what
was seen (hashes only), where protected items were sighted, and the findings to review.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.store.tables.base import Base

__all__ = [
    "Finding",
    "FindingStatus",
    "PageValidator",
    "ReviewClaim",
    "ScanProblem",
    "ScanRun",
    "SeenMedia",
    "SeenSignals",
    "Sighting",
    "SourceRow",
]


# --------------------------------------------------------------------------- watching sources


class SourceRow(Base):
    """A place Rempart watches: its kind, its settings (JSON) and how often to re-scan it."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # "web", "telegram", "files", "warc"
    settings: Mapped[str] = mapped_column(Text, default="{}")
    every_s: Mapped[int | None] = mapped_column(Integer)  # re-scan interval for `watch`
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"SourceRow(id={self.id}, name={self.name!r}, kind={self.kind!r})"


class ScanRun(Base):
    """One scan of one source: when, how it ended, what it counted."""

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed, interrupted
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # each batch
    worker: Mapped[str] = mapped_column(String(200), default="")  # host:pid that ran it
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # One live scan per source, even with many workers: a partial unique index, WHERE
        # status = 'running' (migration 0004). The condition is not repeated here: naming a
        # dialect's options loads that dialect (PostgreSQL's: ~30 ms of every command's
        # start-up, bench/startup.py); tests/store/test_scan_runs.py checks the index holds.
        Index("uq_scan_runs_one_running", "source_id", unique=True),
    )


class ScanProblem(Base):
    """What a scan could not read (dead link, corrupt file, refused address), for the report.

    `reason` is English (stored data); `template` and `values` (JSON) render it again in the
    reader's language."""

    __tablename__ = "scan_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scan_runs.id", ondelete="CASCADE"), index=True)
    where: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(Text)
    values: Mapped[str | None] = mapped_column(Text)  # JSON object of strings
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeenMedia(Base):
    """A candidate already handled, so a re-scan skips it: its key and digest, nothing else
    (what matched nothing is otherwise forgotten)."""

    __tablename__ = "seen_media"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    key_sha: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the key
    key: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeenSignals(Base):
    """What a scan derived from a media file, kept for a retention period so that items
    registered later are matched against what was already seen: the file's hashes and the
    query signals the matcher uses (packed, see rempart.matching.packed), where and when it
    was seen. Never the file's bytes: nothing here can rebuild the picture.

    One row per media per source; purged once `last_seen_at` is older than the source's
    retention (rempart.jobs.seen). `gone_at` notes a re-fetch that found it gone."""

    __tablename__ = "seen_signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    key_sha: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    post_id: Mapped[str | None] = mapped_column(String(200))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    content_type: Mapped[str | None] = mapped_column(String(100))
    context: Mapped[str] = mapped_column(Text, default="{}")
    media: Mapped[str] = mapped_column(String(10))  # "image" or "video"
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str] = mapped_column(String(32), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    signals: Mapped[bytes] = mapped_column(LargeBinary)  # packed PDQ signals, 40 bytes each
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    gone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("source_id", "key_sha", name="uq_seen_signals_source_key"),
        Index("ix_seen_signals_source_last_seen", "source_id", "last_seen_at"),
    )


class PageValidator(Base):
    """A page's HTTP validators from the last scan, to fetch it again only if it changed."""

    __tablename__ = "page_validators"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    url_sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)


class Sighting(Base):
    """A media file seen somewhere that matched a protected item: where, when, its hashes.

    Only matched media become sightings; the media bytes themselves are never stored here.
    One copy is one set of findings whichever source saw it: a sighting of media already
    sighted (same SHA-256, or same normalised media URL) names that first sighting in
    `copy_of_id` and has no findings of its own.
    """

    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    key_sha: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    post_id: Mapped[str | None] = mapped_column(String(200))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    media: Mapped[str] = mapped_column(String(10))  # "image" or "video"
    content_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str] = mapped_column(String(32))
    pdq: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    context: Mapped[str] = mapped_column(Text, default="{}")  # JSON: thread, author, chat…
    media_key: Mapped[str | None] = mapped_column(String(64), index=True)  # sha256, norm. URL
    copy_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("sightings.id", ondelete="SET NULL"), index=True
    )
    # What the copy's bytes said about its origin when seen (rempart.provenance): the verdict,
    # and the whole reading as JSON. Kept when the media is dropped; the media never is.
    provenance_verdict: Mapped[str | None] = mapped_column(String(20), index=True)
    provenance: Mapped[str | None] = mapped_column(Text)

    findings: Mapped[list[Finding]] = relationship(
        back_populates="sighting", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("source_id", "key_sha", name="uq_sightings_source_key"),)


class FindingStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a caseworker
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Finding(Base):
    """A sighting matched to a protected item, and how; a caseworker confirms or rejects it."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(
        ForeignKey("sightings.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    bank: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(20))  # pdq, local-features, sha256, md5
    distance: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(String(20))
    window: Mapped[str | None] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(20))
    reference_label: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON: video time ranges…
    # Every kind of index the item was hit through (matching.service.Match.via), comma-joined,
    # or the method of an exact or local-feature match; NULL: recorded before it was kept.
    via: Mapped[str | None] = mapped_column(String(100))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[FindingStatus] = mapped_column(
        Enum(
            FindingStatus,
            name="finding_status",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=20,
        ),
        default=FindingStatus.PENDING,
    )

    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str] = mapped_column(Text, default="")

    sighting: Mapped[Sighting] = relationship(back_populates="findings")

    __table_args__ = (UniqueConstraint("sighting_id", "item_id", name="uq_findings_sighting_item"),)


class ReviewClaim(Base):
    """A pending finding being reviewed by one person until `expires_at` (the shared review
    queue does not offer it to anyone else meanwhile). Gone once it is decided."""

    __tablename__ = "review_claims"

    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(200), index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
