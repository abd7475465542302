"""Bad input to the evidence commands: a clear message, the right exit status, and nothing
half-written or overwritten."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.config import Settings
from rempart.evidence.vault import Vault
from rempart.store.database import Database
from rempart.store.models import CaptureRow

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REMPART_OPERATOR", "camille")
    monkeypatch.setenv("REMPART_ORGANISATION", "Association Exemple")  # dossiers name it
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_TSA_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40])
def test_verifying_garbage_reports_fail_and_exits_1(
    home: Path, tmp_path: Path, content: bytes
) -> None:
    bundle = tmp_path / "bad.wacz"
    bundle.write_bytes(content)
    result = _run("verify", str(bundle), "--json")
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["verdict"] == "fail"


def test_verifying_a_missing_file_says_so(home: Path, tmp_path: Path) -> None:
    result = _run("verify", str(tmp_path / "nope.wacz"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_a_malformed_authorities_file_is_named_in_the_error(home: Path) -> None:
    assert _run("keys", "init").exit_code == 0
    (home / "authorities.toml").write_text("[[authority]]\nname = 3\n")
    result = _run("capture", "https://example.org/")
    assert result.exit_code == 2 and "authorities.toml" in result.stderr
    assert "`name` and `url`" in result.stderr


def test_capture_without_an_authority_says_how_to_configure_one(home: Path) -> None:
    assert _run("keys", "init").exit_code == 0
    result = _run("capture", "https://example.org/")
    assert result.exit_code == 2 and "no time-stamping authority" in result.stderr


def test_exporting_onto_an_existing_file_refuses_and_leaves_it_alone(
    home: Path, tmp_path: Path
) -> None:
    settings = Settings.from_env()
    db = Database.open(settings.database_url)
    data = b"a sealed bundle, for this test"
    Vault.open(settings.home).put("bundles/no-case/capture-1.wacz", data)
    with db.session() as session:
        session.add(
            CaptureRow(
                url="https://example.org/",
                status="sealed",
                operator="camille",
                started_at=datetime(2026, 11, 24, tzinfo=UTC),
                bundle="bundles/no-case/capture-1.wacz",
                bundle_sha256=hashlib.sha256(data).hexdigest(),
                bundle_size=len(data),
            )
        )
    existing = tmp_path / "capture-1.wacz"
    existing.write_bytes(b"mine")
    result = _run("evidence", "export", "1", "--to", str(tmp_path))
    assert result.exit_code == 2 and "exists already" in result.stderr
    assert existing.read_bytes() == b"mine"
    assert not list(tmp_path.glob(".*.part"))
    fresh = tmp_path / "out"
    fresh.mkdir()
    assert _run("evidence", "export", "1", "--to", str(fresh)).exit_code == 0
    assert (fresh / "capture-1.wacz").read_bytes() == data
    assert not list(fresh.glob(".*"))


def test_a_dossier_is_never_written_over_an_existing_one(home: Path, tmp_path: Path) -> None:
    assert _run("case", "create", "case-a").exit_code == 0
    assert _run("dossier", "case-a", "--to", str(tmp_path), "--lang", "en").exit_code == 0
    written = sorted(p.name for p in (tmp_path / "dossier-case-a").iterdir())
    assert written == ["SHA256SUMS", "bundles", "dossier-case-a-en.pdf"]
    result = _run("dossier", "case-a", "--to", str(tmp_path))
    assert result.exit_code == 2 and "exists already" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    result = _run("dossier", "nope", "--to", str(tmp_path))
    assert result.exit_code == 2 and "no case named" in result.stderr


def test_a_failed_capture_has_its_own_status_and_problem_column_not_the_digest_one(
    home: Path,
) -> None:
    db = Database.open(Settings.from_env().database_url)
    with db.session() as session:
        session.add(
            CaptureRow(
                url="http://127.0.0.1:8401/forum/thread/12",
                status="failed",
                operator="camille",
                started_at=datetime.now(UTC),
                error="port 8401 not allowed",
            )
        )
    listed = _run("evidence", "list")
    header = listed.stdout.splitlines()[1]
    assert "status" in header and "problem" in header
    (row,) = [line for line in listed.stdout.splitlines() if "8401" in line]
    cells = [cell.strip() for cell in row.split("│")]
    assert cells[5] == "failed" and cells[6] == "" and "port 8401 not allowed" in cells[7]
    french = runner.invoke(app, ["evidence", "list"], env={"REMPART_LANG": "fr"}).stdout
    assert "problème" in french and "échoué" in french


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("port 8401 not allowed", "--allow-network"),
        ("refused: private address 10.0.0.1", "--allow-network"),
        ("source channel no longer holds 1/2/photo.jpg", "rempart source list"),
        ("the page did not load within 30 s", "rempart capture --confirmed"),
    ],
)
def test_a_failed_capture_says_what_to_do(error: str, advice: str) -> None:
    from rempart.cli.evidence import _what_to_do

    assert advice in _what_to_do(error)
