"""The custody log in the store: appends each event to its case's hash chain (in the caller's
transaction, so a decision and its event commit together) and reads chains back.

Owns the `custody_events` rows; the chain's rules live in `rempart.evidence.custody`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import aware
from rempart.errors import StoreError
from rempart.evidence.custody import CustodyAction, CustodyEvent, append, canonical_json
from rempart.store.database import Database
from rempart.store.models import CustodyRow

__all__ = ["chain_events", "in_custody", "record"]

T = TypeVar("T")
_ATTEMPTS = 8


def record(
    session: Session,
    chain: str,
    *,
    at: datetime,
    actor: str,
    action: CustodyAction,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Append one event to `chain` within `session`'s transaction. Two writers racing for the
    same place make one transaction fail on the unique (chain, seq): run it in `in_custody`."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:chain))"), {"chain": chain})
    row = session.scalar(
        select(CustodyRow).where(CustodyRow.chain == chain).order_by(CustodyRow.seq.desc()).limit(1)
    )
    tail = _event(row) if row is not None else None
    moment = aware(at) if tail is None else max(aware(at), tail.at)  # never before its tail
    event = append(tail, at=moment, actor=actor, action=action, subject=subject, detail=detail)
    session.add(
        CustodyRow(
            chain=chain,
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action.value,
            subject=event.subject,
            detail=canonical_json(event.body()["detail"]).decode(),
            prev=event.prev,
            digest=event.digest,
        )
    )
    session.flush()
    return event


def in_custody(db: Database, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction, again if another writer took the chain's next place."""
    for attempt in range(_ATTEMPTS):
        try:
            with db.session() as session:
                return work(session)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise StoreError("the custody log stayed busy; try again") from None
    raise AssertionError("unreachable")


def chain_events(db: Database, chain: str) -> tuple[CustodyEvent, ...]:
    with db.session() as session:
        rows = session.scalars(
            select(CustodyRow).where(CustodyRow.chain == chain).order_by(CustodyRow.seq)
        ).all()
        return tuple(_event(row) for row in rows)


def _event(row: CustodyRow) -> CustodyEvent:
    return CustodyEvent(
        seq=row.seq,
        at=aware(row.at),
        actor=row.actor,
        action=CustodyAction(row.action),
        subject=row.subject,
        detail=json.loads(row.detail),
        prev=row.prev,
        digest=row.digest,
    )
