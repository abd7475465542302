"""vPDQ files: one video's frame hashes, one line per sampled frame, as Meta's vPDQ writes
and reads them: `frame_number,quality,pdq_hex,timestamp_seconds` (e.g.
`30,100,d3d8…0e,1.000`). Rempart writes the sample's index as the frame number (one sample a
second by default, as vPDQ); readers match on the hashes and timestamps. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rempart.errors import InputError, InvalidHash
from rempart.hashing.signals import PdqHash

__all__ = ["VPDQ_LINE", "VideoFrame", "format_vpdq", "parse_vpdq"]

VPDQ_LINE = re.compile(r"\s*\d{1,9}\s*,\s*\d{1,3}\s*,\s*[0-9a-fA-F]{64}\s*,\s*[0-9.]+\s*")
MAX_FRAMES = 200_000  # more than two days at one sample a second


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One sampled frame of a video: its PDQ hash and quality, and when it is shown."""

    at_s: float
    pdq: PdqHash
    quality: int


def parse_vpdq(text: str) -> tuple[list[VideoFrame], list[tuple[int, InputError]]]:
    """The frames of a vPDQ file, in time order, and each bad line (number, why)."""
    frames: list[VideoFrame] = []
    problems: list[tuple[int, InputError]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(frames) >= MAX_FRAMES:
            problems.append(
                (number, InputError("more than {limit} frames in one video", limit=MAX_FRAMES))
            )
            break
        if not VPDQ_LINE.fullmatch(line):
            problems.append(
                (number, InputError("a vPDQ line is frame_number,quality,pdq_hex,timestamp"))
            )
            continue
        _, quality_text, hex_text, time_text = (part.strip() for part in line.split(","))
        try:
            at_s = float(time_text)
            pdq = PdqHash.from_hex(hex_text)
        except (ValueError, InvalidHash) as exc:
            why = exc if isinstance(exc, InvalidHash) else InputError("bad timestamp")
            problems.append((number, why))
            continue
        quality = int(quality_text)
        if not math.isfinite(at_s) or not 0 <= quality <= 100:
            problems.append((number, InputError("quality must be a whole number from 0 to 100")))
            continue
        frames.append(VideoFrame(at_s, pdq, quality))
    frames.sort(key=lambda f: f.at_s)
    return frames, problems


def format_vpdq(frames: Iterable[VideoFrame]) -> str:
    """A vPDQ file of `frames` (in time order)."""
    ordered = sorted(frames, key=lambda f: f.at_s)
    return "".join(
        f"{index},{f.quality},{f.pdq.hex},{f.at_s:.3f}\n" for index, f in enumerate(ordered)
    )
