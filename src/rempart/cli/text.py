"""Outside text made fit for a terminal: hostile characters neutralised, long URLs shortened.

Pure string functions for the entry points; they print nothing.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape

__all__ = ["json_text", "middle", "safe", "safe_lines", "shown"]

# Format (bidi overrides and isolates, LRM/RLM, zero-width), line and paragraph separators,
# private-use and unassigned code points are shown as their code point; control characters
# (C0 and C1: escape sequences, BEL, CSI) become a visible marker.
_SHOWN_AS_CODE = frozenset({"Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
_ESCAPED_IN_JSON = frozenset({"Cc", *_SHOWN_AS_CODE})


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


def safe_lines(text: object) -> str:
    """`safe` line by line: a multi-line report keeps its line breaks, nothing else."""
    return "\n".join(safe(line) for line in str(text).split("\n"))


def json_text(text: str) -> str:
    """JSON text with every control, format and separator character written as a \\u escape:
    the same JSON value, but nothing in it a terminal would act on (C1 CSI, bidi overrides)
    when a caseworker prints `--json` output as it is."""
    out: list[str] = []
    for char in text:
        if unicodedata.category(char) in _ESCAPED_IN_JSON and char not in "\n\t\r ":
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
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
