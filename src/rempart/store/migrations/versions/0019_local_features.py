"""Registered items' local features (the geometric matching stage), and findings' method
long enough to say "local-features".

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_features",
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("findings") as batch:
        batch.alter_column(
            "method", existing_type=sa.String(10), type_=sa.String(20), existing_nullable=False
        )


def downgrade() -> None:
    # The old column is too short for "local-features": such findings are kept, as "local".
    op.execute("UPDATE findings SET method = 'local' WHERE method = 'local-features'")
    with op.batch_alter_table("findings") as batch:
        batch.alter_column(
            "method", existing_type=sa.String(20), type_=sa.String(10), existing_nullable=False
        )
    op.drop_table("item_features")
