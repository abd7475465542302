"""`rempart review` and `rempart case`: what a caseworker types to confirm or reject matches,
what she sees (details always, the picture only when she asks, blurred first), and that every
look and decision lands in the case's custody log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from findings_made import Made, make_finding
from rempart.cli import app
from rempart.config import Settings
from rempart.evidence.custody import verify_chain
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info
from rempart.store.database import Database

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REMPART_OPERATOR", "alice")
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def _run(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def _ok(*args: str, input: str | None = None) -> str:
    result = _run(*args, input=input)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _made(home: Path, tmp_path: Path, **kwargs: object) -> tuple[Database, Made]:
    settings = Settings.from_env()
    db = Database.open(settings.database_url)
    return db, make_finding(db, Vault.open(settings.home), tmp_path, **kwargs)  # type: ignore[arg-type]


def _chain(db: Database, case: str = "case-a") -> list[tuple[str, str, dict[str, object]]]:
    events = chain_events(db, f"case:{case_info(db, case).id}")
    assert verify_chain(events).ok
    return [(e.action.value, e.actor, dict(e.detail)) for e in events]


def test_case_commands_open_a_case_and_put_a_bank_under_it(home: Path) -> None:
    assert "Opened case" in _ok("case", "create", "case-0142")
    _ok("bank", "create", "case-0142-images", "--case", "case-0142")
    shown = json.loads(_ok("case", "show", "case-0142", "--json"))
    assert shown["banks"] == ["case-0142-images"] and shown["minor"] is False
    assert "no media will be stored" in _ok("case", "create", "case-m", "--minor")
    result = _run("case", "create", "Jane Doe")
    assert result.exit_code == 2 and "pseudonym" in result.stderr
    result = _run("bank", "create", "x", "--case", "nope")
    assert result.exit_code == 2 and "no case named" in result.stderr


def test_listing_shows_details_and_never_the_picture(home: Path, tmp_path: Path) -> None:
    db, made = _made(home, tmp_path)
    listed = _ok("review", "list")
    assert "forum.example/case-a/thread-1" in listed and "exact file" in listed
    shown = _ok("review", "show", str(made.finding))
    assert "▀" not in shown  # details only, until she asks
    assert _chain(db) == []


def test_look_shows_a_blurred_picture_and_logs_it(home: Path, tmp_path: Path) -> None:
    db, made = _made(home, tmp_path)
    shown = _ok("review", "show", str(made.finding), "--look")
    assert "▀" in shown and "blurred" in shown
    assert _chain(db) == [("review_look", "alice", {"clear": False, "sha256": _sha(made)})]


def test_unblurring_asks_first_and_a_no_shows_nothing(home: Path, tmp_path: Path) -> None:
    db, made = _made(home, tmp_path)
    result = _run("review", "show", str(made.finding), "--clear", input="n\n")
    assert result.exit_code == 1 and "▀" not in result.stdout
    assert _chain(db) == []
    _ok("review", "show", str(made.finding), "--clear", "--as", "bob", input="y\n")
    assert _chain(db) == [("review_look", "bob", {"clear": True, "sha256": _sha(made)})]


def test_confirm_and_reject_from_the_command_line(home: Path, tmp_path: Path) -> None:
    db, one = _made(home, tmp_path, seed=1)
    _, two = _made(home, tmp_path, seed=2)
    assert "confirmed by alice" in _ok("review", "confirm", str(one.finding))
    result = _run("review", "reject", str(two.finding))
    assert result.exit_code == 2 and "why" in result.stderr
    _ok("review", "reject", str(two.finding), "--note", "another person's photo")
    assert [a for a, _, _ in _chain(db)] == ["review_decision", "review_decision"]
    assert _ok("review", "list").strip() == "No pending findings."
    confirmed = [
        json.loads(line)
        for line in _ok("review", "list", "--status", "confirmed", "--json").splitlines()
    ]
    assert [(c["finding"], c["reviewed_by"]) for c in confirmed] == [(one.finding, "alice")]


def test_the_interactive_session_goes_through_pending_matches(home: Path, tmp_path: Path) -> None:
    db, _ = _made(home, tmp_path, seed=1)
    _made(home, tmp_path, seed=2)
    _, three = _made(home, tmp_path, seed=3)
    # first: look (blurred), then confirm with a note; second: reject; third: quit
    answers = "v\nc\nsame photo, cropped\nr\nnot her\nq\n"
    shown = _ok("review", input=answers)
    assert "3 matches to review" in shown and "▀" in shown
    assert [(a, d.get("verdict")) for a, _, d in _chain(db)] == [
        ("review_look", None),
        ("review_decision", "confirmed"),
        ("review_decision", "rejected"),
    ]
    remaining = [
        json.loads(line)["finding"] for line in _ok("review", "list", "--json").splitlines()
    ]
    assert remaining == [three.finding]


def test_a_minors_case_never_shows_media(home: Path, tmp_path: Path) -> None:
    _, made = _made(home, tmp_path, case="case-m", minor=True)
    result = _run("review", "show", str(made.finding), "--look")
    assert result.exit_code == 2 and "minor" in result.stderr
    assert "▀" not in result.stdout


def test_hostile_page_addresses_print_literally(home: Path, tmp_path: Path) -> None:
    db, made = _made(home, tmp_path)
    from rempart.store.models import Sighting

    with db.session() as session:
        sighting = session.get(Sighting, 1)
        assert sighting is not None
        sighting.page_url = "https://x.example/[bold red]FAKE[/]\x1b[2J"
    shown = _ok("review", "show", str(made.finding))
    assert "[bold red]FAKE[/]" in shown


def _sha(made: Made) -> str:
    import hashlib

    return hashlib.sha256(made.data).hexdigest()
