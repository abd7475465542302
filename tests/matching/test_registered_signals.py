"""Registered extra hashes (crops, grid cells, faces, frames): each is searched only from its
slot, withdrawn with its item, and never exported."""

import pytest
from sqlalchemy import select

from rempart.hashing.signals import Dihedral, PdqHash, PdqSignal
from rempart.hashing.windows import WindowKind
from rempart.intake import banks
from rempart.intake.hashlists import ITEM_LISTS, parse_hash_list
from rempart.matching import service
from rempart.matching.service import Matcher, Query, QuerySignal
from rempart.store.database import Database
from rempart.store.models import Item, ItemSignal

ITEM = PdqHash.from_hex("f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f")
CELL = PdqHash.from_hex("f807f031e00ba8b006c80acd0370670fb3912e2a969d3ee2331cb8f22ae27c90")
FACE = PdqHash.from_hex("07f80fce1ff4574ff937f532fc8f98f04c6ed1d56962c11dcce3470dd51d836f")


def _register(db: Database) -> int:
    banks.create_bank(db, "victim")
    report = banks.import_records(db, "victim", parse_hash_list(ITEM.hex).records)
    (item_id,) = report.added
    with db.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.signals = [
            ItemSignal(kind=WindowKind.GRID.value, label="top-left", pdq=CELL.hex, quality=90),
            ItemSignal(kind=WindowKind.FACE.value, label="0", pdq=FACE.hex, quality=90),
        ]
    return item_id


def _query(kind: WindowKind, pdq: PdqHash, label: str = "") -> Query:
    return Query((QuerySignal(kind, Dihedral.ORIGINAL, PdqSignal(pdq, 90), label),))


@pytest.fixture
def grid_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routing to slots, corroboration aside: a grid-cell match stands alone here (in
    service, one needs the local-feature stage: test_a_grid_cell_match_needs_corroboration)."""
    monkeypatch.setattr(service, "_stands_alone", lambda distance, *_: distance <= 31)


def test_a_grid_cell_match_needs_corroboration(db: Database) -> None:
    # bench/robustness.py: a quarter of one chart or UI meets another's at any distance.
    _register(db)
    (result,) = Matcher(db).match([_query(WindowKind.GRID, CELL, "top-left")])
    assert result.matches == ()  # this query has no local features to verify it with


def _flipped(pdq: PdqHash, bits: int) -> PdqHash:
    value = bytearray(pdq.value)
    for bit in range(bits):
        value[bit // 8] ^= 1 << (bit % 8)
    return PdqHash(bytes(value))


def test_a_whole_picture_match_within_31_bits_stands_even_when_a_grid_cell_is_closer(
    db: Database,
) -> None:
    # bench/robustness.py: a stretched or shrunk copy's grid cells often lie closer than its
    # whole hash; the closer grid hit, refused without corroboration, must not hide the
    # whole picture's match that stands alone.
    item = _register(db)
    whole = QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, PdqSignal(_flipped(ITEM, 20), 90))
    cell = QuerySignal(WindowKind.GRID, Dihedral.ORIGINAL, PdqSignal(CELL, 90), "top-left")
    (result,) = Matcher(db).match([Query((whole, cell))])
    (match,) = result.matches
    assert (match.item, match.window, match.distance) == (item, WindowKind.WHOLE, 20)


@pytest.mark.usefixtures("grid_alone")
def test_each_registered_hash_is_found_only_from_its_own_slot(db: Database) -> None:
    item = _register(db)
    same_cell, other_cell, cell_as_picture, face, face_as_picture = Matcher(db).match(
        [
            _query(WindowKind.GRID, CELL, "top-left"),
            _query(WindowKind.GRID, CELL, "bottom-right"),
            _query(WindowKind.WHOLE, CELL),
            _query(WindowKind.FACE, FACE, "0"),
            _query(WindowKind.TRIMMED, FACE),
        ]
    )
    assert [(m.item, m.window, m.reference, m.reference_label) for m in same_cell.matches] == [
        (item, "grid", "grid", "top-left")
    ]
    assert [(m.reference, m.reference_label) for m in face.matches] == [("face", "0")]
    assert other_cell.matches == cell_as_picture.matches == face_as_picture.matches == ()


def test_the_item_hash_itself_is_reported_as_the_whole(db: Database) -> None:
    item = _register(db)
    (result,) = Matcher(db).match([Query.from_hash(ITEM)])
    assert [(m.item, m.reference, m.window) for m in result.matches] == [(item, "whole", "whole")]
    assert result.matches[0].to_json()["reference"] == "whole"


@pytest.mark.usefixtures("grid_alone")
def test_registered_hashes_leave_and_come_back_with_their_item(db: Database) -> None:
    item = _register(db)
    matcher = Matcher(db)
    cell = _query(WindowKind.GRID, CELL, "top-left")
    assert matcher.match([cell])[0].matches
    banks.withdraw_item(db, "victim", item)
    assert matcher.match([cell])[0].matches == ()
    banks.restore_item(db, "victim", item)
    assert [m.item for m in matcher.match([cell])[0].matches] == [item]


@pytest.mark.usefixtures("grid_alone")
def test_deleting_the_bank_deletes_its_registered_hashes(db: Database) -> None:
    _register(db)
    matcher = Matcher(db)
    banks.delete_bank(db, "victim")
    assert matcher.match([_query(WindowKind.GRID, CELL, "top-left")])[0].matches == ()
    with db.session() as session:
        assert session.scalars(select(ItemSignal)).all() == []


def test_registered_hashes_are_never_exported(db: Database) -> None:
    _register(db)
    for fmt in ITEM_LISTS:
        exported = banks.export_bank(db, "victim", fmt).text
        assert ITEM.hex in exported
        assert CELL.hex not in exported and FACE.hex not in exported


def test_matcher_asks_for_grid_and_face_windows_only_when_some_bank_holds_them(
    db: Database,
) -> None:
    from rempart.hashing import Windows

    banks.create_bank(db, "plain")
    matcher = Matcher(db)
    assert matcher.query_windows() == Windows.PICTURE
    _register(db)
    assert matcher.query_windows() == Windows.PICTURE | Windows.GRID | Windows.FACES


def test_each_match_says_every_kind_of_index_its_item_was_hit_through(db: Database) -> None:
    item = _register(db)
    face_only, whole_and_face, whole = Matcher(db).match(
        [
            _query(WindowKind.FACE, FACE, "0"),
            Query(
                (
                    QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, PdqSignal(ITEM, 90)),
                    QuerySignal(WindowKind.FACE, Dihedral.ORIGINAL, PdqSignal(FACE, 90), "0"),
                )
            ),
            Query.from_hash(ITEM),
        ]
    )
    assert [(m.item, m.via) for m in face_only.matches] == [(item, ("face",))]
    # one match per item, from its best hit, and every path it was hit through
    assert [m.via for m in whole_and_face.matches] == [("face", "picture")]
    assert [m.via for m in whole.matches] == [("picture",)]


def test_a_bank_read_a_few_rows_at_a_time_answers_as_one_read_at_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the matcher reads a bank's extra hashes a chunk at a time (bounded memory) and keeps
    # them in columns: chunk boundaries, withdrawals and restorations change no answer
    import numpy as np

    rng = np.random.default_rng(41)
    banks.create_bank(db, "victim")
    codes = [PdqHash(rng.bytes(32)) for _ in range(6)]
    report = banks.import_records(
        db, "victim", parse_hash_list("\n".join(c.hex for c in codes)).records
    )
    faces: dict[tuple[int, str], PdqHash] = {}
    with db.session() as session:
        for item_id in report.added:
            item = session.get(Item, item_id)
            assert item is not None
            labels = [str(n) for n in range(int(rng.integers(1, 5)))]
            for label in labels:
                faces[(item_id, label)] = PdqHash(rng.bytes(32))
            item.signals = [
                ItemSignal(
                    kind=WindowKind.FACE.value,
                    label=label,
                    pdq=faces[(item_id, label)].hex,
                    quality=90,
                )
                for label in labels
            ]
    queries = [_query(WindowKind.FACE, face) for face in faces.values()]

    def answers(matcher: Matcher) -> list[list[tuple[int, str | None, str]]]:
        return [
            [(m.item, m.reference, m.reference_label) for m in result.matches]
            for result in matcher.match(queries)
        ]

    expected = [[(item, WindowKind.FACE.value, label)] for item, label in faces]
    at_once = Matcher(db)
    assert answers(at_once) == expected
    monkeypatch.setattr(service, "_LOAD_CHUNK", 2)
    by_parts = Matcher(db)
    assert answers(by_parts) == expected
    withdrawn = report.added[2]
    banks.withdraw_item(db, "victim", withdrawn)
    gone = [[] if item == withdrawn else e for (item, _), e in zip(faces, expected, strict=True)]
    assert answers(by_parts) == answers(at_once) == gone
    banks.restore_item(db, "victim", withdrawn)
    assert answers(by_parts) == answers(at_once) == expected
