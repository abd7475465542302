"""From a stored source (kind + settings) to a Source ready to scan, and back to checks.

Owns the settings each kind accepts, so that a bad setting fails when the source is added,
not halfway through a scan. Settings are plain JSON-able values:

  web       recipe (a path to a recipe TOML file, or the recipe as a table) or start_urls
            (generic crawl); optional cookies (a cookies.txt path), proxy (http://, socks5://),
            allow_networks (private networks this source may reach, e.g. ["127.0.0.1/32"]),
            any_port, per_host_concurrency, per_host_interval_s, workers, contact_url
  files     path: a folder or an archive (zip, tar…)
  telegram  path: a Telegram Desktop export folder (or zip); optional username
  warc      path: a .warc, .warc.gz or .wacz file, or a folder of them

Every kind also takes seen_retention_days: how long what a scan saw (hashes, never media) is
kept to match items registered later (rempart.jobs.seen; 0 keeps nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rempart.errors import InputError
from rempart.fetch import Fetcher, FetchPolicy, load_cookies_txt
from rempart.sources.base import Source
from rempart.sources.files import FileSource
from rempart.sources.recipes import Recipe
from rempart.sources.telegram import TelegramExportSource
from rempart.sources.warc import WarcSource
from rempart.sources.web import WebSource

__all__ = ["KINDS", "RETENTION_SETTING", "check", "check_retention", "fetcher_for", "opened"]

RETENTION_SETTING = "seen_retention_days"
_MAX_RETENTION_DAYS = 3660

_WEB_KEYS = frozenset(
    {
        "recipe",
        "start_urls",
        "cookies",
        "proxy",
        "allow_networks",
        "any_port",
        "per_host_concurrency",
        "per_host_interval_s",
        "workers",
        "contact_url",
    }
)


def _only(settings: Mapping[str, Any], allowed: frozenset[str], kind: str) -> None:
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise InputError(
            "unknown setting {setting!r} for a {kind} source (it takes: {allowed})",
            setting=unknown[0],
            kind=kind,
            allowed=", ".join(sorted(allowed)),
        )


def _path(settings: Mapping[str, Any], kind: str) -> Path:
    value = settings.get("path")
    if not isinstance(value, str) or not value:
        raise InputError("a {kind} source needs a path", kind=kind)
    path = Path(value).expanduser()
    if not path.exists():
        raise InputError("{path} does not exist", path=str(path))
    return path


def _recipe(name: str, settings: Mapping[str, Any]) -> Recipe:
    recipe = settings.get("recipe")
    if isinstance(recipe, str):
        return Recipe.from_file(Path(recipe).expanduser())
    if isinstance(recipe, Mapping):
        return Recipe.from_mapping(recipe)
    urls = settings.get("start_urls")
    if recipe is None and isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls):
        return Recipe.crawl(urls, name=name)
    raise InputError("a web source needs a recipe (file or table) or start_urls (a list)")


def _policy(settings: Mapping[str, Any]) -> FetchPolicy:
    numbers = {
        key: settings[key]
        for key in ("per_host_concurrency", "per_host_interval_s")
        if key in settings
    }
    try:
        return FetchPolicy(
            allow_networks=tuple(settings.get("allow_networks", ())),
            any_port=bool(settings.get("any_port", False)),
            contact_url=str(settings.get("contact_url", "")),
            **numbers,
        )
    except (TypeError, ValueError) as exc:
        raise InputError("bad fetch setting: {error}", error=str(exc)) from None


def _web(name: str, settings: Mapping[str, Any]) -> tuple[Recipe, FetchPolicy]:
    _only(settings, _WEB_KEYS, "web")
    return _recipe(name, settings), _policy(settings)


def _files(name: str, settings: Mapping[str, Any]) -> Source:
    _only(settings, frozenset({"path"}), "files")
    return FileSource(_path(settings, "files"))


def _telegram(name: str, settings: Mapping[str, Any]) -> Source:
    _only(settings, frozenset({"path", "username"}), "telegram")
    username = settings.get("username")
    return TelegramExportSource(
        _path(settings, "telegram"), username=str(username) if username else None
    )


def _warc(name: str, settings: Mapping[str, Any]) -> Source:
    _only(settings, frozenset({"path"}), "warc")
    return WarcSource(_path(settings, "warc"))


_LOCAL: dict[str, Callable[[str, Mapping[str, Any]], Source]] = {
    "files": _files,
    "telegram": _telegram,
    "warc": _warc,
}
KINDS = ("web", *_LOCAL)


def check_retention(value: object) -> int:
    """A retention in days (0 to 3660), or InputError."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputError("a retention is a whole number of days, not {value!r}", value=value)
    try:
        days = int(value)
    except ValueError:
        raise InputError(
            "a retention is a whole number of days, not {value!r}", value=value
        ) from None
    if not 0 <= days <= _MAX_RETENTION_DAYS:
        raise InputError("a retention is from 0 to {most} days", most=_MAX_RETENTION_DAYS)
    return days


def _own(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    """The settings of the kind itself, without those every kind takes (checked here)."""
    if RETENTION_SETTING not in settings:
        return settings
    check_retention(settings[RETENTION_SETTING])
    return {key: value for key, value in settings.items() if key != RETENTION_SETTING}


def check(kind: str, name: str, settings: Mapping[str, Any]) -> None:
    """Raise InputError if a source of this kind cannot be built from these settings."""
    settings = _own(settings)
    if kind == "web":
        _web(name, settings)
        cookies = settings.get("cookies")
        if cookies is not None and not Path(str(cookies)).expanduser().is_file():
            raise InputError("cookies file {path} does not exist", path=str(cookies))
        return
    if kind not in _LOCAL:
        raise InputError(
            "unknown source kind {kind!r}: choose one of {kinds}", kind=kind, kinds=", ".join(KINDS)
        )
    _LOCAL[kind](name, settings)


@contextmanager
def opened(kind: str, name: str, settings: Mapping[str, Any]) -> Iterator[Source]:
    """The source, ready to scan, with its network client closed afterwards."""
    settings = _own(settings)
    if kind != "web":
        check(kind, name, settings)
        yield _LOCAL[kind](name, settings)
        return
    recipe, policy = _web(name, settings)
    cookies = settings.get("cookies")
    jar = load_cookies_txt(Path(str(cookies)).expanduser()) if cookies else None
    proxy = settings.get("proxy")
    with Fetcher(policy, cookies=jar, proxy=str(proxy) if proxy else None) as fetcher:
        yield WebSource(recipe, fetcher, workers=int(settings.get("workers", 8)))


@contextmanager
def fetcher_for(kind: str, settings: Mapping[str, Any]) -> Iterator[Fetcher]:
    """A guarded fetcher as a source's scan uses (its networks, ports, cookies and proxy; the
    open web's defaults for a kind that reads no network), closed afterwards."""
    settings = _own(settings)
    if kind != "web":
        with Fetcher(FetchPolicy()) as fetcher:
            yield fetcher
        return
    _only(settings, _WEB_KEYS, "web")
    cookies = settings.get("cookies")
    jar = load_cookies_txt(Path(str(cookies)).expanduser()) if cookies else None
    proxy = settings.get("proxy")
    policy = _policy(settings)
    with Fetcher(policy, cookies=jar, proxy=str(proxy) if proxy else None) as fetcher:
        yield fetcher
