"""What each sighted copy said about its origin (rempart.provenance): `provenance_verdict`
(ai-declared, ai-suspected, edited, camera, no-signal) and the reading as JSON.

Two nullable columns: sightings recorded before stay without a reading (NULL: not read,
which is not "no-signal").

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("provenance_verdict", sa.String(20), nullable=True))
        batch.add_column(sa.Column("provenance", sa.Text(), nullable=True))
        batch.create_index("ix_sightings_provenance_verdict", ["provenance_verdict"])


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.drop_index("ix_sightings_provenance_verdict")
        batch.drop_column("provenance")
        batch.drop_column("provenance_verdict")
