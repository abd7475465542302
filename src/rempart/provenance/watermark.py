"""The open DWT-DCT invisible watermark of the Stable Diffusion XL reference pipeline
(`invisible-watermark`'s dwtDct), decoded offline. Positive-only and fragile: anyone can
stamp any picture, and a re-encode erases it; a hint, never proof."""

from __future__ import annotations

import importlib.util
import io
from types import ModuleType

import numpy as np
from PIL import Image

from rempart.i18n import Phrase
from rempart.provenance.signals import Signal, Verdict

__all__ = ["MAX_WATERMARK_PIXELS", "SDXL_MARK", "decoder_available", "watermark_signals"]

# Diffusers' SD-XL mark: 48 bits.
SDXL_MARK = 0xB3EC907BB19E
_SDXL_BITS = 48
MAX_WATERMARK_PIXELS = 4096 * 4096
_MIN_PIXELS = 256 * 256


def _load_max_dct() -> ModuleType | None:
    """invisible-watermark's package imports torch on import; its dwtDct code needs only
    numpy, PyWavelets and OpenCV, so that one file is loaded on its own."""
    try:
        spec = importlib.util.find_spec("imwatermark")
    except (ImportError, ValueError):
        return None
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        return None
    path = f"{next(iter(locations))}/maxDct.py"
    file_spec = importlib.util.spec_from_file_location("rempart_imwatermark_maxdct", path)
    if file_spec is None or file_spec.loader is None:
        return None
    module = importlib.util.module_from_spec(file_spec)
    try:
        file_spec.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    return module


_MODULE: ModuleType | None = None
_LOADED = False


def _max_dct() -> ModuleType | None:
    global _MODULE, _LOADED
    if not _LOADED:
        _MODULE, _LOADED = _load_max_dct(), True
    return _MODULE


def decoder_available() -> bool:
    """Whether the dwtDct decoder can run here (invisible-watermark, PyWavelets, OpenCV)."""
    return _max_dct() is not None


def decode_bits(bgr: np.ndarray, length: int) -> np.ndarray:
    """The dwtDct bits of a BGR uint8 picture, as invisible-watermark's decoder reads them."""
    module = _max_dct()
    if module is None:
        raise RuntimeError("dwtDct decoder unavailable")
    embed = module.EmbedMaxDct(watermarks=[], wmLen=length, scales=[0, 36, 36], block=4)
    return np.asarray(embed.decode(bgr), dtype=bool)


def _bits(value: int, length: int) -> np.ndarray:
    return np.array([(value >> (length - 1 - i)) & 1 for i in range(length)], dtype=bool)


def watermark_signals(data: bytes) -> list[Signal]:
    """A signal when the SD-XL mark is found (Stability's thresholds over 48 bits: more than
    35 agreeing bits very likely, 34–35 likely, 28–33 inconclusive). Pictures too small or
    too large to carry or be searched are skipped."""
    if _max_dct() is None:
        return []
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if width * height > MAX_WATERMARK_PIXELS or width * height < _MIN_PIXELS:
            return []
        rgb = np.asarray(image.convert("RGB"))
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    bits = decode_bits(bgr, _SDXL_BITS)
    if bits.all() or not bits.any():
        return []  # a flat carrier decodes to all ones or zeros: no mark
    agree = int((bits == _bits(SDXL_MARK, _SDXL_BITS)).sum())
    details: dict[str, object] = {"mark": "sdxl", "agreeing_bits": agree, "of": _SDXL_BITS}
    if agree > 35:
        text = Phrase(
            "The Stable Diffusion XL invisible watermark is very likely present "
            "({agree} of 48 bits); anyone can add it",
            agree=agree,
        )
        return [Signal("watermark", text, Verdict.AI_SUSPECTED, "Stable Diffusion XL", details)]
    if agree > 33:
        text = Phrase(
            "The Stable Diffusion XL invisible watermark is likely present ({agree} of 48 "
            "bits); anyone can add it",
            agree=agree,
        )
        return [Signal("watermark", text, Verdict.AI_SUSPECTED, "Stable Diffusion XL", details)]
    if agree > 27:
        text = Phrase(
            "An inconclusive trace of the Stable Diffusion XL invisible watermark ({agree} of "
            "48 bits)",
            agree=agree,
        )
        return [Signal("watermark", text, None, None, details)]
    return []
