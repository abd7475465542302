"""The reports from a real store (SQLite and PostgreSQL): what is read out of notices, their
copies and re-checks, the files written, and that no personal data reaches any of them: every
CSV cell and every word of the PDFs comes from an allow-list."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from findings_made import make_finding
from rempart.i18n import Messages
from rempart.jobs.reports import load_notified, reuploads_by_provider
from rempart.store.database import Database
from rempart.store.models import NoticeItemRow, NoticeRow, RecheckSchedule
from rempart.takedown import report_files
from rempart.takedown.report_files import write_flagger, write_removals
from rempart.takedown.reports import OTHER_PROVIDER, flagger_report, removal_stats

SENT = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)
# What must never appear in a report: the case's pseudonym, the copies' addresses, the
# recipients' addresses, a private person found as a contact, the caseworker.
SECRETS = ("case-secret", "forum.example", "abuse@", "Jeanne Martin", "Camille Caseworker")


def notice(
    db: Database,
    finding: int,
    *,
    name: str,
    platform: str,
    hours: float | None,
    status: str = "sent",
    basis: str = "226-2-1",
    sent: datetime = SENT,
) -> None:
    with db.session() as session:
        row = NoticeRow(
            case_id=None,
            kind="dsa",
            recipient_key=f"dsa:{name}",
            recipient_name=name,
            recipient_role="host",
            recipient_channel="email",
            recipient_address="abuse@host.example",
            recipient_platform=platform,
            legal_basis=basis,
            language="en",
            status=status,
            created_at=sent,
            created_by="Camille Caseworker",
            approved_by="Camille Caseworker",
            sent_at=sent,
            due_at=sent + timedelta(hours=72),
            updated_at=sent,
        )
        session.add(row)
        session.flush()
        session.add(
            NoticeItemRow(
                notice_id=row.id,
                finding_id=finding,
                url=f"https://forum.example/case-secret/{finding}.jpg",
                sha256="0" * 64,
            )
        )
        if hours is not None:
            session.add(
                RecheckSchedule(
                    finding_id=finding,
                    status="removed",
                    last_checked_at=sent + timedelta(hours=hours),
                    next_check_at=sent + timedelta(days=30),
                    interval_s=86400,
                    last_online_at=sent,
                    removed_at=sent + timedelta(hours=hours),
                )
            )


def _say(db: Database, finding: int, verdict: str) -> None:
    """Store what the copy's bytes said, as a scan would (never a name or address)."""
    from sqlalchemy import select, update

    from rempart.store.models import Finding, Sighting

    with db.session() as session:
        sighting = session.scalar(select(Finding.sighting_id).where(Finding.id == finding))
        session.execute(
            update(Sighting)
            .where(Sighting.id == sighting)
            .values(provenance_verdict=verdict, provenance=json.dumps({"verdict": verdict}))
        )


@pytest.fixture
def filled(db: Database, tmp_path: Path) -> Database:
    made = [make_finding(db, None, tmp_path, case="case-secret", seed=s) for s in range(1, 6)]
    notice(db, made[0].finding, name="Reddit", platform="reddit", hours=5)
    notice(db, made[1].finding, name="Reddit", platform="reddit", hours=60, basis="226-8-1")
    notice(db, made[2].finding, name="Telegram", platform="telegram", hours=None)
    notice(db, made[3].finding, name="Jeanne Martin", platform="", hours=None, status="refused")
    for made_finding, verdict in zip(made, ("no-signal", "ai-declared", "no-signal"), strict=False):
        _say(db, made_finding.finding, verdict)
    notice(
        db,
        made[4].finding,
        name="Reddit",
        platform="reddit",
        hours=None,
        sent=LATER.replace(year=2025),
    )
    return db


def test_the_store_gives_one_notified_copy_per_listed_copy(filled: Database) -> None:
    copies = load_notified(filled)
    assert len(copies) == 5
    assert {c.provider for c in copies} == {"Reddit", "Telegram", OTHER_PROVIDER}
    removed = sorted(
        (c.removed_at - c.sent_at).total_seconds() / 3600 for c in copies if c.removed_at
    )
    assert removed == [5, 60]
    assert all(c.media == "image" and c.sent_at.tzinfo is not None for c in copies)
    verdicts = sorted((c.provenance or "") for c in copies)
    assert verdicts == ["", "", "ai-declared", "no-signal", "no-signal"]
    assert len({c.copy for c in copies}) == 5
    assert reuploads_by_provider(filled) == {}


def test_reuploads_count_under_their_own_notice_else_the_earlier_copys(
    db: Database, tmp_path: Path
) -> None:
    from rempart.store.models import FindingReupload

    made = [make_finding(db, None, tmp_path, case="case-secret", seed=s) for s in range(1, 5)]
    notice(db, made[0].finding, name="Reddit", platform="reddit", hours=5)
    notice(db, made[1].finding, name="Reddit", platform="reddit", hours=7)
    notice(db, made[3].finding, name="Telegram", platform="telegram", hours=None)
    with db.session() as session:
        for again, earlier in (
            (made[2].finding, made[0].finding),
            (made[3].finding, made[1].finding),
        ):
            session.add(
                FindingReupload(
                    finding_id=again, earlier_finding_id=earlier, why="removed", linked_at=LATER
                )
            )
    # the first came back with no notice of its own yet: counted where it was removed
    assert reuploads_by_provider(db) == {"Reddit": 1, "Telegram": 1}


def _allowed_words() -> set[str]:
    """Every word the reports may print: their labels in both languages (the PO file and the
    English message ids), the DSA vocabulary, the column names and the provider names."""
    locale = Path(report_files.__file__).parents[1] / "locale" / "fr"
    source = (locale / "reports.po").read_text(encoding="utf-8")
    source += (locale / "provenance.po").read_text(encoding="utf-8")  # the verdicts' names
    source += Path(report_files.__file__).read_text(encoding="utf-8")
    source += Path(report_files.__file__).with_name("reports.py").read_text(encoding="utf-8")
    return {w.lower() for w in re.findall(r"[^\W\d_]+", source)} | {"reddit", "telegram"}


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_reports_hold_no_personal_data(filled: Database, tmp_path: Path, lang: str) -> None:
    copies = load_notified(filled)
    t = Messages(lang)
    flagger = write_flagger(flagger_report(copies, year=2026, as_of=LATER), tmp_path / "f", t)
    removals = write_removals(
        removal_stats(copies, reuploads=reuploads_by_provider(filled)),
        tmp_path / "r",
        t,
        as_of=LATER,
    )
    allowed = _allowed_words()
    texts = []
    outputs = [p for p in (*flagger.paths, *removals.paths) if p.suffix in (".csv", ".pdf")]
    for path in outputs:
        if path.suffix == ".csv":
            texts.append(path.read_text(encoding="utf-8"))
        else:
            texts.append("\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages))
    assert any(p.suffix == ".png" for p in flagger.paths)
    assert any(p.suffix == ".png" for p in removals.paths)
    for text in texts:
        for secret in SECRETS:
            assert secret.lower() not in text.lower()
        assert not (_words(text) - allowed), _words(text) - allowed
    pdf = next(text for path, text in zip(outputs, texts, strict=True) if path.suffix == ".pdf")
    if lang == "fr":
        assert "Par hébergeur" in pdf and "By hosting provider" not in pdf
    else:
        assert "By hosting provider" in pdf
    rows = list(csv.DictReader((tmp_path / "f" / "flagger-2026.csv").open(encoding="utf-8")))
    assert {r["hosting_provider"] for r in rows} == {"Reddit", "Telegram", OTHER_PROVIDER}
    assert sum(int(r["items"]) for r in rows) == 4
    assert {r["content_type"] for r in rows} >= {"CONTENT_TYPE_SYNTHETIC_MEDIA"}
    origin = list(
        csv.DictReader((tmp_path / "f" / "flagger-2026-provenance.csv").open(encoding="utf-8"))
    )
    assert [r["hosting_provider"] for r in origin][-1] == "ALL"
    assert {r["hosting_provider"]: r["ai_declared"] for r in origin}["Reddit"] == "1"
    assert origin[-1]["copies"] == "4" and origin[-1]["no_signal_share"] == "0.6667"
    assert ("Origine des copies notifiées" if lang == "fr" else "Origin of the notified") in pdf


def test_an_empty_year_writes_empty_tables_and_a_pdf_that_says_so(
    db: Database, tmp_path: Path
) -> None:
    copies = load_notified(db)
    assert copies == []
    written = write_flagger(
        flagger_report(copies, year=2031, as_of=LATER), tmp_path, Messages("fr")
    )
    assert not any(p.suffix == ".png" for p in written.paths)
    assert (tmp_path / "flagger-2031.csv").read_text().splitlines() == [
        ",".join(report_files.FLAGGER_COLUMNS)
    ]
    pdf = pypdf.PdfReader(tmp_path / "flagger-2031-fr.pdf")
    assert "2031" in pdf.pages[0].extract_text()
    stats = write_removals(
        removal_stats(copies, reuploads=None), tmp_path, Messages("en"), as_of=LATER
    )
    assert [p.suffix for p in stats.paths] == [".csv", ".pdf"]
