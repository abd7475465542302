"""PDQ arithmetic: the C kernel and pdq.py against the reference, bit for bit."""

from __future__ import annotations

import threading

import numpy as np
import pdqhash
import pytest
from hashing_support import reference_pdq_rgb, rgb_luma
from PIL import Image, ImageFilter

from rempart.hashing import _pdqcore
from rempart.hashing.pdq import pdq_dihedral_from_luma, pdq_from_luma
from rempart.hashing.signals import Dihedral, PdqHash
from rempart.samples import neutral_image

# ------------------------------------------------------------- a literal port of the reference


def _box_1d(values: np.ndarray, window: int) -> np.ndarray:
    """ThreatExchange box1DFloat, phase by phase, along the last axis."""
    n = values.shape[-1]
    half = (window + 2) // 2
    out = np.empty_like(values)
    for o in range(n):
        lo, hi = max(0, o - (window - half)), min(n - 1, o + half - 1)
        out[..., o] = values[..., lo : hi + 1].mean(axis=-1)
    return out


def _reference_downsample(luma: np.ndarray) -> np.ndarray:
    rows, cols = luma.shape
    along_rows, along_cols = (cols + 127) // 128, (rows + 127) // 128
    buffer = luma.astype(np.float64)
    for _ in range(2):
        buffer = _box_1d(buffer, along_rows)
        buffer = _box_1d(buffer.T, along_cols).T
    sample_rows = [int((i + 0.5) * rows / 64) for i in range(64)]
    sample_cols = [int((j + 0.5) * cols / 64) for j in range(64)]
    return buffer[np.ix_(sample_rows, sample_cols)]


def _smooth_rgb(seed: int, height: int, width: int) -> np.ndarray:
    """Random colours, blurred so that coefficients are not all close to the median."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    blurred = Image.fromarray(noise).filter(ImageFilter.GaussianBlur(max(1, width // 60)))
    return np.asarray(blurred)


SHAPES = [(1, 1), (1, 9), (3, 5), (5, 5), (7, 300), (64, 64), (65, 127), (129, 257), (480, 640)]


@pytest.mark.parametrize(("height", "width"), SHAPES)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_downsample_matches_the_literal_four_pass_filter(
    height: int, width: int, dtype: type
) -> None:
    luma = np.random.default_rng(height * width).integers(0, 256, (height, width)).astype(dtype)
    np.testing.assert_allclose(
        _pdqcore.downsample64(luma), _reference_downsample(luma), rtol=0, atol=2e-3
    )


@pytest.mark.parametrize(
    ("height", "width"),
    [(5, 5), (6, 9), (64, 64), (100, 37), (37, 370), (480, 640), (1080, 1920), (2500, 1400)],
)
def test_hash_and_quality_equal_the_reference(height: int, width: int) -> None:
    rgb = _smooth_rgb(height + width, height, width)
    expected, expected_quality = reference_pdq_rgb(rgb)
    signal = pdq_from_luma(rgb_luma(rgb))
    assert signal.quality == expected_quality
    assert signal.hash.distance(expected) <= 2
    coefficients, _ = _pdqcore.dct16(rgb_luma(rgb))
    reference_floats, _ = pdqhash.compute_float(rgb)
    np.testing.assert_allclose(coefficients.ravel()[::-1], reference_floats, atol=1e-2)


def test_most_hashes_are_bit_identical_to_the_reference() -> None:
    distances = []
    for seed in range(24):
        rgb = np.asarray(neutral_image(seed, 160 + 37 * seed, 120 + 23 * seed))
        distances.append(pdq_from_luma(rgb_luma(rgb)).hash.distance(reference_pdq_rgb(rgb)[0]))
    assert distances.count(0) >= 20, distances
    assert max(distances) <= 2, distances


def test_threshold_is_the_lower_median_so_half_the_bits_are_set() -> None:
    rgb = np.asarray(neutral_image(3, 300, 200))
    assert pdq_from_luma(rgb_luma(rgb)).hash.ones == 128


def test_hex_prints_bit_255_first_like_the_reference() -> None:
    rgb = np.asarray(neutral_image(5, 200, 150))
    bits, _ = pdqhash.compute(rgb)  # element 0 is bit 255
    text = "".join(str(int(b)) for b in bits)
    expected = f"{int(text, 2):064x}"
    assert pdq_from_luma(rgb_luma(rgb)).hash == PdqHash.from_hex(expected)


def test_uint8_grey_and_float_luma_give_the_same_hash() -> None:
    grey = np.asarray(neutral_image(7, 320, 240).convert("L"))
    assert pdq_from_luma(grey) == pdq_from_luma(grey.astype(np.float32))
    assert pdq_from_luma(grey) == pdq_from_luma(grey.astype(np.int64))


def test_non_contiguous_input_is_accepted() -> None:
    grey = np.asarray(neutral_image(8, 320, 240).convert("L"))
    assert pdq_from_luma(grey[:, ::-1]) == pdq_from_luma(np.ascontiguousarray(grey[:, ::-1]))


@pytest.mark.parametrize(("height", "width"), [(1, 1), (3, 5), (4, 400), (400, 4)])
def test_images_under_5_pixels_on_a_side_have_quality_0(height: int, width: int) -> None:
    # The reference refuses them (all-zero hash); we hash them but mark them untrusted.
    luma = np.random.default_rng(0).integers(0, 256, (height, width)).astype(np.uint8)
    assert pdq_from_luma(luma).quality == 0
    assert all(signal.quality == 0 for signal in pdq_dihedral_from_luma(luma).values())


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3)), np.zeros(16), np.zeros((0, 4)), np.array([["a"]])]
)
def test_malformed_luma_is_a_programming_error(bad: np.ndarray) -> None:
    with pytest.raises((ValueError, TypeError)):
        pdq_from_luma(bad)


def test_nan_luma_is_refused() -> None:
    luma = np.full((32, 32), 10.0, dtype=np.float32)
    luma[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pdq_from_luma(luma)


def test_kernel_checks_its_input() -> None:
    with pytest.raises(TypeError):
        _pdqcore.dct16(np.zeros((8, 8), dtype=np.float64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="C-contiguous"):
        _pdqcore.dct16(np.zeros((8, 8), dtype=np.uint8)[:, ::2])
    with pytest.raises(TypeError):
        _pdqcore.dct16([[1, 2], [3, 4]])  # type: ignore[arg-type]


def test_kernel_runs_in_parallel_threads_with_the_same_results() -> None:
    images = [np.asarray(neutral_image(s, 640, 480).convert("L")) for s in range(4)]
    expected = [pdq_from_luma(image) for image in images]
    results: dict[int, object] = {}

    def work(k: int) -> None:
        for _ in range(5):
            results[k] = pdq_from_luma(images[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[k] for k in range(4)] == expected


# ---------------------------------------------------------------------------------- dihedral

TRANSFORMS = {
    Dihedral.ORIGINAL: lambda a: a,
    Dihedral.ROTATE_90: lambda a: np.rot90(a, 1),
    Dihedral.ROTATE_180: lambda a: np.rot90(a, 2),
    Dihedral.ROTATE_270: lambda a: np.rot90(a, 3),
    Dihedral.FLIP_X: lambda a: a[::-1],
    Dihedral.FLIP_Y: lambda a: a[:, ::-1],
    Dihedral.FLIP_PLUS_1: lambda a: np.swapaxes(a, 0, 1),
    Dihedral.FLIP_MINUS_1: lambda a: np.swapaxes(np.rot90(a, 2), 0, 1),
}


def test_transforms_follow_the_reference_dihedral_order() -> None:
    """Pins what each Dihedral name means, using the reference's own dihedral output on a
    size where its sign-flip shortcut is exact."""
    rgb = _smooth_rgb(11, 257, 263)
    reference_variants, _ = pdqhash.compute_dihedral(rgb)
    for variant, bits in zip(Dihedral, reference_variants, strict=True):
        transformed = np.ascontiguousarray(TRANSFORMS[variant](rgb))
        assert reference_pdq_rgb(transformed)[0] == PdqHash(np.packbits(bits).tobytes())


@pytest.mark.parametrize(("height", "width"), [(480, 640), (1000, 100), (263, 257), (5, 7)])
def test_each_variant_equals_the_reference_hash_of_the_transformed_image(
    height: int, width: int
) -> None:
    rgb = np.asarray(neutral_image(height, width, height))
    variants = pdq_dihedral_from_luma(rgb_luma(rgb))
    assert list(variants) == list(Dihedral)
    for variant, signal in variants.items():
        transformed = np.ascontiguousarray(TRANSFORMS[variant](rgb))
        expected, quality = reference_pdq_rgb(transformed)
        assert signal.hash.distance(expected) <= 2, variant
        assert signal.quality == quality, variant


def test_variants_are_close_to_the_reference_dihedral_shortcut() -> None:
    # The reference derives variants by flipping DCT signs; with an asymmetric sampling grid
    # (even sizes) that drifts a little from hashing the transformed image, which we do.
    rgb = np.asarray(neutral_image(2, 640, 480))
    reference_variants, _ = pdqhash.compute_dihedral(rgb)
    ours = pdq_dihedral_from_luma(rgb_luma(rgb))
    for variant, bits in zip(Dihedral, reference_variants, strict=True):
        assert ours[variant].hash.distance(PdqHash(np.packbits(bits).tobytes())) <= 24


def test_original_variant_is_the_plain_hash() -> None:
    grey = np.asarray(neutral_image(4, 500, 300).convert("L"))
    assert pdq_dihedral_from_luma(grey)[Dihedral.ORIGINAL] == pdq_from_luma(grey)
