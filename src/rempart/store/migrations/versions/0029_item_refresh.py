"""An item's extra hashes or local features recomputed from its picture (`bank add` run
again on a file already registered): logged as the item event "refresh", so that a running
matcher reloads the item.

On PostgreSQL the enum type gains a value; SQLite stores the enum as text. Going down turns
refresh events into "add" events (the matcher reloads the item either way) and leaves the
PostgreSQL type's extra value, which PostgreSQL cannot drop and nothing then writes.

Revision ID: 0029
Revises: 0024
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE item_action ADD VALUE IF NOT EXISTS 'refresh'")


def downgrade() -> None:
    op.execute(sa.text("UPDATE item_events SET action = 'add' WHERE action = 'refresh'"))
