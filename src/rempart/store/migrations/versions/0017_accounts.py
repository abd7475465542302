"""Accounts of the web app and API tokens: `accounts` (argon2id hashes, TOTP), their cases,
`api_tokens` (SHA-256 only) with their case and bank scopes, server-side `web_sessions`,
`login_throttle` (failed sign-ins per account and per address) and the `access_events` log.

New tables only: nothing existing is rewritten, on SQLite or PostgreSQL.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _pair(table: str, left: tuple[str, str], right: tuple[str, str]) -> None:
    """A link table: two foreign keys (deleted with either end) forming the primary key."""
    op.create_table(
        table,
        sa.Column(
            left[0],
            sa.Integer(),
            sa.ForeignKey(f"{left[1]}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            right[0],
            sa.Integer(),
            sa.ForeignKey(f"{right[1]}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index(f"ix_{table}_{right[0]}", table, [right[0]])


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("password_set_at", _tz(), nullable=False),
        sa.Column("disabled_at", _tz(), nullable=True),
    )
    _pair("account_cases", ("account_id", "accounts"), ("case_id", "cases"))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("all_banks", sa.Boolean(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("expires_at", _tz(), nullable=True),
        sa.Column("revoked_at", _tz(), nullable=True),
    )
    _pair("api_token_cases", ("token_id", "api_tokens"), ("case_id", "cases"))
    _pair("api_token_banks", ("token_id", "api_tokens"), ("bank_id", "banks"))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("seen_at", _tz(), nullable=False),
        sa.Column("expires_at", _tz(), nullable=False),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _tz(), nullable=False),
        sa.Column("locked_until", _tz(), nullable=True),
    )
    op.create_table(
        "access_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
    )
    op.create_index("ix_access_events_at", "access_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_access_events_at", table_name="access_events")
    op.drop_table("access_events")
    op.drop_table("login_throttle")
    op.drop_index("ix_web_sessions_account_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    for table, column in (
        ("api_token_banks", "bank_id"),
        ("api_token_cases", "case_id"),
        ("account_cases", "case_id"),
    ):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.drop_table(table)
    op.drop_table("api_tokens")
    op.drop_table("accounts")
