"""Registered crops end to end: `bank add` with extras stores the centre crops and the smoothed
crop lattices, the matcher then asks queries for their smoothed image, and a copy cut anywhere
(80% at an offset between lattice points, or uneven borders) is matched to its item through a
smoothed crop. Without the extras the same copies are missed; unrelated pictures never match."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from rempart.hashing import Windows, hash_image_bytes
from rempart.hashing.windows import WindowKind
from rempart.intake import banks
from rempart.matching.features import MIN_INLIERS
from rempart.matching.service import STANDALONE_BITS, Matcher, Query, QueryResult
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import ItemSignal

# what `rempart bank add` stores by default: local features corroborate matches above 31 bits
EXTRAS = Windows.CROPS | Windows.GRID | Windows.FEATURES
SIZE = (480, 360)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _register(db: Database, tmp_path: Path, image: Image.Image, extras: Windows) -> int:
    banks.create_bank(db, "victim")
    path = tmp_path / "original.jpg"
    path.write_bytes(_jpeg(image, 90))
    (outcome,) = banks.add_images(db, "victim", [path], label="demo", extras=extras)
    assert outcome.item_id is not None, outcome.error
    return outcome.item_id


def _match(db: Database, copies: list[Image.Image]) -> list[QueryResult]:
    """As `rempart match` does: the windows the banks call for, 8 variants of each."""
    matcher = Matcher(db)
    queries = [
        Query.from_image(
            hash_image_bytes(_jpeg(copy, 85), dihedral=True, windows=matcher.query_windows())
        )
        for copy in copies
    ]
    return matcher.match(queries)


def _cut(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop(
        (round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))
    )


def _copies(image: Image.Image) -> list[Image.Image]:
    return [
        _cut(image, 0.05, 0.15, 0.15, 0.05),  # 80% x 80%, between lattice points
        _cut(image, 0.18, 0.02, 0.02, 0.18),  # 80% x 80%, near a corner
        _cut(image, 0.025, 0.075, 0.05, 0.03),  # uneven borders
    ]


@pytest.mark.parametrize(("seed", "style"), [(21, "landscape"), (22, "shapes"), (23, "text")])
def test_crops_cut_anywhere_match_their_item_through_a_smoothed_crop(
    db: Database, tmp_path: Path, seed: int, style: str
) -> None:
    original = neutral_image(seed, *SIZE, style=style)
    item = _register(db, tmp_path, original, EXTRAS)
    matcher = Matcher(db)
    assert Windows.SMOOTH in matcher.query_windows()
    for result in _match(db, _copies(original)):
        (match,) = result.matches
        assert (match.item, match.window, match.reference) == (
            item,
            WindowKind.SMOOTH.value,
            WindowKind.CROP_SMOOTH.value,
        )
        assert match.reference_label.startswith(("80-", "border-"))
        assert match.distance <= match.threshold
        if match.distance > STANDALONE_BITS:
            assert dict(match.detail)["corroborated_inliers"] >= MIN_INLIERS


def test_without_local_features_a_crop_matched_above_31_bits_is_refused(
    db: Database, tmp_path: Path
) -> None:
    original = neutral_image(21, *SIZE, style="landscape")
    item = _register(db, tmp_path, original, Windows.CROPS | Windows.GRID)
    for result in _match(db, _copies(original)):
        assert all(m.distance <= STANDALONE_BITS and m.item == item for m in result.matches)


def test_without_the_extras_the_same_copies_are_missed(db: Database, tmp_path: Path) -> None:
    original = neutral_image(21, *SIZE, style="landscape")
    _register(db, tmp_path, original, Windows.NONE)
    assert Windows.SMOOTH not in Matcher(db).query_windows()
    assert [r.matches for r in _match(db, _copies(original))] == [(), (), ()]


def test_unrelated_pictures_and_their_crops_match_nothing(db: Database, tmp_path: Path) -> None:
    _register(db, tmp_path, neutral_image(21, *SIZE, style="landscape"), EXTRAS)
    others = [neutral_image(seed, *SIZE, style="landscape") for seed in range(40, 46)]
    others += [_cut(image, 0.05, 0.15, 0.15, 0.05) for image in others[:3]]
    for result in _match(db, others):
        assert result.matches == ()


def _shrunk(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.BICUBIC)


def test_a_page_of_text_shrunk_to_a_sixth_matches_through_its_smoothed_centre(
    db: Database, tmp_path: Path
) -> None:
    """Shrunk to 15-30 %, a page's plain hash drifts 40-78 bits from its own; its centre 80 %,
    smoothed, stays within 31 bits of the registered lattice's middle crop: a match that
    stands alone. Other pages, shrunk alike, match nothing."""
    original = neutral_image(4, 720, 960, style="text")
    item = _register(db, tmp_path, original, EXTRAS)
    for result in _match(db, [_shrunk(original, f) for f in (0.15, 0.2, 0.3)]):
        (match,) = result.matches
        assert (match.item, match.window, match.reference_label) == (
            item,
            WindowKind.SMOOTH.value,
            "80-x10.0-y10.0",
        )
        assert match.distance <= STANDALONE_BITS
    others = [_shrunk(neutral_image(seed, 720, 960, style="text"), 0.2) for seed in range(40, 46)]
    assert [r.matches for r in _match(db, others)] == [()] * len(others)


def _moved(image: Image.Image, share: float) -> Image.Image:
    """The picture moved left within its frame by `share` of its width, the right edge's
    column repeated: what another shot of the scene, the camera moved, looks like."""
    shift = round(image.width * share)
    moved = image.crop((shift, 0, image.width, image.height))
    canvas = image.resize(image.size)
    canvas.paste(moved, (0, 0))
    edge = image.crop((image.width - 1, 0, image.width, image.height))
    canvas.paste(edge.resize((shift, image.height)), (image.width - shift, 0))
    return canvas


def test_the_smoothed_centre_meets_only_the_lattice_middle_crop(
    db: Database, tmp_path: Path
) -> None:
    """Moved by one lattice step (2.86 %), a picture's centre 80 % is another lattice crop:
    matched there, another shot of a scene would stand alone. Only the middle crop, which a
    whole copy shows, may meet it; the shrunk copy still does."""
    original = neutral_image(4, 720, 960, style="text")
    item = _register(db, tmp_path, original, Windows.CROPS | Windows.GRID)
    moved, shrunk = _match(db, [_moved(original, 2 / 70), _shrunk(original, 0.2)])
    assert moved.matches == ()
    (match,) = shrunk.matches
    assert (match.item, match.reference_label) == (item, "80-x10.0-y10.0")
    assert match.distance <= match.threshold == STANDALONE_BITS - 7  # never corroborated


def test_each_item_stores_its_smoothed_crops_under_their_own_kind(
    db: Database, tmp_path: Path
) -> None:
    item = _register(db, tmp_path, neutral_image(21, *SIZE, style="landscape"), EXTRAS)
    with db.session() as session:
        kinds = [s.kind for s in session.query(ItemSignal).filter(ItemSignal.item_id == item).all()]
    assert kinds.count(WindowKind.CROP.value) == 3  # centre 90 %, centre 80 %, centred square
    assert kinds.count(WindowKind.CROP_SMOOTH.value) == 65
    assert kinds.count(WindowKind.GRID.value) == 9
