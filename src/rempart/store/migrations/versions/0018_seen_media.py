"""What was seen before a victim registered: each media a scan handled keeps its hashes and
the matcher's query signals (never its bytes) for a retention period (`seen_signals`).

A new table only: nothing existing is rewritten, on SQLite or PostgreSQL.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "seen_signals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "source_id",
            sa.Integer(),
            sa.ForeignKey("sources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key_sha", sa.String(64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("post_id", sa.String(200), nullable=True),
        sa.Column("posted_at", _tz(), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("media", sa.String(10), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("signals", sa.LargeBinary(), nullable=False),
        sa.Column("first_seen_at", _tz(), nullable=False),
        sa.Column("last_seen_at", _tz(), nullable=False),
        sa.Column("gone_at", _tz(), nullable=True),
        sa.UniqueConstraint("source_id", "key_sha", name="uq_seen_signals_source_key"),
    )
    op.create_index("ix_seen_signals_sha256", "seen_signals", ["sha256"])
    op.create_index("ix_seen_signals_md5", "seen_signals", ["md5"])
    op.create_index(
        "ix_seen_signals_source_last_seen", "seen_signals", ["source_id", "last_seen_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_seen_signals_source_last_seen", table_name="seen_signals")
    op.drop_index("ix_seen_signals_md5", table_name="seen_signals")
    op.drop_index("ix_seen_signals_sha256", table_name="seen_signals")
    op.drop_table("seen_signals")
