"""Helpers shared by the hashing tests (imported by name: tests/ has no packages).

Encoding generated pictures, and the reference hash.
The reference is ThreatExchange's C++ PDQ through the pdqhash binding, fed the way most
tools feed it: Pillow decode, EXIF transpose, convert("RGB").
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pdqhash
import pillow_heif
from PIL import Image, ImageOps

from rempart.hashing.signals import PdqHash

pillow_heif.register_heif_opener()


def encode_image(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def reference_pdq(data: bytes) -> tuple[PdqHash, int]:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    return reference_pdq_rgb(np.asarray(image.convert("RGB")))


def reference_pdq_rgb(rgb: np.ndarray) -> tuple[PdqHash, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return PdqHash(np.packbits(bits.astype(np.uint8)).tobytes()), int(quality)


def rgb_luma(rgb: np.ndarray) -> np.ndarray:
    """The luma the reference binding computes from RGB (float64 arithmetic, float32 out)."""
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)
