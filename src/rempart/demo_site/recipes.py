"""The demo site's crawler recipes as files: one TOML recipe per site (the format of
docs/sources-web.md) and a sources file for `rempart source load`, for the running ports.

Owns writing them. Must not decide what a recipe says (ServedSite.recipes does) nor serve.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rempart.demo_site.site import ServedSite

__all__ = ["SOURCES_FILE", "to_toml", "write_recipes"]

SOURCES_FILE = "sources.toml"
# What `rempart source load` needs to crawl the demo on this machine: loopback is a private
# network (refused unless allowed), its ports are not 80/443, and no pause between requests
# to one's own machine.
_LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}


def write_recipes(
    served: ServedSite, folder: str | Path, *, telegram_export: str | Path | None = None
) -> list[Path]:
    """Write `forum.toml`, `mirror.toml` and `sources.toml` (both sites as `demo-forum` and
    `demo-mirror`, and the Telegram export as `demo-channel` when given) into `folder`.
    Returns the recipe files, then the sources file."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    sources: list[dict[str, Any]] = []
    for site, recipe in served.recipes().items():
        path = target / f"{site}.toml"
        path.write_text(
            f"# {recipe['name']}: a crawler recipe for the demo site served at "
            f"{recipe['start_urls'][0].split('/board/')[0]}/ (docs/demo-site.md)\n"
            + to_toml(recipe),
            encoding="utf-8",
        )
        written.append(path)
        sources.append({"name": f"demo-{site}", "kind": "web", "recipe": path.name, **_LOOPBACK})
    if telegram_export is not None:
        export = Path(telegram_export).resolve()
        sources.append({"name": "demo-channel", "kind": "telegram", "path": str(export)})
    path = target / SOURCES_FILE
    path.write_text(
        "# The demo sites as Rempart sources: `rempart source load` this file.\n"
        + "\n".join(_table("[source]", source) for source in sources),
        encoding="utf-8",
    )
    return [*written, path]


def to_toml(document: Mapping[str, Any]) -> str:
    """`document` as TOML: values are strings, numbers, booleans, lists of those, tables,
    and lists of tables (all a recipe holds)."""
    return _table("", document)


def _table(header: str, table: Mapping[str, Any], prefix: str = "") -> str:
    plain = {k: v for k, v in table.items() if not _is_table(v) and not _is_tables(v)}
    lines = [f"[{header}]"] if header else []
    lines += [f"{_key(k)} = {_value(v)}" for k, v in plain.items()]
    text = "\n".join(lines) + "\n" if lines else ""
    for key, value in table.items():
        name = f"{prefix}{_key(key)}"
        if _is_table(value):
            text += "\n" + _table(name, value, f"{name}.")
        elif _is_tables(value):
            for entry in value:
                text += "\n" + _table(f"[{name}]", entry, f"{name}.")
    return text


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")
