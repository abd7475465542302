"""Shared helpers of the file-based source tests (folders and archives, Telegram exports,
WARC/WACZ): neutral media, a recording state, scan helpers and a byte-mutation strategy.

Every fixture file is written by the tests themselves, in tmp_path; the pictures are neutral
ones from rempart.samples.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from rempart.samples import neutral_image, neutral_video, web_jpeg
from rempart.sources.base import Candidate, Problem, Source, Validators

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@functools.cache
def jpeg(seed: int) -> bytes:
    return web_jpeg(seed, 64, 48)


@functools.cache
def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, 48, 40).save(buffer, "PNG")
    return buffer.getvalue()


@functools.cache
def webp(seed: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, 40, 40).save(buffer, "WEBP")
    return buffer.getvalue()


@functools.cache
def mp4() -> bytes:
    return neutral_video(3, 0.3, fps=5, width=64, height=48)


@dataclass
class RecordingState:
    """The pipeline's state in memory: keys already handled, and every key asked about."""

    handled: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)

    def seen(self, key: str) -> bool:
        self.asked.append(key)
        return key in self.handled

    def validators(self, url: str) -> Validators | None:
        return None

    def save_validators(self, url: str, validators: Validators) -> None:
        pass


@dataclass(frozen=True)
class Scan:
    candidates: list[Candidate]
    problems: list[Problem]

    @property
    def by_key(self) -> dict[str, Candidate]:
        return {candidate.key: candidate for candidate in self.candidates}

    def problem_at(self, where: str) -> Problem:
        found = [problem for problem in self.problems if problem.where == where]
        assert len(found) == 1, f"expected one problem at {where!r}, got {self.problems}"
        return found[0]


def scan(source: Source, state: RecordingState | None = None) -> Scan:
    """Run a whole scan, checking that it yields nothing but candidates and problems."""
    candidates: list[Candidate] = []
    problems: list[Problem] = []
    for item in source.scan(state or RecordingState()):
        if isinstance(item, Candidate):
            assert item.source == source.name
            candidates.append(item)
        else:
            assert isinstance(item, Problem), item
            assert item.source == source.name and item.reason and "\n" not in item.reason
            problems.append(item)
    keys = [candidate.key for candidate in candidates]
    assert len(keys) == len(set(keys)), "a key was yielded twice"
    return Scan(candidates, problems)


def zip_bytes(members: Iterable[tuple[str, bytes]], deflate: bool = True) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_folder(folder: Path, target: Path) -> Path:
    """A zip of `folder`, its name as the top directory (as a user would make one)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return target


def _apply(original: bytes, edits: list[tuple[int, int]], cut: int, insert: bytes) -> bytes:
    data = bytearray(original)
    for position, value in edits:
        data[position % len(data)] = value
    middle = len(data) // 2
    return bytes(data[:middle] + insert + data[middle:])[:cut]


def mutated(original: bytes) -> st.SearchStrategy[bytes]:
    """Valid bytes with a few bytes changed, some inserted, and possibly cut short, so that
    the fuzzing reaches past the signatures into the parsers."""
    return st.builds(
        _apply,
        st.just(original),
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=6),
        st.integers(0, len(original) + 64),
        st.binary(max_size=16),
    )
