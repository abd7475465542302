"""One live scan per source: the partial unique index of migration 0004 holds on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from rempart.store.database import Database
from rempart.store.models import ScanRun, SourceRow

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _source(db: Database, name: str) -> int:
    with db.session() as session:
        row = SourceRow(name=name, kind="files", settings="{}", created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def _run(db: Database, source_id: int, status: str) -> None:
    with db.session() as session:
        session.add(ScanRun(source_id=source_id, started_at=NOW, heartbeat_at=NOW, status=status))


def test_a_second_running_scan_of_one_source_is_refused(db: Database) -> None:
    source = _source(db, "one-live-run")
    _run(db, source, "running")
    with pytest.raises(IntegrityError):
        _run(db, source, "running")


def test_finished_scans_and_other_sources_are_not_limited(db: Database) -> None:
    source, other = _source(db, "many-runs"), _source(db, "many-runs-2")
    for status in ("done", "failed", "interrupted", "done", "running"):
        _run(db, source, status)
    _run(db, other, "running")
    with db.session() as session:
        assert session.query(ScanRun).filter(ScanRun.source_id == source).count() == 5
