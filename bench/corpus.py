"""Pictures for bench/robustness: originals of several kinds, and unrelated pictures.

Kept apart from what it measures: it imports nothing of rempart but `rempart.samples` (one
kind of neutral picture among others), never the hashing or matching code. No people.

Originals are photographs shipped with installed packages (scikit-image's sample data, less
every picture of a person or of a body; matplotlib's elevation data, shaded) and pictures
drawn here: landscapes, still-life scenes, flat illustrations, charts, pages of text, user
interface screenshots, cloudy textures. Distractors are other pictures of the same kinds and
hard ones: stripes, checkerboards, gradients, flat shapes, pages, interfaces, and the other
shots of a series whose one shot is an original (same place and light, other objects, the
camera moved a little; the other eye of a stereo pair).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.colors import LightSource
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from rempart.samples import neutral_image

Rng = np.random.Generator
Painter = Callable[[Rng, int, int], Image.Image]
Float = npt.NDArray[np.float32]

# scikit-image's bundled sample photographs without people or bodies (astronaut, camera,
# lfw_subset, retina, microaneurysms and phantom are left out on purpose).
PHOTO_FILES = (
    "coffee.png",
    "chelsea.png",
    "rocket.jpg",
    "coins.png",
    "moon.png",
    "clock_motion.png",
    "gravel.png",
    "brick.png",
    "grass.png",
    "ihc.png",
    "cell.png",
    "color.png",
    "logo.png",
    "horse.png",
    "text.png",
    "page.png",
    "motorcycle_left.png",
)
SIZES = ((640, 480), (800, 600), (960, 640), (1024, 576), (600, 600), (480, 640), (720, 960))


@dataclass(frozen=True)
class Picture:
    name: str  # unique in a run, usable as a file name
    kind: str
    image: Image.Image


# --------------------------------------------------------------------------------- helpers


@cache
def font(size: int, style: str = "sans") -> ImageFont.FreeTypeFont:
    """One of matplotlib's DejaVu fonts (shipped with it, so always there)."""
    files = {
        "sans": "DejaVuSans.ttf",
        "bold": "DejaVuSans-Bold.ttf",
        "serif": "DejaVuSerif.ttf",
        "mono": "DejaVuSansMono.ttf",
    }
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / files[style]
    return ImageFont.truetype(str(path), size)


_SYLLABLES = tuple(
    [
        "ba",
        "be",
        "bi",
        "bo",
        "da",
        "de",
        "di",
        "do",
        "fa",
        "fe",
        "ka",
        "ke",
        "ki",
        "lo",
        "lu",
        "ma",
        "me",
        "mi",
        "mo",
        "na",
        "ne",
        "ni",
        "no",
        "ra",
        "re",
        "ri",
        "ro",
        "sa",
        "se",
        "si",
        "so",
        "ta",
        "te",
        "ti",
        "to",
        "va",
        "ve",
        "vi",
        "za",
    ]
)


def words(rng: Rng, count: int) -> str:
    """Made-up words: text that looks like text and means nothing."""
    out = []
    for _ in range(count):
        n = int(rng.integers(1, 4))
        out.append("".join(_SYLLABLES[int(i)] for i in rng.integers(len(_SYLLABLES), size=n)))
    return " ".join(out)


def colour(rng: Rng, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(low, high, size=3))
    return r, g, b


def fractal_noise(rng: Rng, width: int, height: int, beta: float = 2.0) -> Float:
    """1/f^beta noise (random phases), scaled to [0, 1]: clouds, terrain, marble."""
    fy = np.fft.fftfreq(height)[:, np.newaxis]
    fx = np.fft.rfftfreq(width)[np.newaxis, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spectrum = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** (beta / 2)
    spectrum[0, 0] = 0
    field = np.fft.irfft2(spectrum, s=(height, width)).astype(np.float32)
    lo, hi = float(field.min()), float(field.max())
    out: Float = (field - lo) / max(hi - lo, 1e-6)
    return out


def ridge(rng: Rng, width: int, roughness: float = 1.8) -> Float:
    """A 1-D fractal profile in [0, 1] (a skyline of hills or mountains)."""
    freqs = np.fft.rfftfreq(width)
    freqs[0] = 1.0
    spectrum = (rng.normal(size=freqs.shape) + 1j * rng.normal(size=freqs.shape)) / freqs ** (
        roughness / 2
    )
    spectrum[0] = 0
    line = np.fft.irfft(spectrum, n=width).astype(np.float32)
    out: Float = (line - line.min()) / max(float(line.max() - line.min()), 1e-6)
    return out


def to_image(canvas: Float) -> Image.Image:
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")


def grain(rng: Rng, image: Image.Image, amount: float) -> Image.Image:
    """Sensor noise, so that flat areas are not perfectly flat (as in a photograph)."""
    if amount < 1:
        return image
    pixels = np.asarray(image, dtype=np.int16)
    spread = round(amount * 1.7)  # a uniform noise of about this standard deviation
    noise = rng.integers(-spread, spread + 1, size=pixels.shape[:2], dtype=np.int16)
    return Image.fromarray(np.clip(pixels + noise[..., np.newaxis], 0, 255).astype(np.uint8))


def vertical_gradient(top: Sequence[float], bottom: Sequence[float], w: int, h: int) -> Float:
    t = np.linspace(0, 1, h, dtype=np.float32)[:, np.newaxis, np.newaxis]
    a, b = np.asarray(top, np.float32), np.asarray(bottom, np.float32)
    out: Float = np.broadcast_to(a + (b - a) * t, (h, w, 3)).copy()
    return out


def size_for(rng: Rng) -> tuple[int, int]:
    w, h = SIZES[int(rng.integers(len(SIZES)))]
    return w, h


# -------------------------------------------------------------------------------- photos


def _skimage_data() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise RuntimeError("scikit-image (a dev dependency) is needed for its sample photos")
    return Path(spec.origin).parent / "data"


def sample_photo(name: str) -> Image.Image:
    """A bundled photograph as RGB, the small ones enlarged to a long side of 640."""
    image = Image.open(_skimage_data() / name)
    image = image.convert("RGBA").convert("RGB") if image.mode in ("RGBA", "LA", "P") else image
    image = image.convert("RGB")
    if max(image.size) < 640:
        scale = 640 / max(image.size)
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
    return image


def hubble_tile(index: int) -> Image.Image:
    """One quarter of the Hubble deep field (the four share no pixel)."""
    image = Image.open(_skimage_data() / "hubble_deep_field.jpg").convert("RGB")
    w, h = image.width // 2, image.height // 2
    x, y = (index % 2) * w, (index // 2) * h
    return image.crop((x, y, x + w, y + h))


def relief(half: int, cmap: str) -> Image.Image:
    """matplotlib's Jacksboro fault elevation data, hill-shaded: one half of it."""
    from matplotlib import cbook, colormaps

    dem = np.load(cbook.get_sample_data("jacksboro_fault_dem.npz", asfileobj=False))
    elevation = dem["elevation"].astype(np.float64)
    cols = elevation.shape[1] // 2
    part = elevation[:, half * cols : (half + 1) * cols]
    shaded = LightSource(azdeg=315, altdeg=45).shade(
        part, cmap=colormaps[cmap], blend_mode="overlay", vert_exag=2
    )
    image = Image.fromarray((shaded[..., :3] * 255).astype(np.uint8), "RGB")
    return image.resize((image.width * 3, image.height * 3), Image.Resampling.BICUBIC)


# ------------------------------------------------------------------------------ painters


def landscape(rng: Rng, w: int, h: int, fg: Rng | None = None, shift: float = 0.0) -> Image.Image:
    """Sky, mountain ridges fading with distance, a meadow; trees and a house in front.

    `fg` draws the foreground from another generator (the series' other shots) and `shift`
    moves the camera sideways by that fraction of the width."""
    fg = rng if fg is None else fg
    big_w = int(w * 1.2)
    # The smooth parts are painted at half size, then enlarged (fast, and soft as a lens).
    aw, ah = big_w // 2, h // 2
    palette = rng.integers(3)
    skies = (
        ((70, 130, 210), (190, 220, 245)),
        ((40, 40, 90), (240, 140, 80)),
        ((10, 15, 40), (40, 60, 110)),
    )
    canvas = vertical_gradient(*skies[int(palette)], aw, ah)
    cloud = np.clip((fractal_noise(rng, aw, ah, 2.6) - 0.55) * 3, 0, 1)[..., np.newaxis] * 0.8
    canvas = canvas * (1 - cloud) + 245 * cloud
    sx, sy = rng.uniform(0.1, 0.9) * aw, rng.uniform(0.08, 0.35) * ah
    sr = rng.uniform(0.03, 0.07) * ah
    yy, xx = np.mgrid[0:ah, 0:aw].astype(np.float32)
    disc = np.clip(sr - np.hypot(xx - sx, yy - sy), 0, 1)[..., np.newaxis]
    canvas = canvas * (1 - disc) + np.array((255, 240, 200), np.float32) * disc
    base = np.asarray(colour(rng, 30, 140), np.float32)
    layers = int(rng.integers(2, 5))
    horizon_at = float(rng.uniform(0.45, 0.7))
    horizon = horizon_at * ah
    rock = fractal_noise(rng, aw, ah, 2.2)[..., np.newaxis] * 40 - 20
    for i in range(layers):
        top = horizon - (layers - i) * rng.uniform(0.05, 0.15) * ah
        line = top + ridge(rng, aw, rng.uniform(1.5, 2.5)) * rng.uniform(0.1, 0.3) * ah
        mask = (yy >= line[np.newaxis, :]).astype(np.float32)[..., np.newaxis]
        fade = 0.6 * (layers - 1 - i) / max(layers - 1, 1)
        tone = base * (1 - fade) + canvas[int(top) % ah, 0] * fade
        canvas = canvas * (1 - mask) + (tone + np.roll(rock, i * 37, axis=1)) * mask
    meadow = np.asarray(colour(rng, 40, 160), np.float32) * np.array((0.6, 1.0, 0.5), np.float32)
    ground = (yy >= horizon + 0.02 * ah).astype(np.float32)[..., np.newaxis]
    texture = fractal_noise(rng, aw, ah, 1.6)[..., np.newaxis] * 60 - 30
    canvas = canvas * (1 - ground) + (meadow + texture) * ground
    horizon = horizon_at * h
    image = to_image(canvas).resize((big_w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(int(fg.integers(3, 12))):
        x = float(fg.uniform(0, big_w))
        base_y = float(fg.uniform(horizon + 0.05 * h, h * 1.05))
        size = (base_y - horizon) / h * fg.uniform(0.4, 1.2) * h
        trunk = colour(fg, 40, 90)
        leaves = colour(fg, 20, 120)
        draw.rectangle((x - size * 0.04, base_y - size * 0.3, x + size * 0.04, base_y), fill=trunk)
        if fg.random() < 0.5:
            draw.polygon(
                [
                    (x, base_y - size),
                    (x - size * 0.25, base_y - size * 0.25),
                    (x + size * 0.25, base_y - size * 0.25),
                ],
                fill=leaves,
            )
        else:
            r = size * 0.3
            draw.ellipse(
                (x - r, base_y - size * 0.9, x + r, base_y - size * 0.9 + 2 * r), fill=leaves
            )
    if fg.random() < 0.6:
        hx, hy = float(fg.uniform(0.1, 0.9) * big_w), float(fg.uniform(horizon + 0.1 * h, 0.95 * h))
        hs = float(fg.uniform(0.1, 0.25) * h)
        draw.rectangle(
            (hx, hy - hs, hx + hs * 1.4, hy), fill=colour(fg, 120, 250), outline=(40, 30, 30)
        )
        draw.polygon(
            [(hx - hs * 0.1, hy - hs), (hx + hs * 0.7, hy - hs * 1.6), (hx + hs * 1.5, hy - hs)],
            fill=colour(fg, 80, 180),
        )
        draw.rectangle((hx + hs * 0.5, hy - hs * 0.55, hx + hs * 0.8, hy), fill=(60, 40, 30))
    image = image.filter(ImageFilter.SMOOTH)
    x0 = min(max(0, int((big_w - w) / 2 + shift * w)), big_w - w)
    return grain(rng, image.crop((x0, 0, x0 + w, h)), 4)


def still_life(rng: Rng, w: int, h: int, fg: Rng | None = None, shift: float = 0.0) -> Image.Image:
    """A table against a wall: shaded balls, boxes and cups with soft shadows, a window."""
    fg = rng if fg is None else fg
    big_w, big_h = int(w * 1.1), int(h * 1.1)
    aw, ah = big_w // 2, big_h // 2  # the smooth parts at half size, then enlarged
    wall = np.asarray(colour(rng, 120, 240), np.float32)
    canvas = vertical_gradient(wall * 1.05, wall * 0.75, aw, ah)
    table_at = float(rng.uniform(0.45, 0.65))
    yy = np.mgrid[0:ah, 0:aw][0].astype(np.float32)
    wood = np.asarray(colour(rng, 90, 200), np.float32) * np.array((1.0, 0.75, 0.5), np.float32)
    grainline = np.sin(yy * 1.6 + fractal_noise(rng, aw, ah, 2.5) * 30)[..., np.newaxis] * 12
    table = (yy >= table_at * ah)[..., np.newaxis].astype(np.float32)
    canvas = canvas * (1 - table) + (wood + grainline) * table
    table_y = table_at * big_h
    image = to_image(canvas).resize((big_w, big_h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    wx, wy = rng.uniform(0.05, 0.6) * big_w, rng.uniform(0.05, 0.2) * big_h
    ww, wh = rng.uniform(0.2, 0.35) * big_w, rng.uniform(0.2, 0.3) * big_h
    if wy + wh < table_y:
        draw.rectangle(
            (wx, wy, wx + ww, wy + wh), fill=(200, 225, 250), outline=(250, 250, 250), width=8
        )
        draw.line((wx + ww / 2, wy, wx + ww / 2, wy + wh), fill=(250, 250, 250), width=6)
    shadows = Image.new("L", image.size, 0)
    sdraw = ImageDraw.Draw(shadows)
    objects = []
    for _ in range(int(fg.integers(3, 7))):
        size = float(fg.uniform(0.08, 0.22) * big_h)
        x = float(fg.uniform(0.05, 0.95) * big_w)
        y = float(fg.uniform(table_y + size * 0.3, big_h - 0.02 * big_h))
        objects.append((y, x, size, int(fg.integers(3)), colour(fg, 20, 250)))
        sdraw.ellipse((x - size * 0.3, y - size * 0.15, x + size * 1.3, y + size * 0.2), fill=120)
    shade = shadows.filter(ImageFilter.GaussianBlur(12))
    image = Image.composite(
        Image.new("RGB", image.size, (20, 15, 10)), image, shade.point(lambda v: v // 2)
    )
    draw = ImageDraw.Draw(image)
    for y, x, size, shape, rgb in sorted(objects):
        if shape == 0:  # a ball, lit from the top left
            ball = Image.new("RGB", (int(2 * size), int(2 * size)))
            by, bx = np.mgrid[-1 : 1 : complex(0, ball.height), -1 : 1 : complex(0, ball.width)]
            light = np.clip(1.1 - np.hypot(bx + 0.4, by + 0.4) * 0.7, 0.2, 1.2)
            ball = to_image(np.asarray(rgb, np.float32) * light[..., np.newaxis].astype(np.float32))
            mask = Image.new("L", ball.size, 0)
            ImageDraw.Draw(mask).ellipse((0, 0, ball.width - 1, ball.height - 1), fill=255)
            image.paste(ball, (int(x - size), int(y - 2 * size)), mask)
        elif shape == 1:  # a box: front, top and side faces
            dark = tuple(int(c * 0.6) for c in rgb)
            light = tuple(min(255, int(c * 1.25)) for c in rgb)
            d = size * 0.35
            draw.rectangle((x - size, y - size, x, y), fill=rgb)
            draw.polygon(
                [
                    (x - size, y - size),
                    (x - size + d, y - size - d),
                    (x + d, y - size - d),
                    (x, y - size),
                ],
                fill=light,
            )
            draw.polygon([(x, y), (x, y - size), (x + d, y - size - d), (x + d, y - d)], fill=dark)
        else:  # a cup
            draw.rectangle((x - size * 0.4, y - size, x + size * 0.4, y), fill=rgb)
            draw.ellipse(
                (x - size * 0.4, y - size * 1.1, x + size * 0.4, y - size * 0.9),
                fill=tuple(int(c * 0.5) for c in rgb),
            )
            draw.arc(
                (x + size * 0.25, y - size * 0.8, x + size * 0.7, y - size * 0.3),
                -90,
                90,
                fill=rgb,
                width=max(2, int(size * 0.08)),
            )
    x0 = int((big_w - w) / 2 + shift * w)
    x0 = min(max(0, x0), big_w - w)
    y0 = (big_h - h) // 2
    image = image.filter(ImageFilter.SMOOTH).crop((x0, y0, x0 + w, y0 + h))
    return grain(rng, image, 3)


def illustration(rng: Rng, w: int, h: int) -> Image.Image:
    """Flat vector art: blobs, rings, dotted fills, outlines, sometimes a title."""
    palette = [colour(rng, 0, 256) for _ in range(5)]
    image = Image.new("RGB", (w, h), palette[0])
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(6, 16))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.35) * min(w, h)
        fill = palette[int(rng.integers(1, 5))]
        kind = int(rng.integers(4))
        if kind == 0:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 9))))
            radii = r * rng.uniform(0.6, 1.2, angles.size)
            pts = [
                (float(cx + a * np.cos(t)), float(cy + a * np.sin(t)))
                for t, a in zip(angles, radii, strict=True)
            ]
            draw.polygon(pts, fill=fill, outline=(20, 20, 20), width=int(rng.integers(0, 5)))
        elif kind == 1:
            for k in range(int(rng.integers(2, 6))):
                rr = r * (1 - k * 0.18)
                if rr > 2:
                    draw.ellipse(
                        (cx - rr, cy - rr, cx + rr, cy + rr),
                        outline=palette[(k + 1) % 5],
                        width=max(2, int(r * 0.08)),
                    )
        elif kind == 2:
            step = max(6, int(r * 0.15))
            for dx in range(int(-r), int(r), step):
                for dy in range(int(-r), int(r), step):
                    if dx * dx + dy * dy < r * r:
                        draw.ellipse(
                            (cx + dx - 2, cy + dy - 2, cx + dx + 2, cy + dy + 2), fill=fill
                        )
        else:
            draw.rounded_rectangle(
                (cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), radius=int(r * 0.2), fill=fill
            )
    if rng.random() < 0.5:
        size = int(h * rng.uniform(0.07, 0.14))
        draw.text(
            (w * 0.06, h * rng.uniform(0.05, 0.8)),
            words(rng, 3).upper(),
            font=font(size, "bold"),
            fill=palette[4],
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )
    return image.filter(ImageFilter.GaussianBlur(0.5))


def clouds(rng: Rng, w: int, h: int) -> Image.Image:
    """Cloudy, marbled or rocky texture: 1/f noise through a random colour ramp."""
    field = fractal_noise(rng, w // 2, h // 2, float(rng.uniform(1.6, 3.0)))
    if rng.random() < 0.4:
        field = 0.5 + 0.5 * np.sin(field * rng.uniform(8, 25)).astype(np.float32)
    stops = np.array([colour(rng) for _ in range(4)], np.float32)
    pos = field * 3
    i = np.clip(pos.astype(int), 0, 2)
    t = (pos - i)[..., np.newaxis]
    canvas = stops[i] * (1 - t) + stops[i + 1] * t
    return grain(rng, to_image(canvas).resize((w, h), Image.Resampling.BICUBIC), 3)


def page(rng: Rng, w: int, h: int) -> Image.Image:
    """A page of text: title, paragraphs in one or two columns, sometimes a grey figure."""
    paper = colour(rng, 225, 256)
    image = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(image)
    style = ("serif", "sans", "mono")[int(rng.integers(3))]
    size = int(rng.integers(11, 20))
    ink = colour(rng, 0, 70)
    margin = int(w * rng.uniform(0.05, 0.12))
    draw.text(
        (margin, margin), words(rng, 4).capitalize(), font=font(int(size * 1.8), "bold"), fill=ink
    )
    columns = 1 if rng.random() < 0.6 else 2
    col_w = (w - 2 * margin - (columns - 1) * 20) // columns
    chars = max(8, int(col_w / (size * 0.6)))
    for c in range(columns):
        y = margin + int(size * 3.2)
        x = margin + c * (col_w + 20)
        while y < h - margin - size:
            if rng.random() < 0.12:
                y += size
            line = words(rng, 20)[:chars]
            draw.text((x, y), line, font=font(size, style), fill=ink)
            y += int(size * 1.45)
    return image


def ui_screenshot(rng: Rng, w: int, h: int) -> Image.Image:
    """An application window: title bar, sidebar list, toolbar buttons, a table, fields."""
    dark = rng.random() < 0.35
    bg = (32, 33, 36) if dark else colour(rng, 235, 256)
    fg = (225, 225, 225) if dark else (30, 30, 30)
    accent = colour(rng, 20, 220)
    image = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(image)
    bar = int(h * 0.07)
    draw.rectangle((0, 0, w, bar), fill=accent)
    draw.text(
        (12, bar // 4),
        words(rng, 3).title(),
        font=font(max(10, bar // 2), "bold"),
        fill=(255, 255, 255),
    )
    side = int(w * rng.uniform(0.18, 0.28))
    draw.rectangle((0, bar, side, h), fill=tuple(max(0, c - 18) for c in bg))
    size = max(10, int(h * 0.025))
    for i, y in enumerate(range(bar + 12, h - size, int(size * 2.2))):
        if i == int(rng.integers(8)):
            draw.rectangle((0, y - 4, side, y + size + 4), fill=accent)
        draw.ellipse((10, y, 10 + size, y + size), fill=colour(rng, 60, 220))
        draw.text((18 + size, y), words(rng, 2), font=font(size), fill=fg)
    x0 = side + 16
    for i in range(int(rng.integers(3, 7))):
        bx = x0 + i * int(size * 6)
        draw.rounded_rectangle(
            (bx, bar + 10, bx + size * 5, bar + 10 + size * 2),
            radius=6,
            fill=accent if i == 0 else tuple(max(0, c - 30) for c in bg),
        )
        draw.text(
            (bx + 8, bar + 10 + size // 2),
            words(rng, 1)[:7],
            font=font(size),
            fill=(255, 255, 255) if i == 0 else fg,
        )
    y = bar + 20 + size * 3
    while y < h - size * 2:
        draw.line((x0, y, w - 16, y), fill=tuple(abs(c - 40) for c in bg))
        for col in range(int(rng.integers(3, 6))):
            draw.text(
                (x0 + col * (w - x0) // 5, y + size // 2),
                words(rng, 1)[:10],
                font=font(size, "mono" if col else "sans"),
                fill=fg,
            )
        y += int(size * 2.1)
    return image


def chart(rng: Rng, w: int, h: int) -> Image.Image:
    """A bar, line or pie chart with axes, gridlines and labels."""
    image = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = int(w * 0.12), int(h * 0.12), int(w * 0.95), int(h * 0.85)
    draw.text(
        (left, top // 3),
        words(rng, 4).capitalize(),
        font=font(max(12, h // 28), "bold"),
        fill=(20, 20, 20),
    )
    kind = int(rng.integers(3))
    if kind == 2:
        cx, cy, r = (left + right) / 2, (top + bottom) / 2, min(right - left, bottom - top) / 2.2
        shares = rng.dirichlet(np.ones(int(rng.integers(3, 8))))
        start = 0.0
        for share in shares:
            end = start + float(share) * 360
            draw.pieslice(
                (cx - r, cy - r, cx + r, cy + r),
                start,
                end,
                fill=colour(rng, 30, 230),
                outline=(255, 255, 255),
                width=3,
            )
            start = end
        return image
    for k in range(6):
        y = bottom - (bottom - top) * k / 5
        draw.line((left, y, right, y), fill=(220, 220, 220))
        draw.text(
            (left - 40, y - 8), str(k * int(rng.integers(5, 50))), font=font(12), fill=(80, 80, 80)
        )
    draw.line((left, top, left, bottom), fill=(0, 0, 0), width=2)
    draw.line((left, bottom, right, bottom), fill=(0, 0, 0), width=2)
    n = int(rng.integers(5, 20))
    xs = np.linspace(left + 10, right - 10, n)
    for s in range(1 if kind == 0 else int(rng.integers(1, 4))):
        values = np.cumsum(rng.normal(0, 1, n)) if kind == 1 else rng.uniform(0.1, 1, n)
        values = (values - values.min()) / max(float(np.ptp(values)), 1e-6) * 0.9 + 0.05
        ys = bottom - values * (bottom - top)
        rgb = colour(rng, 20, 220)
        if kind == 0:
            bw = (right - left) / n * 0.7
            for x, y in zip(xs, ys, strict=True):
                draw.rectangle((x - bw / 2, y, x + bw / 2, bottom), fill=rgb)
        else:
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=rgb, width=3 + s)
    return image


def neutral(rng: Rng, w: int, h: int) -> Image.Image:
    return neutral_image(int(rng.integers(2**31)), w, h)


# Distractors only: pictures with little or very regular content.


def stripes(rng: Rng, w: int, h: int) -> Image.Image:
    """Stripes at an angle, a checkerboard, or bars of a barcode."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a, b = np.asarray(colour(rng), np.float32), np.asarray(colour(rng), np.float32)
    kind = int(rng.integers(3))
    period = float(rng.uniform(4, 80))
    if kind == 0:
        angle = rng.uniform(0, np.pi)
        t = (np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period) > 0).astype(
            np.float32
        )
    elif kind == 1:
        t = ((xx // period + yy // period) % 2).astype(np.float32)
    else:
        widths = rng.integers(2, 14, size=w)
        bars = np.repeat(np.arange(widths.size) % 2, widths)[:w].astype(np.float32)
        t = np.broadcast_to(bars[np.newaxis, :], (h, w))
    canvas = a + (b - a) * t[..., np.newaxis]
    return grain(rng, to_image(canvas), float(rng.uniform(0, 3)))


def gradient(rng: Rng, w: int, h: int) -> Image.Image:
    """A linear or radial blend of two or three colours."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(angle) + yy * np.sin(angle)
    else:
        t = np.hypot(xx - rng.uniform(0, w), yy - rng.uniform(0, h))
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    stops = np.array([colour(rng) for _ in range(3)], np.float32)
    mid = t[..., np.newaxis] * 2
    first = stops[0] + (stops[1] - stops[0]) * np.clip(mid, 0, 1)
    canvas = first + (stops[2] - stops[1]) * np.clip(mid - 1, 0, 1)
    return to_image(canvas)


def flat_shapes(rng: Rng, w: int, h: int) -> Image.Image:
    """A few flat shapes on a flat ground."""
    image = Image.new("RGB", (w, h), colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 5))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.4) * min(w, h)
        box = (x - r, y - r, x + r, y + r)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour(rng))
    return image


PAINTERS: dict[str, Painter] = {
    "landscape": landscape,
    "still life": still_life,
    "illustration": illustration,
    "clouds": clouds,
    "page": page,
    "screenshot": ui_screenshot,
    "chart": chart,
    "neutral": neutral,
}
# How often each kind is drawn for originals and plain distractors.
WEIGHTS = {
    "landscape": 0.2,
    "still life": 0.2,
    "illustration": 0.15,
    "clouds": 0.08,
    "page": 0.08,
    "screenshot": 0.08,
    "chart": 0.06,
    "neutral": 0.15,
}
HARD: dict[str, Painter] = {
    "stripes": stripes,
    "gradient": gradient,
    "flat shapes": flat_shapes,
    "page": page,
    "screenshot": ui_screenshot,
}
SERIES = ("landscape", "still life")  # kinds that have other shots of the same place


# ---------------------------------------------------------------------------------- sets


def _pick(rng: Rng) -> str:
    names = list(WEIGHTS)
    p = np.array([WEIGHTS[n] for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


@cache
def photos() -> tuple[Picture, ...]:
    """Every bundled photograph kept for originals (same list at every run)."""
    out = [Picture(f"photo-{n.split('.')[0]}", "photo", sample_photo(n)) for n in PHOTO_FILES]
    out += [Picture(f"photo-hubble-{i}", "photo", hubble_tile(i)) for i in (0, 1)]
    out.append(Picture("photo-relief-0", "photo", relief(0, "gist_earth")))
    return tuple(out)


def drawn(seed: int, index: int) -> Picture:
    """The index-th drawn original of a run (its kind and content depend on both)."""
    rng = np.random.default_rng([seed, 1, index])
    kind = _pick(rng)
    w, h = size_for(rng)
    return Picture(
        f"orig-{index:05d}", kind, PAINTERS[kind](np.random.default_rng([seed, 2, index]), w, h)
    )


def original(seed: int, index: int) -> Picture:
    """Originals: the bundled photographs first, then drawn pictures."""
    shipped = photos_count()
    if index < shipped:
        return photos()[index]
    return drawn(seed, index)


@cache
def photos_count() -> int:
    return len(PHOTO_FILES) + 3


def series_sibling(seed: int, index: int, shot: int) -> Picture | None:
    """Another shot of the same place as drawn original `index`: the same background and
    light, other objects, the camera moved by 1-4% of the width. None if not a series kind."""
    if index < photos_count():
        return None
    rng = np.random.default_rng([seed, 1, index])
    kind = _pick(rng)
    if kind not in SERIES:
        return None
    w, h = size_for(rng)
    place = np.random.default_rng([seed, 2, index])
    others = np.random.default_rng([seed, 3, index, shot])
    shift = float(others.uniform(0.01, 0.04)) * (1 if others.random() < 0.5 else -1)
    paint = landscape if kind == "landscape" else still_life
    return Picture(
        f"sibling-{index:05d}-{shot}", f"series ({kind})", paint(place, w, h, others, shift)
    )


def distractor(seed: int, index: int) -> Picture:
    """Plain unrelated pictures: half of the usual kinds, half hard ones; the fixed few
    bundled photographs that are not originals come first."""
    fixed: list[tuple[str, Callable[[], Image.Image]]] = [
        ("photo-motorcycle-right", lambda: sample_photo("motorcycle_right.png")),
        ("photo-chessboard", lambda: sample_photo("chessboard_RGB.png")),
        ("photo-hubble-2", lambda: hubble_tile(2)),
        ("photo-hubble-3", lambda: hubble_tile(3)),
        ("photo-relief-1", lambda: relief(1, "terrain")),
    ]
    if index < len(fixed):
        name, make = fixed[index]
        return Picture(name, "photo", make())
    rng = np.random.default_rng([seed, 10, index])
    w, h = size_for(rng)
    paint_rng = np.random.default_rng([seed, 11, index])
    if rng.random() < 0.5:
        kind = _pick(rng)
        return Picture(f"dist-{index:06d}", kind, PAINTERS[kind](paint_rng, w, h))
    kind = list(HARD)[int(rng.integers(len(HARD)))]
    return Picture(f"dist-{index:06d}", f"hard ({kind})", HARD[kind](paint_rng, w, h))


def filler(rng: Rng) -> Image.Image:
    """An unrelated picture to sit beside a copy (collage cells, page illustrations)."""
    kind = _pick(rng)
    w, h = size_for(rng)
    return PAINTERS[kind](rng, w, h)
