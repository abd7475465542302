"""Window keypoints: a registered picture's windows of two thirds of each side, each one's
strongest keypoints found as a crop there finds its own (magnified, at the crop's
resolution), stored with the item and indexed for voting; a candidate's window keypoints are
matched when the votes through them agree on a place. A screenshot's magnified off-centre
crop, whose text held none of the whole picture's keypoints (its sidebar's corners took
them), is found through them; unrelated pictures are not; a hash file's `features` carry the
whole picture's features as before (the page sends its windows' own apart, `windows`, merged
at the import: tests/intake/test_page_features.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hard_copies import DISTRACTORS, jpeg, register
from PIL import Image

from rempart.errors import InputError
from rempart.hashing import REGISTRATION_EXTRAS
from rempart.hashing.decode import decode_luma
from rempart.hashing.features import (
    LocalFeatures,
    _distinct,
    extract_features,
    extract_query_features,
    extract_window_features,
)
from rempart.hashing.image import hash_image_bytes
from rempart.hashing.signals import Dihedral, PdqHash, PdqSignal
from rempart.hashing.windows import WindowKind
from rempart.matching.features import FeatureIndex, verify
from rempart.matching.service import LOCAL_FEATURES, Matcher, Query, QuerySignal
from rempart.store.database import Database


def _screenshot(seed: int = 0) -> Image.Image:
    """An application's window (1280 x 800): a dark bar, a sidebar, cards of small text."""
    return DISTRACTORS["ui-screenshot"](np.random.default_rng(seed))


def _crop(picture: Image.Image) -> Image.Image:
    """65 % of the width and 70 % of the height, off-centre: the cards' text, no sidebar."""
    width, height = picture.size
    left, top = int(width * 0.33), int(height * 0.28)
    return picture.crop((left, top, left + int(width * 0.65), top + int(height * 0.7)))


def _registered(picture: Image.Image) -> LocalFeatures:
    luma = decode_luma(jpeg(picture, 90)).luma
    points, descriptors = extract_window_features(luma)
    return replace(
        extract_features(luma, checks=True), window_points=points, window_descriptors=descriptors
    )


def _verified(picture: Image.Image, reference: LocalFeatures, windows: bool) -> bool:
    """Whether any of the query's feature sets, voting in an index holding the reference
    alone, verifies it (through its window keypoints too when `windows`)."""
    index = FeatureIndex(lambda _item: reference)
    index.add(1, reference)
    for query in extract_query_features(decode_luma(jpeg(picture, 85)).luma):
        for candidate in index.voted(query):
            votes = candidate.window_votes if windows else None
            if verify(query, reference, window_votes=votes) is not None:
                return True
    return False


def test_window_keypoints_lie_in_the_picture_and_are_kept_once() -> None:
    luma = decode_luma(jpeg(_screenshot(), 90)).luma
    whole = extract_features(luma)
    points, descriptors = extract_window_features(luma)
    assert len(points) == len(descriptors) > 2 * len(whole) // 3
    assert (points >= 0).all() and (points[:, 0] <= whole.width).all()
    assert (points[:, 1] <= whole.height).all()
    # overlapping windows find the same corners: fewer kept than found
    found = sum(len(f) for f in _window_sets(luma))
    assert len(points) < found
    again_points, again_descriptors = extract_window_features(luma)
    assert np.array_equal(again_points, points) and np.array_equal(again_descriptors, descriptors)


def _window_sets(luma: np.ndarray) -> list[LocalFeatures]:
    """Each window's own features, found as extract_window_features finds them."""
    height, width = luma.shape
    w, h = round(width * 2 / 3), round(height * 2 / 3)
    return [
        extract_features(luma[top : top + h, left : left + w], limit=200)
        for top in (0, (height - h) // 2, height - h)
        for left in (0, (width - w) // 2, width - w)
    ]


def test_a_keypoint_two_windows_found_is_kept_once() -> None:
    rng = np.random.default_rng(5)
    descriptors = rng.integers(0, 256, (5, 32), dtype=np.uint8)
    descriptors[1] = descriptors[0]
    descriptors[1, :2] ^= 0xFF  # 16 bits apart: the same corner
    descriptors[3] = descriptors[2]
    points = np.array([[10, 10], [11, 10.5], [40, 40], [40, 40], [10, 10]], np.float32)
    octaves = np.array([0, 0, 1, 2, 0], np.uint8)  # the 3rd and 4th: other levels
    # the 5th: at the 1st's place and level, but another corner (its descriptor ~128 bits off)
    assert _distinct(points, descriptors, octaves).tolist() == [0, 2, 3, 4]


def test_window_keypoints_round_trip_and_old_blobs_still_read() -> None:
    reference = _registered(_screenshot())
    assert reference.window_points is not None and reference.window_descriptors is not None
    blob = reference.to_bytes()
    assert blob[0] == 3
    back = LocalFeatures.from_bytes(blob)
    assert back.window_points is not None and back.window_descriptors is not None
    assert np.array_equal(back.window_descriptors, reference.window_descriptors)
    assert np.abs(back.window_points - reference.window_points).max() <= 0.125
    plain = replace(reference, window_points=None, window_descriptors=None).to_bytes()
    assert plain[0] == 2 and blob.startswith(plain[1:8], 1)
    assert LocalFeatures.from_bytes(plain).window_points is None
    with pytest.raises(InputError):
        LocalFeatures.from_bytes(blob[:-1])
    with pytest.raises(InputError):
        LocalFeatures.from_bytes(plain + b"\0\0")


def test_a_magnified_crop_of_a_screenshot_is_verified_through_window_keypoints() -> None:
    # The whole picture's keypoints lie on the bar, the sidebar and the cards' edges: the
    # crop's own corners (the magnified text) meet too few of them to be verified.
    picture = _screenshot()
    reference = _registered(picture)
    assert not _verified(_crop(picture), reference, windows=False)
    assert _verified(_crop(picture), reference, windows=True)


@pytest.mark.parametrize("kind", ["text-page", "ui-screenshot", "stripes", "other-picture"])
def test_unrelated_pictures_are_not_verified_through_window_keypoints(kind: str) -> None:
    reference = _registered(_screenshot())
    for seed in (31, 32):
        unrelated = DISTRACTORS[kind](np.random.default_rng(seed))
        for picture in (unrelated, _crop(unrelated)):
            assert not _verified(picture, reference, windows=True)


def test_bank_add_registers_window_keypoints_and_the_crop_is_found(
    sqlite_db: Database, tmp_path: Path
) -> None:
    (item,) = register(sqlite_db, tmp_path, [_screenshot()], REGISTRATION_EXTRAS)
    copy = jpeg(_crop(_screenshot()), 85)
    features = tuple(
        (WindowKind.WHOLE.value, f) for f in extract_query_features(decode_luma(copy).luma)
    )
    flat = PdqSignal(PdqHash.from_hex("00" * 32), 20)
    query = Query((QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, flat),), features=features)
    (result,) = Matcher(sqlite_db).match([query])
    assert [(m.item, m.method) for m in result.matches] == [(item, LOCAL_FEATURES)]


def test_the_hash_files_features_are_the_whole_pictures_as_the_page_writes_them() -> None:
    from rempart.intake.hashfile import _written_features

    hashes = hash_image_bytes(jpeg(_screenshot(), 90), windows=REGISTRATION_EXTRAS)
    whole = dict(hashes.features)[WindowKind.WHOLE.value]
    assert whole.window_points is not None  # bank add stores them
    written = _written_features(hashes)
    assert written is not None
    import base64

    blob = base64.b64decode(written)
    assert blob[0] == 2
    assert blob == replace(whole, window_points=None, window_descriptors=None).to_bytes()
