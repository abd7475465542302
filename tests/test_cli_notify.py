"""`rempart notify …` and `rempart notices`: plan → show → approve → send → reply, as a
caseworker types them, against a real SMTP server on loopback."""

from __future__ import annotations

import email
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parent / "takedown"))

from smtp_process import RecordingSmtp

from findings_made import make_finding
from rempart.cli import app
from rempart.config import Settings
from rempart.evidence.custody import verify_chain
from rempart.evidence.ledger import chain_events
from rempart.intake.cases import case_info
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import FindingStatus

runner = CliRunner()

PLATFORMS = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
country = { value = "NL", source = "https://forum.example/imprint" }
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
"""


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
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingSmtp]:
    server = RecordingSmtp(tmp_path / "smtp")
    monkeypatch.setenv("REMPART_SMTP_URL", server.url)
    yield server
    server.close()


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env)


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = _run(*args, env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _confirmed(tmp_path: Path, seeds: tuple[int, ...] = (1, 2), **kwargs: object) -> Database:
    db = Database.open(Settings.from_env().database_url)
    for seed in seeds:
        made = make_finding(db, None, tmp_path, seed=seed, **kwargs)  # type: ignore[arg-type]
        decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    return db


def _plan(*args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in _ok("notify", "plan", "--json", *args).splitlines()]


def test_plan_drafts_one_notice_per_recipient_listing_every_copy_on_that_service(
    home: Path, tmp_path: Path
) -> None:
    db = _confirmed(tmp_path)
    planned = _plan()
    host = [n for n in planned if n["kind"] == "dsa"]
    assert len(host) == 1
    notice = host[0]
    assert notice["recipient"] == {
        "name": "Demo Forum",
        "role": "host",
        "channel": "email",
        "address": "abuse@forum.example",
        "platform": "demoforum",
    }
    assert notice["legal_basis"] == "226-2-1" and notice["status"] == "drafted"
    assert notice["urls"] == [
        "https://forum.example/case-a/1.jpg",
        "https://forum.example/case-a/2.jpg",
    ]
    assert notice["case"] == "case-a"
    kinds = sorted(n["kind"] for n in planned)
    assert kinds == ["delisting", "delisting", "dsa", "pharos"]
    assert _plan() == []  # nothing left uncovered
    actions = [e.action.value for e in chain_events(db, f"case:{case_info(db, 'case-a').id}")]
    assert "notice_draft" in actions
    assert verify_chain(chain_events(db, f"case:{case_info(db, 'case-a').id}")).ok


def test_plan_refuses_without_the_organisation_and_says_what_to_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _confirmed(tmp_path, seeds=(1,))
    monkeypatch.delenv("REMPART_ORGANISATION_EMAIL")
    result = _run("notify", "plan")
    assert result.exit_code == 2
    assert "organisation.email" in result.stderr and "rempart config" in result.stderr


def test_deepfake_ground_is_remembered_for_the_case(home: Path, tmp_path: Path) -> None:
    _confirmed(tmp_path, seeds=(1,))
    (notice, *_rest) = _plan("--case", "case-a", "--basis", "deepfake")
    assert notice["legal_basis"] == "226-8-1"
    _confirmed(tmp_path, seeds=(3,))
    later = _plan()
    assert {n["legal_basis"] for n in later} == {"226-8-1"}
    text = _ok("notify", "show", str(notice["notice"]), "--lang", "fr")
    assert "226-8-1" in text


def test_show_gives_the_text_and_each_dsa_element_and_never_the_victims_name(
    home: Path, tmp_path: Path
) -> None:
    _confirmed(tmp_path, seeds=(1,))
    notice = next(n for n in _plan() if n["kind"] == "dsa")
    text = _ok("notify", "show", str(notice["notice"]))
    for element in ("16(2)(a)", "16(2)(b)", "16(2)(c)", "16(2)(d)"):
        assert f"PASS {element}" in text
    assert "https://forum.example/case-a/1.jpg" in text
    assert "good faith" in text and "Asso Rempart" in text
    assert "case-a" in text  # the case's pseudonym is our reference; no name exists to leak
    french = _ok("notify", "show", str(notice["notice"]), env={"REMPART_LANG": "fr"})
    assert "Vérifications" in french and "OK 16(2)(c)" in french
    assert "forum.example est une plateforme connue : Demo Forum" in french
    assert "Checks" not in french and "PASS" not in french
    french_text = _ok("notify", "show", str(notice["notice"]), "--lang", "fr")
    assert "bonne foi" in french_text and "226-2-1" in french_text


def test_help_and_messages_are_french_with_rempart_lang_fr(home: Path, tmp_path: Path) -> None:
    french = {"REMPART_LANG": "fr"}
    help_text = _ok("notify", "--help", env=french)
    assert "Rien ne part sans l'approbation" in help_text and "Nothing leaves" not in help_text
    assert "Rédiger" in _ok("notify", "plan", "--help", env=french)
    assert "Aucune notification." in _ok("notices", env=french)
    missing = _run("notify", "show", "99", env=french)
    assert "aucune notification 99" in missing.stderr


def test_approve_is_logged_with_the_operator_and_a_missing_element_blocks_it(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _confirmed(tmp_path, seeds=(1,))
    notice = next(n for n in _plan() if n["kind"] == "dsa")
    approved = _ok("notify", "approve", str(notice["notice"]))
    assert "unfounded" in approved.lower()
    events = chain_events(db, f"case:{case_info(db, 'case-a').id}")
    approval = [e for e in events if e.action.value == "notice_approve"]
    assert approval and approval[0].actor == "alice"
    assert {"code": "16(2)(c)", "ok": True} in approval[0].detail["checks"]
    again = _run("notify", "approve", str(notice["notice"]))
    assert again.exit_code == 2


def test_send_delivers_each_approved_notice_once_with_its_message_id_and_digest(
    home: Path, tmp_path: Path, smtp: RecordingSmtp
) -> None:
    _confirmed(tmp_path)
    notice = next(n for n in _plan() if n["kind"] == "dsa")
    _ok("notify", "approve", str(notice["notice"]))
    result = _run("notify", "send", "--approved", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    (outcome,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert outcome["status"] == "sent"
    (raw,) = smtp.raw()
    message = email.message_from_bytes(raw)
    assert message["Message-ID"] == outcome["message_id"]
    assert message["To"] == "abuse@forum.example"
    body = message.get_payload(decode=True).decode()
    assert "https://forum.example/case-a/2.jpg" in body
    assert not message.is_multipart()  # no picture, ever
    listed = json.loads(_ok("notices", "--json").splitlines()[0])
    assert listed["message_sha256"] == outcome["message_sha256"]
    assert [h["status"] for h in listed["history"]] == ["drafted", "approved", "sent"]
    assert listed["due_at"] is not None
    # sending again never sends twice
    again = _run("notify", "send", str(notice["notice"]), "--json")
    assert json.loads(again.stdout)["status"] == "sent"
    assert len(smtp.raw()) == 1


def test_web_form_notice_is_pasted_and_its_ticket_recorded(home: Path, tmp_path: Path) -> None:
    _confirmed(tmp_path, seeds=(1,))
    pharos = next(n for n in _plan() if n["kind"] == "pharos")
    number = str(pharos["notice"])
    text = _ok("notify", "show", number)
    assert "URLs" in text and "https://forum.example/case-a/1.jpg" in text
    _ok("notify", "approve", number)
    _ok("notify", "submitted", number, "--reference", "PH-2026-001")
    _ok("notify", "reply", number, "--status", "acknowledged", "--note", "pris en charge")
    (listed,) = [
        json.loads(x) for x in _ok("notices", "--json", "--status", "acknowledged").splitlines()
    ]
    assert listed["reference"] == "PH-2026-001"
    assert [h["status"] for h in listed["history"]][-2:] == ["submitted", "acknowledged"]


def test_a_minors_case_gets_only_child_protection_notices_with_references_only(
    home: Path, tmp_path: Path
) -> None:
    _confirmed(tmp_path, seeds=(1,), case="case-m", minor=True)
    planned = _plan()
    assert planned and {n["kind"] for n in planned} == {"hotline"}
    assert {n["recipient"]["role"] for n in planned} == {"hotline"}
    assert all(n["references_only"] for n in planned)


def test_overdue_lists_sent_notices_past_their_due_date(
    home: Path, tmp_path: Path, smtp: RecordingSmtp
) -> None:
    db = _confirmed(tmp_path, seeds=(1,))
    notice = next(n for n in _plan() if n["kind"] == "dsa")
    _ok("notify", "approve", str(notice["notice"]))
    _ok("notify", "send", "--approved")
    assert _ok("notices", "--overdue", "--json") == ""
    from datetime import UTC, datetime

    from rempart.store.models import NoticeRow

    with db.session() as session:
        row = session.get(NoticeRow, notice["notice"])
        assert row is not None
        row.due_at = datetime(2020, 1, 1, tzinfo=UTC)
    (late,) = _ok("notices", "--overdue", "--json").splitlines()
    assert json.loads(late)["notice"] == notice["notice"]


def test_the_mail_servers_password_is_never_shown(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_SMTP_URL", "smtps://me:s3cret@mail.example:465")
    shown = _ok("config", "show") + _ok("config", "show", "--json")
    assert "s3cret" not in shown and "me:***@mail.example" in shown
    result = _run("notify", "send", "--approved")
    assert "s3cret" not in result.stdout + result.stderr


def test_a_sent_message_is_time_stamped_by_the_configured_authority(
    home: Path, tmp_path: Path, smtp: RecordingSmtp
) -> None:
    import hashlib

    from rempart.demo_site.tsa import DemoTimestampAuthority
    from rempart.evidence.authorities import write_authorities
    from rempart.evidence.timestamps import verify_timestamp

    db = _confirmed(tmp_path, seeds=(1,))
    notice = next(n for n in _plan() if n["kind"] == "dsa")
    _ok("notify", "approve", str(notice["notice"]))
    with DemoTimestampAuthority.start() as tsa:
        (home / "demo-root.pem").write_bytes(tsa.root_pem)
        write_authorities(home / "authorities.toml", [("demo", tsa.url, ["demo-root.pem"])])
        result = _run("notify", "send", "--approved", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["sealed"] is True
    listed = json.loads(_ok("notices", "--json").splitlines()[0])
    assert listed["notice"] == notice["notice"]
    (stamp,) = listed["seal"]
    assert stamp["authority"] == "demo"
    (raw,) = smtp.raw()
    from rempart.store.models import NoticeRow

    with db.session() as session:
        row = session.get(NoticeRow, notice["notice"])
        assert row is not None and row.message is not None
        kept = row.message
    assert hashlib.sha256(kept).hexdigest() == listed["message_sha256"]
    assert raw.replace(b"\r\n", b"\n") == kept.replace(b"\r\n", b"\n")  # exactly what arrived
    import base64

    from rempart.evidence.timestamps import Timestamp, load_certificates

    answer = Timestamp(
        "demo",
        tsa.url,
        base64.b64decode(stamp["request"]),
        base64.b64decode(stamp["token"]),
        tuple(base64.b64decode(c) for c in stamp["chain"]),
    )
    verdict = verify_timestamp(answer, kept, roots=load_certificates([tsa.root_pem]))
    assert verdict.valid, verdict.problems
    events = chain_events(db, f"case:{case_info(db, 'case-a').id}")
    assert [e.action.value for e in events][-2:] == ["notice_send", "seal"]


def test_approval_is_refused_while_a_required_element_is_missing(
    home: Path, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from rempart.store.models import NoticeItemRow

    db = _confirmed(tmp_path, seeds=(1,))
    notice = next(n for n in _plan() if n["kind"] == "dsa")
    with db.session() as session:
        session.execute(
            update(NoticeItemRow)
            .where(NoticeItemRow.notice_id == notice["notice"])
            .values(url="t.me/c/123/45")
        )
    assert "MISSING 16(2)(b)" in _ok("notify", "show", str(notice["notice"]))
    refused = _run("notify", "approve", str(notice["notice"]))
    assert refused.exit_code == 2 and "16(2)(b)" in refused.stderr
    french = _run("notify", "approve", str(notice["notice"]), env={"REMPART_LANG": "fr"})
    assert "ne peut pas être approuvée" in french.stderr and "l'URL exacte" in french.stderr
    listed = json.loads(_ok("notices", "--json").splitlines()[0])
    assert listed["status"] == "drafted" and listed["approved_by"] is None


def test_recheck_by_notice_checks_exactly_the_copies_that_notice_lists(
    home: Path, tmp_path: Path
) -> None:
    import socket

    from sqlalchemy import update

    from rempart.store.models import Finding, Sighting

    db = _confirmed(tmp_path, seeds=(1, 2, 3))
    host = next(n for n in _plan() if n["kind"] == "dsa")
    listed = [c["finding"] for c in host["copies"]]  # type: ignore[attr-defined]
    with socket.socket() as probe:  # a loopback port nobody listens on: no traffic leaves
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    moved = {}
    with db.session() as session:
        for finding in listed:
            sighting = session.get(Finding, finding).sighting_id  # type: ignore[union-attr]
            moved[finding] = f"http://127.0.0.1:{port}/{finding}.jpg"
            session.execute(
                update(Sighting)
                .where(Sighting.id == sighting)
                .values(media_url=moved[finding], page_url=None)
            )
    result = _run(
        "recheck", "--notice", str(host["notice"]), "--json", "--no-seal",
        "--allow-network", "127.0.0.1/32",
    )  # fmt: skip
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["url"] for r in rows} == set(moved.values())
    assert all(r["status"] == "unreachable" for r in rows)
    assert result.exit_code == 1  # some could not be checked: said, and tried again later
