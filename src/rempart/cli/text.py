"""Outside text made fit for a terminal: hostile characters neutralised, long URLs shortened.

Pure string functions for the entry points; they print nothing.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape

__all__ = ["middle", "safe", "shown"]

# Format (bidi overrides, zero-width), private-use and unassigned code points are shown as
# their code point; control characters (escape sequences) become a visible marker.
_SHOWN_AS_CODE = frozenset({"Cf", "Co", "Cn", "Cs"})


def safe(text: object) -> str:
    """`text` with control and invisible/direction-changing characters made visible."""
    out: list[str] = []
    for char in str(text):
        category = unicodedata.category(char)
        if category == "Cc":
            out.append("␛" if char == "\x1b" else " " if char in "\t\n\r" else "�")
        elif category in _SHOWN_AS_CODE:
            out.append(f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)


def middle(text: str, width: int) -> str:
    """`text` cut in the middle to `width` characters (an ellipsis marks the cut).

    URLs keep their host and their last path segment, which is what a reader recognises;
    the whole value stays in `--json`.
    """
    if width < 5 or len(text) <= width:
        return text
    head = (width - 1) * 3 // 5
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


def shown(text: object, width: int | None = None) -> str:
    """Outside text ready for Rich markup: made safe, optionally shortened, markup escaped."""
    value = safe(text)
    if width is not None:
        value = middle(value, width)
    return escape(value)
