"""Benchmark: recipient resolution per URL against the loopback DNS and RDAP servers of the
tests, uncached and cached, beside an anchor measured in the same run.

Usage: .venv/bin/python bench/recipients.py [--rounds N]

- uncached: `resolve` on an unknown site with no cache (5 DNS queries: CNAME, A, AAAA, NS, the
  origin-AS TXT; 4 RDAP queries: two IP networks, the AS, the domain), raw answers kept;
- anchor: the same 5 DNS queries as bare `dns.query.udp` calls and the same 4 RDAP paths as
  bare `httpx.Client.get` calls to the same servers (no parsing, no evidence, no decisions);
- cached: `resolve` for the same site with a warm cache (only Rempart's decisions);
- known platform: `resolve` for a registry platform (no lookup at all).

Times are wall-clock per URL, p50 and p95. Results go to stdout and bench/results/recipients.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "takedown"))
sys.path.insert(0, str(ROOT / "bench"))

import dns.message  # noqa: E402
import dns.query  # noqa: E402
import httpx  # noqa: E402
from takedown_servers import RDAP, ZONE, DnsServer, RdapServer  # noqa: E402

from machine_info import basics  # noqa: E402
from rempart.takedown import resolve  # noqa: E402
from rempart.takedown.lookups import CachingLookups, LookupSettings, NetworkLookups  # noqa: E402
from rempart.takedown.registry import load_registry  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "recipients.json"
URL = "https://forum.example.org/t/42"
DNS_QUESTIONS = [
    ("forum.example.org", "CNAME"),
    ("forum.example.org", "A"),
    ("forum.example.org", "AAAA"),
    ("forum.example.org", "NS"),
    ("10.2.0.192.origin.asn.cymru.com", "TXT"),
]
RDAP_PATHS = ["ip/192.0.2.10", "ip/2001:db8::10", "autnum/64500", "domain/example.org"]


def timed(rounds: int, work: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "per_s": len(ordered) / sum(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    dns_server, rdap_server = DnsServer(ZONE), RdapServer(RDAP)
    registry = load_registry(None)
    settings = LookupSettings(
        dns_server="127.0.0.1",
        dns_port=dns_server.port,
        rdap_bootstrap=rdap_server.bootstrap(),
    )
    network = NetworkLookups(settings)
    cached = CachingLookups(network)
    anchor_client = httpx.Client(trust_env=False)

    def uncached_run() -> None:
        result = resolve(URL, registry=registry, lookups=network)
        assert len(result.evidence) == 9 and not result.problems, result.problems

    def anchor_run() -> None:
        for name, rdtype in DNS_QUESTIONS:
            dns.query.udp(
                dns.message.make_query(name, rdtype), "127.0.0.1", timeout=2, port=dns_server.port
            )
        for path in RDAP_PATHS:
            anchor_client.get(rdap_server.base + path).raise_for_status()

    def cached_run() -> None:
        resolve(URL, registry=registry, lookups=cached)

    def known_run() -> None:
        resolve("https://i.redd.it/abc.jpg", registry=registry, lookups=cached)

    try:
        for work in (uncached_run, anchor_run, cached_run, known_run):
            timed(20, work)  # warm up
        # interleave the uncached and anchor rounds so both see the same machine load
        ours, anchor = [], []
        for _ in range(args.rounds):
            ours += timed(1, uncached_run)
            anchor += timed(1, anchor_run)
        results = {
            "machine": basics(),
            "rounds": args.rounds,
            "uncached": summary(ours),
            "anchor": summary(anchor),
            "cached": summary(timed(args.rounds * 10, cached_run)),
            "known_platform": summary(timed(args.rounds * 10, known_run)),
        }
    finally:
        network.close()
        anchor_client.close()
        dns_server.close()
        rdap_server.close()
    results["ratio_uncached_to_anchor"] = (
        results["uncached"]["p50_ms"] / results["anchor"]["p50_ms"]
    )
    for name in ("uncached", "anchor", "cached", "known_platform"):
        row = results[name]
        print(
            f"{name:15} p50 {row['p50_ms']:8.3f} ms  p95 {row['p95_ms']:8.3f} ms  "
            f"{row['per_s']:9.0f} URLs/s"
        )
    print(f"uncached / anchor at p50: {results['ratio_uncached_to_anchor']:.2f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
