"""The shared review queue: who is reviewing which pending finding, and until when (a claim
with an expiry, in `review_claims`), so that a match judged by one person is not offered to
another; and how long someone has been reviewing without a break.

Decisions are jobs.review's (it honours the claims); must not render, print or decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.errors import Conflict, InputError, NotFound
from rempart.evidence.custody import CustodyAction
from rempart.store.database import Database
from rempart.store.models import CustodyRow, Finding, FindingStatus, ReviewClaim

__all__ = [
    "BREAK_AFTER",
    "CLAIM_TIME",
    "Claim",
    "check_claim",
    "claim",
    "claim_next",
    "claims",
    "decided_already",
    "release",
    "reviewing_for",
    "stretch",
]

CLAIM_TIME = timedelta(minutes=15)  # a claim lapses after this without a decision
BREAK_AFTER = timedelta(minutes=45)  # a reminder to pause after this long reviewing
PAUSE = timedelta(minutes=10)  # a gap this long between looks or decisions is a break


@dataclass(frozen=True, slots=True)
class Claim:
    finding: int
    holder: str
    expires_at: datetime


def _live(row: ReviewClaim | None, now: datetime) -> bool:
    return row is not None and aware(row.expires_at) > now


def decided_already(finding: Finding) -> Conflict:
    """The refusal of a second decision on a finding someone has decided meanwhile."""
    who = finding.reviewed_by or "-"
    if finding.status == FindingStatus.CONFIRMED:
        return Conflict("finding {id} was already confirmed by {who}", id=finding.id, who=who)
    return Conflict("finding {id} was already rejected by {who}", id=finding.id, who=who)


def check_claim(session: Session, finding_id: int, actor: str, now: datetime) -> None:
    """Raise Conflict when someone other than `actor` holds a live claim on the finding
    (called by every decision, in its transaction)."""
    row = session.get(ReviewClaim, finding_id)
    if _live(row, now) and row is not None and row.holder != actor:
        raise Conflict(
            "finding {id} is being reviewed by {who} (until {until} UTC)",
            id=finding_id,
            who=row.holder,
            until=f"{aware(row.expires_at):%H:%M}",
        )


def claims(db: Database, finding_ids: Iterable[int], *, clock: Clock = utc_now) -> dict[int, Claim]:
    """The live claims on these findings, by finding."""
    ids = list(finding_ids)
    if not ids:
        return {}
    now = clock()
    with db.session() as session:
        rows = session.scalars(select(ReviewClaim).where(ReviewClaim.finding_id.in_(ids)))
        return {
            r.finding_id: Claim(r.finding_id, r.holder, aware(r.expires_at))
            for r in rows
            if _live(r, now)
        }


def _take(session: Session, finding_id: int, actor: str, now: datetime, time: timedelta) -> Claim:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise NotFound("no finding {id} (see `rempart review list`)", id=finding_id)
    if finding.status != FindingStatus.PENDING:
        raise decided_already(finding)
    check_claim(session, finding_id, actor, now)
    # Read again: a claim taken since check_claim's read must not be overwritten (SQLite and
    # PostgreSQL both let a later statement see what another transaction committed meanwhile).
    session.expire_all()
    row = session.get(ReviewClaim, finding_id)
    if row is None:  # two inserts at once: the primary key refuses one (IntegrityError)
        session.add(
            ReviewClaim(finding_id=finding_id, holder=actor, claimed_at=now, expires_at=now + time)
        )
        session.flush()
        return Claim(finding_id, actor, now + time)
    check_claim(session, finding_id, actor, now)
    # Renew one's own claim, or take a lapsed one, only if it is still as read.
    taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(ReviewClaim)
        .where(
            ReviewClaim.finding_id == finding_id,
            ReviewClaim.holder == row.holder,
            ReviewClaim.expires_at == row.expires_at,
        )
        .values(
            holder=actor,
            claimed_at=row.claimed_at if row.holder == actor else now,
            expires_at=now + time,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise Conflict("finding {id} is being reviewed by someone else", id=finding_id)
    return Claim(finding_id, actor, now + time)


def claim(
    db: Database,
    finding_id: int,
    *,
    actor: str,
    clock: Clock = utc_now,
    time: timedelta = CLAIM_TIME,
) -> Claim:
    """Start (or renew) reviewing a pending finding. Raises Conflict when it is decided
    already, or someone else is reviewing it; NotFound when there is no such finding."""
    if not actor.strip():
        raise InputError("say who reviews")
    for attempt in (1, 2):
        try:
            with db.session() as session:
                return _take(session, finding_id, actor, clock(), time)
        except IntegrityError:  # two people claimed it at the same instant: one wins
            if attempt == 2:
                raise Conflict(
                    "finding {id} is being reviewed by someone else", id=finding_id
                ) from None
    raise AssertionError("unreachable")


def claim_next(
    db: Database,
    candidates: Sequence[int],
    *,
    actor: str,
    clock: Clock = utc_now,
    time: timedelta = CLAIM_TIME,
) -> Claim | None:
    """Claim the first of these pending findings that no one else is reviewing (the one
    `actor` holds already, if any, comes first); None when every one is taken."""
    held = claims(db, candidates, clock=clock)
    mine = [f for f in candidates if f in held and held[f].holder == actor]
    free = [f for f in candidates if f not in held]
    for finding_id in mine + free:
        try:
            return claim(db, finding_id, actor=actor, clock=clock, time=time)
        except (Conflict, NotFound):
            continue  # taken or decided meanwhile: the next one
    return None


def release(db: Database, finding_id: int, *, actor: str) -> None:
    """Stop reviewing a finding (only one's own claim)."""
    with db.session() as session:
        session.execute(
            delete(ReviewClaim).where(
                ReviewClaim.finding_id == finding_id, ReviewClaim.holder == actor
            )
        )


def stretch(moments: Sequence[datetime], now: datetime, *, pause: timedelta = PAUSE) -> timedelta:
    """How long someone has been reviewing without a break, from the times of her looks and
    decisions (any order): back from `now` while no two are further apart than `pause`."""
    times = sorted((aware(m) for m in moments), reverse=True)
    if not times or now - times[0] > pause:
        return timedelta(0)
    start = times[0]
    for moment in times[1:]:
        if start - moment > pause:
            break
        start = moment
    return now - start


_REVIEWING = (CustodyAction.REVIEW_LOOK.value, CustodyAction.REVIEW_DECISION.value)


def reviewing_for(db: Database, actor: str, *, clock: Clock = utc_now) -> timedelta:
    """How long `actor` has been looking at and deciding on matches without a break, read
    from the custody log."""
    now = clock()
    with db.session() as session:
        moments = session.scalars(
            select(CustodyRow.at).where(
                CustodyRow.actor == actor,
                CustodyRow.action.in_(_REVIEWING),
                CustodyRow.at >= now - timedelta(hours=12),
            )
        ).all()
    return stretch(list(moments), now)
