import io
import math
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from rempart.hashing import hash_image_bytes
from rempart.hashing.decode import decode_luma
from rempart.hashing.pdq import pdq_from_luma
from rempart.hashing.windows import (
    Window,
    WindowKind,
    cut_caption_bars,
    find_deskewed,
    find_screen_photo,
    find_windows,
    grid_windows,
    registration_crops,
    smooth_windows,
    split_collage,
    trim_flat_borders,
    window_pixels,
)
from rempart.matching.calibration import threshold_for
from rempart.samples import neutral_image

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]


def _luma_of(img: Image.Image, fmt: str = "JPEG", quality: int = 85) -> np.ndarray:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return np.asarray(decode_luma(buf.getvalue()).luma)


def _encode(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _framed(img: Image.Image, pad: tuple[int, int, int, int], colour: Colour) -> Image.Image:
    left, top, right, bottom = pad
    canvas = Image.new("RGB", (img.width + left + right, img.height + top + bottom), colour)
    canvas.paste(img, (left, top))
    return canvas


def _text_lines(draw: ImageDraw.ImageDraw, x: int, y: int, rows: int, ink: Colour) -> None:
    for row in range(rows):
        draw.text((x, y + row * 14), "Re: thread title - posted by someone, 3 replies", fill=ink)


def _box_near(window: Window | None, box: tuple[int, int, int, int], slack: int = 2) -> bool:
    return window is not None and all(
        abs(a - b) <= slack for a, b in zip(window.box, box, strict=True)
    )


def _distance_to_original(img: Image.Image, window: Window, luma: np.ndarray) -> int:
    original = hash_image_bytes(_encode(img)).pdq
    return original.hash.distance(pdq_from_luma(window.crop(luma)).hash)


PLAIN = [(seed, style) for style in ("shapes", "landscape", "texture") for seed in range(8)]


# ------------------------------------------------------------------------------ TRIMMED


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (30, 120, 200)])
def test_letterbox_bars_of_any_colour_are_trimmed_back_to_the_picture(colour: Colour) -> None:
    img = neutral_image(4, 400, 300, style="landscape")
    window = trim_flat_borders(_luma_of(_framed(img, (0, 70, 0, 70), colour), "PNG"))
    assert window is not None and window.kind is WindowKind.TRIMMED
    assert window.box == (0, 70, 400, 370)


def test_trimmed_window_hashes_like_the_original() -> None:
    img = neutral_image(5, 400, 300, style="shapes")
    framed = _luma_of(_framed(img, (40, 60, 40, 60), (0, 0, 0)), "JPEG")
    window = trim_flat_borders(framed)
    assert window is not None
    assert _distance_to_original(img, window, framed) <= 16
    whole = pdq_from_luma(framed)
    assert hash_image_bytes(_encode(img)).pdq.hash.distance(whole.hash) > 31  # why it is needed


def test_a_pictures_own_flat_margin_of_another_colour_is_kept() -> None:
    img = neutral_image(7, 400, 300, style="shapes")
    ImageDraw.Draw(img).rectangle((0, 0, 399, 29), fill=(250, 250, 250))  # its own white top
    ImageDraw.Draw(img).rectangle((0, 0, 19, 299), fill=(250, 250, 250))  # and left edge
    window = trim_flat_borders(_luma_of(_framed(img, (0, 60, 0, 60), (0, 0, 0))))
    assert _box_near(window, (0, 60, 400, 360), slack=0)


def test_an_image_without_borders_gives_no_window() -> None:
    assert trim_flat_borders(_luma_of(neutral_image(6, 320, 240, style="texture"))) is None


def test_a_flat_image_gives_no_window() -> None:
    assert trim_flat_borders(np.full((100, 100), 128, dtype=np.uint8)) is None


def test_a_thin_busy_strip_is_not_taken_for_the_picture() -> None:
    luma = np.zeros((300, 300), dtype=np.uint8)
    luma[140:150, :] = np.random.default_rng(0).integers(0, 255, (10, 300))
    assert trim_flat_borders(luma) is None


def _blur_framed(img: Image.Image, frame: tuple[int, int]) -> tuple[Image.Image, Box]:
    """The picture fitted into a frame whose bars are the picture itself, enlarged and
    blurred (as apps fit a picture to a story's frame); the picture's box in it."""
    canvas = img.resize(frame).filter(ImageFilter.GaussianBlur(25))
    at = ((frame[0] - img.width) // 2, (frame[1] - img.height) // 2)
    canvas.paste(img, at)
    return canvas, (at[0], at[1], at[0] + img.width, at[1] + img.height)


@pytest.mark.parametrize(
    ("seed", "style", "frame"),
    [
        (2, "landscape", (480, 854)),  # 9:16, bars above and below
        (4, "text", (480, 854)),  # a page whose own margins are flat
        (3, "shapes", (640, 360)),  # 16:9 around a portrait: bars on the sides
    ],
)
def test_blurred_letterbox_bars_are_cut_off(seed: int, style: str, frame: tuple[int, int]) -> None:
    size = (480, 360) if frame[1] > frame[0] else (270, 360)
    img = neutral_image(seed, *size, style=style)
    framed, box = _blur_framed(img, frame)
    luma = _luma_of(framed)
    trimmed = [w for w in find_windows(luma) if w.kind is WindowKind.TRIMMED]
    assert any(_box_near(w, box, slack=3) for w in trimmed)
    best = min(_distance_to_original(img, w, luma) for w in trimmed)
    assert best <= 16


@pytest.mark.parametrize(("seed", "style"), PLAIN)
def test_a_plain_picture_has_no_blurred_bars(seed: int, style: str) -> None:
    luma = _luma_of(neutral_image(seed, 480, 360, style=style))
    assert not [w for w in find_windows(luma) if w.kind is WindowKind.TRIMMED]


# --------------------------------------------------------------------------- UNCAPTIONED


def _captioned(img: Image.Image, bar: int, at_top: bool, paper: Colour, ink: Colour):
    canvas = Image.new("RGB", (img.width, img.height + bar), paper)
    canvas.paste(img, (0, bar if at_top else 0))
    y = 6 if at_top else img.height + 6
    _text_lines(ImageDraw.Draw(canvas), 10, y, rows=max(1, (bar - 12) // 14), ink=ink)
    return canvas


@pytest.mark.parametrize(
    ("at_top", "paper", "ink"),
    [(True, (255, 255, 255), (0, 0, 0)), (False, (0, 0, 0), (255, 255, 255))],
    ids=["white bar above", "black bar below"],
)
def test_a_caption_bar_with_text_is_cut_off(at_top: bool, paper: Colour, ink: Colour) -> None:
    img = neutral_image(11, 480, 360, style="landscape")
    luma = _luma_of(_captioned(img, 64, at_top, paper, ink))
    window = cut_caption_bars(luma)
    box = (0, 64, 480, 424) if at_top else (0, 0, 480, 360)
    assert _box_near(window, box)
    assert window is not None and window.kind is WindowKind.UNCAPTIONED
    assert _distance_to_original(img, window, luma) <= 16


@pytest.mark.parametrize(("seed", "style"), [*PLAIN, (1, "text"), (3, "text"), (5, "graphic")])
def test_pictures_and_pages_of_text_have_no_caption_bar(seed: int, style: str) -> None:
    assert cut_caption_bars(_luma_of(neutral_image(seed, 480, 360, style=style))) is None


def _app_screen(seed: int) -> Image.Image:
    """A light app's screen: an app bar with its title, a sidebar of entries, a table."""
    rng = np.random.default_rng(seed)
    screen = Image.new("RGB", (640, 420), (246, 246, 248))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 640, 40), fill=(90, 160, 60))
    draw.text((12, 12), "Inbox - settings", fill=(255, 255, 255))
    draw.rectangle((0, 40, 200, 420), fill=(214, 214, 222))
    for i in range(12):
        draw.ellipse((10, 56 + 28 * i, 20, 66 + 28 * i), fill=tuple(rng.integers(0, 256, 3)))
        draw.text((28, 54 + 28 * i), f"entry {i}", fill=(40, 40, 40))
    for row in range(14):
        y = 56 + 25 * row
        draw.line((220, y + 20, 630, y + 20), fill=(210, 210, 214))
        for col in range(4):
            draw.text((226 + 100 * col, y + 4), f"cell {row}.{col}", fill=(40, 40, 40))
    return screen


@pytest.mark.parametrize("at_top", [True, False], ids=["caption above", "caption below"])
def test_a_caption_over_a_screenshot_is_cut_without_its_app_bar(at_top: bool) -> None:
    """The app bar (a flat bar with text) and the sidebar peel off with the caption; one of
    the windows keeps the screenshot whole."""
    img = _app_screen(3)
    luma = _luma_of(_captioned(img, 70, at_top, (255, 255, 255), (0, 0, 0)))
    box = (0, 70, 640, 490) if at_top else (0, 0, 640, 420)
    windows = [w for w in find_windows(luma) if w.kind is WindowKind.UNCAPTIONED]
    assert any(_box_near(w, box) for w in windows)
    assert min(_distance_to_original(img, w, luma) for w in windows) <= 16


def test_a_caption_in_a_large_font_is_cut_off() -> None:
    """A meme's caption: two lines of glyphs 60 pixels high on a 480-pixel picture, whose
    strokes run longer than a small font's."""
    img = neutral_image(8, 480, 360, style="landscape")
    canvas = Image.new("RGB", (480, 360 + 150), (0, 0, 0))
    canvas.paste(img, (0, 150))
    draw = ImageDraw.Draw(canvas)
    for row, text in enumerate(("WHEN THE", "MEME HITS")):
        draw.text((12, 12 + 66 * row), text, font=ImageFont.load_default(60), fill="white")
    luma = _luma_of(canvas)
    window = cut_caption_bars(luma)
    assert _box_near(window, (0, 150, 480, 510))
    assert window is not None and _distance_to_original(img, window, luma) <= 16


# -------------------------------------------------------------------------------- SCREEN


def _forum_page(photo: Image.Image, dark: bool) -> tuple[Image.Image, tuple[int, int]]:
    """A page with a header bar, the photo left of centre and text lines under it."""
    paper, ink, header = ((24, 24, 28), (220, 220, 220), (60, 60, 70))
    if not dark:
        paper, ink, header = (242, 242, 245), (60, 60, 60), (40, 60, 110)
    page = Image.new("RGB", (photo.width + 300, photo.height + 260), paper)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, page.width, 50), fill=header)
    draw.text((20, 18), "forum name    threads    search", fill=(255, 255, 255))
    _text_lines(draw, 20, 64, rows=2, ink=ink)
    at = (90, 100)
    page.paste(photo, at)
    _text_lines(draw, 20, at[1] + photo.height + 16, rows=6, ink=ink)
    return page, at


def _phone_capture(photo: Image.Image) -> tuple[Image.Image, tuple[int, int]]:
    """A phone screen in its black bezel: status bar, app bar, the photo full width, text."""
    screen_w = photo.width
    phone = Image.new("RGB", (screen_w + 40, photo.height + 420), (0, 0, 0))
    draw = ImageDraw.Draw(phone)
    screen = (20, 30, 20 + screen_w, phone.height - 30)
    draw.rectangle((screen[0], screen[1], screen[2] - 1, screen[3] - 1), fill=(255, 255, 255))
    draw.rectangle((screen[0], screen[1], screen[2] - 1, screen[1] + 24), fill=(230, 230, 230))
    draw.text((screen[0] + 8, screen[1] + 6), "12:45                     5G  81%", fill=(0, 0, 0))
    draw.text((screen[0] + 8, screen[1] + 40), "< Back        Photo", fill=(20, 20, 20))
    at = (screen[0], screen[1] + 70)
    phone.paste(photo, at)
    _text_lines(draw, screen[0] + 8, at[1] + photo.height + 14, rows=8, ink=(30, 30, 30))
    return phone, at


@pytest.mark.parametrize("layout", ["light forum", "dark forum", "phone capture"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_photo_is_found_in_a_page_capture(layout: str, seed: int) -> None:
    photo = neutral_image(seed, 400, 300, style=("shapes", "landscape", "texture")[seed % 3])
    if layout == "phone capture":
        page, at = _phone_capture(photo)
    else:
        page, at = _forum_page(photo, dark=layout == "dark forum")
    luma = _luma_of(page)
    window = find_screen_photo(luma)
    assert _box_near(window, (at[0], at[1], at[0] + 400, at[1] + 300))
    assert window is not None and _distance_to_original(photo, window, luma) <= 16


@pytest.mark.parametrize(("seed", "style"), PLAIN)
def test_a_plain_picture_is_not_taken_for_a_page(seed: int, style: str) -> None:
    assert find_screen_photo(_luma_of(neutral_image(seed, 480, 360, style=style))) is None


# ---------------------------------------------------------------------------------- CELL


def test_a_two_by_two_collage_is_split_into_its_four_cells() -> None:
    tiles = [neutral_image(20 + i, 300, 200) for i in range(4)]
    canvas = Image.new("RGB", (608, 408), (255, 255, 255))
    for i, tile in enumerate(tiles):
        canvas.paste(tile, ((i % 2) * 308, (i // 2) * 208))
    cells = split_collage(_luma_of(canvas))
    expected = [(0, 0, 300, 200), (308, 0, 608, 200), (0, 208, 300, 408), (308, 208, 608, 408)]
    assert len(cells) == 4
    assert all(_box_near(c, box) for c, box in zip(cells, expected, strict=True))
    assert all(c.kind is WindowKind.CELL for c in cells)


def test_a_collage_of_uneven_rows_is_split_cut_after_cut() -> None:
    wide, left, right = (
        neutral_image(30 + i, *size) for i, size in enumerate([(500, 220), (240, 180), (250, 180)])
    )
    canvas = Image.new("RGB", (500, 412), (0, 0, 0))
    canvas.paste(wide, (0, 0))
    canvas.paste(left, (0, 232))
    canvas.paste(right, (250, 232))
    cells = split_collage(_luma_of(canvas))
    expected = [(0, 0, 500, 220), (0, 232, 240, 412), (250, 232, 500, 412)]
    assert len(cells) == 3
    assert all(_box_near(c, box) for c, box in zip(cells, expected, strict=True))


@pytest.mark.parametrize(("seed", "style"), [*PLAIN, (1, "text"), (2, "text"), (4, "text")])
def test_a_single_picture_or_a_page_of_text_is_no_collage(seed: int, style: str) -> None:
    assert split_collage(_luma_of(neutral_image(seed, 480, 360, style=style))) == ()


def _sheet(
    tiles: list[Image.Image], cell: int, gutter: int, ground: Colour, across: int
) -> Image.Image:
    """The tiles resized to squares, `across` to a row, gutters and a border of `gutter`."""
    down = -(-len(tiles) // across)
    size = (across * cell + (across + 1) * gutter, down * cell + (down + 1) * gutter)
    canvas = Image.new("RGB", size, ground)
    for i, tile in enumerate(tiles):
        x, y = gutter + (i % across) * (cell + gutter), gutter + (i // across) * (cell + gutter)
        canvas.paste(tile.resize((cell, cell)), (x, y))
    return canvas


@pytest.mark.parametrize(
    ("gutter", "ground"), [(0, (0, 0, 0)), (1, (255, 255, 255)), (1, (0, 0, 0))]
)
def test_a_grid_without_gutters_is_split_at_its_seams(gutter: int, ground: Colour) -> None:
    """A gutter of a pixel is lost in the work pixels, and none is common: the cells meet at
    straight seams, found at full resolution."""
    styles = ["landscape", "texture", "shapes", "graphic"]
    tiles = [neutral_image(40 + i, 400, 300, style=style) for i, style in enumerate(styles)]
    cells = split_collage(_luma_of(_sheet(tiles, 320, gutter, ground, 2)))
    g = gutter
    expected = [
        (g, g, g + 320, g + 320),
        (2 * g + 320, g, 2 * g + 640, g + 320),
        (g, 2 * g + 320, g + 320, 2 * g + 640),
        (2 * g + 320, 2 * g + 320, 2 * g + 640, 2 * g + 640),
    ]
    assert len(cells) == 4
    assert all(_box_near(c, box) for c, box in zip(cells, expected, strict=True)), cells


def test_a_cell_trimmed_into_its_gutters_is_also_given_whole() -> None:
    """A picture on white in a collage of white gutters loses its margins to them; the grid's
    rows and columns give the cell whole, as the collage maker cut it."""
    tiles = [neutral_image(50 + i, 300, 300, style="landscape") for i in range(4)]
    drawing = Image.new("RGB", (300, 300), (255, 255, 255))
    ImageDraw.Draw(drawing).ellipse((60, 40, 250, 270), fill=(40, 90, 160))
    tiles[3] = drawing
    cells = split_collage(_luma_of(_sheet(tiles, 300, 12, (255, 255, 255), 2)))
    assert any(_box_near(c, (324, 324, 624, 624)) for c in cells), cells


def _checkerboard(square: int, low: int, high: int) -> Image.Image:
    board = (np.indices((600, 800)) // square).sum(axis=0) % 2
    return Image.fromarray((board * (high - low) + low).astype(np.uint8)).convert("RGB")


def _stripes(period: int) -> Image.Image:
    columns = (np.arange(800) // (period // 2)) % 2
    return Image.fromarray(np.tile(columns * 180 + 40, (600, 1)).astype(np.uint8)).convert("RGB")


def _crossed(seed: int) -> Image.Image:
    """A picture crossed at mid-height by a straight edge, and at mid-width in its lower half."""
    picture = neutral_image(seed, 800, 600, style="landscape")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 300, 800, 600), fill=(20, 60, 110))
    draw.rectangle((400, 300, 800, 600), fill=(200, 180, 120))
    return picture


@pytest.mark.parametrize(
    "picture",
    [
        _checkerboard(100, 30, 230),
        _checkerboard(12, 120, 150),
        _stripes(200),
        _stripes(50),
        _crossed(3),
        _crossed(4),
    ],
)
def test_patterns_and_straight_edges_across_a_picture_are_no_grid(picture: Image.Image) -> None:
    assert split_collage(_luma_of(picture)) == ()


# ------------------------------------------------------------------------------ DESKEWED


@pytest.mark.parametrize(
    ("angle", "fill"), [(4.0, (0, 0, 0)), (-9.0, (255, 255, 255)), (1.5, (90, 140, 60))]
)
def test_a_slightly_rotated_copy_is_turned_back_upright(angle: float, fill: Colour) -> None:
    img = neutral_image(40, 480, 360, style="shapes")
    rotated = img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=fill)
    luma = _luma_of(rotated)
    window = find_deskewed(luma)
    assert window is not None and window.kind is WindowKind.DESKEWED
    assert abs(window.angle - angle) <= 0.3
    assert _box_near(window, (0, 0, rotated.width, rotated.height))
    upright = window.crop(luma)
    assert abs(upright.shape[1] / upright.shape[0] - 480 / 360) < 0.02
    assert _distance_to_original(img, window, luma) <= 24
    assert hash_image_bytes(_encode(img)).pdq.hash.distance(pdq_from_luma(luma).hash) > 31


@pytest.mark.parametrize(("seed", "style"), [*PLAIN, (1, "graphic"), (2, "graphic")])
def test_an_upright_picture_is_not_deskewed(seed: int, style: str) -> None:
    assert find_deskewed(_luma_of(neutral_image(seed, 480, 360, style=style))) is None


def test_a_framed_upright_picture_is_not_deskewed() -> None:
    img = _framed(neutral_image(41, 400, 300), (30, 30, 30, 30), (0, 0, 0))
    assert find_deskewed(_luma_of(img)) is None


def test_crop_turns_content_back_at_a_reduced_size() -> None:
    window = Window(WindowKind.DESKEWED, 0, 0, 1200, 900, angle=5.0)
    upright = window.crop(np.zeros((900, 1200), dtype=np.uint8))
    cos, sin = math.cos(math.radians(5)), math.sin(math.radians(5))
    inner_w = (1200 * cos - 900 * sin) / (cos * cos - sin * sin)
    assert upright.dtype == np.float32
    assert max(upright.shape) <= 384
    assert abs(upright.shape[1] - 384) <= 1 and inner_w > 1100


# ---------------------------------------------------------------------- GRID and CROP


def test_grid_windows_are_nine_labelled_thirds_covering_the_image() -> None:
    cells = grid_windows(np.zeros((300, 480), dtype=np.uint8))
    assert [c.label for c in cells] == [f"r{r}c{c}" for r in range(3) for c in range(3)]
    assert all(c.kind is WindowKind.GRID for c in cells)
    assert cells[0].box == (0, 0, 160, 100) and cells[-1].box == (320, 200, 480, 300)
    assert sum((c.right - c.left) * (c.bottom - c.top) for c in cells) == 300 * 480


def test_stickers_leave_clean_grid_cells_that_hash_as_the_originals_do() -> None:
    img = neutral_image(50, 480, 360, style="landscape")
    stickered = img.copy()
    draw = ImageDraw.Draw(stickered)
    for x, y in ((80, 60), (400, 300), (240, 180)):
        draw.ellipse((x - 32, y - 32, x + 32, y + 32), fill=(255, 204, 0))
    original, copy = _luma_of(img), _luma_of(stickered)
    distances = [
        pdq_from_luma(a.crop(original)).hash.distance(pdq_from_luma(b.crop(copy)).hash)
        for a, b in zip(grid_windows(original), grid_windows(copy), strict=True)
    ]
    assert sorted(distances)[1] <= 8  # at least two cells untouched
    assert pdq_from_luma(original).hash.distance(pdq_from_luma(copy).hash) > 31


def test_registration_crops_keep_the_centre_crops_and_add_smoothed_lattices() -> None:
    crops = registration_crops(np.zeros((360, 480), dtype=np.uint8))
    assert len(crops) == 68
    assert len({(c.kind, c.label) for c in crops}) == len({(c.box, c.smooth) for c in crops}) == 68
    # items registered before the lattices keep matching the same centre crops, unsmoothed
    assert [(c.kind, c.label, c.box, c.smooth) for c in crops[:3]] == [
        (WindowKind.CROP, "centre-90", (24, 18, 456, 342), False),
        (WindowKind.CROP, "centre-80", (48, 36, 432, 324), False),
        (WindowKind.CROP, "centre-square", (60, 0, 420, 360), False),
    ]
    rest = crops[3:]
    assert all(c.kind is WindowKind.CROP_SMOOTH and c.smooth for c in rest)
    by_label = {c.label: c.box for c in rest}
    assert sum(label.startswith("80-") for label in by_label) == 49
    assert by_label["80-x1.4-y18.6"] == (7, 67, 391, 355)
    assert by_label["80-x10.0-y10.0"] == (48, 36, 432, 324)
    assert sum(label.startswith("border-") for label in by_label) == 16
    assert by_label["border-3.5-6.5-6.5-3.5"] == (17, 23, 449, 347)


def test_every_eighty_percent_crop_has_a_registered_one_within_one_and_a_half_percent() -> None:
    crops = registration_crops(np.zeros((360, 480), dtype=np.uint8))
    lattice = [c.box for c in crops if c.label.startswith("80-")]
    assert {(r - left, b - t) for left, t, r, b in lattice} == {(384, 288)}
    for left in range(0, 97):  # every offset of an 80% crop, in pixels
        assert min(abs(left - box[0]) for box in lattice) <= 0.0143 * 480 + 1
    for top in range(0, 73):
        assert min(abs(top - box[1]) for box in lattice) <= 0.0143 * 360 + 1


def test_smoothing_makes_a_page_of_text_tolerate_a_shift_of_a_few_pixels() -> None:
    """PDQ's own box filters let a page's strokes alias: a crop moved by 1-3 pixels is tens
    of bits away. Smoothed on both sides, it moves by a few bits a pixel, as a photo does."""
    luma = _luma_of(neutral_image(5, 480, 360, style="text"), quality=90)
    copy = _luma_of(Image.fromarray(luma[30:318, 40:424]))  # the 80% crop, as re-uploaded
    moved = [Window(WindowKind.CROP, 40 + d, 30, 424 + d, 318) for d in (1, 2, 3)]
    plain = [pdq_from_luma(copy).hash.distance(pdq_from_luma(w.crop(luma)).hash) for w in moved]
    query = pdq_from_luma(smooth_windows(copy)[0].crop(copy)).hash
    smoothed = [
        query.distance(pdq_from_luma(replace(w, smooth=True).crop(luma)).hash) for w in moved
    ]
    assert min(plain) > 30
    assert max(smoothed) <= 24


@pytest.mark.parametrize("seed", [1, 4, 7])
def test_a_shrunk_page_of_text_is_near_the_lattice_middle_crop_once_smoothed(seed: int) -> None:
    """A page shrunk to a sixth: its plain hash is far from the original's, but its centre
    80 %, smoothed (the query's second SMOOTH window), lies near the registered middle crop."""
    img = neutral_image(seed, 720, 960, style="text")
    luma = _luma_of(img, quality=90)
    (middle,) = (w for w in registration_crops(luma) if w.label == "80-x10.0-y10.0")
    registered = pdq_from_luma(middle.crop(luma)).hash
    copy = _luma_of(img.resize((108, 144), Image.Resampling.BICUBIC))
    assert pdq_from_luma(copy).hash.distance(pdq_from_luma(luma).hash) > 31
    whole, centre = smooth_windows(copy)
    assert (whole.box, centre.label) == ((0, 0, 108, 144), "80")
    assert pdq_from_luma(centre.crop(copy)).hash.distance(registered) <= 24


def test_window_pixels_shares_the_work_and_gives_what_crop_gives() -> None:
    luma = _luma_of(neutral_image(6, 1200, 800, style="landscape"))
    windows = (*registration_crops(luma), *smooth_windows(luma), *grid_windows(luma))
    for window, pixels in zip(windows, window_pixels(luma, windows), strict=True):
        assert np.array_equal(pixels, window.crop(luma))
        if window.smooth:
            assert pixels.shape == (64, 64) and pixels.dtype == np.float32


@pytest.mark.parametrize("style", ["shapes", "landscape", "texture", "graphic", "text"])
def test_crops_cut_anywhere_land_near_a_registered_crop(style: str) -> None:
    """Off-centre 80% crops (between lattice points) and uneven borders of 2-8%, smoothed,
    come within CROP_SMOOTH's threshold of a registered smoothed crop; the centre crops
    alone leave them far off. An unrelated picture stays far from every registered crop."""
    img = neutral_image(3, 480, 360, style=style)
    luma = _luma_of(img, quality=90)
    crops = registration_crops(luma)
    hashes = [pdq_from_luma(p).hash for p in window_pixels(luma, crops)]
    smoothed = [h for c, h in zip(crops, hashes, strict=True) if c.smooth]
    centre = [h for c, h in zip(crops, hashes, strict=True) if not c.smooth]
    limit = threshold_for(WindowKind.CROP_SMOOTH, 31)
    for copy in (
        _cut(img, 0.05, 0.15, 0.15, 0.05),  # 80%, 0.75% and 0.71% off the lattice
        _cut(img, 0.186, 0.02, 0.014, 0.18),
        _cut(img, 0.025, 0.075, 0.05, 0.03),  # uneven borders
    ):
        query = _luma_of(copy)
        smooth = pdq_from_luma(smooth_windows(query)[0].crop(query)).hash
        assert min(smooth.distance(h) for h in smoothed) <= limit
        plain = pdq_from_luma(query).hash
        assert min(plain.distance(h) for h in centre) > threshold_for(WindowKind.CROP, 31)
    other = _luma_of(neutral_image(103, 480, 360, style=style))
    unrelated = pdq_from_luma(smooth_windows(other)[0].crop(other)).hash
    assert min(unrelated.distance(h) for h in smoothed) > limit + 32


def _cut(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))


# -------------------------------------------------------------------------- find_windows


@pytest.mark.parametrize(("seed", "style"), PLAIN)
def test_a_plain_picture_gives_no_window(seed: int, style: str) -> None:
    assert find_windows(_luma_of(neutral_image(seed, 480, 360, style=style))) == ()


def test_find_windows_keeps_one_of_near_identical_windows_in_a_stable_order() -> None:
    img = neutral_image(60, 400, 300, style="texture")
    letterboxed = _luma_of(_framed(img, (0, 80, 0, 80), (0, 0, 0)))
    assert [w.kind for w in find_windows(letterboxed)] == [WindowKind.TRIMMED]
    page, at = _forum_page(img, dark=False)
    windows = find_windows(_luma_of(page))
    photo = (at[0], at[1], at[0] + 400, at[1] + 300)
    # the page's bars cut round after round and the page peeled off find the same photo,
    # kept as the screen's photo (given its own local features), not as a caption cut
    assert [w.kind for w in windows if _box_near(w, photo)] == [WindowKind.SCREEN]
    kinds = [w.kind for w in windows]
    featured = [i for i, k in enumerate(kinds) if k in (WindowKind.SCREEN, WindowKind.CELL)]
    cuts = [i for i, k in enumerate(kinds) if k is WindowKind.UNCAPTIONED]
    assert max(featured, default=-1) < min(cuts, default=len(kinds))
    assert find_windows(_luma_of(page)) == windows


def test_windows_found_at_1080p_land_within_a_few_pixels() -> None:
    img = neutral_image(61, 1920, 1080, style="landscape")
    window = trim_flat_borders(_luma_of(_framed(img, (0, 140, 0, 140), (0, 0, 0))))
    assert _box_near(window, (0, 140, 1920, 1220), slack=1)


def test_images_too_small_or_not_two_dimensional_give_no_window() -> None:
    assert find_windows(np.zeros((10, 400), dtype=np.uint8)) == ()
    assert find_windows(np.zeros((100, 100, 3), dtype=np.uint8)) == ()
