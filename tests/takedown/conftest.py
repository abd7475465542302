"""Loopback DNS and RDAP servers replaying recorded answers, and lookups wired to them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from takedown_servers import RDAP, ZONE, DnsServer, RdapServer

from rempart.takedown.lookups import CachingLookups, LookupSettings, NetworkLookups
from rempart.takedown.registry import Registry, load_registry


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer(ZONE)
    yield server
    server.close()


@pytest.fixture
def rdap_server() -> Iterator[RdapServer]:
    server = RdapServer(RDAP)
    yield server
    server.close()


@pytest.fixture
def settings(dns_server: DnsServer, rdap_server: RdapServer) -> LookupSettings:
    return LookupSettings(
        dns_server="127.0.0.1",
        dns_port=dns_server.port,
        dns_timeout=0.5,
        rdap_bootstrap=rdap_server.bootstrap(),
        rdap_timeout=1.0,
    )


@pytest.fixture
def lookups(settings: LookupSettings) -> Iterator[NetworkLookups]:
    network = NetworkLookups(settings)
    yield network
    network.close()


@pytest.fixture
def cached(lookups: NetworkLookups) -> CachingLookups:
    return CachingLookups(lookups)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(None)
