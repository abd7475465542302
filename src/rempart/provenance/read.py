"""Reading every provenance signal of one file's bytes (a picture's or a video's) and judging
them. Bounded: files over MAX_BYTES are not read, pixels are decoded only where they may hold
something (MAX_PIXELS at most); each reader's failure becomes an `unreadable` signal, never a
crash. No network: C2PA remote manifests and OCSP are not fetched."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from rempart.hashing.sniff import SNIFF_BYTES, is_video
from rempart.i18n import Phrase
from rempart.provenance.container import Metadata, MetadataUnreadable, read_metadata
from rempart.provenance.credentials import c2pa_signals, may_hold_manifest
from rempart.provenance.generators import generator_signals
from rempart.provenance.novelai import Signature, check_signature
from rempart.provenance.signals import Provenance, Signal, Verdict, judge
from rempart.provenance.software import camera_signal, software_signal
from rempart.provenance.stealth import hidden_fields, hidden_text, png_may_hide_text
from rempart.provenance.video import read_video_tags, video_signals
from rempart.provenance.watermark import watermark_signals
from rempart.provenance.xmp import find_packets, xmp_signals

__all__ = ["MAX_BYTES", "MAX_PIXELS", "read_provenance"]

MAX_BYTES = 256 * 1024 * 1024
# Text hidden in the alpha channel and NovelAI's signature need the pixels: above this many,
# they are not decoded (a 50-megapixel RGBA picture is 200 MB in memory).
MAX_PIXELS = 50_000_000
_ALPHA_MODES = ("RGBA", "LA")
_MAX_WHY = 200


def _unreadable(part: Phrase, exc: BaseException) -> Signal:
    why = str(exc).replace("\n", " ")[:_MAX_WHY] or type(exc).__name__
    return Signal(
        "unreadable",
        Phrase("{part} could not be read: {why}", part=part, why=why),
        None,
        None,
        {"part": str(part), "error": type(exc).__name__},
    )


def _guarded(part: Phrase, read: Callable[[], list[Signal]]) -> list[Signal]:
    """Run one reader; a hostile file may break any parser in any way, so every exception
    (not only the documented ones) becomes a reported signal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return read()
    except Exception as exc:
        return [_unreadable(part, exc)]


class _Pixels:
    """A picture's pixels, decoded at most once and only when asked (bounded)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._image: Image.Image | None = None
        self._rgb: bytes | None = None

    def image(self) -> Image.Image:
        if self._image is None:
            image = Image.open(io.BytesIO(self._data))
            if image.width * image.height > MAX_PIXELS:
                raise MetadataUnreadable(
                    f"picture of {image.width}x{image.height} pixels: too large to decode"
                )
            image.load()
            self._image = image
        return self._image

    def verify(self, comment: str) -> str:
        """NovelAI's signature of `comment` over these pixels; `unverified` when they
        cannot be decoded (the metadata's own signals stay)."""
        try:
            if self._rgb is None:
                self._rgb = self.image().convert("RGB").tobytes()
        except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            return Signature.UNVERIFIED.value
        return check_signature(self._rgb, comment).value


def _hidden_signals(pixels: _Pixels) -> list[Signal]:
    """Generator metadata hidden in the alpha channel's low bits (stealth pnginfo)."""
    image = pixels.image()
    if image.mode not in _ALPHA_MODES:
        return []
    text = hidden_text(np.asarray(image.getchannel("A")))
    if text is None:
        return []
    found = generator_signals(hidden_fields(text), verify=pixels.verify, hidden=True)
    if found:
        return found
    return [
        Signal(
            "generator",
            Phrase(
                "Text hidden in the alpha channel in the format AI image generators use "
                "(stealth pnginfo), naming no known generator"
            ),
            Verdict.AI_SUSPECTED,
            None,
            {"where": "alpha channel"},
        )
    ]


def _may_hide(meta: Metadata, data: bytes) -> bool:
    """Whether the alpha channel is worth decoding: a PNG or WebP with alpha, and for an
    8-bit RGBA PNG only when its first column starts with the hidden-text magic."""
    if meta.format not in ("PNG", "WEBP") or meta.mode not in _ALPHA_MODES:
        return False
    return png_may_hide_text(data) is not False


def _metadata_signals(meta: Metadata, pixels: _Pixels | None = None) -> list[Signal]:
    found = generator_signals(meta.text, verify=pixels.verify if pixels else None)
    if meta.software:
        signal = software_signal(meta.software, field="EXIF Software")
        if signal is not None and not (
            signal.points_to is Verdict.AI_DECLARED and any(s.kind == "generator" for s in found)
        ):
            found.append(signal)
    if meta.description.startswith("Signature:"):
        found.append(
            Signal(
                "software",
                Phrase("EXIF ImageDescription carries a generator's signature line (Grok)"),
                Verdict.AI_DECLARED,
                "Grok",
                {"field": "EXIF ImageDescription", "value": meta.description[:_MAX_WHY]},
            )
        )
    camera = camera_signal(meta.make, meta.model, maker_note=meta.maker_note)
    if camera is not None:
        found.append(camera)
    if meta.deepfacelab:
        found.append(
            Signal(
                "generator",
                Phrase("A JPEG APP15 segment as DeepFaceLab face sets carry (not opened)"),
                Verdict.AI_SUSPECTED,
                "DeepFaceLab",
                {"tool": "DeepFaceLab"},
            )
        )
    return found


def _container(data: bytes) -> list[Signal]:
    try:
        meta = read_metadata(data)
    except UnidentifiedImageError:
        return []  # not a picture: XMP and C2PA are still looked for in the raw bytes
    except MetadataUnreadable as exc:
        return [_unreadable(Phrase("The picture's metadata"), exc)]
    pixels = _Pixels(data)
    found = _metadata_signals(meta, pixels)
    if _may_hide(meta, data):
        found += _guarded(Phrase("The alpha channel"), lambda: _hidden_signals(pixels))
    return found


def _xmp(data: bytes) -> list[Signal]:
    found: list[Signal] = []
    for packet in find_packets(data):
        found.extend(xmp_signals(packet))
    return found


def _watermark(data: bytes) -> list[Signal]:
    try:
        return watermark_signals(data)
    except UnidentifiedImageError:
        return []


def read_provenance(data: bytes, *, watermark: bool = True) -> Provenance:
    """Every signal `data` carries, and the verdict they support."""
    if len(data) > MAX_BYTES:
        too_big = Signal(
            "unreadable",
            Phrase("The file is larger than {limit} MiB: not read", limit=MAX_BYTES >> 20),
        )
        return judge([too_big])
    signals: list[Signal] = []
    if is_video(data[:SNIFF_BYTES]):
        signals += _guarded(
            Phrase("The video's tags"), lambda: video_signals(read_video_tags(data))
        )
    else:
        signals += _guarded(Phrase("The picture's metadata"), lambda: _container(data))
    signals += _guarded(Phrase("The XMP metadata"), lambda: _xmp(data))
    if may_hold_manifest(data):
        signals += _guarded(Phrase("The Content Credentials"), lambda: c2pa_signals(data))
    if watermark:
        signals += _guarded(Phrase("The invisible watermark"), lambda: _watermark(data))
    return judge(_deduplicated(signals))


def _deduplicated(signals: list[Signal]) -> list[Signal]:
    seen: set[tuple[str, str]] = set()
    out: list[Signal] = []
    for s in signals:
        key = (s.kind, str(s.description))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
