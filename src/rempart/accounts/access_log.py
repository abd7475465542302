"""The access log: every sign-in, sign-out and refusal, in the `access_events` table (shared by
every process) and in the `rempart.access` logger. Append-only; never a password or a token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.store.database import Database
from rempart.store.models import AccessEvent

__all__ = ["Entry", "recent", "record", "write"]

log = logging.getLogger("rempart.access")


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    actor: str
    action: str
    outcome: str  # "ok" or "denied"
    subject: str
    client: str
    detail: str


def write(
    session: Session,
    *,
    actor: str,
    action: str,
    outcome: str,
    subject: str = "",
    client: str = "",
    detail: str = "",
    at: datetime,
) -> None:
    """Add one event in the caller's transaction."""
    session.add(
        AccessEvent(
            at=at,
            actor=(actor or "-")[:200],
            action=action[:40],
            outcome=outcome[:20],
            subject=subject[:300],
            client=client[:100],
            detail=detail[:300],
        )
    )
    level = logging.WARNING if outcome != "ok" else logging.INFO
    log.log(level, "%s %s %s by %s from %s (%s)", action, outcome, subject, actor, client, detail)


def record(
    db: Database,
    *,
    actor: str,
    action: str,
    outcome: str,
    subject: str = "",
    client: str = "",
    detail: str = "",
    clock: Clock = utc_now,
) -> None:
    """Add one event in its own transaction (a refusal is logged even though nothing else is
    written)."""
    with db.session() as session:
        write(
            session,
            actor=actor,
            action=action,
            outcome=outcome,
            subject=subject,
            client=client,
            detail=detail,
            at=clock(),
        )


def recent(db: Database, *, limit: int = 100, outcome: str | None = None) -> list[Entry]:
    """The newest events first."""
    query = select(AccessEvent).order_by(AccessEvent.id.desc()).limit(limit)
    if outcome is not None:
        query = query.where(AccessEvent.outcome == outcome)
    with db.session() as session:
        return [
            Entry(aware(e.at), e.actor, e.action, e.outcome, e.subject, e.client, e.detail)
            for e in session.scalars(query)
        ]
