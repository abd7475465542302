"""Tables of cases, banks, protected items, their signals, local features and change log.

Hashes and derived data only, never images. Read commands (`bank list`, `case list`) load
only this module, so it must not reference the other stages' tables.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.store.tables.base import Base

__all__ = [
    "Bank",
    "BankKind",
    "Case",
    "Item",
    "ItemAction",
    "ItemEvent",
    "ItemFeatures",
    "ItemSignal",
]


class BankKind(enum.StrEnum):
    PROTECT = "protect"
    ALLOW = "allow"


class ItemAction(enum.StrEnum):
    ADD = "add"
    WITHDRAW = "withdraw"
    RESTORE = "restore"
    REFRESH = "refresh"  # its extra hashes or local features recomputed from its picture


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
