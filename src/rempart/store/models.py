"""SQLAlchemy models of what Rempart stores: banks, protected items and their change log.

Hashes only, never images. Types stay portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "AccessEvent",
    "Account",
    "AccountCase",
    "ApiToken",
    "Bank",
    "BankKind",
    "Base",
    "CaptureRow",
    "Case",
    "CaseGround",
    "CustodyRow",
    "Finding",
    "FindingReupload",
    "FindingStatus",
    "Item",
    "ItemAction",
    "ItemEvent",
    "ItemFeatures",
    "ItemSignal",
    "LoginThrottle",
    "NoticeEscalation",
    "NoticeEventRow",
    "NoticeItemRow",
    "NoticeRow",
    "OutboxRow",
    "PageValidator",
    "RecheckSchedule",
    "ScanProblem",
    "ScanRun",
    "SeenMedia",
    "SeenSignals",
    "Sighting",
    "SourceRow",
    "TokenBank",
    "TokenCase",
    "UrlCheck",
    "WebSession",
]


class Base(DeclarativeBase):
    pass


class BankKind(enum.StrEnum):
    PROTECT = "protect"
    ALLOW = "allow"


class ItemAction(enum.StrEnum):
    ADD = "add"
    WITHDRAW = "withdraw"
    RESTORE = "restore"


class Case(Base):
    """A victim's case, by pseudonym only: her banks, and whether a minor is involved (then no
    media is ever stored and notices go to child-protection channels)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # a pseudonym, never a name
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"Case(id={self.id}, minor={self.minor})"


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[BankKind] = mapped_column(
        Enum(BankKind, name="bank_kind", values_callable=lambda e: [m.value for m in e])
    )
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    quality_min: Mapped[int] = mapped_column(Integer, default=50)
    # list entries without a PDQ quality: "accept" or "refuse" (migration 0015)
    unknown_quality: Mapped[str] = mapped_column(String(10), server_default="accept")
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )  # shared lists belong to no case

    items: Mapped[list[Item]] = relationship(back_populates="bank", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("threshold >= 0 AND threshold <= 128", name="ck_banks_threshold"),
        CheckConstraint("quality_min >= 0 AND quality_min <= 100", name="ck_banks_quality_min"),
        CheckConstraint("unknown_quality IN ('accept', 'refuse')", name="ck_banks_unknown_quality"),
    )

    def __repr__(self) -> str:
        return f"Bank(id={self.id}, name={self.name!r}, kind={self.kind.value})"


class Item(Base):
    """One protected (or allowed) image or video: its PDQ hash and digests, never the media.

    A video's `pdq` is empty: its frames' hashes are ItemSignal rows of kind "frame".
    """

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    pdq: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(20))  # "file" (hashed here) or "list" (imported)
    media: Mapped[str] = mapped_column(String(10), default="image")  # "image" or "video"
    duration_s: Mapped[float | None] = mapped_column(Float)  # videos only
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    bank: Mapped[Bank] = relationship(back_populates="items")
    signals: Mapped[list[ItemSignal]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )
    features: Mapped[ItemFeatures | None] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("bank_id", "pdq", name="uq_items_bank_pdq"),
        Index("ix_items_md5", "md5"),
        Index("ix_items_bank_active", "bank_id", "withdrawn_at", "pdq"),
        Index("ix_items_sha256", "sha256"),
        CheckConstraint(  # a video may be known by its frames alone (vPDQ, migration 0016)
            "pdq IS NOT NULL OR md5 IS NOT NULL OR sha256 IS NOT NULL OR media = 'video'",
            name="ck_items_signal",
        ),
    )

    def __repr__(self) -> str:
        return f"Item(id={self.id}, bank_id={self.bank_id})"


class ItemSignal(Base):
    """An extra PDQ hash of an item that Rempart registered itself: a crop, a grid cell, a
    face region, the picture with faces blanked, or a video frame.

    Derived data of a victim's picture: matched, shown to caseworkers, never exported in
    shared hash lists. `kind` is a rempart.hashing.windows.WindowKind value or "frame";
    `label` tells cells of one kind apart; `at_s` is a frame's time in its video.
    """

    __tablename__ = "item_signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(40), default="")
    pdq: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int] = mapped_column(Integer)
    at_s: Mapped[float | None] = mapped_column(Float)

    item: Mapped[Item] = relationship(back_populates="signals")

    def __repr__(self) -> str:
        return f"ItemSignal(id={self.id}, item_id={self.item_id}, kind={self.kind!r})"


class ItemFeatures(Base):
    """An item's local features (ORB keypoints and descriptors, rempart.hashing.features),
    in their compact byte form, for the matcher's geometric stage.

    Derived data of a victim's picture like ItemSignal: never exported, deleted with the
    item; only registered pictures have them, never what a scan fetched.
    """

    __tablename__ = "item_features"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    item: Mapped[Item] = relationship(back_populates="features")

    def __repr__(self) -> str:
        return f"ItemFeatures(item_id={self.item_id}, points={self.points})"


class IntakeSubmission(Base):
    """One hash file a victim saved on her own device and the association imported: which
    items it registered, and the digest of the withdrawal code only she holds (migration
    0023). The code itself is never stored."""

    __tablename__ = "intake_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    submission: Mapped[str] = mapped_column(String(32))  # drawn at random by the page
    withdrawal_sha256: Mapped[str] = mapped_column(String(64), index=True)
    minor_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("case_id", "submission", name="uq_intake_submission"),)

    def __repr__(self) -> str:
        return f"IntakeSubmission(id={self.id}, case_id={self.case_id})"


class IntakeSubmissionItem(Base):
    """An item a submission registered (or found already registered)."""

    __tablename__ = "intake_submission_items"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("intake_submissions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ItemEvent(Base):
    """Append-only log of item changes; a matcher replays it to stay current without rebuilds."""

    __tablename__ = "item_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(Integer)
    bank_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[ItemAction] = mapped_column(
        Enum(ItemAction, name="item_action", values_callable=lambda e: [m.value for m in e])
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


class CustodyRow(Base):
    """One event of a hash-chained custody log (`rempart.evidence.custody`): capture, seal,
    every look and decision, export, transfer, deletion. Append-only: triggers refuse updates
    and deletes. `chain` is "case:<id>", or "org" for what belongs to no case."""

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_custody_events_chain_seq"),)


class CaptureRow(Base):
    """A sealed capture of a page: the bundle kept (encrypted) in the evidence vault, its
    digest, who captured it and when. Failed captures are kept with their reason."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("findings.id", ondelete="SET NULL"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # sealed, failed
    operator: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    no_media: Mapped[bool] = mapped_column(Boolean, default=False)
    bundle: Mapped[str | None] = mapped_column(String(200))  # name in the vault
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    bundle_size: Mapped[int | None] = mapped_column(Integer)
    signer: Mapped[str | None] = mapped_column(String(64))  # key fingerprint
    timestamps: Mapped[int] = mapped_column(Integer, default=0)
    stamps: Mapped[str] = mapped_column(Text, default="[]")  # JSON: authority, time of each
    error: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------------------ re-checks


class UrlCheck(Base):
    """One re-check of one address of a confirmed copy (its media, or the page showing it):
    what came back and what it means. Digest and PDQ distance of what was served, never its
    bytes. `detail` is an English template and `detail_values` its values (JSON), shown in
    the reader's language; `capture_id` names the sealed capture of a removal."""

    __tablename__ = "url_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(10))  # "media" or "page"
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))  # online, removed, changed, unreachable
    http_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    detail_values: Mapped[str] = mapped_column(Text, default="{}")
    served_sha256: Mapped[str | None] = mapped_column(String(64))
    distance: Mapped[int | None] = mapped_column(Integer)
    placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_url_checks_finding_id", "finding_id", "checked_at"),
        Index("ix_url_checks_served_sha256", "served_sha256"),
    )


class RecheckSchedule(Base):
    """When a confirmed copy is due to be checked again, and what its checks have shown:
    the last time it was seen online and the first time it was seen removed (time to
    removal lies between them)."""

    __tablename__ = "recheck_schedule"

    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    last_checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    interval_s: Mapped[int] = mapped_column(Integer)
    last_online_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_recheck_schedule_next", "next_check_at"),)


# --------------------------------------------------------------------------------- notices


class NoticeRow(Base):
    """A notice to one recipient about one or more copies of a case: its recipient (and where
    that contact comes from), legal ground, language, status and, once sent, the exact message,
    its Message-ID and digest, and the time-stamps over it (`seal`, JSON)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # rempart.takedown.notices.NoticeKind
    recipient_key: Mapped[str] = mapped_column(String(400))
    recipient_name: Mapped[str] = mapped_column(String(300))
    recipient_role: Mapped[str] = mapped_column(String(20))
    recipient_channel: Mapped[str] = mapped_column(String(20))
    recipient_address: Mapped[str] = mapped_column(String(500), default="")
    recipient_platform: Mapped[str] = mapped_column(String(40), default="")
    recipient_country: Mapped[str] = mapped_column(String(2), default="")
    provenance: Mapped[str] = mapped_column(Text, default="{}")  # JSON: why, sources, chain
    legal_basis: Mapped[str] = mapped_column(String(40))
    take_it_down: Mapped[bool] = mapped_column(Boolean, default=False)
    references_only: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[str | None] = mapped_column(String(250))
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # exactly what was sent
    message_sha256: Mapped[str | None] = mapped_column(String(64))
    seal: Mapped[str] = mapped_column(Text, default="[]")  # JSON: authority, time, token
    reference: Mapped[str | None] = mapped_column(String(300))  # the recipient's ticket
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"NoticeRow(id={self.id}, kind={self.kind!r}, status={self.status!r})"


class NoticeItemRow(Base):
    """One copy a notice covers: its URL, the media's digest and the sealed capture's."""

    __tablename__ = "notice_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("findings.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id", ondelete="SET NULL"))
    capture_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("notice_id", "finding_id", name="uq_notice_items_notice_finding"),
    )


class NoticeEventRow(Base):
    """A notice's status history, appended to and never changed: when, who, what, a note."""

    __tablename__ = "notice_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")


class OutboxRow(Base):
    """Where an approved e-mail notice stands in sending (`rempart.takedown.sending`):
    queued → sending → data → sent, or uncertain / failed. `idempotency_key` is part of the
    notice's Message-ID, the same on every attempt."""

    __tablename__ = "notice_outbox"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))  # host:pid sending it
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseGround(Base):
    """The criminal ground a case's notices cite (226-2-1 leaked images, 226-8-1 deepfakes)."""

    __tablename__ = "case_grounds"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    basis: Mapped[str] = mapped_column(String(40))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -------------------------------------------------------------------- tracking (0009)


class FindingReupload(Base):
    """A copy found again after its item was already notified or removed elsewhere: the
    earlier finding it repeats, and why that one counts (`notified` or `removed`)."""

    __tablename__ = "finding_reuploads"

    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )
    earlier_finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    why: Mapped[str] = mapped_column(String(20))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NoticeEscalation(Base):
    """A notice drafted because an earlier one went unanswered past its due date while the
    copy stayed online: the next step of the chain (host → CDN → … → regulator)."""

    __tablename__ = "notice_escalations"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    earlier_notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(20))  # the role escalated to
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -------------------------------------------------------------------- accounts (0017)


class Account(Base):
    """A person who signs in to the web app: a role, an argon2id password hash, a TOTP secret
    once enrolled. Never deleted (the custody log names accounts): disabled instead."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # refuses a code replayed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"Account(id={self.id}, role={self.role})"


class AccountCase(Base):
    """A case an account is assigned to (caseworkers and reviewers see only these)."""

    __tablename__ = "account_cases"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    """An API token: only its SHA-256 is stored; scoped by role, cases and banks; expiring."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    all_banks: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id}, role={self.role})"


class TokenCase(Base):
    __tablename__ = "api_token_cases"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TokenBank(Base):
    __tablename__ = "api_token_banks"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("banks.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie, its CSRF token, when it lapses.
    `stage` is "totp" between the password and the second factor, then "full"."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(10))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed sign-ins counted per key ("account:NAME" or "ip:ADDRESS"), and until when that
    key is locked out. Shared by every process through the database."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessEvent(Base):
    """The access log: sign-ins, sign-outs, and every refusal (wrong password, locked out,
    forbidden case, missing or bad token, CSRF). Append-only; never holds a password or token."""

    __tablename__ = "access_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # account or token name, or "-"
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))  # "ok" or "denied"
    subject: Mapped[str] = mapped_column(String(300), default="")
    client: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
