"""A covering index for loading a bank's active hashes into the matcher.

Without it, SQLite reads each of a bank's rows from the table to test `withdrawn_at`: loading
a 1M-item bank took 5 s instead of 2.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_bank_active", "items", ["bank_id", "withdrawn_at", "pdq"])


def downgrade() -> None:
    op.drop_index("ix_items_bank_active", table_name="items")
