"""The SMTP adapter and the outbox against a real server on loopback: 4xx retried with a
bounded backoff, 5xx failed and shown, credentials never shown, TLS never skipped silently."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_process import RecordingSmtp

from rempart.config import Identity
from rempart.errors import InputError
from rempart.store.database import Database
from rempart.takedown.smtp import (
    PermanentFailure,
    SmtpTransport,
    SmtpUrl,
    TemporaryFailure,
    mask_url,
)

MESSAGE = b"From: a@asso.example\r\nTo: b@host.example\r\nSubject: t\r\n\r\n.line\r\nbody\r\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RecordingSmtp]:
    recorder = RecordingSmtp(tmp_path / "smtp")
    yield recorder
    recorder.close()


def test_a_message_is_delivered_byte_for_byte_with_dot_stuffing_undone(
    server: RecordingSmtp,
) -> None:
    transport = SmtpTransport(SmtpUrl.parse(server.url))
    called: list[str] = []
    transport.send(
        MESSAGE,
        sender="a@asso.example",
        recipients=["b@host.example"],
        before_data=lambda: called.append("data"),
    )
    assert called == ["data"]
    (raw,) = server.raw()
    assert raw.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")


def test_4xx_is_temporary_and_5xx_permanent(server: RecordingSmtp) -> None:
    transport = SmtpTransport(SmtpUrl.parse(server.url))
    with pytest.raises(TemporaryFailure, match="451"):
        transport.send(MESSAGE, sender="a@asso.example", recipients=["tempfail-1@host.example"])
    with pytest.raises(PermanentFailure, match="554"):
        transport.send(MESSAGE, sender="a@asso.example", recipients=["reject@host.example"])
    assert server.raw() == []


def test_no_server_is_a_temporary_failure_with_the_password_masked() -> None:
    url = SmtpUrl.parse("smtp://user:s3cret@127.0.0.1:9?starttls=never")
    with pytest.raises(TemporaryFailure) as caught:
        SmtpTransport(url, timeout=2).send(
            MESSAGE, sender="a@x.example", recipients=["b@y.example"]
        )
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    assert "s3cret" not in repr(url) and "s3cret" not in url.masked


def test_urls_are_parsed_and_masked() -> None:
    assert mask_url("smtps://me:pw@mail.example:465") == "smtps://me:***@mail.example:465"
    parsed = SmtpUrl.parse("smtps://me%40asso:p%2Fw@mail.example")
    assert (parsed.username, parsed.password, parsed.port) == ("me@asso", "p/w", 465)
    assert SmtpUrl.parse("smtp://mail.example").port == 587
    with pytest.raises(InputError):
        SmtpUrl.parse("http://mail.example")
    with pytest.raises(InputError, match="starttls"):
        SmtpUrl.parse("smtp://mail.example?starttls=maybe")


def test_starttls_required_but_not_offered_is_refused(server: RecordingSmtp) -> None:
    url = SmtpUrl.parse(f"smtp://127.0.0.1:{server.port}?starttls=required")
    with pytest.raises(PermanentFailure, match="STARTTLS"):
        SmtpTransport(url).send(MESSAGE, sender="a@x.example", recipients=["b@y.example"])


def test_a_password_is_never_sent_in_clear_to_a_remote_server() -> None:
    url = SmtpUrl("smtp", "mail.example", 25, "me", "pw", "never")
    assert not url.loopback


def _outbox_db(db: Database, tmp_path: Path, address: str) -> int:
    from findings_made import make_finding
    from rempart.jobs.review import decide
    from rempart.store.models import FindingStatus
    from rempart.takedown.drafting import approve, plan
    from rempart.takedown.registry import Registry, load_registry, parse_registry

    platforms = parse_registry(
        f"""
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
notice_email = {{ value = "{address}", source = "https://forum.example/contact" }}
""",
        origin="test",
        base=load_registry(None).platforms,
    )
    registry = Registry.of(platforms.values())
    made = make_finding(db, None, tmp_path)
    decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    identity = Identity(name="Asso", email="contact@asso.example", caseworker="alice")
    planned = plan(db, registry=registry, lookups=None, identity=identity, operator="alice")  # type: ignore[arg-type]
    (notice,) = [n for n in planned.notices if n.kind == "dsa"]
    approve(db, notice.id, identity=identity, operator="alice")
    return notice.id


def _send(db: Database, server: RecordingSmtp, waits: list[float]) -> list[object]:
    from rempart.takedown.sending import send_notices

    return send_notices(  # type: ignore[return-value]
        db,
        SmtpTransport(SmtpUrl.parse(server.url)),
        ids=None,
        identity=Identity(name="Asso", email="contact@asso.example", caseworker="alice"),
        sender="notices@asso.example",
        actor="alice",
        sleep=waits.append,
        attempts=3,
        backoff=1.0,
    )


def test_4xx_is_retried_with_a_growing_wait_then_sent_once(
    db: Database, tmp_path: Path, server: RecordingSmtp
) -> None:
    notice_id = _outbox_db(db, tmp_path, "tempfail-2@forum.example")
    waits: list[float] = []
    (outcome,) = _send(db, server, waits)
    assert outcome.status == "sent" and outcome.attempts == 3  # type: ignore[attr-defined]
    assert waits == [1.0, 2.0]
    assert len(server.raw()) == 1
    from rempart.takedown.drafting import notice

    assert notice(db, notice_id).status == "sent"


def test_4xx_past_the_bound_fails_and_says_why(
    db: Database, tmp_path: Path, server: RecordingSmtp
) -> None:
    notice_id = _outbox_db(db, tmp_path, "tempfail-9@forum.example")
    waits: list[float] = []
    (outcome,) = _send(db, server, waits)
    assert outcome.status == "failed" and "451" in str(outcome.error)  # type: ignore[attr-defined]
    assert waits == [1.0, 2.0]
    from rempart.takedown.drafting import notice

    view = notice(db, notice_id)
    assert view.status == "failed" and view.last_error and "451" in view.last_error


def test_5xx_fails_at_once_and_is_shown_in_the_history(
    db: Database, tmp_path: Path, server: RecordingSmtp
) -> None:
    notice_id = _outbox_db(db, tmp_path, "reject@forum.example")
    waits: list[float] = []
    (outcome,) = _send(db, server, waits)
    assert outcome.status == "failed" and waits == []  # type: ignore[attr-defined]
    from rempart.takedown.drafting import notice

    assert "554" in notice(db, notice_id).history[-1].note
    assert server.raw() == []
