"""Per-site recipes for the web source: where a crawl starts, which links lead to threads and
next pages, where posts and their images are, which hosts it may visit, and its limits.

Owns the recipe format (TOML tables or plain mappings) and its validation into frozen values;
a typo in a recipe fails when it is loaded, not mid-scan. Must not fetch or read pages.
See docs/sources-web.md for a full example.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from rempart.errors import InputError
from rempart.inputs import MiB, read_text_capped
from rempart.sources.html import PostSelectors, is_valid_selector

__all__ = [
    "BoardRules",
    "ImageHostRule",
    "Limits",
    "Recipe",
    "RecipeError",
    "ThreadRules",
    "host_matches",
]


MAX_RECIPE_FILE = 1 * MiB


class RecipeError(InputError):
    """A recipe that cannot be used: unknown keys, wrong types, bad selectors or URLs."""


@dataclass(frozen=True, slots=True)
class BoardRules:
    """A board (forum section) page: links to its threads, and to its next page."""

    thread_links: str
    next_page: str | None = None
    max_pages: int = 5
    title: str | None = None  # the board's name; default: the page's <title>


@dataclass(frozen=True, slots=True)
class ThreadRules:
    """A thread page: its title and the link to its next page."""

    title: str | None = "h1"
    next_page: str | None = None
    max_pages: int = 20


@dataclass(frozen=True, slots=True)
class ImageHostRule:
    """An image host whose pages (linked from posts) show one main image: the media is that
    image, found by `image` (a selector) or else by the page's og:image."""

    host: str
    image: str | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of one scan: they keep a crawl finite on any site, trap or not."""

    max_pages: int = 500  # pages fetched per scan, all hosts together
    max_pages_per_host: int = 300
    max_depth: int = 3  # link hops from a start URL (generic crawling; pagination is free)
    max_pages_per_pattern: int = 250  # pages per URL shape (generic crawling), however useful
    # A URL shape whose last pages gave nothing new (no media, no link elsewhere) is cut after
    # this many of them, or after as many as it ever had useful pages: endless calendars.
    max_idle_pages_per_pattern: int = 10
    max_probes: int = 1000  # links fetched to see whether they lead to media (attachments)
    max_url_length: int = 2048
    max_page_bytes: int = 4 * 1024 * 1024
    max_media_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to crawl one site. With none of board/thread/post it is a generic crawl: same-site
    links followed to `limits.max_depth`, every image of every page taken."""

    name: str
    start_urls: tuple[str, ...]
    allowed_hosts: tuple[str, ...] = ()  # pages may be fetched here; default: start hosts
    media_hosts: tuple[str, ...] = ()  # media may be fetched here; empty: any host
    board: BoardRules | None = None
    thread: ThreadRules | None = None
    post: PostSelectors | None = None
    image_hosts: tuple[ImageHostRule, ...] = ()
    ignore: str | None = None  # removed from every page before reading it (avatars, smileys)
    session_params: tuple[str, ...] = ()  # query parameters to strip, besides the known ones
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not self.start_urls:
            raise RecipeError("recipe {name!r} has no start_urls", name=self.name)
        for url in self.start_urls:
            try:
                parts = urlsplit(url)
            except ValueError:  # `http://[x` (an unclosed IPv6 bracket) and the like
                parts = urlsplit("")
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise RecipeError(
                    "recipe {name!r}: start URL {url!r} is not http(s)", name=self.name, url=url
                )
        if self.thread is None and (self.board is not None or self.post is not None):
            object.__setattr__(self, "thread", ThreadRules())
        if not self.allowed_hosts:
            hosts = tuple(dict.fromkeys(_start_host(u) for u in self.start_urls))
            object.__setattr__(self, "allowed_hosts", hosts)

    @property
    def generic(self) -> bool:
        return self.board is None and self.thread is None and self.post is None

    def allows_page(self, host: str, port: int | None = None) -> bool:
        """Whether pages at `host` (on `port`, None for the scheme's default) may be fetched."""
        return (
            host_matches(host, self.allowed_hosts, port) or self.image_host(host, port) is not None
        )

    def allows_media(self, host: str, port: int | None = None) -> bool:
        return not self.media_hosts or host_matches(host, self.media_hosts, port)

    def image_host(self, host: str, port: int | None = None) -> ImageHostRule | None:
        return next((r for r in self.image_hosts if host_matches(host, (r.host,), port)), None)

    # ---- loading

    @classmethod
    def crawl(cls, start_urls: Iterable[str], *, name: str = "web", **limits: int) -> Recipe:
        """The generic recipe: start URLs and limits only."""
        return cls(name=name, start_urls=tuple(start_urls), limits=Limits(**limits))

    @classmethod
    def from_toml(cls, text: str) -> Recipe:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RecipeError("recipe is not valid TOML: {error}", error=str(exc)) from None
        return cls.from_mapping(data)

    @classmethod
    def from_file(cls, path: str | Path) -> Recipe:
        try:
            text = read_text_capped(path, MAX_RECIPE_FILE)
        except (OSError, UnicodeDecodeError) as exc:
            raise RecipeError(
                "cannot read recipe {name}: {error}", name=Path(path).name, error=str(exc)
            ) from None
        return cls.from_toml(text)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Recipe:
        known = {f.name for f in fields(cls)}
        _no_unknown_keys("recipe", data, known)
        name = _typed(data, "name", str, "recipe")
        where = f"recipe {name!r}"
        board = _section(data, "board", BoardRules, where)
        thread = _section(data, "thread", ThreadRules, where)
        post = _section(data, "post", PostSelectors, where)
        hosts = [
            _table(h, ImageHostRule, f"{where} image_hosts") for h in _list(data, "image_hosts")
        ]
        ignore = data.get("ignore")
        if ignore is not None:
            _check_selector(_typed(data, "ignore", str, where), f"{where} ignore")
        return cls(
            name=name,
            start_urls=tuple(_strings(data, "start_urls", where)),
            allowed_hosts=_hosts(_strings(data, "allowed_hosts", where)),
            media_hosts=_hosts(_strings(data, "media_hosts", where)),
            board=board,
            thread=thread,
            post=post,
            image_hosts=tuple(
                ImageHostRule(host=_hosts([h.host])[0], image=h.image) for h in hosts
            ),
            ignore=ignore,
            session_params=tuple(s.lower() for s in _strings(data, "session_params", where)),
            limits=_section(data, "limits", Limits, where) or Limits(),
        )


def host_matches(host: str, patterns: Iterable[str], port: int | None = None) -> bool:
    """`example.com` matches itself only, on any port; `*.example.com` matches it and its
    subdomains; `127.0.0.1:8402` matches that host on that port only (two sites on one
    address are told apart by their ports). `port` None is the scheme's default (80, 443)."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        name, wanted = _split_port(pattern)
        if wanted is not None and port != wanted and not (port is None and wanted in (80, 443)):
            continue
        if name.startswith("*."):
            suffix = name[2:]
            if host == suffix or host.endswith("." + suffix):
                return True
        elif host == name:
            return True
    return False


def _split_port(pattern: str) -> tuple[str, int | None]:
    """A host pattern's name and port (`name:port`, `[v6]:port`), or its name alone."""
    if pattern.startswith("["):
        name, _bracket, rest = pattern[1:].partition("]")
        return name, _port_number(rest[1:]) if rest[:1] == ":" else None
    name, colon, port = pattern.rpartition(":")
    number = _port_number(port) if colon and ":" not in name else None
    return (name, number) if number is not None else (pattern, None)


def _port_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else None


def _start_host(url: str) -> str:
    """The host a start URL allows by default: its name, with its port when it is not the
    scheme's default (a site on its own port is a site of its own)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == (443 if parts.scheme == "https" else 80):
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# ------------------------------------------------------------------------------ validation

Section = TypeVar("Section")


def _section(data: Mapping[str, Any], key: str, kind: type[Section], where: str) -> Section | None:
    value = data.get(key)
    return None if value is None else _table(value, kind, f"{where} [{key}]")


def _table(value: Any, kind: type[Section], where: str) -> Section:
    if not isinstance(value, Mapping):
        raise RecipeError("{where} must be a table", where=where)
    kind_fields = {f.name: f for f in fields(kind)}  # type: ignore[arg-type]
    _no_unknown_keys(where, value, set(kind_fields))
    for key, item in value.items():
        _check_value(where, key, item, str(kind_fields[key].type))
    try:
        return kind(**value)
    except TypeError as exc:
        raise RecipeError("{where}: {error}", where=where, error=str(exc)) from None


def _check_value(where: str, key: str, value: Any, annotation: str) -> None:
    if annotation == "int":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RecipeError(
                "{where} {key} must be a whole number, got {value!r}",
                where=where,
                key=key,
                value=value,
            )
        return
    if not isinstance(value, str):
        raise RecipeError(
            "{where} {key} must be a string, got {value!r}", where=where, key=key, value=value
        )
    if key in _SELECTOR_KEYS:
        _check_selector(value, f"{where} {key}")


_SELECTOR_KEYS = frozenset(
    {"thread_links", "next_page", "title", "selector", "id_selector", "author", "time"}
    | {"content", "image"}
)


def _check_selector(selector: str, where: str) -> None:
    if not selector.strip() or not is_valid_selector(selector):
        raise RecipeError(
            "{where}: {selector!r} is not a valid CSS selector", where=where, selector=selector
        )


def _no_unknown_keys(where: str, data: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise RecipeError("{where}: unknown key(s) {keys}", where=where, keys=", ".join(unknown))


def _typed(data: Mapping[str, Any], key: str, kind: type[Section], where: str) -> Section:
    value = data.get(key)
    if not isinstance(value, kind):
        raise RecipeError(
            "{where}: {key} must be a {kind}, got {value!r}",
            where=where,
            key=key,
            kind=kind.__name__,
            value=value,
        )
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise RecipeError("recipe: {key} must be a list", key=key)
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    values = _list(data, key)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise RecipeError(
            "{where}: {key} must be a list of non-empty strings", where=where, key=key
        )
    return [v.strip() for v in values]


def _hosts(values: Iterable[str]) -> tuple[str, ...]:
    hosts = tuple(v.lower().rstrip(".") for v in values)
    for host in hosts:
        name, port = _split_port(host)
        bracketed = host.startswith("[")
        if port is None:
            written = f"[{name}]" if bracketed else name
        else:
            written = f"[{name}]:{port}" if bracketed else f"{name}:{port}"
        if (
            not name
            or written != host
            or any(c in name for c in "/ []")
            or (":" in name and not bracketed)
            or (port is not None and not 0 < port < 65536)
        ):
            raise RecipeError(
                "host {host!r} must be a bare name such as img.example.net, or a name and "
                "its port such as 127.0.0.1:8402",
                host=host,
            )
    return hosts
