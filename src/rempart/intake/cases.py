"""Case use cases: open a case under a pseudonym, mark whether a minor is involved, attach
banks to it, read it back.

A case never holds a victim's legal name; must not print or decide on matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import column, func, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.errors import Conflict, InputError, NotFound
from rempart.store.database import Database
from rempart.store.tables.banks import Bank, Case

# Findings counted by status, read as two plain columns: `case list` then maps only the
# banks' tables, not the scans' (start-up, bench/startup.py).
_FINDINGS = table("findings", column("bank"), column("status"))

__all__ = [
    "CaseInfo",
    "attach_bank",
    "case_info",
    "chain_of",
    "create_case",
    "list_cases",
]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: int
    name: str
    minor: bool
    description: str
    created_at: datetime
    banks: tuple[str, ...]
    findings: int
    confirmed: int

    @property
    def chain(self) -> str:
        return chain_of(self.id)

    def to_json(self) -> dict[str, object]:
        return {
            "case": self.name,
            "minor": self.minor,
            "description": self.description,
            "created_at": self.created_at.isoformat(),
            "banks": list(self.banks),
            "findings": self.findings,
            "confirmed": self.confirmed,
        }


def chain_of(case_id: int | None) -> str:
    """The custody chain a case's events go to; what belongs to no case goes to "org"."""
    return "org" if case_id is None else f"case:{case_id}"


def _case(session: Session, name: str) -> Case:
    case = session.scalar(select(Case).where(Case.name == name))
    if case is None:
        raise NotFound("no case named {name!r} (see `rempart case list`)", name=name)
    return case


def create_case(
    db: Database, name: str, *, minor: bool = False, description: str = "", clock: Clock = utc_now
) -> CaseInfo:
    if not name or len(name) > 100 or not set(name) <= _NAME_CHARS:
        raise InputError(
            "a case name is a pseudonym of 1-100 letters, digits, '-', '_' or '.' "
            "(never the victim's name)"
        )
    if len(description) > 500:
        raise InputError("a case description holds at most 500 characters")
    try:
        with db.session() as session:
            session.add(Case(name=name, minor=minor, description=description, created_at=clock()))
    except IntegrityError as exc:
        raise Conflict("a case named {name!r} already exists", name=name) from exc
    return case_info(db, name)


def attach_bank(db: Database, case: str, bank: str) -> CaseInfo:
    """Put a bank's items under a case (its findings then follow the case's rules)."""
    with db.session() as session:
        row = session.scalar(select(Bank).where(Bank.name == bank))
        if row is None:
            raise NotFound("no bank named {name!r} (see `rempart bank list`)", name=bank)
        row.case_id = _case(session, case).id
    return case_info(db, case)


def list_cases(db: Database) -> list[CaseInfo]:
    """Every case, by name: three queries whatever their number (the dashboard's and the
    cases page's list, on every request)."""
    with db.session() as session:
        cases = session.scalars(select(Case).order_by(Case.name)).all()
        banks: dict[int | None, list[str]] = {}
        for case_id, bank in session.execute(
            select(Bank.case_id, Bank.name).where(Bank.case_id.is_not(None)).order_by(Bank.name)
        ):
            banks.setdefault(case_id, []).append(bank)
        counts: dict[int | None, dict[str, int]] = {}
        for case_id, status, n in session.execute(
            select(Bank.case_id, _FINDINGS.c.status, func.count())
            .select_from(_FINDINGS)
            .join(Bank, Bank.name == _FINDINGS.c.bank)
            .where(Bank.case_id.is_not(None))
            .group_by(Bank.case_id, _FINDINGS.c.status)
        ):
            counts.setdefault(case_id, {})[str(status)] = int(n)
        return [
            CaseInfo(
                id=case.id,
                name=case.name,
                minor=case.minor,
                description=case.description,
                created_at=aware(case.created_at),
                banks=tuple(banks.get(case.id, ())),
                findings=sum(counts.get(case.id, {}).values()),
                confirmed=counts.get(case.id, {}).get("confirmed", 0),
            )
            for case in cases
        ]


def case_info(db: Database, name: str) -> CaseInfo:
    with db.session() as session:
        case = _case(session, name)
        banks = session.scalars(
            select(Bank.name).where(Bank.case_id == case.id).order_by(Bank.name)
        )
        counts = session.execute(
            select(_FINDINGS.c.status, func.count())
            .select_from(_FINDINGS)
            .join(Bank, Bank.name == _FINDINGS.c.bank)
            .where(Bank.case_id == case.id)
            .group_by(_FINDINGS.c.status)
        ).all()
        by_status = {str(status): int(n) for status, n in counts}
        return CaseInfo(
            id=case.id,
            name=case.name,
            minor=case.minor,
            description=case.description,
            created_at=aware(case.created_at),
            banks=tuple(banks),
            findings=sum(by_status.values()),
            confirmed=by_status.get("confirmed", 0),
        )
