"""The offline page's kernel (intake/page/kernel.c), built natively here, computes what the
CLI computes: the same luma, PDQ bits and quality, smoothed crops, block means and digests.
The browser tests check the WebAssembly build of the same file end to end."""

from __future__ import annotations

import ctypes
import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rempart.hashing import windows as window_search
from rempart.hashing.pdq import pdq_from_luma
from rempart.samples import neutral_image

KERNEL = Path(__file__).parents[2] / "src" / "rempart" / "intake" / "page" / "kernel.c"


def _pdq(kernel: ctypes.CDLL, luma: np.ndarray, box: tuple[int, int, int, int]) -> tuple[str, int]:
    """The kernel's PDQ of a window, read in place (rows a whole image's width apart)."""
    left, top, right, bottom = box
    whole = np.ascontiguousarray(luma, dtype=np.float32)
    from_corner = whole.ravel()[top * whole.shape[1] + left :]
    out = ctypes.create_string_buffer(32)
    quality = kernel.k_pdq(from_corner, bottom - top, right - left, whole.shape[1], out)
    return out.raw.hex(), quality


def _luma(kernel: ctypes.CDLL, rgb: np.ndarray) -> np.ndarray:
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    out = np.empty(rgb.shape[:2], np.float32)
    kernel.k_luma(rgba.tobytes(), out, rgb.shape[0] * rgb.shape[1], 0)
    bgrx = np.dstack([rgb[..., ::-1], np.zeros(rgb.shape[:2], np.uint8)])
    same = np.empty(rgb.shape[:2], np.float32)
    kernel.k_luma(bgrx.tobytes(), same, rgb.shape[0] * rgb.shape[1], 1)
    assert np.array_equal(out, same)  # WebCodecs' BGRX order gives the same luma
    return out


@pytest.mark.parametrize("seed", range(6))
def test_kernel_luma_and_pdq_equal_the_cli_bit_for_bit(kernel: ctypes.CDLL, seed: int) -> None:
    rgb = np.asarray(neutral_image(seed, 301 + 37 * seed, 257 + 11 * seed), dtype=np.uint8)
    luma = _luma(kernel, rgb)
    weights = (0.299, 0.587, 0.114)
    expected = rgb[..., 0] * weights[0] + rgb[..., 1] * weights[1] + rgb[..., 2] * weights[2]
    assert np.array_equal(luma, expected.astype(np.float32))
    plain = [w for w in window_search.registration_crops(luma) if not w.smooth]
    for window in (*window_search.grid_windows(luma), *plain):
        theirs = pdq_from_luma(window.crop(luma))
        assert _pdq(kernel, luma, window.box) == (theirs.hash.hex, theirs.quality), window.label


@pytest.mark.parametrize("seed", range(4))
def test_kernel_smoothed_crops_equal_the_cli(kernel: ctypes.CDLL, seed: int) -> None:
    rgb = np.asarray(neutral_image(seed, 1200 + 100 * seed, 900), dtype=np.uint8)
    luma = _luma(kernel, rgb)
    factor = max(1, -(-max(luma.shape) // 512))
    rows, cols = luma.shape[0] // factor, luma.shape[1] // factor
    reduced = np.empty((rows, cols), np.float32)
    kernel.k_block_mean(luma, luma.shape[0], luma.shape[1], factor, reduced)
    crops = [w for w in window_search.registration_crops(luma) if w.smooth]
    expected = list(window_search.window_pixels(luma, crops))
    for window, theirs in zip(crops, expected, strict=True):
        left, top, right, bottom = (v / factor for v in window.box)
        out = np.empty((64, 64), np.float32)
        assert kernel.k_resize(reduced, cols, rows, left, top, right, bottom, 64, out) == 0
        assert np.allclose(out, theirs, atol=0.02), window.label
        assert _pdq(kernel, out, (0, 0, 64, 64))[0] == pdq_from_luma(theirs).hash.hex
    boxes = np.array([[v / factor for v in w.box] for w in crops], dtype=np.float32)
    boxes[:, :2] = np.maximum(boxes[:, :2], 0)
    many = np.empty((len(crops), 64, 64), np.float32)
    assert kernel.k_resize_many(reduced, cols, rows, len(crops), boxes.ravel(), 64, many) == 0
    for k, (left, top, right, bottom) in enumerate(boxes.tolist()):
        one = np.empty((64, 64), np.float32)
        kernel.k_resize(reduced, cols, rows, left, top, right, bottom, 64, one)
        assert np.array_equal(many[k], one)  # shared passes, the same numbers


# Landscape, portrait, square, tiny (fewer pixels than cells), extreme and 12 MP pictures.
COARSE_SIZES = [(640, 480), (480, 640), (301, 257), (257, 401), (512, 512), (1000, 333)]
COARSE_SIZES += [(7, 5), (5, 9), (13, 200), (300, 11), (4000, 3000)]


@pytest.mark.parametrize(("width", "height"), COARSE_SIZES)
def test_kernel_coarse_grids_are_the_ones_bank_add_registers(
    kernel: ctypes.CDLL, width: int, height: int
) -> None:
    """mosaic_windows(registering=True), hashed as bank add hashes them (REGISTRATION_EXTRAS:
    the coarse view's PDQ, original orientation): the kernel's views are Pillow's BOX then
    BICUBIC to within 1e-4 luma levels and their hashes and qualities are the same. Pillow 13
    runs the vertical pass first for some shapes (no rule found; a float32 rounding apart:
    1.5e-5 to 3e-5 here). Measured on 600 views of 150 pictures of 3-1500 pixels a side: the
    views 3.1e-5 apart at most, the hashes equal but for 5 views of two pictures 36 and 350
    times taller than wide (2-10 bits: such a view has many DCT coefficients near its
    median)."""
    from rempart.hashing import REGISTRATION_EXTRAS, hash_image_bytes

    rgb = np.asarray(neutral_image(width + height, width, height), dtype=np.uint8)
    luma = _luma(kernel, rgb)
    grids = window_search.mosaic_windows(luma, registering=True)
    assert [w.label for w in grids] == ["6", "8", "11", "16"]
    for window in grids:
        out = np.empty((64, 64), np.float32)
        assert kernel.k_coarse(luma, width, height, window.grid, out) == 0
        theirs = window.crop(luma)
        assert np.abs(out - theirs).max() <= 1e-4, window.label
        expected = pdq_from_luma(theirs)
        assert _pdq(kernel, out, (0, 0, 64, 64)) == (expected.hash.hex, expected.quality)
    if width * height > 1_000_000:
        return
    # bank add's own path (the decoded file's luma, every registration extra) stores the same
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    hashes = hash_image_bytes(buffer.getvalue(), windows=REGISTRATION_EXTRAS)
    registered = {
        w.window.label: w.variants[0] for w in hashes.windows if w.window.kind == "mosaic"
    }
    assert sorted(registered, key=int) == ["6", "8", "11", "16"]
    for window in grids:
        out = np.empty((64, 64), np.float32)
        kernel.k_coarse(luma, width, height, window.grid, out)
        signal = registered[window.label]
        assert _pdq(kernel, out, (0, 0, 64, 64)) == (signal.hash.hex, signal.quality)


def test_kernel_coarse_grid_of_an_absurd_shape_is_refused_not_allocated(
    kernel: ctypes.CDLL,
) -> None:
    luma = np.zeros((1, 1), np.float32)
    out = np.empty((64, 64), np.float32)
    assert kernel.k_coarse(luma, 1, 1, 0, out) == -1
    tall = np.zeros((200_000, 1), np.float32)  # 16 cells across: 3.2 million down
    assert kernel.k_coarse(tall, 1, 200_000, 16, out) == -1


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_000])
def test_kernel_digests_equal_hashlib_fed_in_pieces(kernel: ctypes.CDLL, size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    for kind, expected in ((0, hashlib.md5(data).digest()), (1, hashlib.sha256(data).digest())):
        context = kernel.k_digest_new(kind)
        for start in range(0, size, 777):
            kernel.k_digest_update(context, data[start : start + 777], len(data[start:][:777]))
        out = ctypes.create_string_buffer(32)
        kernel.k_digest_end(context, out)
        assert out.raw[: len(expected)] == expected


@pytest.mark.parametrize("orientation", range(1, 9))
def test_kernel_turns_a_shown_picture_back_as_stored(kernel: ctypes.CDLL, orientation: int) -> None:
    from rempart.hashing.decode import _orient

    stored = np.random.default_rng(orientation).random((7, 12), dtype=np.float32)
    shown = np.ascontiguousarray(_orient(stored, orientation), dtype=np.float32)
    back = np.empty_like(stored)
    kernel.k_unorient(shown, shown.shape[0], shown.shape[1], orientation, back)
    assert np.array_equal(back, stored)
    turned = np.empty_like(shown)
    kernel.k_orient(stored, shown.shape[0], shown.shape[1], orientation, turned)
    assert np.array_equal(turned, shown)


# The emcc that built the committed kernel.wasm (build-kernel.sh): another version may
# emit other bytes for the same source.
BUILT_WITH = "emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.6"


def test_committed_wasm_is_the_build_of_this_source(tmp_path: Path) -> None:
    emcc = shutil.which("emcc")
    if emcc is None:
        pytest.skip("no emscripten (apt-get install emscripten)")
    version = subprocess.run([emcc, "--version"], capture_output=True, text=True, check=True)
    if not version.stdout.startswith(BUILT_WITH):
        pytest.skip(f"another emcc: {version.stdout.splitlines()[0]}")
    rebuilt = tmp_path / "kernel.wasm"
    subprocess.run(["sh", str(KERNEL.parent / "build-kernel.sh"), str(rebuilt)], check=True)
    assert rebuilt.read_bytes() == (KERNEL.parent / "kernel.wasm").read_bytes(), (
        "kernel.wasm is stale: run src/rempart/intake/page/build-kernel.sh and commit it"
    )
