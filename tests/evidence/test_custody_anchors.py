"""Custody anchors outside the database: someone holding the database file drops its
triggers, deletes an export event, changes a capture's actor, recomputes the chain and
captures again. The new bundle verifies on its own, but `rempart custody verify` compares the
database with every anchor and sealed bundle and names the first event that was altered.
No browser, no internet: copies found in a folder, a demo time-stamping authority on
127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.config import Settings
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.anchors import parse_anchors
from rempart.evidence.authorities import write_authorities
from rempart.evidence.custody import CustodyAction, append
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info
from rempart.jobs.custody import anchor_file
from rempart.samples import web_jpeg
from rempart.store.database import Database

runner = CliRunner()
CASE = "case-a"


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_tsa: DemoTimestampAuthority
) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in ("REMPART_DATABASE_URL", "REMPART_TSA_CONFIG", "REMPART_KEY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REMPART_HOME", str(home))
    monkeypatch.setenv("REMPART_OPERATOR", "camille")
    monkeypatch.setenv("COLUMNS", "200")
    (home / "demo-root.pem").write_bytes(local_tsa.root_pem)
    write_authorities(home / "authorities.toml", [("demo-tsa", local_tsa.url, ["demo-root.pem"])])
    return home


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _case_with_two_copies(tmp_path: Path) -> tuple[Database, list[int]]:
    """A case whose picture was found twice in a folder; both copies confirmed, none sealed."""
    from PIL import Image

    picture = web_jpeg(11, 320, 240)
    _ok("case", "create", CASE)
    _ok("bank", "create", "a-images", "--case", CASE)
    device = tmp_path / "device"
    device.mkdir()
    (device / "photo.jpg").write_bytes(picture)
    _ok("bank", "add", "a-images", str(device))
    folder = tmp_path / "seized"
    folder.mkdir()
    for name, quality in (("one.jpg", 90), ("two.jpg", 80)):
        import io

        out = io.BytesIO()
        Image.open(io.BytesIO(picture)).convert("RGB").save(out, "JPEG", quality=quality)
        (folder / name).write_bytes(out.getvalue())
    _ok("source", "add", "seized", "files", "--path", str(folder))
    _ok("scan", "--all")
    lines = _ok("review", "list", "--case", CASE, "--json").splitlines()
    findings = sorted(int(json.loads(line)["finding"]) for line in lines)
    assert len(findings) == 2
    for finding in findings:
        _ok("review", "confirm", str(finding), "--no-capture")
    return Database.open(Settings.from_env().database_url), findings


def _rewrite_history(database: Path, chain: str, *, actor: str) -> int:
    """What the attacker did with the database file: drop the triggers, delete the export
    event, give the first capture another actor and recompute every digest after it.
    Returns the number of the altered capture event."""
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("DROP TRIGGER custody_events_no_update")
        connection.execute("DROP TRIGGER custody_events_no_delete")
        rows = connection.execute(
            "SELECT id, seq, action FROM custody_events WHERE chain = ? ORDER BY seq", (chain,)
        ).fetchall()
        (export_id,) = [row_id for row_id, _seq, action in rows if action == "export"]
        connection.execute("DELETE FROM custody_events WHERE id = ?", (export_id,))
        capture_seq = min(seq for _id, seq, action in rows if action == "capture")
        connection.execute(
            "UPDATE custody_events SET actor = ? WHERE chain = ? AND seq = ?",
            (actor, chain, capture_seq),
        )
    connection.close()
    db = Database.open(f"sqlite:///{database}")
    events = chain_events(db, chain)  # stale digests: rebuilt below, as the attacker did
    connection = sqlite3.connect(database)
    with connection:
        tail = None
        for event in events:
            tail = append(
                tail,
                at=event.at,
                actor=event.actor,
                action=event.action,
                subject=event.subject,
                detail=event.detail,
            )
            connection.execute(
                "UPDATE custody_events SET seq = ?, prev = ?, digest = ? "
                "WHERE chain = ? AND seq = ?",
                (tail.seq, tail.prev, tail.digest, chain, event.seq),
            )
    connection.close()
    return capture_seq


def test_a_rewritten_custody_log_is_caught_by_custody_verify_even_if_new_bundles_pass(
    home: Path, tmp_path: Path
) -> None:
    db, (first, second) = _case_with_two_copies(tmp_path)
    _ok("keys", "init")
    sealed = json.loads(_ok("capture", "--finding", str(first), "--json"))
    assert sealed["status"] == "sealed"
    exports = tmp_path / "exports"
    exports.mkdir()
    _ok("evidence", "export", str(sealed["capture"]), "--to", str(exports))
    chain = f"case:{case_info(db, CASE).id}"
    vault = Vault.open(home)
    anchors = parse_anchors(anchor_file(vault, chain).read_bytes())
    assert anchors and anchors[-1].reason in ("review", "export")
    assert anchors[-1].head == chain_events(db, chain)[-1].digest  # the export is anchored
    lawyer = tmp_path / "lawyer-anchors.jsonl"
    _ok("custody", "anchor", CASE, "--export", str(lawyer))
    assert _ok("custody", "verify", CASE, "--from", str(exports)).startswith("[OK]")

    altered = _rewrite_history(home / "rempart.db", chain, actor="mallory")
    assert [e.action for e in chain_events(db, chain)].count(CustodyAction.EXPORT) == 0
    # The attacker captures again: the new bundle carries the rewritten log.
    again = json.loads(_ok("capture", "--finding", str(second), "--json"))
    assert again["status"] == "sealed"
    fresh = tmp_path / "fresh.wacz"
    _ok("evidence", "export", str(again["capture"]), "--to", str(fresh))
    alone = json.loads(_run("verify", str(fresh), "--json").stdout)
    assert alone["verdict"] == "pass"  # the new bundle alone cannot tell

    result = _run("custody", "verify", CASE, "--from", str(exports), "--json")
    assert result.exit_code == 1
    (report,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert not report["ok"] and report["first_disagreement"]["seq"] == altered
    assert report["first_disagreement"]["fields"] == ["actor"]
    text = _run("custody", "verify", CASE)
    assert text.exit_code == 1
    assert f"the first event that disagrees is event {altered}" in text.stdout
    assert "it was edited" in text.stderr

    # Even with the vault's anchor files gone, the lawyer's copy alone names the event.
    for path in (vault.folder / "anchors").iterdir():
        path.unlink()
    for name in list(vault.names()):
        vault.delete(name)
    result = _run("custody", "verify", CASE, "--from", str(lawyer), "--json")
    (report,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1 and report["first_disagreement"]["seq"] == altered
    french = runner.invoke(app, ["custody", "verify", CASE, "--from", str(lawyer)],
                           env={"REMPART_LANG": "fr"})  # fmt: skip
    assert french.exit_code == 1 and "premier événement en désaccord" in french.stdout


def test_an_edited_anchor_file_is_reported_not_trusted(home: Path, tmp_path: Path) -> None:
    db, _findings = _case_with_two_copies(tmp_path)
    _ok("keys", "init")
    _ok("custody", "anchor", CASE)
    chain = f"case:{case_info(db, CASE).id}"
    path = anchor_file(Vault.open(home), chain)
    line = json.loads(path.read_bytes().splitlines()[-1])
    line["reason"] = "manual" if line["reason"] != "manual" else "interval"
    from rempart.evidence.custody import canonical_json

    path.write_bytes(canonical_json(line) + b"\n")
    result = _run("custody", "verify", CASE, "--json")
    (report,) = [json.loads(row) for row in result.stdout.splitlines()]
    assert result.exit_code == 1 and "signature" in report["first_disagreement"]["reason"]
    path.write_bytes(b"\x1b]0;owned\x07 not an anchor\n")  # a damaged file is named too
    result = _run("custody", "verify", CASE)
    assert result.exit_code == 1 and "unreadable" in result.stdout
    assert "\x1b" not in result.stdout


def test_anchoring_twice_without_a_new_event_adds_nothing(home: Path, tmp_path: Path) -> None:
    _case_with_two_copies(tmp_path)
    _ok("keys", "init")
    assert "Anchored" in _ok("custody", "anchor")
    assert "Nothing to anchor" in _ok("custody", "anchor")
    assert _ok("custody", "verify").startswith("[OK]")
