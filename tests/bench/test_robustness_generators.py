"""bench/robustness's generators: every alteration family and every kind of picture gives
a valid picture, the same one for the same seed, and the generators stay apart from what
they measure."""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import alterations  # noqa: E402
import corpus  # noqa: E402


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    return corpus.still_life(np.random.default_rng(3), 320, 240)


def test_there_are_twenty_families_six_of_them_hard() -> None:
    assert len(alterations.FAMILIES) == 20
    assert len(alterations.HARD) == 6
    assert set(alterations.HARD) <= set(alterations.FAMILIES)


@pytest.mark.parametrize("family", list(alterations.FAMILIES))
def test_each_family_gives_an_rgb_picture_the_same_for_the_same_seed(
    family: str, picture: Image.Image
) -> None:
    first = alterations.alter(family, picture, seed=5, index=1)
    again = alterations.alter(family, picture, seed=5, index=1)
    assert first.mode == "RGB"
    assert min(first.size) >= 8
    assert _png(first) == _png(again)
    assert _png(first) != _png(picture)  # the copy is altered


def test_family_parameters_are_drawn_per_copy(picture: Image.Image) -> None:
    for family in alterations.FAMILIES:
        copies = {_png(alterations.alter(family, picture, seed=5, index=i)) for i in range(3)}
        assert len(copies) > 1, family


def test_crop_two_thirds_keeps_60_to_75_percent_of_each_side(picture: Image.Image) -> None:
    for i in range(10):
        copy = alterations.alter("crop 60-75% off-centre", picture, seed=9, index=i)
        assert 0.59 <= copy.width / picture.width <= 0.76
        assert 0.59 <= copy.height / picture.height <= 0.76


def test_drawn_originals_and_unrelated_pictures_are_reproducible() -> None:
    for index in (corpus.photos_count(), corpus.photos_count() + 7):
        a, b = corpus.original(11, index), corpus.original(11, index)
        assert a.name == b.name
        assert a.kind == b.kind
        assert _png(a.image) == _png(b.image)
    for index in (5, 6, 7, 8):
        d = corpus.distractor(11, index)
        assert d.image.mode == "RGB"
        assert _png(d.image) == _png(corpus.distractor(11, index).image)


def test_every_kind_of_picture_paints() -> None:
    rng = np.random.default_rng(0)
    for name, paint in {**corpus.PAINTERS, **corpus.HARD}.items():
        image = paint(rng, 200, 150)
        assert image.size == (200, 150), name
        assert image.mode == "RGB", name


def test_a_series_shot_shares_the_place_but_is_another_picture() -> None:
    index = next(
        i
        for i in range(corpus.photos_count(), corpus.photos_count() + 50)
        if corpus.series_sibling(4, i, 0) is not None
    )
    original = corpus.original(4, index).image
    sibling = corpus.series_sibling(4, index, 0)
    assert sibling is not None
    assert sibling.image.size == original.size
    assert _png(sibling.image) != _png(original)


def test_generators_import_nothing_of_the_code_they_measure() -> None:
    for module in ("corpus.py", "alterations.py"):
        tree = ast.parse((BENCH / module).read_text(encoding="utf-8"))
        imported = {
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
        }
        assert all(
            name == "rempart.samples" or not name.startswith("rempart") for name in imported
        ), (module, imported)
