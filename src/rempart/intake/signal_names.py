"""What partners call the signals Rempart matches, and what Rempart calls them back.

python-threatexchange names signal types `pdq`, `video_md5`, `video_sha256` (and others
Rempart cannot match: `url`, `raw_text`, `trend_query`, `url_md5`); StopNCII says
`ImagePDQ`, `VideoMD5`, `VideoTMK`; HMA uses python-threatexchange's names. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["MATCHABLE", "SignalName", "pytx_name", "signal_name", "stopncii_name"]

Field = Literal["pdq", "md5", "sha256"]
Media = Literal["image", "video"]


@dataclass(frozen=True, slots=True)
class SignalName:
    """Where a partner's signal goes in a Rempart record."""

    field: Field
    media: Media


_KNOWN: dict[str, SignalName] = {
    "pdq": SignalName("pdq", "image"),
    "photopdq": SignalName("pdq", "image"),
    "imagepdq": SignalName("pdq", "image"),
    "md5": SignalName("md5", "image"),
    "photomd5": SignalName("md5", "image"),
    "imagemd5": SignalName("md5", "image"),
    "sha256": SignalName("sha256", "image"),
    "photosha256": SignalName("sha256", "image"),
    "imagesha256": SignalName("sha256", "image"),
    "videomd5": SignalName("md5", "video"),
    "vmd5": SignalName("md5", "video"),
    "videosha256": SignalName("sha256", "video"),
}
MATCHABLE = "pdq, md5, sha256, video_md5, video_sha256"
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def signal_name(name: str) -> SignalName | None:
    """The Rempart field for a partner's signal type name, or None when Rempart cannot match
    it (`url`, `raw_text`, `VideoTMK`, an unknown name)."""
    return _KNOWN.get(_NOT_ALNUM.sub("", name.lower()))


def pytx_name(field: Field, media: Media) -> str | None:
    """python-threatexchange's name for a signal; None where it has none (a photo's digests)."""
    if field == "pdq":
        return "pdq"
    return f"video_{field}" if media == "video" else None


def stopncii_name(field: Field, media: Media) -> str | None:
    """StopNCII's `signalType` for a signal; None where it has none."""
    if field == "pdq":
        return "ImagePDQ"
    return "VideoMD5" if (field, media) == ("md5", "video") else None
