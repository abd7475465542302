"""Value types for the signals Rempart computes and exchanges: PDQ hashes and file digests.

Pure and immutable; parsing happens here, at the edge, so the rest of the code never sees a raw
hex string. Must not do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar

from rempart.errors import InvalidHash

__all__ = [
    "PDQ_BITS",
    "Digest",
    "Dihedral",
    "LoneDigest",
    "PdqHash",
    "PdqSignal",
    "pickled_by_fields",
]

PDQ_BITS = 256
_PDQ_BYTES = PDQ_BITS // 8
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_T = TypeVar("_T")
# A hash with fewer set (or unset) bits than this carries no image information: PDQ thresholds
# at the median, so a real hash has about 128 ones. Shared lists have held all-zero "hashes".
_MIN_MINORITY_BITS = 16


def pickled_by_fields(cls: type[_T]) -> type[_T]:
    """Decorate a frozen dataclass (above @dataclass) to pickle as a call to the class with
    its fields' values, in order: a scan's hash workers send each picture's some 75 hashes,
    windows and features back to the scan process pickled (rempart.jobs.scan), and
    dataclasses' own pickling (each object's state set field by field through a Python
    __setstate__) cost both sides 1.4 to 2 times the CPU (docs/benchmarks.md). Unpickling
    runs the class's __init__ and checks; pickle is only ever read from our own processes."""
    names = tuple(field.name for field in fields(cls))  # type: ignore[arg-type]
    if any(not field.init or field.kw_only for field in fields(cls)):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__}: every field must be a positional __init__ argument")
    values: Callable[[Any], Any] = attrgetter(*names)  # one name: the value, not a tuple
    if len(names) == 1:

        def by_fields(self: Any) -> tuple[type[Any], tuple[Any, ...]]:
            return type(self), (values(self),)

    else:

        def by_fields(self: Any) -> tuple[type[Any], tuple[Any, ...]]:
            return type(self), values(self)

    cls.__reduce__ = by_fields  # type: ignore[method-assign]
    return cls


class Dihedral(Enum):
    """The 8 rotations and flips of an image, in the order and names of the PDQ reference.

    Rotations turn counter-clockwise (as numpy's rot90). `flipx` turns the image upside down
    (flip about the x axis), `flipy` mirrors it left-right, `flip+1` transposes it (flip about
    the main diagonal), `flip-1` flips it about the other diagonal.
    """

    ORIGINAL = "original"
    ROTATE_90 = "rotate90"
    ROTATE_180 = "rotate180"
    ROTATE_270 = "rotate270"
    FLIP_X = "flipx"
    FLIP_Y = "flipy"
    FLIP_PLUS_1 = "flip+1"
    FLIP_MINUS_1 = "flip-1"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PdqHash:
    """A 256-bit PDQ hash. `value` holds 32 bytes in the order of the 64-hex-character form.

    The hex form is the one python-threatexchange and the PDQ reference print: the reference's
    256 bits in order, most significant first.
    """

    value: bytes

    def __post_init__(self) -> None:
        if len(self.value) != _PDQ_BYTES:
            raise InvalidHash("a PDQ hash has 32 bytes, got {size}", size=len(self.value))

    @classmethod
    def from_hex(cls, text: str) -> PdqHash:
        """Parse 64 hex characters (either case, surrounding space ignored)."""
        text = text.strip()
        if not _HEX64.fullmatch(text):
            raise InvalidHash(
                f"a PDQ hash is 64 hexadecimal characters, got {len(text)} characters"
                if len(text) != 64
                else "a PDQ hash may contain only the characters 0-9 and a-f"
            )
        return cls(bytes.fromhex(text))

    @property
    def hex(self) -> str:
        return self.value.hex()

    @property
    def ones(self) -> int:
        return int.from_bytes(self.value, "big").bit_count()

    @property
    def is_degenerate(self) -> bool:
        """True for hashes like all zeros or all ones that match far too much to be trusted."""
        ones = self.ones
        return min(ones, PDQ_BITS - ones) < _MIN_MINORITY_BITS

    def distance(self, other: PdqHash) -> int:
        """Hamming distance in bits."""
        a = int.from_bytes(self.value, "big")
        b = int.from_bytes(other.value, "big")
        return (a ^ b).bit_count()

    def __str__(self) -> str:
        return self.hex

    def __repr__(self) -> str:
        return f"PdqHash({self.hex[:12]}…)"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PdqSignal:
    """A PDQ hash with its quality (0-100); quality below 50 is not trusted for matching."""

    hash: PdqHash
    quality: int

    def __post_init__(self) -> None:
        if not 0 <= self.quality <= 100:
            raise InvalidHash("PDQ quality is 0-100, got {quality}", quality=self.quality)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Digest:
    """Exact digests of a file's bytes, lowercase hex."""

    sha256: str
    md5: str

    def __post_init__(self) -> None:
        if not _HEX64.fullmatch(self.sha256) or self.sha256 != self.sha256.lower():
            raise InvalidHash("a SHA-256 digest is 64 lowercase hexadecimal characters")
        if not _HEX32.fullmatch(self.md5) or self.md5 != self.md5.lower():
            raise InvalidHash("an MD5 digest is 32 lowercase hexadecimal characters")


@dataclass(frozen=True, slots=True)
class LoneDigest:
    """One exact digest of a file when the other is not known (a partner may keep only
    SHA-256s, or only MD5s): `algorithm` is "sha256" or "md5", `value` lowercase hex."""

    algorithm: str
    value: str

    def __post_init__(self) -> None:
        if self.algorithm == "sha256":
            Digest(self.value, "0" * 32)
        elif self.algorithm == "md5":
            Digest("0" * 64, self.value)
        else:
            raise InvalidHash("a digest is sha256 or md5")
