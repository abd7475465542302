"""The resolution chain against real DNS and RDAP servers on 127.0.0.1."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from takedown_servers import HOSTING_ABUSE, REGISTRAR_ABUSE, TRANSIT_ABUSE, DnsServer, RdapServer

from rempart.takedown import Channel, ResolutionError, Role, resolve
from rempart.takedown.errors import NxDomainError
from rempart.takedown.lookups import CachingLookups, NetworkLookups
from rempart.takedown.registry import Registry, load_registry


class NoNetwork:
    """Lookups that must not be asked anything."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"no lookup expected, got {name}")


def test_unknown_site_goes_host_then_network_then_registrar_then_search(
    registry: Registry, lookups: NetworkLookups
) -> None:
    result = resolve("https://forum.example.org/t/42", registry=registry, lookups=lookups)
    roles = [(r.role, r.address) for r in result.recipients]
    assert roles[:3] == [
        (Role.HOST, HOSTING_ABUSE),
        (Role.NETWORK, TRANSIT_ABUSE),
        (Role.REGISTRAR, REGISTRAR_ABUSE),
    ]
    assert [r.platform for r in result.recipients[3:]] == ["google-search", "bing"]
    assert result.addresses == ("192.0.2.10", "2001:db8::10")
    assert result.asn == 64500
    assert result.domain == "example.org"
    assert not result.problems
    assert result.recipients[0].channel is Channel.EMAIL
    assert "EX-NET-1" in result.recipients[0].why.text("en")


def test_every_raw_answer_is_kept_with_its_digest_and_the_sources_point_at_them(
    registry: Registry, lookups: NetworkLookups
) -> None:
    result = resolve("https://forum.example.org/t/42", registry=registry, lookups=lookups)
    kinds = {
        (a.kind, a.query.split("/")[-2] if a.kind == "rdap" else a.query.split()[0])
        for a in result.evidence
    }
    assert {
        ("dns", "A"),
        ("dns", "AAAA"),
        ("dns", "NS"),
        ("dns", "TXT"),
        ("rdap", "ip"),
        ("rdap", "autnum"),
        ("rdap", "domain"),
    } <= kinds
    for answer in result.evidence:
        assert answer.sha256 == hashlib.sha256(answer.raw).hexdigest()
        assert answer.received_at.tzinfo is not None
        assert set(answer.custody_detail()) >= {"query", "sha256", "size", "received_at"}
    digests = {a.sha256 for a in result.evidence}
    for recipient in result.recipients[:3]:
        assert recipient.sources and recipient.sources[0].sha256 in digests


def test_known_platform_is_answered_from_the_registry_without_any_lookup(
    registry: Registry,
) -> None:
    result = resolve("https://i.redd.it/abc.jpg", registry=registry, lookups=NoNetwork())
    first = result.recipients[0]
    assert (first.platform, first.role, first.channel) == ("reddit", Role.HOST, Channel.WEBFORM)
    assert first.sources and all(s.ref.startswith("https://") for s in first.sources)
    assert result.platform == "reddit"
    assert result.recipients[-1].role is Role.SEARCH


def test_telegram_finds_go_to_telegram_even_without_a_web_address(registry: Registry) -> None:
    for url, kind in (("https://t.me/somechannel/12", ""), ("Leaks/photos/1.jpg", "telegram")):
        result = resolve(url, registry=registry, lookups=NoNetwork(), source_kind=kind)
        first = result.recipients[0]
        assert (first.platform, first.channel, first.address) == (
            "telegram",
            Channel.EMAIL,
            "abuse@telegram.org",
        )


def test_a_minor_case_gets_only_child_protection_channels_with_references_only(
    registry: Registry, lookups: NetworkLookups
) -> None:
    result = resolve(
        "https://forum.example.org/t/42", registry=registry, lookups=lookups, minor=True
    )
    assert {r.platform for r in result.recipients} == {"pharos", "point-de-contact"}
    assert all(r.role is Role.HOTLINE and r.references_only for r in result.recipients)


def test_a_minor_case_on_a_us_host_adds_ncmec(registry: Registry, lookups: NetworkLookups) -> None:
    on_us_platform = resolve(
        "https://i.imgur.com/x.png", registry=registry, lookups=NoNetwork(), minor=True
    )
    assert "ncmec" in {r.platform for r in on_us_platform.recipients}
    assert all(r.role is Role.HOTLINE for r in on_us_platform.recipients)
    behind = resolve("https://mirror.example.net/a", registry=registry, lookups=lookups, minor=True)
    assert {r.platform for r in behind.recipients} == {"pharos", "point-de-contact", "ncmec"}


def test_cloudflare_is_found_by_its_cname_and_the_origin_network_still_asked(
    registry: Registry, lookups: NetworkLookups
) -> None:
    result = resolve("https://mirror.example.net/a", registry=registry, lookups=lookups)
    assert result.cdn == "cloudflare"
    cdn = next(r for r in result.recipients if r.role is Role.CDN)
    assert cdn.address == "https://abuse.cloudflare.com/"
    assert "alias" in cdn.why.text("en")
    assert any(s.ref == "https://www.cloudflare.com/ips/" for s in cdn.sources)
    # the address answered for the CNAME is on a US network whose RDAP gives its origin AS
    assert result.asn == 64501


def test_a_cdn_is_found_by_response_headers(registry: Registry, lookups: NetworkLookups) -> None:
    result = resolve(
        "https://forum.example.org/x",
        registry=registry,
        lookups=lookups,
        headers={"CF-RAY": "8a1b2c3d4e5f-CDG", "Server": "cloudflare"},
    )
    assert result.cdn == "cloudflare"


def test_an_association_cdn_is_found_by_its_address_range(
    tmp_path: Path, lookups: NetworkLookups
) -> None:
    (tmp_path / "platforms.toml").write_text(
        "[platform.testcdn]\n"
        'name = "Test CDN"\nroles = ["cdn"]\n'
        'notice_email = { value = "abuse@testcdn.example", source = "https://testcdn.example/" }\n'
        "[platform.testcdn.detect]\n"
        'source = "https://testcdn.example/ranges"\nranges = ["192.0.2.0/24"]\n'
    )
    registry = load_registry(tmp_path)
    result = resolve("https://forum.example.org/x", registry=registry, lookups=lookups)
    assert result.cdn == "testcdn"
    assert result.recipients[0].address == "abuse@testcdn.example"
    # the IPv4 address lies in the CDN's range: its network is not asked as the host
    assert "/ip/192.0.2.10" not in [
        a.query.split("127.0.0.1:")[-1][5:] for a in result.evidence if a.kind == "rdap"
    ]


def test_a_vanished_site_says_manual_plainly_and_records_the_nxdomain(
    registry: Registry, lookups: NetworkLookups
) -> None:
    result = resolve("https://gone.example.com/x", registry=registry, lookups=lookups)
    first = result.recipients[0]
    assert first.channel is Channel.MANUAL and first.address == ""
    assert "not a known platform" in first.why.text("en")
    assert "plateforme" in first.why.text("fr")
    assert any(isinstance(p, NxDomainError) for p in result.problems)
    assert all(a.kind != "dns" or "gone" not in a.query for a in result.evidence)


def test_a_url_without_a_host_is_refused_plainly(registry: Registry) -> None:
    for bad in ("not a url", "ftp://x.example/", "https://", "javascript:alert(1)"):
        with pytest.raises(ResolutionError, match="not a web address"):
            resolve(bad, registry=registry, lookups=NoNetwork())


def test_cached_lookups_answer_again_without_asking_the_servers(
    registry: Registry, cached: CachingLookups, dns_server: DnsServer, rdap_server: RdapServer
) -> None:
    first = resolve("https://forum.example.org/1", registry=registry, lookups=cached)
    asked = (sum(dns_server.queries.values()), sum(rdap_server.requests.values()))
    second = resolve("https://forum.example.org/2", registry=registry, lookups=cached)
    assert (sum(dns_server.queries.values()), sum(rdap_server.requests.values())) == asked
    assert [a.sha256 for a in first.evidence] == [a.sha256 for a in second.evidence]
    assert [r.address for r in first.recipients] == [r.address for r in second.recipients]
    assert cached.hits > 0


def test_recipient_json_has_the_notify_plan_fields(registry: Registry) -> None:
    result = resolve("https://t.me/c/1", registry=registry, lookups=NoNetwork())
    shape = result.recipients[0].as_json("en")
    assert {"name", "role", "channel", "address"} <= set(shape)


def test_an_address_in_the_url_skips_dns_and_asks_its_network(
    registry: Registry, lookups: NetworkLookups, dns_server: DnsServer
) -> None:
    result = resolve("http://192.0.2.10:8080/x.jpg", registry=registry, lookups=lookups)
    assert result.recipients[0].address == HOSTING_ABUSE
    assert result.domain == ""
    assert not [q for q in dns_server.queries if q[1] in ("A", "AAAA", "CNAME")]


def test_the_bootstrap_is_refreshed_only_when_asked_and_then_used(
    tmp_path: Path, rdap_server: RdapServer
) -> None:
    from takedown_servers import Reply, as_json

    from rempart.takedown.lookups import LookupSettings, refresh_bootstrap

    urls = ["https://rdap.example/"]
    files = {
        "ipv4": {"services": [[["192.0.2.0/24"], urls]]},
        "ipv6": {"services": [[["2001:db8::/32"], urls]]},
        "asn": {"services": [[["64496-64511"], urls]]},
        "dns": {"services": [[["org"], urls]]},
    }
    for name, doc in files.items():
        rdap_server.answers[f"/iana/{name}.json"] = Reply(as_json(doc), content_type="text/json")
    assert LookupSettings.for_home(tmp_path).rdap_bootstrap is None  # shipped files until then
    refresh_bootstrap(tmp_path / "rdap-bootstrap", base_url=rdap_server.base + "iana/")
    refreshed = LookupSettings.for_home(tmp_path).rdap_bootstrap
    assert refreshed is not None and refreshed.for_address("192.0.2.1") == urls[0]
    assert sorted(p.name for p in (tmp_path / "rdap-bootstrap").iterdir()) == [
        "asn.json",
        "dns.json",
        "ipv4.json",
        "ipv6.json",
    ]


def test_a_broken_bootstrap_download_replaces_nothing(
    tmp_path: Path, rdap_server: RdapServer
) -> None:
    from takedown_servers import Reply

    from rempart.takedown.lookups import refresh_bootstrap

    for name in ("asn", "dns", "ipv4", "ipv6"):
        rdap_server.answers[f"/iana/{name}.json"] = Reply(b'{"services": "nonsense"}')
    with pytest.raises(ResolutionError, match="malformed"):
        refresh_bootstrap(tmp_path / "rdap-bootstrap", base_url=rdap_server.base + "iana/")
    assert not (tmp_path / "rdap-bootstrap").exists()


def test_a_url_on_a_cdn_name_goes_to_the_cdn_in_its_own_role(registry: Registry) -> None:
    result = resolve(
        "https://d1234abcd.cloudfront.net/a.jpg", registry=registry, lookups=NoNetwork()
    )
    assert (result.recipients[0].platform, result.recipients[0].role) == ("cloudfront", Role.CDN)
