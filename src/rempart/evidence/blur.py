"""Small, strongly blurred pictures of untrusted media: enough for a caseworker to tell which
capture is which (layout, colours), never enough to see anything intimate.

Owns the blur strength and the thumbnail encoding. Pure: no files, no network, and every bad
input leaves as ImageDecodeError (the review CLI and the complaint dossier both rely on it).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageFile, ImageFilter, ImageOps

from rempart.errors import ImageDecodeError
from rempart.hashing.decode import SUPPORTED_FORMATS, decode_luma

__all__ = ["BLUR_FRACTION", "blur_sigma", "blurred", "thumbnail_png"]

# The Gaussian's standard deviation, as a fraction of the thumbnail's longer side. A Gaussian
# of deviation s keeps exp(-2 pi^2 s^2 / p^2) of the contrast of a pattern of period p. With
# s = side / 12: anything smaller than a sixth of the picture (a face, a body part, text) keeps
# under 1% of its contrast, a quarter of the picture 11%, while the halves and thirds that make
# the composition keep 58% and more, and the average colours are untouched. The fraction is
# relative so a thumbnail looks equally blurred whatever size it is drawn at.
BLUR_FRACTION = 1 / 12
_MIN_SIGMA = 1.0

# Pillow modes with more than 8 bits per sample: convert("RGB") would clip them to white.
_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


def blur_sigma(width: int, height: int) -> float:
    """The blur's standard deviation in pixels for a thumbnail of this size."""
    return max(_MIN_SIGMA, max(width, height) * BLUR_FRACTION)


def blurred(data: bytes, *, max_side: int = 256) -> Image.Image:
    """`data` decoded, upright, shrunk to at most `max_side` pixels a side and strongly
    blurred, as an RGB image. Raises ImageDecodeError for anything that is not a safe image."""
    picture = _downscaled(data, max_side)
    return picture.filter(ImageFilter.GaussianBlur(blur_sigma(*picture.size)))


def thumbnail_png(data: bytes, *, max_side: int = 256, blur: bool = True) -> bytes:
    """A PNG thumbnail of `data`: blurred unless the caseworker asked to see it (`blur=False`).
    Raises ImageDecodeError for anything that is not a safe image."""
    picture = blurred(data, max_side=max_side) if blur else _downscaled(data, max_side)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")  # no metadata: the same bytes for the same input
    return buffer.getvalue()


def _downscaled(data: bytes, max_side: int) -> Image.Image:
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    # The hashing decoder vets the bytes first (format allowlist, size and bomb limits,
    # truncation, LOAD_TRUNCATED_IMAGES); it only yields luma, so the colours are decoded
    # below, from bytes already known to be a safe image of a sane size.
    decode_luma(data, fast=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EXIF chatter; the size was checked above
            with Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS) as image:
                return _shrink(image, max_side)
    except ImageDecodeError:
        raise
    except Exception as exc:  # decoders raise anything from OSError to struct.error
        raise ImageDecodeError(
            "cannot decode the picture's colours: {problem}", problem=str(exc)
        ) from None


def _shrink(image: ImageFile.ImageFile, max_side: int) -> Image.Image:
    if image.format in ("JPEG", "MPO"):
        # libjpeg scales by up to 1/8 inside the IDCT, never below the requested size.
        image.draft(image.mode, (max_side, max_side))
    image.load()
    rgb = _rgb(_upright(image))
    # LANCZOS averages the detail away before the blur rather than aliasing it.
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return rgb


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not cost us an otherwise good picture
        return image


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode in _HIGH_DEPTH_MODES:
        samples = np.nan_to_num(np.asarray(image, dtype=np.float32))
        low, high = float(samples.min()), float(samples.max())
        scaled = (samples - low) * (255.0 / max(high - low, 1e-6))
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if image.mode == "RGB":
        return image.copy()
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Transparent areas show as white, as a browser on a white page would show them.
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(backdrop, rgba).convert("RGB")
    return image.convert("RGB")
