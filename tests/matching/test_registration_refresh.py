"""`bank add` run again on a picture already registered brings the item's extra hashes and
local features up to what this version computes: an item registered without them (or by an
older version) then finds the copies a fresh registration finds, a running matcher picks the
change up, and nothing is lost or rewritten when nothing changed."""

from __future__ import annotations

from pathlib import Path

from hard_copies import hard_copy, jpeg, original
from sqlalchemy import func, select

from rempart.hashing import REGISTRATION_EXTRAS, Windows, hash_image_bytes
from rempart.intake import banks
from rempart.matching.service import Matcher, Query
from rempart.store.database import Database
from rempart.store.models import ItemAction, ItemEvent, ItemFeatures, ItemSignal

EXTRAS = REGISTRATION_EXTRAS  # what `bank add` stores by default


def _add(db: Database, path: Path, extras: Windows) -> banks.AddOutcome:
    (outcome,) = banks.add_images(db, "victim", [path], extras=extras)
    assert outcome.item_id is not None, outcome.error
    return outcome


def _stored(db: Database, item: int) -> tuple[list[tuple[str, str, str, int]], bytes | None]:
    with db.session() as session:
        signals = sorted(
            (s.kind, s.label, s.pdq, s.quality)
            for s in session.scalars(select(ItemSignal).where(ItemSignal.item_id == item))
        )
        data = session.scalar(select(ItemFeatures.data).where(ItemFeatures.item_id == item))
    return signals, data


def _refreshes(db: Database) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ItemEvent)
                .where(ItemEvent.action == ItemAction.REFRESH)
            )
            or 0
        )


def test_an_item_registered_without_extras_is_brought_up_to_date(
    db: Database, tmp_path: Path
) -> None:
    banks.create_bank(db, "victim")
    path = tmp_path / "original.jpg"
    path.write_bytes(jpeg(original(41), 90))
    first = _add(db, path, Windows.NONE)
    assert _stored(db, first.item_id or 0) == ([], None)

    matcher = Matcher(db)
    copy = hard_copy("crop-two-thirds", original(41), 9)

    def found() -> list[int]:
        query = Query.from_image(
            hash_image_bytes(copy, dihedral=True, windows=matcher.query_windows())
        )
        return [m.item for m in matcher.match([query])[0].matches]

    assert found() == []  # an off-centre crop needs the extras

    again = _add(db, path, EXTRAS)
    assert (again.item_id, again.existing, again.refreshed) == (first.item_id, True, True)
    assert again.extra_hashes > 0 and again.feature_points > 0
    signals, data = _stored(db, first.item_id or 0)
    assert signals and data is not None
    assert _refreshes(db) == 1
    assert found() == [first.item_id]  # the running matcher replayed the refresh

    # The same registration again changes nothing and logs nothing.
    same = _add(db, path, EXTRAS)
    assert (same.existing, same.refreshed) == (True, False)
    assert _stored(db, first.item_id or 0) == (signals, data)
    assert _refreshes(db) == 1


def test_a_run_without_extras_keeps_the_stored_ones_and_a_withdrawn_item_stays(
    db: Database, tmp_path: Path
) -> None:
    banks.create_bank(db, "victim")
    path = tmp_path / "original.jpg"
    path.write_bytes(jpeg(original(42), 90))
    item = _add(db, path, EXTRAS).item_id or 0
    before = _stored(db, item)
    assert before[0] and before[1] is not None

    plain = _add(db, path, Windows.NONE)
    assert (plain.existing, plain.refreshed) == (True, False)
    assert _stored(db, item) == before

    # Stored by an older version: fewer cells, no features. A withdrawn item is left as is.
    with db.session() as session:
        for signal in session.scalars(select(ItemSignal).where(ItemSignal.item_id == item)):
            if signal.kind == "grid":
                session.delete(signal)
        session.delete(session.scalars(select(ItemFeatures)).one())
    older = _stored(db, item)
    banks.withdraw_item(db, "victim", item)
    assert _add(db, path, EXTRAS).refreshed is False
    assert _stored(db, item) == older

    banks.restore_item(db, "victim", item)
    assert _add(db, path, EXTRAS).refreshed is True
    assert _stored(db, item) == before
