"""Who must act on one copy: the resolution chain and the choice of recipients.

Owns the order (platform registry → DNS → CDN → IP network's RDAP abuse contact → ASN →
domain's registrar → search delisting), the minor rule and the Telegram rule. Must not do I/O
itself: every lookup goes through the `Lookups` port (lookups.py on the network, fakes in tests).

    resolution = resolve(url, registry=registry, lookups=lookups)
    resolution.recipients  # ordered: who to notify first, then whom to escalate to
    resolution.evidence    # every raw answer used, with its time and SHA-256
    resolution.problems    # lookups that gave nothing usable, as error values

A minor's case never gets ordinary recipients: only the child-protection hotlines (those of the
association's country, and the host country's when known), with references and digests only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from rempart.i18n import N_, gettext
from rempart.takedown.answers import DnsAnswer, RawAnswer, RdapAnswer
from rempart.takedown.errors import NxDomainError, ResolutionError, TakedownError
from rempart.takedown.registry import Platform, Registry, Role, normalise_host, registrable_domain

__all__ = [
    "Channel",
    "Lookups",
    "Provenance",
    "Reason",
    "Recipient",
    "Resolution",
    "resolve",
]

T = TypeVar("T")
_MAX_ADDRESSES = 2  # one IPv4 and one IPv6 network are asked about; more adds no one new


class Channel(StrEnum):
    """How a notice reaches a recipient. Stored by value: never rename one."""

    EMAIL = "email"
    WEBFORM = "webform"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a recipient's contact comes from: a public page (with the day it was checked) or
    a lookup answer (with its digest)."""

    ref: str
    checked: date | None = None
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a recipient was chosen: a catalog template and its values, rendered on demand."""

    template: str
    values: Mapping[str, object] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        return gettext(self.template, lang=lang, **self.values)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One party to notify, how, at which address, why, and on what sources."""

    name: str
    role: Role
    channel: Channel
    address: str
    why: Reason
    sources: tuple[Provenance, ...] = ()
    platform: str = ""
    references_only: bool = False
    alternatives: tuple[tuple[Channel, str], ...] = ()

    def as_json(self, lang: str | None = None) -> dict[str, object]:
        """The shape `notify plan --json` prints under `recipient`."""
        return {
            "name": self.name,
            "role": self.role.value,
            "channel": self.channel.value,
            "address": self.address,
            "why": self.why.text(lang),
            "platform": self.platform or None,
            "references_only": self.references_only,
            "sources": [
                {
                    "ref": s.ref,
                    "checked": s.checked.isoformat() if s.checked else None,
                    "sha256": s.sha256 or None,
                }
                for s in self.sources
            ],
        }


@dataclass(frozen=True, slots=True)
class Resolution:
    """Everything found for one URL: recipients in order, the raw answers, the problems."""

    url: str
    host: str
    recipients: tuple[Recipient, ...]
    evidence: tuple[RawAnswer, ...] = ()
    problems: tuple[TakedownError, ...] = ()
    platform: str = ""
    cdn: str = ""
    addresses: tuple[str, ...] = ()
    asn: int | None = None
    domain: str = ""


class Lookups(Protocol):
    """The network questions the chain asks. Each raises a ResolutionError when it gets no
    usable answer; none of them may return a partial one."""

    def dns(self, name: str, rdtype: str) -> DnsAnswer: ...

    def origin_asn(self, address: str) -> tuple[int | None, RawAnswer]: ...

    def rdap_ip(self, address: str) -> RdapAnswer: ...

    def rdap_asn(self, asn: int) -> RdapAnswer: ...

    def rdap_domain(self, domain: str) -> RdapAnswer: ...


def resolve(
    url: str,
    *,
    registry: Registry,
    lookups: Lookups,
    minor: bool = False,
    headers: Mapping[str, str] | None = None,
    source_kind: str = "",
    home_country: str = "FR",
) -> Resolution:
    """The recipients for one copy's URL, in the order they are to be notified.

    `headers`: the response headers seen when the copy was fetched or captured (CDN hints).
    `source_kind`: the kind of source the copy was found by; Telegram finds go to Telegram.
    Raises ResolutionError only for a URL with no host; every lookup failure is a problem value.
    """
    host = _host_of(url, source_kind)
    chain = _Chain(url, host, registry, lookups)
    platform = registry.get("telegram") if source_kind.startswith("telegram") else None
    platform = platform or registry.by_host(host, _port_of(url))
    if platform is not None:
        chain.platform = platform
        if not minor:
            chain.add_platform(platform, N_("{host} is a known platform: {name}"))
    else:
        chain.network_chain(headers or {})
    if minor:
        return chain.minor_resolution(home_country, platform)
    chain.add_search()
    if not any(r.role is not Role.SEARCH for r in chain.recipients):
        chain.recipients.insert(0, _manual(host))
    return chain.resolution()


def _host_of(url: str, source_kind: str) -> str:
    if source_kind.startswith("telegram") and not url.lower().startswith(("http://", "https://")):
        return "t.me"
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "") if parts.scheme in ("http", "https") else ""
    except ValueError:
        host = ""
    if not host:
        raise ResolutionError("{url!r} is not a web address with a host", url=url[:200])
    return normalise_host(host)


def _port_of(url: str) -> int | None:
    try:
        return urlsplit(url.strip()).port
    except ValueError:
        return None


def _manual(host: str) -> Recipient:
    return Recipient(
        name=host,
        role=Role.HOST,
        channel=Channel.MANUAL,
        address="",
        why=Reason(
            N_(
                "{host} is not a known platform and no abuse contact was found: find who hosts "
                "it by hand"
            ),
            {"host": host},
        ),
    )


_CHANNEL_ORDER = (
    ("ncii_form", Channel.WEBFORM),
    ("notice_email", Channel.EMAIL),
    ("notice_form", Channel.WEBFORM),
)


def _platform_recipient(
    platform: Platform, role: Role, why: Reason, *, references_only: bool = False
) -> Recipient:
    channels = [
        (channel, fact)
        for key, channel in _CHANNEL_ORDER
        if (fact := platform.fact(key)) is not None
    ]
    sources = tuple(Provenance(f.source, f.checked) for f in platform.facts.values())
    if not channels:
        return Recipient(
            name=platform.name,
            role=role,
            channel=Channel.MANUAL,
            address="",
            why=Reason(
                N_(
                    "{name} is known but publishes no notice address Rempart knows: find it by hand"
                ),
                {"name": platform.name},
            ),
            sources=sources,
            platform=platform.id,
            references_only=references_only,
        )
    (channel, fact), *others = channels
    return Recipient(
        name=platform.name,
        role=role,
        channel=channel,
        address=fact.value,
        why=why,
        sources=sources,
        platform=platform.id,
        references_only=references_only,
        alternatives=tuple((other, f.value) for other, f in others),
    )


class _Chain:
    """The state of one resolution while its steps run."""

    def __init__(self, url: str, host: str, registry: Registry, lookups: Lookups) -> None:
        self.url, self.host, self.registry, self.lookups = url, host, registry, lookups
        self.recipients: list[Recipient] = []
        self.evidence: list[RawAnswer] = []
        self.problems: list[TakedownError] = []
        self.platform: Platform | None = None
        self.cdn: Platform | None = None
        self.addresses: list[str] = []
        self.cnames: list[str] = []
        self.asn: int | None = None
        self.domain = ""
        self.host_country = ""

    # -- steps

    def network_chain(self, headers: Mapping[str, str]) -> None:
        self.dns()
        self.detect_cdn(headers)
        network_abuse = self.ip_networks()
        self.origin_asn(network_abuse)
        self.registrar()

    def dns(self) -> None:
        if _is_address(self.host):
            self.addresses.append(self.host)
            return
        for rdtype in ("CNAME", "A", "AAAA", "NS"):
            answer = self.ask(self.lookups.dns, self.host, rdtype)
            if answer is None:
                if rdtype == "CNAME" and self._nxdomain():
                    return
                continue
            if rdtype == "CNAME":
                self.cnames.extend(answer.records)
            elif rdtype in ("A", "AAAA"):
                self.addresses.extend(r for r in answer.records if _is_address(r))

    def _nxdomain(self) -> bool:
        return bool(self.problems) and isinstance(self.problems[-1], NxDomainError)

    def detect_cdn(self, headers: Mapping[str, str]) -> None:
        for platform in self.registry.cdns():
            detect = platform.detect
            assert detect is not None
            how = ""
            if any(detect.matches_address(a) for a in self.addresses):
                how = N_("{host} resolves to {cdn}'s addresses")
            elif any(detect.matches_cname(c) for c in self.cnames):
                how = N_("{host} is an alias of a {cdn} name")
            elif headers and detect.matches_headers(headers):
                how = N_("{host} answered with {cdn}'s headers")
            if how:
                self.cdn = platform
                recipient = _platform_recipient(
                    platform, Role.CDN, Reason(how, {"host": self.host, "cdn": platform.name})
                )
                self.recipients.append(_with_source(recipient, Provenance(detect.source)))
                return

    def ip_networks(self) -> set[str]:
        """Ask each address's RIR for its network's abuse contact (not behind a CDN's range)."""
        found: set[str] = set()
        asked = 0
        for address in self.addresses:
            if asked >= _MAX_ADDRESSES:
                break
            if (
                self.cdn is not None
                and self.cdn.detect
                and self.cdn.detect.matches_address(address)
            ):
                continue
            asked += 1
            answer = self.ask(self.lookups.rdap_ip, address)
            if answer is None:
                continue
            record = answer.record
            self.host_country = self.host_country or record.country
            if record.origin_asns and self.asn is None:
                self.asn = record.origin_asns[0]
            for email in record.abuse_emails[:1]:
                if email in found:
                    continue
                found.add(email)
                self.recipients.append(
                    Recipient(
                        name=record.name or record.handle or address,
                        role=Role.HOST,
                        channel=Channel.EMAIL,
                        address=email,
                        why=Reason(
                            N_("abuse contact of the network {network} that holds {address}"),
                            {"network": record.handle or record.name, "address": address},
                        ),
                        sources=(Provenance(answer.query, sha256=answer.evidence.sha256),),
                    )
                )
        return found

    def origin_asn(self, known: set[str]) -> None:
        address = next((a for a in self.addresses if not self._behind_cdn(a)), None)
        if address is None:
            return
        if self.asn is None:
            result = self.ask(self.lookups.origin_asn, address)
            if result is None:
                return
            self.asn, raw = result
            self.evidence.append(raw)
            if self.asn is None:
                return
        answer = self.ask(self.lookups.rdap_asn, self.asn)
        if answer is None:
            return
        for email in answer.record.abuse_emails[:1]:
            if email in known:
                return
            self.recipients.append(
                Recipient(
                    name=answer.record.name or f"AS{self.asn}",
                    role=Role.NETWORK,
                    channel=Channel.EMAIL,
                    address=email,
                    why=Reason(
                        N_("abuse contact of AS{asn}, the network that announces {address}"),
                        {"asn": self.asn, "address": address},
                    ),
                    sources=(Provenance(answer.query, sha256=answer.evidence.sha256),),
                )
            )

    def _behind_cdn(self, address: str) -> bool:
        detect = self.cdn.detect if self.cdn else None
        return bool(detect and detect.matches_address(address))

    def registrar(self) -> None:
        self.domain = registrable_domain(self.host)
        if not self.domain:
            return
        answer = self.ask(self.lookups.rdap_domain, self.domain)
        if answer is None:
            return
        record = answer.record
        emails = record.registrar_abuse_emails or ()
        if not emails:
            return
        self.recipients.append(
            Recipient(
                name=record.registrar or self.domain,
                role=Role.REGISTRAR,
                channel=Channel.EMAIL,
                address=emails[0],
                why=Reason(
                    N_("abuse contact of {registrar}, the registrar of {domain}"),
                    {"registrar": record.registrar or "?", "domain": self.domain},
                ),
                sources=(Provenance(answer.query, sha256=answer.evidence.sha256),),
            )
        )

    def add_platform(self, platform: Platform, why: str) -> None:
        """The platform that serves the host: as its host, or in its own role (a CDN's name)."""
        hosting = {Role.HOST, Role.MESSAGING} & set(platform.roles)
        role = Role.HOST if hosting else platform.roles[0]
        self.recipients.append(
            _platform_recipient(
                platform, role, Reason(why, {"host": self.host, "name": platform.name})
            )
        )

    def add_search(self) -> None:
        for platform in self.registry.with_role(Role.SEARCH):
            self.recipients.append(
                _platform_recipient(
                    platform,
                    Role.SEARCH,
                    Reason(
                        N_("{name} can delist the copy from its results"), {"name": platform.name}
                    ),
                )
            )

    def minor_resolution(self, home_country: str, platform: Platform | None) -> Resolution:
        """Only child-protection hotlines, references and digests only (rule 6): those of the
        association's country first, then the host country's when it is known."""
        host_country = _country(platform) if platform is not None else self.host_country
        countries = [home_country, *([host_country] if host_country else [])]
        hotlines = sorted(
            (p for p in self.registry.with_role(Role.HOTLINE) if _country(p) in countries),
            key=lambda p: countries.index(_country(p)),
        )
        self.recipients = [
            _platform_recipient(
                p,
                Role.HOTLINE,
                Reason(
                    N_(
                        "a minor is involved: only the child-protection channel {name} is "
                        "notified, with references and digests only"
                    ),
                    {"name": p.name},
                ),
                references_only=True,
            )
            for p in hotlines
        ]
        if not self.recipients:
            self.recipients = [
                Recipient(
                    name=self.host,
                    role=Role.HOTLINE,
                    channel=Channel.MANUAL,
                    address="",
                    why=Reason(
                        N_(
                            "a minor is involved and no child-protection channel is "
                            "registered: report it to the police by hand"
                        )
                    ),
                    references_only=True,
                )
            ]
        return self.resolution()

    # -- plumbing

    def ask(self, question: Callable[..., T], *arguments: object) -> T | None:
        """Run one lookup; keep its raw answer, or keep its failure as a problem."""
        try:
            answer = question(*arguments)
        except ResolutionError as error:
            self.problems.append(error)
            return None
        evidence = getattr(answer, "evidence", None)
        if isinstance(evidence, RawAnswer):
            self.evidence.append(evidence)
        return answer

    def resolution(self) -> Resolution:
        return Resolution(
            url=self.url,
            host=self.host,
            recipients=tuple(_deduplicated(self.recipients)),
            evidence=tuple(_unique_evidence(self.evidence)),
            problems=tuple(self.problems),
            platform=self.platform.id if self.platform else "",
            cdn=self.cdn.id if self.cdn else "",
            addresses=tuple(self.addresses),
            asn=self.asn,
            domain=self.domain,
        )


def _country(platform: Platform) -> str:
    fact = platform.fact("country")
    return fact.value if fact else ""


def _with_source(recipient: Recipient, source: Provenance) -> Recipient:
    return replace(recipient, sources=(*recipient.sources, source))


def _deduplicated(recipients: Sequence[Recipient]) -> list[Recipient]:
    seen: set[tuple[str, str]] = set()
    out = []
    for recipient in recipients:
        key = (recipient.channel.value, recipient.address or recipient.name)
        if key not in seen:
            seen.add(key)
            out.append(recipient)
    return out


def _unique_evidence(answers: Sequence[RawAnswer]) -> list[RawAnswer]:
    seen: set[tuple[str, str]] = set()
    out = []
    for answer in answers:
        if (answer.query, answer.sha256) not in seen:
            seen.add((answer.query, answer.sha256))
            out.append(answer)
    return out


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
