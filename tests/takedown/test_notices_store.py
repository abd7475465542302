"""Migration 0007 on SQLite and PostgreSQL: both directions, and a notice's history that
cannot be edited or deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rempart.store.database import Database
from rempart.store.models import NoticeEventRow, NoticeRow

MOMENT = datetime(2026, 12, 6, tzinfo=UTC)


def _notice(db: Database) -> int:
    with db.session() as session:
        row = NoticeRow(
            kind="dsa",
            recipient_key="k",
            recipient_name="H",
            recipient_role="host",
            recipient_channel="email",
            legal_basis="226-2-1",
            language="en",
            status="drafted",
            created_at=MOMENT,
            created_by="a",
            updated_at=MOMENT,
        )
        session.add(row)
        session.flush()
        session.add(NoticeEventRow(notice_id=row.id, at=MOMENT, actor="a", status="drafted"))
        return row.id


def test_a_notices_history_is_append_only(db: Database) -> None:
    _notice(db)
    for statement in ("UPDATE notice_events SET status = 'sent'", "DELETE FROM notice_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session() as session:
            session.execute(sa.text(statement))


def test_0007_goes_down_to_0006_and_back(db: Database) -> None:
    db.downgrade("0006")
    assert "notices" not in db.table_names() and "notice_outbox" not in db.table_names()
    db.upgrade("head")
    assert {"notices", "notice_items", "notice_events", "notice_outbox", "case_grounds"} <= set(
        db.table_names()
    )
    _notice(db)
