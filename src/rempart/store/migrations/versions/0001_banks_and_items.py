"""Banks, protected items and the item change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

bank_kind = sa.Enum("protect", "allow", name="bank_kind")
item_action = sa.Enum("add", "withdraw", "restore", name="item_action")


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", bank_kind, nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("quality_min", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("threshold >= 0 AND threshold <= 128", name="ck_banks_threshold"),
        sa.CheckConstraint("quality_min >= 0 AND quality_min <= 100", name="ck_banks_quality_min"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "bank_id", sa.Integer(), sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("bank_id", "pdq", name="uq_items_bank_pdq"),
        sa.CheckConstraint(
            "pdq IS NOT NULL OR md5 IS NOT NULL OR sha256 IS NOT NULL", name="ck_items_signal"
        ),
    )
    op.create_index("ix_items_md5", "items", ["md5"])
    op.create_index("ix_items_sha256", "items", ["sha256"])
    op.create_table(
        "item_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("action", item_action, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_item_events_bank_id", "item_events", ["bank_id"])


def downgrade() -> None:
    op.drop_index("ix_item_events_bank_id", table_name="item_events")
    op.drop_table("item_events")
    op.drop_index("ix_items_sha256", table_name="items")
    op.drop_index("ix_items_md5", table_name="items")
    op.drop_table("items")
    op.drop_table("banks")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        item_action.drop(bind, checkfirst=True)
        bank_kind.drop(bind, checkfirst=True)
