"""Everything Rempart writes is private to its user (0600 files, 0700 folders), whatever the
umask: the database and its journals, the vault and its keys, exports, reports, settings."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.evidence.vault import Vault
from rempart.private import write_private
from rempart.samples import neutral_image
from rempart.store.database import Database

runner = CliRunner()


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask of a desktop account: new files readable by everyone (0644)."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _shared(root: Path) -> list[str]:
    """Files and folders under `root` (itself included) that others may read or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root.parent)}: {mode:o}")
    return found


def test_the_store_vault_and_exports_are_private_under_umask_022(
    tmp_path: Path, loose_umask: None
) -> None:
    home = tmp_path / "home"
    db = Database.open(f"sqlite:///{home / 'rempart.db'}")
    with db.engine.connect() as connection:  # journals and WAL files appear with use
        connection.exec_driver_sql("CREATE TABLE probe (x)")
        connection.commit()
    vault = Vault.open(home, env={})
    vault.put("bundles/case-1/capture-1.wacz", b"unblurred evidence")
    (tmp_path / "export").mkdir(mode=0o700)
    write_private(tmp_path / "export" / "bundle.wacz", b"bundle")
    db.dispose()

    assert _shared(home) == []
    assert _shared(tmp_path / "export") == []


def test_an_existing_world_readable_database_is_made_private(
    tmp_path: Path, loose_umask: None
) -> None:
    path = tmp_path / "rempart.db"
    Database.open(f"sqlite:///{path}").dispose()
    path.chmod(0o644)

    Database.open(f"sqlite:///{path}").dispose()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_command_line_session_writes_nothing_others_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask: None
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("REMPART_HOME", str(home))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_VAULT_KEY", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    neutral_image(3, 320, 240).save(inbox / "copy.jpg", quality=80)
    exports = tmp_path / "out"
    exports.mkdir(mode=0o700)
    for command in (
        ["config", "init", "--caseworker", "alice", "--name", "Association"],
        ["bank", "create", "case-1"],
        ["bank", "add", "case-1", str(original), "--no-extras"],
        ["source", "add", "inbox", "files", "--path", str(inbox)],
        ["scan", "inbox"],
        ["findings"],
        ["bank", "export", "case-1", "--output", str(exports / "case-1.txt")],
    ):
        os.umask(0o022)  # each command starts from the user's umask
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)

    assert _shared(home) == []
    assert _shared(exports) == []
