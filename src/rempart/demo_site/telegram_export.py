"""A Telegram Desktop export of a public channel, as "Export chat history" in JSON writes it:
result.json, photos/ and files/, with some victims' copies among neutral photos.

Owns that folder's layout and result.json's fields (date and date_unixtime, from and
from_id, photo with width and height, text as a string or a list of entities, service
messages, a photo left out of the export). Must not touch anything outside the folder.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from rempart.demo_site.content import Picture
from rempart.demo_site.media import render_altered, render_original, render_thumbnail

if TYPE_CHECKING:
    from rempart.demo_site.site import DemoSite, Sighting

__all__ = [
    "CHANNEL_ID",
    "CHANNEL_NAME",
    "CHANNEL_USERNAME",
    "NOT_INCLUDED",
    "TELEGRAM_ALTERATIONS",
    "write_telegram_export",
]

CHANNEL_NAME = "Trail & Lens Photo Swap"
CHANNEL_USERNAME = "trail_and_lens"
CHANNEL_ID = 1734529180
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
# Telegram recompresses every photo; victim image j is posted altered by entry j mod 4.
TELEGRAM_ALTERATIONS = ("recompressed", "cropped", "captioned", "resized")
_START = datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
_FROM_ID = f"channel{CHANNEL_ID}"
_CAPTIONS = (
    "Morning fog over the valley.",
    "Swap entry from the coast walk.",
    "Moss and stone, close up.",
    "",
    "Which crop do you prefer?",
    "",
)


@dataclass(frozen=True, slots=True)
class _Plan:
    kind: str  # "photo", "victim-photo", "victim-file", "missing-photo", "text", "pin"
    number: int  # distractor number, or victim index


def write_telegram_export(
    folder: str | Path, site: DemoSite, *, photos: int = 30
) -> list[Sighting]:
    """Write the channel export into `folder` (created if needed): `photos` neutral photos,
    each victim image once as a photo (altered as TELEGRAM_ALTERATIONS says) and victim 0
    once more as a file, exact. Returns where the victims' copies are, with media_url the
    path relative to `folder` and page_url the message's public t.me link."""
    from rempart.demo_site.site import Sighting

    root = Path(folder)
    (root / "photos").mkdir(parents=True, exist_ok=True)
    (root / "files").mkdir(exist_ok=True)
    writer = _ExportWriter(root, site)
    messages = writer.messages(_plans(site.seed, photos, len(site.content.victims)))
    result = {
        "name": CHANNEL_NAME,
        "type": "public_channel",
        "id": CHANNEL_ID,
        "messages": messages,
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    (root / "result.json").write_text(text + "\n", encoding="utf-8")
    return [
        Sighting(
            victim=victim,
            where="telegram",
            page_url=f"https://t.me/{CHANNEL_USERNAME}/{message_id}",
            media_url=path,
            alteration=alteration,
            embed=embed,
            post_id=str(message_id),
        )
        for victim, message_id, path, alteration, embed in writer.sightings
    ]


def _plans(seed: int, photos: int, victims: int) -> list[_Plan]:
    plans = [_Plan("photo", n) for n in range(photos)]
    plans += [_Plan("victim-photo", j) for j in range(victims)]
    plans += [_Plan("victim-file", 0), _Plan("missing-photo", 0)]
    plans += [_Plan("text", n) for n in range(max(3, photos // 5))]
    random.Random(f"rempart-demo-telegram:{seed}").shuffle(plans)
    plans.insert(len(plans) // 2, _Plan("pin", 0))
    return plans


class _ExportWriter:
    def __init__(self, root: Path, site: DemoSite) -> None:
        self.root = root
        self.site = site
        self.photo_count = 0
        self.sightings: list[tuple[int, int, str, str, str]] = []

    def messages(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        rng = random.Random(f"rempart-demo-telegram-times:{self.site.seed}")
        at = _START
        found = [_service(1, at, "create_channel", title=CHANNEL_NAME)]
        for message_id, plan in enumerate(plans, start=2):
            at += timedelta(minutes=rng.randint(40, 1300), seconds=rng.randint(0, 59))
            found.append(self._message(message_id, at, plan))
        return found

    def _message(self, message_id: int, at: datetime, plan: _Plan) -> dict[str, Any]:
        if plan.kind == "pin":
            return _service(message_id, at, "pin_message", message_id=message_id - 1)
        message = _base(message_id, at)
        if plan.kind == "text":
            message.update(_text(f"Swap round {plan.number + 1} is open.", plan.number))
            return message
        if plan.kind == "victim-file":
            message.update(self._file(message_id, at, plan.number))
            message.update(_text("", 0))
            return message
        message.update(self._photo(message_id, at, plan))
        message.update(_text(_CAPTIONS[message_id % len(_CAPTIONS)], message_id))
        if message_id % 7 == 0:
            edited = at + timedelta(minutes=3)
            message["edited"] = _local(edited)
            message["edited_unixtime"] = str(int(edited.timestamp()))
        return message

    def _photo(self, message_id: int, at: datetime, plan: _Plan) -> dict[str, Any]:
        data, alteration = self._photo_bytes(plan)
        width, height = _size(data)
        if plan.kind == "missing-photo":
            return {"photo": NOT_INCLUDED, "width": width, "height": height}
        self.photo_count += 1
        path = f"photos/photo_{self.photo_count}@{at:%d-%m-%Y_%H-%M-%S}.jpg"
        (self.root / path).write_bytes(data)
        if plan.kind == "victim-photo":
            self.sightings.append((plan.number, message_id, path, alteration, "photo"))
        return {"photo": path, "photo_file_size": len(data), "width": width, "height": height}

    def _photo_bytes(self, plan: _Plan) -> tuple[bytes, str]:
        if plan.kind == "victim-photo":
            picture = self.site.content.victims[plan.number]
            alteration = TELEGRAM_ALTERATIONS[plan.number % len(TELEGRAM_ALTERATIONS)]
            original = self.site.media.original(picture)
            return render_altered(original, alteration, picture), alteration
        seed = self.site.seed * 7919 + plan.number + (10**6 if plan.kind == "missing-photo" else 0)
        return render_original(Picture(-1, seed, 320, 240)), "exact"

    def _file(self, message_id: int, at: datetime, victim: int) -> dict[str, Any]:
        data = self.site.media.original(self.site.content.victims[victim])
        name = f"IMG_{4000 + message_id}.jpg"
        thumbnail = render_thumbnail(data)
        (self.root / "files" / name).write_bytes(data)
        (self.root / "files" / f"{name}_thumb.jpg").write_bytes(thumbnail)
        self.sightings.append((victim, message_id, f"files/{name}", "exact", "file"))
        return {
            "file": f"files/{name}",
            "file_name": name,
            "file_size": len(data),
            "thumbnail": f"files/{name}_thumb.jpg",
            "thumbnail_file_size": len(thumbnail),
            "mime_type": "image/jpeg",
        }


def _base(message_id: int, at: datetime) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "date": _local(at),
        "date_unixtime": str(int(at.timestamp())),
        "from": CHANNEL_NAME,
        "from_id": _FROM_ID,
    }


def _service(number: int, at: datetime, action: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": number,
        "type": "service",
        "date": _local(at),
        "date_unixtime": str(int(at.timestamp())),
        "actor": CHANNEL_NAME,
        "actor_id": _FROM_ID,
        "action": action,
        **fields,
        "text": "",
        "text_entities": [],
    }


def _text(sentence: str, variant: int) -> dict[str, Any]:
    """`text` as Telegram writes it: "" when empty, a plain string, or a list mixing plain
    strings and entity objects (every third message here), with `text_entities` beside."""
    if not sentence:
        return {"text": "", "text_entities": []}
    if variant % 3:
        return {"text": sentence, "text_entities": [{"type": "plain", "text": sentence}]}
    parts: list[Any] = [
        f"{sentence} ",
        {"type": "hashtag", "text": "#photoswap"},
        " rules: ",
        {"type": "text_link", "text": "pinned post", "href": f"https://t.me/{CHANNEL_USERNAME}/1"},
    ]
    entities = [p if isinstance(p, dict) else {"type": "plain", "text": p} for p in parts]
    return {"text": parts, "text_entities": entities}


def _local(moment: datetime) -> str:
    """Telegram writes local time without a zone; this export is made on a UTC machine."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size
