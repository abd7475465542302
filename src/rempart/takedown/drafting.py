"""Notices in the store: drafting them for confirmed copies, approving, recording a web form's
ticket and the recipient's answers, and reading them back with their history.

Every change is one transaction with its status event and its custody-log event (who, when).
Must not send anything (sending.py does) nor print (the CLI does).

    plan(db, registry=..., lookups=..., identity=..., operator=...)  # new drafts
    approve(db, notice_id, identity=..., operator=...)               # refused while a check fails
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.config import Identity
from rempart.errors import Conflict, InputError, NotFound
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import in_custody, record
from rempart.evidence.vault import Vault
from rempart.i18n import N_, Phrase, joined
from rempart.intake.cases import chain_of
from rempart.store.database import Database
from rempart.store.models import (
    Bank,
    CaptureRow,
    Case,
    CaseGround,
    Finding,
    FindingStatus,
    Item,
    NoticeEventRow,
    NoticeItemRow,
    NoticeRow,
    OutboxRow,
    Sighting,
    SourceRow,
)
from rempart.takedown.errors import ResolutionError, TakedownError
from rempart.takedown.followup import as_reuploads, link_reuploads, reuploads_for
from rempart.takedown.history import record_status
from rempart.takedown.notices import (
    DSA_TARGET,
    Check,
    Copy,
    LegalBasis,
    NoticeFacts,
    NoticeKind,
    NoticeStatus,
    blocking,
    checks,
    due_after,
    kind_for,
    language_for,
    render,
)
from rempart.takedown.recipients import (
    Channel,
    Lookups,
    Reason,
    Recipient,
    Resolution,
    _platform_recipient,
    resolve,
)
from rempart.takedown.registry import Registry, Role
from rempart.takedown.tracking import deadline_for, stored_deadline

__all__ = [
    "NoticeView",
    "Planned",
    "approve",
    "facts_of",
    "list_notices",
    "missing_for_notice",
    "notice",
    "plan",
    "reply",
    "submitted",
]

_NOTE_MAX = 2_000
_REPLIES = (
    NoticeStatus.ACKNOWLEDGED,
    NoticeStatus.REMOVED,
    NoticeStatus.DISABLED,
    NoticeStatus.REFUSED,
)
_ANSWERABLE = {
    "sent",
    "submitted",
    "acknowledged",
    "uncertain",
    "refused",
    "removed",
    "disabled",
    "no-answer",
}


def missing_for_notice(identity: Identity) -> tuple[str, ...]:
    """The identity keys a notice cannot go without (16(2)(c): name and e-mail)."""
    missing = []
    if not identity.name.strip():
        missing.append("organisation.name")
    if not identity.email.strip():
        missing.append("organisation.email")
    if identity.trusted_flagger and not identity.designation.strip():
        missing.append("organisation.designation")
    return tuple(missing)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor: str
    status: str
    note: str

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "status": self.status,
            "note": self.note or None,
        }


@dataclass(frozen=True, slots=True)
class NoticeView:
    """A notice as stored, with its copies and history."""

    id: int
    case: str | None
    minor: bool
    kind: str
    recipient_name: str
    recipient_role: str
    recipient_channel: str
    recipient_address: str
    recipient_platform: str
    provenance: dict[str, object]
    legal_basis: str
    take_it_down: bool
    references_only: bool
    language: str
    status: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None
    message_id: str | None
    message_sha256: str | None
    reference: str | None
    due_at: datetime | None
    copies: tuple[Copy, ...]
    history: tuple[HistoryEntry, ...]
    seal: tuple[dict[str, object], ...] = ()
    outbox_state: str | None = None
    last_error: str | None = None

    def overdue(self, now: datetime) -> bool:
        return (
            self.due_at is not None
            and self.due_at < now
            and self.status in ("sent", "submitted", "acknowledged", "no-answer")
        )

    def to_json(self) -> dict[str, object]:
        return {
            "notice": self.id,
            "case": self.case,
            "kind": self.kind,
            "recipient": {
                "name": self.recipient_name,
                "role": self.recipient_role,
                "channel": self.recipient_channel,
                "address": self.recipient_address,
                "platform": self.recipient_platform or None,
            },
            "legal_basis": self.legal_basis,
            "take_it_down": self.take_it_down,
            "references_only": self.references_only,
            "language": self.language,
            "urls": [c.url for c in self.copies],
            "copies": [
                {
                    "finding": c.finding,
                    "url": c.url,
                    "page_url": c.page_url,
                    "sha256": c.sha256,
                    "capture": c.capture,
                    "capture_sha256": c.capture_sha256,
                }
                for c in self.copies
            ],
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "message_id": self.message_id,
            "message_sha256": self.message_sha256,
            "reference": self.reference,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "outbox": self.outbox_state,
            "last_error": self.last_error,
            "seal": list(self.seal),
            "provenance": self.provenance,
            "history": [h.to_json() for h in self.history],
        }


@dataclass(frozen=True, slots=True)
class Planned:
    """What one `plan` run did: the notices drafted or extended, and the copies it could not
    resolve (their URL and the reason)."""

    notices: tuple[NoticeView, ...]
    unresolved: tuple[tuple[int, str, TakedownError], ...] = ()


# -------------------------------------------------------------------------------- reading


def _views(session: Session, rows: Sequence[NoticeRow]) -> list[NoticeView]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    items: dict[int, list[Copy]] = {}
    for item in session.scalars(
        select(NoticeItemRow).where(NoticeItemRow.notice_id.in_(ids)).order_by(NoticeItemRow.id)
    ):
        items.setdefault(item.notice_id, []).append(
            Copy(
                item.url,
                item.sha256,
                item.finding_id,
                item.page_url,
                item.capture_id,
                item.capture_sha256,
            )
        )
    history: dict[int, list[HistoryEntry]] = {}
    for event in session.scalars(
        select(NoticeEventRow).where(NoticeEventRow.notice_id.in_(ids)).order_by(NoticeEventRow.id)
    ):
        history.setdefault(event.notice_id, []).append(
            HistoryEntry(aware(event.at), event.actor, event.status, event.note)
        )
    outbox = {
        o.notice_id: o
        for o in session.scalars(select(OutboxRow).where(OutboxRow.notice_id.in_(ids)))
    }
    cases = {
        c.id: c
        for c in session.scalars(
            select(Case).where(Case.id.in_({r.case_id for r in rows if r.case_id}))
        )
    }
    views = []
    for row in rows:
        case = cases.get(row.case_id) if row.case_id else None
        box = outbox.get(row.id)
        views.append(
            NoticeView(
                id=row.id,
                case=case.name if case else None,
                minor=bool(case and case.minor),
                kind=row.kind,
                recipient_name=row.recipient_name,
                recipient_role=row.recipient_role,
                recipient_channel=row.recipient_channel,
                recipient_address=row.recipient_address,
                recipient_platform=row.recipient_platform,
                provenance=json.loads(row.provenance),
                legal_basis=row.legal_basis,
                take_it_down=row.take_it_down,
                references_only=row.references_only,
                language=row.language,
                status=row.status,
                created_at=aware(row.created_at),
                approved_by=row.approved_by,
                approved_at=aware(row.approved_at) if row.approved_at else None,
                sent_at=aware(row.sent_at) if row.sent_at else None,
                message_id=row.message_id,
                message_sha256=row.message_sha256,
                reference=row.reference,
                due_at=aware(row.due_at) if row.due_at else None,
                copies=tuple(items.get(row.id, ())),
                history=tuple(history.get(row.id, ())),
                seal=tuple(json.loads(row.seal)),
                outbox_state=box.state if box else None,
                last_error=box.last_error if box else None,
            )
        )
    return views


def notice(db: Database, notice_id: int) -> NoticeView:
    with db.session() as session:
        row = session.get(NoticeRow, notice_id)
        if row is None:
            raise NotFound("no notice {id} (see `rempart notices`)", id=notice_id)
        return _views(session, [row])[0]


def list_notices(
    db: Database,
    *,
    case: str | None = None,
    status: str | None = None,
    overdue_at: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[NoticeView]:
    query = select(NoticeRow).order_by(NoticeRow.id)
    if case is not None:
        query = query.join(Case, Case.id == NoticeRow.case_id).where(Case.name == case)
    if status is not None:
        query = query.where(NoticeRow.status == status)
    if ids is not None:
        query = query.where(NoticeRow.id.in_(list(ids)))
    with db.session() as session:
        if case is not None and session.scalar(select(Case.id).where(Case.name == case)) is None:
            raise NotFound("no case named {name!r} (see `rempart case list`)", name=case)
        views = _views(session, session.scalars(query).all())
    if overdue_at is not None:
        views = [v for v in views if v.overdue(overdue_at)]
    return views


def facts_of(view: NoticeView, identity: Identity) -> NoticeFacts:
    """What the notice says, from its stored facts and the organisation's identity."""
    return NoticeFacts(
        kind=NoticeKind(view.kind),
        case=view.case or "-",
        recipient_name=view.recipient_name,
        recipient_role=view.recipient_role,
        recipient_channel=view.recipient_channel,
        recipient_address=view.recipient_address,
        legal_basis=LegalBasis(view.legal_basis),
        language=view.language,
        copies=view.copies,
        sender=identity,
        notice=view.id,
        take_it_down=view.take_it_down,
        references_only=view.references_only,
        earlier=tuple(str(e) for e in view.provenance.get("earlier", ()) or ()),  # type: ignore[attr-defined]
        reuploads=as_reuploads(view.provenance.get("reuploads")),
    )


# ------------------------------------------------------------------------------- drafting


@dataclass(frozen=True, slots=True)
class _Candidate:
    finding: int
    case_id: int | None
    case: str
    minor: bool
    url: str
    page_url: str | None
    sha256: str
    source_kind: str
    capture: int | None
    capture_sha256: str | None
    covered: frozenset[str]


def _candidates(session: Session, case: str | None) -> list[_Candidate]:
    query = (
        select(Finding, Sighting, SourceRow.kind, Case)
        .join(Sighting, Sighting.id == Finding.sighting_id)
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .join(Item, Item.id == Finding.item_id)
        .join(Bank, Bank.id == Item.bank_id)
        .outerjoin(Case, Case.id == Bank.case_id)
        .where(Finding.status == FindingStatus.CONFIRMED)
        .order_by(Finding.id)
    )
    if case is not None:
        if session.scalar(select(Case.id).where(Case.name == case)) is None:
            raise NotFound("no case named {name!r} (see `rempart case list`)", name=case)
        query = query.where(Case.name == case)
    rows = session.execute(query).all()
    ids = [f.id for f, *_rest in rows]
    covered: dict[int, set[str]] = {}
    for finding_id, key in session.execute(
        select(NoticeItemRow.finding_id, NoticeRow.recipient_key)
        .join(NoticeRow, NoticeRow.id == NoticeItemRow.notice_id)
        .where(NoticeItemRow.finding_id.in_(ids))
    ):
        if finding_id is not None:
            covered.setdefault(finding_id, set()).add(key)
    captures: dict[int, CaptureRow] = {}
    for sealed in session.scalars(
        select(CaptureRow)
        .where(CaptureRow.finding_id.in_(ids), CaptureRow.status == "sealed")
        .order_by(CaptureRow.id)
    ):
        assert sealed.finding_id is not None
        captures[sealed.finding_id] = sealed  # the latest sealed capture wins
    out = []
    for finding, sighting, source_kind, case_row in rows:
        url = sighting.media_url or sighting.page_url or sighting.key
        capture = captures.get(finding.id)
        out.append(
            _Candidate(
                finding=finding.id,
                case_id=case_row.id if case_row else None,
                case=case_row.name if case_row else "-",
                minor=bool(case_row and case_row.minor),
                url=url,
                page_url=sighting.page_url,
                sha256=sighting.sha256,
                source_kind=source_kind,
                capture=capture.id if capture else None,
                capture_sha256=capture.bundle_sha256 if capture else None,
                covered=frozenset(covered.get(finding.id, ())),
            )
        )
    return out


def _key(kind: NoticeKind, recipient: Recipient) -> str:
    return f"{kind.value}:{recipient.channel.value}:{recipient.address or recipient.name}".lower()[
        :400
    ]


def _targets(resolution: Resolution, registry: Registry, *, minor: bool) -> list[Recipient]:
    """Who gets a notice now: the first to act (the host, else the CDN or the network, or
    the manual step) and the search engines; a minor's case: every child-protection channel.
    The rest of the chain is kept for escalation. Plus a Pharos report, ready to paste."""
    recipients = list(resolution.recipients)
    if minor:
        return recipients
    first = next((r for r in recipients if r.role is not Role.SEARCH), None)
    chosen = [first] if first is not None else []
    chosen += [r for r in recipients if r.role is Role.SEARCH]
    pharos = registry.get("pharos")
    if pharos is not None:
        chosen.append(
            _platform_recipient(
                pharos,
                Role.HOTLINE,
                Reason(
                    N_("{name} takes reports of illegal content for the French police"),
                    {"name": pharos.name},
                ),
            )
        )
    return chosen


def _ground(session: Session, case_id: int | None, basis: LegalBasis | None) -> LegalBasis:
    if basis is not None:
        return basis
    if case_id is None:
        return LegalBasis.LEAK
    row = session.get(CaseGround, case_id)
    return LegalBasis(row.basis) if row is not None else LegalBasis.LEAK


def plan(
    db: Database,
    *,
    registry: Registry,
    lookups: Lookups,
    identity: Identity,
    operator: str,
    case: str | None = None,
    basis: LegalBasis | None = None,
    headers: Callable[[int], dict[str, str]] | None = None,
    home_country: str = "FR",
    vault: Vault | None = None,
    clock: Clock = utc_now,
    dsa_target: timedelta = DSA_TARGET,
) -> Planned:
    """Draft notices for confirmed copies not yet covered, one per recipient and case (a
    recipient's existing draft gains the new copies). The raw lookup answers that chose each
    recipient go to the case's custody log with their digests, and their bytes to `vault`
    (as `lookups/<sha256>`) when one is given. `basis` given: recorded as the
    case's ground (with --case) and used for this run's drafts. Each draft keeps its deadline
    (`dsa_target`, 48 h under TAKE IT DOWN, the platform's response time when shorter), and
    cites the earlier removal of any copy that is a re-upload."""
    identity.require(missing_for_notice(identity))
    link_reuploads(db, clock=clock)
    with db.session() as session:
        candidates = _candidates(session, case)
    groups: dict[
        tuple[int | None, str], tuple[NoticeKind, Recipient, list[_Candidate], Resolution]
    ] = {}
    evidence: dict[tuple[int | None, str], list[dict[str, object]]] = {}
    unresolved: list[tuple[int, str, TakedownError]] = []
    for candidate in candidates:
        try:
            resolution = resolve(
                candidate.url,
                registry=registry,
                lookups=lookups,
                minor=candidate.minor,
                headers=headers(candidate.finding) if headers else None,
                source_kind=candidate.source_kind,
                home_country=home_country,
            )
        except ResolutionError as error:
            unresolved.append((candidate.finding, candidate.url, error))
            continue
        for recipient in _targets(resolution, registry, minor=candidate.minor):
            kind = kind_for(recipient, minor=candidate.minor)
            if (
                kind is NoticeKind.HOTLINE
                and recipient.platform == "pharos"
                and not candidate.minor
            ):
                kind = NoticeKind.PHAROS
            key = _key(kind, recipient)
            if key in candidate.covered:
                continue
            group = groups.setdefault((candidate.case_id, key), (kind, recipient, [], resolution))
            group[2].append(candidate)
            evidence.setdefault((candidate.case_id, key), []).extend(
                {"url": candidate.url[:500], **answer.custody_detail()}
                for answer in resolution.evidence
            )
        if vault is not None:
            for answer in resolution.evidence:
                if not vault.has(f"lookups/{answer.sha256}"):
                    vault.put(f"lookups/{answer.sha256}", answer.raw)
    drafted: list[int] = []
    for (case_id, key), (kind, recipient, members, resolution) in groups.items():

        def work(
            session: Session,
            case_id: int | None = case_id,
            key: str = key,
            kind: NoticeKind = kind,
            recipient: Recipient = recipient,
            members: list[_Candidate] = members,
            resolution: Resolution = resolution,
        ) -> int:
            now = clock()
            ground = _ground(session, case_id, basis)
            if basis is not None and case_id is not None:
                row_ground = session.get(CaseGround, case_id)
                if row_ground is None:
                    session.add(
                        CaseGround(case_id=case_id, basis=basis.value, set_by=operator, set_at=now)
                    )
                elif row_ground.basis != basis.value:
                    row_ground.basis, row_ground.set_by, row_ground.set_at = (
                        basis.value,
                        operator,
                        now,
                    )
            row = session.scalar(
                select(NoticeRow).where(
                    NoticeRow.recipient_key == key,
                    NoticeRow.status == NoticeStatus.DRAFTED.value,
                    NoticeRow.case_id.is_(None)
                    if case_id is None
                    else NoticeRow.case_id == case_id,
                )
            )
            chain = chain_of(case_id)
            if row is None:
                country = _country(registry, recipient)
                take_it_down = kind is NoticeKind.DSA and country == "US"
                deadline = deadline_for(
                    kind,
                    take_it_down=take_it_down,
                    response_time=_response_time(registry, recipient),
                    dsa_target=dsa_target,
                )
                provenance = _provenance(recipient, resolution)
                provenance["deadline_s"] = int(deadline.total_seconds()) if deadline else None
                row = NoticeRow(
                    case_id=case_id,
                    kind=kind.value,
                    recipient_key=key,
                    recipient_name=recipient.name[:300],
                    recipient_role=recipient.role.value,
                    recipient_channel=recipient.channel.value,
                    recipient_address=recipient.address[:500],
                    recipient_platform=recipient.platform,
                    recipient_country=country,
                    provenance=json.dumps(provenance, ensure_ascii=False),
                    legal_basis=ground.value,
                    take_it_down=take_it_down,
                    references_only=recipient.references_only or kind is NoticeKind.HOTLINE,
                    language=language_for(_language(registry, recipient), country),
                    status=NoticeStatus.DRAFTED.value,
                    created_at=now,
                    created_by=operator,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                session.add(
                    NoticeEventRow(
                        notice_id=row.id,
                        at=now,
                        actor=operator,
                        status=NoticeStatus.DRAFTED.value,
                        note="",
                    )
                )
            answers = evidence.get((case_id, key), [])
            if answers:
                record(
                    session,
                    chain,
                    at=now,
                    actor=operator,
                    action=CustodyAction.LOOKUP,
                    subject=f"notice:{row.id}",
                    detail={"answers": _unique(answers)},
                )
            for member in members:
                session.add(
                    NoticeItemRow(
                        notice_id=row.id,
                        finding_id=member.finding,
                        url=member.url,
                        page_url=member.page_url,
                        sha256=member.sha256,
                        capture_id=member.capture,
                        capture_sha256=member.capture_sha256,
                    )
                )
            session.flush()
            reuploads = reuploads_for(session, [m.finding for m in members])
            if reuploads:
                stored = json.loads(row.provenance or "{}")
                known = {r.get("finding") for r in stored.get("reuploads", [])}
                stored["reuploads"] = stored.get("reuploads", []) + [
                    r for r in reuploads if r["finding"] not in known
                ]
                row.provenance = json.dumps(stored, ensure_ascii=False)
            record(
                session,
                chain,
                at=now,
                actor=operator,
                action=CustodyAction.NOTICE_DRAFT,
                subject=f"notice:{row.id}",
                detail={
                    "kind": kind.value,
                    "recipient": recipient.address or recipient.name,
                    "findings": [m.finding for m in members],
                    "legal_basis": ground.value,
                },
            )
            row.updated_at = now
            return row.id

        drafted.append(in_custody(db, work))
    views = list_notices(db, ids=sorted(set(drafted))) if drafted else []
    return Planned(tuple(views), tuple(unresolved))


def _unique(answers: list[dict[str, object]]) -> list[dict[str, object]]:
    seen: set[tuple[object, object]] = set()
    out = []
    for answer in answers:
        if (answer["query"], answer["sha256"]) not in seen:
            seen.add((answer["query"], answer["sha256"]))
            out.append(answer)
    return out[:200]


def _country(registry: Registry, recipient: Recipient) -> str:
    platform = registry.get(recipient.platform) if recipient.platform else None
    fact = platform.fact("country") if platform else None
    return fact.value if fact else ""


def _response_time(registry: Registry, recipient: Recipient) -> str | None:
    platform = registry.get(recipient.platform) if recipient.platform else None
    fact = platform.fact("response_time") if platform else None
    return fact.value if fact else None


def _language(registry: Registry, recipient: Recipient) -> str:
    platform = registry.get(recipient.platform) if recipient.platform else None
    fact = platform.fact("language") if platform else None
    return fact.value if fact else ""


def _provenance(recipient: Recipient, resolution: Resolution) -> dict[str, object]:
    """Why this recipient, on what sources, and the rest of the chain (for escalation)."""
    detail = recipient.as_json("en")
    return {
        "why": detail["why"],
        "why_template": recipient.why.template,
        "why_values": {k: str(v) for k, v in recipient.why.values.items()},
        "sources": detail["sources"],
        "alternatives": [[c.value, a] for c, a in recipient.alternatives],
        "chain": [
            {
                "name": r.name,
                "role": r.role.value,
                "channel": r.channel.value,
                "address": r.address,
                "platform": r.platform or None,
            }
            for r in resolution.recipients
        ],
        "problems": [str(p) for p in resolution.problems][:20],
        "earlier": [],
    }


# ------------------------------------------------------------------------- decisions


def _row(session: Session, notice_id: int) -> NoticeRow:
    row = session.get(NoticeRow, notice_id)
    if row is None:
        raise NotFound("no notice {id} (see `rempart notices`)", id=notice_id)
    return row


class ChecksFailed(InputError):
    """A notice cannot be approved: an element the law requires is missing."""


def approve(
    db: Database, notice_id: int, *, identity: Identity, operator: str, clock: Clock = utc_now
) -> tuple[NoticeView, tuple[Check, ...]]:
    """Approve a drafted notice once every required element is present. The checks as they
    stood, the text's digest and the operator go to the custody log. E-mail notices enter
    the outbox with the key that makes their Message-ID."""
    if not operator.strip():
        raise InputError("say who approves (REMPART_OPERATOR or caseworker.name)")
    identity.require(missing_for_notice(identity))
    view = notice(db, notice_id)
    if view.status != NoticeStatus.DRAFTED.value:
        raise Conflict(
            "notice {id} is {status}, not a draft: it cannot be approved again",
            id=notice_id,
            status=view.status,
        )
    facts = facts_of(view, identity)
    found = checks(facts)
    failed = blocking(found)
    if failed:
        raise ChecksFailed(
            "notice {id} cannot be approved: {missing} (see `rempart notify show {id}`)",
            id=notice_id,
            missing=joined(
                Phrase("{code} {element}", code=c.code, element=Phrase(c.label)) for c in failed
            ),
        )
    text = render(facts)
    digest = hashlib.sha256((text.subject + "\n" + text.body).encode()).hexdigest()

    def work(session: Session) -> None:
        row = _row(session, notice_id)
        if row.status != NoticeStatus.DRAFTED.value:
            raise Conflict("notice {id} was approved meanwhile", id=notice_id)
        now = clock()
        row.approved_at, row.approved_by = now, operator
        record_status(
            session,
            row,
            at=now,
            actor=operator,
            status=NoticeStatus.APPROVED.value,
            action=CustodyAction.NOTICE_APPROVE,
            detail={
                "checks": [{"code": c.code, "ok": c.ok} for c in found],
                "text_sha256": digest,
                "trusted_flagger": identity.trusted_flagger,
            },
        )
        if row.recipient_channel == Channel.EMAIL.value:
            session.add(
                OutboxRow(
                    notice_id=row.id,
                    idempotency_key=secrets.token_hex(16),
                    state="queued",
                    attempts=0,
                    updated_at=now,
                )
            )

    in_custody(db, work)
    return notice(db, notice_id), found


def submitted(
    db: Database, notice_id: int, *, reference: str, operator: str, clock: Clock = utc_now
) -> NoticeView:
    """Record that the caseworker submitted an approved web-form notice, with its ticket."""
    reference = reference.strip()
    if not reference or len(reference) > 300 or any(ord(c) < 32 for c in reference):
        raise InputError("give the ticket number the form showed (--reference), on one line")

    def work(session: Session) -> None:
        row = _row(session, notice_id)
        if row.status != NoticeStatus.APPROVED.value:
            raise Conflict(
                "notice {id} is {status}: only an approved notice is submitted",
                id=notice_id,
                status=row.status,
            )
        if row.recipient_channel == Channel.EMAIL.value:
            raise Conflict(
                "notice {id} goes by e-mail: send it with `rempart notify send {id}`", id=notice_id
            )
        now = clock()
        row.reference, row.sent_at = reference, now
        row.due_at = due_after(
            NoticeKind(row.kind), row.take_it_down, now, deadline=stored_deadline(row.provenance)
        )
        record_status(
            session,
            row,
            at=now,
            actor=operator,
            status=NoticeStatus.SUBMITTED.value,
            note=reference,
            detail={"reference": reference},
        )

    in_custody(db, work)
    return notice(db, notice_id)


def reply(
    db: Database,
    notice_id: int,
    *,
    status: NoticeStatus,
    operator: str,
    note: str = "",
    clock: Clock = utc_now,
) -> NoticeView:
    """Record the recipient's answer: acknowledged, removed, disabled or refused."""
    if status not in _REPLIES:
        raise InputError("a reply is acknowledged, removed, disabled or refused")
    if len(note) > _NOTE_MAX:
        raise InputError("a note holds at most {n} characters", n=_NOTE_MAX)

    def work(session: Session) -> None:
        row = _row(session, notice_id)
        if row.status not in _ANSWERABLE:
            raise Conflict(
                "notice {id} is {status}: it has not reached its recipient yet",
                id=notice_id,
                status=row.status,
            )
        record_status(session, row, at=clock(), actor=operator, status=status.value, note=note)

    in_custody(db, work)
    return notice(db, notice_id)
