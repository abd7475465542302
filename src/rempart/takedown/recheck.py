"""Is a confirmed copy still there? The decision for one re-check of one address, from what
was fetched: online, removed, changed or unreachable, with the reason.

Pure: takes what the fetch saw (status, where it ended, what was served, the served media's
match with the copy's item, how many other addresses served the same bytes) and decides;
no network, no store, no bytes. A placeholder (a "removed" picture or page) never counts as
the copy: only a served media that matches the copy's item, by the matcher's rules, is
"online".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from rempart.i18n import N_

__all__ = [
    "DEFAULT_INTERVALS",
    "CheckStatus",
    "Intervals",
    "Observation",
    "Target",
    "Verdict",
    "classify",
    "finding_status",
    "is_home_page",
    "looks_removed_url",
    "mentions_removal",
    "page_refers_to",
]


class CheckStatus(StrEnum):
    """What a re-check found; stable English values, stored and shown translated."""

    ONLINE = N_("online")  # the copy is still served (it still matches the item)
    REMOVED = N_("removed")  # gone: 404/410, the name no longer exists, a placeholder
    CHANGED = N_("changed")  # something else is served there, not the copy, not a placeholder
    UNREACHABLE = N_("unreachable")  # no usable answer: try again later, never "removed"


class Target(StrEnum):
    MEDIA = "media"  # the picture or video itself
    PAGE = "page"  # the page that showed it


_GONE_STATUSES = frozenset({404, 410, 451})
# Fetch failures where nothing was asked: the address was refused before any connection.
_NOT_TRIED = frozenset({"refused address", "refused port", "bad url"})
# Pictures this small, or this flat (PDQ quality), are placeholders when they do not match.
TINY_PIXELS = 20_000
TINY_SIDE = 64
FLAT_QUALITY = 50
# A picture that other addresses served too, this many of them, is a shared placeholder.
SHARED_BY = 2

_REMOVED_PATH = re.compile(
    r"(removed|deleted|unavailable|not[-_]?found|notfound|gone|takedown|dmca|404|410|"
    r"supprime|retire|introuvable)",
    re.IGNORECASE,
)
_REMOVAL_WORDS = re.compile(
    r"(has been removed|was removed|been deleted|was deleted|no longer available|"
    r"not available|content unavailable|media unavailable|image not found|file not found|"
    r"page not found|does not exist|doesn't exist|removed for violating|"
    r"a été supprimé|été supprimée|a été retiré|été retirée|n'est plus disponible|"
    r"n’est plus disponible|n'existe pas|n’existe pas|n'existe plus|n’existe plus|"
    r"introuvable|contenu indisponible)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one fetch of one address gave, reduced to what the decision needs.

    `failure` is the fetch's failure reason (a FetchFailure value) when no usable answer came,
    with `http_status` for an HTTP error; `nxdomain` when the host name does not exist.
    For a 2xx answer: `kind` is "image", "video", "html" or "other" (sniffed from the bytes);
    for a picture or video, `matched` tells whether it matches the copy's item, `same_bytes`
    whether it is the very file confirmed, `quality`/`width`/`height` its PDQ quality and
    size, `unreadable` when it could not be decoded. For a page, `refers` tells whether it
    still names the media, `removal_words` whether it says the content was removed.
    `shared_with` counts the other addresses that served the same bytes (this run and
    earlier checks)."""

    url: str
    target: Target
    http_status: int | None = None
    failure: str | None = None
    nxdomain: bool = False
    final_url: str | None = None
    kind: str | None = None
    matched: bool = False
    same_bytes: bool = False
    distance: int | None = None
    quality: int | None = None
    width: int | None = None
    height: int | None = None
    unreadable: bool = False
    refers: bool = False
    removal_words: bool = False
    shared_with: int = 0

    @property
    def redirected(self) -> bool:
        return self.final_url is not None and self.final_url != self.url


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one check: its status, why (an English template and its values,
    shown translated), and whether what was served is a placeholder."""

    status: CheckStatus
    reason: str
    values: Mapping[str, str] = field(default_factory=dict)
    placeholder: bool = False


def classify(seen: Observation) -> Verdict:
    """Decide what one check means. Order matters: a failed fetch first (gone or try again),
    then, for an answer, the copy itself (matching wins over any placeholder signal), then
    the placeholder signals, and what is left is "changed"."""
    if seen.failure is not None or seen.http_status is None:
        return _failed(seen)
    status = seen.http_status
    if status in _GONE_STATUSES:
        return Verdict(CheckStatus.REMOVED, N_("HTTP {status}"), {"status": str(status)})
    if not 200 <= status < 300:
        return Verdict(
            CheckStatus.UNREACHABLE, N_("HTTP {status}: try again later"), {"status": str(status)}
        )
    if seen.target is Target.MEDIA:
        return _media(seen)
    return _page(seen)


def _failed(seen: Observation) -> Verdict:
    if seen.nxdomain:
        host = urlsplit(seen.url).hostname or ""
        return Verdict(CheckStatus.REMOVED, N_("the name {host} no longer exists"), {"host": host})
    if seen.http_status in _GONE_STATUSES:
        return Verdict(CheckStatus.REMOVED, N_("HTTP {status}"), {"status": str(seen.http_status)})
    if seen.http_status is not None:
        return Verdict(
            CheckStatus.UNREACHABLE,
            N_("HTTP {status}: try again later"),
            {"status": str(seen.http_status)},
        )
    if seen.failure in _NOT_TRIED:
        return Verdict(
            CheckStatus.UNREACHABLE, N_("not checked: {reason}"), {"reason": seen.failure}
        )
    return Verdict(
        CheckStatus.UNREACHABLE,
        N_("no answer ({reason}): try again later"),
        {"reason": seen.failure or "?"},
    )


def _moved_away(seen: Observation) -> Verdict | None:
    """A redirect to a home page or to a "removed" page: the address no longer serves it."""
    if not seen.redirected or seen.final_url is None:
        return None
    if is_home_page(seen.final_url):
        return Verdict(
            CheckStatus.REMOVED,
            N_("redirected to the home page {url}"),
            {"url": seen.final_url},
            placeholder=True,
        )
    if looks_removed_url(seen.final_url) and not looks_removed_url(seen.url):
        return Verdict(
            CheckStatus.REMOVED,
            N_("redirected to a removal notice {url}"),
            {"url": seen.final_url},
            placeholder=True,
        )
    return None


def _media(seen: Observation) -> Verdict:
    if seen.kind in {"image", "video"} and not seen.unreadable:
        if seen.same_bytes:
            return Verdict(CheckStatus.ONLINE, N_("the very file confirmed is still served"))
        if seen.matched:
            return Verdict(
                CheckStatus.ONLINE,
                N_("what is served still matches the item (distance {distance})"),
                {"distance": str(seen.distance if seen.distance is not None else 0)},
            )
    moved = _moved_away(seen)
    if moved is not None:
        return moved
    if seen.kind == "html":
        return Verdict(
            CheckStatus.REMOVED, N_("a page is served where the picture was"), placeholder=True
        )
    if seen.kind not in {"image", "video"}:
        return Verdict(CheckStatus.REMOVED, N_("no picture is served any more"), placeholder=True)
    if seen.unreadable:
        return Verdict(CheckStatus.CHANGED, N_("what is served cannot be read as a picture"))
    if seen.shared_with >= SHARED_BY:
        return Verdict(
            CheckStatus.REMOVED,
            N_("a placeholder picture, served for {n} other addresses too"),
            {"n": str(seen.shared_with)},
            placeholder=True,
        )
    if _tiny(seen):
        return Verdict(
            CheckStatus.REMOVED,
            N_("a tiny placeholder picture ({width}×{height})"),
            {"width": str(seen.width), "height": str(seen.height)},
            placeholder=True,
        )
    if seen.quality is not None and seen.quality < FLAT_QUALITY:
        return Verdict(
            CheckStatus.REMOVED,
            N_("a flat placeholder picture (PDQ quality {quality})"),
            {"quality": str(seen.quality)},
            placeholder=True,
        )
    return Verdict(
        CheckStatus.CHANGED, N_("another picture is served there: it does not match the item")
    )


def _tiny(seen: Observation) -> bool:
    if seen.width is None or seen.height is None:
        return False
    return min(seen.width, seen.height) < TINY_SIDE or seen.width * seen.height < TINY_PIXELS


def _page(seen: Observation) -> Verdict:
    if (
        seen.kind in {"image", "video"}
        and not seen.unreadable
        and (seen.same_bytes or seen.matched)
    ):
        return Verdict(CheckStatus.ONLINE, N_("the page address serves the copy itself"))
    moved = _moved_away(seen)
    if moved is not None:
        return moved
    if seen.kind == "html" and seen.refers:
        return Verdict(CheckStatus.ONLINE, N_("the page still shows the copy"))
    if seen.removal_words:
        return Verdict(
            CheckStatus.REMOVED, N_("the page says the content was removed"), placeholder=True
        )
    return Verdict(CheckStatus.CHANGED, N_("the page no longer shows the copy"))


def finding_status(media: CheckStatus | None, page: CheckStatus | None) -> CheckStatus:
    """One status for a copy from its checks: its media address decides when it has one (a
    picture still served is online whatever became of the page; a page still standing
    around a removed picture no longer shows it); else its page."""
    if media is not None:
        return media
    if page is not None:
        return page
    return CheckStatus.UNREACHABLE


# ---------------------------------------------------------------------------- page signals


def is_home_page(url: str) -> bool:
    """An address that is a site's front page: no path (or an index file), no query."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/").lower()
    return not parts.query and path in {"", "/index.html", "/index.php", "/home", "/index"}


def looks_removed_url(url: str) -> bool:
    """An address whose path says removed, deleted, not found… (imgur's removed.png)."""
    return bool(_REMOVED_PATH.search(urlsplit(url).path))


def mentions_removal(text: str) -> bool:
    """The page says, in English or French, that what it showed was removed."""
    return bool(_REMOVAL_WORDS.search(text))


def page_refers_to(html: str, media_url: str) -> bool:
    """The page still names the media: its full address, or its path (relative links)."""
    if media_url in html:
        return True
    parts = urlsplit(media_url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return len(path) > 1 and path in html


# ---------------------------------------------------------------------------- scheduling


@dataclass(frozen=True, slots=True)
class Intervals:
    """How long to wait before checking a copy again, by what its last check found."""

    online: timedelta = timedelta(hours=6)
    changed: timedelta = timedelta(hours=6)
    unreachable: timedelta = timedelta(hours=1)
    removed: timedelta = timedelta(hours=24)  # to catch a copy that comes back

    def after(self, status: CheckStatus) -> timedelta:
        return {
            CheckStatus.ONLINE: self.online,
            CheckStatus.CHANGED: self.changed,
            CheckStatus.UNREACHABLE: self.unreachable,
            CheckStatus.REMOVED: self.removed,
        }[status]

    @classmethod
    def parse(cls, text: str) -> Intervals:
        """`online=6h,unreachable=30m` (s, m, h or d); unnamed statuses keep their default.
        Raises ValueError naming what is wrong."""
        values: dict[str, timedelta] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, amount = part.partition("=")
            name = name.strip().lower()
            if not sep or name not in {s.value for s in CheckStatus}:
                raise ValueError(f"{part!r}: write status=duration, e.g. online=6h")
            values[name] = _duration(amount.strip())
        return cls(**values)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)\s*([smhd])", text.lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h or 1d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


DEFAULT_INTERVALS = Intervals()
