"""Safe decoding of untrusted image bytes into the luma array PDQ hashes, EXIF-oriented.

Owns the format allowlist, the size limits and the translation of every decoder failure into
ImageDecodeError with a one-line reason. Must not hash, keep decoded pixels, or touch files.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, UnidentifiedImageError

from rempart.errors import ImageDecodeError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "SUPPORTED_FORMATS",
    "DecodedImage",
    "decode_luma",
]

# Refused before any pixel is decoded (the header gives the size). Pillow's own bomb threshold
# (Image.MAX_IMAGE_PIXELS, 89.5 megapixels by default) is stricter and is honoured too.
MAX_PIXELS = 100_000_000
MAX_SIDE = 30_000
MAX_FILE_BYTES = 512 * 1024 * 1024

# Pillow opener names. An allowlist keeps Pillow from handing hostile bytes to rarely used
# decoders (EPS even runs Ghostscript). The JPEG opener also yields "MPO", Pillow's name for
# multi-picture JPEGs (many phone photos).
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
_DISPLAY_NAMES = {"MPO": "JPEG", "WEBP": "WebP", "HEIF": "HEIF/HEIC"}

# Same weights and float64 arithmetic as the reference's Python binding (pdqhash.compute).
_LUMA_WEIGHTS = (0.299, 0.587, 0.114)
# Pixels per chunk of the RGB -> luma conversion, so a 100-megapixel image does not need
# gigabytes of float64 temporaries.
_LUMA_CHUNK_PIXELS = 1 << 20
# Pillow modes with more than 8 bits per sample; convert("RGB") would clip them to white.
_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})

Luma = npt.NDArray[np.uint8] | npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """The first frame's luma (0-255 scale, uint8 or float32, displayed orientation).

    `width` and `height` are the displayed full-resolution size, even when the fast path
    decoded fewer pixels. `frames` counts the frames Pillow could walk (animation, pages,
    multi-picture JPEG); only the first is decoded.
    """

    luma: Luma
    width: int
    height: int
    format: str
    frames: int
    # The luma python-threatexchange and HMA hash (raw pixels: no EXIF orientation, palette
    # indices as grey, CMYK's first three channels as RGB), where it is not `luma`.
    partner_luma: Luma | None = None

    @property
    def animated(self) -> bool:
        return self.frames > 1


def decode_luma(data: bytes, *, fast: bool = False) -> DecodedImage:
    """Decode `data` to luma. Raises ImageDecodeError, and nothing else, for bad input.

    `fast=True` lets JPEG decode at half scale (libjpeg's DCT scaling): cheaper, at the cost
    of a few bits of drift from the reference hash. Other formats ignore it.
    Not thread-safe: it scopes the process-wide warnings filters while decoding.
    """
    if not data:
        raise ImageDecodeError("empty file (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise ImageDecodeError(
            "file is {size} MiB, above the {limit} MiB limit",
            size=f"{len(data) / 2**20:.0f}",
            limit=MAX_FILE_BYTES >> 20,
        )
    _register_heif()
    # Pillow reports oversize images with a DecompressionBombWarning; recording warnings lets
    # us turn it into a refusal that names the size, and keeps EXIF chatter off stderr.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = _open(data)
        with image:
            _check_size(image, bomb_warned=_bomb_warned(caught))
            return _decode_opened(image, fast, caught)


def _decode_opened(
    image: ImageFile.ImageFile, fast: bool, caught: list[warnings.WarningMessage]
) -> DecodedImage:
    name = _DISPLAY_NAMES.get(str(image.format), str(image.format))
    try:
        luma, (width, height) = _first_frame_luma(image, fast)
        orientation = _orientation(image)
        partner = _partner_luma(image, luma, orientation)
        frames = _count_frames(image)
    except ImageDecodeError:
        raise
    except Exception as exc:  # decoders raise anything from OSError to struct.error
        raise _failure(exc, name) from None
    if _bomb_warned(caught):
        _check_size(image, bomb_warned=True)
    if orientation in (5, 6, 7, 8):  # these orientations swap width and height
        width, height = height, width
    return DecodedImage(
        luma=_orient(luma, orientation),
        width=width,
        height=height,
        format=str(image.format),
        frames=frames,
        partner_luma=partner,
    )


# --------------------------------------------------------------------------- open and limits


@functools.cache
def _register_heif() -> None:
    """HEIF/HEIC comes from pillow-heif; done on first use so importing Rempart stays inert.

    AVIF needs nothing: Pillow decodes it natively (pillow-heif 1.x dropped AVIF).
    """
    import pillow_heif

    pillow_heif.register_heif_opener()


def _open(data: bytes) -> ImageFile.ImageFile:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Someone enabled Pillow's "fill in missing data" mode; a half-grey image would still
        # hash, silently wrong. Refuse rather than hash garbage.
        raise ImageDecodeError("refusing to decode: Pillow's LOAD_TRUNCATED_IMAGES is enabled")
    try:
        return Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _bomb_error(str(exc)) from None
    except UnidentifiedImageError:
        sniffed = _sniff(data)
        if sniffed is None:
            raise ImageDecodeError(
                "not an image, or not in a supported format (JPEG, PNG, WebP, GIF, BMP, "
                "TIFF, HEIF/HEIC, AVIF)"
            ) from None
        # The signature says what it is, but Pillow could not read the header behind it.
        raise ImageDecodeError("corrupt or truncated {format} header", format=sniffed) from None
    except Exception as exc:  # a recognised header that the plugin then failed to parse
        raise _failure(exc, _sniff(data) or "image") from None


# Leading bytes of each supported format, to name it in messages when Pillow cannot.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_HEIF_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    b"heic": "HEIF/HEIC",
    b"heix": "HEIF/HEIC",
    b"mif1": "HEIF/HEIC",
    b"msf1": "HEIF/HEIC",
    b"hevc": "HEIF/HEIC",
}


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(data[8:12])
    return next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)


def _pixel_limit() -> int:
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return MAX_PIXELS if pillow_limit is None else min(MAX_PIXELS, int(pillow_limit))


def _megapixels(pixels: float) -> str:
    return f"{round(pixels / 1e6, 1):g}"


def _check_size(image: Image.Image, *, bomb_warned: bool) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageDecodeError(
            "image is {width}×{height} pixels: it has no pixels", width=width, height=height
        )
    if max(width, height) > MAX_SIDE:
        raise ImageDecodeError(
            "image is {width}×{height} pixels, above the {limit} pixel limit on a side",
            width=width,
            height=height,
            limit=MAX_SIDE,
        )
    if bomb_warned or width * height > _pixel_limit():
        raise ImageDecodeError(
            "image is {width}×{height} pixels, above the {limit} megapixel limit",
            width=width,
            height=height,
            limit=_megapixels(_pixel_limit()),
        )


def _bomb_warned(caught: list[warnings.WarningMessage]) -> bool:
    return any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught)


def _bomb_error(text: str) -> ImageDecodeError:
    """Pillow's DecompressionBombError comes before we see the size; it states the pixels."""
    found = re.search(r"\((\d+) pixels\)", text)
    limit = _megapixels(_pixel_limit())
    if found is None:
        return ImageDecodeError(
            "image is too large, above the {limit} megapixel limit", limit=limit
        )
    return ImageDecodeError(
        "image is {size} megapixels, above the {limit} megapixel limit",
        size=_megapixels(int(found.group(1))),
        limit=limit,
    )


# -------------------------------------------------------------------------------- decoding


def _first_frame_luma(image: ImageFile.ImageFile, fast: bool) -> tuple[Luma, tuple[int, int]]:
    """Luma of the first frame as stored, and the frame's full-resolution size. The size is
    read after decoding because Pillow's TIFF decoder applies the EXIF orientation itself."""
    if image.format in ("JPEG", "MPO") and image.mode in ("RGB", "L"):
        full_size = image.size  # the fast draft shrinks image.size
        _draft_luma(image, fast)
        return _luma(image), full_size  # grey if the draft applied, RGB if Pillow declined
    image.load()
    return _luma(image), image.size


def _luma(image: Image.Image) -> Luma:
    if image.mode == "L":
        # Grey values are the reference's luma exactly (0.299 + 0.587 + 0.114 = 1).
        return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    if image.mode in _HIGH_DEPTH_MODES:
        return _high_depth_luma(np.asarray(image), image.mode)
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # drops alpha, as reference
    return _rgb_luma(np.asarray(rgb, dtype=np.uint8))


def _partner_luma(image: Image.Image, luma: Luma, orientation: int) -> Luma | None:
    """The luma other tools hash from this picture's raw pixels, where it differs from ours:
    python-threatexchange and HMA hand Pillow's array to pdqhash as it is, so a palette
    picture's indices count as grey levels, a CMYK picture's C, M and Y as R, G and B, and
    the EXIF orientation is not applied (the reference hasher and Rempart apply it)."""
    if image.mode == "P":
        return np.asarray(image, dtype=np.float32)
    if image.mode == "CMYK":
        return _rgb_luma(np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[..., :3]))
    return luma if orientation != 1 else None


def _draft_luma(image: ImageFile.ImageFile, fast: bool) -> None:
    """Ask libjpeg for the Y plane only: JPEG's Y is 0.299R + 0.587G + 0.114B already, so
    this skips chroma upsampling and colour conversion and agrees with the reference's luma
    to within rounding. With `fast`, also let libjpeg scale by 1/2 inside the IDCT."""
    width, height = image.size
    target = (max(1, width // 2), max(1, height // 2)) if fast else (width, height)
    image.draft("L", target)


def _rgb_luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    height, width = rgb.shape[:2]
    luma = np.empty((height, width), dtype=np.float32)
    rows = max(1, _LUMA_CHUNK_PIXELS // width)
    red, green, blue = _LUMA_WEIGHTS
    for top in range(0, height, rows):
        block = rgb[top : top + rows]
        luma[top : top + rows] = block[..., 0] * red + block[..., 1] * green + block[..., 2] * blue
    return luma


def _high_depth_luma(values: npt.NDArray[np.generic], mode: str) -> npt.NDArray[np.float32]:
    """Scale 16-bit, 32-bit integer and float greys to 0-255 (Pillow would clip to 255)."""
    samples = values.astype(np.float32)
    if not np.isfinite(samples).all():
        finite = samples[np.isfinite(samples)]
        fill = float(finite.min()) if finite.size else 0.0
        samples = np.nan_to_num(samples, nan=fill, posinf=fill, neginf=fill)
    low, high = float(samples.min()), float(samples.max())
    if mode.startswith("I;16"):
        full_scale = 65535.0
    elif low >= 0 and high <= 1.0 and mode == "F":
        full_scale = 1.0  # float images in [0, 1]
    elif low >= 0 and high <= 255:
        full_scale = 255.0
    elif low >= 0 and high <= 65535:
        full_scale = 65535.0  # e.g. a 16-bit PNG or TIFF read as 32-bit "I"
    else:
        # Arbitrary range (signed or very wide): stretch it; PDQ bits depend only on ordering
        # of DCT coefficients, so only the quality figure depends on this choice.
        span = max(high - low, 1e-6)
        return np.ascontiguousarray((samples - low) * np.float32(255.0 / span), np.float32)
    return np.ascontiguousarray(samples * np.float32(255.0 / full_scale), np.float32)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag, read after load() as ImageOps.exif_transpose does (TIFF and
    HEIF decoders apply it themselves and clear it). Unreadable EXIF means upright."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not cost us an otherwise good image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# ImageOps.exif_transpose's table, as array operations (np.rot90 turns counter-clockwise,
# like Image.Transpose.ROTATE_90).
_ORIENT: dict[int, Callable[[Luma], Luma]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.T,
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].T,
    8: lambda a: np.rot90(a, 1),
}


def _orient(luma: Luma, orientation: int) -> Luma:
    transform = _ORIENT.get(orientation)
    if transform is None:
        return luma
    return transform(luma).copy(order="C")  # the kernel needs C order


def _count_frames(image: Image.Image) -> int:
    """Frames Pillow can walk. Called after the first frame is decoded, since walking moves
    the decoder; a broken later frame ends the count instead of failing the image."""
    try:
        return max(1, int(getattr(image, "n_frames", 1)))
    except Exception:
        return max(1, image.tell() + 1)


# ---------------------------------------------------------------------------- error reasons

# Decoder messages that say nothing to a person (libwebp's, for any damage at all).
_UNINFORMATIVE = frozenset({"could not create decoder object"})
_OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


def _failure(exc: BaseException, name: str) -> ImageDecodeError:
    """One line a person can act on, from whatever a decoder raised."""
    if isinstance(exc, Image.DecompressionBombError):
        return _bomb_error(str(exc))
    if isinstance(exc, MemoryError):
        return ImageDecodeError("not enough memory to decode this {format}", format=name)
    reason = _OBJECT_REPR.sub("data", str(exc)).strip().splitlines()
    text = reason[0][:160] if reason else type(exc).__name__
    if isinstance(exc, EOFError) or "truncated" in text.lower():
        return ImageDecodeError(
            "truncated {format} data (the file ends before the image does)", format=name
        )
    if text in _UNINFORMATIVE:
        return ImageDecodeError("corrupt or truncated {format} data", format=name)
    return ImageDecodeError("corrupt {format} data: {reason}", format=name, reason=text)
