"""Tables of the takedown loop: re-checks, notices and their items, events, outbox,
grounds, re-uploads and escalations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.tables.base import Base

__all__ = [
    "CaseGround",
    "FindingReupload",
    "NoticeEscalation",
    "NoticeEventRow",
    "NoticeItemRow",
    "NoticeRow",
    "OutboxRow",
    "RecheckSchedule",
    "UrlCheck",
]


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
