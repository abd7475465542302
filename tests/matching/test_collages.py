"""Collages end to end: a picture cut to a centred square and shown as one cell of a grid, with
thin gutters or none, is found through its cell against the registered centred square, and
grids of unrelated pictures, pictures crossed by one straight edge, stripes and checkerboards
find nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hard_copies import DISTRACTORS, distractor, jpeg, original, register
from PIL import Image, ImageDraw

from rempart.hashing import hash_image_bytes
from rempart.hashing.windows import WindowKind
from rempart.matching.service import STANDALONE_BITS, Matcher, Query
from rempart.samples import neutral_image
from rempart.store.database import Database

# originals of hard_copies.original that are not square (800x600, 1024x683, 600x800)
SEEDS = [11, 12, 1, 4]


def _square(picture: Image.Image) -> Image.Image:
    side = min(picture.size)
    left, top = (picture.width - side) // 2, (picture.height - side) // 2
    return picture.crop((left, top, left + side, top + side))


def _grid(pictures: list[Image.Image], cell: int, gutter: int, ground: int, across: int) -> bytes:
    """The pictures cut to centred squares, `across` to a row, gutters (and a border) of
    `gutter` pixels in grey level `ground`."""
    down = -(-len(pictures) // across)
    size = (across * cell + (across + 1) * gutter, down * cell + (down + 1) * gutter)
    sheet = Image.new("RGB", size, (ground,) * 3)
    for i, picture in enumerate(pictures):
        x, y = i % across, i // across
        square = _square(picture).resize((cell, cell), Image.Resampling.LANCZOS)
        sheet.paste(square, (gutter + x * (cell + gutter), gutter + y * (cell + gutter)))
    return jpeg(sheet, 85)


def _query(matcher: Matcher, data: bytes) -> Query:
    return Query.from_image(hash_image_bytes(data, dihedral=True, windows=matcher.query_windows()))


def _others(seed: int, count: int) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    styles = ["landscape", "shapes", "texture", "graphic", "text"]
    return [
        neutral_image(int(rng.integers(10**6)), 640, 480, str(rng.choice(styles)))
        for _ in range(count)
    ]


@pytest.mark.parametrize(("gutter", "ground"), [(0, 0), (1, 255), (1, 0), (2, 255)])
def test_a_cell_of_a_collage_with_thin_gutters_or_none_meets_the_registered_square(
    sqlite_db: Database, tmp_path: Path, gutter: int, ground: int
) -> None:
    pictures = [original(seed) for seed in SEEDS]
    assert all(p.width != p.height for p in pictures)
    ids = register(sqlite_db, tmp_path, pictures)
    matcher = Matcher(sqlite_db)
    for slot, (picture, item) in enumerate(zip(pictures, ids, strict=True)):
        cells = _others(100 * slot + gutter, 3)
        cells.insert(slot, picture)
        (result,) = matcher.match([_query(matcher, _grid(cells, 360, gutter, ground, 2))])
        assert [m.item for m in result.matches] == [item], (slot, result.matches)
        (m,) = result.matches
        # a PDQ match that stands alone: the cell against the centred square registered
        assert m.method == "pdq" and m.distance <= STANDALONE_BITS, m
        assert (m.window, m.reference, m.reference_label) == (
            WindowKind.CELL.value,
            WindowKind.CROP.value,
            "centre-square",
        )


def test_a_cell_of_a_three_by_three_grid_without_gutters_is_found(
    sqlite_db: Database, tmp_path: Path
) -> None:
    pictures = [original(seed) for seed in SEEDS[:2]]
    ids = register(sqlite_db, tmp_path, pictures)
    matcher = Matcher(sqlite_db)
    # photographs and drawings: a page of text whose lines run up to the seam hides it along
    # its row of cells (its strokes jump more than the seam), and the grid is not found
    cells = [original(seed) for seed in range(30, 37)]
    cells.insert(4, pictures[0])
    cells.insert(6, pictures[1])
    (result,) = matcher.match([_query(matcher, _grid(cells, 240, 0, 0, 3))])
    assert sorted(m.item for m in result.matches) == sorted(ids)
    assert {m.reference_label for m in result.matches} == {"centre-square"}


def _horizon(seed: int) -> Image.Image:
    """A picture crossed at mid-height by one straight edge: sea under a sky."""
    picture = neutral_image(seed, 800, 600, "landscape")
    ImageDraw.Draw(picture).rectangle((0, 300, 800, 600), fill=(20, 60, 110))
    return picture


def _checkerboard(square: int) -> Image.Image:
    cells = (np.indices((600, 800)) // square).sum(axis=0) % 2
    return Image.fromarray((cells * 200 + 30).astype(np.uint8)).convert("RGB")


def test_grids_of_unrelated_pictures_and_hard_pictures_find_nothing(
    sqlite_db: Database, tmp_path: Path
) -> None:
    register(sqlite_db, tmp_path, [original(seed) for seed in SEEDS])
    matcher = Matcher(sqlite_db)
    queries = [_grid(_others(seed, 4), 360, gutter, 0, 2) for seed, gutter in ((1, 0), (2, 1))]
    queries += [_grid(_others(3, 9), 240, 0, 255, 3)]
    queries += [jpeg(_horizon(5)), jpeg(_checkerboard(50)), jpeg(_checkerboard(75))]
    queries += [distractor(kind, seed) for kind in DISTRACTORS for seed in (21, 22)]
    for data in queries:
        (result,) = matcher.match([_query(matcher, data)])
        assert result.matches == (), result.matches
