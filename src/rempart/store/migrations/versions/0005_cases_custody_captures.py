"""Cases, reviews of findings, the append-only custody log and sealed captures.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = """
CREATE TRIGGER custody_events_no_{what} BEFORE {verb} ON custody_events
BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END
"""

_APPEND_ONLY_POSTGRES_FUNCTION = """
CREATE FUNCTION custody_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the custody log is append-only'; END $$
"""

_APPEND_ONLY_POSTGRES = """
CREATE TRIGGER custody_events_append_only BEFORE UPDATE OR DELETE ON custody_events
FOR EACH ROW EXECUTE FUNCTION custody_events_append_only()
"""


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("minor", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("description", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", _tz(), nullable=False),
    )
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_banks_case_id", "cases", ["case_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_banks_case_id", ["case_id"])
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("reviewed_at", _tz(), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "custody_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chain", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.UniqueConstraint("chain", "seq", name="uq_custody_events_chain_seq"),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("started_at", _tz(), nullable=False),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.Column("no_media", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("bundle", sa.String(200), nullable=True),
        sa.Column("bundle_sha256", sa.String(64), nullable=True),
        sa.Column("bundle_size", sa.Integer(), nullable=True),
        sa.Column("signer", sa.String(64), nullable=True),
        sa.Column("timestamps", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("stamps", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_captures_finding_id", "captures", ["finding_id"])
    op.create_index("ix_captures_case_id", "captures", ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_POSTGRES_FUNCTION)
        op.execute(_APPEND_ONLY_POSTGRES)
    else:
        for what, verb in (("update", "UPDATE"), ("delete", "DELETE")):
            op.execute(_APPEND_ONLY_SQLITE.format(what=what, verb=verb))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER custody_events_append_only ON custody_events")
        op.execute("DROP FUNCTION custody_events_append_only()")
    op.drop_table("captures")
    op.drop_table("custody_events")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("review_note")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
    with op.batch_alter_table("banks") as batch:
        batch.drop_index("ix_banks_case_id")
        batch.drop_constraint("fk_banks_case_id", type_="foreignkey")
        batch.drop_column("case_id")
    op.drop_table("cases")
