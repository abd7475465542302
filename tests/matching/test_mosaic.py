"""Pixelated copies: a mosaic query is found through the coarse grids registered with the
original, while graphics that look like mosaics (stripes, flat shapes, checkerboards) are
neither taken for one nor matched."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rempart.hashing import REGISTRATION_EXTRAS, Windows, hash_image_bytes
from rempart.hashing.mosaic import find_mosaic, plain_ground
from rempart.hashing.windows import WindowKind
from rempart.intake import banks
from rempart.matching.service import (
    MOSAIC_PLAIN_GROUND_MISSES,
    MOSAIC_STEADY_MISSES,
    Matcher,
    Query,
)
from rempart.samples import neutral_image
from rempart.store.database import Database

REGISTERED = REGISTRATION_EXTRAS


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _pixelated(image: Image.Image, blocks: int, *, centred: bool, scale: float = 1.0) -> bytes:
    """Mosaic blocks of width/blocks pixels (means), aligned at the top left or centred,
    then optionally resized, saved as a JPEG."""
    width, height = image.size
    size = width / blocks
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    cols, rows = int(np.ceil(width / size)), int(np.ceil(height / size))
    dx = (cols * size - width) / 2 if centred else 0.0
    dy = (rows * size - height) / 2 if centred else 0.0
    xs = np.floor((np.arange(width) + dx) / size).astype(np.intp)
    ys = np.floor((np.arange(height) + dy) / size).astype(np.intp)
    label = (ys[:, None] * (xs.max() + 1) + xs[None, :]).ravel()
    count = np.bincount(label)
    out = np.empty_like(pixels)
    for channel in range(3):
        sums = np.bincount(label, weights=pixels[..., channel].ravel())
        out[..., channel] = (sums / np.maximum(count, 1))[label].reshape(height, width)
    mosaic = Image.fromarray(out.clip(0, 255).astype(np.uint8))
    if scale != 1.0:
        mosaic = mosaic.resize((round(width * scale), round(height * scale)))
    return _jpeg(mosaic, 80)


def _luma(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def _stripes(width: int, height: int, period: int) -> Image.Image:
    x = np.arange(width)[None, :].repeat(height, axis=0)
    plane = np.where((x // (period // 2)) % 2 == 0, 30, 220).astype(np.uint8)
    return Image.fromarray(plane).convert("RGB")


def _checkerboard(width: int, height: int, square: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    plane = np.where(((x // square) + (y // square)) % 2 == 0, 20, 235).astype(np.uint8)
    return Image.fromarray(plane).convert("RGB")


def _flat_shapes(seed: int, width: int, height: int) -> Image.Image:
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        w, h = int(rng.integers(20, width // 3)), int(rng.integers(20, height // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.rectangle((x, y, x + w, y + h), fill=colour)
    return image


def _gridded_chart(width: int, height: int, cell: int) -> Image.Image:
    plane = np.full((height, width), 255, dtype=np.uint8)
    plane[::cell, :] = 180
    plane[:, ::cell] = 180
    return Image.fromarray(plane).convert("RGB")


GRAPHICS = {
    "stripes": _stripes(640, 480, 40),
    "fine stripes": _stripes(640, 480, 24),
    "checkerboard": _checkerboard(640, 480, 32),
    "small checkerboard": _checkerboard(640, 480, 20),
    "flat shapes": _flat_shapes(3, 640, 480),
    "chart grid": _gridded_chart(640, 480, 40),
}


@pytest.mark.parametrize("name", sorted(GRAPHICS))
def test_graphics_on_a_grid_are_not_mosaics(name: str) -> None:
    assert find_mosaic(_luma(_jpeg(GRAPHICS[name]))) is None


@pytest.mark.parametrize("seed", range(6))
def test_pictures_are_not_mosaics(seed: int) -> None:
    assert find_mosaic(_luma(_jpeg(neutral_image(seed, 640, 480)))) is None


@pytest.mark.parametrize("seed", range(6))
def test_a_mosaic_is_found_with_its_blocks(seed: int) -> None:
    rng = np.random.default_rng([seed, 1])
    blocks = int(rng.integers(12, 33))
    data = _pixelated(neutral_image(seed, 640, 480), blocks, centred=bool(seed % 2))
    found = find_mosaic(_luma(data))
    assert found is not None
    assert found.across == pytest.approx(blocks, rel=0.05)


def _register(db: Database, tmp_path: Path, images: dict[str, Image.Image]) -> dict[str, int]:
    banks.create_bank(db, "victim")
    ids: dict[str, int] = {}
    for name, image in images.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(_jpeg(image, 92))
        (outcome,) = banks.add_images(db, "victim", [path], extras=REGISTERED)
        assert outcome.error is None and outcome.item_id is not None
        ids[name] = outcome.item_id
    return ids


def _match(matcher: Matcher, data: bytes) -> list[int]:
    hashes = hash_image_bytes(data, dihedral=True, windows=matcher.query_windows())
    (result,) = matcher.match([Query.from_image(hashes)])
    return [m.item for m in result.matches]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_picture_pixelated_at_random_block_sizes_is_matched(db: Database, tmp_path: Path) -> None:
    styles = ("landscape", "shapes", "texture", "graphic")
    originals = {
        f"p{seed}": neutral_image(seed, 640, 480, styles[seed % len(styles)])
        for seed in range(100, 104)
    }
    ids = _register(db, tmp_path, originals)
    matcher = Matcher(db)
    rng = np.random.default_rng(2026)
    found = 0
    tried = 0
    for name, image in originals.items():
        for _ in range(2):
            blocks = int(np.exp(rng.uniform(np.log(16), np.log(32))))
            data = _pixelated(image, blocks, centred=bool(rng.random() < 0.5))
            matched = _match(matcher, data)
            assert set(matched) <= {ids[name]}  # never another picture
            found += matched == [ids[name]]
            tried += 1
    assert found >= tried * 3 // 4


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_pixelated_graphics_match_nothing(db: Database, tmp_path: Path) -> None:
    ids = _register(db, tmp_path, {"shot": neutral_image(7, 640, 480)})
    matcher = Matcher(db)
    assert ids
    for image in (*GRAPHICS.values(), neutral_image(8, 640, 480), neutral_image(9, 640, 480)):
        for blocks in (12, 20, 28):
            assert _match(matcher, _pixelated(image, blocks, centred=False)) == []
        assert _match(matcher, _jpeg(image)) == []


def test_the_mosaic_kind_is_matched_only_against_itself() -> None:
    from rempart.matching.service import slot_of

    assert slot_of(WindowKind.MOSAIC, "8") == "mosaic:8"
    assert slot_of(WindowKind.MOSAIC, "11") != slot_of(WindowKind.GRID, "11")


@pytest.mark.parametrize(
    "luma",
    [
        np.zeros((1, 1), dtype=np.uint8),
        np.zeros((3, 900), dtype=np.uint8),
        np.full((480, 640), 128, dtype=np.uint8),  # flat: no edge at all
        np.random.default_rng(1).integers(0, 256, (480, 640)).astype(np.uint8),  # noise
        np.kron(np.random.default_rng(2).integers(0, 256, (4, 5)), np.ones((120, 128))).astype(
            np.uint8
        ),  # 5 blocks across: too coarse to be pixelation
        np.tile(np.linspace(0, 255, 640, dtype=np.float32), (480, 1)),  # a gradient, float
    ],
)
def test_odd_pictures_are_no_mosaic_and_never_crash(luma: np.ndarray) -> None:
    assert find_mosaic(luma) is None


def test_a_mosaic_found_at_any_size_gives_coarse_windows() -> None:
    from rempart.hashing.windows import mosaic_windows

    rng = np.random.default_rng(5)
    cells = rng.integers(0, 256, (15, 20))
    luma = np.kron(cells, np.ones((24, 24))).astype(np.uint8)  # 20 blocks across, 480x360
    windows = mosaic_windows(luma, registering=False)
    assert [w.label for w in windows] == ["6", "8", "11"]  # 16 cells would split blocks
    assert (
        mosaic_windows(np.asarray(neutral_image(3, 480, 360).convert("L")), registering=False) == ()
    )
    assert len(mosaic_windows(luma, registering=True)) == 4


def test_a_seen_mosaic_is_kept_and_met_by_a_later_registration() -> None:
    # What scans saw is packed and matched against items registered later (retro): a
    # pixelated copy's coarse grids, flat to PDQ, must survive both steps.
    from rempart.hashing.signals import Dihedral, PdqHash, PdqSignal
    from rempart.matching.packed import SeenCandidates, pack_query, unpack_query
    from rempart.matching.service import QuerySignal

    code = PdqHash(bytes(range(32)))
    grid = QuerySignal(WindowKind.MOSAIC, Dihedral.ORIGINAL, PdqSignal(code, 12), "11")
    packed = pack_query(Query((grid,)))
    assert unpack_query(packed).signals == (grid,)
    same = SeenCandidates([("mosaic", "11", code.hex)], radius=31, quality_min=50)
    other = SeenCandidates([("mosaic", "8", code.hex)], radius=31, quality_min=50)
    assert same.search([packed]) == [0]
    assert other.search([packed]) == []


def _sample(name: str) -> Image.Image:
    import skimage.data

    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def _mean_blocks(image: Image.Image, blocks: int) -> bytes:
    """Pixelated as most tools do it: the picture reduced to `blocks` across (area means),
    blown up again with square pixels, saved as a JPEG."""
    down = max(1, round(blocks * image.height / image.width))
    small = image.resize((blocks, down), Image.Resampling.BOX)
    return _jpeg(small.resize(image.size, Image.Resampling.NEAREST), 80)


def test_a_grids_steady_bits_are_the_ones_a_copy_keeps() -> None:
    from rempart.hashing.mosaic import coarse_view
    from rempart.hashing.pdq import pdq_from_luma, pdq_steady_bits

    moon = _sample("moon")
    original = coarse_view(np.asarray(moon.convert("L")), 11)
    copy = coarse_view(_luma(_mean_blocks(moon, 17)), 11)
    steady = pdq_steady_bits(copy, 64)
    assert steady.ones == 64
    ours, theirs = pdq_from_luma(copy).hash, pdq_from_luma(original).hash
    differ = int.from_bytes(ours.value) ^ int.from_bytes(theirs.value)
    assert differ.bit_count() > 8  # a flat grid's hash: many bits flip
    assert (differ & int.from_bytes(steady.value)).bit_count() <= 1  # its steady bits do not
    with pytest.raises(ValueError, match="count"):
        pdq_steady_bits(copy, 0)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_textured_pictures_pixelated_are_matched_on_their_grids_steady_bits(
    db: Database, tmp_path: Path
) -> None:
    # Their coarse grids lie 30-60 bits off the originals': only the bits that a copy keeps
    # tell them from another picture.
    names = ("coins", "grass", "camera")
    ids = _register(db, tmp_path, {name: _sample(name) for name in names})
    matcher = Matcher(db)
    for name, blocks in (("coins", 20), ("grass", 23), ("grass", 27)):
        hashes = hash_image_bytes(
            _mean_blocks(_sample(name), blocks), dihedral=True, windows=matcher.query_windows()
        )
        (result,) = matcher.match([Query.from_image(hashes)])
        assert [m.item for m in result.matches] == [ids[name]], name
        assert result.matches[0].window == WindowKind.MOSAIC
        assert dict(result.matches[0].detail)["steady_misses"] <= MOSAIC_STEADY_MISSES


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_pixelated_screens_and_pages_of_one_layout_do_not_meet_on_steady_bits(
    db: Database, tmp_path: Path
) -> None:
    # Pixelated, two screenshots of one application or two text pages differ in little more
    # than their text, which the blocks erase: alike on every coarse grid, even on their
    # steadiest bits, they must not be taken for copies of each other for those bits. (Two
    # screenshots of this one layout, pixelated, are one picture to PDQ: some meet on their
    # whole hash, 20-28 bits apart, which is not this rule's doing.)
    from hard_copies import DISTRACTORS, register

    from rempart.hashing.pdq import pdq_from_luma

    registered = [
        DISTRACTORS[kind](np.random.default_rng(seed))
        for kind in ("ui-screenshot", "text-page", "flat-shapes", "gradient")
        for seed in (1, 2, 3)
    ]
    register(db, tmp_path, [p for p in registered if pdq_from_luma(p.convert("L")).quality >= 50])
    matcher = Matcher(db)
    for kind in ("ui-screenshot", "text-page", "flat-shapes", "gradient"):
        for seed in range(11, 17):
            other = DISTRACTORS[kind](np.random.default_rng(seed))
            for blocks in (12, 14, 16, 19, 22, 26, 30):
                hashes = hash_image_bytes(
                    _mean_blocks(other, blocks), dihedral=True, windows=matcher.query_windows()
                )
                (result,) = matcher.match([Query.from_image(hashes)])
                steady = [m for m in result.matches if "steady_misses" in dict(m.detail)]
                assert steady == [], (kind, seed, blocks)


def test_only_a_textured_mosaic_is_compared_on_steady_bits() -> None:
    from hard_copies import DISTRACTORS

    from rempart.hashing.mosaic import steady_bits_for

    screen = find_mosaic(
        _luma(_mean_blocks(DISTRACTORS["ui-screenshot"](np.random.default_rng(1)), 20))
    )
    grass = find_mosaic(_luma(_mean_blocks(_sample("grass"), 20)))
    assert screen is not None and grass is not None
    assert screen.alike > 0.5 > grass.alike  # a screen's flat areas: neighbouring blocks alike
    assert steady_bits_for(screen) == 0
    assert steady_bits_for(grass) == 64


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_textured_pictures_pixelated_are_matched_with_a_few_steady_bits_flipped(
    db: Database, tmp_path: Path
) -> None:
    # A textured mosaic's two finest grids keep all but 4-6 of their 128 steady bits on
    # these copies; unrelated textured mosaics differ on 14 or more (docs/benchmarks.md).
    cases = (("coins", 15), ("gravel", 13), ("chelsea", 15), ("rocket", 20))
    ids = _register(db, tmp_path, {name: _sample(name) for name, _ in cases})
    matcher = Matcher(db)
    flipped = []
    for name, blocks in cases:
        hashes = hash_image_bytes(
            _mean_blocks(_sample(name), blocks), dihedral=True, windows=matcher.query_windows()
        )
        (result,) = matcher.match([Query.from_image(hashes)])
        assert [m.item for m in result.matches] == [ids[name]], (name, blocks)
        assert result.matches[0].window == WindowKind.MOSAIC
        flipped.append(dict(result.matches[0].detail)["steady_misses"])
    assert max(flipped) > 3
    assert max(flipped) <= MOSAIC_STEADY_MISSES


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_pixelated_screen_does_not_meet_a_screen_of_its_layout_on_its_whole_hash(
    db: Database, tmp_path: Path
) -> None:
    # Pixelated, a screenshot of one application's layout lies 28-30 bits from another's
    # whole hash (its text erased): within PDQ's threshold, but a mosaic's whole hash lies
    # 80-90 bits from its own original's, so it stands only close or beside the coarse grids.
    from hard_copies import DISTRACTORS, register

    screens = [DISTRACTORS["ui-screenshot"](np.random.default_rng(seed)) for seed in (1, 2, 3)]
    register(db, tmp_path, screens)
    matcher = Matcher(db)
    for seed, blocks in ((11, 30), (13, 14)):
        other = DISTRACTORS["ui-screenshot"](np.random.default_rng(seed))
        data = _mean_blocks(other, blocks)
        assert find_mosaic(_luma(data)) is not None
        hashes = hash_image_bytes(data, dihedral=True, windows=matcher.query_windows())
        (result,) = matcher.match([Query.from_image(hashes)])
        assert not result.matches, (seed, blocks)


def test_a_mosaic_on_plain_ground_is_compared_on_steady_bits_with_fewer_misses() -> None:
    # A photograph with a sky (the cameraman: 31-45 % of neighbouring blocks alike) is
    # compared on its steady bits, few of them allowed to differ; a textured one as before;
    # a screen not at all.
    from hard_copies import DISTRACTORS

    from rempart.hashing.mosaic import steady_bits_for

    camera = find_mosaic(_luma(_mean_blocks(_sample("camera"), 20)))
    grass = find_mosaic(_luma(_mean_blocks(_sample("grass"), 20)))
    screen = find_mosaic(
        _luma(_mean_blocks(DISTRACTORS["ui-screenshot"](np.random.default_rng(1)), 20))
    )
    assert camera is not None and grass is not None and screen is not None
    assert steady_bits_for(camera) == steady_bits_for(grass) == 64
    assert plain_ground(camera) and not plain_ground(grass)
    assert steady_bits_for(screen) == 0
    query = hash_image_bytes(_mean_blocks(_sample("camera"), 20), windows=Windows.MOSAIC)
    assert query.windows and all(w.window.plain_ground for w in query.windows)
    assert all(w.steady is not None for w in query.windows)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_pictures_on_plain_ground_pixelated_are_matched_on_a_few_steady_bits(
    db: Database, tmp_path: Path
) -> None:
    # Galaxies on a black sky: their grids are flat to PDQ (quality under 20, not met on
    # distance alone) and their plain ground keeps them from the rule of textured mosaics;
    # these copies keep all their steady bits, the one at 20 blocks all but 3 of them: too
    # many for a mosaic on plain ground (docs/benchmarks.md, fifth pass). The query is cut
    # down to its grids: its whole hash meets some of these copies too.
    ids = _register(db, tmp_path, {name: _sample(name) for name in ("hubble_deep_field", "camera")})
    matcher = Matcher(db)
    for blocks, found in ((23, True), (26, True), (30, True), (20, False)):
        data = _mean_blocks(_sample("hubble_deep_field"), blocks)
        mosaic = find_mosaic(_luma(data))
        assert mosaic is not None and plain_ground(mosaic), blocks
        hashes = hash_image_bytes(data, dihedral=True, windows=matcher.query_windows())
        query = Query.from_image(hashes)
        grids = [s for s in query.signals if s.kind == WindowKind.MOSAIC]
        assert grids and all(s.plain_ground for s in grids)
        (result,) = matcher.match([replace(query, signals=tuple(grids))])
        if not found:
            assert not result.matches, blocks
            continue
        assert [m.item for m in result.matches] == [ids["hubble_deep_field"]], blocks
        assert dict(result.matches[0].detail)["steady_misses"] <= MOSAIC_PLAIN_GROUND_MISSES
