"""A partner hashing the same file finds it: the raw-pixel hash is kept and shared.

python-threatexchange and HMA hash Pillow's raw array (no EXIF orientation, palette indices,
CMYK channels); Rempart and the reference hasher hash the picture as shown. Seen: 130-256
bits apart, so a partner never matched a phone photo registered in Rempart.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from rempart.hashing import hash_image_bytes
from rempart.intake import banks
from rempart.intake.hashlists import ListFormat, parse_hash_list
from rempart.matching.service import Matcher, Query
from rempart.samples import neutral_image
from rempart.store.database import Database

pdq_hasher = pytest.importorskip("threatexchange.signal_type.pdq.pdq_hasher")


def _rotated_phone_photo(image: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown upright
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def _palette_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("P", palette=Image.Palette.ADAPTIVE).save(buffer, "PNG")
    return buffer.getvalue()


def _cmyk_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("CMYK").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


KINDS: dict[str, Callable[[Image.Image], bytes]] = {
    "EXIF-rotated JPEG": _rotated_phone_photo,
    "palette PNG": _palette_png,
    "CMYK JPEG": _cmyk_jpeg,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [3, 21])
def test_the_partner_hash_is_python_threatexchanges_own(kind: str, seed: int) -> None:
    data = KINDS[kind](neutral_image(seed, 640, 480))
    ours = hash_image_bytes(data)
    theirs, _quality = pdq_hasher.pdq_from_bytes(data)
    assert ours.pdq.hash.hex != theirs  # the two ways of hashing disagree on such files...
    assert ours.partner_pdq is not None and ours.partner_pdq.hash.hex == theirs  # ...kept


def test_a_plain_file_has_no_second_hash() -> None:
    buffer = io.BytesIO()
    neutral_image(3, 640, 480).save(buffer, "PNG")
    assert hash_image_bytes(buffer.getvalue()).partner_pdq is None


def test_a_partners_hash_of_a_registered_phone_photo_matches_and_is_shared(
    db: Database, tmp_path: object
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    photo = folder / "phone.jpg"
    photo.write_bytes(_rotated_phone_photo(neutral_image(8, 640, 480)))
    banks.create_bank(db, "victim")
    (outcome,) = list(banks.add_images(db, "victim", [photo]))
    theirs, quality = pdq_hasher.pdq_from_bytes(photo.read_bytes())

    # a platform sends the hash python-threatexchange computed: the item is found
    from rempart.hashing.signals import PdqHash

    (result,) = Matcher(db).match([Query.from_hash(PdqHash.from_hex(theirs), quality)])
    assert [m.item for m in result.matches] == [outcome.item_id]

    # and the lists a partner reads carry it (CSV/JSON beside the item's own hash); stored
    # as registration decodes the JPEG (its luma plane), a few bits from pytx's RGB path
    (item,) = banks.list_items(db, "victim")
    assert item.partner_pdq is not None
    stored = PdqHash.from_hex(item.partner_pdq)
    assert stored.distance(PdqHash.from_hex(theirs)) <= 8
    pytx_lines = banks.export_bank(db, "victim", ListFormat.PYTX).text.splitlines()
    assert pytx_lines == [f"pdq {item.pdq}", f"pdq {item.partner_pdq}"]
    csv_text = banks.export_bank(db, "victim", ListFormat.CSV).text
    (record,) = parse_hash_list(csv_text).records
    assert record.partner_pdq == stored
    banks.create_bank(db, "copy")
    banks.import_records(db, "copy", [record])
    (copied,) = banks.list_items(db, "copy")
    assert copied.partner_pdq == item.partner_pdq
