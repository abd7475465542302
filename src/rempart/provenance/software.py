"""Names of programs and devices written in metadata (EXIF Software/Make/Model, XMP
CreatorTool): which are AI generators, which are editors, which are cameras. Pure."""

from __future__ import annotations

from rempart.i18n import Phrase
from rempart.provenance.signals import Signal, Verdict

__all__ = ["camera_signal", "software_signal"]

_MAX = 200
# Lower-case fragments; a name is matched when it contains one.
_AI_SOFTWARE = {
    "ai generated": "AI generator",
    "black forest labs": "Black Forest Labs (FLUX)",
    "flux": "FLUX",
    "novelai": "NovelAI",
    "midjourney": "Midjourney",
    "ideogram": "Ideogram",
    "dall-e": "DALL-E",
    "dall·e": "DALL-E",
    "stable diffusion": "Stable Diffusion",
    "comfyui": "ComfyUI",
    "invokeai": "InvokeAI",
    "fooocus": "Fooocus",
    "firefly": "Adobe Firefly",
    "leonardo.ai": "Leonardo.Ai",
    "imagen": "Google Imagen",
    "grok": "Grok",
    "deepfacelab": "DeepFaceLab",
    "faceswap": "faceswap",
    "facefusion": "FaceFusion",
    "roop": "roop",
}
_EDITORS = (
    "photoshop", "lightroom", "gimp", "affinity", "pixelmator", "paint.net", "snapseed",
    "canva", "facetune", "picsart", "capture one", "darktable", "rawtherapee", "krita",
    "photopea", "luminar", "acdsee", "corel", "paintshop", "meitu", "vsco", "photoscape",
    "picasa", "windows photo editor", "fotor", "polarr", "inshot",
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
    for fragment, who in _AI_SOFTWARE.items():
        if fragment in lower:
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
    lower = f"{make} {model}".lower()
    for fragment, who in _AI_SOFTWARE.items():
        if fragment in lower:
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
