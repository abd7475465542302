"""Gathering a case's complaint dossier from the store and the vault: the confirmed copies
(pending matches only when asked, for a separate annex), when and by whom each was posted,
every sealed capture whatever its kind, in the organisation's name. Logged once as an export.

Must not render or print: rempart.evidence.dossier lays the values out, the CLI writes files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.config import Identity, MissingIdentity
from rempart.errors import InputError
from rempart.evidence.custody import CustodyAction
from rempart.evidence.dossier import (
    Dossier,
    DossierBundle,
    DossierCapture,
    DossierCase,
    DossierFinding,
    DossierMatch,
    DossierNotice,
    SealTimestamp,
    events_from_findings,
)
from rempart.evidence.dossier import FindingStatus as DossierStatus
from rempart.evidence.held import held_name
from rempart.evidence.ledger import in_custody, record
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info, chain_of
from rempart.jobs.evidence import CaptureOutcome, list_captures
from rempart.jobs.findings import FindingView, list_findings
from rempart.store.database import Database
from rempart.store.models import CaptureRow, FindingStatus

__all__ = ["MissingIdentity", "build_dossier", "require_identity"]


def require_identity(identity: Identity) -> None:
    """Refuse, saying the exact command to run, when the identity a dossier shows is unset."""
    identity.require(identity.missing_for_dossier())


def build_dossier(
    db: Database,
    vault: Vault,
    case: str,
    *,
    languages: Sequence[str],
    identity: Identity,
    include_pending: bool = False,
    clock: Clock = utc_now,
) -> tuple[tuple[Dossier, ...], dict[str, bytes]]:
    """The case's dossier in each language, and the bundles to hand over with it (by file
    name). Only confirmed findings are copies; pending ones come in (for a separate annex)
    only with `include_pending`; rejected ones never. A minor's case carries no picture."""
    if not languages:
        raise InputError("a dossier needs at least one language")
    require_identity(identity)
    info = case_info(db, case)
    captures: dict[int, list[CaptureOutcome]] = {}
    for outcome in list_captures(db, case=case):
        if outcome.status == "sealed" and outcome.finding is not None:
            captures.setdefault(outcome.finding, []).append(outcome)
    operators = _capture_operators(db, [c.id for cs in captures.values() for c in cs])
    wanted = {FindingStatus.CONFIRMED.value}
    if include_pending:
        wanted.add(FindingStatus.PENDING.value)
    findings: list[DossierFinding] = []
    bundles: dict[str, bytes] = {}
    for view in list_findings(db, case=case):
        if view.status not in wanted:
            continue
        seals = []
        for outcome in captures.get(view.id, []):
            assert outcome.bundle is not None and outcome.bundle_sha256 is not None
            file_name = Path(outcome.bundle).name
            bundles[file_name] = vault.get(outcome.bundle)
            seals.append(
                DossierCapture(
                    bundle=file_name,
                    bundle_sha256=outcome.bundle_sha256,
                    captured_at=outcome.started_at or aware(view.first_seen_at),
                    operator=operators.get(outcome.id, ""),
                    signer=outcome.signer or "",
                    timestamps=tuple(SealTimestamp(a, t) for a, t in outcome.stamps),
                    url=outcome.final_url or outcome.url,
                    bundle_size=outcome.bundle_size,
                )
            )
        thumbnail = None
        if not info.minor and vault.has(held_name(view.sha256)):
            thumbnail = vault.get(held_name(view.sha256))
        findings.append(_finding(view, thumbnail, tuple(seals)))
    notices = _notices(db, info.name)
    removed = _removed(db, [f.id for f in findings])
    findings = [
        replace(f, notices=notices.get(f.id, ()), removed_at=removed.get(f.id, f.removed_at))
        for f in findings
    ]
    now = clock()
    dossier = Dossier(
        case=DossierCase(
            reference=info.name,
            organisation=identity.name,
            caseworker=identity.caseworker,
            opened_at=info.created_at,
            minor=info.minor,
            contact=identity.contact,
            trusted_flagger=identity.trusted_flagger,
            designation=identity.designation,
            designated_by=identity.designated_by,
        ),
        findings=tuple(findings),
        events=events_from_findings(tuple(findings)),
        generated_at=now,
        language=languages[0],
        bundles=tuple(
            DossierBundle(name, hashlib.sha256(data).hexdigest(), len(data))
            for name, data in sorted(bundles.items())
        ),
    )

    def logged(session: Session) -> None:
        record(
            session,
            chain_of(info.id),
            at=now,
            actor=identity.caseworker,
            action=CustodyAction.EXPORT,
            subject=f"dossier:{info.name}",
            detail={
                "languages": list(languages),
                "findings": [f.id for f in findings if f.status is DossierStatus.CONFIRMED],
                "pending_annex": [f.id for f in findings if f.status is DossierStatus.PENDING],
                "bundles": sorted(bundles),
                "thumbnails": sum(f.thumbnail is not None for f in findings),
            },
        )

    in_custody(db, logged)
    return tuple(replace(dossier, language=language) for language in languages), bundles


def _finding(
    view: FindingView, thumbnail: bytes | None, seals: tuple[DossierCapture, ...]
) -> DossierFinding:
    context = view.context
    author = context.get("author") or context.get("from") or None
    place = context.get("chat") or None
    return DossierFinding(
        id=view.id,
        status=DossierStatus(view.status),
        first_seen_at=aware(view.first_seen_at),
        last_seen_at=aware(view.last_seen_at or view.first_seen_at),
        source=view.source,
        bank=view.bank,
        item=view.item_label or f"#{view.item}",
        match=DossierMatch(
            view.method,
            view.distance,
            view.threshold,
            view.window,
            view.variant,
            view.reference,
            view.reference_label,
        ),
        sha256=view.sha256,
        md5=view.md5,
        page_url=view.page_url,
        media_url=view.media_url,
        post_id=view.post_id,
        pdq=view.pdq,
        quality=view.quality,
        media=view.media,
        reviewed_by=view.reviewed_by,
        reviewed_at=aware(view.reviewed_at) if view.reviewed_at else None,
        posted_at=aware(view.posted_at) if view.posted_at else None,
        author=author,
        place=place,
        thumbnail=thumbnail,
        captures=seals,
        provenance=_verdict(view.provenance),
        declared_by=_declared_by(view.provenance),
    )


def _verdict(reading: dict[str, object] | None) -> str | None:
    verdict = (reading or {}).get("verdict")
    return verdict if isinstance(verdict, str) else None


def _declared_by(reading: dict[str, object] | None) -> tuple[str, ...]:
    names = (reading or {}).get("declared_by")
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


def _capture_operators(db: Database, ids: list[int]) -> dict[int, str]:
    """Who took each capture (the dossier names them, not whoever writes the dossier)."""
    if not ids:
        return {}
    with db.session() as session:
        rows = session.execute(
            select(CaptureRow.id, CaptureRow.operator).where(CaptureRow.id.in_(ids))
        ).all()
    return {row_id: operator for row_id, operator in rows}


_DOSSIER_STATUS = {"no-answer": "no_response", "submitted": "sent", "uncertain": "sent"}


def _notices(db: Database, case: str) -> dict[int, tuple[DossierNotice, ...]]:
    """The notices that left about each copy of the case: recipient, kind, legal basis, date,
    Message-ID (or ticket), status history, time to removal measured by the re-checks, and
    the notice each escalation followed up."""
    from rempart.takedown.drafting import list_notices
    from rempart.takedown.followup import tracking_of

    views = [v for v in list_notices(db, case=case) if v.sent_at is not None]
    follow = tracking_of(
        db, [(v.id, v.sent_at, [c.finding for c in v.copies if c.finding]) for v in views]
    )
    found: dict[int, list[DossierNotice]] = {}
    for v in views:
        assert v.sent_at is not None
        track = follow[v.id]
        last = v.history[-1] if v.history else None
        status = "escalated" if track.next and v.status != "removed" else v.status
        notice = DossierNotice(
            sent_at=v.sent_at,
            recipient=f"{v.recipient_name} <{v.recipient_address}>"
            if v.recipient_address
            else v.recipient_name,
            channel=v.recipient_channel,
            legal_basis=f"Code pénal, art. {v.legal_basis}",
            status=_DOSSIER_STATUS.get(status, status),
            status_at=last.at if last else None,
            kind=v.kind,
            message_id=v.message_id or v.reference,
            history=tuple((h.status, h.at) for h in v.history),
            time_to_removal=track.time_to_removal,
            escalates=track.follows,
            number=v.id,
        )
        for copy in v.copies:
            if copy.finding is not None:
                found.setdefault(copy.finding, []).append(notice)
    return {f: tuple(ns) for f, ns in found.items()}


def _removed(db: Database, finding_ids: list[int]) -> dict[int, datetime]:
    """When re-checks first found each copy gone (copies still gone now)."""
    from rempart.store.models import RecheckSchedule

    with db.session() as session:
        rows = session.execute(
            select(RecheckSchedule.finding_id, RecheckSchedule.removed_at).where(
                RecheckSchedule.finding_id.in_(finding_ids), RecheckSchedule.status == "removed"
            )
        ).all()
    return {f: aware(at) for f, at in rows if at is not None}
