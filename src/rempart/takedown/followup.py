"""Following notices up in the store: a notice becomes `removed` when re-checks prove all its
copies gone, `no-answer` when its due date passes unanswered; lapsed notices get the next
step drafted (rempart.takedown.escalation decides); copies found again are linked to the
earlier copy of their item that was notified or removed (re-uploads).

Every change is one transaction with its history line and custody event. Must not send,
fetch or print.

    sync(db, clock=clock)                                       # removals, no answers
    escalate(db, registry=..., identity=..., operator=...)      # drafts what is due
    link_reuploads(db)                                          # re-uploads linked
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.config import Identity
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import in_custody, record
from rempart.i18n import N_
from rempart.intake.cases import chain_of
from rempart.store.database import Database
from rempart.store.models import (
    Case,
    Finding,
    FindingReupload,
    FindingStatus,
    NoticeEscalation,
    NoticeEventRow,
    NoticeItemRow,
    NoticeRow,
    RecheckSchedule,
    Sighting,
    UrlCheck,
)
from rempart.takedown.escalation import Escalation, Lapsed, Step, citation, decide
from rempart.takedown.history import record_status
from rempart.takedown.notices import DSA_TARGET, NoticeStatus, Reupload
from rempart.takedown.tracking import LEFT, deadline_for, time_to_removal, url_state

__all__ = [
    "Synced",
    "escalate",
    "escalations_of",
    "link_reuploads",
    "reupload_of",
    "reuploads_for",
    "sync",
    "tracking_of",
    "url_states",
]

_ESCALATION_WHY = N_(
    "notice {id} went past its due date with the copy still online: {step} is next in the chain"
)
ACTOR = "rempart"  # who records what the re-checks and the calendar decide
_OPEN = ("sent", "submitted", "acknowledged", "no-answer", "uncertain", "refused")
_UNANSWERED = ("sent", "submitted")


@dataclass(frozen=True, slots=True)
class Synced:
    """What one `sync` changed: notices found removed, notices past due without answer."""

    removed: tuple[int, ...] = ()
    no_answer: tuple[int, ...] = ()


def sync(db: Database, *, clock: Clock = utc_now) -> Synced:
    """Bring every open notice up to date with the re-checks and the calendar: `removed`
    (with the re-checks and sealed captures that prove it) once every copy it lists was
    found removed; `no-answer` once its due date passed while it was only sent."""

    def work(session: Session) -> Synced:
        now = clock()
        rows = session.scalars(
            select(NoticeRow).where(NoticeRow.status.in_(_OPEN)).order_by(NoticeRow.id)
        ).all()
        if not rows:
            return Synced()
        items = _items(session, [r.id for r in rows])
        findings = {f for fs in items.values() for f in fs}
        schedules = {
            s.finding_id: s
            for s in session.scalars(
                select(RecheckSchedule).where(RecheckSchedule.finding_id.in_(findings))
            )
        }
        removed, silent = [], []
        for row in rows:
            covered = items.get(row.id, [])
            gone = [schedules.get(f) for f in covered]
            if covered and all(s is not None and s.status == "removed" for s in gone):
                proofs = _removal_checks(session, covered)
                first = min(aware(s.removed_at or s.last_checked_at) for s in gone if s)
                note = ", ".join(
                    f"check {p['check']}" + (f" / capture {p['capture']}" if p["capture"] else "")
                    for p in proofs
                )
                record_status(
                    session,
                    row,
                    at=now,
                    actor=ACTOR,
                    status=NoticeStatus.REMOVED.value,
                    note=note[:2000],
                    detail={"removed_at": first.isoformat(), "checks": proofs},
                )
                removed.append(row.id)
            elif row.status in _UNANSWERED and row.due_at is not None and aware(row.due_at) < now:
                record_status(
                    session,
                    row,
                    at=now,
                    actor=ACTOR,
                    status=NoticeStatus.NO_ANSWER.value,
                    note=aware(row.due_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    detail={"due_at": aware(row.due_at).isoformat()},
                )
                silent.append(row.id)
        return Synced(tuple(removed), tuple(silent))

    return in_custody(db, work)


def _items(session: Session, notice_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for notice_id, finding_id in session.execute(
        select(NoticeItemRow.notice_id, NoticeItemRow.finding_id).where(
            NoticeItemRow.notice_id.in_(list(notice_ids))
        )
    ):
        if finding_id is not None:
            found[notice_id].append(finding_id)
    return found


def _removal_checks(session: Session, findings: Iterable[int]) -> list[dict[str, object]]:
    """The first re-check of each copy that found it removed, and its sealed capture."""
    proofs = []
    for finding in sorted(set(findings)):
        check = session.scalars(
            select(UrlCheck)
            .where(UrlCheck.finding_id == finding, UrlCheck.status == "removed")
            .order_by(UrlCheck.capture_id.is_(None), UrlCheck.id.desc())
            .limit(1)
        ).first()
        if check is not None:
            proofs.append(
                {
                    "finding": finding,
                    "check": check.id,
                    "checked_at": aware(check.checked_at).isoformat(),
                    "capture": check.capture_id,
                }
            )
    return proofs


# ---------------------------------------------------------------------------- escalation


def _lapsed(row: NoticeRow, findings: list[int]) -> Lapsed:
    provenance = json.loads(row.provenance or "{}")
    chain = tuple(
        Step.from_json(s) for s in provenance.get("chain", ()) or () if isinstance(s, dict)
    )
    return Lapsed(
        id=row.id,
        kind=row.kind,
        role=row.recipient_role,
        status=row.status,
        recipient_name=row.recipient_name,
        recipient_address=row.recipient_address,
        sent_at=aware(row.sent_at) if row.sent_at else None,
        due_at=aware(row.due_at) if row.due_at else None,
        message_id=row.message_id,
        reference=row.reference,
        chain=chain,
        findings=tuple(findings),
        earlier=tuple(str(e) for e in provenance.get("earlier", ()) or ()),
    )


def escalate(
    db: Database,
    *,
    identity: Identity,
    operator: str,
    case: str | None = None,
    dsa_target: timedelta = DSA_TARGET,
    clock: Clock = utc_now,
) -> list[int]:
    """Draft the next step for every notice whose deadline lapsed while a copy it lists is
    still online (its last re-check: online, changed or unreachable). Each draft is an
    ordinary notice awaiting approval, citing the notices before it. Returns their ids."""
    identity.require(("organisation.name",) if not identity.name.strip() else ())
    sync(db, clock=clock)

    def work(session: Session) -> list[int]:
        now = clock()
        query = select(NoticeRow).where(NoticeRow.status.in_(_OPEN), NoticeRow.due_at.is_not(None))
        if case is not None:
            query = query.join(Case, Case.id == NoticeRow.case_id).where(Case.name == case)
        rows = [r for r in session.scalars(query.order_by(NoticeRow.id)) if aware(r.due_at) < now]  # type: ignore[arg-type]
        if not rows:
            return []
        items = _items(session, [r.id for r in rows])
        findings = {f for fs in items.values() for f in fs}
        status = dict(
            session.execute(
                select(RecheckSchedule.finding_id, RecheckSchedule.status).where(
                    RecheckSchedule.finding_id.in_(findings)
                )
            ).all()
        )
        done = set(
            session.scalars(
                select(NoticeEscalation.earlier_notice_id).where(
                    NoticeEscalation.earlier_notice_id.in_([r.id for r in rows])
                )
            )
        )
        drafted = []
        for row in rows:
            notified = _notified(session, row.case_id, items.get(row.id, []))
            decision = decide(
                _lapsed(row, items.get(row.id, [])),
                now=now,
                copy_status=status,
                notified=notified,
                escalated=row.id in done,
            )
            if decision is not None:
                drafted.append(_draft(session, row, decision, operator, now, dsa_target))
        return drafted

    return in_custody(db, work)


def _notified(session: Session, case_id: int | None, findings: list[int]) -> set[str]:
    """Who already holds a notice about any of these copies (address or name, lower case)."""
    rows = session.execute(
        select(NoticeRow.recipient_address, NoticeRow.recipient_name)
        .join(NoticeItemRow, NoticeItemRow.notice_id == NoticeRow.id)
        .where(NoticeItemRow.finding_id.in_(findings))
    ).all()
    return {(address or name).lower() for address, name in rows}


def _draft(
    session: Session,
    earlier: NoticeRow,
    decision: Escalation,
    operator: str,
    now: datetime,
    dsa_target: timedelta,
) -> int:
    step = decision.step
    provenance = json.loads(earlier.provenance or "{}")
    deadline = deadline_for(decision.kind, take_it_down=False, dsa_target=dsa_target)
    row = NoticeRow(
        case_id=earlier.case_id,
        kind=decision.kind.value,
        recipient_key=f"{decision.kind.value}:{step.channel}:{step.key}"[:400],
        recipient_name=step.name[:300],
        recipient_role=step.role[:20],
        recipient_channel=step.channel,
        recipient_address=step.address[:500],
        recipient_platform=step.platform or "",
        recipient_country="FR" if step.role == "regulator" else "",
        provenance=json.dumps(
            {
                "why": _ESCALATION_WHY.format(id=earlier.id, step=step.name),
                "why_template": _ESCALATION_WHY,
                "why_values": {"id": str(earlier.id), "step": step.name},
                "sources": [],
                "alternatives": [],
                "chain": provenance.get("chain", []),
                "problems": [],
                "earlier": list(decision.cites),
                "escalates": earlier.id,
                "deadline_s": int(deadline.total_seconds()) if deadline else None,
                "reuploads": provenance.get("reuploads", []),
            },
            ensure_ascii=False,
        ),
        legal_basis=earlier.legal_basis,
        take_it_down=False,
        references_only=earlier.references_only,
        language="fr" if step.role == "regulator" else earlier.language,
        status=NoticeStatus.DRAFTED.value,
        created_at=now,
        created_by=operator,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add(
        NoticeEscalation(notice_id=row.id, earlier_notice_id=earlier.id, step=step.role, at=now)
    )
    session.add(
        NoticeEventRow(
            notice_id=row.id, at=now, actor=operator, status="drafted", note=f"n° {earlier.id}"
        )
    )
    wanted = set(decision.findings)
    for item in session.scalars(
        select(NoticeItemRow)
        .where(NoticeItemRow.notice_id == earlier.id)
        .order_by(NoticeItemRow.id)
    ):
        if item.finding_id in wanted:
            session.add(
                NoticeItemRow(
                    notice_id=row.id,
                    finding_id=item.finding_id,
                    url=item.url,
                    page_url=item.page_url,
                    sha256=item.sha256,
                    capture_id=item.capture_id,
                    capture_sha256=item.capture_sha256,
                )
            )
    record(
        session,
        chain_of(row.case_id),
        at=now,
        actor=operator,
        action=CustodyAction.NOTICE_DRAFT,
        subject=f"notice:{row.id}",
        detail={
            "kind": decision.kind.value,
            "recipient": step.address or step.name,
            "findings": list(decision.findings),
            "escalates": earlier.id,
            "cites": list(decision.cites),
        },
    )
    return row.id


def escalations_of(db: Database, notice_ids: Sequence[int]) -> dict[int, dict[str, object]]:
    """For each notice: the notice it escalates (`follows`) and those escalating it (`next`)."""
    found: dict[int, dict[str, object]] = {}
    with db.session() as session:
        for row in session.scalars(
            select(NoticeEscalation).where(
                NoticeEscalation.notice_id.in_(list(notice_ids))
                | NoticeEscalation.earlier_notice_id.in_(list(notice_ids))
            )
        ):
            found.setdefault(row.notice_id, {}).update(
                {"follows": row.earlier_notice_id, "step": row.step}
            )
            nexts = found.setdefault(row.earlier_notice_id, {}).setdefault("next", [])
            assert isinstance(nexts, list)
            nexts.append(row.notice_id)
    return found


# ----------------------------------------------------------------------------- re-uploads


def link_reuploads(db: Database, *, clock: Clock = utc_now) -> list[tuple[int, int]]:
    """Link each confirmed or pending copy to the earliest other copy of the same item that
    was already notified (a notice about it left) or found removed: it is a re-upload.
    Idempotent; returns the new links (finding, earlier finding)."""

    def work(session: Session) -> list[tuple[int, int]]:
        now = clock()
        earlier: dict[int, tuple[int, str]] = {}  # item -> (earliest finding, why)
        for finding, item in session.execute(
            select(NoticeItemRow.finding_id, Finding.item_id)
            .join(NoticeRow, NoticeRow.id == NoticeItemRow.notice_id)
            .join(Finding, Finding.id == NoticeItemRow.finding_id)
            .where(NoticeRow.status.in_(sorted(LEFT)))
        ):
            if finding is not None and (item not in earlier or finding < earlier[item][0]):
                earlier[item] = (finding, "notified")
        for finding, item in session.execute(
            select(RecheckSchedule.finding_id, Finding.item_id)
            .join(Finding, Finding.id == RecheckSchedule.finding_id)
            .where(RecheckSchedule.status == "removed")
        ):
            if item not in earlier or finding < earlier[item][0]:
                earlier[item] = (finding, "removed")
        if not earlier:
            return []
        linked = set(session.scalars(select(FindingReupload.finding_id)))
        made = []
        for finding, item in session.execute(
            select(Finding.id, Finding.item_id)
            .where(
                Finding.item_id.in_(list(earlier)),
                Finding.status != FindingStatus.REJECTED,
            )
            .order_by(Finding.id)
        ):
            first, why = earlier[item]
            if finding <= first or finding in linked:
                continue
            session.add(
                FindingReupload(
                    finding_id=finding, earlier_finding_id=first, why=why, linked_at=now
                )
            )
            made.append((finding, first))
        return made

    return in_custody(db, work)


def reupload_of(db: Database, finding_ids: Iterable[int]) -> dict[int, int]:
    """Each re-uploaded copy's earlier copy (finding ids); a copy since rejected is none."""
    wanted = list(finding_ids)
    with db.session() as session:
        return dict(
            session.execute(
                select(FindingReupload.finding_id, FindingReupload.earlier_finding_id)
                .join(Finding, Finding.id == FindingReupload.finding_id)
                .where(
                    FindingReupload.finding_id.in_(wanted),
                    Finding.status != FindingStatus.REJECTED,
                )
            ).all()
        )


def reuploads_for(session: Session, finding_ids: Iterable[int]) -> list[dict[str, object]]:
    """What a notice about these copies cites of their earlier copies: the earlier URL, when
    it was found removed, and the notices that left about it (as `Reupload` fields)."""
    links = session.execute(
        select(FindingReupload.finding_id, FindingReupload.earlier_finding_id).where(
            FindingReupload.finding_id.in_(list(finding_ids))
        )
    ).all()
    out = []
    for finding, first in links:
        url = _url(session, finding)
        earlier_url = _url(session, first)
        schedule = session.get(RecheckSchedule, first)
        removed_on = (
            aware(schedule.removed_at).strftime("%Y-%m-%d")
            if schedule is not None and schedule.removed_at is not None
            else ""
        )
        notices = session.scalars(
            select(NoticeRow)
            .join(NoticeItemRow, NoticeItemRow.notice_id == NoticeRow.id)
            .where(NoticeItemRow.finding_id == first, NoticeRow.status.in_(sorted(LEFT)))
            .order_by(NoticeRow.id)
        ).all()
        notified = [citation(_lapsed(n, [])) for n in notices][:10]
        out.append(
            {
                "finding": finding,
                "earlier_finding": first,
                "url": url,
                "earlier_url": earlier_url,
                "removed_on": removed_on,
                "notified": notified,
            }
        )
    return out


def _url(session: Session, finding: int) -> str:
    sighting = session.scalar(
        select(Sighting)
        .join(Finding, Finding.sighting_id == Sighting.id)
        .where(Finding.id == finding)
    )
    if sighting is None:
        return ""
    return sighting.media_url or sighting.page_url or sighting.key


def as_reuploads(values: object) -> tuple[Reupload, ...]:
    """The `reuploads` of a notice's provenance as values for its text."""
    if not isinstance(values, list):
        return ()
    return tuple(
        Reupload(
            url=str(v.get("url", "")),
            earlier_url=str(v.get("earlier_url", "")),
            removed_on=str(v.get("removed_on", "")),
            notified=tuple(str(n) for n in v.get("notified", ()) or ()),
        )
        for v in values
        if isinstance(v, dict)
    )


# ------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Tracking:
    """A notice's follow-up: when its copies were first found removed, time to removal,
    what it escalates and what escalated it, and which of its copies are re-uploads."""

    removed_at: datetime | None = None
    time_to_removal: timedelta | None = None
    follows: int | None = None
    next: tuple[int, ...] = ()
    reuploads: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "removed_at": self.removed_at.isoformat() if self.removed_at else None,
            "time_to_removal_s": int(self.time_to_removal.total_seconds())
            if self.time_to_removal is not None
            else None,
            "escalates": self.follows,
            "escalated_to": list(self.next),
            "reuploads": list(self.reuploads),
        }


def tracking_of(
    db: Database, notices: Sequence[tuple[int, datetime | None, Sequence[int]]]
) -> dict[int, Tracking]:
    """For (notice id, sent_at, finding ids) triples: each notice's follow-up. The copies'
    removal is the last of their first removals (all gone), measured by the re-checks."""
    ids = [n for n, _sent, _f in notices]
    findings = {f for _n, _s, fs in notices for f in fs}
    links = escalations_of(db, ids)
    with db.session() as session:
        removed = {
            f: aware(at)
            for f, at in session.execute(
                select(RecheckSchedule.finding_id, RecheckSchedule.removed_at).where(
                    RecheckSchedule.finding_id.in_(findings),
                    RecheckSchedule.status == "removed",
                )
            )
            if at is not None
        }
        reup = set(
            session.scalars(
                select(FindingReupload.finding_id).where(FindingReupload.finding_id.in_(findings))
            )
        )
    out = {}
    for notice_id, sent_at, fs in notices:
        gone = [removed.get(f) for f in fs]
        at = max(gone) if fs and all(g is not None for g in gone) else None  # type: ignore[type-var]
        link = links.get(notice_id, {})
        follows = link.get("follows")
        out[notice_id] = Tracking(
            removed_at=at,
            time_to_removal=time_to_removal(sent_at, at),
            follows=follows if isinstance(follows, int) else None,
            next=tuple(link.get("next", ()) or ()),  # type: ignore[arg-type]
            reuploads=tuple(sorted(f for f in fs if f in reup)),
        )
    return out


def url_states(db: Database, finding_ids: Iterable[int]) -> dict[int, dict[str, object]]:
    """Each copy's takedown state (rempart.takedown.tracking.url_state) and its history:
    every status change of the notices covering it and every re-check, oldest first."""
    wanted = list(finding_ids)
    history: dict[int, list[tuple[datetime, dict[str, object]]]] = defaultdict(list)
    statuses: dict[int, list[str]] = defaultdict(list)
    with db.session() as session:
        covering = session.execute(
            select(NoticeItemRow.finding_id, NoticeRow.id, NoticeRow.status)
            .join(NoticeRow, NoticeRow.id == NoticeItemRow.notice_id)
            .where(NoticeItemRow.finding_id.in_(wanted))
        ).all()
        by_notice: dict[int, list[int]] = defaultdict(list)
        for finding, notice_id, status in covering:
            if finding is not None:
                by_notice[notice_id].append(finding)
                statuses[finding].append(status)
        for event in session.scalars(
            select(NoticeEventRow)
            .where(NoticeEventRow.notice_id.in_(list(by_notice)))
            .order_by(NoticeEventRow.id)
        ):
            for finding in by_notice[event.notice_id]:
                history[finding].append(
                    (
                        aware(event.at),
                        {
                            "at": aware(event.at).isoformat(),
                            "status": event.status,
                            "notice": event.notice_id,
                        },
                    )
                )
        for check in session.scalars(
            select(UrlCheck).where(UrlCheck.finding_id.in_(wanted)).order_by(UrlCheck.id)
        ):
            history[check.finding_id].append(
                (
                    aware(check.checked_at),
                    {
                        "at": aware(check.checked_at).isoformat(),
                        "status": check.status,
                        "check": check.id,
                        "url": check.url,
                    },
                )
            )
        last = dict(
            session.execute(
                select(RecheckSchedule.finding_id, RecheckSchedule.status).where(
                    RecheckSchedule.finding_id.in_(wanted)
                )
            ).all()
        )
    return {
        f: {
            "state": url_state(statuses.get(f, ()), last.get(f)),
            "history": [entry for _at, entry in sorted(history.get(f, []), key=lambda e: e[0])],
        }
        for f in wanted
    }
