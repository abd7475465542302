"""`rempart recheck`: what a caseworker types and reads back, on a real HTTP server on
loopback; JSON lines other tools rely on; exit 1 when an address could not be checked."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.config import Settings
from rempart.store.database import Database
from rempart.store.models import CaptureRow, Finding, FindingStatus, Sighting

sys.path.insert(0, str(Path(__file__).parent / "takedown"))
from recheck_site import Site, jpeg

from findings_made import make_finding

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("REMPART_CHROMIUM", str(tmp_path / "no-chromium"))
    return tmp_path / "home"


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site("127.0.0.1")
    yield server
    server.close()


def confirmed(home: Path, tmp_path: Path, seed: int, media_url: str) -> int:
    db = Database.open(Settings.from_env().database_url)
    try:
        made = make_finding(db, None, tmp_path, seed=seed)
        with db.session() as session:
            session.execute(
                update(Finding)
                .where(Finding.id == made.finding)
                .values(status=FindingStatus.CONFIRMED)
            )
            sighting = session.scalar(select(Finding.sighting_id).where(Finding.id == made.finding))
            session.execute(
                update(Sighting)
                .where(Sighting.id == sighting)
                .values(media_url=media_url, page_url=None)
            )
        return made.finding
    finally:
        db.dispose()


def run(*args: str, **env: str) -> Result:
    return runner.invoke(app, ["recheck", *args], env=env or None)


def test_json_lines_and_a_removal_recorded_even_without_sealing(
    home: Path, tmp_path: Path, site: Site
) -> None:
    online = confirmed(home, tmp_path, 1, site.route("/a.jpg", jpeg(1)))
    gone = confirmed(home, tmp_path, 2, site.route("/b.jpg", b"", status=404))
    result = run("--all", "--json", "--allow-network", "127.0.0.1/32")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = {row["finding"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert lines[online]["status"] == "online" and lines[online]["url"] == site.url("/a.jpg")
    assert lines[gone]["status"] == "removed" and lines[gone]["newly_removed"]
    assert all(row["checked_at"] for row in lines.values())
    # no signing key here: the capture of the removal is recorded as failed, with its reason
    assert lines[gone]["capture_status"] == "failed"
    assert "signing key" in lines[gone]["capture_error"]
    db = Database.open(Settings.from_env().database_url)
    with db.session() as session:
        assert session.scalar(select(CaptureRow.finding_id)) == gone
    db.dispose()
    # `rempart findings` shows each copy's last check
    listed = runner.invoke(app, ["findings", "--json"])
    checks = {
        row["finding"]: row["last_check"] for row in map(json.loads, listed.stdout.split("\n")[:-1])
    }
    assert checks == {online: "online", gone: "removed"}
    table = runner.invoke(app, ["findings"], env={"REMPART_LANG": "fr"}).stdout
    assert "retirée" in table and "en ligne" in table
    # --all no longer lists the removed copy
    again = run("--all", "--json", "--allow-network", "127.0.0.1/32")
    assert [json.loads(line)["finding"] for line in again.stdout.splitlines()] == [online]


def test_unreachable_exits_1_and_the_table_says_so_in_french(
    home: Path, tmp_path: Path, site: Site
) -> None:
    confirmed(home, tmp_path, 3, site.route("/busy.jpg", b"", status=503))
    result = run("--allow-network", "127.0.0.1/32", REMPART_LANG="fr")
    assert result.exit_code == 1
    assert "injoignable" in result.stdout and "unreachable" not in result.stdout
    assert "réessay" in result.stderr
    assert run("--due").stdout.strip() == "Nothing to re-check now."


def test_the_network_guard_refuses_loopback_unless_allowed(
    home: Path, tmp_path: Path, site: Site
) -> None:
    confirmed(home, tmp_path, 4, site.route("/c.jpg", jpeg(4)))
    result = run("--json")
    assert result.exit_code == 1
    (row,) = map(json.loads, result.stdout.splitlines())
    assert row["status"] == "unreachable" and "refused" in row["detail"]
    french = run("--all", REMPART_LANG="fr")
    assert "non vérifiée" in french.stdout and "refused" not in french.stdout


def test_bad_options_are_refused(home: Path) -> None:
    assert run("--all", "--due").exit_code == 2
    assert run("--intervals", "online=soon").exit_code == 2
    assert run("--allow-network", "not-a-net").exit_code == 2
    refused = run("--finding", "99")
    assert refused.exit_code == 2 and "not a confirmed copy" in refused.stderr
    missing = run("--notice", "1")
    assert missing.exit_code == 2 and "notice" in missing.stderr and "notices" in missing.stderr


def test_help_is_in_french(home: Path) -> None:
    result = run("--help", REMPART_LANG="fr")
    assert "Revérifie" in result.stdout and "Check each confirmed" not in result.stdout
