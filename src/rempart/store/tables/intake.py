"""Tables of what victims send from their own devices: each imported hash file and the items
it registered, with the digest of the withdrawal code only she holds (never the code).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.tables.base import Base

__all__ = ["IntakeSubmission", "IntakeSubmissionItem"]


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
