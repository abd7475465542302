"""Which RFC 3161 time-stamping authorities an organisation uses: read from a small TOML file
(`$REMPART_HOME/authorities.toml`, or the file `REMPART_TSA_CONFIG` names).

Parses and checks only; must not contact an authority.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rempart.errors import InputError
from rempart.evidence.timestamps import TimestampAuthority
from rempart.inputs import MiB, read_capped, read_text_capped
from rempart.private import write_private

__all__ = ["CONFIG_ENV", "authorities_file", "load_authorities", "write_authorities"]

CONFIG_ENV = "REMPART_TSA_CONFIG"
_MAX_CERT = 256 * 1024


def authorities_file(home: Path, env: Mapping[str, str]) -> Path:
    return Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else home / "authorities.toml"


def load_authorities(path: Path) -> tuple[TimestampAuthority, ...]:
    """The authorities listed in `path`:

        [[authority]]
        name = "freetsa"                       # [a-z0-9-], names its files in bundles
        url = "https://freetsa.org/tsr"
        certificates = ["freetsa-chain.pem"]   # its chain, root included (relative: to this file)

    A missing file means none is configured (sealing then says how to configure one)."""
    if not path.is_file():
        return ()
    try:
        document = tomllib.loads(read_text_capped(path, 1 * MiB))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            "{path}: not a readable authorities file: {reason}", path=path, reason=exc
        ) from None
    entries = document.get("authority", [])
    if not isinstance(entries, list):
        raise InputError("{path}: `authority` must be a list of [[authority]] tables", path=path)
    found: list[TimestampAuthority] = []
    for number, entry in enumerate(entries, 1):
        found.append(_authority(path, number, entry))
    names = [a.name for a in found]
    if len(set(names)) != len(names):
        raise InputError("{path}: two authorities share a name", path=path)
    return tuple(found)


def _authority(path: Path, number: int, entry: Any) -> TimestampAuthority:
    where = {"path": path, "number": number}
    if not isinstance(entry, dict):
        raise InputError("{path}, authority {number}: not a table", **where)
    name, url, certificates = entry.get("name"), entry.get("url"), entry.get("certificates", [])
    if not isinstance(name, str) or not isinstance(url, str):
        raise InputError(
            "{path}, authority {number}: `name` and `url` are required strings", **where
        )
    if not isinstance(certificates, list) or not all(isinstance(c, str) for c in certificates):
        raise InputError(
            "{path}, authority {number}: `certificates` is a list of file names", **where
        )
    blobs: list[bytes] = []
    for name_of_file in certificates:
        file = (path.parent / name_of_file).resolve()
        try:
            if file.stat().st_size > _MAX_CERT:
                raise InputError(
                    "{path}, authority {number}: {file} is too large for a certificate file",
                    file=file,
                    **where,
                )
            blobs.append(read_capped(file, _MAX_CERT))
        except OSError as exc:
            raise InputError(
                "{path}, authority {number}: cannot read {file}: {reason}",
                file=file,
                reason=exc.strerror,
                **where,
            ) from None
    try:
        return TimestampAuthority(name=name, url=url, certificates=tuple(blobs))
    except ValueError as exc:
        raise InputError("{path}, authority {number}: {reason}", reason=exc, **where) from None


def write_authorities(path: Path, entries: list[tuple[str, str, list[str]]]) -> None:
    """Write an authorities file (name, url, certificate files) — used by the demo."""
    lines: list[str] = []
    for name, url, certificates in entries:
        files = ", ".join(json.dumps(c) for c in certificates)  # JSON strings are TOML strings
        lines += [
            "[[authority]]",
            f"name = {json.dumps(name)}",
            f"url = {json.dumps(url)}",
            f"certificates = [{files}]",
            "",
        ]
    write_private(path, "\n".join(lines).encode("utf-8"))
