"""Extra hashes per item (crops, grid cells, faces, video frames) and video items.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("media", sa.String(10), nullable=False, server_default="image"))
        batch.add_column(sa.Column("duration_s", sa.Float(), nullable=True))
    op.create_table(
        "item_signals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("pdq", sa.String(64), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=True),
    )
    op.create_index("ix_item_signals_item_id", "item_signals", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_item_signals_item_id", table_name="item_signals")
    op.drop_table("item_signals")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("duration_s")
        batch.drop_column("media")
