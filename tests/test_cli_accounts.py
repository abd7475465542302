"""`rempart user …` and `rempart token …`: secrets printed once on stdout, stored hashed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.setenv("REMPART_OPERATOR", "operator-1")
    return tmp_path / "home"


def _db(home: Path) -> object:
    from rempart.store.database import Database

    return Database.open(f"sqlite:///{home / 'rempart.db'}")


def test_user_add_prints_a_generated_password_once_and_stores_only_its_hash(home: Path) -> None:
    from sqlalchemy import select

    from rempart.accounts.sessions import sign_in
    from rempart.store.models import Account

    assert runner.invoke(app, ["case", "create", "case-1"]).exit_code == 0
    result = runner.invoke(
        app, ["user", "add", "claire", "--role", "caseworker", "--case", "case-1"]
    )
    assert result.exit_code == 0, result.output
    password = result.stdout.strip().splitlines()[-1]
    db = _db(home)
    with db.session() as session:  # type: ignore[attr-defined]
        stored = session.scalar(select(Account.password_hash))
    assert password not in stored and stored.startswith("$argon2id$")
    assert sign_in(db, "claire", password).stage == "full"  # type: ignore[arg-type]
    listing = runner.invoke(app, ["user", "list", "--json"]).stdout
    assert '"cases": ["case-1"]' in listing and password not in listing


def test_password_stdin_reset_and_disable(home: Path) -> None:
    from rempart.accounts.policy import AccessError
    from rempart.accounts.sessions import sign_in

    typed = "a long password typed by hand\n"
    result = runner.invoke(
        app, ["user", "add", "bob", "--role", "auditor", "--password-stdin"], input=typed
    )
    assert result.exit_code == 0 and "a long password" not in result.stdout
    short = runner.invoke(
        app, ["user", "add", "eve", "--role", "auditor", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2
    reset = runner.invoke(app, ["user", "reset-password", "bob"])
    new = reset.stdout.strip().splitlines()[-1]
    db = _db(home)
    assert sign_in(db, "bob", new).stage == "full"  # type: ignore[arg-type]
    assert runner.invoke(app, ["user", "disable", "bob"]).exit_code == 0
    with pytest.raises(AccessError):
        sign_in(db, "bob", new)  # type: ignore[arg-type]
    assert runner.invoke(app, ["user", "add", "x", "--role", "emperor"]).exit_code == 2


def test_user_totp_prints_an_otpauth_address_once(home: Path) -> None:
    runner.invoke(app, ["user", "add", "ada", "--role", "admin"])
    result = runner.invoke(app, ["user", "totp", "ada"])
    assert result.exit_code == 0
    assert "otpauth://totp/Rempart:ada?secret=" in result.stdout
    listing = runner.invoke(app, ["user", "list", "--json"]).stdout
    assert '"totp": true' in listing and "secret" not in listing


def test_token_create_prints_the_token_alone_on_stdout_then_list_and_revoke(home: Path) -> None:
    from rempart.accounts.policy import AccessError
    from rempart.accounts.tokens import authenticate

    runner.invoke(app, ["bank", "create", "shared"])
    refused = runner.invoke(app, ["token", "create", "p0"])
    assert refused.exit_code == 2  # a matcher token names its banks
    result = runner.invoke(app, ["token", "create", "p1", "--bank", "shared", "--expires", "30d"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("rmp_") and "\n" not in token
    db = _db(home)
    assert authenticate(db, token, action="test").name == "p1"  # type: ignore[arg-type]
    listing = runner.invoke(app, ["token", "list", "--json"]).stdout
    assert '"banks": ["shared"]' in listing and token not in listing
    assert runner.invoke(app, ["token", "revoke", "p1"]).exit_code == 0
    with pytest.raises(AccessError):
        authenticate(db, token, action="test")  # type: ignore[arg-type]
    assert (
        runner.invoke(app, ["token", "create", "p2", "--all-banks", "--expires", "soon"]).exit_code
        == 2
    )


def test_serve_help_lists_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--workers" in result.stdout and "--port" in result.stdout
