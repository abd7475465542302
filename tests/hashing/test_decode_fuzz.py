"""Fuzzing: whatever bytes come in, hash_image_bytes returns hashes or raises
ImageDecodeError, never any other exception."""

from __future__ import annotations

import functools

from hashing_support import encode_image, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import ImageDecodeError
from rempart.hashing import ImageHashes, hash_image_bytes
from rempart.samples import neutral_image

FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def _seed_file(fmt: str) -> bytes:
    """Small valid files to mutate, so mutations reach past the format signatures."""
    image = neutral_image(FORMATS.index(fmt), 48, 32)
    options = {"exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08"} if fmt in ("JPEG", "WEBP") else {}
    return encode_image(image, fmt, **options)


def _hash_or_refuse(data: bytes) -> None:
    try:
        result = hash_image_bytes(data, dihedral=True)
    except ImageDecodeError as error:
        message = str(error)
    else:
        assert isinstance(result, ImageHashes)
        return
    assert message and "\n" not in message


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    return mutate(draw, _seed_file(draw(st.sampled_from(FORMATS))))


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _hash_or_refuse(data)


@FUZZ
@given(st.sampled_from(FORMATS), st.binary(max_size=256))
def test_valid_signature_followed_by_garbage(fmt: str, tail: bytes) -> None:
    _hash_or_refuse(_seed_file(fmt)[:32] + tail)


@settings(FUZZ, max_examples=400)
@given(_mutated())
def test_mutated_images(data: bytes) -> None:
    _hash_or_refuse(data)
