"""Copies that whole-picture hashes miss, and distractors that fool local features, made with
random parameters from a seeded generator (shared by tests/matching and bench/local_features.py).

Families (as seen in the wild): a few degrees of rotation inside the picture's own frame with
its corners filled, an off-centre crop keeping about two thirds, the picture inside a social
post screenshot, a 2x2 collage of centre-cropped squares, heavy pixelation, and the picture
scaled down in a web page among text. Everything is neutral (rempart.samples) or drawn here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from rempart.samples import STYLES, neutral_image

if TYPE_CHECKING:
    from rempart.hashing import Windows
    from rempart.store.database import Database

Rng = np.random.Generator

__all__ = [
    "DISTRACTORS",
    "FAMILIES",
    "WORDS",
    "distractor",
    "hard_copy",
    "jpeg",
    "original",
    "register",
    "watermarked",
]

WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
]


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def original(seed: int) -> Image.Image:
    """A registered picture: a neutral photo-like or illustrated picture of random shape."""
    rng = np.random.default_rng(seed)
    width, height = (int(v) for v in rng.choice([(800, 600), (600, 800), (1024, 683), (700, 700)]))
    style = str(rng.choice(["landscape", "shapes", "texture", "graphic", "landscape"]))
    return neutral_image(seed, width, height, style)


def _text_lines(draw: ImageDraw.ImageDraw, rng: Rng, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    y = top
    while y + 12 < bottom:
        x = left
        while x < right - 40:
            word = str(rng.choice(WORDS))
            draw.text((x, y), word, fill=(int(rng.integers(0, 90)),) * 3)
            x += 7 * len(word) + 6
        y += int(rng.integers(16, 22))


def _rotated(picture: Image.Image, rng: Rng) -> Image.Image:
    angle = float(rng.uniform(2, 8)) * float(rng.choice([-1, 1]))
    fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    return picture.rotate(angle, Image.BICUBIC, expand=False, fillcolor=fill)


def _cropped(picture: Image.Image, rng: Rng) -> Image.Image:
    width, height = picture.size
    share = float(rng.uniform(0.62, 0.72))  # of the area
    aspect = float(rng.uniform(0.8, 1.25))
    w = min(width, round(width * math.sqrt(share) * aspect))
    h = min(height, round(width * height * share / w))
    x = int(rng.integers(0, width - w + 1))
    y = int(rng.integers(0, height - h + 1))
    return picture.crop((x, y, x + w, y + h))


def _post(picture: Image.Image, rng: Rng) -> Image.Image:
    width = int(rng.integers(540, 1080))
    shown_w = round(width * float(rng.uniform(0.85, 1.0)))
    shown_h = round(picture.height * shown_w / picture.width)
    header, footer = int(rng.integers(80, 160)), int(rng.integers(120, 260))
    dark = bool(rng.integers(0, 2))
    page = Image.new(
        "RGB", (width, header + shown_h + footer), (20, 20, 24) if dark else (255,) * 3
    )
    draw = ImageDraw.Draw(page)
    draw.ellipse((16, 16, 64, 64), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw.text((80, 24), "user_" + str(int(rng.integers(1000, 9999))), fill=(128, 128, 128))
    _text_lines(draw, rng, (16, 72, width - 16, header - 4))
    page.paste(picture.resize((shown_w, shown_h), Image.LANCZOS), ((width - shown_w) // 2, header))
    y = header + shown_h + 12
    for i in range(4):
        draw.rounded_rectangle(
            (16 + i * 110, y, 106 + i * 110, y + 34), 10, outline=(140, 140, 140), width=2
        )
    _text_lines(draw, rng, (16, y + 48, width - 16, page.height - 8))
    return page


def _collage(picture: Image.Image, rng: Rng) -> Image.Image:
    cell = int(rng.integers(300, 520))
    others = [original(int(rng.integers(10**6, 10**7))) for _ in range(3)]
    cells = [picture, *others]
    order = rng.permutation(4)
    gutter = int(rng.integers(0, 12))
    sheet = Image.new("RGB", (2 * cell + gutter, 2 * cell + gutter), (255, 255, 255))
    for slot, index in enumerate(order):
        image = cells[int(index)]
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        square = image.crop((left, top, left + side, top + side)).resize((cell, cell))
        sheet.paste(square, ((slot % 2) * (cell + gutter), (slot // 2) * (cell + gutter)))
    return sheet


def _pixelated(picture: Image.Image, rng: Rng) -> Image.Image:
    blocks = int(rng.integers(10, 14))  # blocks across: a block is about a twelfth
    small = picture.resize(
        (blocks, max(1, round(blocks * picture.height / picture.width))), Image.BOX
    )
    return small.resize(picture.size, Image.NEAREST)


def _web_page(picture: Image.Image, rng: Rng) -> Image.Image:
    width, height = int(rng.integers(1100, 1600)), int(rng.integers(800, 1100))
    page = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width, 60), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    shown_w = round(width * float(rng.uniform(0.3, 0.45)))
    shown_h = round(picture.height * shown_w / picture.width)
    x = int(rng.integers(20, width - shown_w - 20))
    y = int(rng.integers(80, max(81, height - shown_h - 20)))
    _text_lines(draw, rng, (20, 80, width - 20, height - 10))
    page.paste(picture.resize((shown_w, shown_h), Image.LANCZOS), (x, y))
    return page.filter(ImageFilter.SHARPEN) if rng.integers(0, 2) else page


FAMILIES: dict[str, Callable[[Image.Image, Rng], Image.Image]] = {
    "rotated": _rotated,
    "crop-two-thirds": _cropped,
    "post-screenshot": _post,
    "collage-2x2": _collage,
    "pixelated": _pixelated,
    "web-page": _web_page,
}


def hard_copy(family: str, picture: Image.Image, seed: int) -> bytes:
    """The picture altered by `family` with parameters drawn from `seed`, as a JPEG."""
    rng = np.random.default_rng(seed)
    return jpeg(FAMILIES[family](picture, rng), int(rng.integers(70, 92)))


def watermarked(
    picture: Image.Image, seed: int, *, light: bool | None = None, opacity: float | None = None
) -> Image.Image:
    """A tiled watermark: a few words repeated in rows over the whole picture, turned by up
    to 35 degrees, in white or black at one opacity (25-65 % unless told), in Pillow's own
    font thickened to bold (not the font bench/alterations.py draws with)."""
    rng = np.random.default_rng([seed, 77])
    light = bool(rng.random() < 0.5) if light is None else light
    alpha = round(255 * (float(rng.uniform(0.25, 0.65)) if opacity is None else opacity))
    width, height = picture.size
    size = max(14, int(height * rng.uniform(0.06, 0.1)))
    font = ImageFont.load_default(size)
    text = " ".join(str(w) for w in rng.choice(WORDS, 2)).upper() + "    "
    side = int(math.hypot(width, height)) + 2  # rows drawn on a square that covers the turn
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ink = (255, 255, 255, alpha) if light else (0, 0, 0, alpha)
    for y in range(0, side, int(size * 2.6)):
        x = -int(rng.integers(0, side // 3))
        draw.text((x, y), text * 8, font=font, fill=ink, stroke_width=max(1, size // 14))
    layer = layer.rotate(float(rng.uniform(-35, 35)), Image.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    layer = layer.crop((left, top, left + width, top + height))
    return Image.alpha_composite(picture.convert("RGBA"), layer).convert("RGB")


# ------------------------------------------------------------------------------ distractors


def _stripes(rng: Rng) -> Image.Image:
    width, height = 800, 600
    period = float(rng.uniform(6, 60))
    angle = float(rng.uniform(0, math.pi))
    y, x = np.mgrid[0:height, 0:width]
    wave = np.sin((x * math.cos(angle) + y * math.sin(angle)) * 2 * math.pi / period)
    plane = (wave > 0) if rng.integers(0, 2) else (wave + 1) / 2
    return Image.fromarray((np.asarray(plane, np.float32) * 255).astype(np.uint8)).convert("RGB")


def _gradient(rng: Rng) -> Image.Image:
    return neutral_image(int(rng.integers(10**9)), 800, 600, "shapes").filter(
        ImageFilter.GaussianBlur(40)
    )


def _flat_shapes(rng: Rng) -> Image.Image:
    page = Image.new("RGB", (800, 600), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(page)
    for _ in range(int(rng.integers(2, 8))):
        x, y = int(rng.integers(0, 700)), int(rng.integers(0, 500))
        w, h = int(rng.integers(30, 300)), int(rng.integers(30, 300))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.integers(0, 2):
            draw.rectangle((x, y, x + w, y + h), fill=colour)
        else:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
    return page


def _text_page(rng: Rng) -> Image.Image:
    page = Image.new("RGB", (int(rng.integers(700, 1000)), int(rng.integers(800, 1200))), "white")
    _text_lines(ImageDraw.Draw(page), rng, (30, 30, page.width - 30, page.height - 30))
    return page


def _ui(rng: Rng) -> Image.Image:
    width, height = 1280, 800
    page = Image.new("RGB", (width, height), (246, 246, 248))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width, 56), fill=(40, 60, 110))
    draw.rectangle((0, 56, 220, height), fill=(230, 230, 236))
    for i in range(int(rng.integers(6, 14))):
        draw.text((20, 80 + 30 * i), str(rng.choice(WORDS)).title(), fill=(60, 60, 60))
    for i in range(int(rng.integers(2, 6))):
        x, y = 260 + (i % 3) * 320, 90 + (i // 3) * 280
        draw.rounded_rectangle((x, y, x + 290, y + 250), 12, fill="white", outline=(200,) * 3)
        _text_lines(draw, rng, (x + 12, y + 12, x + 278, y + 200))
        draw.rounded_rectangle((x + 12, y + 208, x + 120, y + 238), 8, fill=(40, 110, 220))
    return page


def _other_style(rng: Rng) -> Image.Image:
    return neutral_image(int(rng.integers(10**9)), 800, 600, str(rng.choice(STYLES)))


DISTRACTORS: dict[str, Callable[[Rng], Image.Image]] = {
    "stripes": _stripes,
    "gradient": _gradient,
    "flat-shapes": _flat_shapes,
    "text-page": _text_page,
    "ui-screenshot": _ui,
    "other-picture": _other_style,
}


def distractor(kind: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return jpeg(DISTRACTORS[kind](rng), int(rng.integers(70, 92)))


def register(
    db: Database, tmp_path: Path, pictures: list[Image.Image], extras: Windows | None = None
) -> list[int]:
    """A bank "victim" holding these pictures, registered by `bank add` (its default extras
    unless told otherwise); their item ids, in order."""
    from rempart.hashing import REGISTRATION_EXTRAS
    from rempart.intake import banks

    banks.create_bank(db, "victim")
    paths = []
    for i, picture in enumerate(pictures):
        path = tmp_path / f"original-{i}.jpg"
        path.write_bytes(jpeg(picture, 90))
        paths.append(path)
    ids = []
    chosen = REGISTRATION_EXTRAS if extras is None else extras
    for outcome in banks.add_images(db, "victim", paths, extras=chosen):
        assert outcome.item_id is not None, outcome.error
        ids.append(outcome.item_id)
    return ids
