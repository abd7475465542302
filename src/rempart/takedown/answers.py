"""Raw lookup answers kept as evidence, and what Rempart reads in them (pure: bytes in, values out).

Owns `RawAnswer` (time, query, server, the exact bytes, SHA-256) and the reading of RDAP JSON
into abuse contacts. Must not do I/O: the lookups adapter fetches, this module only reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rempart.takedown.errors import RdapError

__all__ = [
    "MAX_RDAP_BYTES",
    "DnsAnswer",
    "RawAnswer",
    "RdapAnswer",
    "RdapRecord",
    "parse_rdap",
]

MAX_RDAP_BYTES = 1 << 20  # real RDAP answers are a few kB; a bigger one is refused, not cut
_MAX_ENTITIES = 200
_MAX_DEPTH = 6
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """One answer exactly as received: what was asked, of whom, when, the bytes and their digest.

    Only complete answers become RawAnswers; a refused or cut one is a problem, never evidence.
    """

    kind: str  # "dns" or "rdap"
    query: str  # "A example.org" or the RDAP URL
    server: str  # "127.0.0.1:53" or the RDAP base URL
    received_at: datetime
    raw: bytes = field(repr=False)
    sha256: str
    media_type: str

    @classmethod
    def of(
        cls, kind: str, query: str, server: str, received_at: datetime, raw: bytes, media_type: str
    ) -> RawAnswer:
        return cls(
            kind, query, server, received_at, raw, hashlib.sha256(raw).hexdigest(), media_type
        )

    def custody_detail(self) -> dict[str, Any]:
        """What a custody event records about this answer (the bytes go to the vault)."""
        return {
            "kind": self.kind,
            "query": self.query,
            "server": self.server,
            "received_at": self.received_at.isoformat(),
            "sha256": self.sha256,
            "size": len(self.raw),
            "media_type": self.media_type,
        }

    def __repr__(self) -> str:
        return f"RawAnswer({self.kind} {self.query!r} sha256={self.sha256[:12]}…)"


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """The records of one type found for a name (CNAME targets and addresses as text)."""

    name: str
    rdtype: str
    records: tuple[str, ...]
    evidence: RawAnswer


@dataclass(frozen=True, slots=True)
class RdapRecord:
    """What an RDAP answer says about who to contact (empty texts where it says nothing)."""

    object_class: str
    handle: str = ""
    name: str = ""
    country: str = ""
    abuse_emails: tuple[str, ...] = ()
    registrar: str = ""
    registrar_abuse_emails: tuple[str, ...] = ()
    origin_asns: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RdapAnswer:
    query: str
    record: RdapRecord
    evidence: RawAnswer


def parse_rdap(raw: bytes) -> RdapRecord:
    """Read an RDAP answer. Raises RdapError when it is not a bounded JSON object."""
    if len(raw) > MAX_RDAP_BYTES:
        raise RdapError("the RDAP answer is larger than {limit} bytes", limit=MAX_RDAP_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RdapError(
            "the RDAP answer is not JSON ({reason})", reason=type(exc).__name__
        ) from exc
    if not isinstance(data, dict):
        raise RdapError("the RDAP answer is not a JSON object")
    object_class = _text(data.get("objectClassName"))
    if object_class not in ("ip network", "autnum", "domain"):
        raise RdapError("the RDAP answer is not about a network, an AS or a domain")
    entities = list(_entities(data.get("entities"), depth=0, within=()))
    abuse = _emails(e for e, path in entities if "abuse" in _roles(e))
    registrar = ""
    registrar_abuse: tuple[str, ...] = ()
    for entity, _path in entities:
        if "registrar" in _roles(entity):
            registrar = _vcard(entity, "fn") or _text(entity.get("handle"))
            registrar_abuse = _emails(
                e for e, p in entities if "abuse" in _roles(e) and id(entity) in p
            )
            break
    asns = data.get("arin_originas0_originautnums")
    origin = (
        tuple(a for a in asns if isinstance(a, int) and 0 < a < 2**32)[:16]
        if isinstance(asns, list)
        else ()
    )
    return RdapRecord(
        object_class=object_class,
        handle=_text(data.get("handle")),
        name=_text(data.get("name") or data.get("ldhName")),
        country=_text(data.get("country"))[:2].upper(),
        abuse_emails=abuse,
        registrar=registrar,
        registrar_abuse_emails=registrar_abuse,
        origin_asns=origin,
    )


def _text(value: object, limit: int = 200) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _roles(entity: Mapping[str, Any]) -> tuple[str, ...]:
    roles = entity.get("roles")
    return tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()


def _entities(
    value: object, *, depth: int, within: tuple[int, ...]
) -> Iterator[tuple[Mapping[str, Any], tuple[int, ...]]]:
    """Entities and nested entities, bounded in depth and number (hostile answers nest)."""
    if depth > _MAX_DEPTH or not isinstance(value, list):
        return
    for count, entity in enumerate(value):
        if count >= _MAX_ENTITIES:
            return
        if isinstance(entity, dict):
            yield entity, within
            yield from _entities(
                entity.get("entities"), depth=depth + 1, within=(*within, id(entity))
            )


def _vcard(entity: Mapping[str, Any], prop: str) -> str:
    found = list(_vcard_values(entity, prop))
    return found[0] if found else ""


def _vcard_values(entity: Mapping[str, Any], prop: str) -> Iterator[str]:
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return
    for item in card[1][:_MAX_ENTITIES]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop:
            value = _text(item[3], 320)
            if value:
                yield value


def _emails(entities: Iterator[Mapping[str, Any]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for entity in entities:
        for value in _vcard_values(entity, "email"):
            value = value.removeprefix("mailto:")
            if _EMAIL.fullmatch(value):
                seen.setdefault(value.lower(), None)
    return tuple(seen)[:8]
