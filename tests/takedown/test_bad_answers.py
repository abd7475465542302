"""Garbage, slow, huge and hostile answers: each a clear error value, never a crash, and nothing
half-recorded (a refused answer is never evidence)."""

from __future__ import annotations

import time

import pytest
from takedown_servers import DnsServer, RdapServer, Reply, as_json

from rempart.takedown import DnsError, NxDomainError, RdapError, resolve
from rempart.takedown.answers import parse_rdap
from rempart.takedown.lookups import DnsClient, LookupSettings, NetworkLookups, RdapClient
from rempart.takedown.registry import Registry


def _dns(server: DnsServer, timeout: float = 0.4) -> DnsClient:
    return DnsClient("127.0.0.1", server.port, timeout=timeout)


def test_nxdomain_is_its_own_error(dns_server: DnsServer) -> None:
    with pytest.raises(NxDomainError, match="NXDOMAIN"):
        _dns(dns_server).query("gone.example.com", "CNAME")


def test_garbage_dns_bytes_are_a_clear_error(dns_server: DnsServer) -> None:
    with pytest.raises(DnsError, match="garbage") as caught:
        _dns(dns_server).query("garbage.example.com", "CNAME")
    assert "inexploitable" in caught.value.localized("fr")


def test_a_silent_resolver_times_out_within_the_limit(dns_server: DnsServer) -> None:
    started = time.monotonic()
    with pytest.raises(DnsError, match="no answer in time"):
        _dns(dns_server, timeout=0.3).query("slow.example.com", "CNAME")
    assert time.monotonic() - started < 2.0


def test_an_answer_with_the_wrong_id_is_ignored_not_believed(dns_server: DnsServer) -> None:
    with pytest.raises(DnsError, match="no answer in time"):
        _dns(dns_server, timeout=0.3).query("spoofed.example.com", "CNAME")


def test_servfail_is_reported_with_its_code(dns_server: DnsServer) -> None:
    with pytest.raises(DnsError, match="SERVFAIL"):
        _dns(dns_server).query("broken.example.com", "CNAME")


def test_a_name_dns_cannot_carry_is_refused_before_asking(dns_server: DnsServer) -> None:
    with pytest.raises(DnsError, match="not a name"):
        _dns(dns_server).query("a" * 70 + ".example.com", "A")
    assert not dns_server.queries


def test_no_resolver_listening_is_an_error_not_a_crash() -> None:
    with pytest.raises(DnsError):
        DnsClient("127.0.0.1", 9, timeout=0.3).query("forum.example.org", "A")


def _rdap(server: RdapServer, **limits: float) -> RdapClient:
    return RdapClient(
        server.bootstrap(),
        timeout=limits.get("timeout", 1.0),
        max_bytes=int(limits.get("max_bytes", 1 << 20)),
    )


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(b"<html>Service unavailable</html>", content_type="text/html"), "not JSON"),
        (Reply(b"\xff\xfe\x00garbage"), "not JSON"),
        (Reply(b"[" * 2000 + b"]" * 2000), "not JSON"),
        (Reply(b'["an array"]'), "not a JSON object"),
        (Reply(b'{"objectClassName": "nameserver"}'), "not about a network"),
        (Reply(b"{}", status=500), "HTTP 500"),
        (Reply(b"{}", status=429), "HTTP 429"),
        (Reply(b"x" * 5000), "larger than 4096"),
        (Reply(b"x" * 5000, length=-1), "larger than 4096"),
        (Reply(b'{"objectClassName": "ip network"}' + b" " * 200, drip=0.01), "in time"),
    ],
)
def test_bad_rdap_answers_are_clear_errors(
    rdap_server: RdapServer, reply: Reply, message: str
) -> None:
    rdap_server.answers["/ip/203.0.113.5"] = reply
    client = _rdap(rdap_server, timeout=0.5, max_bytes=4096)
    with pytest.raises(RdapError, match=message):
        client.ip("203.0.113.5")
    client.close()


def test_unknown_resources_are_a_clear_error(rdap_server: RdapServer) -> None:
    with pytest.raises(RdapError, match="knows nothing"):
        _rdap(rdap_server).ip("203.0.113.99")


def test_addresses_outside_the_bootstrap_have_no_server_and_nothing_is_asked(
    rdap_server: RdapServer,
) -> None:
    with pytest.raises(RdapError, match="no RDAP server is known"):
        _rdap(rdap_server).ip("10.0.0.1")
    assert not rdap_server.requests


def test_hostile_entities_are_read_within_bounds() -> None:
    deep: dict[str, object] = {
        "roles": ["abuse"],
        "vcardArray": ["vcard", [["email", {}, "text", "deep@x.example"]]],
    }
    for _ in range(50):
        deep = {"roles": ["registrant"], "entities": [deep]}
    wide = [
        {"roles": ["abuse"], "vcardArray": ["vcard", [["email", {}, "text", f"a{i}@x.example"]]]}
        for i in range(5000)
    ]
    answer = {
        "objectClassName": "ip network",
        "entities": [deep, *wide],
        "vcardArray": "not a card",
        "country": 42,
    }
    record = parse_rdap(as_json(answer))
    assert "deep@x.example" not in record.abuse_emails  # deeper than any real answer nests
    assert len(record.abuse_emails) <= 8
    assert record.country == ""


def test_a_failed_lookup_leaves_a_problem_and_no_evidence(
    registry: Registry, dns_server: DnsServer, rdap_server: RdapServer
) -> None:
    rdap_server.answers["/ip/192.0.2.10"] = Reply(b"not json at all")
    rdap_server.answers["/domain/example.org"] = Reply(b"x" * 5000)
    lookups = NetworkLookups(
        LookupSettings(
            dns_server="127.0.0.1",
            dns_port=dns_server.port,
            dns_timeout=0.5,
            rdap_bootstrap=rdap_server.bootstrap(),
            rdap_timeout=1.0,
            rdap_max_bytes=4096,
        )
    )
    result = resolve("https://forum.example.org/t/1", registry=registry, lookups=lookups)
    lookups.close()
    failed = [str(p) for p in result.problems]
    assert any("/ip/192.0.2.10" in p and "not JSON" in p for p in failed)
    assert any("/domain/example.org" in p and "larger than" in p for p in failed)
    queried = {a.query for a in result.evidence}
    assert not any(q.endswith(("/ip/192.0.2.10", "/domain/example.org")) for q in queried)
    # the rest of the chain still ran: the IPv6 network's abuse desk is there
    assert result.recipients[0].address == "abuse@hosting.example"


def test_a_silent_resolver_in_the_chain_gives_manual_and_problems_fast(
    registry: Registry, dns_server: DnsServer, rdap_server: RdapServer
) -> None:
    lookups = NetworkLookups(
        LookupSettings(
            dns_server="127.0.0.1",
            dns_port=dns_server.port,
            dns_timeout=0.2,
            rdap_bootstrap=rdap_server.bootstrap(),
            rdap_timeout=1.0,
        )
    )
    started = time.monotonic()
    result = resolve("https://slow.example.com/x", registry=registry, lookups=lookups)
    lookups.close()
    assert time.monotonic() - started < 5
    assert result.recipients[0].channel.value == "manual"
    assert result.problems
