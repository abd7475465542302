"""Opening a store already at the head revision skips Alembic; any other revision migrates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rempart.store.database import Database, head_revision


def test_head_read_from_the_scripts_is_alembics_head(sqlite_db: Database) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(sqlite_db.alembic_config())
    assert head_revision() == script.get_current_head()
    assert sqlite_db.stored_revisions() == {head_revision()}


def test_a_store_at_an_older_revision_is_migrated_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rempart.db'}"
    db = Database.open(url)
    db.downgrade("0004")
    assert not db.at_head() and "cases" not in db.table_names()
    db.dispose()
    reopened = Database.open(url)
    assert reopened.at_head() and "cases" in reopened.table_names()
    reopened.dispose()


def test_a_store_emptied_to_base_is_migrated_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rempart.db'}"
    db = Database.open(url)
    db.downgrade("base")
    assert db.stored_revisions() == set() and not db.at_head()
    db.dispose()
    reopened = Database.open(url)
    assert "banks" in reopened.table_names()
    reopened.dispose()


def test_opening_a_store_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rempart.db'}"
    Database.open(url).dispose()
    code = (
        "import sys\n"
        "from rempart.store.database import Database\n"
        f"Database.open({url!r}).dispose()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_head_is_unknown_when_the_scripts_have_several_heads(tmp_path: Path) -> None:
    for name, revision, down in (
        ("a", "0001", "None"),
        ("b", "0002", '"0001"'),
        ("c", "0003", '"0001"'),
    ):
        (tmp_path / f"{name}.py").write_text(f'revision = "{revision}"\ndown_revision = {down}\n')
    assert head_revision.__wrapped__(tmp_path) is None
    (tmp_path / "c.py").write_text('revision: str = "0003"\ndown_revision: str | None = "0002"\n')
    assert head_revision.__wrapped__(tmp_path) == "0003"
