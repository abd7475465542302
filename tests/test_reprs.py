"""Logs and reprs carry ids, never image bytes or secrets: every dataclass field that holds
bytes (a picture, a page, an answer, a token) is left out of its repr."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Iterator

import rempart
from rempart.samples import web_jpeg
from rempart.sources.base import Candidate

# Bytes that are identifiers, not content: shown as they help, and never a secret.
IDENTIFIERS = {
    ("rempart.hashing.signals", "PdqHash", "value"),  # a 32-byte hash: its hex is its name
    ("rempart.evidence.keys", "PublicKeyInfo", "public_key"),  # a public key, 32 bytes
}


def _dataclasses() -> Iterator[type]:
    for module in pkgutil.walk_packages(rempart.__path__, "rempart."):
        if module.name.endswith("__main__"):
            continue
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.name
            ):
                yield value


def test_no_dataclass_shows_bytes_in_its_repr() -> None:
    shown = []
    for cls in _dataclasses():
        for field in dataclasses.fields(cls):
            kind = field.type if isinstance(field.type, str) else repr(field.type)
            where = (cls.__module__, cls.__name__, field.name)
            if "bytes" in kind and field.repr and where not in IDENTIFIERS:
                shown.append(f"{'.'.join(where)}: {kind}")
    assert shown == []


def test_a_candidates_repr_names_it_without_its_picture() -> None:
    picture = web_jpeg(1, 64, 48)
    candidate = Candidate(source="inbox", key="a.jpg", data=picture, content_type="image/jpeg")

    text = repr(candidate)

    assert "a.jpg" in text and "image/jpeg" in text
    assert repr(picture[:16])[2:-1] not in text and "\\xff\\xd8" not in text
