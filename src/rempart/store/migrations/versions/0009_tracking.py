"""Tracking until gone: a copy found again after its item was notified or removed elsewhere
(`finding_reuploads`), and which notice each escalation follows (`notice_escalations`).

New tables only: nothing existing is rewritten, on SQLite or PostgreSQL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "finding_reuploads",
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "earlier_finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("why", sa.String(20), nullable=False),
        sa.Column("linked_at", _tz(), nullable=False),
    )
    op.create_index(
        "ix_finding_reuploads_earlier_finding_id", "finding_reuploads", ["earlier_finding_id"]
    )
    op.create_table(
        "notice_escalations",
        sa.Column(
            "notice_id",
            sa.Integer(),
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "earlier_notice_id",
            sa.Integer(),
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("at", _tz(), nullable=False),
    )
    op.create_index(
        "ix_notice_escalations_earlier_notice_id", "notice_escalations", ["earlier_notice_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_notice_escalations_earlier_notice_id", table_name="notice_escalations")
    op.drop_table("notice_escalations")
    op.drop_index("ix_finding_reuploads_earlier_finding_id", table_name="finding_reuploads")
    op.drop_table("finding_reuploads")
