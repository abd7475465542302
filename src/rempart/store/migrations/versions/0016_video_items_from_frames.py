"""A video item may be known by its frame hashes alone (imported from a vPDQ file, whose
file digests the partner did not give): `ck_items_signal` also accepts `media = 'video'`.

The items table is rebuilt on SQLite (foreign keys are off during migrations: env.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_OLD = "pdq IS NOT NULL OR md5 IS NOT NULL OR sha256 IS NOT NULL"
_NEW = _OLD + " OR media = 'video'"


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint("ck_items_signal", type_="check")
        batch.create_check_constraint("ck_items_signal", _NEW)


def downgrade() -> None:
    # Under the old rule a video known only by its frames cannot exist: refuse rather than
    # delete a victim's items (and what points at them) behind the caseworker's back.
    count = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM items WHERE pdq IS NULL AND md5 IS NULL AND sha256 IS NULL"
            )
        )
        .scalar_one()
    )
    if count:
        raise RuntimeError(
            f"cannot go below revision 0016: {count} video item(s) are known by their frame "
            "hashes only; export them (rempart bank export BANK --format vpdq -o DIR), "
            "withdraw or delete them, then downgrade"
        )
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint("ck_items_signal", type_="check")
        batch.create_check_constraint("ck_items_signal", _OLD)
