"""`rempart report flagger|removals`: files written where asked, in the caseworker's language;
the flagger report says how many notified copies point to AI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.jobs import reports
from rempart.takedown.reports import NotifiedCopy

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


def _notified(provider: str, copy: int, verdict: str | None) -> NotifiedCopy:
    sent = datetime(2026, 3, 1, tzinfo=UTC)
    return NotifiedCopy(
        notice=copy, kind="dsa", provider=provider, sent_at=sent, notice_status="sent",
        legal_basis="226-2-1", media="image", provenance=verdict, copy=copy,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        (
            "en",
            "Notified copies by origin: AI declared 1, AI suspected 1, edited 0, camera 1, "
            "no signal 1 (25% of those read), not read 1.",
        ),
        (
            "fr",
            "Copies notifiées par origine : IA déclarée 1, IA soupçonnée 1, retouchées 0, "
            "appareil photo 1, aucun signal 1 (25 % des copies lues), non lues 1.",
        ),
    ],
)
def test_report_flagger_says_how_many_notified_copies_point_to_ai(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, line: str
) -> None:
    copies = [
        _notified("Reddit", 1, "ai-declared"),
        _notified("Telegram", 1, "ai-declared"),  # the same copy, sent twice: counted once
        _notified("Reddit", 2, "ai-suspected"),
        _notified("Reddit", 3, "camera"),
        _notified("Reddit", 4, "no-signal"),
        _notified("Reddit", 5, None),
    ]
    monkeypatch.setattr(reports, "load_notified", lambda _db: copies)
    result = runner.invoke(
        app,
        ["report", "flagger", "--year", "2026", "--to", str(tmp_path / "out")],
        env={"REMPART_LANG": lang},
    )
    assert result.exit_code == 0, result.output
    assert line in " ".join(result.output.split())


def test_report_flagger_prints_no_origin_line_when_nothing_was_notified(
    home: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["report", "flagger", "--year", "2026", "--to", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "by origin" not in result.output
