"""`rempart notify send` killed (SIGKILL) at random moments, against a real SMTP server in
its own process that records every message: no notice is ever received twice, and none is
lost: each ends sent (received exactly once) or uncertain (flagged for the caseworker).

Kills are triggered on observed progress only (the server recorded a message, the server
holds a message before answering, the outbox row changed), never after a guessed delay."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from smtp_process import RecordingSmtp

from findings_made import make_finding
from rempart.config import Settings
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import FindingStatus
from rempart.takedown.drafting import approve, list_notices, plan
from rempart.takedown.registry import load_registry

PLATFORMS = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
"""
_SAFETY = 120.0  # only against a hung process: every wait ends on observed progress first


class _NoLookups:
    def __getattr__(self, name: str) -> Callable[..., object]:
        raise AssertionError("a registry host needs no network lookup")


def _env(home: Path, smtp: RecordingSmtp) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")}
    env.update(
        REMPART_HOME=str(home),
        REMPART_OPERATOR="alice",
        REMPART_ORGANISATION="Asso Rempart",
        REMPART_ORGANISATION_EMAIL="contact@asso.example",
        REMPART_SMTP_FROM="notices@asso.example",
        REMPART_SMTP_URL=smtp.url,
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    return env


def _states(db_path: Path) -> dict[int, str]:
    with sqlite3.connect(db_path, timeout=30) as connection:
        return dict(connection.execute("SELECT notice_id, state FROM notice_outbox").fetchall())


def _wait(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> bool:
    """Until `condition` holds (True) or the process ends by itself (False)."""
    deadline = time.monotonic() + _SAFETY
    while not condition():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "notify send made no progress"
        time.sleep(0.002)
    return True


def _approved_notices(home: Path, tmp_path: Path, n: int) -> Database:
    (home / "platforms.toml").write_text(PLATFORMS)
    os.environ.update(REMPART_HOME=str(home))
    db = Database.open(Settings.from_env().database_url)
    identity = Settings.from_env(
        {
            "REMPART_HOME": str(home),
            "REMPART_ORGANISATION": "Asso Rempart",
            "REMPART_ORGANISATION_EMAIL": "contact@asso.example",
        }
    ).identity
    for index in range(n):
        made = make_finding(db, None, tmp_path, case=f"case-{index}", seed=index + 1)
        decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    planned = plan(
        db,
        registry=load_registry(home),
        lookups=_NoLookups(),  # type: ignore[arg-type]
        identity=identity,
        operator="alice",
    )
    for view in planned.notices:
        if view.recipient_channel == "email" and view.kind == "dsa":
            approve(db, view.id, identity=identity, operator="alice")
    return db


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_send_killed_anywhere_never_sends_twice_and_never_loses_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("REMPART_HOME", str(home))
    db = _approved_notices(home, tmp_path, 6)
    db_path = home / "rempart.db"
    smtp = RecordingSmtp(tmp_path / "smtp")
    rng = random.Random(seed)
    command = [sys.executable, "-m", "rempart", "notify", "send", "--approved", "--json"]
    kills: list[str] = []
    try:
        env = _env(home, smtp)
        for _round in range(6):
            if all(s in ("sent", "uncertain", "failed") for s in _states(db_path).values()):
                break
            trigger = rng.choice(["received", "held", "outbox"])
            before = len(smtp.raw())
            held_before = len(list(smtp.folder.glob("held-*")))
            if trigger == "held":
                (smtp.folder / "hold").write_text("")
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
            if trigger == "received":
                wanted = before + rng.randint(1, 3)
                hit = _wait(lambda w=wanted: len(smtp.raw()) >= w, process)
            elif trigger == "held":
                hit = _wait(
                    lambda h=held_before: len(list(smtp.folder.glob("held-*"))) > h, process
                )
            else:
                hit = _wait(
                    lambda: any(s in ("sending", "data") for s in _states(db_path).values()),
                    process,
                )
            if hit:
                process.send_signal(signal.SIGKILL)
                kills.append(trigger)
            process.wait()
            (smtp.folder / "hold").unlink(missing_ok=True)
        final = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
        assert final.returncode in (0, 1)
        received = smtp.count_by_message_id()
        views = {v.id: v for v in list_notices(db) if v.outbox_state is not None}
        assert len(views) == 6
        assert all(count == 1 for count in received.values()), (kills, received)
        for view in views.values():
            assert view.outbox_state in ("sent", "uncertain"), (kills, view.outbox_state)
            copies = received.get(str(view.message_id), 0)
            if view.outbox_state == "sent":
                assert copies == 1, (kills, view.id)
                assert view.status == "sent"
            else:
                assert view.status == "uncertain" and copies <= 1
        assert sum(received.values()) == len(received)
        assert kills, "no kill happened"
    finally:
        smtp.close()


def test_killed_while_the_server_holds_the_message_it_is_uncertain_and_never_resent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("REMPART_HOME", str(home))
    db = _approved_notices(home, tmp_path, 2)
    smtp = RecordingSmtp(tmp_path / "smtp")
    command = [sys.executable, "-m", "rempart", "notify", "send", "--approved", "--json"]
    try:
        env = _env(home, smtp)
        (smtp.folder / "hold").write_text("")
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        assert _wait(lambda: any(smtp.folder.glob("held-*")), process)
        process.send_signal(signal.SIGKILL)
        process.wait()
        (smtp.folder / "hold").unlink()
        again = subprocess.run(command, env=env, capture_output=True, check=False)
        assert again.returncode == 1  # the uncertain one is reported
        assert b'"status": "uncertain"' in again.stdout
        states = sorted(v.outbox_state or "" for v in list_notices(db) if v.outbox_state)
        assert states == ["sent", "uncertain"]
        assert sorted(smtp.count_by_message_id().values()) == [1, 1]
    finally:
        smtp.close()
