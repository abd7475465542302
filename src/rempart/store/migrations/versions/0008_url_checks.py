"""Re-checks of each confirmed copy's addresses: what each check saw, and when the copy is due
to be checked again.

A check keeps the served media's digest and PDQ distance to the item, never its bytes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "url_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("target", sa.String(10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("checked_at", _tz(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("detail_values", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("served_sha256", sa.String(64), nullable=True),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("placeholder", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "capture_id",
            sa.Integer(),
            sa.ForeignKey("captures.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_url_checks_finding_id", "url_checks", ["finding_id", "checked_at"])
    op.create_index("ix_url_checks_served_sha256", "url_checks", ["served_sha256"])
    op.create_table(
        "recheck_schedule",
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("last_checked_at", _tz(), nullable=False),
        sa.Column("next_check_at", _tz(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("last_online_at", _tz(), nullable=True),
        sa.Column("removed_at", _tz(), nullable=True),
    )
    op.create_index("ix_recheck_schedule_next", "recheck_schedule", ["next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_recheck_schedule_next", table_name="recheck_schedule")
    op.drop_table("recheck_schedule")
    op.drop_index("ix_url_checks_served_sha256", table_name="url_checks")
    op.drop_index("ix_url_checks_finding_id", table_name="url_checks")
    op.drop_table("url_checks")
