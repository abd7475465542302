"""Which kinds of index each finding's item was hit through (`findings.via`: "picture",
"smooth", "grid", "face", "face_blanked", comma-separated; or the method, "sha256", "md5",
"local-features"), so that a copy matched only through a face can be told apart
(rempart.provenance.match).

Nullable: findings recorded before stay unknown (NULL), which never gives a match signal.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("via", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("via")
