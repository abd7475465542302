"""Matching: exact Hamming range search over PDQ codes (`index`) and the bank matcher on top.

Imports nothing heavy at package import: the matcher service is imported from its module.
"""

from rempart.matching.index import (
    CODE_BYTES,
    DEFAULT_RADIUS,
    BruteForceIndex,
    HammingIndex,
    MultiIndex,
    SearchResult,
)

__all__ = [
    "CODE_BYTES",
    "DEFAULT_RADIUS",
    "BruteForceIndex",
    "HammingIndex",
    "MultiIndex",
    "SearchResult",
]
