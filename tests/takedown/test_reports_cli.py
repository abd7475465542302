"""`rempart report flagger|removals`: files written where asked, in the caseworker's language."""

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
    monkeypatch.delenv("REMPART_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def test_report_flagger_writes_csv_and_pdf_for_an_empty_year(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "flagger", "--year", "2026", "--to", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "notices: 0, items: 0" in result.output
    assert (tmp_path / "out" / "flagger-2026.csv").is_file()
    assert (tmp_path / "out" / "flagger-2026-en.pdf").is_file()


def test_report_removals_in_french(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "removals", "--to", str(tmp_path / "out")], env={"REMPART_LANG": "fr"}
    )
    assert result.exit_code == 0, result.output
    assert "Statistiques de retrait" in result.output
    assert "notifiés : 0, retirés : 0" in result.output
    assert "Written" not in result.output
    assert (tmp_path / "out" / "removals-fr.pdf").is_file()


def test_report_help_in_french(home: Path) -> None:
    result = runner.invoke(app, ["report", "flagger", "--help"], env={"REMPART_LANG": "fr"})
    assert result.exit_code == 0
    assert "signaleur de confiance" in result.output or "hébergeur" in result.output
