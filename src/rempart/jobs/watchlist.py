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
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rempart.clock import Clock, utc_now
from rempart.errors import Conflict, InputError, NotFound
from rempart.inputs import MiB, read_text_capped
from rempart.sources import catalog
from rempart.store.database import Database
from rempart.store.models import ScanRun, Sighting, SourceRow

if TYPE_CHECKING:
    from rempart.evidence.vault import Vault

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
    vault: Vault | None = None,
) -> int:
    """Store a source after checking its settings; `replace` updates one of that name. A
    proxy password is kept sealed with the vault key (`vault` is then required), never in
    clear."""
    if not _NAME.match(name):
        raise InputError("source name {name!r}: use letters, digits, '-', '_' or '.'", name=name)
    catalog.check(kind, name, settings)  # raises InputError on bad settings
    text = json.dumps(sealed_settings(name, settings, vault), sort_keys=True)
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


def load_sources_file(
    db: Database, path: Path, *, clock: Clock = utc_now, vault: Vault | None = None
) -> list[str]:
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
        add_source(db, name, kind, settings, every_s=every, replace=True, clock=clock, vault=vault)
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


# --------------------------------------------------------------------------------- secrets

_SEALED_PASSWORD = "proxy_password"  # noqa: S105 (a settings key; its value is sealed)
MASK = "********"


def _secret_label(name: str) -> str:
    return f"source:{name}:proxy"


def sealed_settings(name: str, settings: Mapping[str, Any], vault: Vault | None) -> dict[str, Any]:
    """`settings` as stored: a password in the proxy URL moves out of it, sealed."""
    stored = {k: v for k, v in settings.items() if k != _SEALED_PASSWORD}
    proxy = settings.get("proxy")
    parts = urlsplit(str(proxy)) if proxy else None
    if parts is None or parts.password is None:
        return stored
    if vault is None:
        raise InputError(
            "a proxy password is kept encrypted with the vault key, which is not open here"
        )
    stored["proxy"] = urlunsplit(parts._replace(netloc=_netloc(parts, None)))
    stored[_SEALED_PASSWORD] = vault.seal_secret(_secret_label(name), unquote(parts.password))
    return stored


def scan_settings(info: SourceInfo, vault: Vault | None) -> Mapping[str, Any]:
    """The settings a scan uses: the proxy password, unsealed, back in the proxy URL."""
    token = info.settings.get(_SEALED_PASSWORD)
    if not token:
        return info.settings
    if vault is None:
        raise InputError(
            "source {name}: its proxy password is encrypted with the vault key, which is not "
            "open here",
            name=info.name,
        )
    password = vault.open_secret(_secret_label(info.name), str(token))
    parts = urlsplit(str(info.settings["proxy"]))
    settings = {k: v for k, v in info.settings.items() if k != _SEALED_PASSWORD}
    settings["proxy"] = urlunsplit(parts._replace(netloc=_netloc(parts, password)))
    return settings


def masked_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings fit to show or log: no password, sealed or (stored before sealing) in clear."""
    shown = dict(settings)
    if _SEALED_PASSWORD in shown:
        shown[_SEALED_PASSWORD] = MASK
    proxy = shown.get("proxy")
    if proxy:
        parts = urlsplit(str(proxy))
        if parts.password is not None:
            shown["proxy"] = urlunsplit(parts._replace(netloc=_netloc(parts, MASK, quoted=True)))
    return shown


def reseal_secrets(db: Database, vault: Vault) -> int:
    """Seal every stored proxy password with the vault's current key (after a rotation, and
    for passwords stored in clear before they were sealed). Returns how many changed."""
    changed = 0
    with db.session() as session:
        for row in session.scalars(select(SourceRow)):
            settings = json.loads(row.settings)
            token = settings.get(_SEALED_PASSWORD)
            if token:
                label = _secret_label(row.name)
                settings[_SEALED_PASSWORD] = vault.rewrap_secret(label, str(token))
            elif urlsplit(str(settings.get("proxy") or "")).password is None:
                continue
            else:
                settings = sealed_settings(row.name, settings, vault)
            row.settings = json.dumps(settings, sort_keys=True)
            changed += 1
    return changed


def _netloc(parts: Any, password: str | None, *, quoted: bool = False) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username
    if user is None:
        return host
    if password is None:
        return f"{user}@{host}"
    secret = password if quoted else quote(password, safe="")
    return f"{user}:{secret}@{host}"
