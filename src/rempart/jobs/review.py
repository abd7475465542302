"""Review: a caseworker confirms or rejects each finding before anything leaves Rempart, and
looks at a held copy only when she asks (blurred first). Every look and every decision goes
to the case's custody log with who and when, in the same transaction as its effect.

Must not print, capture or notify; the CLI and the evidence stage do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rempart.clock import Clock, utc_now
from rempart.errors import Conflict, EvidenceError, InputError, NotFound
from rempart.evidence.custody import CustodyAction
from rempart.evidence.held import held_name
from rempart.evidence.ledger import in_custody, record
from rempart.evidence.vault import Vault
from rempart.intake.cases import chain_of
from rempart.jobs.findings import FindingView, list_findings
from rempart.jobs.review_queue import check_claim, decided_already
from rempart.store.database import Database
from rempart.store.models import (
    Bank,
    Case,
    Finding,
    FindingStatus,
    Item,
    ReviewClaim,
    Sighting,
)

__all__ = ["Look", "decide", "finding", "look", "pending"]

_NOTE_MAX = 2_000


@dataclass(frozen=True, slots=True)
class Look:
    """The held copy of a finding, handed over once the look is logged."""

    finding: int
    data: bytes = field(repr=False)
    clear: bool  # the caseworker asked to see it unblurred


def pending(db: Database, *, case: str | None = None) -> list[FindingView]:
    """Findings waiting for a caseworker, oldest first."""
    return list_findings(db, status=FindingStatus.PENDING.value, case=case)


def finding(db: Database, finding_id: int) -> FindingView:
    views = list_findings(db, ids=(finding_id,))
    if not views:
        raise NotFound("no finding {id} (see `rempart review list`)", id=finding_id)
    return views[0]


def _case_of(session: Session, finding_row: Finding) -> Case | None:
    return session.scalar(
        select(Case)
        .join(Bank, Bank.case_id == Case.id)
        .join(Item, Item.bank_id == Bank.id)
        .where(Item.id == finding_row.item_id)
    )


def _finding_row(session: Session, finding_id: int) -> Finding:
    row = session.get(Finding, finding_id)
    if row is None:
        raise NotFound("no finding {id} (see `rempart review list`)", id=finding_id)
    return row


def decide(
    db: Database,
    finding_id: int,
    verdict: FindingStatus,
    *,
    actor: str,
    note: str = "",
    clock: Clock = utc_now,
    pending_only: bool = False,
) -> FindingView:
    """Confirm or reject a finding. A changed mind is allowed and logged with the old verdict
    (unless `pending_only`: then a finding decided meanwhile is a Conflict); rejecting needs a
    reason. Refused (Conflict) while someone else is reviewing it (jobs.review_queue); the
    decision ends any claim on it."""
    if verdict is FindingStatus.PENDING:
        raise InputError("a finding is confirmed or rejected; it cannot be sent back to pending")
    if not actor.strip():
        raise InputError("say who decides (--as NAME or REMPART_OPERATOR)")
    if verdict is FindingStatus.REJECTED and not note.strip():
        raise InputError(
            "a reason is required: say why the match is rejected (--note), for the record"
        )
    if len(note) > _NOTE_MAX:
        raise InputError("a review note holds at most {n} characters", n=_NOTE_MAX)

    def work(session: Session) -> None:
        row = _finding_row(session, finding_id)
        before = FindingStatus(row.status)
        now = clock()
        check_claim(session, finding_id, actor, now)
        if pending_only and before is not FindingStatus.PENDING:
            raise decided_already(row)
        if before is verdict and row.review_note == note:
            if verdict is FindingStatus.CONFIRMED:
                raise Conflict("finding {id} is already confirmed", id=finding_id)
            raise Conflict("finding {id} is already rejected", id=finding_id)
        row.status = verdict
        row.reviewed_by = actor
        row.reviewed_at = now
        row.review_note = note
        case = _case_of(session, row)
        record(
            session,
            chain_of(case.id if case else None),
            at=now,
            actor=actor,
            action=CustodyAction.REVIEW_DECISION,
            subject=f"finding:{finding_id}",
            detail={"verdict": verdict.value, "before": before.value, "note": note},
        )
        session.execute(delete(ReviewClaim).where(ReviewClaim.finding_id == finding_id))

    in_custody(db, work)
    return finding(db, finding_id)


def look(
    db: Database,
    vault: Vault,
    finding_id: int,
    *,
    actor: str,
    clear: bool = False,
    clock: Clock = utc_now,
) -> Look:
    """The held copy of a finding's media, after logging who looked, when, and whether
    unblurred. A minor's case holds no media: that is refused, and the attempt is not a look."""
    if not actor.strip():
        raise InputError("say who looks (--as NAME or REMPART_OPERATOR)")

    def work(session: Session) -> str:
        row = _finding_row(session, finding_id)
        case = _case_of(session, row)
        if case is not None and case.minor:
            raise EvidenceError(
                "this case involves a minor: no media is kept or shown, only references and digests"
            )
        sha256 = session.scalar(select(Sighting.sha256).where(Sighting.id == row.sighting_id))
        name = held_name(str(sha256))
        if not vault.has(name):
            raise NotFound(
                "no copy of finding {id} is held (it was found before copies were held); "
                "open its page to see it",
                id=finding_id,
            )
        record(
            session,
            chain_of(case.id if case else None),
            at=clock(),
            actor=actor,
            action=CustodyAction.REVIEW_LOOK,
            subject=f"finding:{finding_id}",
            detail={"clear": clear, "sha256": str(sha256)},
        )
        return name

    name = in_custody(db, work)
    return Look(finding_id, vault.get(name), clear)
