"""The police and Pharos export: confirmed copies by provenance verdict per site and period,
each copy once, with no personal data: no case, no source name, no path, no subdomain, no
caseworker, no date finer than the period; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from findings_made import make_finding
from rempart.cli import app
from rempart.jobs.reports import load_seen_copies
from rempart.store.database import Database
from rempart.store.models import Finding, FindingStatus, Sighting
from rempart.takedown import provenance_export as export_module
from rempart.takedown.provenance_export import (
    ALL,
    EXPORT_COLUMNS,
    SeenCopy,
    provenance_export,
    site_of,
    write_provenance_export,
)

NOVEMBER = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
# Never in the export: the case, the source's name, a path, a subdomain naming a person, the
# caseworker, the exact day.
SECRETS = ("case-secret", "jeanne-dupont", "thread-", ".jpg", "Camille", "2026-11-24", "forum.")


def test_a_site_is_its_registrable_domain_an_address_or_the_kind_of_source() -> None:
    assert site_of("https://jeanne-dupont.blogspot.com/p/1", None, "web") == "blogspot.com"
    assert site_of(None, "https://cdn.img.example.co.uk/a.jpg", "web") == "example.co.uk"
    assert site_of("http://198.51.100.7:8080/x", None, "web") == "198.51.100.7"
    assert site_of("https://a.b.forum.example/t/1", None, "web") == "forum.example"
    assert site_of(None, "chats/chat_01/photo.jpg", "telegram") == "(telegram)"
    assert site_of("http://[::1", None, "warc") == "(warc)"  # a URL that does not parse


def test_copies_are_counted_per_site_and_month_with_totals_and_the_dates_bound_them() -> None:
    copies = [
        SeenCopy("leaks.example", NOVEMBER, "ai-declared"),
        SeenCopy("leaks.example", NOVEMBER, "no-signal"),
        SeenCopy("mirror.example", NOVEMBER, None),
        SeenCopy("leaks.example", DECEMBER, "ai-suspected"),
    ]
    export = provenance_export(copies)
    assert [(s, p, c.total) for s, p, c in export.rows] == [
        ("leaks.example", "2026-11", 2),
        ("mirror.example", "2026-11", 1),
        ("leaks.example", "2026-12", 1),
    ]
    assert [(p, c.total) for p, c in export.by_period] == [("2026-11", 3), ("2026-12", 1)]
    assert (export.total.ai, export.total.no_signal, export.total.not_read) == (2, 1, 1)
    assert export.total.no_signal_share == 1 / 3
    yearly = provenance_export(copies, period="year")
    assert [(s, p, c.total) for s, p, c in yearly.rows] == [
        ("leaks.example", "2026", 3),
        ("mirror.example", "2026", 1),
    ]
    december = provenance_export(copies, since=date(2026, 12, 1), until=date(2026, 12, 2))
    assert december.total.total == 1
    assert provenance_export(copies, until=date(2026, 11, 24)).total.total == 3
    with pytest.raises(ValueError, match="month or year"):
        provenance_export(copies, period="week")


def _copy(
    db: Database,
    tmp_path: Path,
    seed: int,
    *,
    page: str,
    seen: datetime,
    verdict: str | None,
    status: FindingStatus = FindingStatus.CONFIRMED,
) -> int:
    made = make_finding(db, None, tmp_path, case="case-secret", seed=seed)
    with db.session() as session:
        sighting = session.scalar(select(Finding.sighting_id).where(Finding.id == made.finding))
        session.execute(
            update(Sighting)
            .where(Sighting.id == sighting)
            .values(
                page_url=page,
                media_url=page + f"/{seed}.jpg",
                first_seen_at=seen,
                provenance_verdict=verdict,
                provenance=json.dumps({"verdict": verdict}) if verdict else None,
            )
        )
        session.execute(
            update(Finding)
            .where(Finding.id == made.finding)
            .values(status=status, reviewed_by="Camille Caseworker")
        )
    return made.finding


@pytest.fixture
def filled(db: Database, tmp_path: Path) -> Database:
    blog = "https://jeanne-dupont.blogspot.com/case-secret/thread-1"
    forum = "https://www.forum.leaks.example/case-secret/thread-2"
    _copy(db, tmp_path, 1, page=blog, seen=NOVEMBER, verdict="ai-declared")
    _copy(db, tmp_path, 2, page=forum, seen=NOVEMBER, verdict="no-signal")
    _copy(db, tmp_path, 3, page=forum, seen=DECEMBER, verdict=None)
    pending, rejected = FindingStatus.PENDING, FindingStatus.REJECTED
    _copy(db, tmp_path, 4, page=forum, seen=DECEMBER, verdict="camera", status=pending)
    _copy(db, tmp_path, 5, page=blog, seen=DECEMBER, verdict="edited", status=rejected)
    return db


def test_the_store_gives_each_confirmed_copy_once_with_its_site_and_verdict(
    filled: Database,
) -> None:
    copies = load_seen_copies(filled)
    assert sorted((c.site, c.provenance or "") for c in copies) == [
        ("blogspot.com", "ai-declared"),
        ("leaks.example", ""),
        ("leaks.example", "no-signal"),
    ]


def _allowed_words() -> set[str]:
    source = Path(export_module.__file__).read_text(encoding="utf-8")
    sites_and_json = {"blogspot", "com", "leaks", "example", "null", "t"}
    return {w.lower() for w in re.findall(r"[^\W\d_]+", source)} | sites_and_json


def test_the_export_holds_no_personal_data(filled: Database, tmp_path: Path) -> None:
    export = provenance_export(load_seen_copies(filled))
    paths = write_provenance_export(export, tmp_path / "out", generated_at=DECEMBER)
    assert [p.name for p in paths] == ["provenance-by-site.csv", "provenance-by-site.json"]
    allowed = _allowed_words()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (path.name, secret)
        words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
        assert not (words - allowed), words - allowed
    rows = list(csv.DictReader(paths[0].open(encoding="utf-8")))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert (rows[-1]["site"], rows[-1]["period"], rows[-1]["copies"]) == (ALL, ALL, "3")
    assert rows[-1]["ai_declared"] == "1" and rows[-1]["not_read"] == "1"
    assert rows[-1]["no_signal_share"] == "0.5000"
    data = json.loads(paths[1].read_text(encoding="utf-8"))
    assert data["total"]["no_signal_share"] == 0.5 and data["period"] == "month"
    assert {r["site"] for r in data["rows"]} == {"blogspot.com", "leaks.example"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_LANG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def test_report_provenance_writes_both_files_and_refuses_bad_dates(
    home: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", "provenance", "--to", str(out), "--from", "2026-13-01"])
    assert result.exit_code == 2 and "2026-13-01" in result.stderr
    args = ["--from", "2026-12-01", "--until", "2026-11-01"]
    result = runner.invoke(app, ["report", "provenance", "--to", str(out), *args])
    assert result.exit_code == 2 and "--from must not be after --until" in result.stderr
    result = runner.invoke(
        app, ["report", "provenance", "--to", str(out), "--period", "year"], env={"LANG": "C"}
    )
    assert result.exit_code == 0, result.output
    assert "no signal: 0 of 0" in result.output
    assert (out / "provenance-by-site.csv").read_text().splitlines() == [
        ",".join(EXPORT_COLUMNS),
        "ALL,ALL,0,0,0,0,0,0,0,",
    ]
