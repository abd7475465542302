"""A bank says what to do with list entries whose PDQ quality is not given (`unknown_quality`:
"accept", the default, or "refuse"). Shared lists such as StopNCII's carry no quality.

One column with a server default: existing banks accept, as before.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(
            sa.Column("unknown_quality", sa.String(10), nullable=False, server_default="accept")
        )
        batch.create_check_constraint(
            "ck_banks_unknown_quality", "unknown_quality IN ('accept', 'refuse')"
        )


def downgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.drop_constraint("ck_banks_unknown_quality", type_="check")
        batch.drop_column("unknown_quality")
