"""Hash files imported from the victim's offline page: one row per submission (its random
number, the digest of her withdrawal code, whether she declared a minor) and its items.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("submission", sa.String(32), nullable=False),
        sa.Column("withdrawal_sha256", sa.String(64), nullable=False),
        sa.Column("minor_declared", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("case_id", "submission", name="uq_intake_submission"),
    )
    op.create_index("ix_intake_submissions_case_id", "intake_submissions", ["case_id"])
    op.create_index(
        "ix_intake_submissions_withdrawal_sha256", "intake_submissions", ["withdrawal_sha256"]
    )
    op.create_table(
        "intake_submission_items",
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey("intake_submissions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_intake_submission_items_item_id", "intake_submission_items", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_intake_submission_items_item_id", "intake_submission_items")
    op.drop_table("intake_submission_items")
    op.drop_index("ix_intake_submissions_withdrawal_sha256", "intake_submissions")
    op.drop_index("ix_intake_submissions_case_id", "intake_submissions")
    op.drop_table("intake_submissions")
