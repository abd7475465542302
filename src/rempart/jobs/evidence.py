"""Evidence use cases: capture a page and seal it into the vault (by hand, or for every
confirmed finding; a copy found in a Telegram export, a folder or an archive, or a WARC file is
sealed from that source instead) and export a bundle. The complaint dossier is jobs.dossier's.

Every step is written to the case's custody log with who and when. The capture and the
time-stamps happen outside any transaction; a failed seal leaves a `failed` capture row with
its reason, and `capture_confirmed` tries again. Must not print.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.errors import EvidenceError, InputError, NotFound, RempartError
from rempart.evidence.artifacts import Capture
from rempart.evidence.browser import Browser
from rempart.evidence.bundle import capture_custody_detail, seal_capture
from rempart.evidence.capture import Operator, capture_page
from rempart.evidence.custody import CustodyAction, CustodyEvent
from rempart.evidence.keys import SigningKey
from rempart.evidence.ledger import chain_events, in_custody, record
from rempart.evidence.timestamps import Timestamp, Timestamper
from rempart.evidence.vault import Vault
from rempart.fetch import FetchPolicy
from rempart.intake.cases import chain_of
from rempart.jobs.findings import FindingView, list_findings
from rempart.private import write_private
from rempart.store.database import Database
from rempart.store.models import CaptureRow, Case, Finding, FindingStatus, Sighting, SourceRow

if TYPE_CHECKING:
    from rempart.evidence.source_record import Sighted
    from rempart.evidence.trust import OwnTrust
    from rempart.evidence.verify import VerifyReport

__all__ = [
    "CaptureOutcome",
    "Sealer",
    "bundle_for_download",
    "capture_confirmed",
    "capture_url",
    "export_bundle",
    "list_captures",
    "seal_from_source",
    "verify_capture",
]


@dataclass(frozen=True, slots=True)
class Sealer:
    """What sealing needs: the organisation's key, the time-stamping authorities, and who is
    capturing for whom."""

    key: SigningKey
    timestamper: Timestamper
    operator: str
    organisation: str


@dataclass(frozen=True, slots=True)
class CaptureOutcome:
    id: int
    url: str
    status: str  # sealed, failed
    case: str | None
    finding: int | None
    bundle: str | None = None
    bundle_sha256: str | None = None
    bundle_size: int | None = None
    signer: str | None = None
    stamps: tuple[tuple[str, datetime], ...] = ()
    final_url: str | None = None
    no_media: bool = False
    error: str | None = None
    started_at: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "capture": self.id,
            "url": self.url,
            "status": self.status,
            "case": self.case,
            "finding": self.finding,
            "bundle": self.bundle,
            "bundle_sha256": self.bundle_sha256,
            "bundle_size": self.bundle_size,
            "signer": self.signer,
            "timestamps": [{"authority": a, "time": t.isoformat()} for a, t in self.stamps],
            "final_url": self.final_url,
            "no_media": self.no_media,
            "error": self.error,
        }


def _case_row(session: Session, name: str | None) -> Case | None:
    if name is None:
        return None
    case = session.scalar(select(Case).where(Case.name == name))
    if case is None:
        raise NotFound("no case named {name!r} (see `rempart case list`)", name=name)
    return case


def capture_url(
    db: Database,
    vault: Vault,
    browser: Browser,
    sealer: Sealer,
    url: str,
    *,
    policy: FetchPolicy,
    case: str | None = None,
    finding: FindingView | None = None,
    link_path: Sequence[str] = (),
    clock: Clock = utc_now,
) -> CaptureOutcome:
    """Capture `url` in a fresh browser context, log it, seal it and keep the bundle in the
    vault. For a finding, its case decides whether media may be kept (never for a minor)."""
    case_name = finding.case if finding is not None else case
    with db.session() as session:
        case_row = _case_row(session, case_name)
        case_id = case_row.id if case_row else None
        minor = bool(case_row.minor) if case_row else False
    started = clock()
    try:
        capture = capture_page(
            browser,
            url,
            operator=Operator(sealer.operator, sealer.organisation),
            policy=policy,
            link_path=link_path,
            no_media=minor,
            clock=clock,
        )
    except RempartError as exc:
        return _failed(db, url, case_id, finding, sealer, started, clock, exc, minor)

    return _seal_and_keep(
        db,
        vault,
        sealer,
        capture,
        case=(case_id, case_name),
        finding=finding,
        minor=minor,
        clock=clock,
    )


def seal_from_source(
    db: Database,
    vault: Vault,
    sealer: Sealer,
    finding: FindingView,
    *,
    clock: Clock = utc_now,
) -> CaptureOutcome:
    """Seal a copy seen in a file-based source (Telegram export, folder or archive, WARC):
    the source is read again, and the record as found, the media as stored (digests only for
    a minor), the export's metadata and who acquired it when are logged and sealed like a web
    capture. A source that no longer holds the copy gives a `failed` capture with its reason."""
    from rempart.evidence.source_record import acquire_record

    sighted = _sighted(db, finding.id)
    with db.session() as session:
        case_row = _case_row(session, finding.case)
        case_id = case_row.id if case_row else None
        minor = bool(case_row.minor) if case_row else finding.minor
    started = clock()
    shown = sighted.media_url or sighted.key
    try:
        capture = acquire_record(
            sighted,
            operator=sealer.operator,
            organisation=sealer.organisation,
            no_media=minor,
            clock=clock,
        )
    except RempartError as exc:
        return _failed(db, shown, case_id, finding, sealer, started, clock, exc, minor)
    return _seal_and_keep(
        db,
        vault,
        sealer,
        capture,
        case=(case_id, finding.case),
        finding=finding,
        minor=minor,
        clock=clock,
    )


def _sighted(db: Database, finding_id: int) -> Sighted:
    from rempart.evidence.source_record import Sighted

    with db.session() as session:
        found = session.execute(
            select(Sighting, SourceRow)
            .join(Finding, Finding.sighting_id == Sighting.id)
            .join(SourceRow, SourceRow.id == Sighting.source_id)
            .where(Finding.id == finding_id)
        ).first()
        if found is None:
            raise NotFound("no finding {id}", id=finding_id)
        sighting, source = found
        try:
            settings = json.loads(source.settings or "{}")
            context = json.loads(sighting.context or "{}")
        except ValueError:
            settings, context = {}, {}
        return Sighted(
            kind=source.kind,
            source=source.name,
            settings=settings if isinstance(settings, dict) else {},
            key=sighting.key,
            sha256=sighting.sha256,
            media_url=sighting.media_url,
            page_url=sighting.page_url,
            post_id=sighting.post_id,
            posted_at=aware(sighting.posted_at) if sighting.posted_at else None,
            context={str(k): str(v) for k, v in context.items()}
            if isinstance(context, dict)
            else {},
        )


def _seal_and_keep(
    db: Database,
    vault: Vault,
    sealer: Sealer,
    capture: Capture,
    *,
    case: tuple[int | None, str | None],
    finding: FindingView | None,
    minor: bool,
    clock: Clock,
) -> CaptureOutcome:
    """Log a capture (web or file-based) in its case's custody log, seal it, keep the
    bundle in the vault and log the seal: one path for every kind of capture."""
    case_id, case_name = case
    chain = chain_of(case_id)
    url = capture.url

    def logged(session: Session) -> int:
        row = CaptureRow(
            finding_id=finding.id if finding else None,
            case_id=case_id,
            url=url,
            final_url=capture.final_url,
            status="sealing",
            operator=sealer.operator,
            started_at=capture.started_at,
            finished_at=capture.finished_at,
            no_media=minor,
        )
        session.add(row)
        session.flush()
        record(
            session,
            chain,
            at=capture.finished_at,
            actor=sealer.operator,
            action=CustodyAction.CAPTURE,
            subject=f"capture:{row.id}",
            detail=capture_custody_detail(capture),
        )
        return row.id

    capture_id = in_custody(db, logged)
    custody = _through_capture(chain_events(db, chain), capture_id)
    stamped: list[Timestamp] = []

    def timestamper(data: bytes) -> Sequence[Timestamp]:
        answers = sealer.timestamper(data)
        stamped.extend(answers)  # kept to record who stamped, and when
        return answers

    try:
        bundle = seal_capture(
            capture,
            key=sealer.key,
            custody=custody,
            timestamper=timestamper,
            case_ref=case_name or "no-case",
            finding_ref=f"finding:{finding.id}" if finding else f"capture:{capture_id}",
            operator=sealer.operator,
            created=clock(),
        )
        name = _bundle_name(case_id, capture_id)
        stored = vault.put(name, bundle)
    except RempartError as exc:
        return _seal_failed(db, capture_id, exc)
    stamps = tuple((stamp.authority, stamp.gen_time) for stamp in stamped)

    def sealed(session: Session) -> None:
        row = session.get(CaptureRow, capture_id)
        assert row is not None
        row.status = "sealed"
        row.bundle = name
        row.bundle_sha256 = stored.sha256
        row.bundle_size = stored.size
        row.signer = sealer.key.fingerprint
        row.timestamps = len(stamps)
        row.stamps = json.dumps([{"authority": a, "time": t.isoformat()} for a, t in stamps])
        if finding is not None:
            _close_interrupted(session, finding.id, capture_id)
        record(
            session,
            chain,
            at=clock(),
            actor=sealer.operator,
            action=CustodyAction.SEAL,
            subject=f"capture:{capture_id}",
            detail={
                "bundle_sha256": stored.sha256,
                "bytes": stored.size,
                "signer": sealer.key.fingerprint,
                "timestamps": [a for a, _ in stamps],
            },
        )

    in_custody(db, sealed)
    return _outcome(db, capture_id)


def _close_interrupted(session: Session, finding_id: int, sealed_id: int) -> None:
    """Earlier captures of this copy still `sealing` were stopped (killed, power lost) after
    they were logged and before their seal was recorded: they will never end, so they are
    closed as failed, naming the capture that sealed the copy."""
    stale = session.scalars(
        select(CaptureRow).where(
            CaptureRow.finding_id == finding_id,
            CaptureRow.status == "sealing",
            CaptureRow.id != sealed_id,
        )
    )
    for row in stale:
        row.status = "failed"
        row.error = f"interrupted before it was sealed; sealed again as capture {sealed_id}"


def _through_capture(events: tuple[CustodyEvent, ...], capture_id: int) -> tuple[CustodyEvent, ...]:
    """The chain up to and including this capture's event (later events may already exist)."""
    for position, event in enumerate(events):
        if event.action is CustodyAction.CAPTURE and event.subject == f"capture:{capture_id}":
            return events[: position + 1]
    raise EvidenceError("capture {id} is missing from its custody chain", id=capture_id)


def _bundle_name(case_id: int | None, capture_id: int) -> str:
    folder = f"case-{case_id}" if case_id is not None else "no-case"
    return f"bundles/{folder}/capture-{capture_id}.wacz"


def _failed(
    db: Database,
    url: str,
    case_id: int | None,
    finding: FindingView | None,
    sealer: Sealer,
    started: datetime,
    clock: Clock,
    exc: RempartError,
    minor: bool,
) -> CaptureOutcome:
    with db.session() as session:
        row = CaptureRow(
            finding_id=finding.id if finding else None,
            case_id=case_id,
            url=url,
            status="failed",
            operator=sealer.operator,
            started_at=started,
            finished_at=clock(),
            no_media=minor,
            error=str(exc),
        )
        session.add(row)
        session.flush()
        capture_id = row.id
    return _outcome(db, capture_id)


def _seal_failed(db: Database, capture_id: int, exc: RempartError) -> CaptureOutcome:
    def failed(session: Session) -> None:
        row = session.get(CaptureRow, capture_id)
        assert row is not None
        row.status = "failed"
        row.error = f"sealing failed: {exc}"

    in_custody(db, failed)
    return _outcome(db, capture_id)


def _outcome(db: Database, capture_id: int) -> CaptureOutcome:
    for outcome in list_captures(db, ids=(capture_id,)):
        return outcome
    raise NotFound("no capture {id}", id=capture_id)


def list_captures(
    db: Database, *, case: str | None = None, ids: tuple[int, ...] | None = None
) -> list[CaptureOutcome]:
    query = select(CaptureRow, Case.name).outerjoin(Case, Case.id == CaptureRow.case_id)
    if case is not None:
        query = query.where(Case.name == case)
    if ids is not None:
        query = query.where(CaptureRow.id.in_(ids))
    with db.session() as session:
        return [
            CaptureOutcome(
                id=row.id,
                url=row.url,
                status=row.status,
                case=name,
                finding=row.finding_id,
                bundle=row.bundle,
                bundle_sha256=row.bundle_sha256,
                bundle_size=row.bundle_size,
                signer=row.signer,
                stamps=tuple(
                    (s["authority"], datetime.fromisoformat(s["time"]))
                    for s in json.loads(row.stamps or "[]")
                ),
                final_url=row.final_url,
                no_media=row.no_media,
                error=row.error,
                started_at=aware(row.started_at),
            )
            for row, name in session.execute(query.order_by(CaptureRow.id)).all()
        ]


def capture_confirmed(
    db: Database,
    vault: Vault,
    browser: Browser | Callable[[], Browser],
    sealer: Sealer,
    *,
    policy: FetchPolicy,
    case: str | None = None,
    ids: tuple[int, ...] | None = None,
    progress: Callable[[FindingView], None] | None = None,
    clock: Clock = utc_now,
) -> list[CaptureOutcome]:
    """Seal every confirmed finding that has no sealed capture yet: a copy seen on the web
    is captured in the browser (its page, else its media address); one seen in a Telegram
    export, a folder or an archive, or a WARC file is sealed from that source. `browser`
    may be a function that opens one, called only when a web page is to be captured. Safe
    to run again: what is sealed is not sealed twice."""
    from rempart.evidence.source_record import SOURCE_KINDS

    with db.session() as session:
        done = set(
            session.scalars(
                select(CaptureRow.finding_id).where(
                    CaptureRow.status == "sealed", CaptureRow.finding_id.is_not(None)
                )
            )
        )
        rows = session.execute(select(SourceRow.name, SourceRow.kind))
        kinds = {name: kind for name, kind in rows}
    opened: list[Browser] = []

    def the_browser() -> Browser:
        if isinstance(browser, Browser):
            return browser
        if not opened:
            opened.append(browser())
        return opened[0]

    outcomes: list[CaptureOutcome] = []
    for view in list_findings(db, status=FindingStatus.CONFIRMED.value, case=case, ids=ids):
        if view.id in done:
            continue
        if kinds.get(view.source) in SOURCE_KINDS:
            if progress is not None:
                progress(view)
            outcomes.append(seal_from_source(db, vault, sealer, view, clock=clock))
            done.add(view.id)
            continue
        url = view.page_url or view.media_url
        if url is None or not url.startswith(("http://", "https://")):
            continue  # a web finding always has an address; nothing to capture without one
        if progress is not None:
            progress(view)
        outcomes.append(
            capture_url(
                db, vault, the_browser(), sealer, url, policy=policy, finding=view, clock=clock
            )
        )
        done.add(view.id)
    return outcomes


def _sealed_bundle(db: Database, vault: Vault, capture_id: int) -> tuple[CaptureOutcome, bytes]:
    """A sealed capture and its bundle's bytes, checked against the digest recorded."""
    found = list_captures(db, ids=(capture_id,))
    outcome = found[0] if found else None
    if outcome is None or outcome.bundle is None:
        raise NotFound(
            "capture {id} has no sealed bundle (see `rempart evidence list`)", id=capture_id
        )
    data = vault.get(outcome.bundle)
    if hashlib.sha256(data).hexdigest() != outcome.bundle_sha256:
        raise EvidenceError("capture {id}: the vault copy does not match its digest", id=capture_id)
    return outcome, data


def _log_about(
    db: Database,
    capture_id: int,
    action: CustodyAction,
    *,
    actor: str,
    detail: dict[str, object],
    clock: Clock,
) -> None:
    with db.session() as session:
        case_id = session.scalar(select(CaptureRow.case_id).where(CaptureRow.id == capture_id))

    def logged(session: Session) -> None:
        record(
            session,
            chain_of(case_id),
            at=clock(),
            actor=actor,
            action=action,
            subject=f"capture:{capture_id}",
            detail=detail,
        )

    in_custody(db, logged)


def bundle_for_download(
    db: Database, vault: Vault, capture_id: int, *, actor: str, clock: Clock = utc_now
) -> tuple[str, bytes]:
    """A sealed bundle's file name and bytes, handed over (a download from the web app) once
    the export is logged in the custody log with who took it."""
    outcome, data = _sealed_bundle(db, vault, capture_id)
    name = Path(outcome.bundle or f"capture-{capture_id}.wacz").name
    _log_about(
        db,
        capture_id,
        CustodyAction.EXPORT,
        actor=actor,
        detail={"bundle_sha256": outcome.bundle_sha256 or "", "to": "download"},
        clock=clock,
    )
    return name, data


def verify_capture(
    db: Database,
    vault: Vault,
    capture_id: int,
    trust: OwnTrust,
    *,
    actor: str,
    clock: Clock = utc_now,
) -> VerifyReport:
    """Check a sealed capture's bundle as `rempart verify` checks a file (offline, against
    this installation's own keys and roots); the check is logged with who asked and its
    verdict."""
    from rempart.evidence.verify import verify_bundle

    _, data = _sealed_bundle(db, vault, capture_id)
    report = verify_bundle(
        data, trusted_keys=trust.keys, tsa_roots=trust.roots, key_lives=trust.lives
    )
    _log_about(
        db,
        capture_id,
        CustodyAction.VERIFY,
        actor=actor,
        detail={"bundle_sha256": report.bundle_sha256, "verdict": report.verdict},
        clock=clock,
    )
    return report


def export_bundle(
    db: Database,
    vault: Vault,
    capture_id: int,
    destination: Path,
    *,
    actor: str,
    clock: Clock = utc_now,
) -> Path:
    """Write a sealed bundle out of the vault (for a court, the police, a lawyer); logged."""
    found = list_captures(db, ids=(capture_id,))
    outcome = found[0] if found else None
    if outcome is None or outcome.bundle is None:
        raise NotFound(
            "capture {id} has no sealed bundle (see `rempart evidence list`)", id=capture_id
        )
    target = destination / Path(outcome.bundle).name if destination.is_dir() else destination
    if target.exists():
        raise InputError("{path} exists already; choose another name", path=str(target))
    with db.session() as session:
        case_id = session.scalar(select(CaptureRow.case_id).where(CaptureRow.id == capture_id))

    def logged(session: Session) -> None:
        record(
            session,
            chain_of(case_id),
            at=clock(),
            actor=actor,
            action=CustodyAction.EXPORT,
            subject=f"capture:{capture_id}",
            detail={"bundle_sha256": outcome.bundle_sha256 or "", "to": target.name},
        )

    data = vault.get(outcome.bundle)
    if hashlib.sha256(data).hexdigest() != outcome.bundle_sha256:
        raise EvidenceError("capture {id}: the vault copy does not match its digest", id=capture_id)
    # Written aside, logged, then put in place: no half-written bundle, no unlogged export.
    partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        write_private(partial, data, exclusive=True, sync=True)  # 0600: unblurred media
        in_custody(db, logged)
        os.link(partial, target)  # refuses to replace a file that appeared meanwhile
    except FileExistsError:
        raise InputError("{path} exists already; choose another name", path=str(target)) from None
    except OSError as exc:
        raise InputError(
            "cannot write {path}: {reason}", path=str(target), reason=exc.strerror
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return target
