"""Notices: what is sent to whom about which copies, their status history, and the outbox
that makes sending idempotent; the legal ground chosen per case.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


_APPEND_ONLY_SQLITE = """
CREATE TRIGGER notice_events_no_{what} BEFORE {verb} ON notice_events
BEGIN SELECT RAISE(ABORT, 'a notice''s history is append-only'); END
"""

_APPEND_ONLY_POSTGRES_FUNCTION = """
CREATE FUNCTION notice_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a notice''s history is append-only'; END $$
"""

_APPEND_ONLY_POSTGRES = """
CREATE TRIGGER notice_events_append_only BEFORE UPDATE OR DELETE ON notice_events
FOR EACH ROW EXECUTE FUNCTION notice_events_append_only()
"""


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipient_key", sa.String(400), nullable=False),
        sa.Column("recipient_name", sa.String(300), nullable=False),
        sa.Column("recipient_role", sa.String(20), nullable=False),
        sa.Column("recipient_channel", sa.String(20), nullable=False),
        sa.Column("recipient_address", sa.String(500), nullable=False, server_default=""),
        sa.Column("recipient_platform", sa.String(40), nullable=False, server_default=""),
        sa.Column("recipient_country", sa.String(2), nullable=False, server_default=""),
        sa.Column("provenance", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("legal_basis", sa.String(40), nullable=False),
        sa.Column("take_it_down", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("references_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("approved_at", _tz(), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("sent_at", _tz(), nullable=True),
        sa.Column("message_id", sa.String(250), nullable=True),
        sa.Column("message", sa.LargeBinary(), nullable=True),
        sa.Column("message_sha256", sa.String(64), nullable=True),
        sa.Column("seal", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("reference", sa.String(300), nullable=True),
        sa.Column("due_at", _tz(), nullable=True),
        sa.Column("updated_at", _tz(), nullable=False),
    )
    op.create_index("ix_notices_case_id", "notices", ["case_id"])
    op.create_index("ix_notices_status", "notices", ["status"])
    op.create_index("ix_notices_due_at", "notices", ["due_at"])
    op.create_table(
        "notice_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "notice_id",
            sa.Integer(),
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column(
            "capture_id",
            sa.Integer(),
            sa.ForeignKey("captures.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("capture_sha256", sa.String(64), nullable=True),
        sa.UniqueConstraint("notice_id", "finding_id", name="uq_notice_items_notice_finding"),
    )
    op.create_index("ix_notice_items_notice_id", "notice_items", ["notice_id"])
    op.create_index("ix_notice_items_finding_id", "notice_items", ["finding_id"])
    op.create_table(
        "notice_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "notice_id",
            sa.Integer(),
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_notice_events_notice_id", "notice_events", ["notice_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_POSTGRES_FUNCTION)
        op.execute(_APPEND_ONLY_POSTGRES)
    else:
        for what, verb in (("update", "UPDATE"), ("delete", "DELETE")):
            op.execute(_APPEND_ONLY_SQLITE.format(what=what, verb=verb))
    op.create_table(
        "notice_outbox",
        sa.Column(
            "notice_id",
            sa.Integer(),
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("updated_at", _tz(), nullable=False),
    )
    op.create_index("ix_notice_outbox_state", "notice_outbox", ["state"])
    op.create_table(
        "case_grounds",
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("basis", sa.String(40), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", _tz(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_grounds")
    op.drop_index("ix_notice_outbox_state", table_name="notice_outbox")
    op.drop_table("notice_outbox")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER notice_events_append_only ON notice_events")
        op.execute("DROP FUNCTION notice_events_append_only()")
    op.drop_index("ix_notice_events_notice_id", table_name="notice_events")
    op.drop_table("notice_events")
    op.drop_index("ix_notice_items_finding_id", table_name="notice_items")
    op.drop_index("ix_notice_items_notice_id", table_name="notice_items")
    op.drop_table("notice_items")
    op.drop_index("ix_notices_due_at", table_name="notices")
    op.drop_index("ix_notices_status", table_name="notices")
    op.drop_index("ix_notices_case_id", table_name="notices")
    op.drop_table("notices")
