"""The made-up words of the demo site: board names, member handles, thread titles, post text.

Owns neutral hobby-photography text (landscapes, textures, gear) drawn from a given random
generator. Must not hold anything about people beyond invented handles, nor read any file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "BOARDS",
    "CAPTIONS",
    "HANDLES",
    "BoardWording",
    "caption",
    "image_post_text",
    "reply_text",
    "slugify",
    "text_thread_title",
    "thread_title",
]


@dataclass(frozen=True, slots=True)
class BoardWording:
    slug: str
    name: str
    description: str
    shows_photos: bool


BOARDS = (
    BoardWording("announcements", "Announcements", "News and rules from the moderators.", False),
    BoardWording("landscapes", "Landscapes & Travel", "Hills, coasts, skies and long roads.", True),
    BoardWording(
        "macro-textures", "Macro & Textures", "Bark, stone, fabric, frost: up close.", True
    ),
    BoardWording("critique", "Critique Corner", "Post a picture, get honest feedback.", True),
    BoardWording("gear-talk", "Gear Talk", "Lenses, tripods, bags and filters.", True),
    BoardWording("lounge", "The Lounge", "Off-topic chat between photo walks.", False),
)

_FIRST = (
    "amber",
    "quiet",
    "misty",
    "copper",
    "granite",
    "mossy",
    "salt",
    "north",
    "slow",
    "tidal",
    "foggy",
    "sunny",
    "pine",
    "rusty",
    "velvet",
    "lunar",
)
_SECOND = (
    "heron",
    "lens",
    "ridge",
    "shutter",
    "harbour",
    "fern",
    "kestrel",
    "tripod",
    "meadow",
    "lantern",
    "pebble",
    "aperture",
)
# Handles only: invented words and numbers, never names of people.
HANDLES = tuple(
    f"{first}_{second}" if (i + j) % 3 else f"{first}{second}{(i * 7 + j * 3) % 90 + 10}"
    for i, first in enumerate(_FIRST)
    for j, second in enumerate(_SECOND)
    if (i * 5 + j) % 4 == 0
)

_PLACES = (
    "the old harbour",
    "the river path",
    "the granite quarry",
    "the beech wood",
    "the salt marsh",
    "the hill fort",
    "the lighthouse",
    "the canal locks",
    "the botanical garden",
    "the dunes",
    "the mountain pass",
    "the lake shore",
)
_TIMES = ("at dawn", "at golden hour", "after the rain", "in the fog", "at dusk", "at noon")
_SUBJECTS = (
    "lichen on a wall",
    "frost on leaves",
    "old paint layers",
    "tree bark",
    "a pebble beach",
    "rusty hinges",
    "a woven basket",
    "ripples on sand",
)
_GEAR = ("a 50mm prime", "an old zoom", "a travel tripod", "a polariser", "a phone camera")
_TITLE_PATTERNS = (
    "{place} {time}",
    "Walk along {place}",
    "Close-up: {subject}",
    "First try with {gear}",
    "C&C please: {place} {time}",
    "Weekend at {place}",
    "Textures: {subject}",
    "Shot {time} with {gear}",
)
_TEXT_TITLES = (
    "What got you into photography?",
    "Favourite hot drink on a cold shoot",
    "Best podcast for long drives?",
    "Weekly chat thread",
    "Books about light and composition",
    "Which walking boots last?",
    "Anyone going to the print fair?",
    "Backup strategies for photo archives",
    "Show your camera bag (in words)",
    "How do you name your files?",
)
_OPENERS = (
    "Took these {time} near {place}.",
    "A few frames from {place}, shot {time}.",
    "Tried {gear} on {subject} today.",
    "Here is {subject}, found near {place}.",
    "Back from {place}. The light {time} was lovely.",
)
_CLOSERS = (
    "Feedback welcome.",
    "Straight out of camera, only cropped.",
    "Edited lightly for contrast.",
    "Let me know which one you prefer.",
    "",
)
_REPLIES = (
    "Lovely tones in the second one.",
    "What settings did you use?",
    "The horizon looks a touch tilted to me.",
    "Great texture, I can almost feel it.",
    "I was there last spring, it never looks this calm.",
    "Nice use of the foreground.",
    "Would love to see this printed large.",
    "Which lens was this?",
    "Agreed, the light makes it.",
    "Thanks for sharing, very relaxing to look at.",
    "I would crop a little off the left.",
    "The colours are spot on.",
)
CAPTIONS = (
    "weekend walk",
    "found this one",
    "look at the light",
    "sunday colours",
    "saved from a forum",
    "throwback",
)


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens, as forum URLs show titles."""
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return "-".join(words)[:60].strip("-") or "thread"


def _fill(pattern: str, rng: random.Random) -> str:
    return pattern.format(
        place=rng.choice(_PLACES),
        time=rng.choice(_TIMES),
        subject=rng.choice(_SUBJECTS),
        gear=rng.choice(_GEAR),
    )


def thread_title(rng: random.Random) -> str:
    title = _fill(rng.choice(_TITLE_PATTERNS), rng)
    return title[0].upper() + title[1:]


def text_thread_title(rng: random.Random) -> str:
    return rng.choice(_TEXT_TITLES)


def image_post_text(rng: random.Random) -> str:
    return f"{_fill(rng.choice(_OPENERS), rng)} {rng.choice(_CLOSERS)}".strip()


def reply_text(rng: random.Random) -> str:
    return rng.choice(_REPLIES)


def caption(index: int) -> str:
    return CAPTIONS[index % len(CAPTIONS)]
