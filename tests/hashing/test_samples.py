"""The neutral picture generator the tests, demo and benchmarks rely on."""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
import pytest
from hashing_support import reference_pdq_rgb
from PIL import Image

from rempart.samples import STYLES, neutral_image, web_jpeg


@pytest.mark.parametrize("style", [*STYLES, None])
def test_same_seed_same_picture(style: str | None) -> None:
    first = neutral_image(42, 160, 120, style)
    assert (first.mode, first.size) == ("RGB", (160, 120))
    assert first.tobytes() == neutral_image(42, 160, 120, style).tobytes()
    assert first.tobytes() != neutral_image(43, 160, 120, style).tobytes()


def test_every_style_is_used_when_none_is_given() -> None:
    signatures = {neutral_image(seed, 32, 24).tobytes() for seed in range(40)}
    assert len(signatures) == 40


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (1, 500), (2500, 1400)])
def test_any_size(size: tuple[int, int]) -> None:
    for style in STYLES:
        assert neutral_image(1, *size, style=style).size == size


def test_most_pictures_have_trusted_pdq_quality() -> None:
    qualities = [
        reference_pdq_rgb(np.asarray(neutral_image(seed, 320, 240)))[1] for seed in range(30)
    ]
    assert sum(q >= 80 for q in qualities) >= 27, qualities


def test_pictures_differ_from_each_other_in_pdq() -> None:
    hashes = [reference_pdq_rgb(np.asarray(neutral_image(s, 320, 240)))[0] for s in range(20)]
    closest = min(a.distance(b) for i, a in enumerate(hashes) for b in hashes[i + 1 :])
    assert closest > 40


def test_fast_enough_for_tests() -> None:
    neutral_image(0)  # font and plugin loading happen once
    timings = []
    for seed in range(10):
        start = time.process_time()  # CPU time: processes running beside do not count
        neutral_image(seed)
        timings.append(time.process_time() - start)
    assert statistics.median(timings) < 0.06  # ~15 ms here; generous for busy CI machines


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown style"):
        neutral_image(1, style="portrait")
    with pytest.raises(ValueError, match="positive"):
        neutral_image(1, 0, 10)


def test_web_jpeg() -> None:
    data = web_jpeg(3, 640, 360, quality=80)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size, image.mode) == ("JPEG", (640, 360), "RGB")
    assert data == web_jpeg(3, 640, 360, quality=80)
