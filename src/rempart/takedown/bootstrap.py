"""IANA's RDAP bootstrap: which RDAP server answers for an address, an AS number or a TLD.

Owns reading the bootstrap files (shipped in `rempart/takedown/data/rdap-bootstrap/`, or a
folder given) and choosing a base URL. Must not download: `lookups.refresh_bootstrap` does,
only when asked.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from rempart.takedown.errors import RdapError

__all__ = ["BOOTSTRAP_FILES", "RdapBootstrap"]

BOOTSTRAP_FILES = ("asn", "dns", "ipv4", "ipv6")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class RdapBootstrap:
    """Base URLs per network, AS range and TLD; `only` sends every query to one base URL
    (a local RDAP mirror, or a test server)."""

    networks: tuple[tuple[Network, tuple[str, ...]], ...] = ()
    asns: tuple[tuple[int, int, tuple[str, ...]], ...] = ()
    tlds: Mapping[str, tuple[str, ...]] | None = None
    only: str = ""
    allow_http: bool = False

    @classmethod
    def shipped(cls) -> RdapBootstrap:
        return cls.from_folder(resources.files("rempart.takedown") / "data" / "rdap-bootstrap")

    @classmethod
    def from_folder(cls, folder: Path | Traversable, *, allow_http: bool = False) -> RdapBootstrap:
        docs = {}
        for name in BOOTSTRAP_FILES:
            try:
                docs[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise RdapError(
                    "the RDAP bootstrap file {name}.json cannot be read ({reason})",
                    name=name,
                    reason=type(exc).__name__,
                ) from exc
        return cls.from_documents(docs, allow_http=allow_http)

    @classmethod
    def from_documents(cls, docs: Mapping[str, Any], *, allow_http: bool = False) -> RdapBootstrap:
        networks: list[tuple[Network, tuple[str, ...]]] = []
        asns: list[tuple[int, int, tuple[str, ...]]] = []
        tlds: dict[str, tuple[str, ...]] = {}
        try:
            for name in ("ipv4", "ipv6"):
                for keys, urls in _services(docs[name]):
                    networks.extend((ipaddress.ip_network(k), urls) for k in keys)
            for keys, urls in _services(docs["asn"]):
                for key in keys:
                    low, _sep, high = key.partition("-")
                    asns.append((int(low), int(high or low), urls))
            for keys, urls in _services(docs["dns"]):
                tlds.update((k.lower(), urls) for k in keys)
        except (KeyError, TypeError, ValueError) as exc:
            raise RdapError(
                "the RDAP bootstrap data is malformed ({reason})", reason=type(exc).__name__
            ) from exc
        networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
        return cls(tuple(networks), tuple(asns), tlds, allow_http=allow_http)

    @classmethod
    def single(cls, base_url: str) -> RdapBootstrap:
        """Every query to one RDAP server (plain http allowed: a configured local service)."""
        return cls(only=base_url, allow_http=True)

    def for_address(self, address: str) -> str:
        if self.only:
            return self.only
        ip = ipaddress.ip_address(address)
        for network, urls in self.networks:
            if ip.version == network.version and ip in network:
                return self._pick(urls, address)
        raise RdapError("no RDAP server is known for {query}", query=address)

    def for_asn(self, asn: int) -> str:
        if self.only:
            return self.only
        for low, high, urls in self.asns:
            if low <= asn <= high:
                return self._pick(urls, f"AS{asn}")
        raise RdapError("no RDAP server is known for {query}", query=f"AS{asn}")

    def for_domain(self, domain: str) -> str:
        if self.only:
            return self.only
        labels = domain.lower().rstrip(".").split(".")
        for start in range(len(labels)):
            urls = (self.tlds or {}).get(".".join(labels[start:]))
            if urls:
                return self._pick(urls, domain)
        raise RdapError("no RDAP server is known for {query}", query=domain)

    def _pick(self, urls: Sequence[str], query: str) -> str:
        for url in urls:
            if url.startswith("https://"):
                return url
        for url in urls:
            if self.allow_http and url.startswith("http://"):
                return url
        raise RdapError("no RDAP server is known for {query}", query=query)


def _services(doc: Any) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    out = []
    for keys, urls in doc["services"]:
        out.append((tuple(str(k) for k in keys), tuple(str(u) for u in urls)))
    return out
