"""What a capture hands to sealing: the artifacts it took, each digested at acquisition, and the
context a court checks (NF Z67-147 items), as frozen values.

Pure values: no browser, no disk, no database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from rempart.clock import aware
from rempart.errors import EvidenceError

__all__ = ["Artifact", "Capture", "CapturedMedia", "JsonValue"]

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


class _InvalidArtifactError(EvidenceError, ValueError):
    """An artifact that cannot go into a bundle (a ValueError too: it is a value's check)."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file of a capture: its path inside the bundle, its bytes and their SHA-256, taken the
    moment it was acquired (before anything else touched it)."""

    name: str  # path inside the bundle, e.g. "capture/screenshot.png"; "/"-separated, relative
    data: bytes = field(repr=False)
    media_type: str
    acquired_at: datetime
    sha256: str = ""

    def __post_init__(self) -> None:
        parts = self.name.split("/")
        if not self.name or self.name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise _InvalidArtifactError(
                "artifact name must be a plain relative path: {name!r}", name=self.name
            )
        digest = hashlib.sha256(self.data).hexdigest()
        if self.sha256 and self.sha256 != digest:
            raise _InvalidArtifactError(
                "artifact {name}: digest does not match its bytes", name=self.name
            )
        object.__setattr__(self, "sha256", digest)
        object.__setattr__(self, "acquired_at", aware(self.acquired_at))

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class CapturedMedia:
    """A picture or video the page served, as served: where from, its digest and its PDQ.

    `artifact` names the stored copy; it is None when no media may be kept (a minor's case)."""

    url: str
    sha256: str
    size: int
    media_type: str | None
    artifact: str | None
    pdq: str | None = None
    quality: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Capture:
    """Everything one capture of one page produced, ready to be sealed.

    `context` holds the recorded facts (who, from where, with what, when, DNS answers, server
    addresses, TLS chain, headers, the checklist); it must be JSON-serialisable.
    """

    url: str  # what was asked for
    final_url: str  # after redirects
    link_path: tuple[str, ...]  # the pages followed from the entry point, in order, ending at url
    started_at: datetime
    finished_at: datetime
    artifacts: tuple[Artifact, ...]
    media: tuple[CapturedMedia, ...]
    context: Mapping[str, JsonValue]
    no_media: bool = False  # a minor's case: digests and references only, no picture kept

    def __post_init__(self) -> None:
        object.__setattr__(self, "started_at", aware(self.started_at))
        object.__setattr__(self, "finished_at", aware(self.finished_at))
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))
        names = [a.name for a in self.artifacts]
        if len(set(names)) != len(names):
            raise _InvalidArtifactError("two artifacts share a name")

    def artifact(self, name: str) -> Artifact:
        for artifact in self.artifacts:
            if artifact.name == name:
                return artifact
        raise KeyError(name)
