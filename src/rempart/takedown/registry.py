"""The platform registry: who runs a known service, how to reach them, and where each fact comes
from. Owns parsing and checking `platforms.toml` files and host lookup; must not touch the network
(the public-suffix list is tldextract's bundled snapshot, never fetched).

The shipped file (`rempart/takedown/platforms.toml`) is read first, then the association's
`$REMPART_HOME/platforms.toml`, whose entries add platforms or override shipped ones key by key.
A wrong file is refused with its path, the line of the fault and the key at fault.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import tldextract

from rempart.i18n import N_
from rempart.inputs import MiB, read_text_capped
from rempart.takedown.errors import RegistryError

__all__ = [
    "FACTS",
    "Detection",
    "Fact",
    "Platform",
    "Registry",
    "Role",
    "load_registry",
    "normalise_host",
    "parse_registry",
    "registrable_domain",
    "shipped_registry_text",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Role(StrEnum):
    """What a recipient does for a copy. Stored by value: never rename one."""

    HOST = "host"
    MESSAGING = "messaging"
    CDN = "cdn"
    NETWORK = "network"
    REGISTRAR = "registrar"
    SEARCH = "search"
    HOTLINE = "hotline"


# Every fact a platform may carry, with what its value must look like.
FACTS: Mapping[str, str] = MappingProxyType(
    {
        "country": "country",
        "dsa_contact": "contact",
        "notice_email": "email",
        "notice_form": "url",
        "ncii_form": "url",
        "language": "language",
        "response_time": "duration",
    }
)
_IDENTITY = ("name", "roles", "domains", "detect")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_CHECKS = {
    "country": re.compile(r"[A-Z]{2}"),
    "language": re.compile(r"[a-z]{2,3}"),
    "duration": re.compile(r"[1-9][0-9]{0,4}[hd]"),
    "email": _EMAIL,
    "url": re.compile(r"https://[^\s\"<>]{1,500}"),
    "contact": re.compile(r"(https://[^\s\"<>]{1,500})|([^\s@]{1,64}@[^\s@]{1,253})"),
}


@dataclass(frozen=True, slots=True)
class Fact:
    """One public fact about a platform: its value, the page it comes from, when it was checked
    (None: never compared with its page by a person)."""

    value: str
    source: str
    checked: date | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    """How to recognise a CDN in front of a site: address ranges, CNAME targets, headers."""

    source: str
    ranges: tuple[Network, ...] = ()
    cname_suffixes: tuple[str, ...] = ()
    headers: tuple[tuple[str, str | None], ...] = ()

    def matches_address(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.ranges)

    def matches_cname(self, target: str) -> bool:
        target = target.rstrip(".").lower()
        return any(target == s or target.endswith("." + s) for s in self.cname_suffixes)

    def matches_headers(self, headers: Mapping[str, str]) -> bool:
        lowered = {k.lower(): v.lower() for k, v in headers.items()}
        for name, value in self.headers:
            if name in lowered and (value is None or value in lowered[name]):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Platform:
    """A known service: identity, domains, facts with their sources, CDN detection hints."""

    id: str
    name: str
    roles: tuple[Role, ...]
    domains: tuple[str, ...] = ()
    facts: Mapping[str, Fact] = field(default_factory=lambda: MappingProxyType({}))
    detect: Detection | None = None
    origin: str = ""

    def fact(self, name: str) -> Fact | None:
        """The fact, or None where it is unknown."""
        return self.facts.get(name)


@dataclass(frozen=True, slots=True)
class Registry:
    """Every known platform by id, with an index of their domains for host lookup (a domain
    claimed twice goes to the platform listed last: the association's file comes last)."""

    platforms: Mapping[str, Platform]
    _domains: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        domains = {d: p.id for p in self.platforms.values() for d in p.domains}
        object.__setattr__(self, "_domains", MappingProxyType(domains))

    @classmethod
    def of(cls, platforms: Iterable[Platform]) -> Registry:
        return cls(MappingProxyType({p.id: p for p in platforms}))

    def __getitem__(self, platform_id: str) -> Platform:
        return self.platforms[platform_id]

    def get(self, platform_id: str) -> Platform | None:
        return self.platforms.get(platform_id)

    def by_host(self, host: str, port: int | None = None) -> Platform | None:
        """The platform whose registered domain is `host` or its nearest parent, if any.
        Platforms are known by name on any port; `port` (the URL's, when it names one) is for
        registries that know sites sharing one address, as the demo's do."""
        name = normalise_host(host)
        while name:
            found = self._domains.get(name)
            if found is not None:
                return self.platforms[found]
            _label, _dot, name = name.partition(".")
        return None

    def with_role(self, role: Role) -> tuple[Platform, ...]:
        return tuple(p for p in self.platforms.values() if role in p.roles)

    def cdns(self) -> tuple[Platform, ...]:
        return tuple(p for p in self.with_role(Role.CDN) if p.detect is not None)


# ------------------------------------------------------------------------------ host names


@cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot only: no URL to fetch, no cache folder to write.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def normalise_host(host: str) -> str:
    """A host name as the registry stores it: lower case, IDNA (punycode), no trailing dot."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def registrable_domain(host: str) -> str:
    """The name a registrar sells (`example.co.uk` for `a.b.example.co.uk`); "" if none."""
    parts = _extractor()(normalise_host(host))
    return parts.top_domain_under_public_suffix


def _is_public_suffix(name: str) -> bool:
    parts = _extractor()(name)
    return not parts.domain and bool(parts.suffix)


# --------------------------------------------------------------------------------- loading


def shipped_registry_text() -> str:
    return (resources.files("rempart.takedown") / "platforms.toml").read_text(encoding="utf-8")


MAX_REGISTRY_FILE = 4 * MiB  # the operator's platforms.toml


def load_registry(home: Path | None = None) -> Registry:
    """The shipped registry, with `home/platforms.toml` laid over it when that file exists."""
    platforms = parse_registry(shipped_registry_text(), origin="platforms.toml (shipped)")
    if home is not None:
        path = home / "platforms.toml"
        if path.is_file():
            try:
                text = read_text_capped(path, MAX_REGISTRY_FILE)
            except (OSError, UnicodeDecodeError) as exc:
                raise RegistryError(
                    "{path}: cannot be read ({reason})", path=str(path), reason=str(exc)
                ) from exc
            platforms = parse_registry(text, origin=str(path), base=platforms)
    return Registry.of(platforms.values())


def parse_registry(
    text: str, *, origin: str = "<platforms>", base: Mapping[str, Platform] | None = None
) -> dict[str, Platform]:
    """Platforms from one file, laid over `base` (entries with a known id override key by key).

    Raises RegistryError naming `origin`, the line and the key of the first fault.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = getattr(exc, "lineno", None) or _line_from_message(message, text)
        raise RegistryError(
            "{path}, line {line}: not valid TOML ({reason})",
            path=origin,
            line=line,
            reason=getattr(exc, "msg", re.sub(r"\s*\(at [^)]*\)$", "", message)),
        ) from exc
    locate = _Locator(text)
    out = dict(base or {})
    for key in data:
        if key not in ("schema", "platform"):
            raise RegistryError(
                "{path}, line {line}: unknown key {key!r}",
                path=origin,
                line=locate.top(key),
                key=key,
            )
    if data.get("schema", 1) != 1:
        raise RegistryError(
            "{path}, line {line}: unknown key {key!r}",
            path=origin,
            line=locate.top("schema"),
            key="schema",
        )
    table = data.get("platform", {})
    if not isinstance(table, dict):
        raise RegistryError(
            "{path}, line {line}: {key!r} must be a table of platforms",
            path=origin,
            line=locate.top("platform"),
            key="platform",
        )
    claimed: dict[str, str] = {}
    for platform_id, entry in table.items():
        checker = _EntryChecker(origin, platform_id, locate)
        platform = checker.platform(entry, out.get(platform_id))
        for domain in platform.domains if "domains" in entry else ():
            if domain in claimed and claimed[domain] != platform_id:
                checker.fail(
                    "domains",
                    N_("{domain} is already claimed by {other}"),
                    domain=domain,
                    other=claimed[domain],
                )
            claimed[domain] = platform_id
        out[platform_id] = platform
    return out


def _line_from_message(message: str, text: str) -> int:
    """The line tomllib names (Python 3.11 puts it in the message; at the end: the last line)."""
    found = re.search(r"line (\d+)", message)
    if found:
        return int(found.group(1))
    return max(1, len(text.splitlines())) if "end of document" in message else 1


class _Locator:
    """Finds the line of a table header or of a key in it, for error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def top(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(\[\s*)?{re.escape(key)}\b")
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                return number
        return 1

    def entry(self, platform_id: str, key: str | None = None) -> int:
        quoted = rf"(?:{re.escape(platform_id)}|\"{re.escape(platform_id)}\")"
        header = re.compile(rf"^\s*\[\s*platform\s*\.\s*{quoted}\s*\]")
        start = next((n for n, line in enumerate(self.lines, 1) if header.match(line)), 0)
        if not start:
            return 1
        if key is None:
            return start
        target = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if line.lstrip().startswith("[") and not line.lstrip().startswith("[["):
                sub = re.compile(rf"^\s*\[\s*platform\s*\.\s*{quoted}\s*\.\s*{re.escape(key)}\b")
                if sub.match(line):
                    return number
                if not line.strip().startswith(f"[platform.{platform_id}."):
                    break
                continue
            if target.match(line):
                return number
        return start


class _EntryChecker:
    def __init__(self, origin: str, platform_id: str, locate: _Locator) -> None:
        self.origin, self.id, self.locate = origin, platform_id, locate

    def fail(self, key: str | None, reason: str, **values: Any) -> NoReturn:
        raise RegistryError(
            "{path}, line {line}: platform {platform!r}, key {key!r}: {reason}",
            path=self.origin,
            line=self.locate.entry(self.id, key),
            platform=self.id,
            key=key or "",
            reason=RegistryError(reason, **values),
        )

    def platform(self, entry: object, known: Platform | None) -> Platform:
        if not _ID.fullmatch(self.id):
            self.fail(None, N_("a platform id is lower-case letters, digits and dashes"))
        if not isinstance(entry, dict):
            self.fail(None, N_("must be a table"))
        for key in entry:
            if key not in _IDENTITY and key not in FACTS:
                self.fail(key, N_("unknown key"))
        if known is None and "name" not in entry:
            self.fail("name", N_("a new platform needs a name"))
        name = self.text(entry, "name", known.name if known else "")
        roles = self.roles(entry["roles"]) if "roles" in entry else None
        if roles is None:
            if known is None:
                self.fail("roles", N_("a new platform needs its roles"))
            roles = known.roles
        domains = self.domains(entry["domains"]) if "domains" in entry else None
        facts = dict(known.facts) if known else {}
        for key in FACTS:
            if key in entry:
                facts[key] = self.fact(key, entry[key])
        detect = self.detect(entry["detect"]) if "detect" in entry else None
        return Platform(
            id=self.id,
            name=name,
            roles=roles,
            domains=domains if domains is not None else (known.domains if known else ()),
            facts=MappingProxyType(facts),
            detect=detect if detect is not None else (known.detect if known else None),
            origin=self.origin,
        )

    def text(self, entry: dict[str, Any], key: str, default: str) -> str:
        value = entry.get(key, default)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            self.fail(key, N_("must be a non-empty text of at most 200 characters"))
        return str(value).strip()

    def roles(self, value: object) -> tuple[Role, ...]:
        if not isinstance(value, list) or not value:
            self.fail("roles", N_("must be a non-empty list"))
        out = []
        for item in value:
            try:
                out.append(Role(item))
            except ValueError:
                self.fail(
                    "roles",
                    N_("unknown role {role!r} (known: {known})"),
                    role=item,
                    known=", ".join(r.value for r in Role),
                )
        return tuple(out)

    def domains(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail("domains", N_("must be a list of domain names"))
        out = []
        for item in value:
            if not isinstance(item, str):
                self.fail("domains", N_("must be a list of domain names"))
            domain = normalise_host(str(item))
            labels = domain.split(".")
            if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
                self.fail("domains", N_("{domain!r} is not a domain name"), domain=item)
            if _is_address(domain) or _is_public_suffix(domain):
                self.fail("domains", N_("{domain!r} is a public suffix, not a site"), domain=item)
            out.append(domain)
        return tuple(out)

    def fact(self, key: str, value: object) -> Fact:
        if not isinstance(value, dict):
            self.fail(key, N_("must be an inline table: value, source and, when known, checked"))
        extra = set(value) - {"value", "source", "checked"}
        if extra:
            self.fail(key, N_("unknown field {field!r}"), field=sorted(extra)[0])
        raw, source, checked = value.get("value"), value.get("source"), value.get("checked")
        if not isinstance(raw, str) or not _CHECKS[FACTS[key]].fullmatch(raw):
            self.fail(key, N_("{value!r} is not a valid {kind}"), value=raw, kind=FACTS[key])
        if not isinstance(source, str) or not _CHECKS["url"].fullmatch(source):
            self.fail(key, N_("every fact needs the https:// page it comes from (source)"))
        if checked is not None and (not isinstance(checked, date) or hasattr(checked, "hour")):
            self.fail(key, N_("checked must be a date (YYYY-MM-DD)"))
        return Fact(value=str(raw), source=str(source), checked=checked)

    def detect(self, value: object) -> Detection:
        if not isinstance(value, dict):
            self.fail("detect", N_("must be a table"))
        extra = set(value) - {"source", "ranges", "cname_suffixes", "headers"}
        if extra:
            self.fail("detect", N_("unknown field {field!r}"), field=sorted(extra)[0])
        source = value.get("source")
        if not isinstance(source, str) or not _CHECKS["url"].fullmatch(source):
            self.fail("detect", N_("every fact needs the https:// page it comes from (source)"))
        ranges = []
        for item in self.strings(value, "ranges"):
            try:
                ranges.append(ipaddress.ip_network(item))
            except ValueError:
                self.fail("detect", N_("{value!r} is not an address range"), value=item)
        suffixes = tuple(normalise_host(s) for s in self.strings(value, "cname_suffixes"))
        headers: list[tuple[str, str | None]] = []
        for item in self.strings(value, "headers"):
            name, sep, expected = item.partition("=")
            if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", name):
                self.fail("detect", N_("{value!r} is not a header name"), value=item)
            headers.append((name.lower(), expected.strip().lower() if sep else None))
        return Detection(str(source), tuple(ranges), suffixes, tuple(headers))

    def strings(self, table: dict[str, Any], key: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail("detect", N_("{field} must be a list of texts"), field=key)
        return list(value)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
