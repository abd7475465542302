"""Hashing stage: image bytes -> PDQ hash, quality and exact digests, never keeping pixels.

Owns decoding, the PDQ computation and the signal value types. Must not import later stages
(matching, intake, store) nor do any I/O beyond reading the file it is asked to hash.

The value types load eagerly; the decoder, Pillow and the C kernel load on first use, so that
code needing only `rempart.hashing.signals` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from rempart.hashing.signals import PDQ_BITS, Digest, Dihedral, PdqHash, PdqSignal

if TYPE_CHECKING:
    from rempart.hashing.decode import (
        MAX_FILE_BYTES,
        MAX_PIXELS,
        MAX_SIDE,
        SUPPORTED_FORMATS,
        DecodedImage,
        decode_luma,
    )
    from rempart.hashing.image import (
        REGISTRATION_EXTRAS,
        ImageHashes,
        WindowHashes,
        Windows,
        hash_image_bytes,
        hash_image_file,
        hash_many,
    )
    from rempart.hashing.pdq import MIN_HASHABLE_SIDE, pdq_dihedral_from_luma, pdq_from_luma

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MIN_HASHABLE_SIDE",
    "PDQ_BITS",
    "REGISTRATION_EXTRAS",
    "SUPPORTED_FORMATS",
    "DecodedImage",
    "Digest",
    "Dihedral",
    "ImageHashes",
    "PdqHash",
    "PdqSignal",
    "WindowHashes",
    "Windows",
    "decode_luma",
    "hash_image_bytes",
    "hash_image_file",
    "hash_many",
    "pdq_dihedral_from_luma",
    "pdq_from_luma",
]

_LAZY = {
    "rempart.hashing.decode": (
        "MAX_FILE_BYTES",
        "MAX_PIXELS",
        "MAX_SIDE",
        "SUPPORTED_FORMATS",
        "DecodedImage",
        "decode_luma",
    ),
    "rempart.hashing.image": (
        "REGISTRATION_EXTRAS",
        "ImageHashes",
        "WindowHashes",
        "Windows",
        "hash_image_bytes",
        "hash_image_file",
        "hash_many",
    ),
    "rempart.hashing.pdq": ("MIN_HASHABLE_SIDE", "pdq_dihedral_from_luma", "pdq_from_luma"),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
