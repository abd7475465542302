"""Pictures shown on a page: the query side finds each picture's region on a web page or a
post's screenshot (light or dark, among text, menus and other pictures), and the matcher finds
a registered picture shown small there; text pages, interface screenshots and pages showing
unrelated pictures match nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hard_copies import WORDS, distractor, jpeg, original, register
from PIL import Image, ImageDraw

from rempart.hashing import REGISTRATION_EXTRAS, Windows, hash_image_bytes
from rempart.hashing.decode import decode_luma
from rempart.hashing.windows import WindowKind, find_page_regions, find_windows
from rempart.matching.service import Matcher, Query
from rempart.samples import neutral_image
from rempart.store.database import Database

Box = tuple[int, int, int, int]
EXTRAS = REGISTRATION_EXTRAS  # what `bank add` stores by default


def _lines(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box: Box, ink: int) -> None:
    left, top, right, bottom = box
    for y in range(top, bottom - 12, 20):
        x = left
        while x < right - 60:
            word = str(rng.choice(WORDS))
            draw.text((x, y), word, fill=(ink,) * 3)
            x += 7 * len(word) + 6


def _web_page(
    pictures: list[Image.Image], seed: int, *, dark: bool = False, share: float = 0.3
) -> tuple[Image.Image, list[Box]]:
    """An article: a menu bar, a title, paragraphs, the pictures at `share` of the page's width
    in the text column (each with a caption line), a sidebar of links."""
    rng = np.random.default_rng(seed)
    width, height = 1440, 1500
    ground, ink = (18, 200) if dark else (250, 40)
    page = Image.new("RGB", (width, height), (ground,) * 3)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width, 70), fill=(40, 60, 110))
    for i in range(6):
        draw.text((500 + 120 * i, 28), str(rng.choice(WORDS)), fill=(235, 235, 235))
    draw.rectangle((1060, 100, 1400, 900), fill=(ground + (12 if ground < 128 else -14),) * 3)
    _lines(draw, rng, (1080, 120, 1380, 880), ink)
    _lines(draw, rng, (80, 100, 1000, 160), ink)
    boxes = []
    y = 180
    for i, picture in enumerate(pictures):
        shown_w = round(width * share)
        shown = picture.resize((shown_w, round(picture.height * shown_w / picture.width)))
        x = 80 if i % 2 == 0 else 1000 - shown_w
        page.paste(shown, (x, y))
        boxes.append((x, y, x + shown.width, y + shown.height))
        text_x = x + shown_w + 24 if x == 80 else 80
        _lines(draw, rng, (text_x, y, text_x + 1000 - 80 - shown_w - 24, y + shown.height), ink)
        _lines(draw, rng, (x, y + shown.height + 8, x + shown_w, y + shown.height + 28), 120)
        y += shown.height + 50
    _lines(draw, rng, (80, y, 1000, height - 20), ink)
    return page, boxes


def _post(picture: Image.Image, seed: int, *, dark: bool = False) -> tuple[Image.Image, Box]:
    """A phone screenshot of a post: avatar, name, text, the picture cut to 4:5 at the
    screen's width, buttons, comments."""
    rng = np.random.default_rng(seed)
    width = 900
    ground, ink = (0, 230) if dark else (255, 25)
    if picture.width / picture.height < 0.8:
        cut = round(picture.width / 0.8)
        top = (picture.height - cut) // 2
        picture = picture.crop((0, top, picture.width, top + cut))
    shown = picture.resize((width, round(picture.height * width / picture.width)))
    page = Image.new("RGB", (width, shown.height + 700), (ground,) * 3)
    draw = ImageDraw.Draw(page)
    draw.ellipse((24, 90, 104, 170), fill=(200, 90, 40))
    draw.text((124, 110), "some_name", fill=(ink,) * 3)
    _lines(draw, rng, (24, 190, width - 24, 280), ink)
    page.paste(shown, (0, 300))
    y = 300 + shown.height + 20
    for i in range(4):
        draw.ellipse((24 + 90 * i, y, 64 + 90 * i, y + 40), outline=(ink,) * 3, width=3)
    _lines(draw, rng, (24, y + 70, width - 24, page.height - 20), ink)
    return page, (0, 300, width, 300 + shown.height)


def _near(found: Box, truth: Box, slack: int = 8) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(found, truth, strict=True))


@pytest.mark.parametrize("dark", [False, True])
def test_each_picture_on_a_web_page_is_a_region_of_its_own(dark: bool) -> None:
    pictures = [original(61), neutral_image(62, 640, 480, "landscape")]
    page, truth = _web_page(pictures, 3, dark=dark)
    regions = find_page_regions(decode_luma(jpeg(page)).luma)
    assert all(w.kind is WindowKind.SCREEN for w in regions)
    for box in truth:
        assert any(_near(w.box, box) for w in regions), (box, [w.box for w in regions])
    assert len(regions) <= 4


def test_pictures_come_before_a_larger_panel_of_text() -> None:
    pictures = [neutral_image(65 + i, 640, 480, "landscape") for i in range(4)]
    page, truth = _web_page(pictures, 7, share=0.2)
    regions = find_page_regions(decode_luma(jpeg(page)).luma)[:4]
    for box in truth:
        assert any(_near(w.box, box) for w in regions), (box, [w.box for w in regions])


@pytest.mark.parametrize("dark", [False, True])
def test_the_picture_of_a_post_screenshot_is_a_region(dark: bool) -> None:
    page, truth = _post(original(63), 4, dark=dark)
    regions = find_page_regions(decode_luma(jpeg(page)).luma)
    assert any(_near(w.box, truth) for w in regions), (truth, [w.box for w in regions])


def _light_app(seed: int, ground: int) -> Image.Image:
    """A light app's screenshot: a menu bar, a sidebar, cards of text on a near-white ground."""
    rng = np.random.default_rng(seed)
    shot = Image.new("RGB", (1200, 800), (ground,) * 3)
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, 1200, 60), fill=(200, 90, 140))
    draw.rectangle((0, 60, 240, 800), fill=(ground - 14,) * 3)
    _lines(draw, rng, (20, 80, 220, 780), 60)
    for i in range(4):
        x, y = 280 + (i % 2) * 450, 100 + (i // 2) * 340
        draw.rounded_rectangle((x, y, x + 420, y + 300), 12, fill="white", outline=(200,) * 3)
        _lines(draw, rng, (x + 12, y + 12, x + 400, y + 280), 40)
    return shot


@pytest.mark.parametrize("seed", [1, 2])
def test_a_light_screenshot_on_a_white_post_is_a_region(seed: int) -> None:
    # its ground 5 levels under the post's white: within the page's tolerance, though the
    # post's own ground is flatter than that
    page, truth = _post(_light_app(seed, 250), seed)
    regions = find_page_regions(decode_luma(jpeg(page)).luma)
    assert any(_near(w.box, truth) for w in regions), (truth, [w.box for w in regions])


def test_the_regions_are_query_windows() -> None:
    page, truth = _web_page([original(64)], 5)
    windows = find_windows(decode_luma(jpeg(page)).luma)
    assert any(w.kind is WindowKind.SCREEN and _near(w.box, truth[0]) for w in windows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_photograph_and_a_page_of_text_have_no_region(seed: int) -> None:
    photo = neutral_image(seed, 800, 600, "landscape")
    assert find_page_regions(decode_luma(jpeg(photo)).luma) == ()
    assert find_page_regions(decode_luma(distractor("text-page", seed)).luma) == ()


def test_a_tiny_or_flat_image_has_no_region() -> None:
    assert find_page_regions(np.zeros((10, 400), np.uint8)) == ()
    assert find_page_regions(np.full((300, 400), 255, np.uint8)) == ()


# ------------------------------------------------------------------------------ end to end


def _matched(matcher: Matcher, data: bytes) -> set[int]:
    hashed = hash_image_bytes(data, dihedral=True, windows=matcher.query_windows())
    (result,) = matcher.match([Query.from_image(hashed)])
    return {m.item for m in result.matches}


def test_a_picture_shown_small_on_a_web_page_is_found(sqlite_db: Database, tmp_path: Path) -> None:
    pictures = [neutral_image(70 + i, 800, 600, "landscape") for i in range(3)]
    ids = register(sqlite_db, tmp_path, pictures)
    matcher = Matcher(sqlite_db)
    for i, picture in enumerate(pictures):
        for dark in (False, True):
            page, _boxes = _web_page([picture], 20 + i, dark=dark, share=0.28)
            assert _matched(matcher, jpeg(page, 80)) == {ids[i]}, (i, dark)


def test_a_picture_beside_an_unrelated_one_on_a_page_is_found(
    sqlite_db: Database, tmp_path: Path
) -> None:
    registered = neutral_image(80, 800, 600, "landscape")
    (item,) = register(sqlite_db, tmp_path, [registered])
    other = neutral_image(81, 640, 480, "shapes")
    page, _boxes = _web_page([other, registered], 6, share=0.3)
    assert _matched(Matcher(sqlite_db), jpeg(page, 80)) == {item}


def test_a_picture_among_thumbnails_on_a_grid_is_found(sqlite_db: Database, tmp_path: Path) -> None:
    registered = neutral_image(85, 800, 600, "landscape")
    (item,) = register(sqlite_db, tmp_path, [registered])
    # an image search's or a gallery's results, each with its title: the page's ground is a
    # fifth of the page, and no clean gutter splits it
    page = Image.new("RGB", (1280, 940), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 1280, 44), fill=(240, 240, 240))
    _lines(draw, np.random.default_rng(8), (40, 12, 900, 40), 60)
    for cell in range(12):
        row, col = divmod(cell, 4)
        shown = registered if cell == 6 else neutral_image(300 + cell, 800, 600, "landscape")
        x, y = 40 + col * 306, 60 + row * 290
        page.paste(shown.resize((290, 218)), (x, y))
        _lines(draw, np.random.default_rng(cell), (x, y + 224, x + 300, y + 284), 60)
    assert _matched(Matcher(sqlite_db), jpeg(page, 80)) == {item}


def test_text_pages_interfaces_and_pages_of_other_pictures_match_nothing(
    sqlite_db: Database, tmp_path: Path
) -> None:
    register(sqlite_db, tmp_path, [neutral_image(90 + i, 800, 600, "landscape") for i in range(3)])
    matcher = Matcher(sqlite_db)
    for seed in range(3):
        for kind in ("text-page", "ui-screenshot"):
            assert _matched(matcher, distractor(kind, seed)) == set(), (kind, seed)
        unrelated = [neutral_image(200 + seed, 800, 600, "landscape")]
        page, _boxes = _web_page(unrelated, seed, dark=bool(seed % 2))
        assert _matched(matcher, jpeg(page, 80)) == set()
        post, _box = _post(unrelated[0], seed)
        assert _matched(matcher, jpeg(post, 80)) == set()


def test_a_picture_shown_small_on_a_page_has_its_features_as_shown_too() -> None:
    # scaled up to the features' side, fine strokes blur (a page of text shown small): its
    # features are taken as it is shown as well; a region as large as that side has one set
    windows = Windows.PICTURE | Windows.FEATURES
    for share, expected in ((0.25, 2), (0.4, 1)):
        page, truth = _web_page([original(66)], 9, share=share)
        hashed = hash_image_bytes(jpeg(page), windows=windows)
        screens = [f for kind, f in hashed.features if kind == WindowKind.SCREEN.value]
        regions = [w.window for w in hashed.windows if w.window.kind is WindowKind.SCREEN]
        picture = [w for w in regions if _near(w.box, truth[0])]
        assert picture, (truth, [w.box for w in regions])
        shown = max(picture[0].right - picture[0].left, picture[0].bottom - picture[0].top)
        assert (shown < 512) == (expected == 2)
        assert len(screens) >= expected
        small = sum(max(w.right - w.left, w.bottom - w.top) < 512 for w in regions)
        assert len(screens) == len(regions) + small
