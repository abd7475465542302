"""One copy, one finding: later sightings of a copy point at its first sighting; problems
keep their reason as a template and values, to be shown in the reader's language.

Sightings stored before this revision keep their own findings (nothing is merged or deleted:
reviews and custody events name them); from now on a copy already sighted gains a sighting,
not a finding.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("media_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("copy_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_sightings_copy_of_id", "sightings", ["copy_of_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_sightings_media_key", ["media_key"])
        batch.create_index("ix_sightings_copy_of_id", ["copy_of_id"])
    with op.batch_alter_table("scan_problems") as batch:
        batch.add_column(sa.Column("template", sa.Text(), nullable=True))
        batch.add_column(sa.Column("values", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_problems") as batch:
        batch.drop_column("values")
        batch.drop_column("template")
    with op.batch_alter_table("sightings") as batch:
        batch.drop_index("ix_sightings_copy_of_id")
        batch.drop_index("ix_sightings_media_key")
        batch.drop_constraint("fk_sightings_copy_of_id", type_="foreignkey")
        batch.drop_column("copy_of_id")
        batch.drop_column("media_key")
