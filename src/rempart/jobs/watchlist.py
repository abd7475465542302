"""The watched sources: add, load from a TOML file, list, show and remove them.

Sources live in the store (the truth a scheduler and every worker read); a TOML file is how a
caseworker writes many at once and keeps them under version control. Each source's settings
are checked by its kind (rempart.sources.catalog) before anything is stored.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rempart.clock import Clock, utc_now
from rempart.errors import Conflict, InputError, NotFound
from rempart.inputs import MiB, read_text_capped
from rempart.sources import catalog
from rempart.store.database import Database
from rempart.store.models import ScanRun, Sighting, SourceRow

__all__ = [
    "SourceInfo",
    "add_source",
    "get_source",
    "list_sources",
    "load_sources_file",
    "parse_every",
    "remove_source",
    "set_every",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: int
    name: str
    kind: str
    settings: Mapping[str, Any]
    every_s: int | None
    last_run_status: str | None
    last_run_finished: datetime | None


def parse_every(text: str | int | None) -> int | None:
    """Read an interval: "6h", "30m", "1d", "90s" or seconds; None: scan only on demand."""
    if text is None or text == "":
        return None
    if isinstance(text, int):
        seconds = text
    else:
        found = _EVERY.match(text)
        if found is None:
            raise InputError("cannot read interval {text!r}: write e.g. 30m, 6h or 1d", text=text)
        seconds = int(found.group(1)) * _UNITS[found.group(2)]
    if seconds < 60:
        raise InputError("re-scan interval must be at least a minute (be polite to the sites)")
    return seconds


def add_source(
    db: Database,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    *,
    every_s: int | None = None,
    replace: bool = False,
    clock: Clock = utc_now,
) -> int:
    """Store a source after checking its settings; `replace` updates one of that name."""
    if not _NAME.match(name):
        raise InputError("source name {name!r}: use letters, digits, '-', '_' or '.'", name=name)
    catalog.check(kind, name, settings)  # raises InputError on bad settings
    text = json.dumps(dict(settings), sort_keys=True)
    with db.session() as session:
        row = session.scalar(select(SourceRow).where(SourceRow.name == name))
        if row is not None and not replace:
            raise Conflict(
                "a source named {name!r} exists (remove it first, or add it again with --replace)",
                name=name,
            )
        if row is None:
            row = SourceRow(
                name=name, kind=kind, settings=text, every_s=every_s, created_at=clock()
            )
            session.add(row)
        else:
            row.kind, row.settings, row.every_s = kind, text, every_s
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict("a source named {name!r} exists", name=name) from exc
        return row.id


MAX_SOURCES_FILE = 4 * MiB


def load_sources_file(db: Database, path: Path, *, clock: Clock = utc_now) -> list[str]:
    """Add or update every [[source]] of a TOML file, all or none. Returns their names."""
    try:
        document = tomllib.loads(read_text_capped(path, MAX_SOURCES_FILE))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("cannot read {path}: {error}", path=str(path), error=exc) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError("{path} is not valid TOML: {error}", path=str(path), error=exc) from exc
    entries = document.get("source")
    if not isinstance(entries, list) or not entries:
        raise InputError("{path} has no [[source]] tables (see docs/sources.md)", path=str(path))
    parsed: list[tuple[str, str, dict[str, Any], int | None]] = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise InputError(
                "{path}: source #{number} is not a table", path=str(path), number=number
            )
        settings = dict(entry)
        name, kind = settings.pop("name", None), settings.pop("kind", None)
        if not isinstance(name, str) or not isinstance(kind, str):
            raise InputError(
                "{path}: source #{number} needs a name and a kind", path=str(path), number=number
            )
        if not _NAME.match(name):
            raise InputError(
                "{path}: source name {name!r}: use letters, digits, '-', '_' or '.'",
                path=str(path),
                name=name,
            )
        _anchor_paths(settings, path.parent)
        try:
            every = parse_every(settings.pop("every", None))
            catalog.check(kind, name, settings)
        except InputError as exc:
            raise InputError(
                "{path}: source {name!r}: {error}", path=str(path), name=name, error=exc
            ) from exc
        parsed.append((name, kind, settings, every))
    for name, kind, settings, every in parsed:
        add_source(db, name, kind, settings, every_s=every, replace=True, clock=clock)
    return [name for name, _, _, _ in parsed]


def _anchor_paths(settings: dict[str, Any], folder: Path) -> None:
    """Relative paths in a sources file are relative to the file, stored absolute: scans,
    `watch` and workers may run from any folder."""
    for key in ("path", "cookies", "recipe"):
        value = settings.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            settings[key] = str((folder / value).resolve())


def _info(row: SourceRow, last: ScanRun | None) -> SourceInfo:
    return SourceInfo(
        row.id,
        row.name,
        row.kind,
        json.loads(row.settings),
        row.every_s,
        last.status if last else None,
        last.finished_at if last else None,
    )


def list_sources(db: Database) -> list[SourceInfo]:
    with db.session() as session:
        rows = session.scalars(select(SourceRow).order_by(SourceRow.name)).all()
        return [_info(row, _last_run(session, row.id)) for row in rows]


def get_source(db: Database, name: str) -> SourceInfo:
    with db.session() as session:
        row = session.scalar(select(SourceRow).where(SourceRow.name == name))
        if row is None:
            raise NotFound("no source named {name!r} (see `rempart source list`)", name=name)
        return _info(row, _last_run(session, row.id))


def remove_source(db: Database, name: str) -> None:
    """Forget a source with its scan history and seen list. A source where copies were found
    is kept: its sightings are evidence (stop watching it by removing its interval instead)."""
    with db.session() as session:
        row = session.scalar(select(SourceRow).where(SourceRow.name == name))
        if row is None:
            raise NotFound("no source named {name!r} (see `rempart source list`)", name=name)
        found = session.scalar(
            select(func.count()).select_from(Sighting).where(Sighting.source_id == row.id)
        )
        if found:
            raise Conflict(
                "source {name!r} holds evidence (sightings of protected images: {found}) and "
                "stays; stop watching it with `rempart source schedule {name} off`",
                name=name,
                found=found,
            )
        session.delete(row)


def set_every(db: Database, name: str, every_s: int | None) -> None:
    """Change how often `watch` re-scans a source (None: only on demand)."""
    with db.session() as session:
        row = session.scalar(select(SourceRow).where(SourceRow.name == name))
        if row is None:
            raise NotFound("no source named {name!r} (see `rempart source list`)", name=name)
        row.every_s = every_s


def _last_run(session: Any, source_id: int) -> ScanRun | None:
    run: ScanRun | None = session.scalar(
        select(ScanRun).where(ScanRun.source_id == source_id).order_by(ScanRun.id.desc()).limit(1)
    )
    return run
