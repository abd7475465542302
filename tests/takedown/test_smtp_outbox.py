"""The outbox's rules, one by one, with a fake transport: what a dead run left is settled
(never sent twice, never dropped), an uncertain notice is resent only at the caseworker's word
with the same Message-ID, and a web-form notice is never e-mailed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from findings_made import make_finding
from rempart.config import Identity
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import FindingStatus, OutboxRow
from rempart.takedown.drafting import approve, notice, plan
from rempart.takedown.registry import Registry, load_registry, parse_registry
from rempart.takedown.sending import recover, resend, send_notices
from rempart.takedown.smtp import UncertainDelivery

IDENTITY = Identity(name="Asso", email="contact@asso.example", caseworker="alice")
PLATFORM = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
"""


class FakeTransport:
    """Records what it was given; `fail` makes the next send raise after `before_data`."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.fail: Exception | None = None

    def send(
        self,
        message: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_data: Callable[[], None] = lambda: None,
    ) -> str:
        before_data()
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        self.sent.append(message)
        return "250 OK"


def _approved(db: Database, tmp_path: Path) -> tuple[int, int]:
    registry = Registry.of(
        parse_registry(PLATFORM, origin="test", base=load_registry(None).platforms).values()
    )
    made = make_finding(db, None, tmp_path)
    decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    planned = plan(db, registry=registry, lookups=None, identity=IDENTITY, operator="alice")  # type: ignore[arg-type]
    host = next(n for n in planned.notices if n.kind == "dsa")
    pharos = next(n for n in planned.notices if n.kind == "pharos")
    approve(db, host.id, identity=IDENTITY, operator="alice")
    approve(db, pharos.id, identity=IDENTITY, operator="alice")
    return host.id, pharos.id


def _send(db: Database, transport: FakeTransport, ids: list[int] | None = None) -> list[str]:
    outcomes = send_notices(
        db,
        transport,
        ids=ids,
        identity=IDENTITY,
        sender="notices@asso.example",
        actor="alice",
        sleep=lambda s: None,
    )
    return [o.status for o in outcomes]


def _leave(db: Database, notice_id: int, state: str, owner: str) -> None:
    with db.session() as session:
        box = session.get(OutboxRow, notice_id)
        assert box is not None
        box.state, box.owner = state, owner
        box.updated_at = datetime(2026, 12, 6, tzinfo=UTC)


def test_left_before_the_message_went_out_it_is_sent_normally(db: Database, tmp_path: Path) -> None:
    host, _pharos = _approved(db, tmp_path)
    _leave(db, host, "sending", "elsewhere:1")  # another machine, silent for long
    transport = FakeTransport()
    assert _send(db, transport) == ["sent"]
    assert len(transport.sent) == 1


def test_left_while_the_server_may_have_it_it_becomes_uncertain_never_resent(
    db: Database, tmp_path: Path
) -> None:
    host, _pharos = _approved(db, tmp_path)
    _leave(db, host, "data", "elsewhere:1")
    transport = FakeTransport()
    assert _send(db, transport) == ["uncertain"]
    assert transport.sent == []
    view = notice(db, host)
    assert view.status == "uncertain" and "check with the recipient" in view.history[-1].note


def test_a_live_run_keeps_its_notice(db: Database, tmp_path: Path) -> None:
    import os
    import socket

    host, _pharos = _approved(db, tmp_path)
    _leave(db, host, "data", f"{socket.gethostname()}:{os.getpid()}")
    assert recover(db, actor="alice") == []


def test_an_uncertain_notice_is_resent_with_the_same_message_id_at_the_caseworkers_word(
    db: Database, tmp_path: Path
) -> None:
    host, _pharos = _approved(db, tmp_path)
    transport = FakeTransport()
    transport.fail = UncertainDelivery("the connection broke")
    assert _send(db, transport) == ["uncertain"]
    first_id = notice(db, host).message_id
    assert _send(db, transport) == []  # never again by itself
    assert _send(db, transport, [host]) == ["uncertain"]  # nor when named
    resend(db, host, actor="alice")
    assert _send(db, transport, [host]) == ["sent"]
    assert notice(db, host).message_id == first_id
    assert f"Message-ID: {first_id}".encode() in transport.sent[0]
    history = [h.status for h in notice(db, host).history]
    assert history == ["drafted", "approved", "uncertain", "approved", "sent"]
    with pytest.raises(Exception, match="only an uncertain or failed"):
        resend(db, host, actor="alice")


def test_a_web_form_notice_is_never_emailed(db: Database, tmp_path: Path) -> None:
    _host, pharos = _approved(db, tmp_path)
    transport = FakeTransport()
    outcomes = send_notices(
        db, transport, ids=[pharos], identity=IDENTITY, sender="notices@asso.example", actor="alice"
    )
    assert outcomes[0].status == "skipped" and "submitted" in str(outcomes[0].error)
    assert transport.sent == []


def test_the_history_of_an_uncertain_notice_reads_in_french(db: Database, tmp_path: Path) -> None:
    from rempart.i18n import gettext

    host, _pharos = _approved(db, tmp_path)
    _leave(db, host, "data", "elsewhere:1")
    recover(db, actor="alice")
    note = notice(db, host).history[-1].note
    assert "vérifiez auprès du destinataire" in gettext(note, lang="fr")
