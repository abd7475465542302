"""The network side of the resolution chain: DNS queries, RDAP queries, their cache.

Owns talking to one DNS resolver (dnspython's message API over our own socket, so the exact
bytes received are kept) and to RDAP servers (httpx, streamed, bounded in size and time), and
turning every failure into a DnsError or RdapError. Must not decide who is notified
(recipients.py does) and never downloads anything unless `refresh_bootstrap` is called.

Why httpx and not whoisit for RDAP: whoisit keeps its bootstrap in module-wide state, refuses
every "private" address (which includes the documentation ranges tests use), falls back to live
RIR servers when a lookup misses the bootstrap, reads bodies without a size bound and hands back
parsed JSON, not the bytes received. So the bootstrap is read by `bootstrap.py` from IANA's own
file format, queries go through httpx with explicit limits, and answers are read by `answers.py`.
The origin AS of an address comes from the RDAP answer when the RIR gives it (ARIN), else from
a DNS TXT query to an IP-to-ASN zone (Team Cymru's by default) through the same resolver.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import httpx

from rempart import __version__
from rempart.clock import Clock, utc_now
from rempart.takedown.answers import (
    MAX_RDAP_BYTES,
    DnsAnswer,
    RawAnswer,
    RdapAnswer,
    parse_rdap,
)
from rempart.takedown.bootstrap import BOOTSTRAP_FILES, RdapBootstrap
from rempart.takedown.errors import DnsError, NxDomainError, RdapError
from rempart.takedown.recipients import Lookups

__all__ = [
    "IANA_BOOTSTRAP_BASE",
    "CachingLookups",
    "DnsClient",
    "LookupSettings",
    "NetworkLookups",
    "RdapClient",
    "network_lookups",
    "refresh_bootstrap",
]

IANA_BOOTSTRAP_BASE = "https://data.iana.org/rdap/"
_USER_AGENT = f"Rempart/{__version__} (recipient lookup)"
_MAX_DNS_BYTES = 65535
T = TypeVar("T")


# --------------------------------------------------------------------------------------- DNS


class DnsClient:
    """Queries one DNS resolver (address and port configurable) and keeps the raw answers."""

    def __init__(
        self, server: str, port: int = 53, *, timeout: float = 3.0, clock: Clock = utc_now
    ) -> None:
        self.server, self.port, self.timeout, self.clock = server, port, timeout, clock
        self.family = socket.AF_INET6 if ":" in server else socket.AF_INET

    def query(self, name: str, rdtype: str) -> DnsAnswer:
        label = f"{rdtype} {name}"
        try:
            question = dns.message.make_query(dns.name.from_text(name), rdtype)
        except (dns.exception.DNSException, ValueError) as exc:
            raise DnsError("{query}: not a name DNS can be asked about", query=label) from exc
        deadline = time.monotonic() + self.timeout
        raw, response = self._udp(question, deadline, label)
        if response.flags & dns.flags.TC:
            raw, response = self._tcp(question, deadline, label)
        records = answer_records(response, rdtype, label)
        evidence = RawAnswer.of(
            "dns",
            label,
            f"{self.server}:{self.port}",
            self.clock(),
            raw,
            "application/dns-message",
        )
        return DnsAnswer(name, rdtype, records, evidence)

    def _udp(
        self, question: dns.message.Message, deadline: float, label: str
    ) -> tuple[bytes, dns.message.Message]:
        with socket.socket(self.family, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(question.to_wire(), (self.server, self.port))
                while True:
                    sock.settimeout(_remaining(deadline, label))
                    raw, peer = sock.recvfrom(_MAX_DNS_BYTES)
                    if peer[0] != self.server or peer[1] != self.port:
                        continue  # not our resolver: ignore, keep waiting
                    response = parse_dns_message(raw, label)
                    if question.is_response(response):
                        return raw, response
            except TimeoutError as exc:
                raise DnsError("{query}: no answer in time", query=label) from exc
            except OSError as exc:
                raise DnsError(
                    "{query}: the resolver cannot be reached ({reason})",
                    query=label,
                    reason=type(exc).__name__,
                ) from exc

    def _tcp(
        self, question: dns.message.Message, deadline: float, label: str
    ) -> tuple[bytes, dns.message.Message]:
        wire = question.to_wire()
        try:
            with socket.create_connection(
                (self.server, self.port), timeout=_remaining(deadline, label)
            ) as sock:
                sock.sendall(struct.pack("!H", len(wire)) + wire)
                (size,) = struct.unpack("!H", _read_exactly(sock, 2, deadline, label))
                raw = _read_exactly(sock, size, deadline, label)
        except TimeoutError as exc:
            raise DnsError("{query}: no answer in time", query=label) from exc
        except OSError as exc:
            raise DnsError(
                "{query}: the resolver cannot be reached ({reason})",
                query=label,
                reason=type(exc).__name__,
            ) from exc
        response = parse_dns_message(raw, label)
        if not question.is_response(response):
            raise DnsError("{query}: the resolver's answer is garbage", query=label)
        return raw, response


def answer_records(response: dns.message.Message, rdtype: str, label: str) -> tuple[str, ...]:
    """The records of type `rdtype` in a resolver's answer, as text (at most 64). Raises
    NxDomainError or DnsError when the resolver refused or the name does not exist."""
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        raise NxDomainError("{query}: no such domain (NXDOMAIN)", query=label)
    if rcode != dns.rcode.NOERROR:
        raise DnsError(
            "{query}: the resolver answered {rcode}",
            query=label,
            rcode=dns.rcode.to_text(rcode),
        )
    wanted = dns.rdatatype.from_text(rdtype)
    records: list[str] = []
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue
        for rdata in rrset:
            if wanted == dns.rdatatype.TXT:
                records.append(b"".join(rdata.strings).decode("utf-8", "replace")[:500])
            else:
                records.append(rdata.to_text().rstrip(".").lower()[:255])
    return tuple(records[:64])


def _remaining(deadline: float, label: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DnsError("{query}: no answer in time", query=label)
    return left


def _read_exactly(sock: socket.socket, size: int, deadline: float, label: str) -> bytes:
    data = bytearray()
    while len(data) < size:
        sock.settimeout(_remaining(deadline, label))
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise DnsError("{query}: the resolver's answer is garbage", query=label)
        data += chunk
    return bytes(data)


def parse_dns_message(raw: bytes, label: str) -> dns.message.Message:
    """A resolver's answer in wire format. Raises DnsError when it is garbage."""
    try:
        return dns.message.from_wire(raw)
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        raise DnsError("{query}: the resolver's answer is garbage", query=label) from exc


def system_resolver_address() -> str:
    """The first resolver of /etc/resolv.conf (read when called, never at import)."""
    try:
        servers = dns.resolver.Resolver(configure=True).nameservers
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsError("no DNS resolver is configured on this machine") from exc
    if not servers:
        raise DnsError("no DNS resolver is configured on this machine")
    return str(servers[0])


# -------------------------------------------------------------------------------------- RDAP


class RdapClient:
    """RDAP queries through httpx: one base URL per question from the bootstrap, answers bounded
    in size (`max_bytes`) and in total time (`timeout`), kept byte for byte."""

    def __init__(
        self,
        bootstrap: RdapBootstrap,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        max_bytes: int = MAX_RDAP_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        self.bootstrap, self.timeout, self.max_bytes, self.clock = (
            bootstrap,
            timeout,
            max_bytes,
            clock,
        )
        self.client = client or httpx.Client(
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "application/rdap+json",
                "Accept-Encoding": "identity",
            },
            follow_redirects=True,
            max_redirects=3,
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

    def ip(self, address: str) -> RdapAnswer:
        try:
            text = str(ipaddress.ip_address(address))
        except ValueError as exc:
            raise RdapError("{query}: not an IP address", query=address[:100]) from exc
        return self._get(self.bootstrap.for_address(text), f"ip/{text}")

    def asn(self, asn: int) -> RdapAnswer:
        if not 0 < asn < 2**32:
            raise RdapError("{query}: not an AS number", query=str(asn))
        return self._get(self.bootstrap.for_asn(asn), f"autnum/{asn}")

    def domain(self, domain: str) -> RdapAnswer:
        return self._get(self.bootstrap.for_domain(domain), f"domain/{domain}")

    def _get(self, base: str, path: str) -> RdapAnswer:
        url = base.rstrip("/") + "/" + path
        deadline = time.monotonic() + self.timeout
        body = bytearray()
        try:
            with self.client.stream("GET", url, timeout=self.timeout) as response:
                final = str(response.url)
                if not (final.startswith("https://") or self.bootstrap.allow_http):
                    raise RdapError("{query}: redirected away from https", query=url)
                if response.status_code == 404:
                    raise RdapError("{query}: the RDAP server knows nothing about it", query=url)
                if response.status_code != 200:
                    raise RdapError(
                        "{query}: the RDAP server answered HTTP {status}",
                        query=url,
                        status=response.status_code,
                    )
                if response.headers.get("content-encoding", "identity") != "identity":
                    raise RdapError("{query}: the answer is compressed", query=url)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise RdapError(
                        "{query}: the answer is larger than {limit} bytes",
                        query=url,
                        limit=self.max_bytes,
                    )
                for chunk in response.iter_raw():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise RdapError(
                            "{query}: the answer is larger than {limit} bytes",
                            query=url,
                            limit=self.max_bytes,
                        )
                    if time.monotonic() > deadline:
                        raise RdapError("{query}: no complete answer in time", query=url)
                media_type = response.headers.get("content-type", "")[:100]
        except httpx.TimeoutException as exc:
            raise RdapError("{query}: no complete answer in time", query=url) from exc
        except httpx.HTTPError as exc:
            raise RdapError(
                "{query}: the RDAP server cannot be reached ({reason})",
                query=url,
                reason=type(exc).__name__,
            ) from exc
        raw = bytes(body)
        try:
            record = parse_rdap(raw)
        except RdapError as exc:
            raise RdapError("{query}: {reason}", query=url, reason=exc) from exc
        evidence = RawAnswer.of("rdap", url, base, self.clock(), raw, media_type)
        return RdapAnswer(url, record, evidence)


# ------------------------------------------------------------------------- the lookups port


@dataclass(frozen=True, slots=True)
class LookupSettings:
    """Where lookups go: the DNS resolver, the RDAP bootstrap (or one RDAP base URL), limits."""

    dns_server: str = ""
    dns_port: int = 53
    dns_timeout: float = 3.0
    rdap_bootstrap: RdapBootstrap | None = None
    rdap_timeout: float = 10.0
    rdap_max_bytes: int = MAX_RDAP_BYTES
    asn_zone_v4: str = "origin.asn.cymru.com"
    asn_zone_v6: str = "origin6.asn.cymru.com"
    cache_ttl: timedelta = timedelta(hours=6)
    cache_size: int = 10_000

    @classmethod
    def for_home(cls, home: Path | None, **overrides: Any) -> LookupSettings:
        """The bootstrap refreshed into `home/rdap-bootstrap/` if present, else the shipped one."""
        folder = home / "rdap-bootstrap" if home is not None else None
        if folder is not None and all((folder / f"{n}.json").is_file() for n in BOOTSTRAP_FILES):
            overrides.setdefault("rdap_bootstrap", RdapBootstrap.from_folder(folder))
        return cls(**overrides)


class NetworkLookups:
    """The `Lookups` port on the network: one DNS client, one RDAP client."""

    def __init__(self, settings: LookupSettings, *, clock: Clock = utc_now) -> None:
        server = settings.dns_server or system_resolver_address()
        self.settings = settings
        self.dns_client = DnsClient(
            server, settings.dns_port, timeout=settings.dns_timeout, clock=clock
        )
        self.rdap = RdapClient(
            settings.rdap_bootstrap or RdapBootstrap.shipped(),
            timeout=settings.rdap_timeout,
            max_bytes=settings.rdap_max_bytes,
            clock=clock,
        )

    def close(self) -> None:
        self.rdap.close()

    def dns(self, name: str, rdtype: str) -> DnsAnswer:
        return self.dns_client.query(name, rdtype)

    def origin_asn(self, address: str) -> tuple[int | None, RawAnswer]:
        ip = ipaddress.ip_address(address)
        if ip.version == 4:
            name = ".".join(reversed(str(ip).split("."))) + "." + self.settings.asn_zone_v4
        else:
            nibbles = ip.exploded.replace(":", "")
            name = ".".join(reversed(nibbles)) + "." + self.settings.asn_zone_v6
        answer = self.dns_client.query(name, "TXT")
        for record in answer.records:
            first = record.split("|", 1)[0].split()
            if first and first[0].isdigit() and 0 < int(first[0]) < 2**32:
                return int(first[0]), answer.evidence
        return None, answer.evidence

    def rdap_ip(self, address: str) -> RdapAnswer:
        return self.rdap.ip(address)

    def rdap_asn(self, asn: int) -> RdapAnswer:
        return self.rdap.asn(asn)

    def rdap_domain(self, domain: str) -> RdapAnswer:
        return self.rdap.domain(domain)


@dataclass
class _Cache:
    size: int
    ttl: timedelta
    entries: OrderedDict[Hashable, tuple[datetime, Any]] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class CachingLookups:
    """Any `Lookups` with a bounded, time-limited cache of complete answers (failures are not
    cached). A cached answer keeps its original evidence: time, bytes and digest."""

    def __init__(
        self,
        inner: Lookups,
        *,
        clock: Clock = utc_now,
        ttl: timedelta = timedelta(hours=6),
        size: int = 10_000,
    ) -> None:
        self.inner, self.clock = inner, clock
        self._cache = _Cache(size, ttl)
        self.hits = 0
        self.misses = 0

    def _cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = self.clock()
        cache = self._cache
        with cache.lock:
            found = cache.entries.get(key)
            if found is not None and found[0] > now:
                cache.entries.move_to_end(key)
                self.hits += 1
                return found[1]  # type: ignore[no-any-return]
        self.misses += 1
        value = compute()
        with cache.lock:
            cache.entries[key] = (now + cache.ttl, value)
            cache.entries.move_to_end(key)
            while len(cache.entries) > cache.size:
                cache.entries.popitem(last=False)
        return value

    def dns(self, name: str, rdtype: str) -> DnsAnswer:
        return self._cached(("dns", name, rdtype), lambda: self.inner.dns(name, rdtype))

    def origin_asn(self, address: str) -> tuple[int | None, RawAnswer]:
        return self._cached(("asn-of", address), lambda: self.inner.origin_asn(address))

    def rdap_ip(self, address: str) -> RdapAnswer:
        return self._cached(("rdap-ip", address), lambda: self.inner.rdap_ip(address))

    def rdap_asn(self, asn: int) -> RdapAnswer:
        return self._cached(("rdap-asn", asn), lambda: self.inner.rdap_asn(asn))

    def rdap_domain(self, domain: str) -> RdapAnswer:
        return self._cached(("rdap-domain", domain), lambda: self.inner.rdap_domain(domain))

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def network_lookups(settings: LookupSettings, *, clock: Clock = utc_now) -> CachingLookups:
    """The production wiring: network lookups behind the cache."""
    return CachingLookups(
        NetworkLookups(settings, clock=clock),
        clock=clock,
        ttl=settings.cache_ttl,
        size=settings.cache_size,
    )


# ------------------------------------------------------------------- refreshing the bootstrap


def refresh_bootstrap(
    folder: Path,
    *,
    client: httpx.Client | None = None,
    base_url: str = IANA_BOOTSTRAP_BASE,
    max_bytes: int = 4 * MAX_RDAP_BYTES,
) -> RdapBootstrap:
    """Download IANA's four RDAP bootstrap files into `folder` (only when called: never at
    import, never in tests). The files are checked together before any is replaced."""
    own = client is None
    http = client or httpx.Client(headers={"User-Agent": _USER_AGENT}, trust_env=False)
    texts: dict[str, bytes] = {}
    try:
        for name in BOOTSTRAP_FILES:
            url = base_url.rstrip("/") + f"/{name}.json"
            try:
                with http.stream("GET", url, timeout=30.0) as response:
                    if response.status_code != 200:
                        raise RdapError(
                            "{query}: the RDAP server answered HTTP {status}",
                            query=url,
                            status=response.status_code,
                        )
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise RdapError(
                                "{query}: the answer is larger than {limit} bytes",
                                query=url,
                                limit=max_bytes,
                            )
            except httpx.HTTPError as exc:
                raise RdapError(
                    "{query}: the RDAP server cannot be reached ({reason})",
                    query=url,
                    reason=type(exc).__name__,
                ) from exc
            texts[name] = bytes(body)
    finally:
        if own:
            http.close()
    import json

    try:
        docs = {name: json.loads(raw) for name, raw in texts.items()}
    except ValueError as exc:
        raise RdapError(
            "the RDAP bootstrap data is malformed ({reason})", reason=type(exc).__name__
        ) from exc
    bootstrap = RdapBootstrap.from_documents(docs)
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in texts.items():
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
        os.replace(temporary, folder / f"{name}.json")
    return bootstrap
