"""Off-centre crops that keep 60-75 % of each side, magnified back to the features' size: the
geometry alone often falls short (few of the registered picture's strongest corners lie in the
part kept, or only those along one band of it agree), and the content check, made on enough
of the registered points the crop shows, vouches for it; another shot of the scene stays
refused. A crop whose flat ground fills a quarter of it is no page: its features are also
taken unmasked. A crop too flat for PDQ's quality gate is still looked for by its features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hard_copies import hard_copy, jpeg, original, register
from PIL import Image, ImageDraw
from test_partial_copies import _other_shot  # another shot of the scene: camera moved, things moved

from rempart.hashing import REGISTRATION_EXTRAS
from rempart.hashing.decode import decode_luma
from rempart.hashing.features import (
    DESCRIPTOR_BYTES,
    FEATURE_SIDE,
    MAX_FEATURES,
    LocalFeatures,
    _extract,
    _off_page,
    _on_page_share,
    extract_features,
    extract_query_features,
    scaled_bytes,
)
from rempart.hashing.signals import Dihedral, PdqHash, PdqSignal
from rempart.hashing.windows import WindowKind
from rempart.matching.features import MIN_INLIERS, SEARCH_LIMITS, Verification, verify
from rempart.matching.service import LOCAL_FEATURES, Matcher, Query, QuerySignal
from rempart.store.database import Database


def _features(data: bytes) -> LocalFeatures:
    return extract_features(decode_luma(data).luma)


def _registered(data: bytes) -> LocalFeatures:
    return extract_features(decode_luma(data).luma, checks=True)


def _unmasked(luma: np.ndarray) -> LocalFeatures:
    """The whole picture's features, no part of it masked as a page's."""
    return _extract(scaled_bytes(luma, FEATURE_SIDE), None, MAX_FEATURES, False)


def _crop(picture: Image.Image) -> Image.Image:
    """65 % of the width and 70 % of the height, off-centre (bench/alterations.py's family)."""
    width, height = picture.size
    left, top = int(width * 0.3), int(height * 0.1)
    return picture.crop((left, top, left + int(width * 0.65), top + int(height * 0.7)))


def _kept(features: LocalFeatures, rows: np.ndarray) -> LocalFeatures:
    """The query with only some of its keypoints (its pixels all kept, as the check needs)."""
    assert features.angles is not None and features.octaves is not None
    return LocalFeatures(
        features.width,
        features.height,
        features.points[rows],
        features.descriptors[rows],
        features.angles[rows],
        features.octaves[rows],
        features.pixels,
    )


def _strongest(features: LocalFeatures, count: int) -> LocalFeatures:
    return _kept(features, np.arange(count))


def _band(features: LocalFeatures, top: float) -> LocalFeatures:
    """Only the keypoints in a band of 12 % of the height: agreeing points bunched there."""
    y = features.points[:, 1] / features.height
    return _kept(features, np.flatnonzero((y >= top) & (y < top + 0.12)))


def test_a_crop_with_too_few_agreeing_points_is_verified_when_its_content_vouches() -> None:
    # A magnified crop of a drawn picture held 16-23 of the registered strongest corners while
    # every registered point it showed was unchanged (bench/robustness.py, seeds 11 and 2026).
    picture = original(11)
    reference = _registered(jpeg(picture, 92))
    query = _strongest(_features(jpeg(_crop(picture), 85)), 40)
    check = verify(query, reference)
    assert check is not None and check.inliers < MIN_INLIERS
    assert check.needed < MIN_INLIERS <= _strongest_verified(picture, reference).needed
    assert check.unlike.vouches() and not check.unlike.beyond(*SEARCH_LIMITS)


def _strongest_verified(picture: Image.Image, reference: LocalFeatures) -> Verification:
    """The same crop with all its keypoints: verified by geometry alone, as before."""
    check = verify(_features(jpeg(_crop(picture), 85)), reference)
    assert check is not None and check.inliers >= MIN_INLIERS
    return check


def test_a_crop_whose_agreeing_points_lie_in_one_band_is_verified_by_its_content() -> None:
    # The spread rule refused crops whose agreeing points lay along a horizon (81-90 of them),
    # the rest of the part shown holding texture that agrees but is not matched again.
    picture = original(3)
    reference = _registered(jpeg(picture, 92))
    check = verify(_band(_features(jpeg(_crop(picture), 85)), 0.4), reference)
    assert check is not None and check.inliers >= MIN_INLIERS
    assert check.needed < MIN_INLIERS and check.unlike.vouches()


@pytest.mark.parametrize(("seed", "keep"), [(11, "strongest"), (3, "band"), (51, "strongest")])
def test_another_shot_is_refused_where_the_content_check_vouches_for_a_crop(
    seed: int, keep: str
) -> None:
    picture = original(seed)
    reference = _registered(jpeg(picture, 92))
    shot = _features(jpeg(_crop(_other_shot(picture, seed)), 85))
    for query in (shot, _strongest(shot, 40) if keep == "strongest" else _band(shot, 0.4)):
        assert verify(query, reference) is None


def _flat_ground(seed: int, sky: int = 300) -> Image.Image:
    """A drawn picture whose top `sky` rows of 640 are a flat sky: cropped (_crop), the sky
    fills half the crop (300), a third (200)."""
    picture = original(seed).resize((960, 640))
    ImageDraw.Draw(picture).rectangle((0, 0, 960, sky), fill=(120, 160, 210))
    return picture


def _page_view(data: bytes) -> tuple[np.ndarray, np.ndarray, float]:
    """A query's luma, its page mask (see _off_page) and the share of the picture masked."""
    luma = decode_luma(data).luma
    mask = _off_page(scaled_bytes(luma, FEATURE_SIDE))
    assert mask is not None  # the case these tests are about
    return luma, mask, 1 - np.count_nonzero(mask) / mask.size


def test_a_crop_whose_flat_ground_fills_a_third_gets_its_features_unmasked() -> None:
    # the sky is taken for a page's ground, but it holds few of the whole crop's keypoints:
    # the crop is given its features unmasked, and those alone (a masked set would repeat most
    # of them)
    crop = jpeg(_crop(_flat_ground(5, sky=200)), 85)
    luma, mask, masked = _page_view(crop)
    (unmasked,) = extract_query_features(luma)
    assert np.array_equal(unmasked.descriptors, _unmasked(luma).descriptors)
    assert len(unmasked) > len(_features(crop))  # the mask took keypoints
    assert masked < 0.5
    assert _on_page_share(unmasked, mask) < 0.5
    (only,) = extract_query_features(decode_luma(jpeg(original(12), 85)).luma)  # no page
    assert len(only) > 0


def test_a_crop_mostly_of_flat_ground_also_gets_its_masked_features() -> None:
    # the same with the sky over half of it: mostly page, as its original would be when
    # registered (masked); its masked features first, then the unmasked ones
    crop = jpeg(_crop(_flat_ground(5)), 85)
    luma, mask, masked = _page_view(crop)
    first, unmasked = extract_query_features(luma)
    assert np.array_equal(first.descriptors, _features(crop).descriptors)
    assert np.array_equal(unmasked.descriptors, _unmasked(luma).descriptors)
    assert masked > 0.5
    assert _on_page_share(unmasked, mask) < 0.5  # kept for the page's share alone


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_picture_among_text_keeps_its_masked_features_too(seed: int) -> None:
    # on a web page, the glyphs hold most of the whole page's keypoints: the masked set, on
    # the picture, comes first, the unmasked one after it
    page = hard_copy("web-page", original(seed), seed)
    luma = decode_luma(page).luma
    masked, unmasked = extract_query_features(luma)
    assert np.array_equal(masked.descriptors, extract_features(luma).descriptors)
    assert np.array_equal(unmasked.descriptors, _unmasked(luma).descriptors)
    mask = _off_page(scaled_bytes(luma, FEATURE_SIDE))
    assert mask is not None
    assert _on_page_share(unmasked, mask) >= 0.5
    assert _on_page_share(masked, mask) == 0.0  # none found on the page's ground and text


def test_the_share_of_keypoints_on_a_page_is_read_at_their_pixels() -> None:
    mask = np.full((20, 30), 255, np.uint8)
    mask[:, :10] = 0  # the page: the ten leftmost columns
    points = np.array([[9.9, 5.0], [10.0, 5.0], [0.0, 19.9], [29.9, 0.0]], np.float32)
    features = LocalFeatures(30, 20, points, np.zeros((4, DESCRIPTOR_BYTES), np.uint8))
    assert _on_page_share(features, mask) == 0.5
    none = LocalFeatures(30, 20, points[:0], np.zeros((0, DESCRIPTOR_BYTES), np.uint8))
    assert _on_page_share(none, mask) == 0.0


def test_a_crop_under_the_quality_gate_is_still_found_by_its_features(
    sqlite_db: Database, tmp_path: Path
) -> None:
    # A crop of a dark sky with a rocket in it has a PDQ quality of 44 (the bank's gate: 50);
    # its local features verify it on 126 points (bench/robustness.py, seed 2026).
    (item,) = register(sqlite_db, tmp_path, [original(7)], REGISTRATION_EXTRAS)
    copy = jpeg(_crop(original(7)), 85)
    flat = PdqSignal(PdqHash.from_hex("00" * 32), 20)
    features = ((WindowKind.WHOLE.value, _features(copy)),)
    query = Query((QuerySignal(WindowKind.WHOLE, Dihedral.ORIGINAL, flat),), features=features)
    (result,) = Matcher(sqlite_db).match([query])
    assert [(m.item, m.method) for m in result.matches] == [(item, LOCAL_FEATURES)]
    assert result.below_quality_gate == ()
    unrelated = ((WindowKind.WHOLE.value, _features(jpeg(original(8), 85))),)
    (nothing,) = Matcher(sqlite_db).match([Query(query.signals, features=unrelated)])
    assert nothing.matches == () and nothing.below_quality_gate != ()
