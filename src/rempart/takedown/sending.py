"""Sending approved e-mail notices through the outbox, so that a `notify send` killed at any
moment never sends a notice twice and never loses one.

The outbox state of a notice, each change committed before the step it announces:

    queued ──claim──▶ sending ──(MAIL, RCPT, DATA accepted)──▶ data ──250──▶ sent
      ▲                 │ 4xx / no connection (bounded retries)   │ 4xx ▶ queued, 5xx ▶ failed
      └─────────────────┘ 5xx ▶ failed                            │ connection lost ▶ uncertain

`data` is written, with the exact message bytes, just before the message's content goes to
the server. SMTP gives no way to ask a server afterwards whether it accepted a message, so:
- a run that finds a notice left in `sending` by a dead run sends it again: its content never
  left, the server cannot have it;
- a notice left in `data` by a dead run may have been accepted: it becomes `uncertain` and is
  never sent again automatically. The caseworker checks (a reply, the recipient's ticket) and
  either records the answer or sends it again with `notify send N --resend`, with the same
  Message-ID, so a receiver that deduplicates will drop a second copy.
At most once, automatically; every notice ends `sent`, `failed` (shown, with the server's
answer) or `uncertain` (shown): none is dropped silently.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.config import Identity
from rempart.errors import Conflict, InputError, NotFound, RempartError
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import in_custody, record
from rempart.i18n import N_
from rempart.intake.cases import chain_of
from rempart.store.database import Database
from rempart.store.models import NoticeRow, OutboxRow
from rempart.takedown.drafting import facts_of, notice
from rempart.takedown.history import record_status
from rempart.takedown.notices import NoticeKind, NoticeStatus, due_after, message_bytes, render
from rempart.takedown.smtp import PermanentFailure, TemporaryFailure, UncertainDelivery
from rempart.takedown.tracking import stored_deadline

__all__ = ["SendOutcome", "Stamp", "Transport", "recover", "resend", "send_notices"]

_STALE = timedelta(minutes=10)
_RESENT = {
    "uncertain": N_("queued again at the caseworker's word, after checking with the recipient"),
    "failed": N_("queued again at the caseworker's word, after it failed"),
}  # a run on another machine silent this long is taken as dead


class Transport(Protocol):
    """Hands one message to a mail server (smtp.SmtpTransport; fakes in tests)."""

    def send(
        self,
        message: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_data: Callable[[], None] = ...,
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class Stamp:
    """One time-stamp over a sent message: the authority, its time, the token (DER)."""

    authority: str
    time: datetime
    token: bytes = field(repr=False)  # the full DER TimeStampResp
    request: bytes = field(default=b"", repr=False)  # the DER TimeStampReq sent (its nonce)
    chain: tuple[bytes, ...] = field(
        default=(), repr=False
    )  # the TSA's certificates (DER), to check it offline later


Stamper = Callable[[bytes], Sequence[Stamp]]


def stamper_for(home: Path) -> Stamper | None:
    """Time-stamps for a sent message's seal from the authorities configured in `home`
    (none configured: the seal is signed, not time-stamped). The CLI's and the web's."""
    from rempart.evidence.authorities import authorities_file, load_authorities

    authorities = load_authorities(authorities_file(home, os.environ))
    if not authorities:
        return None
    import httpx

    from rempart.evidence.timestamps import request_timestamps

    def stamp(data: bytes) -> list[Stamp]:
        with httpx.Client(timeout=30.0) as http:
            answers = request_timestamps(data, authorities, http=http)
        return [Stamp(a.authority, a.gen_time, a.response, a.request, a.chain) for a in answers]

    return stamp


@dataclass(frozen=True, slots=True)
class SendOutcome:
    notice: int
    status: str  # sent, failed, uncertain, skipped, queued
    message_id: str | None = None
    message_sha256: str | None = None
    attempts: int = 0
    error: RempartError | None = None
    sealed: bool = False
    seal_note: RempartError | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "notice": self.notice,
            "status": self.status,
            "message_id": self.message_id,
            "message_sha256": self.message_sha256,
            "attempts": self.attempts,
            "error": str(self.error) if self.error else None,
            "sealed": self.sealed,
            "seal_note": str(self.seal_note) if self.seal_note else None,
        }


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(owner: str | None, updated_at: datetime, now: datetime) -> bool:
    """Whether the run that holds a notice is gone: its process on this machine has ended,
    or, on another machine, it has been silent for too long."""
    if not owner:
        return True
    host, _sep, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return now - aware(updated_at) > _STALE


def recover(db: Database, *, actor: str, clock: Clock = utc_now) -> list[int]:
    """Settle what dead runs left: `sending` back to `queued` (nothing left), `data` to
    `uncertain` (the server may have it). Returns the notices made uncertain."""
    uncertain: list[int] = []

    def work(session: Session) -> None:
        now = clock()
        for box in session.scalars(
            select(OutboxRow).where(OutboxRow.state.in_(("sending", "data")))
        ).all():
            if not _dead(box.owner, box.updated_at, now):
                continue
            row = session.get(NoticeRow, box.notice_id)
            assert row is not None
            if box.state == "sending":
                box.state, box.owner, box.updated_at = "queued", None, now
                record_status(
                    session,
                    row,
                    at=now,
                    actor=actor,
                    status=NoticeStatus.APPROVED.value,
                    note=N_("an interrupted run had not handed the message over: queued again"),
                )
            else:
                box.state, box.owner, box.updated_at = "uncertain", None, now
                box.last_error = N_(
                    "interrupted after the message was handed to the mail server and before "
                    "it answered: check with the recipient before sending it again"
                )
                record_status(
                    session,
                    row,
                    at=now,
                    actor=actor,
                    status=NoticeStatus.UNCERTAIN.value,
                    note=box.last_error,
                )
                uncertain.append(row.id)

    in_custody(db, work)
    return uncertain


def resend(db: Database, notice_id: int, *, actor: str, clock: Clock = utc_now) -> None:
    """Queue an uncertain or failed notice again, at the caseworker's word (logged)."""

    def work(session: Session) -> None:
        box = session.get(OutboxRow, notice_id)
        row = session.get(NoticeRow, notice_id)
        if row is None:
            raise NotFound("no notice {id} (see `rempart notices`)", id=notice_id)
        if box is None or box.state not in ("uncertain", "failed"):
            raise Conflict(
                "notice {id} is {status}: only an uncertain or failed e-mail notice is sent again",
                id=notice_id,
                status=row.status,
            )
        now = clock()
        was = box.state
        box.state, box.owner, box.updated_at = "queued", None, now
        record_status(
            session,
            row,
            at=now,
            actor=actor,
            status=NoticeStatus.APPROVED.value,
            note=_RESENT[was],
        )

    in_custody(db, work)


def _claim(db: Database, notice_id: int, owner: str, clock: Clock) -> OutboxRow | None:
    """queued → sending, atomically: two runs never both take one notice."""
    with db.session() as session:
        now = clock()
        claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(OutboxRow)
            .where(OutboxRow.notice_id == notice_id, OutboxRow.state == "queued")
            .values(state="sending", owner=owner, attempts=OutboxRow.attempts + 1, updated_at=now)
        )
        if not claimed.rowcount:
            return None
        box = session.get(OutboxRow, notice_id)
        assert box is not None
        row = session.get(NoticeRow, notice_id)
        assert row is not None
        row.status, row.updated_at = NoticeStatus.SENDING.value, now
        return box


def _set_state(db: Database, notice_id: int, state: str, clock: Clock, **values: object) -> None:
    with db.session() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.notice_id == notice_id)
            .values(state=state, updated_at=clock(), **values)
        )


def send_notices(
    db: Database,
    transport: Transport,
    *,
    ids: Sequence[int] | None,
    identity: Identity,
    sender: str,
    actor: str,
    stamper: Stamper | None = None,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] | None = None,
    attempts: int = 3,
    backoff: float = 2.0,
    on_progress: Callable[[SendOutcome], None] | None = None,
) -> list[SendOutcome]:
    """Send the named approved e-mail notices (all queued ones when `ids` is None), each once.

    4xx answers and lost connections before the message left are retried `attempts` times,
    waiting `backoff`, then twice as long…; a 5xx fails the notice at once."""
    import time

    wait = sleep or time.sleep
    if not sender.strip():
        raise InputError(
            'set the address notices are sent from: `rempart config set smtp.from "…"`'
        )
    settled = recover(db, actor=actor, clock=clock)
    with db.session() as session:
        query = select(OutboxRow.notice_id, OutboxRow.state).order_by(OutboxRow.notice_id)
        if ids is not None:
            query = query.where(OutboxRow.notice_id.in_(list(ids)))
        else:  # --approved: what waits; sent, failed and uncertain ones are listed by `notices`
            query = query.where(OutboxRow.state == "queued")
        boxes: dict[int, str] = {n: s for n, s in session.execute(query).all()}
    outcomes: list[SendOutcome] = []
    if ids is None:  # what this run found uncertain is news: say it
        for notice_id in settled:
            outcome = _not_queued(db, notice_id, "uncertain")
            outcomes.append(outcome)
            if on_progress is not None:
                on_progress(outcome)
    for notice_id in ids if ids is not None else sorted(boxes):
        state = boxes.get(notice_id)
        if state != "queued":
            outcome = _not_queued(db, notice_id, state)
        else:
            outcome = _send_one(
                db,
                transport,
                notice_id,
                identity=identity,
                sender=sender,
                actor=actor,
                stamper=stamper,
                clock=clock,
                wait=wait,
                attempts=attempts,
                backoff=backoff,
            )
        outcomes.append(outcome)
        if on_progress is not None:
            on_progress(outcome)
    return outcomes


def _not_queued(db: Database, notice_id: int, state: str | None) -> SendOutcome:
    view = notice(db, notice_id)  # raises NotFound
    if state is None:
        if view.recipient_channel != "email":
            error = InputError(
                "notice {id} goes through {channel}: paste it from `rempart notify show {id}`, "
                "then record the ticket with `rempart notify submitted {id} --reference …`",
                id=notice_id,
                channel=view.recipient_channel,
            )
        else:
            error = InputError(
                "notice {id} is {status}: approve it first (`rempart notify approve {id}`)",
                id=notice_id,
                status=view.status,
            )
        return SendOutcome(notice_id, "skipped", error=error)
    if state == "sent":
        return SendOutcome(
            notice_id,
            "sent",
            view.message_id,
            view.message_sha256,
            error=InputError("already sent: never sent twice"),
        )
    if state == "uncertain":
        return SendOutcome(
            notice_id,
            "uncertain",
            view.message_id,
            view.message_sha256,
            error=InputError(
                "uncertain: check with the recipient, then `rempart notify reply "
                "{id} …` or `rempart notify send {id} --resend`",
                id=notice_id,
            ),
        )
    if state == "failed":
        return SendOutcome(
            notice_id,
            "failed",
            error=InputError(
                "failed earlier ({problem}): `rempart notify send {id} --resend` to try again",
                id=notice_id,
                problem=view.last_error or "?",
            ),
        )
    return SendOutcome(
        notice_id,
        "skipped",
        error=InputError("notice {id} is being sent by another run", id=notice_id),
    )


def _domain(sender: str) -> str:
    return sender.rpartition("@")[2] or "rempart.invalid"


def _send_one(
    db: Database,
    transport: Transport,
    notice_id: int,
    *,
    identity: Identity,
    sender: str,
    actor: str,
    stamper: Stamper | None,
    clock: Clock,
    wait: Callable[[float], None],
    attempts: int,
    backoff: float,
) -> SendOutcome:
    owner = _owner()
    delay = backoff
    tries = 0
    while True:
        box = _claim(db, notice_id, owner, clock)
        if box is None:
            return _not_queued(db, notice_id, "sending")
        tries += 1
        view = notice(db, notice_id)
        facts = facts_of(view, identity)
        # stable across attempts and runs: the receiver can tell a second copy
        message_id = view.message_id or make_msgid(
            idstring=f"notice-{notice_id}.{box.idempotency_key}", domain=_domain(sender)
        )
        data = message_bytes(
            facts, render(facts), sender=sender, message_id=message_id, date=clock()
        )
        digest = hashlib.sha256(data).hexdigest()

        def handed_over(data: bytes = data, digest: str = digest, mid: str = message_id) -> None:
            with db.session() as session:
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.notice_id == notice_id)
                    .values(state="data", updated_at=clock())
                )
                row = session.get(NoticeRow, notice_id)
                assert row is not None
                row.message, row.message_sha256, row.message_id = data, digest, mid

        try:
            reply = transport.send(
                data, sender=sender, recipients=[view.recipient_address], before_data=handed_over
            )
        except TemporaryFailure as exc:
            if tries < attempts:
                _set_state(db, notice_id, "queued", clock, owner=None, last_error=str(exc))
                wait(delay)
                delay *= 2
                continue
            return _failed(db, notice_id, exc, actor, clock, tries)
        except PermanentFailure as exc:
            return _failed(db, notice_id, exc, actor, clock, tries)
        except UncertainDelivery as exc:
            return _uncertain(db, notice_id, exc, actor, clock, tries, message_id, digest)
        return _sent(
            db,
            notice_id,
            actor=actor,
            clock=clock,
            reply=reply,
            tries=tries,
            message_id=message_id,
            digest=digest,
            data=data,
            stamper=stamper,
        )


def _unsent(
    db: Database,
    notice_id: int,
    state: NoticeStatus,
    exc: RempartError,
    actor: str,
    clock: Clock,
    detail: dict[str, object] | None = None,
) -> None:
    """Close the outbox row as `failed` or `uncertain`, with the notice's status and history."""

    def work(session: Session) -> None:
        box = session.get(OutboxRow, notice_id)
        row = session.get(NoticeRow, notice_id)
        assert box is not None and row is not None
        now = clock()
        box.state, box.owner, box.last_error, box.updated_at = state.value, None, str(exc), now
        record_status(
            session, row, at=now, actor=actor, status=state.value, note=str(exc), detail=detail
        )

    in_custody(db, work)


def _failed(
    db: Database, notice_id: int, exc: RempartError, actor: str, clock: Clock, tries: int
) -> SendOutcome:
    _unsent(db, notice_id, NoticeStatus.FAILED, exc, actor, clock)
    return SendOutcome(notice_id, "failed", attempts=tries, error=exc)


def _uncertain(
    db: Database,
    notice_id: int,
    exc: RempartError,
    actor: str,
    clock: Clock,
    tries: int,
    message_id: str,
    digest: str,
) -> SendOutcome:
    detail: dict[str, object] = {"message_id": message_id, "message_sha256": digest}
    _unsent(db, notice_id, NoticeStatus.UNCERTAIN, exc, actor, clock, detail)
    return SendOutcome(notice_id, "uncertain", message_id, digest, tries, error=exc)


def _sent(
    db: Database,
    notice_id: int,
    *,
    actor: str,
    clock: Clock,
    reply: str,
    tries: int,
    message_id: str,
    digest: str,
    data: bytes,
    stamper: Stamper | None,
) -> SendOutcome:
    def work(session: Session) -> None:
        box = session.get(OutboxRow, notice_id)
        row = session.get(NoticeRow, notice_id)
        assert box is not None and row is not None
        now = clock()
        box.state, box.owner, box.last_error, box.updated_at = "sent", None, None, now
        row.sent_at = now
        row.due_at = due_after(
            NoticeKind(row.kind), row.take_it_down, now, deadline=stored_deadline(row.provenance)
        )
        record_status(
            session,
            row,
            at=now,
            actor=actor,
            status=NoticeStatus.SENT.value,
            action=CustodyAction.NOTICE_SEND,
            detail={
                "message_id": message_id,
                "message_sha256": digest,
                "bytes": len(data),
                "to": row.recipient_address,
                "server_reply": " ".join(reply.split())[:200],
            },
        )

    in_custody(db, work)
    sealed, note = _seal(db, notice_id, data, digest, actor=actor, clock=clock, stamper=stamper)
    return SendOutcome(notice_id, "sent", message_id, digest, tries, sealed=sealed, seal_note=note)


def _seal(
    db: Database,
    notice_id: int,
    data: bytes,
    digest: str,
    *,
    actor: str,
    clock: Clock,
    stamper: Stamper | None,
) -> tuple[bool, RempartError | None]:
    """Time-stamp the exact message sent (RFC 3161, like a capture's seal), after it is
    recorded as sent: a failed stamp never makes a sent notice look unsent."""
    if stamper is None:
        return False, InputError(
            "no time-stamping authority is configured: the message is kept with its digest "
            "in the custody log, unsealed (see docs/evidence.md)"
        )
    try:
        stamps = list(stamper(data))
    except RempartError as exc:
        return False, exc

    def work(session: Session) -> None:
        row = session.get(NoticeRow, notice_id)
        assert row is not None
        row.seal = json.dumps(
            [
                {
                    "authority": s.authority,
                    "time": aware(s.time).isoformat(),
                    "token": base64.b64encode(s.token).decode(),
                    "request": base64.b64encode(s.request).decode(),
                    "chain": [base64.b64encode(c).decode() for c in s.chain],
                }
                for s in stamps
            ]
        )
        record(
            session,
            chain_of(row.case_id),
            at=clock(),
            actor=actor,
            action=CustodyAction.SEAL,
            subject=f"notice:{notice_id}",
            detail={
                "message_sha256": digest,
                "timestamps": [
                    {"authority": s.authority, "time": aware(s.time).isoformat()} for s in stamps
                ],
            },
        )

    in_custody(db, work)
    return True, None
