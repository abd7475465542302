"""The hash workers' answers cross to the scan process pickled: each value type pickles as a
call to its class with its fields (rempart.hashing.signals.pickled_by_fields) and comes back
the same, every field included."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import numpy as np
import pytest

from rempart.errors import InvalidHash
from rempart.hashing import REGISTRATION_EXTRAS, Windows
from rempart.hashing.features import LocalFeatures
from rempart.hashing.image import ImageHashes, WindowHashes
from rempart.hashing.signals import Digest, PdqHash, PdqSignal, pickled_by_fields
from rempart.hashing.watermark import Overlay
from rempart.hashing.windows import Window, WindowKind
from rempart.jobs.hash_worker import Provenance, Read, Unreadable, hash_all
from rempart.samples import web_jpeg


def _assert_same(back: Any, original: Any, where: str = "") -> None:
    """Field by field (LocalFeatures compares by identity; its arrays by value, type and shape)."""
    assert type(back) is type(original), where
    if isinstance(original, np.ndarray):
        assert back.dtype == original.dtype and back.shape == original.shape, where
        assert np.array_equal(back, original), where
    elif dataclasses.is_dataclass(original):
        for field in dataclasses.fields(original):
            name = f"{where}.{field.name}"
            _assert_same(getattr(back, field.name), getattr(original, field.name), name)
    elif isinstance(original, tuple | list):
        assert len(back) == len(original), where
        for i, (b, o) in enumerate(zip(back, original, strict=True)):
            _assert_same(b, o, f"{where}[{i}]")
    else:
        assert back == original, where


def _value_types(value: Any) -> set[type]:
    """The dataclasses found in `value`, at any depth."""
    if dataclasses.is_dataclass(value):
        found = {type(value)}
        for field in dataclasses.fields(value):
            found |= _value_types(getattr(value, field.name))
        return found
    if isinstance(value, tuple | list):
        return set().union(*(_value_types(item) for item in value))
    if isinstance(value, dict):
        return set().union(*(_value_types(item) for item in value.values()))
    return set()


def _signal(seed: int, quality: int = 87) -> PdqSignal:
    return PdqSignal(PdqHash(bytes((seed + i) % 256 for i in range(32))), quality)


def _features(count: int, pixels: bool) -> LocalFeatures:
    rng = np.random.default_rng(count)
    return LocalFeatures(
        width=321,
        height=213,
        points=rng.random((count, 2), np.float32) * 200,
        descriptors=rng.integers(0, 256, (count, 32), np.uint8),
        angles=rng.random(count, np.float32) * 360,
        octaves=rng.integers(0, 8, count, np.uint8),
        pixels=rng.integers(0, 256, (213, 321), np.uint8) if pixels else None,
        check_points=rng.random((3, 2), np.float32) * 200,
        check_descriptors=rng.integers(0, 256, (3, 32), np.uint8),
    )


def _every_field_set() -> list[Any]:
    """One value of each type a worker sends, every field away from its default."""
    window = Window(
        WindowKind.UNMARKED,
        3,
        4,
        300,
        200,
        angle=2.5,
        blank=((5, 6, 7, 8),),
        label="2",
        smooth=True,
        grid=12,
        steady=180,
        overlay=Overlay(light=False, step=0.25),
    )
    hashes = ImageHashes(
        pdq=_signal(1),
        digest=Digest("a" * 64, "b" * 32),
        width=640,
        height=480,
        format="GIF",
        animated=True,
        frames=3,
        variants=tuple(_signal(i) for i in range(8)),
        windows=(WindowHashes(window, (_signal(9, 40),), steady=PdqHash(bytes(range(32)))),),
        partner_pdq=_signal(10, 100),
        features=(("whole", _features(40, False)), ("screen", _features(7, True))),
    )
    return [
        Read(hashes, Provenance("none", '{"verdict": "none"}')),
        Unreadable("not an image: {reason}", {"reason": "truncated"}),
    ]


@pytest.mark.parametrize("value", _every_field_set(), ids=lambda value: type(value).__name__)
def test_each_value_type_comes_back_the_same_with_every_field(value: Any) -> None:
    back = pickle.loads(pickle.dumps(value))

    _assert_same(back, value)
    for cls in _value_types(value):
        # every field is carried: a field added later cannot be dropped on the way
        assert "__reduce__" in vars(cls), cls.__name__


def test_a_workers_real_answers_come_back_the_same() -> None:
    windows = Windows.PICTURE | Windows.SMOOTH | Windows.MOSAIC | REGISTRATION_EXTRAS
    data = [web_jpeg(seed, 480, 360) for seed in (1, 2)] + [b"no image"]
    outcomes = hash_all(data, windows)
    assert [type(outcome) for outcome in outcomes] == [Read, Read, Unreadable]
    assert any(read.hashes.features for read in outcomes[:2] if isinstance(read, Read))

    back = pickle.loads(pickle.dumps(outcomes))

    _assert_same(back, outcomes)
    for cls in _value_types(outcomes):
        assert "__reduce__" in vars(cls), cls.__name__


def test_unpickling_runs_the_checks() -> None:
    blob = pickle.dumps(_signal(1, quality=87))
    assert blob.count(b"K\x57") == 1  # the quality, a one-byte int

    with pytest.raises(InvalidHash):
        pickle.loads(blob.replace(b"K\x57", b"K\xc8"))  # quality 200


def test_only_positional_fields_can_be_pickled_by_fields() -> None:
    with pytest.raises(TypeError):

        @pickled_by_fields
        @dataclasses.dataclass(frozen=True, slots=True)
        class Keyword:
            a: int
            b: int = dataclasses.field(default=0, kw_only=True)
