"""Names of programs and devices written in metadata (EXIF Software/Make/Model, XMP
CreatorTool): which are AI generators, which are editors, which are cameras. Pure."""

from __future__ import annotations

import re

from rempart.i18n import Phrase
from rempart.provenance.signals import Signal, Verdict

__all__ = ["camera_signal", "software_signal"]

_MAX = 200
# Names of AI generators, matched as whole words (case-insensitive): "imagen" must not
# match the editor plug-in maker Imagenomic, nor "roop" a word that contains it.
_AI_SOFTWARE = {
    r"ai generated": "AI generator",
    r"black forest labs": "Black Forest Labs (FLUX)",
    r"flux(?:\.1)?": "FLUX",
    r"novelai": "NovelAI",
    r"midjourney": "Midjourney",
    r"ideogram(?: ai)?": "Ideogram",
    r"dall[-·]?e(?: ?\d)?": "DALL-E",
    r"stable diffusion": "Stable Diffusion",
    r"comfyui": "ComfyUI",
    r"invokeai": "InvokeAI",
    r"fooocus": "Fooocus",
    r"adobe firefly": "Adobe Firefly",
    r"leonardo\.ai": "Leonardo.Ai",
    r"google imagen": "Google Imagen",
    r"grok": "Grok",
    r"deepfacelab": "DeepFaceLab",
    r"facefusion": "FaceFusion",
}
_AI_PATTERNS = [
    (re.compile(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", re.IGNORECASE), who)
    for pattern, who in _AI_SOFTWARE.items()
]
_EDITORS = (
    "photoshop", "lightroom", "gimp", "affinity", "pixelmator", "paint.net", "snapseed",
    "canva", "facetune", "picsart", "capture one", "darktable", "rawtherapee", "krita",
    "photopea", "luminar", "acdsee", "corel", "paintshop", "meitu", "vsco", "photoscape",
    "picasa", "windows photo editor", "fotor", "polarr", "inshot",
    "premiere", "after effects", "davinci resolve", "final cut", "imovie",
)  # fmt: skip


def _clean(value: str) -> str:
    return value.replace("\x00", "").strip()[:_MAX]


def software_signal(value: str, *, field: str) -> Signal | None:
    """What a program's name says: an AI generator, an editor, or only information."""
    name = _clean(value)
    if not name:
        return None
    lower = name.lower()
    details = {"field": field, "value": name}
    for pattern, who in _AI_PATTERNS:
        if pattern.search(name):
            return Signal(
                "software",
                Phrase("{field} names an AI generator: {name}", field=field, name=name),
                Verdict.AI_DECLARED,
                who,
                details,
            )
    if any(editor in lower for editor in _EDITORS):
        return Signal(
            "software",
            Phrase("{field} names an image editor: {name}", field=field, name=name),
            Verdict.EDITED,
            None,
            details,
        )
    return Signal(
        "software",
        Phrase("{field} names a program: {name}", field=field, name=name),
        None,
        None,
        details,
    )


def camera_signal(make: str, model: str, *, maker_note: bool) -> Signal | None:
    """EXIF Make/Model and maker notes: a photograph, unless the make is an AI company."""
    make, model = _clean(make), _clean(model)
    if not (make or model or maker_note):
        return None
    for pattern, who in _AI_PATTERNS:
        if pattern.search(f"{make} {model}"):
            return Signal(
                "software",
                Phrase("EXIF Make/Model names an AI generator: {name}", name=f"{make} {model}"),
                Verdict.AI_DECLARED,
                who,
                {"make": make, "model": model},
            )
    return Signal(
        "camera",
        Phrase(
            "EXIF names a camera: {make} {model}{notes}",
            make=make or "?",
            model=model or "?",
            notes=Phrase(" (with maker notes)") if maker_note else "",
        ),
        Verdict.CAMERA,
        None,
        {"make": make, "model": model, "maker_note": maker_note},
    )
