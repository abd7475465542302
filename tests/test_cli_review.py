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
    assert "forum.example/case-a/thread-1" in listed and "identical file" in listed
    shown = _ok("review", "show", str(made.finding))
    assert "▀" not in shown  # details only, until she asks
    assert _chain(db) == []


def test_look_shows_a_blurred_picture_and_logs_it(home: Path, tmp_path: Path) -> None:
    db, made = _made(home, tmp_path)
    shown = _ok("review", "show", str(made.finding), "--look")
    assert "▀" in shown and "blurred" in shown
    assert _chain(db) == [("review_look", "alice", {"clear": False, "sha256": _sha(made)})]


@pytest.fixture
def viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake image viewer: records the file it was given, its mode, and its bytes."""
    seen = tmp_path / "viewer-saw"
    script = tmp_path / "viewer.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'stat -c %a "$1" > "{seen}.mode"\n'
        f'stat -c %a "$(dirname "$1")" > "{seen}.dirmode"\n'
        f'cp "$1" "{seen}.png"\n'
        f'echo "$1" > "{seen}.path"\n'
    )
    script.chmod(0o700)
    monkeypatch.setenv("REMPART_VIEWER", str(script))
    return seen


def test_unblurring_asks_first_and_a_no_shows_nothing(
    home: Path, tmp_path: Path, viewer: Path
) -> None:
    db, made = _made(home, tmp_path)
    result = _run("review", "show", str(made.finding), "--clear", input="n\n")
    assert result.exit_code == 1 and "▀" not in result.stdout
    assert _chain(db) == []
    _ok("review", "show", str(made.finding), "--clear", "--as", "bob", input="y\n")
    assert _chain(db) == [("review_look", "bob", {"clear": True, "sha256": _sha(made)})]


def test_unblurred_opens_full_size_in_the_viewer_from_a_private_file_then_deleted(
    home: Path, tmp_path: Path, viewer: Path
) -> None:
    from PIL import Image

    _, made = _made(home, tmp_path)
    shown = _ok("review", "show", str(made.finding), "--clear", "--yes")
    assert "▀" not in shown  # no block picture: the real one, in a real viewer
    assert Path(f"{viewer}.mode").read_text().strip() == "600"
    assert Path(f"{viewer}.dirmode").read_text().strip() == "700"
    opened = Path(Path(f"{viewer}.path").read_text().strip())
    assert not opened.exists() and not opened.parent.exists()  # deleted afterwards
    with (
        Image.open(f"{viewer}.png") as picture,
        Image.open(__import__("io").BytesIO(made.data)) as original,
    ):
        assert picture.size == original.size  # full size, not a thumbnail


def test_no_display_says_so_plainly_and_logs_no_look(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, made = _made(home, tmp_path)
    for name in ("REMPART_VIEWER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    result = _run("review", "show", str(made.finding), "--clear", "--yes")
    assert result.exit_code == 1 and "No display" in result.stderr
    assert "--look" in result.stderr and _chain(db) == []
    answers = "s\nq\n"
    result = _run("review", input=answers)
    assert "No display" in result.stderr and _chain(db) == []


def test_the_blurred_look_hint_names_real_keys_and_commands(home: Path, tmp_path: Path) -> None:
    _, made = _made(home, tmp_path)
    shown = _ok("review", "show", str(made.finding), "--look")
    assert f"rempart review show {made.finding} --clear" in shown and "(or )" not in shown
    shown = _ok("review", input="v\nq\n")
    assert "[s] opens it unblurred" in shown


def test_confirm_and_reject_from_the_command_line(home: Path, tmp_path: Path) -> None:
    db, one = _made(home, tmp_path, seed=1)
    _, two = _made(home, tmp_path, seed=2)
    assert "confirmed by alice" in _ok("review", "confirm", str(one.finding))
    result = _run("review", "reject", str(two.finding))
    assert result.exit_code == 2 and "a reason is required" in result.stderr
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
    # first: look (blurred), then confirm with a note; second: reject, with no reason first
    answers = "v\nc\nsame photo, cropped\nr\n\nr\nnot her\nq\n"
    result = _run("review", input=answers)
    assert result.exit_code == 0, result.stderr
    shown = result.stdout
    assert "3 matches to review" in shown and "▀" in shown
    assert "A reason is required to reject a match" in result.stderr
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


def test_confirm_whose_capture_failed_says_why_and_what_to_do_and_exits_1(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rempart.cli import evidence as cli_evidence
    from rempart.jobs import evidence as jobs_evidence

    _, made = _made(home, tmp_path)
    attempts: list[list[int]] = []
    failed = jobs_evidence.CaptureOutcome(
        id=7, url="http://127.0.0.1:8401/t/1", status="failed", case="case-a",
        finding=made.finding, error="refused port: port 8401 is not allowed",
    )  # fmt: skip

    def capture(ids: list[int], nets: object) -> list[jobs_evidence.CaptureOutcome]:
        attempts.append(ids)
        cli_evidence._show(failed, as_json=False)  # what the real one prints for each outcome
        return [failed]

    monkeypatch.setattr(cli_evidence, "capture_after_review", capture)
    result = _run("review", "confirm", str(made.finding))
    assert attempts == [[made.finding]]
    assert result.exit_code == 1
    assert "capture 7" in result.stderr and "port 8401" in result.stderr
    assert "--allow-network" in result.stderr
    assert f"rempart capture --finding {made.finding}" in result.stderr


def test_a_telegram_finding_shows_its_channel_message_author_and_posting_date(
    home: Path, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from rempart.store.models import Sighting

    db, made = _made(home, tmp_path)
    with db.session() as session:
        sighting = session.get(Sighting, 1)
        assert sighting is not None
        sighting.page_url = None
        sighting.post_id = "4812"
        sighting.posted_at = datetime(2023, 5, 4, 21, 30, tzinfo=UTC)
        sighting.context = json.dumps({"chat": "Leaks FR", "from": "user123", "text": "…"})
    shown = _ok("review", "show", str(made.finding))
    assert "?" not in shown.split("seen on")[1].splitlines()[0]
    assert "« Leaks FR », message 4812" in shown
    assert "2023-05-04 21:30" in shown and "user123" in shown


def test_review_speaks_french(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    _, made = _made(home, tmp_path)
    shown = _ok("review", "show", str(made.finding), "--look")
    assert "Floutée" in shown and "fichier identique" in shown
    assert "Blurred" not in shown and "seen on" not in shown
    result = _run("review", "reject", str(made.finding))
    assert "motif" in result.stderr and "reason" not in result.stderr
    help_text = _ok("review", "--help")
    assert "Confirmer" in help_text or "confirmer" in help_text
    assert "Confirm or reject each match" not in help_text


def test_the_interactive_s_key_opens_the_viewer_after_asking_and_logs_the_look(
    home: Path, tmp_path: Path, viewer: Path
) -> None:
    db, made = _made(home, tmp_path)
    result = _run("review", input="s\ny\nq\n")
    assert result.exit_code == 0, result.stderr
    assert "Opened unblurred in the image viewer" in result.stdout
    assert Path(f"{viewer}.png").exists()
    assert _chain(db) == [("review_look", "alice", {"clear": True, "sha256": _sha(made)})]
