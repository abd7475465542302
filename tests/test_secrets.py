"""A source's proxy password is sealed with the vault key at rest and masked in every output:
`source show`, `source list --json`, the database file; a scan still gets it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.config import Settings
from rempart.evidence.vault import Vault
from rempart.jobs import watchlist
from rempart.store.database import Database

runner = CliRunner()
PROXY = "http://alice:s3cret-Pa55%25word@127.0.0.1:3128"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_VAULT_KEY", raising=False)
    return tmp_path / "home"


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _add(home: Path) -> None:
    _ok("source", "add", "forum", "web", "--url", "https://forum.example/", "--proxy", PROXY)


def test_a_proxy_password_is_never_stored_or_shown_in_clear(home: Path) -> None:
    _add(home)

    shown = _ok("source", "show", "forum") + _ok("source", "list", "--json") + _ok("source", "list")
    assert "s3cret" not in shown
    settings = json.loads(_ok("source", "show", "forum"))["settings"]
    assert settings["proxy"] == "http://alice@127.0.0.1:3128"
    assert settings["proxy_password"] == watchlist.MASK
    for path in home.rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path


def test_a_scan_gets_the_password_back_with_the_vault_key(home: Path) -> None:
    _add(home)
    db = Database.open(Settings.from_env().database_url)
    info = watchlist.get_source(db, "forum")

    settings = watchlist.scan_settings(info, Vault.open(home))

    assert settings["proxy"] == PROXY
    with pytest.raises(Exception, match="vault key"):
        watchlist.scan_settings(info, None)


def test_a_password_stored_in_clear_before_is_masked_and_resealed(home: Path) -> None:
    _ok("source", "add", "forum", "web", "--url", "https://forum.example/")
    db = Database.open(Settings.from_env().database_url)
    from sqlalchemy import update

    from rempart.store.models import SourceRow

    with db.session() as session:
        legacy = {"start_urls": ["https://forum.example/"], "proxy": PROXY}
        session.execute(update(SourceRow).values(settings=json.dumps(legacy)))
    assert "s3cret" not in _ok("source", "show", "forum")

    vault = Vault.open(home)
    assert watchlist.reseal_secrets(db, vault) == 1
    info = watchlist.get_source(db, "forum")
    assert "s3cret" not in json.dumps(dict(info.settings))
    assert watchlist.scan_settings(info, vault)["proxy"] == PROXY


def test_vault_rotation_rewraps_the_sealed_password(home: Path) -> None:
    _add(home)
    before = Vault.open(home).key_id

    out = _ok("vault", "rotate")

    vault = Vault.open(home)
    assert vault.key_id != before and before in out
    db = Database.open(Settings.from_env().database_url)
    assert watchlist.scan_settings(watchlist.get_source(db, "forum"), vault)["proxy"] == PROXY
    assert not list((home / "keys" / "vault-retired").glob("*.key"))
