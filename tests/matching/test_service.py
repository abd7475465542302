import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from rempart.hashing import Windows, hash_image_bytes
from rempart.hashing.signals import Dihedral, PdqHash
from rempart.hashing.windows import WindowKind
from rempart.intake import banks
from rempart.intake.hashlists import parse_hash_list
from rempart.matching.service import Matcher, Query
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import BankKind


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _query(img: Image.Image) -> Query:
    return Query.from_image(hash_image_bytes(_jpeg(img), dihedral=True))


def _register(db: Database, tmp_path: Path, bank: str, seed: int) -> tuple[int, Image.Image]:
    img = neutral_image(seed, 400, 300)
    path = tmp_path / f"{bank}-{seed}.jpg"
    path.write_bytes(_jpeg(img))
    (outcome,) = banks.add_images(db, bank, [path], label=f"seed {seed}")
    assert outcome.item_id is not None
    return outcome.item_id, img


def test_altered_copies_match_and_say_which_variant(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    item, img = _register(db, tmp_path, "victim", 7)
    matcher = Matcher(db)
    small, mirrored = matcher.match([_query(img.resize((200, 150))), _query(ImageOps.mirror(img))])
    assert [m.item for m in small.matches] == [item]
    assert small.matches[0].label == "seed 7"
    assert mirrored.matches[0].item == item
    assert mirrored.matches[0].variant is Dihedral.FLIP_Y  # left-right mirror


def test_unrelated_images_do_not_match(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    _register(db, tmp_path, "victim", 7)
    results = Matcher(db).match([_query(neutral_image(s, 400, 300)) for s in range(500, 520)])
    assert all(not r.matches for r in results)


def test_added_item_matches_as_soon_as_add_returns(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    matcher = Matcher(db)
    img = neutral_image(9, 400, 300)
    assert not matcher.match([_query(img)])[0].matches
    item, _ = _register(db, tmp_path, "victim", 9)
    assert [m.item for m in matcher.match([_query(img)])[0].matches] == [item]


def test_withdrawn_item_never_matches_after_withdraw_returns(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    item, img = _register(db, tmp_path, "victim", 11)
    matcher = Matcher(db)
    assert matcher.match([_query(img)])[0].matches
    banks.withdraw_item(db, "victim", item)
    assert not matcher.match([_query(img)])[0].matches
    assert not Matcher(db).match([_query(img)])[0].matches
    banks.restore_item(db, "victim", item)
    assert matcher.match([_query(img)])[0].matches


def test_allow_bank_suppresses_protect_matches(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    banks.create_bank(db, "consented", kind=BankKind.ALLOW)
    item, img = _register(db, tmp_path, "victim", 13)
    allowed, _ = _register(db, tmp_path, "consented", 13)
    (result,) = Matcher(db).match([_query(img)])
    assert result.matches == ()
    assert [m.item for m in result.suppressed] == [item]
    assert [m.item for m in result.allowed_by] == [allowed]


def test_per_bank_threshold_is_respected(db: Database) -> None:
    base = PdqHash.from_hex("f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f")
    flipped = int.from_bytes(base.value, "big") ^ ((1 << 20) - 1)  # 20 bits away
    near = PdqHash(flipped.to_bytes(32, "big"))
    banks.create_bank(db, "strict", threshold=10)
    banks.create_bank(db, "loose", threshold=31)
    for name in ("strict", "loose"):
        banks.import_records(db, name, parse_hash_list(base.hex).records)
    (result,) = Matcher(db).match([Query.from_hash(near)])
    assert [(m.bank, m.distance) for m in result.matches] == [("loose", 20)]


def test_low_quality_queries_are_not_matched_and_say_so(db: Database) -> None:
    base = PdqHash.from_hex("f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f")
    banks.create_bank(db, "victim")
    banks.import_records(db, "victim", parse_hash_list(base.hex).records)
    (result,) = Matcher(db).match([Query.from_hash(base, quality=20)])
    assert result.matches == () and result.below_quality_gate == ("victim",)


def test_exact_digest_matches_even_without_pdq(db: Database, tmp_path: Path) -> None:
    data = _jpeg(neutral_image(15, 400, 300))
    digest = hash_image_bytes(data).digest
    banks.create_bank(db, "videos")
    banks.import_records(db, "videos", parse_hash_list(f"md5 {digest.md5}\n").records)
    (result,) = Matcher(db).match([Query.from_image(hash_image_bytes(data))])
    assert [(m.bank, m.method, m.distance) for m in result.matches] == [("videos", "md5", 0)]


def test_matching_only_named_banks(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "a")
    banks.create_bank(db, "b")
    _, img = _register(db, tmp_path, "a", 17)
    matcher = Matcher(db)
    assert matcher.match([_query(img)], banks=["b"])[0].matches == ()
    assert matcher.match([_query(img)], banks=["a"])[0].matches
    with pytest.raises(Exception, match="no bank named"):
        matcher.match([_query(img)], banks=["nope"])


def test_letterboxed_copy_matches_through_its_trimmed_window(db: Database, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    item, img = _register(db, tmp_path, "victim", 21)
    boxed = Image.new("RGB", (img.width, img.height + 160), (0, 0, 0))
    boxed.paste(img, (0, 80))
    data = _jpeg(boxed)
    whole_only = Query.from_image(hash_image_bytes(data, dihedral=True))
    with_windows = Query.from_image(hash_image_bytes(data, dihedral=True, windows=Windows.PICTURE))
    plain, windowed = Matcher(db).match([whole_only, with_windows])
    assert plain.matches == ()
    assert [m.item for m in windowed.matches] == [item]
    assert windowed.matches[0].window == WindowKind.TRIMMED


def test_a_closer_grid_cell_does_not_hide_a_whole_picture_match(db: Database) -> None:
    """An item without local features (from the victim's offline page or a list) cannot have
    a grid-cell hit corroborated: the whole picture's hit, within 31 bits, speaks for it."""
    from rempart.hashing import Digest, PdqSignal
    from rempart.hashing.image import ImageHashes, WindowHashes
    from rempart.hashing.windows import Window
    from rempart.matching.service import QuerySignal

    rng = np.random.default_rng(5)
    whole, cell = (PdqHash(rng.integers(0, 256, 32, dtype=np.uint8).tobytes()) for _ in "ab")
    registered = ImageHashes(
        pdq=PdqSignal(whole, 100),
        digest=Digest(sha256="0" * 64, md5="0" * 32),
        width=640,
        height=480,
        format="page",
        animated=False,
        frames=1,
        windows=(
            WindowHashes(Window(WindowKind.GRID, 0, 0, 0, 0, label="r1c1"), (PdqSignal(cell, 90),)),
        ),
    )
    banks.create_bank(db, "victim")
    item = banks.register_hashes(db, "victim", registered, source=Path("#1")).item_id
    near = int.from_bytes(whole.value, "big") ^ ((1 << 12) - 1)  # 12 bits from the item
    query = Query(
        (
            QuerySignal(
                WindowKind.WHOLE,
                Dihedral.ORIGINAL,
                PdqSignal(PdqHash(near.to_bytes(32, "big")), 100),
            ),
            QuerySignal(WindowKind.GRID, Dihedral.ORIGINAL, PdqSignal(cell, 90), "r1c1"),
        )
    )
    (result,) = Matcher(db).match([query])
    assert [(m.item, m.distance, m.window) for m in result.matches] == [
        (item, 12, WindowKind.WHOLE)
    ]
