"""Provenance: what a file says about its origin (C2PA Content Credentials, IPTC/XMP source
types, generator metadata (also hidden in the alpha channel, NovelAI's signature checked
offline), EXIF software and camera, open watermarks) and a verdict that never overclaims.
Pure: bytes in, values out; no network, no database, never stores media.
"""

from __future__ import annotations

from rempart.provenance.read import MAX_BYTES, read_provenance
from rempart.provenance.signals import Provenance, Signal, Verdict, judge

__all__ = ["MAX_BYTES", "Provenance", "Signal", "Verdict", "judge", "read_provenance"]
