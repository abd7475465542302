import io

import numpy as np
import pytest
from PIL import Image

from rempart.hashing import hash_image_bytes
from rempart.hashing.decode import decode_luma
from rempart.hashing.pdq import pdq_from_luma
from rempart.hashing.windows import WindowKind, trim_flat_borders
from rempart.samples import neutral_image


def _luma_of(img: Image.Image, fmt: str = "PNG") -> np.ndarray:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return np.asarray(decode_luma(buf.getvalue()).luma)


def _framed(img: Image.Image, pad: tuple[int, int, int, int], colour: tuple[int, int, int]):
    left, top, right, bottom = pad
    canvas = Image.new("RGB", (img.width + left + right, img.height + top + bottom), colour)
    canvas.paste(img, (left, top))
    return canvas


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (30, 120, 200)])
def test_letterbox_bars_of_any_colour_are_trimmed_back_to_the_picture(colour) -> None:
    img = neutral_image(4, 400, 300, style="landscape")
    window = trim_flat_borders(_luma_of(_framed(img, (0, 70, 0, 70), colour)))
    assert window is not None and window.kind is WindowKind.TRIMMED
    assert (window.top, window.bottom) == (70, 370)
    assert (window.left, window.right) == (0, 400)


def test_trimmed_window_hashes_like_the_original() -> None:
    img = neutral_image(5, 400, 300, style="shapes")
    framed = _luma_of(_framed(img, (40, 60, 40, 60), (0, 0, 0)), "JPEG")
    window = trim_flat_borders(framed)
    assert window is not None
    original = hash_image_bytes(_encode(img)).pdq
    trimmed = pdq_from_luma(window.crop(framed))
    whole = pdq_from_luma(framed)
    assert original.hash.distance(trimmed.hash) <= 16
    assert original.hash.distance(whole.hash) > 31  # why the window is needed


def test_an_image_without_borders_gives_no_window() -> None:
    assert trim_flat_borders(_luma_of(neutral_image(6, 320, 240, style="texture"))) is None


def test_a_flat_image_gives_no_window() -> None:
    assert trim_flat_borders(np.full((100, 100), 128, dtype=np.uint8)) is None


def test_a_thin_busy_strip_is_not_taken_for_the_picture() -> None:
    luma = np.zeros((300, 300), dtype=np.uint8)
    luma[140:150, :] = np.random.default_rng(0).integers(0, 255, (10, 300))
    assert trim_flat_borders(luma) is None


def _encode(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()
