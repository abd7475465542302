"""Bank use cases: create and delete banks, register items (hashes only), import, export,
withdraw and restore. Every item change is logged in `item_events` so matchers stay current.

Takes a `Database` and a clock; must not decode images itself (hashing does) nor print.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import Clock, utc_now
from rempart.errors import Conflict, ImageDecodeError, InputError, NotFound
from rempart.hashing.signals import PdqHash
from rempart.hashing.sniff import SNIFF_BYTES, is_video
from rempart.store.database import Database
from rempart.store.tables.banks import (
    Bank,
    BankKind,
    Case,
    Item,
    ItemAction,
    ItemEvent,
    ItemFeatures,
    ItemSignal,
)

if TYPE_CHECKING:
    from rempart.hashing import ImageHashes, Windows
    from rempart.hashing.video import VideoHashes
    from rempart.intake.hashlists import Formatted, HashRecord, ListFormat

__all__ = [
    "AddOutcome",
    "BankInfo",
    "ImportReport",
    "ItemInfo",
    "add_images",
    "bank_info",
    "create_bank",
    "delete_bank",
    "export_bank",
    "import_records",
    "is_video_file",
    "list_banks",
    "list_items",
    "register_hashes",
    "register_video",
    "restore_item",
    "withdraw_item",
]

_IMPORT_BATCH = 5_000
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True, slots=True)
class BankInfo:
    id: int
    name: str
    kind: BankKind
    threshold: int
    quality_min: int
    description: str
    created_at: datetime
    active_items: int
    withdrawn_items: int
    case: str | None = None  # the case's pseudonym when the bank holds one victim's items
    unknown_quality: str = "accept"  # list entries without a quality: "accept" or "refuse"


@dataclass(frozen=True, slots=True)
class ItemInfo:
    id: int
    bank: str
    pdq: str | None
    quality: int | None
    md5: str | None
    sha256: str | None
    label: str
    origin: str
    created_at: datetime
    withdrawn_at: datetime | None
    media: str = "image"  # "image" or "video"
    partner_pdq: str | None = None  # the raw-pixel hash partners compute, where it differs


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What became of one file given to `add_images`: an item id, or why not."""

    path: Path
    item_id: int | None = None
    existing: bool = False  # the bank already held this hash: item_id is that item
    error: InputError | None = None  # why the file was not added (a catalog template)
    extra_hashes: int = 0  # crops, grid cells and face hashes stored with the item
    feature_points: int = 0  # local features stored with the item (keypoints)
    # an existing item whose extra hashes or local features were brought up to date
    refreshed: bool = False


@dataclass(slots=True)
class ImportReport:
    added: list[int] = field(default_factory=list)
    already_in_bank: list[tuple[int, int]] = field(default_factory=list)  # (line, item id)
    rejected: list[tuple[int, InputError]] = field(default_factory=list)  # (line, why)
    unknown_quality: int = 0  # PDQ entries added without a quality (the bank accepts them)


def _bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise NotFound("no bank named {name!r} (see `rempart bank list`)", name=name)
    return bank


def _log(session: Session, item: Item, action: ItemAction, at: datetime) -> None:
    session.add(ItemEvent(item_id=item.id, bank_id=item.bank_id, action=action, at=at))


def create_bank(
    db: Database,
    name: str,
    *,
    kind: BankKind = BankKind.PROTECT,
    threshold: int = 31,
    quality_min: int = 50,
    unknown_quality: str = "accept",
    description: str = "",
    case: str | None = None,
    clock: Clock = utc_now,
) -> BankInfo:
    """A new bank, under `case` (its pseudonym) when it holds one victim's items."""
    if not name or len(name) > 100 or not set(name) <= _NAME_CHARS:
        raise InputError("a bank name is 1-100 letters, digits, '-', '_' or '.'")
    if not 0 <= threshold <= 128:
        raise InputError("the threshold is a number of bits from 0 to 128 (PDQ's usual is 31)")
    if not 0 <= quality_min <= 100:
        raise InputError("the quality gate is from 0 to 100 (PDQ's usual is 50)")
    if unknown_quality not in ("accept", "refuse"):
        raise InputError("hashes of unknown quality are either accepted or refused")
    try:
        with db.session() as session:
            case_id = None
            if case is not None:
                case_id = session.scalar(select(Case.id).where(Case.name == case))
                if case_id is None:
                    raise NotFound("no case named {name!r} (see `rempart case list`)", name=case)
            bank = Bank(
                name=name,
                kind=kind,
                threshold=threshold,
                quality_min=quality_min,
                unknown_quality=unknown_quality,
                description=description,
                created_at=clock(),
                case_id=case_id,
            )
            session.add(bank)
    except IntegrityError as exc:
        raise Conflict("a bank named {name!r} already exists", name=name) from exc
    return bank_info(db, name)


def delete_bank(db: Database, name: str) -> None:
    with db.session() as session:
        session.delete(_bank(session, name))


def list_banks(db: Database) -> list[BankInfo]:
    with db.session() as session:
        names = session.scalars(select(Bank.name).order_by(Bank.name)).all()
    return [bank_info(db, name) for name in names]


def bank_info(db: Database, name: str) -> BankInfo:
    with db.session() as session:
        bank = _bank(session, name)
        counts = dict(
            session.execute(
                select(Item.withdrawn_at.is_(None), func.count())
                .where(Item.bank_id == bank.id)
                .group_by(Item.withdrawn_at.is_(None))
            ).all()
        )
        return BankInfo(
            id=bank.id,
            name=bank.name,
            kind=bank.kind,
            threshold=bank.threshold,
            quality_min=bank.quality_min,
            description=bank.description,
            created_at=bank.created_at,
            active_items=counts.get(True, 0),
            withdrawn_items=counts.get(False, 0),
            unknown_quality=bank.unknown_quality,
            case=session.scalar(select(Case.name).where(Case.id == bank.case_id))
            if bank.case_id is not None
            else None,
        )


def _item_info(item: Item, bank_name: str) -> ItemInfo:
    return ItemInfo(
        id=item.id,
        bank=bank_name,
        pdq=item.pdq,
        quality=item.quality,
        md5=item.md5,
        sha256=item.sha256,
        label=item.label,
        origin=item.origin,
        created_at=item.created_at,
        withdrawn_at=item.withdrawn_at,
        media=item.media,
    )


def list_items(db: Database, name: str, *, include_withdrawn: bool = False) -> list[ItemInfo]:
    with db.session() as session:
        bank = _bank(session, name)
        query = select(Item).where(Item.bank_id == bank.id).order_by(Item.id)
        if not include_withdrawn:
            query = query.where(Item.withdrawn_at.is_(None))
        partners = dict(
            session.execute(
                select(ItemSignal.item_id, ItemSignal.pdq)
                .join(Item, Item.id == ItemSignal.item_id)
                .where(Item.bank_id == bank.id, ItemSignal.label == PARTNER)
            ).all()
        )
        return [
            replace(_item_info(item, bank.name), partner_pdq=partners.get(item.id))
            for item in session.scalars(query)
        ]


def add_images(
    db: Database,
    name: str,
    paths: Iterable[Path],
    *,
    label: str = "",
    extras: Windows | None = None,
    clock: Clock = utc_now,
) -> Iterator[AddOutcome]:
    """Hash each image here and store only its hashes; one outcome per file, errors included.

    `extras` asks for extra hashes stored with each item (Windows.CROPS, GRID, FACES) and
    its local features (Windows.FEATURES): they let Rempart find cropped, rotated, framed,
    overlaid or deepfaked copies, and are never exported.
    """
    # Imported here: listing or showing banks must not load the image decoders (start-up).
    from rempart.hashing import Windows, hash_many
    from rempart.hashing.video import hash_video_file

    if extras is None:
        extras = Windows.NONE
    with db.session() as session:
        _bank(session, name)  # fail before hashing anything
    for path in paths:
        if is_video_file(path):
            try:
                video = hash_video_file(path)
            except ImageDecodeError as error:
                yield AddOutcome(path, error=error)
                continue
            yield _add_video(db, name, path, video, label, clock)
            continue
        for _path, result in hash_many([path], windows=extras):
            if isinstance(result, ImageDecodeError):
                yield AddOutcome(path, error=result)
            else:
                yield _add_hashes(db, name, path, result, label, clock)


def is_video_file(path: Path) -> bool:
    """Whether a file's first bytes say video (extensions are not trusted)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False  # the image path reports the read error
    return is_video(head)


def _add_video(
    db: Database, name: str, path: Path, video: VideoHashes, label: str, clock: Clock
) -> AddOutcome:
    """A video item: its digests, and one frame hash a second (quality-gated) as signals."""
    with db.session() as session:
        bank = _bank(session, name)
        existing = session.scalar(
            select(Item.id).where(Item.bank_id == bank.id, Item.sha256 == video.digest.sha256)
        )
        if existing is not None:
            return AddOutcome(path, item_id=existing, existing=True)
        item = Item(
            bank_id=bank.id,
            pdq=None,
            quality=None,
            md5=video.digest.md5,
            sha256=video.digest.sha256,
            label=label,
            origin="file",
            media="video",
            duration_s=video.duration_s,
            created_at=clock(),
        )
        item.signals = [
            ItemSignal(
                kind="frame",
                label="",
                pdq=f.pdq.hash.hex,
                quality=f.pdq.quality,
                at_s=f.time_s,
            )
            for f in video.frames
            if f.pdq.quality >= bank.quality_min
        ]
        session.add(item)
        session.flush()
        _log(session, item, ItemAction.ADD, item.created_at)
        return AddOutcome(path, item_id=item.id, extra_hashes=len(item.signals))


def register_hashes(
    db: Database,
    name: str,
    hashes: ImageHashes,
    *,
    source: Path,
    label: str = "",
    clock: Clock = utc_now,
) -> AddOutcome:
    """Store an image hashed elsewhere (the victim's offline page) exactly as `add_images`
    stores one hashed here: the same quality gate, duplicate check and extra hashes.
    `source` names it in the outcome (never a file name of hers)."""
    return _add_hashes(db, name, source, hashes, label, clock)


def register_video(
    db: Database,
    name: str,
    video: VideoHashes,
    *,
    source: Path,
    label: str = "",
    clock: Clock = utc_now,
) -> AddOutcome:
    """Store a video hashed elsewhere (the victim's offline page) as `add_images` stores one
    hashed here: its digests, and its frame hashes that pass the bank's quality gate."""
    return _add_video(db, name, source, video, label, clock)


def _add_hashes(
    db: Database, name: str, path: Path, hashes: ImageHashes, label: str, clock: Clock
) -> AddOutcome:
    """One item with its extra hashes, in one transaction: all of it lands, or none."""
    with db.session() as session:
        bank = _bank(session, name)
        if hashes.pdq.quality < bank.quality_min:
            return AddOutcome(
                path,
                error=InputError(
                    "PDQ quality {quality} is below this bank's gate of {gate}: too flat or "
                    "small to match reliably",
                    quality=hashes.pdq.quality,
                    gate=bank.quality_min,
                ),
            )
        existing = session.scalar(
            select(Item).where(Item.bank_id == bank.id, Item.pdq == hashes.pdq.hash.hex)
        )
        if existing is not None:
            refreshed = _refresh_extras(session, existing, hashes, bank.quality_min, clock)
            return AddOutcome(
                path,
                item_id=existing.id,
                existing=True,
                refreshed=refreshed,
                extra_hashes=len(existing.signals) if refreshed else 0,
                feature_points=existing.features.points if refreshed and existing.features else 0,
            )
        item = Item(
            bank_id=bank.id,
            pdq=hashes.pdq.hash.hex,
            quality=hashes.pdq.quality,
            md5=hashes.digest.md5,
            sha256=hashes.digest.sha256,
            label=label,
            origin="file",
            created_at=clock(),
        )
        item.signals = _extra_signals(hashes, bank.quality_min)
        item.features = _registered_features(hashes)
        session.add(item)
        session.flush()
        _log(session, item, ItemAction.ADD, item.created_at)
        return AddOutcome(
            path,
            item_id=item.id,
            extra_hashes=len(item.signals),
            feature_points=item.features.points if item.features else 0,
        )


def _extra_signals(hashes: ImageHashes, quality_min: int) -> list[ItemSignal]:
    """The extra hashes an item keeps (crops, cells, faces, coarse grids, the raw-pixel
    hash): those that pass the bank's quality gate (a flat crop or cell says nothing), and
    every coarse grid (met at its own rule: rempart.matching.service._mosaic_kept)."""
    signals = [
        ItemSignal(
            kind=w.window.kind.value,
            label=w.window.label,
            pdq=w.variants[0].hash.hex,
            quality=w.variants[0].quality,
        )
        for w in hashes.windows
        if w.variants[0].quality >= quality_min or w.window.kind == "mosaic"
    ]
    partner = hashes.partner_pdq
    if partner is not None and partner.quality >= quality_min:
        signals.append(_partner_signal(partner.hash.hex, partner.quality))
    return signals


def _registered_features(hashes: ImageHashes) -> ItemFeatures | None:
    """The whole picture's local features (the query windows' are never registered), or None
    for a picture too plain to have enough of them."""
    from rempart.hashing.features import MIN_FEATURES

    whole = hashes.features[0][1] if hashes.features else None
    if whole is None or len(whole) < MIN_FEATURES:
        return None
    return ItemFeatures(points=len(whole), data=whole.to_bytes())


def _refresh_extras(
    session: Session, item: Item, hashes: ImageHashes, quality_min: int, clock: Clock
) -> bool:
    """An item registered again from its picture: bring its extra hashes and local features
    up to what this version of Rempart computes (an item registered by an older version, or
    before its extras were asked for, finds fewer copies). Only what this run computed is
    replaced: a run without extras, or without faces, keeps the stored ones. A withdrawn item
    stays as it is. Whether anything changed; if so the change is logged, so that a running
    matcher picks it up."""
    from rempart.hashing.windows import WindowKind

    if item.withdrawn_at is not None:
        return False
    computed_kinds = {w.window.kind.value for w in hashes.windows}
    fresh = _extra_signals(hashes, quality_min)
    if hashes.partner_pdq is not None:
        computed_kinds.add(WindowKind.WHOLE.value)  # the raw-pixel hash, labelled PARTNER

    def computed(signal: ItemSignal) -> bool:
        if signal.kind == WindowKind.WHOLE.value:
            return signal.label == PARTNER and hashes.partner_pdq is not None
        return signal.kind in computed_kinds

    def key(signal: ItemSignal) -> tuple[str, str, str, int]:
        return (signal.kind, signal.label, signal.pdq, signal.quality)

    kept = [s for s in item.signals if not computed(s)]
    signals_changed = sorted(map(key, (s for s in item.signals if computed(s)))) != sorted(
        map(key, fresh)
    )
    features_changed, features = False, None
    if hashes.features:
        features = _registered_features(hashes)
        stored = item.features.data if item.features is not None else None
        features_changed = (features.data if features is not None else None) != stored
    if not (signals_changed or features_changed):
        return False
    if signals_changed:
        item.signals = kept + fresh
    if features_changed:
        if item.features is not None:
            session.delete(item.features)
            session.flush()
        item.features = features
    session.flush()
    _log(session, item, ItemAction.REFRESH, clock())
    return True


def import_records(
    db: Database, name: str, records: Iterable[HashRecord], *, clock: Clock = utc_now
) -> ImportReport:
    """Add validated list records in one transaction: all of them land, or none do."""
    report = ImportReport()
    now = clock()
    with db.session() as session:
        bank = _bank(session, name)
        known = dict(
            session.execute(
                select(Item.pdq, Item.id).where(Item.bank_id == bank.id, Item.pdq.is_not(None))
            ).all()
        )
        rows: list[dict[str, object]] = []
        partners: dict[int, tuple[str, int]] = {}  # row -> a raw-pixel hash and its quality
        for record in records:
            pdq = record.pdq.hex if record.pdq else None
            if pdq is not None and pdq in known:
                report.already_in_bank.append((record.line, known[pdq]))
                continue
            refused = _quality_refusal(record, bank)
            if refused is not None:
                report.rejected.append((record.line, refused))
                continue
            if pdq is not None and record.quality is None:
                report.unknown_quality += 1
            if record.frames:
                report.added.append(_insert_video(session, bank, record, now))
                continue
            if record.partner_pdq is not None:  # lists give its picture's quality only
                quality = record.quality if record.quality is not None else bank.quality_min
                partners[len(rows)] = (record.partner_pdq.hex, quality)
            rows.append(
                {
                    "bank_id": bank.id,
                    "pdq": pdq,
                    "quality": record.quality,
                    "md5": record.md5,
                    "sha256": record.sha256,
                    "label": record.label,
                    "media": record.media,
                    "origin": "list",
                    "created_at": now,
                }
            )
            if pdq is not None:
                known[pdq] = -1
            if len(rows) == _IMPORT_BATCH:  # bounded memory on lists of millions
                report.added.extend(_insert_items(session, bank.id, rows, now, partners))
                rows.clear()
                partners.clear()
        report.added.extend(_insert_items(session, bank.id, rows, now, partners))
    return report


PARTNER = "partner"  # the label of an item's raw-pixel hash (a signal of kind "whole")


def _partner_signal(pdq: str, quality: int | None) -> ItemSignal:
    """The hash python-threatexchange and HMA compute from the item's raw pixels (no EXIF
    orientation, palette indices): matched as the whole picture, and shared in lists."""
    return ItemSignal(kind="whole", label=PARTNER, pdq=pdq, quality=quality)


def _insert_video(session: Session, bank: Bank, record: HashRecord, now: datetime) -> int:
    """A video item from a vPDQ file: its frame hashes (quality-gated) as signals."""
    item = Item(
        bank_id=bank.id,
        pdq=None,
        quality=None,
        md5=record.md5,
        sha256=record.sha256,
        label=record.label,
        origin="list",
        media="video",
        duration_s=record.frames[-1].at_s if record.frames else None,
        created_at=now,
    )
    item.signals = [
        ItemSignal(kind="frame", label="", pdq=f.pdq.hex, quality=f.quality, at_s=f.at_s)
        for f in record.frames
        if f.quality >= bank.quality_min
    ]
    session.add(item)
    session.flush()
    _log(session, item, ItemAction.ADD, now)
    return item.id


def export_videos(db: Database, name: str) -> list[tuple[int, str]]:
    """Each active video item of the bank as a vPDQ file (item id, text). Its frame hashes
    leave Rempart only so: a caseworker asks for them by name."""
    from rempart.intake.vpdq import VideoFrame, format_vpdq

    with db.session() as session:
        bank = _bank(session, name)
        videos = session.scalars(
            select(Item)
            .where(Item.bank_id == bank.id, Item.withdrawn_at.is_(None), Item.media == "video")
            .order_by(Item.id)
        ).all()
        return [
            (
                item.id,
                format_vpdq(
                    VideoFrame(s.at_s or 0.0, PdqHash.from_hex(s.pdq), s.quality or 0)
                    for s in item.signals
                    if s.kind == "frame"
                ),
            )
            for item in videos
        ]


def _quality_refusal(record: HashRecord, bank: Bank) -> InputError | None:
    """Why the bank's quality gate refuses a list entry's PDQ hash, or None."""
    if record.pdq is None:
        return None
    if record.quality is None:
        if bank.unknown_quality == "refuse":
            return InputError(
                "no PDQ quality given, and this bank refuses hashes of unknown quality"
            )
        return None
    if record.quality < bank.quality_min:
        return InputError(
            "PDQ quality {quality} is below this bank's gate of {gate}",
            quality=record.quality,
            gate=bank.quality_min,
        )
    return None


def _insert_items(
    session: Session,
    bank_id: int,
    rows: list[dict[str, object]],
    now: datetime,
    partners: dict[int, tuple[str, int]],
) -> list[int]:
    """Core bulk inserts of items and their events: the ORM's unit of work costs ~50 µs an
    item on big lists. Returns the new item ids in the order of `rows`. `partners` maps a
    row's index to its raw-pixel hash and quality."""
    if not rows:
        return []
    ids = list(session.scalars(insert(Item).returning(Item.id, sort_by_parameter_order=True), rows))
    session.execute(
        insert(ItemEvent),
        [{"item_id": i, "bank_id": bank_id, "action": ItemAction.ADD, "at": now} for i in ids],
    )
    if partners:
        session.execute(
            insert(ItemSignal),
            [
                {
                    "item_id": ids[row],
                    "kind": "whole",
                    "label": PARTNER,
                    "pdq": pdq,
                    "quality": quality,
                }
                for row, (pdq, quality) in partners.items()
            ],
        )
    return ids


def export_bank(db: Database, name: str, fmt: ListFormat) -> Formatted:
    """The bank's active items as a hash list, and those the format cannot carry (with
    why). Withdrawn items are never exported."""
    from rempart.intake.hashlists import HashRecord, format_records

    items = list_items(db, name)
    records = [
        HashRecord(
            pdq=PdqHash.from_hex(i.pdq) if i.pdq else None,
            quality=i.quality,
            md5=i.md5,
            sha256=i.sha256,
            label=i.label,
            media=i.media,
            partner_pdq=PdqHash.from_hex(i.partner_pdq) if i.partner_pdq else None,
        )
        for i in items
    ]
    return format_records(records, fmt, [i.id for i in items])


def _set_withdrawn(
    db: Database, name: str, item_id: int, withdrawn: bool, clock: Clock
) -> ItemInfo:
    with db.session() as session:
        bank = _bank(session, name)
        item = session.get(Item, item_id)
        if item is None or item.bank_id != bank.id:
            raise NotFound("bank {name!r} has no item {item}", name=name, item=item_id)
        if (item.withdrawn_at is not None) == withdrawn:
            if withdrawn:
                raise Conflict("item {item} is already withdrawn", item=item_id)
            raise Conflict("item {item} is already active", item=item_id)
        now = clock()
        item.withdrawn_at = now if withdrawn else None
        _log(session, item, ItemAction.WITHDRAW if withdrawn else ItemAction.RESTORE, now)
        session.flush()
        return _item_info(item, bank.name)


def withdraw_item(db: Database, name: str, item_id: int, *, clock: Clock = utc_now) -> ItemInfo:
    """A victim's withdrawal: from the moment this returns, the item matches nothing."""
    return _set_withdrawn(db, name, item_id, True, clock)


def restore_item(db: Database, name: str, item_id: int, *, clock: Clock = utc_now) -> ItemInfo:
    return _set_withdrawn(db, name, item_id, False, clock)
