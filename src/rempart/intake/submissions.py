"""Hash files from the victim's offline page: import one into a case, withdraw what her
withdrawal code covers. Items go through the same use case as `rempart bank add`.

Takes a `Database` and a clock; must not parse or decrypt files (hashfile.py, sealing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from rempart.clock import Clock, utc_now
from rempart.errors import InputError, NotFound
from rempart.hashing.signals import Digest, PdqSignal
from rempart.intake import banks
from rempart.intake.hashfile import HashFile, SubmittedItem
from rempart.store.database import Database
from rempart.store.models import (
    Bank,
    BankKind,
    Case,
    IntakeSubmission,
    IntakeSubmissionItem,
    Item,
)

__all__ = [
    "ItemOutcome",
    "SubmissionReport",
    "WithdrawalReport",
    "import_submission",
    "withdraw_submissions",
]

PAGE_BANK_SUFFIX = "-page"


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What became of one picture of the file (its 1-based position): an item, or why not."""

    index: int
    item_id: int | None = None
    existing: bool = False  # the bank already held it: item_id is that item
    extra_hashes: int = 0
    feature_points: int = 0  # local features stored with the item (keypoints)
    error: InputError | None = None


@dataclass(slots=True)
class SubmissionReport:
    case: str
    bank: str
    submission: str
    items: list[ItemOutcome] = field(default_factory=list)
    already_imported: bool = False  # this file (its submission number) came in before
    case_marked_minor: bool = False  # she declared a minor: the case is now a minor's


@dataclass(frozen=True, slots=True)
class WithdrawalReport:
    case: str
    submissions: int
    withdrawn: tuple[int, ...]  # item ids withdrawn now
    already_withdrawn: tuple[int, ...]


def _case(db: Database, name: str) -> Case:
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.name == name))
        if case is None:
            raise NotFound("no case named {name!r} (see `rempart case list`)", name=name)
        session.expunge(case)
        return case


def _page_bank(db: Database, case: Case, bank: str | None, clock: Clock) -> str:
    """The bank her items go to: the one named, else the case's only protect bank, else a
    new one named after the case."""
    with db.session() as session:
        owned = list(
            session.scalars(
                select(Bank.name).where(Bank.case_id == case.id, Bank.kind == BankKind.PROTECT)
            )
        )
    if bank is not None:
        if bank not in owned:
            raise InputError(
                "bank {bank!r} is not a protect bank of case {case!r}", bank=bank, case=case.name
            )
        return bank
    if len(owned) == 1:
        return owned[0]
    if owned:
        raise InputError(
            "case {case!r} has several banks ({banks}): name one with --bank",
            case=case.name,
            banks=", ".join(sorted(owned)),
        )
    name = f"{case.name}{PAGE_BANK_SUFFIX}"[:100]
    banks.create_bank(db, name, case=case.name, clock=clock)
    return name


def import_submission(
    db: Database,
    case: str,
    hash_file: HashFile,
    *,
    bank: str | None = None,
    clock: Clock = utc_now,
) -> SubmissionReport:
    """Register the file's pictures in the case's bank, as `bank add` would have, and record
    the submission so that her withdrawal code can withdraw them. Importing the same file
    again adds nothing twice."""
    if not hash_file.statements.depicted_or_acting_for:
        raise InputError(
            "the hash file does not state that she is the person shown or acts for her: "
            "nothing was imported"
        )
    row = _case(db, case)
    bank_name = _page_bank(db, row, bank, clock)
    report = SubmissionReport(case=case, bank=bank_name, submission=hash_file.submission)
    if hash_file.statements.minor_in_images and not row.minor:
        with db.session() as session:
            stored = session.get(Case, row.id)
            if stored is not None:
                stored.minor = True
        report.case_marked_minor = True
    for item in hash_file.items:
        report.items.append(_register(db, bank_name, item, hash_file.label, clock))
    _record(db, row.id, hash_file, report, clock)
    return report


def _register(
    db: Database, bank: str, item: SubmittedItem, label: str, clock: Clock
) -> ItemOutcome:
    if item.error is None and item.media == "video":
        return _register_video(db, bank, item, label, clock)
    if item.error is not None or item.pdq is None:
        return ItemOutcome(item.index, error=item.error or InputError("no PDQ hash"))
    from rempart.hashing.image import ImageHashes, WindowHashes
    from rempart.hashing.windows import Window, WindowKind

    hashes = ImageHashes(
        pdq=PdqSignal(item.pdq, item.quality),
        digest=Digest(sha256=item.sha256, md5=item.md5),
        width=item.width,
        height=item.height,
        format="page",
        animated=False,
        frames=1,
        windows=tuple(
            WindowHashes(
                Window(WindowKind(e.kind), 0, 0, 0, 0, label=e.label),
                (PdqSignal(e.pdq, e.quality),),
            )
            for e in item.extras
        ),
        partner_pdq=PdqSignal(*item.partner) if item.partner else None,
        # the whole picture's local features, with the window keypoints merged from the page's
        # windows (hashfile._window_features), stored as bank add stores them (MIN_FEATURES)
        features=((WindowKind.WHOLE.value, item.features),) if item.features is not None else (),
    )
    outcome = banks.register_hashes(
        db, bank, hashes, source=Path(f"#{item.index}"), label=label, clock=clock
    )
    return ItemOutcome(
        item.index,
        item_id=outcome.item_id,
        existing=outcome.existing,
        extra_hashes=outcome.extra_hashes,
        feature_points=outcome.feature_points,
        error=outcome.error,
    )


def _register_video(
    db: Database, bank: str, item: SubmittedItem, label: str, clock: Clock
) -> ItemOutcome:
    from rempart.hashing.video import FrameHash, VideoHashes

    video = VideoHashes(
        digest=Digest(sha256=item.sha256, md5=item.md5),
        duration_s=item.duration_ms / 1000,
        width=item.width,
        height=item.height,
        container="page",
        codec="page",
        fps=1.0,
        frames=tuple(FrameHash(at / 1000, PdqSignal(pdq, q)) for at, pdq, q in item.frames),
    )
    outcome = banks.register_video(
        db, bank, video, source=Path(f"#{item.index}"), label=label, clock=clock
    )
    return ItemOutcome(
        item.index,
        item_id=outcome.item_id,
        existing=outcome.existing,
        extra_hashes=outcome.extra_hashes,
        error=outcome.error,
    )


def _record(
    db: Database, case_id: int, hash_file: HashFile, report: SubmissionReport, clock: Clock
) -> None:
    item_ids = {o.item_id for o in report.items if o.item_id is not None}
    with db.session() as session:
        submission = session.scalar(
            select(IntakeSubmission).where(
                IntakeSubmission.case_id == case_id,
                IntakeSubmission.submission == hash_file.submission,
            )
        )
        if submission is None:
            submission = IntakeSubmission(
                case_id=case_id,
                submission=hash_file.submission,
                withdrawal_sha256=hash_file.withdrawal_sha256,
                minor_declared=hash_file.statements.minor_in_images,
                imported_at=clock(),
            )
            session.add(submission)
            session.flush()
        else:
            report.already_imported = True
        linked = set(
            session.scalars(
                select(IntakeSubmissionItem.item_id).where(
                    IntakeSubmissionItem.submission_id == submission.id
                )
            )
        )
        for item_id in sorted(item_ids - linked):
            session.add(IntakeSubmissionItem(submission_id=submission.id, item_id=item_id))


def withdraw_submissions(
    db: Database,
    case: str,
    code_sha256: str,
    *,
    submission: str | None = None,
    clock: Clock = utc_now,
) -> WithdrawalReport:
    """Withdraw every item of the case's submissions made with this withdrawal code (its
    digest): from the moment this returns they match nothing and are never exported."""
    row = _case(db, case)
    with db.session() as session:
        query = select(IntakeSubmission).where(
            IntakeSubmission.case_id == row.id,
            IntakeSubmission.withdrawal_sha256 == code_sha256,
        )
        if submission is not None:
            query = query.where(IntakeSubmission.submission == submission)
        found = list(session.scalars(query))
        if not found:
            raise NotFound("no submission of case {case!r} has this withdrawal code", case=case)
        items = session.execute(
            select(Item.id, Bank.name, Item.withdrawn_at)
            .join(IntakeSubmissionItem, IntakeSubmissionItem.item_id == Item.id)
            .join(Bank, Bank.id == Item.bank_id)
            .where(IntakeSubmissionItem.submission_id.in_([s.id for s in found]))
            .order_by(Item.id)
        ).all()
        now = clock()
        for s in found:
            s.withdrawn_at = s.withdrawn_at or now
    withdrawn, already = [], []
    for item_id, bank_name, withdrawn_at in dict.fromkeys(items):
        if withdrawn_at is not None:
            already.append(item_id)
            continue
        banks.withdraw_item(db, bank_name, item_id, clock=clock)
        withdrawn.append(item_id)
    return WithdrawalReport(case, len(found), tuple(withdrawn), tuple(already))
