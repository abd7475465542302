"""Watched sources, scan runs and their problems, what was seen, sightings and findings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _source_fk(primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "source_id",
        sa.Integer(),
        sa.ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=True),
        sa.Column("created_at", _tz(), nullable=False),
    )
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _source_fk(),
        sa.Column("started_at", _tz(), nullable=False),
        sa.Column("finished_at", _tz(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("heartbeat_at", _tz(), nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_scan_runs_source_id", "scan_runs", ["source_id"])
    op.create_index(
        "uq_scan_runs_one_running",
        "scan_runs",
        ["source_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "scan_problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("scan_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("where", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", _tz(), nullable=False),
    )
    op.create_index("ix_scan_problems_run_id", "scan_problems", ["run_id"])
    op.create_table(
        "seen_media",
        _source_fk(primary_key=True),
        sa.Column("key_sha", sa.String(64), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("seen_at", _tz(), nullable=False),
    )
    op.create_table(
        "page_validators",
        _source_fk(primary_key=True),
        sa.Column("url_sha", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _source_fk(),
        sa.Column("key_sha", sa.String(64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("post_id", sa.String(200), nullable=True),
        sa.Column("posted_at", _tz(), nullable=True),
        sa.Column("first_seen_at", _tz(), nullable=False),
        sa.Column("last_seen_at", _tz(), nullable=False),
        sa.Column("media", sa.String(10), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.UniqueConstraint("source_id", "key_sha", name="uq_sightings_source_key"),
    )
    op.create_index("ix_sightings_sha256", "sightings", ["sha256"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "sighting_id",
            sa.Integer(),
            sa.ForeignKey("sightings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(20), nullable=True),
        sa.Column("window", sa.String(20), nullable=True),
        sa.Column("reference", sa.String(20), nullable=True),
        sa.Column("reference_label", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("found_at", _tz(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.UniqueConstraint("sighting_id", "item_id", name="uq_findings_sighting_item"),
    )
    op.create_index("ix_findings_sighting_id", "findings", ["sighting_id"])
    op.create_index("ix_findings_item_id", "findings", ["item_id"])


def downgrade() -> None:
    for table in (
        "findings",
        "sightings",
        "page_validators",
        "seen_media",
        "scan_problems",
        "scan_runs",
        "sources",
    ):
        op.drop_table(table)
