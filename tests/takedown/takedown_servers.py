"""Real servers on 127.0.0.1 for the takedown tests and bench: a DNS server and an RDAP server,
both replaying recorded answers. Answers only ever name 127.0.0.1 or documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), which are never contacted.

Both are ready when constructed (their sockets are bound before the serving thread starts).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from rempart.takedown.bootstrap import RdapBootstrap

# --------------------------------------------------------------------------------------- DNS

# (name, type) -> list of "TYPE value" records, or one of the behaviours below.
NXDOMAIN, GARBAGE, SILENT, SERVFAIL, WRONG_ID = (
    "nxdomain",
    "garbage",
    "silent",
    "servfail",
    "wrong-id",
)


class DnsServer:
    """A UDP DNS server replaying `zone`: {(name, rdtype): [records] or a behaviour}.

    A name absent from the zone answers NOERROR with no records (as for a type it lacks).
    `queries` counts what was asked, for cache tests.
    """

    def __init__(self, zone: Mapping[tuple[str, str], Any]) -> None:
        self.zone = dict(zone)
        self.queries: Counter[tuple[str, str]] = Counter()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        # wake the blocking recvfrom with one datagram, then wait for the thread to end
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:
            poke.sendto(b"", ("127.0.0.1", self.port))
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            if self._stop.is_set():
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries[(name, rdtype)] += 1
            behaviour = self.zone.get((name, rdtype), [])
            if behaviour == SILENT:
                continue
            if behaviour == GARBAGE:
                self.sock.sendto(data[:2] + b"\x81\x80\xff\xff garbage", peer)
                continue
            response = dns.message.make_response(query)
            if behaviour == WRONG_ID:
                response.id = (query.id + 1) % 65536
            elif behaviour == NXDOMAIN:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif behaviour == SERVFAIL:
                response.set_rcode(dns.rcode.SERVFAIL)
            else:
                for record in behaviour:
                    rtype, value = record.split(" ", 1)
                    owner = name
                    if rtype in ("A", "AAAA", "CNAME", "NS") and " " in value:
                        owner, value = value.split(" ", 1)  # "A owner value": another owner
                    response.answer.append(
                        dns.rrset.from_text(owner + ".", 300, "IN", rtype, value)
                    )
            self.sock.sendto(response.to_wire(), peer)


# -------------------------------------------------------------------------------------- RDAP


@dataclass
class Reply:
    """One recorded RDAP answer: status, body, headers; `drip` sends it a byte at a time with a
    pause between bytes (a slow server); `length` overrides Content-Length."""

    body: bytes
    status: int = 200
    content_type: str = "application/rdap+json"
    drip: float = 0.0
    length: int | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


class RdapServer:
    """An HTTP server on 127.0.0.1 replaying `answers`: {path: Reply}; 404 for anything else."""

    def __init__(self, answers: Mapping[str, Reply]) -> None:
        self.answers = dict(answers)
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests[self.path] += 1
                reply = server.answers.get(self.path) or Reply(b'{"errorCode":404}', 404)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                length = reply.length if reply.length is not None else len(reply.body)
                if length >= 0:
                    self.send_header("Content-Length", str(length))
                for key, value in reply.extra_headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    if reply.drip:
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def bootstrap(self) -> RdapBootstrap:
        """IANA-format bootstrap files naming this server for the documentation ranges."""
        urls = [self.base]
        docs = {
            "ipv4": {"services": [[["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"], urls]]},
            "ipv6": {"services": [[["2001:db8::/32"], urls]]},
            "asn": {"services": [[["64496-64511"], urls]]},
            "dns": {"services": [[["com", "net", "org"], urls]]},
        }
        return RdapBootstrap.from_documents(docs, allow_http=True)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


# ------------------------------------------------------------------------ recorded answers


def _vcard(name: str, email: str = "") -> list[Any]:
    items: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        items.append(["email", {"type": "work"}, "text", email])
    return ["vcard", items]


def ip_network(
    handle: str, name: str, country: str, abuse: str, asns: list[int] | None = None
) -> dict[str, Any]:
    """An IP network answer shaped like RIPE's: the abuse entity nested in the owner's."""
    answer: dict[str, Any] = {
        "rdapConformance": ["rdap_level_0"],
        "objectClassName": "ip network",
        "handle": handle,
        "name": name,
        "country": country,
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "ORG-EX1-TEST",
                "roles": ["registrant"],
                "vcardArray": _vcard(name),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "handle": "AR1-TEST",
                        "roles": ["abuse"],
                        "vcardArray": _vcard("Abuse desk", abuse),
                    }
                ],
            }
        ],
    }
    if asns:
        answer["arin_originas0_originautnums"] = asns
    return answer


def autnum(asn: int, name: str, abuse: str) -> dict[str, Any]:
    return {
        "objectClassName": "autnum",
        "handle": f"AS{asn}",
        "startAutnum": asn,
        "endAutnum": asn,
        "name": name,
        "entities": [
            {"objectClassName": "entity", "roles": ["abuse"], "vcardArray": _vcard("NOC", abuse)}
        ],
    }


def domain(name: str, registrar: str, abuse: str) -> dict[str, Any]:
    """A gTLD registry answer: the registrar entity, its abuse contact nested in it."""
    return {
        "objectClassName": "domain",
        "ldhName": name.upper(),
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrar"],
                "handle": "9999",
                "vcardArray": _vcard(registrar),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": _vcard("", abuse),
                    }
                ],
            },
            {
                "objectClassName": "entity",
                "roles": ["technical"],
                "vcardArray": _vcard("Registry tech", "tech@registry.example"),
            },
        ],
    }


HOSTING_ABUSE = "abuse@hosting.example"
TRANSIT_ABUSE = "noc@transit.example"
REGISTRAR_ABUSE = "abuse@registrar.example"

ZONE: dict[tuple[str, str], Any] = {
    # an unknown forum on a small host
    ("forum.example.org", "A"): ["A 192.0.2.10"],
    ("forum.example.org", "AAAA"): ["AAAA 2001:db8::10"],
    ("forum.example.org", "NS"): ["NS ns1.hosting.example."],
    ("10.2.0.192.origin.asn.cymru.com", "TXT"): ['TXT "64500 | 192.0.2.0/24 | FR | ripencc"'],
    # a mirror behind Cloudflare (seen through its CNAME only)
    ("mirror.example.net", "CNAME"): ["CNAME mirror.example.net.cdn.cloudflare.net."],
    ("mirror.example.net", "A"): [
        "CNAME mirror.example.net mirror.example.net.cdn.cloudflare.net.",
        "A mirror.example.net.cdn.cloudflare.net 198.51.100.7",
    ],
    # a site that no longer exists
    ("gone.example.com", "CNAME"): NXDOMAIN,
    # hostile resolvers
    ("garbage.example.com", "CNAME"): GARBAGE,
    ("slow.example.com", "CNAME"): SILENT,
    ("broken.example.com", "CNAME"): SERVFAIL,
    ("spoofed.example.com", "CNAME"): WRONG_ID,
}

RDAP: dict[str, Reply] = {
    "/ip/192.0.2.10": Reply(
        as_json(ip_network("EX-NET-1", "EXAMPLE-HOSTING", "FR", HOSTING_ABUSE))
    ),
    "/ip/2001:db8::10": Reply(
        as_json(ip_network("EX-NET-6", "EXAMPLE-HOSTING", "FR", HOSTING_ABUSE))
    ),
    "/ip/198.51.100.7": Reply(
        as_json(ip_network("US-NET", "US-HOSTING", "US", "abuse@us-hosting.example", [64501]))
    ),
    "/autnum/64500": Reply(as_json(autnum(64500, "EXAMPLE-TRANSIT", TRANSIT_ABUSE))),
    "/autnum/64501": Reply(as_json(autnum(64501, "US-TRANSIT", "noc@us-transit.example"))),
    "/domain/example.org": Reply(
        as_json(domain("example.org", "Example Registrar SAS", REGISTRAR_ABUSE))
    ),
    "/domain/example.net": Reply(
        as_json(domain("example.net", "Example Registrar SAS", REGISTRAR_ABUSE))
    ),
}
