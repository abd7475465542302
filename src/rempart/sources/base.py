"""The one interface every source implements, and the records it yields.

A source walks what it watches and yields a Candidate for each media file it comes across
(the bytes in memory, with where they were seen) or a Problem for what it could not read. It
asks the pipeline's durable state (SourceState) what it has already handled, so that a
re-scan fetches only what is new. Sources never hash, match or store anything themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from rempart.errors import RempartError
from rempart.fetch import Validators
from rempart.i18n import gettext

__all__ = [
    "Candidate",
    "Problem",
    "Reason",
    "Source",
    "SourceState",
    "Validators",
    "localized_reason",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One media file a source came across. The bytes live only in memory, for hashing.

    `key` identifies the file within its source, stably across scans (a media URL, an
    archive member's path, a message id and file name): the pipeline records it once the
    candidate is handled and a re-scan skips it. `context` holds what a caseworker needs to
    find it again (thread title, channel name, poster's handle, archive name).
    """

    source: str
    key: str
    data: bytes = field(repr=False)
    media_url: str | None = None  # where the bytes came from (URL, or path inside a file)
    page_url: str | None = None  # the page, post or message where it was seen
    post_id: str | None = None
    posted_at: datetime | None = None  # when the site says it was posted
    content_type: str | None = None
    context: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # other keys of the same file in this source (an attachment link and the address it
    # redirects to): recorded as handled with `key`, so a re-scan skips it under either
    aliases: tuple[str, ...] = ()


class Reason(str):
    """A reason in English (it is a `str`, and is stored as such) that remembers its catalog
    template and values, so that it can be shown in the reader's language. Plain English
    reasons are catalog message ids themselves (mark them with `N_`)."""

    template: str
    values: Mapping[str, str]

    @classmethod
    def of(cls, template: str, /, **values: object) -> Reason:
        texts = {key: str(value) for key, value in values.items()}
        reason = cls(template.format(**texts) if texts else template)
        reason.template, reason.values = template, MappingProxyType(texts)
        return reason


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a source could not read (a dead link, a corrupt archive member, a page too
    large): reported and skipped, never fatal.

    `reason` is English (it is stored); `template` and `values`, when given, render it again
    in the reader's language (`localized()`). Make one with `Problem.of` or `from_error`."""

    source: str
    where: str
    reason: str
    template: str = ""
    values: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        if not self.template and isinstance(self.reason, Reason):
            object.__setattr__(self, "template", self.reason.template)
            object.__setattr__(self, "values", self.reason.values)
        object.__setattr__(self, "reason", str(self.reason))

    @classmethod
    def of(cls, source: str, where: str, template: str, /, **values: object) -> Problem:
        """A problem whose reason is a catalog message (`template`) with `values`."""
        texts = {key: str(value) for key, value in values.items()}
        english = template.format(**texts) if texts else template
        return cls(source, where, english, template, MappingProxyType(texts))

    @classmethod
    def from_error(cls, source: str, where: str, error: RempartError) -> Problem:
        """A problem whose reason is a Rempart error's message."""
        return cls.of(source, where, error.template or str(error), **error.values)

    def localized(self, lang: str | None = None) -> str:
        """The reason in `lang` (default: the current language)."""
        return localized_reason(self.reason, self.template, self.values, lang)


def localized_reason(
    reason: str, template: str | None, values: Mapping[str, str] | None, lang: str | None = None
) -> str:
    """A stored reason in `lang`: its template translated, each value too where the catalog
    knows it (reason codes such as "refused port"); the English reason where no template."""
    if not template:
        return gettext(reason, lang=lang)
    shown = {key: gettext(value, lang=lang) for key, value in (values or {}).items()}
    return gettext(template, lang=lang, **shown) if shown else gettext(template, lang=lang)


class SourceState(Protocol):
    """What a source may ask of the pipeline's durable state during a scan."""

    def seen(self, key: str) -> bool:
        """True when a candidate with this key was already handled (skip fetching it)."""
        ...

    def validators(self, url: str) -> Validators | None:
        """The validators saved for a page on an earlier scan, if any."""
        ...

    def save_validators(self, url: str, validators: Validators) -> None:
        """Remember a page's validators for the next scan."""
        ...


class Source(Protocol):
    """A place Rempart watches."""

    @property
    def name(self) -> str: ...

    def scan(self, state: SourceState) -> Iterator[Candidate | Problem]:
        """Yield every media file not yet handled, and a Problem for each failure."""
        ...
