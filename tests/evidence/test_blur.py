"""Blurred thumbnails: small, upright, nothing fine left to see, colours and layout kept; any
bad input is an ImageDecodeError."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from rempart.errors import ImageDecodeError
from rempart.evidence.blur import BLUR_FRACTION, blur_sigma, blurred, thumbnail_png
from rempart.samples import STYLES, neutral_image, web_jpeg


def _encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _high_frequency_energy(image: Image.Image) -> float:
    """Mean squared Laplacian of the luma: what edges, texture and small details contribute."""
    a = np.asarray(image.convert("L"), dtype=np.float64)
    laplacian = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float((laplacian**2).mean())


# ------------------------------------------------------------------------------ size, shape


def test_thumbnail_fits_max_side_and_keeps_the_aspect_ratio() -> None:
    picture = blurred(web_jpeg(1, 1920, 1080), max_side=256)
    assert picture.mode == "RGB"
    assert picture.size == (256, 144)


def test_small_pictures_are_not_enlarged() -> None:
    assert blurred(_encode(neutral_image(2, 90, 60)), max_side=256).size == (90, 60)


def test_blur_strength_is_relative_to_the_thumbnail_size() -> None:
    assert blur_sigma(256, 144) == pytest.approx(256 * BLUR_FRACTION)
    assert blur_sigma(144, 256) == blur_sigma(256, 144)
    assert blur_sigma(128, 50) == pytest.approx(blur_sigma(256, 100) / 2)
    assert blur_sigma(4, 4) == 1.0  # a floor for tiny pictures


def test_max_side_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_side"):
        blurred(web_jpeg(1, 64, 64), max_side=0)


# ---------------------------------------------------------------------- what the blur hides


@pytest.mark.parametrize("style", STYLES)
def test_blurred_thumbnail_has_a_small_fraction_of_the_sharp_ones_fine_detail(style: str) -> None:
    data = _encode(neutral_image(7, 640, 480, style))
    sharp = Image.open(io.BytesIO(thumbnail_png(data, blur=False)))
    soft = blurred(data)
    assert soft.size == sharp.size
    assert _high_frequency_energy(soft) < 0.05 * _high_frequency_energy(sharp)


def test_details_smaller_than_an_eighth_of_the_picture_vanish() -> None:
    # A black and white checkerboard of 16-pixel squares on a 256-pixel picture.
    cells = (np.indices((256, 256)) // 16).sum(axis=0) % 2
    board = Image.fromarray((cells * 255).astype(np.uint8), "L")
    soft = np.asarray(blurred(_encode(board)).convert("L"), dtype=np.float64)
    centre = soft[64:192, 64:192]  # away from the borders, which the blur extends
    assert centre.std() < 1.0
    assert abs(centre.mean() - 127.5) < 3


def test_text_is_flattened_to_a_nearly_uniform_patch() -> None:
    data = _encode(neutral_image(3, 640, 480, "text"))
    sharp = Image.open(io.BytesIO(thumbnail_png(data, blur=False)))
    assert _high_frequency_energy(blurred(data)) < 0.002 * _high_frequency_energy(sharp)


# ----------------------------------------------------------------------- what the blur keeps


@pytest.mark.parametrize("style", STYLES)
def test_average_colour_is_kept(style: str) -> None:
    data = _encode(neutral_image(11, 640, 480, style))
    sharp = np.asarray(Image.open(io.BytesIO(thumbnail_png(data, blur=False))), np.float64)
    soft = np.asarray(blurred(data), np.float64)
    assert np.abs(sharp.mean(axis=(0, 1)) - soft.mean(axis=(0, 1))).max() < 3


def test_layout_in_halves_stays_recognisable() -> None:
    picture = Image.new("RGB", (400, 300), (200, 30, 30))
    picture.paste((30, 60, 200), (200, 0, 400, 300))  # red left half, blue right half
    soft = np.asarray(blurred(_encode(picture)), np.float64)
    left, right = soft[:, :40].mean(axis=(0, 1)), soft[:, -40:].mean(axis=(0, 1))
    assert left[0] > 150 and left[2] < 80  # still red
    assert right[2] > 150 and right[0] < 80  # still blue


# -------------------------------------------------------------------------- awkward inputs


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    data = _encode(neutral_image(4, 200, 100), "JPEG", exif=exif.tobytes())
    assert blurred(data).size == (100, 200)


def test_transparent_areas_show_as_white() -> None:
    clear = Image.new("RGBA", (64, 48), (255, 0, 0, 0))
    assert np.asarray(blurred(_encode(clear))).min() == 255


def test_sixteen_bit_greys_are_scaled_not_clipped_to_white() -> None:
    ramp = np.tile(np.linspace(0, 65535, 128, dtype=np.uint16), (64, 1))
    data = _encode(Image.fromarray(ramp))
    assert Image.open(io.BytesIO(data)).mode in ("I;16", "I")
    grey = np.asarray(blurred(data).convert("L"), np.float64)
    assert 100 < grey.mean() < 155  # a plain conversion clips 99% of the ramp to white
    assert grey[:, :10].mean() < 80 and grey[:, -10:].mean() > 170


def test_animation_shows_its_first_frame() -> None:
    red = Image.new("RGB", (64, 64), (220, 0, 0))
    green = Image.new("RGB", (64, 64), (0, 220, 0))
    data = _encode(red, "GIF", save_all=True, append_images=[green], duration=100)
    r, g, _ = np.asarray(blurred(data), np.float64).mean(axis=(0, 1))
    assert r > 150 and g < 50


def test_thumbnail_png_is_a_png_and_the_same_for_the_same_input() -> None:
    data = web_jpeg(5, 800, 600)
    first = thumbnail_png(data, max_side=128)
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == thumbnail_png(data, max_side=128)
    assert Image.open(io.BytesIO(first)).size == (128, 96)


def test_unblurred_thumbnail_is_only_given_when_asked() -> None:
    data = web_jpeg(6, 800, 600)
    blurred_png = Image.open(io.BytesIO(thumbnail_png(data)))
    sharp_png = Image.open(io.BytesIO(thumbnail_png(data, blur=False)))
    assert _high_frequency_energy(blurred_png) < 0.05 * _high_frequency_energy(sharp_png)


# ------------------------------------------------------------------------------ bad inputs


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


BAD_INPUTS = {
    "zero bytes": b"",
    "random bytes": np.random.default_rng(0).bytes(4000),
    "text": b"not a picture at all\n" * 50,
    "truncated JPEG": web_jpeg(1, 400, 300)[:2000],
    "JPEG cut inside its header": web_jpeg(1, 400, 300)[:150],
    "PNG claiming 40000 x 40000 pixels": _png_header_only(40_000, 40_000),
    "EPS header": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n",
    "ICO (not allowed)": _encode(neutral_image(1, 32, 32), "ICO"),
}


@pytest.mark.parametrize("data", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
@pytest.mark.parametrize("blur", [True, False])
def test_bad_bytes_raise_image_decode_error(data: bytes, blur: bool) -> None:
    with pytest.raises(ImageDecodeError):
        thumbnail_png(data, blur=blur)


_SEED_JPEG = web_jpeg(9, 160, 120)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(_SEED_JPEG) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=12,
    ),
    st.integers(16, len(_SEED_JPEG)),
)
def test_damaged_jpeg_gives_a_thumbnail_or_image_decode_error(
    flips: list[tuple[int, int]], keep: int
) -> None:
    damaged = bytearray(_SEED_JPEG[:keep])
    for position, value in flips:
        if position < len(damaged):
            damaged[position] = value
    try:
        picture = blurred(bytes(damaged), max_side=64)
    except ImageDecodeError:
        return
    assert max(picture.size) <= 64
