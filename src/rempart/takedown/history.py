"""A notice's status changes: the row, its history line and its custody event, together.

Owns writing one status change inside the caller's transaction; decides nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import record
from rempart.intake.cases import chain_of
from rempart.store.models import NoticeEventRow, NoticeRow

__all__ = ["record_status"]


def record_status(
    session: Session,
    row: NoticeRow,
    *,
    at: datetime,
    actor: str,
    status: str,
    note: str = "",
    action: CustodyAction = CustodyAction.NOTICE_UPDATE,
    detail: dict[str, object] | None = None,
) -> None:
    """A status change: the row, its history line and its custody event, together."""
    row.status = status
    row.updated_at = at
    session.add(NoticeEventRow(notice_id=row.id, at=at, actor=actor, status=status, note=note))
    record(
        session,
        chain_of(row.case_id),
        at=at,
        actor=actor,
        action=action,
        subject=f"notice:{row.id}",
        detail={"status": status, "note": note, **(detail or {})},
    )
