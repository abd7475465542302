"""How copies are altered in the wild, for bench/robustness: 20 families, random parameters.

Kept apart from what it measures: it imports nothing of rempart (the unrelated pictures that
sit beside a copy come from bench/corpus). Each family takes an RGB picture and a seeded
generator and returns the altered picture; the same seed gives the same copy.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from corpus import Rng, colour, filler, font, words

Alter = Callable[[Image.Image, Rng], Image.Image]
RESAMPLERS = (
    Image.Resampling.BILINEAR,
    Image.Resampling.BICUBIC,
    Image.Resampling.LANCZOS,
    Image.Resampling.BOX,
)


def _resize(img: Image.Image, w: int, h: int, rng: Rng) -> Image.Image:
    return img.resize((max(1, w), max(1, h)), RESAMPLERS[int(rng.integers(len(RESAMPLERS)))])


def _scale(img: Image.Image, factor: float, rng: Rng) -> Image.Image:
    return _resize(img, round(img.width * factor), round(img.height * factor), rng)


def _fit(img: Image.Image, box_w: int, box_h: int, rng: Rng) -> Image.Image:
    factor = min(box_w / img.width, box_h / img.height)
    return _scale(img, factor, rng)


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _square(img: Image.Image) -> Image.Image:
    side = min(img.size)
    x, y = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((x, y, x + side, y + side))


def _text_lines(
    draw: ImageDraw.ImageDraw,
    rng: Rng,
    x: int,
    y: int,
    width: int,
    lines: int,
    size: int,
    ink: tuple[int, int, int],
) -> int:
    chars = max(6, int(width / (size * 0.58)))
    for _ in range(lines):
        draw.text((x, y), words(rng, 20)[:chars], font=font(size), fill=ink)
        y += int(size * 1.5)
    return y


# ------------------------------------------------------------------------- easy families


def resize(img: Image.Image, rng: Rng) -> Image.Image:
    """Down to 15-60% of each side."""
    return _scale(img, float(rng.uniform(0.15, 0.6)), rng)


def recompress(img: Image.Image, rng: Rng) -> Image.Image:
    """JPEG at quality 8-35, sometimes twice with a resize between."""
    out = _jpeg(img, int(rng.integers(8, 36)))
    if rng.random() < 0.5:
        out = _jpeg(_scale(out, float(rng.uniform(0.6, 0.95)), rng), int(rng.integers(15, 50)))
    return out


def mirror(img: Image.Image, rng: Rng) -> Image.Image:
    return _scale(ImageOps.mirror(img), float(rng.uniform(0.6, 1.0)), rng)


def quarter_turn(img: Image.Image, rng: Rng) -> Image.Image:
    turns = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)
    return img.transpose(turns[int(rng.integers(3))])


def colour_edit(img: Image.Image, rng: Rng) -> Image.Image:
    """Saturation (grey at times), brightness, contrast, gamma and a hue turn."""
    out = ImageEnhance.Color(img).enhance(
        0.0 if rng.random() < 0.2 else float(rng.uniform(0.4, 2.0))
    )
    out = ImageEnhance.Brightness(out).enhance(float(rng.uniform(0.7, 1.3)))
    out = ImageEnhance.Contrast(out).enhance(float(rng.uniform(0.6, 1.5)))
    gamma = float(rng.uniform(0.7, 1.4))
    out = out.point([round(255 * (v / 255) ** gamma) for v in range(256)] * 3)
    if rng.random() < 0.5:
        hsv = np.asarray(out.convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(-25, 26))) % 256
        out = Image.fromarray(hsv, "HSV").convert("RGB")
    return out


def blur(img: Image.Image, rng: Rng) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.002, 0.006)) * max(img.size)))


def stretch(img: Image.Image, rng: Rng) -> Image.Image:
    """One side by 1.15-1.6 (or squashed to 0.65-0.85)."""
    factor = float(rng.uniform(1.15, 1.6) if rng.random() < 0.7 else rng.uniform(0.65, 0.85))
    if rng.random() < 0.5:
        return _resize(img, round(img.width * factor), img.height, rng)
    return _resize(img, img.width, round(img.height * factor), rng)


def caption(img: Image.Image, rng: Rng) -> Image.Image:
    """A meme's caption bar on top, below or both (10-25% of the height each)."""
    w, h = img.size
    top = int(h * rng.uniform(0.1, 0.25)) if rng.random() < 0.7 else 0
    bottom = int(h * rng.uniform(0.1, 0.25)) if (rng.random() < 0.5 or not top) else 0
    ground = (255, 255, 255) if rng.random() < 0.6 else (0, 0, 0)
    ink = (0, 0, 0) if ground == (255, 255, 255) else (255, 255, 255)
    canvas = Image.new("RGB", (w, h + top + bottom), ground)
    canvas.paste(img, (0, top))
    draw = ImageDraw.Draw(canvas)
    for y0, band in ((0, top), (top + h, bottom)):
        if band:
            size = max(10, int(band * 0.32))
            _text_lines(
                draw, rng, int(w * 0.04), y0 + int(band * 0.12), int(w * 0.92), 2, size, ink
            )
    return canvas


def border_crop(img: Image.Image, rng: Rng) -> Image.Image:
    """2-10% off each side, each its own."""
    w, h = img.size
    left, top, right, bottom = (float(rng.uniform(0.02, 0.1)) for _ in range(4))
    return img.crop((int(w * left), int(h * top), w - int(w * right), h - int(h * bottom)))


def letterbox(img: Image.Image, rng: Rng) -> Image.Image:
    """Fitted into a 16:9, 1:1, 4:5 or 9:16 frame; bars black, white or the picture blurred."""
    ratio = (16 / 9, 1.0, 0.8, 9 / 16)[int(rng.integers(4))]
    w, h = img.size
    if w / h > ratio:
        cw, ch = w, round(w / ratio)
    else:
        cw, ch = round(h * ratio), h
    if (cw, ch) == (w, h):
        cw, ch = round(w * 1.3), h
    fill = int(rng.integers(3))
    if fill == 2:
        canvas = img.resize((cw, ch)).filter(ImageFilter.GaussianBlur(25))
    else:
        canvas = Image.new("RGB", (cw, ch), (0, 0, 0) if fill == 0 else (255, 255, 255))
    canvas.paste(img, ((cw - w) // 2, (ch - h) // 2))
    return canvas


def stickers(img: Image.Image, rng: Rng) -> Image.Image:
    """2-6 stickers (faces of smileys, stars, hearts, a badge), 6-15% of the short side."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    for _ in range(int(rng.integers(2, 7))):
        r = int(min(w, h) * rng.uniform(0.06, 0.15) / 2) + 2
        x, y = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
        kind = int(rng.integers(4))
        fill = colour(rng, 60, 256)
        if kind == 0:
            draw.ellipse(
                (x - r, y - r, x + r, y + r), fill=(255, 204, 0), outline=(0, 0, 0), width=2
            )
            draw.arc(
                (x - r // 2, y - r // 3, x + r // 2, y + r // 2), 20, 160, fill=(0, 0, 0), width=2
            )
        elif kind == 1:
            pts = [
                (
                    x + r * (1 if i % 2 == 0 else 0.45) * np.cos(i * np.pi / 5 - np.pi / 2),
                    y + r * (1 if i % 2 == 0 else 0.45) * np.sin(i * np.pi / 5 - np.pi / 2),
                )
                for i in range(10)
            ]
            draw.polygon([(float(a), float(b)) for a, b in pts], fill=fill, outline=(0, 0, 0))
        elif kind == 2:
            draw.ellipse((x - r, y - r, x, y), fill=(230, 30, 60))
            draw.ellipse((x, y - r, x + r, y), fill=(230, 30, 60))
            draw.polygon([(x - r, y - r // 2), (x + r, y - r // 2), (x, y + r)], fill=(230, 30, 60))
        else:
            draw.rounded_rectangle(
                (x - r * 1.6, y - r * 0.6, x + r * 1.6, y + r * 0.6), radius=r // 3, fill=fill
            )
            draw.text(
                (x - r * 1.3, y - r * 0.4),
                words(rng, 1)[:5].upper(),
                font=font(max(8, int(r * 0.7)), "bold"),
                fill=(0, 0, 0),
            )
    return out


def watermark(img: Image.Image, rng: Rng) -> Image.Image:
    """Half-transparent text: across the picture, or a handle in a corner."""
    w, h = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    alpha = int(rng.integers(60, 160))
    ink = (255, 255, 255, alpha) if rng.random() < 0.6 else (0, 0, 0, alpha)
    if rng.random() < 0.5:
        size = max(10, int(h * rng.uniform(0.03, 0.06)))
        draw.text(
            (w * rng.uniform(0.02, 0.5), h * rng.uniform(0.85, 0.92)),
            "@" + words(rng, 2).replace(" ", "_"),
            font=font(size, "bold"),
            fill=ink,
        )
    else:
        size = max(12, int(h * rng.uniform(0.06, 0.12)))
        text = words(rng, 2).upper()
        for y in range(0, h, int(size * 3)):
            draw.text(
                (int(rng.uniform(-w * 0.2, w * 0.2)), y),
                (text + "   ") * 4,
                font=font(size, "bold"),
                fill=ink,
            )
        layer = layer.rotate(float(rng.uniform(-30, 30)))
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def photo_filter(img: Image.Image, rng: Rng) -> Image.Image:
    """A phone app's filter: warm or cool tone, faded blacks, a vignette."""
    pixels = np.asarray(img, dtype=np.float32)
    tone = np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    fade = float(rng.uniform(0, 40))
    pixels = pixels * tone * (1 - fade / 255) + fade
    h, w = pixels.shape[:2]
    yy, xx = np.mgrid[-1 : 1 : complex(0, h), -1 : 1 : complex(0, w)]
    vignette = 1 - float(rng.uniform(0.2, 0.6)) * np.clip(np.hypot(xx, yy) - 0.5, 0, None)
    pixels = pixels * vignette[..., np.newaxis].astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def reupload(img: Image.Image, rng: Rng) -> Image.Image:
    """Cropped by 2-6%, resized, recompressed, resized again: a picture passed along."""
    w, h = img.size
    m = [float(rng.uniform(0.02, 0.06)) for _ in range(4)]
    out = img.crop((int(w * m[0]), int(h * m[1]), w - int(w * m[2]), h - int(h * m[3])))
    out = _jpeg(_scale(out, float(rng.uniform(0.5, 0.8)), rng), int(rng.integers(35, 65)))
    return _jpeg(_scale(out, float(rng.uniform(0.7, 1.2)), rng), int(rng.integers(50, 80)))


# ------------------------------------------------------------------------- hard families


def social_post(img: Image.Image, rng: Rng) -> Image.Image:
    """A phone screenshot of a social-network post: status bar, app bar, avatar, name and
    time, post text, the picture at the card's width (cut to 4:5 or 1.91:1 when beyond),
    buttons with counts, comments; the screen cut where it ends."""
    width = int(rng.choice([720, 828, 1080]))
    height = int(width * rng.uniform(1.9, 2.2))
    dark = rng.random() < 0.3
    bg = (0, 0, 0) if dark else (255, 255, 255)
    ink = (235, 235, 235) if dark else (20, 20, 20)
    grey = (140, 140, 140)
    screen = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(screen)
    u = width / 100
    draw.text(
        (4 * u, 1.2 * u),
        f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}",
        font=font(int(3.2 * u), "bold"),
        fill=ink,
    )
    draw.rectangle((85 * u, 1.6 * u, 94 * u, 4.4 * u), outline=ink, width=2)
    y = int(7 * u)
    draw.text((4 * u, y), words(rng, 1).capitalize(), font=font(int(6 * u), "bold"), fill=ink)
    for i in range(3):
        cx = width - (6 + i * 9) * u
        draw.ellipse((cx - 2.5 * u, y + 1 * u, cx + 2.5 * u, y + 6 * u), outline=ink, width=3)
    y += int(11 * u)
    draw.line((0, y, width, y), fill=grey)
    y += int(3 * u)
    avatar = colour(rng, 40, 220)
    draw.ellipse((4 * u, y, 14 * u, y + 10 * u), fill=avatar)
    draw.text(
        (7 * u, y + 2 * u),
        words(rng, 1)[:1].upper(),
        font=font(int(5 * u), "bold"),
        fill=(255, 255, 255),
    )
    draw.text(
        (17 * u, y + 0.5 * u), words(rng, 2).title(), font=font(int(3.8 * u), "bold"), fill=ink
    )
    draw.text(
        (17 * u, y + 5.5 * u),
        f"@{words(rng, 1)} · {int(rng.integers(1, 59))} min",
        font=font(int(3.2 * u)),
        fill=grey,
    )
    y += int(13 * u)
    y = _text_lines(
        draw, rng, int(4 * u), y, int(92 * u), int(rng.integers(0, 4)), int(3.6 * u), ink
    )
    y += int(2 * u)
    picture = img
    ratio = picture.width / picture.height
    if ratio < 0.8:
        ch = round(picture.width / 0.8)
        top = (picture.height - ch) // 2
        picture = picture.crop((0, top, picture.width, top + ch))
    elif ratio > 1.91:
        cw = round(picture.height * 1.91)
        left = (picture.width - cw) // 2
        picture = picture.crop((left, 0, left + cw, picture.height))
    margin = 0 if rng.random() < 0.5 else int(4 * u)
    picture = _fit(picture, width - 2 * margin, 10**6, rng)
    screen.paste(picture, (margin, y))
    y += picture.height + int(3 * u)
    for i, shape in enumerate(("heart", "bubble", "arrow", "mark")):
        x = int((4 + i * 11) * u) if shape != "mark" else int(90 * u)
        if shape == "heart":
            draw.ellipse((x, y, x + 3 * u, y + 3 * u), outline=ink, width=3)
            draw.ellipse((x + 2.5 * u, y, x + 5.5 * u, y + 3 * u), outline=ink, width=3)
        elif shape == "bubble":
            draw.ellipse((x, y, x + 5.5 * u, y + 5 * u), outline=ink, width=3)
        else:
            draw.polygon([(x, y), (x + 5 * u, y + 2.5 * u), (x, y + 5 * u)], outline=ink, width=3)
    y += int(8 * u)
    draw.text(
        (4 * u, y),
        f"{int(rng.integers(2, 90000))} " + words(rng, 1),
        font=font(int(3.6 * u), "bold"),
        fill=ink,
    )
    y += int(6 * u)
    _text_lines(draw, rng, int(4 * u), y, int(92 * u), 6, int(3.4 * u), ink)
    return _scale(screen, float(rng.uniform(0.5, 1.0)), rng)


def crop_two_thirds(img: Image.Image, rng: Rng) -> Image.Image:
    """60-75% of each side, anywhere in the picture."""
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.6, 0.75)), int(h * rng.uniform(0.6, 0.75))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return img.crop((x, y, x + cw, y + ch))


def tilt_in_frame(img: Image.Image, rng: Rng) -> Image.Image:
    """Turned by 3-10° inside its own frame: the corners filled, the edges lost."""
    angle = float(rng.uniform(3, 10)) * (1 if rng.random() < 0.5 else -1)
    fill = ((0, 0, 0), (255, 255, 255), colour(rng))[int(rng.integers(3))]
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)


def collage(img: Image.Image, rng: Rng) -> Image.Image:
    """2×2 cells, each cut to a centred square; the copy in one, unrelated pictures in the
    others; thin gutters or none."""
    side = int(rng.integers(300, 541))
    gutter = int(rng.integers(0, 17))
    ground = (255, 255, 255) if rng.random() < 0.6 else (0, 0, 0)
    canvas = Image.new("RGB", (2 * side + 3 * gutter,) * 2, ground)
    slot = int(rng.integers(4))
    for cell in range(4):
        tile = img if cell == slot else filler(rng)
        tile = _resize(_square(tile), side, side, rng)
        canvas.paste(
            tile, (gutter + (cell % 2) * (side + gutter), gutter + (cell // 2) * (side + gutter))
        )
    return canvas


def web_page(img: Image.Image, rng: Rng) -> Image.Image:
    """A screenshot of an article: navigation bar, text, the picture at 30-55% of the page's
    width beside or between paragraphs with a caption, a sidebar of links."""
    width = int(rng.choice([1280, 1366, 1440, 1920]))
    height = int(width * rng.uniform(0.56, 0.75))
    page = Image.new("RGB", (width, height), colour(rng, 240, 256))
    draw = ImageDraw.Draw(page)
    nav = int(height * 0.07)
    draw.rectangle((0, 0, width, nav), fill=colour(rng, 20, 120))
    draw.text(
        (20, nav // 4), words(rng, 2).title(), font=font(nav // 2, "bold"), fill=(255, 255, 255)
    )
    for i in range(5):
        draw.text(
            (width * (0.45 + i * 0.1), nav // 3),
            words(rng, 1)[:8],
            font=font(nav // 3),
            fill=(230, 230, 230),
        )
    size = int(rng.integers(13, 19))
    ink = colour(rng, 0, 60)
    left = int(width * rng.uniform(0.05, 0.15))
    column = int(width * rng.uniform(0.5, 0.62))
    y = nav + 20
    draw.text((left, y), words(rng, 6).capitalize(), font=font(int(size * 2), "bold"), fill=ink)
    y += int(size * 3.5)
    y = _text_lines(draw, rng, left, y, column, int(rng.integers(1, 6)), size, ink)
    picture = _fit(img, int(width * rng.uniform(0.3, 0.55)), int(height * 0.6), rng)
    # the picture floated right in the text column, or left
    px = left + column - picture.width if rng.random() < 0.5 else left
    page.paste(picture, (px, y + 10))
    draw.text(
        (px, y + 16 + picture.height),
        words(rng, 8),
        font=font(int(size * 0.85)),
        fill=(110, 110, 110),
    )
    text_x = left if px > left else left + picture.width + 20
    text_w = column - picture.width - 20
    _text_lines(
        draw, rng, text_x, y + 10, text_w, max(1, picture.height // int(size * 1.5)), size, ink
    )
    side = left + column + 40
    draw.rectangle((side, nav + 20, width - 20, height - 20), fill=colour(rng, 225, 250))
    _text_lines(
        draw, rng, side + 12, nav + 34, width - side - 44, 14, int(size * 0.9), (40, 70, 160)
    )
    return _scale(page, float(rng.uniform(0.6, 1.0)), rng)


def pixelate(img: Image.Image, rng: Rng) -> Image.Image:
    """Heavy pixelation: 12 to 32 blocks across the width (log-uniform, median ~20). At 12,
    a twelfth of the width, plain PDQ is already 80-90 bits from the original."""
    w, h = img.size
    across = float(np.exp(rng.uniform(np.log(12), np.log(32))))
    small = _resize(img, round(across), max(1, round(across * h / w)), rng)
    return small.resize((w, h), Image.Resampling.NEAREST)


FAMILIES: dict[str, Alter] = {
    "resize 15-60%": resize,
    "recompress q8-35": recompress,
    "mirror": mirror,
    "quarter turn": quarter_turn,
    "colour edit": colour_edit,
    "blur": blur,
    "stretch": stretch,
    "caption bars": caption,
    "border crop 2-10%": border_crop,
    "letterbox": letterbox,
    "stickers": stickers,
    "watermark": watermark,
    "photo filter": photo_filter,
    "re-upload chain": reupload,
    "social-network post": social_post,
    "crop 60-75% off-centre": crop_two_thirds,
    "tilted 3-10° in frame": tilt_in_frame,
    "2×2 collage, square cells": collage,
    "web page screenshot": web_page,
    "pixelated, 12-32 blocks across": pixelate,
}
HARD = (
    "social-network post",
    "crop 60-75% off-centre",
    "tilted 3-10° in frame",
    "2×2 collage, square cells",
    "web page screenshot",
    "pixelated, 12-32 blocks across",
)


def alter(family: str, img: Image.Image, seed: int, index: int) -> Image.Image:
    """The copy of picture `index` by `family`: the same arguments give the same copy."""
    position = list(FAMILIES).index(family)
    rng = np.random.default_rng([seed, 100, position, index])
    return FAMILIES[family](img.convert("RGB"), rng).convert("RGB")
