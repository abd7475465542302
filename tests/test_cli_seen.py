"""The command line for what was seen before a victim registered: `bank add` looks among
what scans already saw and says so, `rempart seen match|stats|purge`. Local folders and
SQLite only; nothing reaches the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.samples import neutral_image

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    return tmp_path / "home"


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _scanned_folder(tmp_path: Path) -> None:
    """A folder source holding two pictures (seeds 3 and 11), scanned while no bank held
    either."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed in (3, 11):
        neutral_image(seed, 320, 240).save(inbox / f"picture-{seed}.jpg", quality=80)
    _ok("source", "add", "inbox", "files", "--path", str(inbox))
    _ok("scan", "inbox")


def test_bank_add_finds_what_a_scan_saw_before_and_makes_a_finding(
    home: Path, tmp_path: Path
) -> None:
    _scanned_folder(tmp_path)
    stats = [json.loads(line) for line in _ok("seen", "stats", "--json").splitlines()]
    assert [(s["source"], s["media"], s["retention_days"]) for s in stats] == [("inbox", 2, 180)]
    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    _ok("bank", "create", "case-0142")
    output = " ".join(_ok("bank", "add", "case-0142", str(original)).split())
    assert "1 earlier sighting matches; re-checking…" in output
    assert "1 finding to review" in output
    findings = [json.loads(line) for line in _ok("findings", "--json").splitlines()]
    assert [(f["source"], f["status"], f["confirmed_by"]) for f in findings] == [
        ("inbox", "pending", "kept hashes")
    ]
    # matching again finds the same copy and adds nothing
    _ok("seen", "match", "case-0142")
    assert len(_ok("findings", "--json").splitlines()) == 1


def test_bank_add_without_retro_and_a_source_that_keeps_nothing(home: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    neutral_image(3, 320, 240).save(inbox / "picture.jpg", quality=80)
    _ok("source", "add", "inbox", "files", "--path", str(inbox), "--keep-seen-days", "0")
    _ok("scan", "inbox")
    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    _ok("bank", "create", "case-0142")
    assert "earlier" not in _ok("bank", "add", "case-0142", str(original), "--no-retro")
    assert "No earlier sighting matches." in _ok("seen", "match")
    assert "0 media forgotten." in _ok("seen", "purge")


def test_a_retention_that_is_not_a_number_of_days_is_refused(home: Path, tmp_path: Path) -> None:
    result = _run(
        "source", "add", "inbox", "files", "--path", str(tmp_path), "--keep-seen-days", "-3"
    )
    assert result.exit_code == 2
    assert "retention" in result.stderr
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[seen]\nretention_days = "soon"\n')
    result = _run("seen", "stats")
    assert result.exit_code == 2
    assert "seen.retention_days" in result.stderr
