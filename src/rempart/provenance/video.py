"""What a video file's container says about its origin: its tags and its streams' tags
(`comment`, `encoder`, QuickTime and Android make and model), read through FFmpeg without
decoding a frame, with the same allowlists as video hashing. Raises VideoTagsUnreadable;
rempart.provenance.read turns that into an `unreadable` signal."""

from __future__ import annotations

import io
import json

from rempart.hashing.video import OPEN_OPTIONS
from rempart.provenance.generators import MAX_TEXT, generator_signals
from rempart.provenance.signals import Signal
from rempart.provenance.software import camera_signal, software_signal

__all__ = ["VideoTagsUnreadable", "read_video_tags", "video_signals"]

_MAX_TAGS = 64
# Tags naming the program that wrote the file (ffmpeg's own "Lavf…" encoder informs only).
_SOFTWARE_TAGS = ("encoder", "software", "creation_tool", "com.apple.quicktime.software")
_MAKE_TAGS = ("make", "com.apple.quicktime.make", "com.android.manufacturer")
_MODEL_TAGS = ("model", "com.apple.quicktime.model", "com.android.model")
# Text tags where generator pipelines leave their parameters (ComfyUI's VideoHelperSuite
# writes {"prompt": …, "workflow": …} as JSON in `comment`).
_TEXT_TAGS = ("comment", "description", "parameters", "prompt", "workflow")


class VideoTagsUnreadable(ValueError):
    """FFmpeg could not open the container (damaged, or not a listed format)."""


def read_video_tags(data: bytes) -> dict[str, str]:
    """The container's tags, then each stream's (the container's win), lower-case keys,
    at most 64, each cut to MAX_TEXT characters."""
    import av  # heavy (FFmpeg): loaded on first use

    try:
        container = av.open(io.BytesIO(data), mode="r", options=dict(OPEN_OPTIONS))
    except Exception as exc:  # FFmpeg refuses unknown, unlisted and garbage data alike
        raise VideoTagsUnreadable(str(exc)[:200] or type(exc).__name__) from None
    tags: dict[str, str] = {}
    with container:
        sources = [container.metadata, *(s.metadata for s in container.streams)]
        for source in sources:
            for key, value in source.items():
                if len(tags) >= _MAX_TAGS:
                    break
                tags.setdefault(str(key).lower(), str(value)[:MAX_TEXT])
    return tags


def video_signals(tags: dict[str, str]) -> list[Signal]:
    """Signals from a video's tags: generator parameters, the writing program, a camera."""
    fields: dict[str, str] = {}
    for key in _TEXT_TAGS:
        value = tags.get(key)
        if not value:
            continue
        parsed = _json(value)
        if isinstance(parsed, dict):
            for inner in ("prompt", "workflow", "parameters"):
                text = parsed.get(inner)
                if isinstance(text, str):
                    fields.setdefault(inner, text)
                elif isinstance(text, dict | list):
                    fields.setdefault(inner, json.dumps(text)[:MAX_TEXT])
        fields.setdefault(key, value)
    found = generator_signals(fields)
    for key in _SOFTWARE_TAGS:
        if tags.get(key):
            signal = software_signal(tags[key], field=f"video tag {key}")
            if signal is not None and signal.points_to is not None:
                found.append(signal)
    make = next((tags[k] for k in _MAKE_TAGS if tags.get(k)), "")
    model = next((tags[k] for k in _MODEL_TAGS if tags.get(k)), "")
    camera = camera_signal(make, model, maker_note=False)
    if camera is not None:
        found.append(camera)
    return found


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
