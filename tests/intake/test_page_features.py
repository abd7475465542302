"""The offline page's local features (intake/page/orb.h, in kernel.c), built natively here, are
the ones `rempart bank add` stores: the same keypoints, angles, levels, descriptors and check
points, byte for byte, as extract_features(luma, checks=True).to_bytes() with the installed
OpenCV. Measured on 45 generated pictures (every style, scaled by whole and fractional
factors, not scaled, too small, pages with a masked background): all 45 blobs identical, so
the tests ask for identity. The one place OpenCV's result depends on the processor, its 7 x 7
blur (fused multiply-adds in its AVX2 build), the page follows today's x86 processors; without
them it would differ in a rare descriptor bit (one in 13,000 keypoints before it did).
The browser tests run the WebAssembly build of the same file."""

from __future__ import annotations

import base64
import ctypes
import importlib.util
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw

from rempart.hashing.features import (
    MAX_FEATURES,
    WINDOW_LIMIT,
    LocalFeatures,
    _off_page,
    extract_features,
    extract_window_features,
    window_boxes,
)
from rempart.intake.hashfile import _window_features
from rempart.samples import STYLES, neutral_image

PAGE = Path(__file__).parents[2] / "src" / "rempart" / "intake" / "page"


def _luma(picture: Image.Image) -> npt.NDArray[np.float32]:
    """The CLI's luma (decode.py): float64 arithmetic stored as float32."""
    rgb = np.asarray(picture.convert("RGB"), np.float64)
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.ascontiguousarray(luma, np.float32)


def _page_features(
    kernel: ctypes.CDLL,
    luma: npt.NDArray[np.float32],
    cap: int = 0,
    *,
    checks: int = 1,
    limit: int = MAX_FEATURES,
) -> bytes:
    cap = cap or kernel.k_features_max()
    out = ctypes.create_string_buffer(cap)
    length = kernel.k_features(luma, luma.shape[1], luma.shape[0], checks, limit, out, cap)
    assert length > 0, length
    return out.raw[:length]


def _page_windows(kernel: ctypes.CDLL, luma: npt.NDArray[np.float32]) -> list[str]:
    """What page.js sends as an item's `windows`: each window's features, base64."""
    height, width = luma.shape
    return [
        base64.b64encode(
            _page_features(
                kernel,
                np.ascontiguousarray(luma[top : top + h, left : left + w]),
                checks=0,
                limit=WINDOW_LIMIT,
            )
        ).decode("ascii")
        for left, top, w, h in window_boxes(width, height)
    ]


def _web_page(seed: int) -> Image.Image:
    """A picture shown on a white page among lines of text: the CLI masks the page out."""
    page = Image.new("RGB", (700, 900), (255, 255, 255))
    page.paste(neutral_image(seed, 400, 300), (150, 250))
    draw = ImageDraw.Draw(page)
    for line in range(12):
        right = 60 + 40 * (line % 7 + 5)
        draw.rectangle((60, 600 + 22 * line, right, 610 + 22 * line), fill=(30, 30, 30))
    return page


# (width, height): scaled by fractional factors (the area resampling's general case), by 2
# and 3 (its two whole-factor paths), not scaled, and too small for any keypoint
SIZES = [(640, 480), (1024, 768), (1536, 1152), (512, 512), (300, 700), (2048, 1365)]
SIZES += [(4000, 3000), (777, 555), (100, 80), (50, 50)]


@pytest.mark.parametrize("seed", range(20))
def test_page_features_are_the_cli_features_byte_for_byte(kernel: ctypes.CDLL, seed: int) -> None:
    width, height = SIZES[seed % len(SIZES)]
    luma = _luma(neutral_image(seed, width, height, style=STYLES[seed % len(STYLES)]))
    cli = extract_features(luma, checks=True)
    ours = _page_features(kernel, luma)
    assert ours == cli.to_bytes()
    if min(width, height) >= 300:
        read = LocalFeatures.from_bytes(ours)
        # not an empty agreement: keypoints at every angle and several levels, check points
        assert len(read) >= 30 and read.octaves is not None and read.angles is not None
        assert len(set(read.octaves.tolist())) >= 3 and np.ptp(read.angles) > 180
        assert read.check_points is not None and len(read.check_points) > 0


@pytest.mark.parametrize("seed", range(3))
def test_on_a_page_the_same_background_is_masked_out(kernel: ctypes.CDLL, seed: int) -> None:
    import cv2

    luma = _luma(_web_page(seed))
    scaled = extract_features(luma)
    size = (scaled.width, scaled.height)
    grey = cv2.resize(luma.astype(np.uint8), size, interpolation=cv2.INTER_AREA)
    assert _off_page(grey) is not None  # the case this test is about
    assert _page_features(kernel, luma) == extract_features(luma, checks=True).to_bytes()


@pytest.mark.parametrize("seed", range(8))
def test_page_window_keypoints_are_bank_adds(kernel: ctypes.CDLL, seed: int) -> None:
    """The windows' features the page sends, merged by the server, are the window keypoints
    `bank add` registers: the same points, descriptors and order, byte for byte stored."""
    width, height = SIZES[seed % len(SIZES)]
    luma = _luma(neutral_image(seed, width, height, style=STYLES[seed % len(STYLES)]))
    whole = extract_features(luma, checks=True)
    points, descriptors = extract_window_features(luma)
    cli = replace(whole, window_points=points, window_descriptors=descriptors)
    page = _window_features(
        LocalFeatures.from_bytes(_page_features(kernel, luma)),
        _page_windows(kernel, luma),
        width,
        height,
    )
    assert page.to_bytes() == cli.to_bytes()
    if min(width, height) >= 300:
        # not an empty agreement: windows found keypoints, and overlapping ones the same
        assert len(points) >= 30
        found = sum(
            len(LocalFeatures.from_bytes(base64.b64decode(b))) for b in _page_windows(kernel, luma)
        )
        assert len(points) < found


def test_too_small_a_buffer_is_refused_not_overrun(kernel: ctypes.CDLL) -> None:
    luma = _luma(neutral_image(7, 640, 480))
    needed = len(_page_features(kernel, luma))
    out = ctypes.create_string_buffer(needed - 1)
    assert kernel.k_features(luma, 640, 480, 1, MAX_FEATURES, out, needed - 1) == -2


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_orb_pattern", PAGE / "make_orb_pattern.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sampling_pattern_is_the_installed_opencvs() -> None:
    """orb_pattern.h is what make_orb_pattern.py derives from cv2 (found in its binary and
    checked on ramps against cv2's ORB): regenerated here, it is the same table."""
    import cv2

    generator = _generator()
    committed = (PAGE / "orb_pattern.h").read_text()
    table = committed.split("ORB_PATTERN[ORB_PAIRS][4] = {", 1)[1]
    assert generator.header(generator.derive(cv2), "any").endswith(table)
