"""A web app on the `db` fixture's store, on SQLite and on PostgreSQL (see webapp.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from webapp import Web, make_web

from rempart.store.database import Database


@pytest.fixture
def web(db: Database, tmp_path: Path) -> Web:
    return make_web(db, tmp_path)
