"""What media a file holds, from its first bytes: the one sniffer every part of Rempart uses
(sources, the fetcher, intake, scans). Extensions and declared types are never trusted.

Pure: bytes in, a MIME type or None out.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SNIFF_BYTES", "is_video", "sniff_media"]

# Enough leading bytes for every signature below.
SNIFF_BYTES: Final = 512

_IMAGE_SIGNATURES: Final = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
)
_VIDEO_SIGNATURES: Final = (
    (b"FLV\x01", "video/x-flv"),
    (b"\x00\x00\x01\xba", "video/mpeg"),
    (b"\x00\x00\x01\xb3", "video/mpeg"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c", "video/x-ms-asf"),
)
# ISO base media (the `ftyp` box): still-image brands; audio-only brands are left out.
_HEIF_BRANDS: Final = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_HEIF_BRANDS: Final = {b"mif1", b"msf1"}  # HEIF of an unnamed codec
_AVIF_BRANDS: Final = {b"avif", b"avis"}
_AUDIO_BRANDS: Final = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_NOT_MEDIA_BRANDS: Final = {b"crx ", b"jp2 ", b"jpx ", b"jpm "}
# Old QuickTime files start straight with one of these atoms, without `ftyp`.
_QUICKTIME_ATOMS: Final = {b"moov", b"mdat", b"wide", b"pnot"}
_BMP_HEADER_SIZES: Final = {12, 16, 40, 52, 56, 64, 108, 124}


def sniff_media(head: bytes) -> str | None:
    """The MIME type of an image or video file from its first bytes (SNIFF_BYTES is
    enough), or None when it is neither. Extensions and declared types are never trusted."""
    for magic, mime in _IMAGE_SIGNATURES + _VIDEO_SIGNATURES:
        if head.startswith(magic):
            return mime
    return _sniff_containers(head) or _sniff_streams(head)


def _sniff_containers(head: bytes) -> str | None:
    if head[:4] == b"RIFF":
        return {b"WEBP": "image/webp", b"AVI ": "video/x-msvideo"}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _iso_media_type(head)
    if head[4:8] in _QUICKTIME_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith(b"OggS"):
        return "video/ogg" if b"theora" in head[:128] else None
    if head.startswith(b"BM") and len(head) >= 18:
        return "image/bmp" if int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES else None
    return None


def _iso_media_type(head: bytes) -> str | None:
    """HEIF/AVIF pictures, MP4/QuickTime/3GP videos and M4A audio share the ISO box format:
    the `ftyp` box's major and compatible brands tell them apart."""
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    box_end = min(size if 16 <= size <= 256 else 32, len(head))
    brands = {major, *(head[i : i + 4] for i in range(16, box_end - 3, 4))}
    if major in _AUDIO_BRANDS or major in _NOT_MEDIA_BRANDS:
        return None
    if brands & _AVIF_BRANDS:
        return "image/avif"
    if brands & _HEIF_BRANDS:
        return "image/heic"
    if brands & _GENERIC_HEIF_BRANDS:
        return "image/heif"
    if major == b"qt  ":
        return "video/quicktime"
    if major[:3] in (b"3gp", b"3g2"):
        return "video/3gpp"
    return "video/mp4"


def _sniff_streams(head: bytes) -> str | None:
    """MPEG transport streams: a sync byte every 188 bytes (192 in Blu-ray's M2TS)."""
    for packet, start in ((188, 0), (192, 4)):
        if len(head) > start + 2 * packet and all(
            head[start + k * packet] == 0x47 for k in range(3)
        ):
            return "video/mp2t"
    return None


def is_video(head: bytes) -> bool:
    return (sniff_media(head) or "").startswith("video/")
