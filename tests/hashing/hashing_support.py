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
from hypothesis import strategies as st
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


def mutate(draw: st.DrawFn, original: bytes) -> bytes:
    """A valid file with one to eight random edits (bit flips, set bytes, cuts, insertions,
    deletions), so fuzzing reaches past the signatures into the decoders."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        at = draw(st.integers(0, len(data) - 1)) if data else 0
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)
