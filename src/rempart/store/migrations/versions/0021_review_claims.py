"""The shared review queue: `review_claims`, who is reviewing which finding and until when,
so that a match being judged by one caseworker is not offered to another; and an index of
the custody log by actor and time (how long someone has been reviewing without a break).

A new table and an index: nothing existing is rewritten, on SQLite or PostgreSQL.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_claims",
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_claims_holder", "review_claims", ["holder"])
    op.create_index("ix_custody_events_actor_at", "custody_events", ["actor", "at"])


def downgrade() -> None:
    op.drop_index("ix_custody_events_actor_at", table_name="custody_events")
    op.drop_index("ix_review_claims_holder", table_name="review_claims")
    op.drop_table("review_claims")
