"""Copies under a tiled half-transparent watermark: the overlay is found (its ink and opacity),
taken off, and the picture without it found as the registered item's copy; pictures with no
watermark are not taken for one, and watermarked unrelated pictures (pages of text, interface
screenshots, other pictures) match nothing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hard_copies import WORDS, distractor, jpeg, original, register, watermarked
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from rempart.hashing import hash_image_bytes
from rempart.hashing.decode import decode_luma
from rempart.hashing.pdq import pdq_from_luma
from rempart.hashing.watermark import find_overlay, remove_overlay, unmarked_windows
from rempart.hashing.windows import WindowKind
from rempart.matching.packed import pack_query, unpack_query
from rempart.matching.service import Matcher, Query
from rempart.store.database import Database


def _luma(data: bytes) -> np.ndarray:
    return np.asarray(decode_luma(data).luma)


def _bits(a: np.ndarray, b: np.ndarray) -> int:
    return pdq_from_luma(a).hash.distance(pdq_from_luma(b).hash)


@pytest.mark.parametrize(("seed", "light"), [(s, s % 2 == 0) for s in range(8)])
def test_tiled_text_is_found_with_its_ink_and_opacity(seed: int, light: bool) -> None:
    opacity = 0.3 + 0.05 * (seed % 6)
    copy = jpeg(watermarked(original(seed), seed, light=light, opacity=opacity), 85)
    found = find_overlay(_luma(copy))
    assert found is not None
    assert found.light is light
    assert found.opacity == pytest.approx(opacity, abs=0.08)


@pytest.mark.parametrize("seed", range(8))
def test_pictures_without_a_watermark_have_none(seed: int) -> None:
    assert find_overlay(_luma(jpeg(original(seed), 85))) is None


@pytest.mark.parametrize("kind", ["text-page", "ui-screenshot", "gradient", "flat-shapes"])
def test_pages_interfaces_and_flat_graphics_are_not_taken_for_a_watermark(kind: str) -> None:
    for seed in range(4):
        assert find_overlay(_luma(distractor(kind, seed))) is None


@pytest.mark.parametrize(
    "luma",
    [
        np.zeros((1, 1), dtype=np.uint8),
        np.zeros((3, 900), dtype=np.uint8),
        np.full((480, 640), 200, dtype=np.uint8),
        np.random.default_rng(1).integers(0, 256, (480, 640)).astype(np.uint8),
        np.tile(np.linspace(0, 255, 640, dtype=np.float32), (480, 1)),
    ],
)
def test_odd_pictures_have_no_watermark_and_never_crash(luma: np.ndarray) -> None:
    assert find_overlay(luma) is None
    assert unmarked_windows(luma) == ()


def _photographed_page(seed: int) -> bytes:
    """A page of text as a phone shows it: lines of text a little blurred, the light falling
    off across the page, grain, reduced to 320 x 240."""
    rng = np.random.default_rng(seed)
    size = (20, 24, 28, 24)[seed % 4]
    font = ImageFont.load_default(size=size)
    page = Image.new("L", (640, 480), 255)
    draw = ImageDraw.Draw(page)
    for y in range(10, 470 - size, size + 6):
        x = 10
        while x < 560:
            word = str(rng.choice(WORDS))
            draw.text((x, y), word, fill=60, font=font)
            x += int(draw.textlength(word + " ", font=font))
    ink = np.asarray(page.filter(ImageFilter.GaussianBlur(1)), np.float64) / 255
    light = 215 - (0, 20)[seed % 2] * np.linspace(0, 1, 640)
    grain = rng.normal(0, (3, 6)[seed // 2 % 2], ink.shape)
    shown = Image.fromarray(np.clip(ink * light + grain, 0, 255).astype(np.uint8))
    return jpeg(shown.resize((320, 240), Image.LANCZOS), 85)


@pytest.mark.parametrize("seed", range(4))
def test_a_photographed_page_of_text_is_not_taken_for_a_watermark(seed: int) -> None:
    # its ground spread over some 10-20 levels by grain and by the light: the gaps between
    # its lines are that ground, not strokes of an overlay (each was taken for one before)
    assert find_overlay(_luma(_photographed_page(seed))) is None


def test_taking_the_overlay_off_brings_the_hash_back() -> None:
    within = 0
    for seed in range(12):
        picture = original(seed)
        copy = _luma(jpeg(watermarked(picture, seed, opacity=0.5), 85))
        registered = _luma(jpeg(picture, 95))
        found = find_overlay(copy)
        assert found is not None
        before = _bits(copy, registered)
        after = _bits(remove_overlay(copy, found), registered)
        assert after <= before - 16  # measured: 32-80 bits before, 12-42 after
        within += after <= 31 < before
    assert within >= 8  # the copy's own hash missed, the unmarked picture's is a match


def test_the_unmarked_window_is_hashed_in_its_8_variants_and_given_features() -> None:
    from rempart.hashing import Windows

    copy = jpeg(watermarked(original(2), 2, opacity=0.5), 85)
    hashes = hash_image_bytes(copy, dihedral=True, windows=Windows.PICTURE | Windows.FEATURES)
    (unmarked,) = [w for w in hashes.windows if w.window.kind is WindowKind.UNMARKED]
    assert len(unmarked.variants) == 8
    assert [kind for kind, _ in hashes.features] == ["whole", "unmarked"]
    query = Query.from_image(hashes)
    assert unpack_query(pack_query(query), hashes.digest).signals == query.signals


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_copies_under_a_tiled_watermark_are_found_and_nothing_else(
    db: Database, tmp_path: Path
) -> None:
    pictures = [original(seed) for seed in range(20, 26)]
    ids = register(db, tmp_path, pictures)
    matcher = Matcher(db)
    wanted = matcher.query_windows()

    def matched(data: bytes) -> list[tuple[int, str | None]]:
        hashes = hash_image_bytes(data, dihedral=True, windows=wanted)
        (result,) = matcher.match([Query.from_image(hashes)])
        return [(m.item, m.window) for m in result.matches]

    through_unmarked = 0
    for i, (picture, item) in enumerate(zip(pictures, ids, strict=True)):
        for light in (True, False):
            copy = jpeg(watermarked(picture, 100 + i, light=light, opacity=0.55), 85)
            found = matched(copy)
            assert [m for m, _ in found] == [item]
            through_unmarked += found[0][1] == WindowKind.UNMARKED
    # before the overlay was taken off, 2 of these 12 copies were found (a grid cell, the
    # whole hash); measured since: all 12, through the unmarked picture
    assert through_unmarked >= 10
    for kind in ("text-page", "ui-screenshot", "other-picture", "stripes"):
        for seed in range(3):
            unrelated = Image.open(io.BytesIO(distractor(kind, seed)))
            assert matched(jpeg(watermarked(unrelated, seed, opacity=0.5), 85)) == []
            assert matched(distractor(kind, seed)) == []
