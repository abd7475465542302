"""Deterministic, neutral test pictures (shapes, landscapes, textures, text, flat graphics).

Owns the only images and videos Rempart's tests, demo and benchmarks use; they are generated,
never photographs of people. Must not read or write files, and must stay numpy + Pillow only
(videos add PyAV, imported on first use).
"""

from __future__ import annotations

import functools
import io
import itertools
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import OutputContainer

__all__ = ["STYLES", "VIDEO_CODECS", "encode_video", "neutral_image", "neutral_video", "web_jpeg"]

STYLES = ("shapes", "landscape", "texture", "text", "graphic")

Rng = np.random.Generator
Canvas = npt.NDArray[np.float32]  # height x width x 3, values 0-255
Plane = npt.NDArray[np.float32]  # height x width


def neutral_image(
    seed: int, width: int = 640, height: int = 480, style: str | None = None
) -> Image.Image:
    """An RGB picture that depends only on its arguments. `style=None` picks one from the seed."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    rng = np.random.default_rng(seed)
    chosen = STYLES[int(rng.integers(len(STYLES)))] if style is None else style
    if chosen not in _PAINTERS:
        raise ValueError(f"unknown style {chosen!r}; choose one of {', '.join(STYLES)}")
    return _PAINTERS[chosen](rng, width, height)


def web_jpeg(seed: int, width: int = 1920, height: int = 1080, quality: int = 85) -> bytes:
    """A neutral picture encoded as a typical web JPEG (4:2:0 chroma, baseline)."""
    buffer = io.BytesIO()
    neutral_image(seed, width, height).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------- helpers
#
# Speed: smooth content is painted at half size and enlarged (which also softens edges the way
# a camera does); only the grain is made at full size, in int16, so 640x480 takes ~10 ms.


def _colour(rng: Rng, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(low, high, size=3))
    return r, g, b


def _half(width: int, height: int) -> tuple[int, int]:
    return max(1, width // 2), max(1, height // 2)


def _value_noise(rng: Rng, width: int, height: int, cells: int) -> Plane:
    """Smooth noise in [-1, 1] with about `cells` bumps along the longer side."""
    scale = max(width, height) / cells
    grid_w, grid_h = max(2, round(width / scale) + 1), max(2, round(height / scale) + 1)
    grid = Image.fromarray(rng.integers(0, 256, size=(grid_h, grid_w), dtype=np.uint8))
    smooth = grid.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(smooth, dtype=np.float32) / 127.5 - 1.0


def _gradient(rng: Rng, width: int, height: int) -> Canvas:
    """A linear blend between two random colours at a random angle."""
    angle = rng.uniform(0, 2 * np.pi)
    xs = np.linspace(0.0, np.cos(angle), width, dtype=np.float32)[np.newaxis, :]
    ys = np.linspace(0.0, np.sin(angle), height, dtype=np.float32)[:, np.newaxis]
    t = xs + ys
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    a = np.array(_colour(rng), np.float32)
    b = np.array(_colour(rng), np.float32)
    blend: Canvas = a + (b - a) * t[..., np.newaxis]
    return blend


def _finish(
    rng: Rng, small: Image.Image, size: tuple[int, int], mid: int, fine: int
) -> Image.Image:
    """Enlarge `small` to `size`, then add mid-scale mottling (what gives PDQ its gradients)
    and fine sensor-like grain, both grey so colours stay as painted."""
    width, height = size
    image = small.resize(size, Image.Resampling.BILINEAR) if small.size != size else small
    cells = int(rng.integers(40, 90))
    mottling = _value_noise(rng, width, height, cells) * mid
    grain = rng.integers(-fine, fine + 1, size=(height, width), dtype=np.int16)
    offset = mottling.astype(np.int16) + grain
    canvas = np.asarray(image, dtype=np.int16) + offset[..., np.newaxis]
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")


def _to_image(canvas: Canvas) -> Image.Image:
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")


def _polygon(rng: Rng, cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    sides = int(rng.integers(3, 8))
    angles = np.sort(rng.uniform(0, 2 * np.pi, sides))
    radii = radius * rng.uniform(0.5, 1.0, sides)
    return [
        (float(cx + r * np.cos(a)), float(cy + r * np.sin(a)))
        for a, r in zip(angles, radii, strict=True)
    ]


def _draw_shapes(rng: Rng, image: Image.Image, count: int) -> None:
    """Random ellipses, rectangles and polygons, drawn in place."""
    width, height = image.size
    draw = ImageDraw.Draw(image)
    for _ in range(count):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.04, 0.25) * max(width, height)
        kind = int(rng.integers(3))
        fill = _colour(rng)
        box = (cx - radius, cy - radius * rng.uniform(0.4, 1.0), cx + radius, cy + radius)
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon(_polygon(rng, cx, cy, radius), fill=fill)


# --------------------------------------------------------------------------------- painters


def _shapes(rng: Rng, width: int, height: int) -> Image.Image:
    small = _to_image(_gradient(rng, *_half(width, height)))
    _draw_shapes(rng, small, int(rng.integers(12, 30)))
    return _finish(rng, small, (width, height), mid=18, fine=4)


def _landscape(rng: Rng, width: int, height: int) -> Image.Image:
    """Sky gradient over ground, a few ridges of hills built from sums of sines, a sun."""
    w, h = _half(width, height)
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, np.newaxis, np.newaxis]
    sky_top = np.array(_colour(rng, 40, 140), np.float32)
    sky_low = np.array(_colour(rng, 150, 255), np.float32)
    small = _to_image((sky_top + (sky_low - sky_top) * ys) * np.ones((1, w, 1), np.float32))
    draw = ImageDraw.Draw(small)
    sun_x, sun_y = rng.uniform(0.1, 0.9) * w, rng.uniform(0.05, 0.35) * h
    radius = rng.uniform(0.03, 0.08) * max(w, h)
    draw.ellipse(
        (sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius),
        fill=_colour(rng, 200, 256),
    )
    xs = np.linspace(0.0, 1.0, max(w // 4, 2) + 1)
    for ridge in range(int(rng.integers(3, 6))):
        horizon = (0.35 + 0.12 * ridge + rng.uniform(-0.05, 0.05)) * h
        profile = np.zeros_like(xs)
        for frequency in rng.uniform(0.5, 6.0, 4):
            amplitude = rng.uniform(0.02, 0.10) * h
            profile += amplitude * np.sin(2 * np.pi * (frequency * xs + rng.uniform()))
        outline = [(float(x * w), float(horizon + p)) for x, p in zip(xs, profile, strict=True)]
        draw.polygon([*outline, (w, h), (0, h)], fill=_colour(rng, 20, 200))
    return _finish(rng, small, (width, height), mid=22, fine=3)


def _texture(rng: Rng, width: int, height: int) -> Image.Image:
    """Colourised multi-octave noise with a couple of sinusoidal gratings (fabric, stone)."""
    w, h = _half(width, height)
    xs = np.arange(w, dtype=np.float32)[np.newaxis, :]
    ys = np.arange(h, dtype=np.float32)[:, np.newaxis]
    tone = np.zeros((h, w), np.float32)
    for _ in range(2):
        angle, period = rng.uniform(0, np.pi), rng.uniform(0.02, 0.12) * max(w, h)
        phase = (xs * np.cos(angle) + ys * np.sin(angle)) * np.float32(2 * np.pi / period)
        tone += 0.5 * np.sin(phase + np.float32(rng.uniform(0, 2 * np.pi)))
    for cells, amplitude in ((8, 1.0), (30, 0.7), (90, 0.4)):
        tone += np.float32(amplitude) * _value_noise(rng, w, h, cells)
    tone = (tone - tone.min()) / max(float(tone.max() - tone.min()), 1e-6)
    dark = np.array(_colour(rng, 0, 120), np.float32)
    light = np.array(_colour(rng, 130, 256), np.float32)
    small = _to_image(dark + (light - dark) * tone[..., np.newaxis])
    return _finish(rng, small, (width, height), mid=10, fine=5)


_WORDS = (
    "river",
    "stone",
    "window",
    "garden",
    "orange",
    "paper",
    "field",
    "market",
    "cloud",
    "bridge",
    "lamp",
    "table",
    "station",
    "harbour",
    "pencil",
    "autumn",
    "letter",
    "ladder",
    "meadow",
    "copper",
    "violin",
    "kettle",
    "signal",
    "island",
    "thunder",
    "museum",
    "ribbon",
    "saddle",
    "quarter",
    "compass",
    "lantern",
    "orchard",
    "blanket",
    "granite",
)


def _text(rng: Rng, width: int, height: int) -> Image.Image:
    """A page of random words in the bundled font, dark ink on a light, slightly tinted page."""
    w, h = _half(width, height)
    page = _to_image(_gradient(rng, w, h) * 0.25 + 185.0)
    size = max(4, int(h / rng.uniform(14, 24)))
    stamps = _word_stamps(size)
    space = max(2, size // 3)
    ink = _colour(rng, 0, 90)
    y = int(h * 0.04)
    while y < h - size:
        x = int(w * 0.05)
        for word in rng.choice(_WORDS, size=int(rng.integers(4, 14))):
            stamp = stamps[str(word)]
            page.paste(ink, (x, y, x + stamp.width, y + stamp.height), stamp)
            x += stamp.width + space
        y += max(1, int(size * rng.uniform(1.2, 1.6)))
    return _finish(rng, page, (width, height), mid=6, fine=2)


@functools.lru_cache(maxsize=8)
def _word_stamps(size: int) -> dict[str, Image.Image]:
    """Each word rendered once as a mask: drawing text glyph by glyph costs ~1 ms a line."""
    font = ImageFont.load_default(size)
    stamps = {}
    for word in _WORDS:
        _, _, right, bottom = font.getbbox(word)
        stamp = Image.new("L", (max(1, int(right)), max(1, int(bottom))))
        ImageDraw.Draw(stamp).text((0, 0), word, fill=255, font=font)
        stamps[word] = stamp
    return stamps


def _graphic(rng: Rng, width: int, height: int) -> Image.Image:
    """Flat-colour poster: bands, blocks and discs, no blur or noise (like logos and charts)."""
    image = Image.new("RGB", (width, height), _colour(rng))
    draw = ImageDraw.Draw(image)
    bands = int(rng.integers(6, 20))
    for k in range(bands):
        x0 = k * width / bands
        if rng.uniform() < 0.6:
            draw.rectangle((x0, 0, x0 + width / bands / 2, height), fill=_colour(rng))
    _draw_shapes(rng, image, int(rng.integers(20, 45)))
    return image


_PAINTERS: dict[str, Callable[[Rng, int, int], Image.Image]] = {
    "shapes": _shapes,
    "landscape": _landscape,
    "texture": _texture,
    "text": _text,
    "graphic": _graphic,
}


# ------------------------------------------------------------------------------------ video
#
# Test videos are encoded with PyAV (imported on first use: it is heavy and only tests, the
# demo and benchmarks need it). Each scene is one neutral picture, painted once a little larger
# than the frame; frames pan and zoom slowly across it, so neighbouring seconds differ a little
# and scene changes differ a lot.

VIDEO_CODECS = ("h264", "hevc", "mpeg4", "vp8", "vp9", "av1")

# Encoder and options per codec name: fast presets (the content is smooth) and one thread, so
# that the same arguments give the same bytes (x264 ignores FFmpeg's "threads" option, and its
# macroblock-tree rate control gave different bytes from run to run even on one thread).
_ENCODERS: dict[str, tuple[str, dict[str, str]]] = {
    "h264": (
        "libx264",
        {"preset": "veryfast", "x264-params": "threads=1:lookahead-threads=1:mbtree=0"},
    ),
    "hevc": (
        "libx265",
        {"preset": "ultrafast", "x265-params": "log-level=none:pools=1:frame-threads=1"},
    ),
    "mpeg4": ("mpeg4", {"qscale": "4", "threads": "1"}),
    "vp8": ("libvpx", {"deadline": "realtime", "cpu-used": "8", "threads": "1"}),
    "vp9": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "threads": "1"}),
    "av1": ("libsvtav1", {"preset": "12"}),
}
# Audio codec per container for `audio=True` (WebM only takes Opus or Vorbis).
_AUDIO_CODECS = {"webm": "libopus", "ogg": "libopus"}
_AUDIO_RATE = 48_000
_BITEXACT = {"fflags": "+bitexact"}
_SCENE_MARGIN = 1.25  # scene pictures are this much larger than the frame, room to pan
# Pages of small text are left out: glyphs a few pixels high alias differently at each frame
# size, so the same text page hashes 25-35 bits apart at 320x240 and 480x360.
_VIDEO_STYLES = ("shapes", "landscape", "texture", "graphic")
_SCENE_HEIGHT = 240  # scenes are painted for this frame height, then scaled to the frame
_SCENE_SHIFT_S = 0.5  # scene changes fall between whole seconds (see neutral_video)


def neutral_video(
    seed: int,
    seconds: float,
    fps: float = 10.0,
    width: int = 320,
    height: int = 240,
    codec: str = "h264",
    container: str = "mp4",
    *,
    start_s: float = 0.0,
    scene_s: float = 4.0,
    audio: bool = False,
) -> bytes:
    """A video file (bytes) of neutral scenes that depends only on its arguments.

    The timeline is a function of `seed` and `scene_s`: a new scene every `scene_s` seconds,
    each a slow pan and zoom over a `neutral_image`. Scenes change half a second before each
    multiple of `scene_s`, never on the whole seconds where 1-frame-a-second hashing samples.
    `start_s` renders the same timeline from a later point, which is how a clip cut from a
    longer video is made. `codec` is one of
    VIDEO_CODECS; `container` an FFmpeg muxer name ("mp4", "webm", "matroska", "avi", "mov").
    """
    if seconds <= 0 or fps <= 0 or scene_s <= 0 or start_s < 0:
        raise ValueError("seconds, fps and scene_s must be positive and start_s not negative")
    count = max(1, round(seconds * fps))
    scenes: dict[int, Image.Image] = {}

    def frame(index: int) -> npt.NDArray[np.uint8]:
        t = start_s + index / fps + _SCENE_SHIFT_S
        scene = int(t // scene_s)
        if scene not in scenes:
            scenes[scene] = _scene_picture(seed, scene, width, height)
        return _pan_and_zoom(scenes[scene], (t % scene_s) / scene_s, width, height)

    return encode_video(
        (frame(i) for i in range(count)), fps=fps, codec=codec, container=container, audio=audio
    )


def encode_video(
    frames: Iterable[npt.NDArray[np.uint8]],
    *,
    fps: float = 10.0,
    codec: str = "h264",
    container: str = "mp4",
    audio: bool = False,
) -> bytes:
    """Encode RGB frames (height x width x 3, uint8, all the same size) into a video file.

    `audio=True` adds a quiet tone track (AAC, or Opus in WebM) as most web videos have one.
    """
    import av  # heavy: loaded on first use

    if codec not in _ENCODERS:
        raise ValueError(f"unknown codec {codec!r}; choose one of {', '.join(VIDEO_CODECS)}")
    pictures = iter(frames)
    first = next(pictures, None)
    if first is None:
        raise ValueError("no frames to encode")
    encoder, options = _ENCODERS[codec]
    rate = Fraction(fps).limit_denominator(1001)
    buffer = io.BytesIO()
    # bitexact: no random track ids or version strings, so the same frames give the same bytes.
    with av.open(buffer, "w", format=container, container_options=_BITEXACT) as output:
        video = output.add_stream(encoder, rate, options=dict(options))
        if not isinstance(video, av.VideoStream):
            raise TypeError(f"{encoder} is not a video encoder")
        video.height, video.width = first.shape[:2]
        video.pix_fmt = "yuv420p"
        sound = (
            output.add_stream(_AUDIO_CODECS.get(container, "aac"), _AUDIO_RATE) if audio else None
        )
        shown = 0
        for picture in itertools.chain([first], pictures):
            image = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            image.pts = shown
            image.time_base = 1 / rate
            output.mux(video.encode(image))
            shown += 1
        output.mux(video.encode(None))
        if isinstance(sound, av.AudioStream):
            _mux_tone(output, sound, shown / rate)
    return buffer.getvalue()


def _scene_picture(seed: int, scene: int, width: int, height: int) -> Image.Image:
    """Scene `scene` of the video `seed`, painted with room to pan. It is painted at a fixed
    height whatever the frame size, so the same video at another resolution shows the same
    pictures (neutral_image paints other pictures at other sizes)."""
    scene_seed = int(np.random.SeedSequence([seed, scene]).generate_state(1)[0])
    style = _VIDEO_STYLES[scene_seed % len(_VIDEO_STYLES)]
    paint_h = round(_SCENE_HEIGHT * _SCENE_MARGIN)
    paint_w = max(1, round(paint_h * width / height))
    return neutral_image(scene_seed, paint_w, paint_h, style=style)


def _pan_and_zoom(
    picture: Image.Image, progress: float, width: int, height: int
) -> npt.NDArray[np.uint8]:
    """The frame seen at `progress` (0-1) through a scene: the view shrinks from the whole
    picture to 80% of it (zoom in) while sliding from the top-left towards the bottom-right."""
    full_w, full_h = picture.size
    scale = 1.0 - 0.2 * progress
    view_w, view_h = full_w * scale, full_h * scale
    left, top = (full_w - view_w) * progress, (full_h - view_h) * progress
    box = (left, top, left + view_w, top + view_h)
    view = picture.resize((width, height), Image.Resampling.BILINEAR, box=box)
    return np.asarray(view, dtype=np.uint8)


def _mux_tone(output: OutputContainer, stream: AudioStream, seconds: Fraction) -> None:
    """A quiet 440 Hz tone lasting `seconds`, encoded in the codec's own frame size."""
    import av

    samples = int(seconds * _AUDIO_RATE)
    step = stream.codec_context.frame_size or 1024
    for start in range(0, samples, step):
        n = min(step, samples - start)
        t = (np.arange(start, start + n) / _AUDIO_RATE).astype(np.float32)
        tone = (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        chunk = av.AudioFrame.from_ndarray(tone[np.newaxis, :], format="fltp", layout="mono")
        chunk.sample_rate = _AUDIO_RATE
        chunk.pts = start
        output.mux(stream.encode(chunk))
    output.mux(stream.encode(None))
