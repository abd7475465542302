"""Tracking until gone, as a caseworker types it: a sent notice whose due date lapses is listed
overdue and marked "no answer", its next step is drafted citing it, re-checks proving the copy
gone mark it removed with its time to removal, and a copy uploaded again is linked and cited.
Time comes from an injected clock: nothing waits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parent))

from smtp_process import RecordingSmtp

from findings_made import make_finding
from rempart.cli import app
from rempart.config import Settings
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import Finding, FindingStatus, RecheckSchedule, Sighting, UrlCheck

runner = CliRunner()
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

PLATFORMS = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
country = { value = "NL", source = "https://forum.example/imprint" }
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
response_time = { value = "24h", source = "https://forum.example/contact" }
"""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr("rempart.cli.notify._clock", fixed)
    return fixed


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "platforms.toml").write_text(PLATFORMS)
    monkeypatch.setenv("REMPART_HOME", str(home))
    monkeypatch.setenv("REMPART_OPERATOR", "alice")
    monkeypatch.setenv("REMPART_ORGANISATION", "Asso Rempart")
    monkeypatch.setenv("REMPART_ORGANISATION_EMAIL", "contact@asso.example")
    monkeypatch.setenv("REMPART_SMTP_FROM", "notices@asso.example")
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_LANG", raising=False)
    monkeypatch.delenv("REMPART_DSA_TARGET", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingSmtp]:
    server = RecordingSmtp(tmp_path / "smtp")
    monkeypatch.setenv("REMPART_SMTP_URL", server.url)
    yield server
    server.close()


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    result: Result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _lines(*args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in _ok(*args).splitlines()]


def _confirmed(tmp_path: Path) -> tuple[Database, int]:
    db = Database.open(Settings.from_env().database_url)
    made = make_finding(db, None, tmp_path, seed=1)
    decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    return db, made.finding


def _checked(db: Database, finding: int, status: str, at: datetime) -> None:
    """What a re-check records (rempart.jobs.recheck), written directly."""
    with db.session() as session:
        schedule = session.get(RecheckSchedule, finding)
        if schedule is None:
            schedule = RecheckSchedule(finding_id=finding)
            session.add(schedule)
        schedule.status, schedule.last_checked_at = status, at
        schedule.next_check_at, schedule.interval_s = at + timedelta(hours=6), 21600
        if status == "removed":
            schedule.removed_at = at
        else:
            schedule.last_online_at = at
        session.add(
            UrlCheck(
                finding_id=finding,
                target="media",
                url="https://forum.example/case-a/1.jpg",
                checked_at=at,
                status=status,
            )
        )


def _sent_dsa_notice(tmp_path: Path, clock: Clock) -> tuple[Database, int, dict[str, object]]:
    db, finding = _confirmed(tmp_path)
    notice = next(n for n in _lines("notify", "plan", "--json") if n["kind"] == "dsa")
    assert notice["provenance"]["deadline_s"] == 24 * 3600  # type: ignore[index]
    _ok("notify", "approve", str(notice["notice"]))
    (sent,) = _lines("notify", "send", "--approved", "--json")
    assert sent["status"] == "sent"
    return db, finding, sent


def test_a_sent_notice_past_its_platforms_deadline_is_overdue_and_marked_no_answer(
    home: Path, tmp_path: Path, smtp: RecordingSmtp, clock: Clock
) -> None:
    _db, _finding, sent = _sent_dsa_notice(tmp_path, clock)
    (listed,) = _lines("notices", "--status", "sent", "--json")
    assert listed["due_at"] == (T0 + timedelta(hours=24)).isoformat()  # shorter than 72 h
    clock.now = T0 + timedelta(hours=23)
    assert _lines("notices", "--overdue", "--json") == []
    clock.now = T0 + timedelta(hours=25)
    (overdue,) = _lines("notices", "--overdue", "--json")
    assert overdue["notice"] == sent["notice"] and overdue["status"] == "no-answer"
    assert [h["status"] for h in overdue["history"]][-1] == "no-answer"
    french = _ok("notices", "--overdue", env={"REMPART_LANG": "fr"})
    assert "sans réponse" in french and "no answer" not in french


def test_a_lapsed_notice_with_the_copy_online_is_escalated_once_citing_it(
    home: Path, tmp_path: Path, smtp: RecordingSmtp, clock: Clock
) -> None:
    db, finding, sent = _sent_dsa_notice(tmp_path, clock)
    clock.now = T0 + timedelta(hours=30)
    assert "Nothing to escalate" in _ok("notify", "escalate")  # never re-checked: not proven
    assert "Rien à faire remonter" in _ok("notify", "escalate", env={"REMPART_LANG": "fr"})
    _checked(db, finding, "online", T0 + timedelta(hours=29))
    (drafted,) = _lines("notify", "escalate", "--json")
    # the chain of a known platform holds the host and the search engines (already notified):
    # next comes the regulator
    assert drafted["kind"] == "complaint" and drafted["status"] == "drafted"
    assert drafted["recipient"]["name"] == "Arcom"  # type: ignore[index]
    assert drafted["urls"] == ["https://forum.example/case-a/1.jpg"]
    (cited,) = drafted["provenance"]["earlier"]  # type: ignore[index]
    assert f"n° {sent['notice']}" in cited and str(sent["message_id"]) in cited
    assert "abuse@forum.example" in cited
    assert _lines("notify", "escalate", "--json") == []  # once
    text = _ok("notify", "show", str(drafted["notice"]), "--lang", "fr")
    assert "article 53" in text and str(sent["message_id"]) in text
    french = _ok("notify", "show", str(drafted["notice"]), env={"REMPART_LANG": "fr"})
    assert "plainte au régulateur" in french and "Arcom est la suite de la chaîne" in french
    listed = {n["notice"]: n for n in _lines("notices", "--json")}
    assert listed[sent["notice"]]["tracking"]["escalated_to"] == [drafted["notice"]]  # type: ignore[index]
    assert listed[drafted["notice"]]["tracking"]["escalates"] == sent["notice"]  # type: ignore[index]


def test_recheck_proving_the_copy_gone_marks_the_notice_removed_with_time_to_removal(
    home: Path, tmp_path: Path, smtp: RecordingSmtp, clock: Clock
) -> None:
    db, finding, sent = _sent_dsa_notice(tmp_path, clock)
    _checked(db, finding, "removed", T0 + timedelta(hours=20))
    clock.now = T0 + timedelta(hours=21)
    listed = {n["notice"]: n for n in _lines("notices", "--json")}
    notice = listed[sent["notice"]]
    assert notice["status"] == "removed"
    assert notice["history"][-1]["actor"] == "rempart"  # type: ignore[index]
    assert "check" in notice["history"][-1]["note"]  # type: ignore[index]
    assert notice["tracking"]["time_to_removal_s"] == 20 * 3600  # type: ignore[index]
    (copy,) = _lines("findings", "--json")
    assert copy["takedown"]["state"] == "removed"  # type: ignore[index]
    history = copy["takedown"]["history"]  # type: ignore[index]
    ours = [h for h in history if h.get("notice") == sent["notice"] or "check" in h]
    assert [h["status"] for h in ours] == ["drafted", "approved", "sent", "removed", "removed"]
    assert "check" in ours[3] and ours[4]["notice"] == sent["notice"]  # the check, then the notice
    assert {h["notice"] for h in history if "notice" in h} > {sent["notice"]}  # delisting, Pharos
    clock.now = T0 + timedelta(days=5)
    assert _lines("notify", "escalate", "--json") == []  # gone: nothing to escalate


def test_a_copy_found_again_is_linked_counted_and_cited_in_its_notice(
    home: Path, tmp_path: Path, smtp: RecordingSmtp, clock: Clock
) -> None:
    db, finding, sent = _sent_dsa_notice(tmp_path, clock)
    _checked(db, finding, "removed", T0 + timedelta(hours=20))
    with db.session() as session:
        first = session.get(Finding, finding)
        assert first is not None
        old = session.get(Sighting, first.sighting_id)
        assert old is not None
        again = Sighting(
            source_id=old.source_id,
            key_sha="0" * 64,
            key="https://forum.example/case-a/again.jpg",
            media_url="https://forum.example/case-a/again.jpg",
            page_url="https://forum.example/case-a/thread-again",
            first_seen_at=T0 + timedelta(days=3),
            last_seen_at=T0 + timedelta(days=3),
            media="image",
            sha256=old.sha256,
            md5=old.md5,
            context="{}",
        )
        session.add(again)
        session.flush()
        reupload = Finding(
            sighting_id=again.id,
            item_id=first.item_id,
            bank=first.bank,
            method="sha256",
            distance=0,
            threshold=0,
            found_at=T0 + timedelta(days=3),
        )
        session.add(reupload)
        session.flush()
        new_id = reupload.id
    decide(db, new_id, FindingStatus.CONFIRMED, actor="alice")
    clock.now = T0 + timedelta(days=3)
    found = {f["finding"]: f for f in _lines("findings", "--json")}
    assert found[new_id]["reupload_of"] == finding and found[finding]["reupload_of"] is None
    notice = next(n for n in _lines("notify", "plan", "--json") if n["kind"] == "dsa")
    assert notice["urls"] == ["https://forum.example/case-a/again.jpg"]
    text = _ok("notify", "show", str(notice["notice"]))
    assert "Known identical copies" in text and "https://forum.example/case-a/1.jpg" in text
    assert str(sent["message_id"]) in text
    shown = _ok("notices")
    assert "re-uploaded copy" in shown


def test_the_complaint_dossier_lists_each_notice_with_its_history_and_time_to_removal(
    home: Path, tmp_path: Path, smtp: RecordingSmtp, clock: Clock
) -> None:
    from rempart.evidence.dossier_pdf import render_pdf
    from rempart.evidence.vault import Vault
    from rempart.jobs.dossier import build_dossier

    db, finding, sent = _sent_dsa_notice(tmp_path, clock)
    _checked(db, finding, "removed", T0 + timedelta(hours=20))
    clock.now = T0 + timedelta(hours=21)
    _ok("notices")  # the removal is recorded
    settings = Settings.from_env()
    vault = Vault.open(home)
    (english, french), _bundles = build_dossier(
        db, vault, "case-a", languages=("en", "fr"), identity=settings.identity
    )
    (copy,) = [f for f in english.findings if f.id == finding]
    (notice,) = copy.notices
    assert notice.number == sent["notice"] and notice.kind == "dsa"
    assert notice.message_id == sent["message_id"] and notice.status == "removed"
    assert notice.time_to_removal == timedelta(hours=20)
    assert [s for s, _at in notice.history] == ["drafted", "approved", "sent", "removed"]
    assert copy.removed_at == T0 + timedelta(hours=20)
    kinds = [e.kind.value for e in english.events if e.finding_id == finding]
    assert "notice" in kinds and "removed" in kinds
    assert render_pdf(french)[:4] == b"%PDF"


def test_one_watch_iteration_rechecks_the_copies_due_and_records_the_removal(
    home: Path, tmp_path: Path, smtp: RecordingSmtp, clock: Clock
) -> None:
    from contextlib import ExitStack

    from rempart.cli.watch import _followup_tasks

    db, _finding, sent = _sent_dsa_notice(tmp_path, clock)
    later = T0 + timedelta(hours=30)
    with ExitStack() as stack:
        outcomes = _followup_tasks(db, stack, clock=lambda: later).run_due()
    # the host name no longer exists (tests resolve only localhost): the copy is gone
    assert [(o.name, o.error) for o in outcomes] == [
        ("recheck", None),
        ("escalate", None),
        ("anchor", None),  # the custody chains that moved are anchored outside the database
    ]
    assert outcomes[0].count >= 1 and outcomes[1].count == 0
    listed = {n["notice"]: n for n in _lines("notices", "--json")}
    assert listed[sent["notice"]]["status"] == "removed"
    assert listed[sent["notice"]]["tracking"]["time_to_removal_s"] == 30 * 3600  # type: ignore[index]
