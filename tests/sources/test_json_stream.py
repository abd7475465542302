"""The streamed JSON walk agrees with json.loads whatever the chunk boundaries, skips what it
is not asked for, and reports a value Python will not decode without losing the rest."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.sources.json_stream import BadValue, JsonStream, JsonStreamError

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _reader(data: bytes, step: int) -> Callable[[int], bytes]:
    position = 0

    def read(size: int) -> bytes:
        nonlocal position
        chunk = data[position : position + min(size, step)]
        position += len(chunk)
        return chunk

    return read


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES, st.integers(1, 9), st.booleans())
def test_a_value_read_in_any_chunks_is_what_json_loads_reads(
    value: object, step: int, indent: bool
) -> None:
    data = json.dumps(value, indent=1 if indent else None, ensure_ascii=False).encode()
    stream = JsonStream(_reader(data, step))
    assert stream.value() == json.loads(data)
    stream.end()


@settings(max_examples=100, deadline=None)
@given(st.lists(JSON_VALUES, max_size=6), st.integers(1, 9))
def test_array_items_skipped_or_decoded_alike(items: list[object], step: int) -> None:
    data = json.dumps({"skip": items, "keep": items}).encode()
    stream = JsonStream(_reader(data, step))
    kept: list[object] = []
    for key in stream.object_keys():
        if key == "keep":
            for _ in stream.array_items():
                kept.append(stream.value())
        else:
            stream.skip()
    stream.end()
    assert kept == items


def test_a_number_python_will_not_decode_is_skipped_and_the_walk_goes_on() -> None:
    data = ('[{"id": ' + "9" * 5000 + '}, {"id": 2}]').encode()
    stream = JsonStream(_reader(data, 7))
    items = []
    for _ in stream.array_items():
        items.append(stream.value())
    assert isinstance(items[0], BadValue) and items[1] == {"id": 2}


def test_a_value_over_the_limit_is_skipped_unheld() -> None:
    data = json.dumps([{"text": "x" * 5000}, {"id": 2}]).encode()
    stream = JsonStream(_reader(data, 64), max_value=1000)
    items = [stream.value() for _ in stream.array_items()]
    assert isinstance(items[0], BadValue) and items[1] == {"id": 2}


@pytest.mark.parametrize("data", [b'{"a": [1, 2', b'{"a" 1}', b"[1 2]", b'{"a": 1} x', b""])
def test_broken_documents_raise(data: bytes) -> None:
    def walk() -> None:
        stream = JsonStream(_reader(data, 3))
        for _ in stream.object_keys() if data.startswith(b"{") else stream.array_items():
            stream.skip()
        stream.end()

    with pytest.raises(JsonStreamError):
        walk()
