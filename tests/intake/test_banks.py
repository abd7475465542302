from pathlib import Path

import pytest
from PIL import Image

from rempart.errors import Conflict, InputError, NotFound
from rempart.intake import banks
from rempart.intake.hashlists import ITEM_LISTS, parse_hash_list
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import BankKind

GOOD = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"


def _image(tmp_path: Path, seed: int, name: str | None = None) -> Path:
    path = tmp_path / (name or f"img-{seed}.png")
    neutral_image(seed, 320, 240).save(path)
    return path


def test_created_bank_has_the_defaults_of_pdq(db: Database) -> None:
    info = banks.create_bank(db, "case-1")
    assert (info.kind, info.threshold, info.quality_min) == (BankKind.PROTECT, 31, 50)
    assert [b.name for b in banks.list_banks(db)] == ["case-1"]


def test_bank_names_are_unique_and_checked(db: Database) -> None:
    banks.create_bank(db, "case-1")
    with pytest.raises(Conflict):
        banks.create_bank(db, "case-1")
    with pytest.raises(InputError):
        banks.create_bank(db, "bad name/")
    with pytest.raises(InputError):
        banks.create_bank(db, "x", threshold=300)


def test_adding_an_image_stores_hashes_only(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "case-1")
    path = _image(tmp_path, 1)
    (outcome,) = banks.add_images(db, "case-1", [path], label="holiday")
    assert outcome.item_id is not None and outcome.error is None
    (item,) = banks.list_items(db, "case-1")
    assert item.pdq is not None and len(item.pdq) == 64
    assert item.sha256 is not None and item.md5 is not None
    assert item.label == "holiday" and item.origin == "file"


def test_same_image_twice_is_reported_as_already_there(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "case-1")
    path = _image(tmp_path, 1)
    (first,) = banks.add_images(db, "case-1", [path])
    (second,) = banks.add_images(db, "case-1", [path])
    assert second.existing and second.item_id == first.item_id


def test_bad_and_flat_files_are_reported_and_the_rest_added(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "case-1")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really")
    flat = tmp_path / "flat.png"
    Image.new("RGB", (200, 200), (120, 120, 120)).save(flat)
    outcomes = list(banks.add_images(db, "case-1", [broken, _image(tmp_path, 2), flat]))
    assert outcomes[0].error and outcomes[1].item_id and "quality" in str(outcomes[2].error)
    assert len(banks.list_items(db, "case-1")) == 1


def test_import_lands_valid_entries_and_reports_the_others(db: Database) -> None:
    banks.create_bank(db, "list")
    parsed = parse_hash_list(f"pdq {GOOD},90\npdq {'0' * 64}\n{GOOD[::-1]},10\n")
    report = banks.import_records(db, "list", parsed.records)
    assert len(report.added) == 1
    assert [line for line, _ in report.rejected] == [3]
    assert [p.line for p in parsed.problems] == [2]
    again = banks.import_records(db, "list", parse_hash_list(f"pdq {GOOD}\n").records)
    assert again.added == [] and again.already_in_bank == [(1, report.added[0])]


def test_withdrawn_items_are_never_exported(db: Database) -> None:
    banks.create_bank(db, "list")
    other = GOOD[32:] + GOOD[:32]
    report = banks.import_records(db, "list", parse_hash_list(f"{GOOD}\n{other}\n").records)
    banks.withdraw_item(db, "list", report.added[0])
    for fmt in ITEM_LISTS:
        text = banks.export_bank(db, "list", fmt).text
        assert GOOD not in text and other in text


def test_withdraw_and_restore_are_checked(db: Database) -> None:
    banks.create_bank(db, "list")
    (item_id,) = banks.import_records(db, "list", parse_hash_list(GOOD).records).added
    banks.withdraw_item(db, "list", item_id)
    with pytest.raises(Conflict):
        banks.withdraw_item(db, "list", item_id)
    assert banks.bank_info(db, "list").withdrawn_items == 1
    banks.restore_item(db, "list", item_id)
    assert banks.bank_info(db, "list").active_items == 1
    with pytest.raises(NotFound):
        banks.withdraw_item(db, "list", item_id + 1000)


def test_deleting_a_bank_deletes_its_items(db: Database) -> None:
    banks.create_bank(db, "list")
    banks.import_records(db, "list", parse_hash_list(GOOD).records)
    banks.delete_bank(db, "list")
    with pytest.raises(NotFound):
        banks.list_items(db, "list")
