"""A JSON document walked as a stream: containers entered one token at a time, each wanted
value decoded alone, everything else skipped unread, in bounded memory.

It owns the tokenising of outside JSON too large to load whole (a Telegram export's
result.json); it must not know what the document means. A value that cannot be decoded (a
5,000-digit number) is skipped and reported, and the walk goes on after it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Final

__all__ = ["BadValue", "JsonStream", "JsonStreamError"]

_CHUNK: Final = 1 << 20
_WHITESPACE: Final = " \t\n\r"
_STRING_STOP: Final = re.compile(r'["\\]')
_CONTAINER_STOP: Final = re.compile(r'["\[\]{}]')
_SCALAR_END: Final = re.compile(r"[,\]}\s]")
_DECODER: Final = json.JSONDecoder()
_EXPECTED: Final = {"{": "expected '{'", "[": "expected '['", ":": "expected ':'"}


class JsonStreamError(ValueError):
    """The document is not JSON (or not the shape asked for): the walk cannot go on."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (character {position})")


class BadValue:
    """A value skipped because it could not be decoded (the walk goes on after it)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"BadValue({self.reason!r})"


class JsonStream:
    """Reads `read(n)` chunks of UTF-8; holds at most one value (≤ `max_value` characters)
    plus one chunk in memory. Skipped values are never held whole."""

    def __init__(self, read: Callable[[int], bytes], *, max_value: int = 64 << 20) -> None:
        self._read = read
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._max_value = max_value

    # -- the walk

    def object_keys(self) -> Iterator[str]:
        """Enter an object; yields each key, the stream then standing at its value, which the
        caller must consume (`value`, `skip`, or entering it) before asking the next key."""
        self._expect("{")
        if self._peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise JsonStreamError("an object key is not a string")
            self._expect(":")
            yield key
            separator = self._next()
            if separator == "}":
                return
            if separator != ",":
                raise JsonStreamError("expected ',' or '}'", self._where())

    def array_items(self) -> Iterator[None]:
        """Enter an array; yields once per item, the stream standing at it (consume it)."""
        self._expect("[")
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield None
            separator = self._next()
            if separator == "]":
                return
            if separator != ",":
                raise JsonStreamError("expected ',' or ']'", self._where())

    def peek(self) -> str:
        """The first character of the next value ('{', '[', '"', a digit…), '' at the end."""
        return self._peek()

    def value(self) -> Any:
        """The next value, decoded; a BadValue when it is valid JSON syntax that Python will
        not decode (a number too long) or longer than `max_value`."""
        start = self._start_value()
        decoded = self._decoded()
        if decoded is not None:
            return decoded[0]
        end, whole = self._value_end(keep=True)
        if not whole:
            self._pos = end
            return BadValue(f"a value longer than {self._max_value} characters: skipped")
        text = self._buffer[start:end]
        self._pos = end
        try:
            return json.loads(text)
        except RecursionError:
            return BadValue("nested too deeply: skipped")
        except ValueError as exc:
            first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return BadValue(first)

    def skip(self) -> None:
        """Pass the next value without holding it (a small one is decoded and dropped: C is
        faster than scanning it here)."""
        self._start_value()
        if self._decoded() is not None:
            return
        end, _ = self._value_end(keep=False)
        self._pos = end

    def end(self) -> None:
        """Nothing but white space may follow the document."""
        if self._peek() != "":
            raise JsonStreamError("extra data after the document", self._where())

    # -- scanning

    def _decoded(self) -> tuple[Any] | None:
        """The fast path: the value at `_pos` decoded from what the buffer holds, when it
        holds all of it (a number at the buffer's end may go on in the next chunk)."""
        try:
            value, end = _DECODER.raw_decode(self._buffer, self._pos)
        except (ValueError, RecursionError):
            return None  # cut by the buffer's end, or bad: the scanning path tells which
        if self._buffer[self._pos] not in '{["':  # a number may go on: "0." then "5"
            ended = end < len(self._buffer) and self._buffer[end] in ",]}" + _WHITESPACE
            if not (ended or (self._eof and end == len(self._buffer))):
                return None
        self._pos = end
        return (value,)

    def _start_value(self) -> int:
        if self._peek() == "":
            raise JsonStreamError("the document ends where a value was expected")
        self._compact()
        return self._pos

    def _value_end(self, *, keep: bool) -> tuple[int, bool]:
        """Where the value at `_pos` ends, reading more as needed; `keep=False` drops what is
        behind. The bool says whether the value stayed within `max_value` (kept whole)."""
        first = self._buffer[self._pos]
        if first in "{[":
            return self._container_end(keep)
        if first == '"':
            return self._string_end(self._pos + 1, keep)
        return self._scalar_end(keep)

    def _string_end(self, at: int, keep: bool) -> tuple[int, bool]:
        whole = True
        while True:
            match = _STRING_STOP.search(self._buffer, at)
            if match is None or (match.group() == "\\" and match.end() >= len(self._buffer)):
                at, whole = self._more(at, keep, whole)
                continue
            if match.group() == '"':
                return match.end(), whole
            at = match.end() + 1  # the escaped character, whatever it is

    def _container_end(self, keep: bool) -> tuple[int, bool]:
        depth, at, whole = 0, self._pos, True
        while True:
            match = _CONTAINER_STOP.search(self._buffer, at)
            if match is None:
                at, whole = self._more(len(self._buffer), keep, whole)
                continue
            char = match.group()
            if char == '"':
                at, whole = self._string_end(match.end(), keep)
                continue
            depth += 1 if char in "[{" else -1
            at = match.end()
            if depth == 0:
                return at, whole

    def _scalar_end(self, keep: bool) -> tuple[int, bool]:
        at, whole = self._pos, True
        while True:
            match = _SCALAR_END.search(self._buffer, at)
            if match is not None:
                return match.start(), whole
            if self._eof:
                return len(self._buffer), whole
            at, whole = self._more(len(self._buffer), keep, whole)

    def _more(self, at: int, keep: bool, whole: bool) -> tuple[int, bool]:
        """Read another chunk; `at` is where scanning resumes. Values over `max_value` are
        no longer kept: they are skipped as if `keep` were False."""
        if self._eof:
            raise JsonStreamError("the document ends inside a value")
        if not keep or not whole or len(self._buffer) - self._pos > self._max_value:
            whole = whole and keep and len(self._buffer) - self._pos <= self._max_value
            # Drop what is behind the scan: the value is skipped, not decoded.
            self._buffer, at = self._buffer[at:], 0
            self._pos = 0
        self._fill()
        return at, whole

    def _fill(self) -> None:
        data = self._read(_CHUNK)
        if not data:
            self._buffer += self._decoder.decode(b"", final=True)
            self._eof = True
            return
        self._buffer += self._decoder.decode(data)

    def _compact(self) -> None:
        if self._pos > _CHUNK:
            self._buffer = self._buffer[self._pos :]
            self._pos = 0

    def _peek(self) -> str:
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if self._eof:
                return ""
            self._compact()
            self._fill()

    def _next(self) -> str:
        char = self._peek()
        self._pos += 1
        return char

    def _expect(self, char: str) -> None:
        found = self._next()
        if found != char:
            raise JsonStreamError(_EXPECTED[char], self._where())

    def _where(self) -> int:
        return self._pos
