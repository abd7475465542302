"""Tables of the evidence: each case's custody log and the sealed captures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.tables.base import Base

__all__ = ["CaptureRow", "CustodyRow"]


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

    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_custody_events_chain_seq"),
        # someone's recent looks and decisions (the review queue's reminder to pause)
        Index("ix_custody_events_actor_at", "actor", "at"),
    )


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
