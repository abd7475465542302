"""SQLAlchemy models of what Rempart stores: banks, protected items and their change log.

Hashes only, never images. Types stay portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Bank", "BankKind", "Base", "Item", "ItemAction", "ItemEvent"]


class Base(DeclarativeBase):
    pass


class BankKind(enum.StrEnum):
    PROTECT = "protect"
    ALLOW = "allow"


class ItemAction(enum.StrEnum):
    ADD = "add"
    WITHDRAW = "withdraw"
    RESTORE = "restore"


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[BankKind] = mapped_column(
        Enum(BankKind, name="bank_kind", values_callable=lambda e: [m.value for m in e])
    )
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    quality_min: Mapped[int] = mapped_column(Integer, default=50)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[Item]] = relationship(back_populates="bank", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("threshold >= 0 AND threshold <= 128", name="ck_banks_threshold"),
        CheckConstraint("quality_min >= 0 AND quality_min <= 100", name="ck_banks_quality_min"),
    )

    def __repr__(self) -> str:
        return f"Bank(id={self.id}, name={self.name!r}, kind={self.kind.value})"


class Item(Base):
    """One protected (or allowed) image: its PDQ hash and digests, never the image."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    pdq: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(20))  # "file" (hashed here) or "list" (imported)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    bank: Mapped[Bank] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("bank_id", "pdq", name="uq_items_bank_pdq"),
        Index("ix_items_md5", "md5"),
        Index("ix_items_bank_active", "bank_id", "withdrawn_at", "pdq"),
        Index("ix_items_sha256", "sha256"),
        CheckConstraint(
            "pdq IS NOT NULL OR md5 IS NOT NULL OR sha256 IS NOT NULL", name="ck_items_signal"
        ),
    )

    def __repr__(self) -> str:
        return f"Item(id={self.id}, bank_id={self.bank_id})"


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
