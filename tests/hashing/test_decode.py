"""Decoding: every bad input is an ImageDecodeError with a useful message; awkward but valid
inputs (CMYK, 16-bit, palette, alpha, animation, EXIF orientation) decode as they should."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
from hashing_support import encode_image, reference_pdq
from PIL import Image, ImageFile

from rempart.errors import ImageDecodeError
from rempart.hashing import decode_luma, hash_image_bytes, pdq_from_luma
from rempart.samples import neutral_image, web_jpeg

# ------------------------------------------------------------------------------ bad inputs


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png(width: int, height: int, pixels: bytes = b"", bit_depth: int = 8) -> bytes:
    """A PNG written by hand, so its header can claim any size."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(pixels, 9))
        + _png_chunk(b"IEND", b"")
    )


def _bilevel_png(width: int, height: int) -> bytes:
    """A black 1-bit PNG: a few kilobytes that expand to width x height pixels."""
    row = b"\x00" * (1 + (width + 7) // 8)
    return _png(width, height, row * height, bit_depth=1)


def _picture(fmt: str) -> bytes:
    return encode_image(neutral_image(1, 200, 150), fmt)


BAD_INPUTS = {
    "zero bytes": (b"", "empty file"),
    "random bytes": (np.random.default_rng(0).bytes(4000), "not an image"),
    "text file": (b"Dear diary, nothing to see here.\n" * 40, "not an image"),
    "unsupported format (ICO)": (_picture("ICO"), "not in a supported format"),
    "unsupported format (EPS header)": (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n",
        "not",
    ),
    "truncated JPEG": (_picture("JPEG")[:3000], "truncated JPEG data"),
    "JPEG cut inside its header": (_picture("JPEG")[:200], "truncated JPEG data"),
    "truncated PNG": (_picture("PNG")[:20000], "truncated PNG data"),
    "PNG signature only": (_picture("PNG")[:8], "corrupt or truncated PNG header"),
    "truncated GIF": (_picture("GIF")[:4000], "truncated GIF data"),
    "truncated TIFF": (_picture("TIFF")[:5000], "truncated TIFF data"),
    "truncated BMP": (_picture("BMP")[:5000], "truncated BMP data"),
    "truncated WebP": (_picture("WEBP")[:500], "WebP data"),
    "truncated HEIF": (_picture("HEIF")[:400], "HEIF/HEIC"),
    "truncated AVIF": (_picture("AVIF")[:400], "AVIF"),
    "PNG header claiming 100000x100000": (_png(100_000, 100_000), "megapixel limit"),
    "decompression bomb (10000x10000 in 12 kB)": (
        _bilevel_png(10_000, 10_000),
        "10000×10000 pixels, above the 89.5 megapixel limit",
    ),
    "side above 30000 pixels": (_bilevel_png(40_000, 10), "above the 30000 pixel limit"),
}


@pytest.mark.parametrize(("data", "message"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_an_image_decode_error_saying_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ImageDecodeError, match=message) as caught:
        hash_image_bytes(data)
    text = str(caught.value)
    assert "\n" not in text and " at 0x" not in text and len(text) < 200
    assert caught.value.__cause__ is None  # library exceptions do not leak as causes


def test_our_pixel_limit_holds_even_when_pillow_s_is_disabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ImageDecodeError, match="above the 100 megapixel limit"):
        hash_image_bytes(_bilevel_png(10_001, 10_000))


def test_truncated_images_are_refused_even_if_pillow_was_told_to_fill_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImageDecodeError, match="LOAD_TRUNCATED_IMAGES"):
        hash_image_bytes(_picture("JPEG"))


# --------------------------------------------------------------------- awkward valid inputs


def _distance_to_reference(data: bytes) -> int:
    return hash_image_bytes(data).pdq.hash.distance(reference_pdq(data)[0])


def test_cmyk_jpeg_matches_the_reference() -> None:
    data = encode_image(neutral_image(2, 400, 300).convert("CMYK"), "JPEG", quality=90)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert _distance_to_reference(data) <= 10


def test_grey_jpeg_is_its_own_luma() -> None:
    data = encode_image(neutral_image(3, 400, 300).convert("L"), "JPEG")
    assert _distance_to_reference(data) <= 2


@pytest.mark.parametrize("mode", ["P", "LA", "RGBA", "L", "1"])
def test_palette_alpha_and_grey_pngs_match_the_reference(mode: str) -> None:
    image = neutral_image(4, 400, 300)
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
        image.info["transparency"] = 0  # palette entry 0 is transparent
    elif mode in ("LA", "RGBA"):
        alpha = Image.linear_gradient("L").resize(image.size)
        image = image.convert(mode[0] if mode != "RGBA" else "RGB")
        image.putalpha(alpha)
    else:
        image = image.convert(mode)
    data = encode_image(image, "PNG")
    assert _distance_to_reference(data) <= 2  # alpha is dropped, as convert("RGB") does


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    grey = np.asarray(neutral_image(5, 400, 300).convert("L")).astype(np.uint16)
    data = encode_image(Image.fromarray(grey * 257), "PNG")  # full 16-bit range
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    hashes = hash_image_bytes(data)
    eight_bit = pdq_from_luma(grey.astype(np.uint8))
    assert hashes.pdq.hash.distance(eight_bit.hash) <= 2
    assert abs(hashes.pdq.quality - eight_bit.quality) <= 3
    # Pillow's own convert("RGB") clips to white: the reference sees a blank image.
    assert reference_pdq(data)[1] == 0


def test_big_endian_16_bit_tiff_is_scaled() -> None:
    grey = np.asarray(neutral_image(15, 300, 200).convert("L")).astype(np.uint16)
    image = Image.frombytes("I;16B", (300, 200), (grey * 257).astype(">u2").tobytes())
    data = encode_image(image, "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "I;16B"
    ours, eight_bit = hash_image_bytes(data).pdq, pdq_from_luma(grey.astype(np.float32))
    assert ours.hash.distance(eight_bit.hash) <= 2
    assert abs(ours.quality - eight_bit.quality) <= 1


@pytest.mark.parametrize("mode", ["I", "F"])
def test_32_bit_integer_and_float_tiffs_are_scaled(mode: str) -> None:
    grey = np.asarray(neutral_image(6, 300, 200).convert("L"))
    values = grey.astype(np.int32) * 200 - 9000 if mode == "I" else grey / np.float32(255)
    data = encode_image(
        Image.fromarray(values.astype(np.float32 if mode == "F" else np.int32)), "TIFF"
    )
    assert Image.open(io.BytesIO(data)).mode == mode
    assert hash_image_bytes(data).pdq.hash.distance(pdq_from_luma(grey).hash) <= 4


def test_animated_gif_hashes_its_first_frame_and_reports_the_frames() -> None:
    frames = [neutral_image(seed, 200, 150) for seed in (7, 8, 9)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    data = buffer.getvalue()
    hashes = hash_image_bytes(data)
    assert (hashes.format, hashes.animated, hashes.frames) == ("GIF", True, 3)
    assert hashes.pdq.hash == reference_pdq(data)[0]
    second = hash_image_bytes(encode_image(frames[1], "GIF")).pdq.hash
    assert hashes.pdq.hash.distance(second) > 40


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_other_animations_report_their_frames(fmt: str) -> None:
    frames = [neutral_image(seed, 120, 90) for seed in (1, 2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100)
    hashes = hash_image_bytes(buffer.getvalue())
    assert (hashes.animated, hashes.frames) == (True, 2)


def test_still_images_are_one_frame() -> None:
    hashes = hash_image_bytes(_picture("PNG"))
    assert (hashes.animated, hashes.frames) == (False, 1)


def test_multi_picture_jpeg_is_read_as_jpeg() -> None:
    buffer = io.BytesIO()
    first = neutral_image(10, 300, 200)
    first.save(buffer, "MPO", save_all=True, append_images=[neutral_image(11, 300, 200)])
    hashes = hash_image_bytes(buffer.getvalue())
    assert (hashes.format, hashes.frames) == ("MPO", 2)
    assert hashes.pdq.hash.distance(reference_pdq(buffer.getvalue())[0]) <= 10


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_to_pixels_and_size(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode_image(neutral_image(12, 400, 300), "JPEG", exif=exif.tobytes())
    hashes = hash_image_bytes(data)
    expected_size = (300, 400) if orientation >= 5 else (400, 300)
    assert (hashes.width, hashes.height) == expected_size
    assert hashes.pdq.hash.distance(reference_pdq(data)[0]) <= 10


def test_broken_exif_does_not_cost_the_image() -> None:
    image = neutral_image(13, 300, 200)
    data = encode_image(image, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    assert hash_image_bytes(data).width == 300


def test_decoded_luma_is_the_jpeg_y_plane() -> None:
    data = encode_image(neutral_image(14, 320, 240), "JPEG")
    decoded = decode_luma(data)
    assert decoded.luma.dtype == np.uint8 and decoded.luma.shape == (240, 320)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    # Same signal up to the rounding of the R, G and B values the reference goes through.
    assert np.abs(decoded.luma - luma).mean() < 1.0


def test_fast_path_decodes_fewer_pixels_and_stays_close() -> None:
    data = web_jpeg(1)
    fast = decode_luma(data, fast=True)
    assert fast.luma.shape == (540, 960)
    assert (fast.width, fast.height) == (1920, 1080)
    assert hash_image_bytes(data, fast=True).pdq.hash.distance(reference_pdq(data)[0]) <= 16


def test_fast_has_no_effect_on_other_formats() -> None:
    data = _picture("PNG")
    assert hash_image_bytes(data, fast=True) == hash_image_bytes(data)


def test_decoding_leaves_no_warnings_behind(recwarn: pytest.WarningsRecorder) -> None:
    hash_image_bytes(encode_image(neutral_image(1, 50, 40), "TIFF")[:-10] + os.urandom(10))
    assert len(recwarn) == 0
