"""Copies that show only a part of the registered picture (an off-centre crop, a collage
cell) are verified by what they show: the spread of the agreeing points is measured against
the part shown, the transform found gathers the pairs the ratio test dropped, and another shot
of the scene stays refused, whole or cropped. A copy found by its local features alone must
have had its content checked."""

from __future__ import annotations

import numpy as np
import pytest
from hard_copies import hard_copy, jpeg, original
from PIL import Image, ImageDraw

from rempart.hashing.decode import decode_luma
from rempart.hashing.features import LocalFeatures, extract_features
from rempart.hashing.windows import WindowKind
from rempart.matching import service
from rempart.matching.features import MIN_INLIERS, SEARCH_LIMITS, Unlike, Verification, verify


def _features(data: bytes) -> LocalFeatures:
    return extract_features(decode_luma(data).luma)


def _registered(data: bytes) -> LocalFeatures:
    return extract_features(decode_luma(data).luma, checks=True)


def _detail_in_a_corner(seed: int) -> Image.Image:
    """A plain, softly lit wall with a small busy poster in one part: all the picture's
    corners lie in a sixth of its width."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(90, 150, 960, dtype=np.float32)[None, :, None]
    wall = np.broadcast_to(ramp, (640, 960, 3)).astype(np.uint8)
    picture = Image.fromarray(wall)
    poster = original(seed).resize((150, 190))
    picture.paste(poster, (int(rng.integers(500, 780)), int(rng.integers(60, 400))))
    return picture


def _crop_around(picture: Image.Image, keep: float, seed: int) -> Image.Image:
    """An off-centre crop keeping `keep` of each side, that still holds the poster."""
    rng = np.random.default_rng(seed)
    width, height = picture.size
    cw, ch = int(width * keep), int(height * keep)
    top = int(rng.integers(0, height - ch + 1))
    return picture.crop((width - cw, top, width, top + ch))


@pytest.mark.parametrize("seed", [5, 6])
def test_a_crop_keeping_the_only_detailed_part_is_found(seed: int) -> None:
    # Before: the agreeing points had to span a fifth of the whole picture's width, which a
    # poster on a plain wall never does, however much of the picture the crop keeps.
    picture = _detail_in_a_corner(seed)
    reference = _registered(jpeg(picture, 92))
    copy = _features(jpeg(_crop_around(picture, 0.7, seed), 85))
    check = verify(copy, reference)
    assert check is not None and check.inliers >= MIN_INLIERS
    assert check.unlike.keypoints is not None and not check.unlike.beyond(*SEARCH_LIMITS)


@pytest.mark.parametrize("seed", [226])
def test_a_picture_in_a_collage_of_squares_is_verified_from_the_whole_collage(seed: int) -> None:
    picture = original(seed)
    reference = _registered(jpeg(picture, 90))
    check = verify(_features(hard_copy("collage-2x2", picture, seed)), reference)
    assert check is not None and check.inliers >= MIN_INLIERS


def _other_shot(picture: Image.Image, seed: int) -> Image.Image:
    """Another shot of the scene: the camera moved sideways by 3 %, a dozen things moved."""
    rng = np.random.default_rng(seed)
    width, height = picture.size
    shot = picture.crop((int(width * 0.03), 0, width, height)).copy()
    side = int(min(width, height) * 0.14)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, (shot.width - side, shot.height - side)))
        u, v = (int(c) for c in rng.integers(0, (shot.width - side, shot.height - side)))
        shot.paste(picture.crop((u, v, u + side, v + side)), (x, y))
    return shot


@pytest.mark.parametrize("seed", [51, 52, 53])
def test_another_shot_stays_refused_whole_cropped_or_in_a_collage(seed: int) -> None:
    # Measuring the spread against the part shown must not let a part of another shot through:
    # the content is still checked wherever the query shows the registered picture.
    picture = original(seed)
    reference = _registered(jpeg(picture, 90))
    shot = _other_shot(picture, seed)
    for query in (
        jpeg(shot, 88),
        hard_copy("crop-two-thirds", shot, seed),
        hard_copy("collage-2x2", shot, seed),
        hard_copy("rotated", shot, seed),
    ):
        assert verify(_features(query), reference) is None


def test_flat_things_moved_stay_refused_when_cropped() -> None:
    picture = Image.new("RGB", (800, 600), (70, 110, 60))
    draw = ImageDraw.Draw(picture)
    rng = np.random.default_rng(3)
    for _ in range(40):  # a meadow's tufts: the texture every shot shares
        x, y = (int(v) for v in rng.integers(0, (800, 600)))
        draw.ellipse((x, y, x + 9, y + 5), fill=(40, 80, 30))
    other = picture.copy()
    for image, place in ((picture, 120), (other, 420)):  # a house, moved between the shots
        ImageDraw.Draw(image).rectangle((place, 200, place + 140, 330), fill=(180, 60, 50))
    reference = _registered(jpeg(picture, 92))
    assert verify(_features(hard_copy("crop-two-thirds", other, 4)), reference) is None


def _verification(unlike: Unlike) -> Verification:
    return Verification(40, 1.0, 0.0, unlike)


def test_a_match_found_by_local_features_alone_needs_its_content_checked() -> None:
    reference = _registered(jpeg(original(8), 90))
    query = _features(hard_copy("crop-two-thirds", original(8), 8))
    whole = WindowKind.WHOLE.value
    # too few points shown whole to check anything: another shot could hide there
    assert not service._told(whole, False, _verification(Unlike()), query, reference)
    assert service._told(whole, False, _verification(Unlike(0.0, None)), query, reference)
    # a PDQ match's corroboration, or an item registered before the check existed, as before
    assert service._told(whole, True, _verification(Unlike()), query, reference)
    old = LocalFeatures(reference.width, reference.height, reference.points, reference.descriptors)
    assert service._told(whole, False, _verification(Unlike()), query, old)


def _letterboxed(picture: Image.Image, scale: float) -> Image.Image:
    """Shown smaller in a black frame of the same width, as a video frame or a story shows it."""
    small = picture.resize((round(picture.width * scale), round(picture.height * scale)))
    frame = Image.new("RGB", (small.width, round(small.width * 16 / 9)), (0, 0, 0))
    frame.paste(small, (0, (frame.height - small.height) // 2))
    return frame


@pytest.mark.parametrize("scale", [0.55, 0.7])
def test_another_shot_shown_small_is_refused_by_its_check_points(scale: float) -> None:
    # Shown at under 0.76 of the registered size, the check points (taken at pyramid level 1)
    # were skipped and the keypoints, which see nothing of flat things moved on plain ground,
    # let another shot through; the check points now still tell it, and a copy still passes.
    def scene(place: int) -> Image.Image:
        picture = original(60).resize((960, 640))
        draw = ImageDraw.Draw(picture)
        for x in (place, place + 300):  # two flat houses, moved between the shots
            draw.rectangle((x, 330, x + 120, 440), fill=(185, 70, 55))
        return picture

    reference = _registered(jpeg(scene(150), 92))
    other = _features(jpeg(_letterboxed(scene(420), scale), 88))
    geometric = verify(other, reference, limits=(1.0, 1.0))
    assert geometric is not None and geometric.inliers >= MIN_INLIERS
    assert geometric.unlike.checks is not None
    assert verify(other, reference) is None
    copy = verify(_features(jpeg(_letterboxed(scene(150), scale), 88)), reference)
    assert copy is not None and copy.unlike.checks is not None
