"""The complaint dossier: what a caseworker attaches to a complaint (plainte), as frozen values
built from the database, and `render_dossier`, which lays them out as a PDF.

Owns the dossier's inputs and their consistency rules; must not read the database, the vault
or the network (the caller gathers everything, the renderer only lays it out).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rempart.clock import aware
from rempart.provenance.counts import VerdictCounts, count_by, count_verdicts

__all__ = [
    "LANGUAGES",
    "ComplaintKind",
    "Dossier",
    "DossierBundle",
    "DossierCapture",
    "DossierCase",
    "DossierEvent",
    "DossierFinding",
    "DossierMatch",
    "DossierNotice",
    "EventKind",
    "FindingStatus",
    "SealTimestamp",
    "events_from_findings",
    "render_dossier",
]

LANGUAGES = ("fr", "en")


class ComplaintKind(enum.StrEnum):
    INDIVIDUAL = "individual"  # one victim files
    COLLECTIVE = "collective"  # an association files for several victims


class FindingStatus(enum.StrEnum):
    """A finding's review state. Rejected findings (false matches) never enter a dossier."""

    PENDING = "pending"  # found by hashes, not yet checked by a caseworker
    CONFIRMED = "confirmed"  # a caseworker checked it is a copy


class EventKind(enum.StrEnum):
    POSTED = "posted"  # the copy was posted (the date the site or the export gave)
    FIRST_SEEN = "first_seen"
    CAPTURED = "captured"
    CONFIRMED = "confirmed"
    NOTICE = "notice"  # a notice (takedown request) was sent
    REMOVED = "removed"  # the copy was found gone
    REAPPEARED = "reappeared"  # a removed copy came back


@dataclass(frozen=True, slots=True)
class DossierCase:
    """Who the dossier is about and who prepares it. `reference` is the case's pseudonym; the
    victim's legal name appears only when `victim_name` is given (and never in page footers)."""

    reference: str
    organisation: str
    caseworker: str
    opened_at: datetime
    minor: bool = False
    kind: ComplaintKind = ComplaintKind.INDIVIDUAL
    victims: int = 1  # how many victims a collective complaint covers
    victim_name: str | None = field(default=None, repr=False)
    contact: str = ""  # the organisation's address, e-mail, phone, website (one line)
    trusted_flagger: bool = False  # designated under the DSA (article 22)
    designation: str = ""  # the designation's reference
    designated_by: str = ""  # the Digital Services Coordinator that designated it

    def __post_init__(self) -> None:
        if not self.reference.strip():
            raise ValueError("a dossier needs a case reference")
        if not self.organisation.strip() or not self.caseworker.strip():
            raise ValueError("a dossier names the organisation and the caseworker")
        object.__setattr__(self, "kind", ComplaintKind(self.kind))
        if self.victims < 1:
            raise ValueError(f"a complaint covers at least one victim, got {self.victims}")
        if self.kind is ComplaintKind.INDIVIDUAL and self.victims != 1:
            raise ValueError("an individual complaint covers exactly one victim")
        object.__setattr__(self, "opened_at", aware(self.opened_at))


@dataclass(frozen=True, slots=True)
class DossierMatch:
    """How Rempart matched the copy to a protected item. `distance` and `threshold` are PDQ
    bits out of 256 (0 and 0 for exact SHA-256/MD5 matches)."""

    method: str  # pdq, sha256, md5
    distance: int
    threshold: int
    window: str | None = None  # which part of the picture matched (crop, grid cell, face…)
    variant: str | None = None  # mirrored / rotated variant, when not the original
    reference: str | None = None  # which registered hash matched (whole, crop, face…)
    reference_label: str = ""  # which crop or face


class SealTimestamp(NamedTuple):
    """One RFC 3161 timestamp on a bundle: the authority and the time it certified."""

    authority: str
    gen_time: datetime


@dataclass(frozen=True, slots=True)
class DossierCapture:
    """A sealed capture: the bundle's file name and SHA-256, when and by whom it was taken, the
    signing key's fingerprint and the timestamps the authorities gave."""

    bundle: str
    bundle_sha256: str
    captured_at: datetime
    operator: str
    signer: str  # Ed25519 public key fingerprint
    timestamps: tuple[SealTimestamp, ...] = ()
    url: str | None = None  # the page as finally loaded, after redirects
    bundle_size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "captured_at", aware(self.captured_at))
        object.__setattr__(
            self,
            "timestamps",
            tuple(SealTimestamp(a, aware(t)) for a, t in self.timestamps),
        )


@dataclass(frozen=True, slots=True)
class DossierNotice:
    """A notice sent about a copy and where it stands. `status` is the notice's state name
    (sent, acknowledged, removed, refused, no_response, escalated…); names the dossier does
    not know are printed as they are."""

    sent_at: datetime
    recipient: str
    channel: str
    legal_basis: str
    status: str
    status_at: datetime | None = None
    kind: str = ""  # dsa, abuse, delisting, complaint…
    message_id: str | None = None  # or the web form's ticket
    history: tuple[tuple[str, datetime], ...] = ()  # (status, when), oldest first
    time_to_removal: timedelta | None = None  # sent → first re-check that found it gone
    escalates: int | None = None  # the notice this one followed up
    number: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sent_at", aware(self.sent_at))
        if self.status_at is not None:
            object.__setattr__(self, "status_at", aware(self.status_at))


@dataclass(frozen=True, slots=True)
class DossierFinding:
    """One copy found online: where and when, its digests, how it matched, its captures and
    notices. `thumbnail` holds the media's bytes as served (a frame for a video) or None; the
    dossier only ever shows it blurred, and never for a minor. `posted_at` and `author` are
    what the site or the export said of the post (unknown: None); `place` names where it was
    posted when there is no page (a Telegram channel)."""

    id: int
    status: FindingStatus
    first_seen_at: datetime
    last_seen_at: datetime
    source: str
    bank: str
    item: str
    match: DossierMatch
    sha256: str
    md5: str
    page_url: str | None = None
    media_url: str | None = None
    post_id: str | None = None
    pdq: str | None = None
    quality: int | None = None
    media: str = "image"  # image or video
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    removed_at: datetime | None = None  # found gone (and not back since)
    victim: str | None = None  # the victim's pseudonym, in a collective complaint
    posted_at: datetime | None = None
    author: str | None = None
    place: str | None = None
    thumbnail: bytes | None = field(default=None, repr=False)
    captures: tuple[DossierCapture, ...] = ()
    notices: tuple[DossierNotice, ...] = ()
    # What the copy's file and its match said about its origin (rempart.provenance): the
    # verdict's stable name, None when the copy was recorded before provenance was read;
    # `declared_by` names who declared AI (a generator, a signer).
    provenance: str | None = None
    declared_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if str(self.status) == "rejected":
            raise ValueError(f"finding {self.id} was rejected: it does not belong in a dossier")
        object.__setattr__(self, "status", FindingStatus(self.status))
        for name in ("first_seen_at", "last_seen_at", "reviewed_at", "removed_at", "posted_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, aware(value))
        object.__setattr__(self, "captures", tuple(self.captures))
        object.__setattr__(self, "notices", tuple(self.notices))
        object.__setattr__(self, "declared_by", tuple(self.declared_by))

    @property
    def site(self) -> str:
        """The host the copy was seen on (the page's, else the media's), else the source."""
        for url in (self.page_url, self.media_url):
            host = _host(url)
            if host:
                return host
        return self.source


@dataclass(frozen=True, slots=True)
class DossierEvent:
    at: datetime
    kind: EventKind
    finding_id: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware(self.at))
        object.__setattr__(self, "kind", EventKind(self.kind))


@dataclass(frozen=True, slots=True)
class DossierBundle:
    """A sealed bundle handed over with the dossier."""

    name: str
    sha256: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything one dossier shows. `bundles` lists bundles to hand over besides those the
    findings' captures name (the annex lists both); `zone` is the time zone dates are shown in.
    """

    case: DossierCase
    findings: tuple[DossierFinding, ...]
    events: tuple[DossierEvent, ...]
    generated_at: datetime
    language: str = "fr"
    bundles: tuple[DossierBundle, ...] = ()
    zone: str = "Europe/Paris"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}: {self.language!r}")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.zone!r}") from None
        object.__setattr__(self, "generated_at", aware(self.generated_at))
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "events", tuple(self.events))
        ids = [f.id for f in self.findings]
        if len(set(ids)) != len(ids):
            raise ValueError("finding ids must be unique in a dossier")
        unknown = sorted({e.finding_id for e in self.events} - set(ids))
        if unknown:
            raise ValueError(f"events name findings not in the dossier: {unknown[:10]}")
        object.__setattr__(self, "bundles", self._all_bundles(tuple(self.bundles)))

    def _all_bundles(self, given: tuple[DossierBundle, ...]) -> tuple[DossierBundle, ...]:
        """The given bundles and those the captures name, once each, in name order; a name
        seen with two different digests is refused (one of them is wrong)."""
        by_name: dict[str, DossierBundle] = {}
        captured = [
            DossierBundle(c.bundle, c.bundle_sha256, c.bundle_size)
            for f in self.findings
            for c in f.captures
        ]
        for bundle in (*given, *captured):
            known = by_name.get(bundle.name)
            if known is not None and known.sha256.lower() != bundle.sha256.lower():
                raise ValueError(f"bundle {bundle.name!r} is listed with two different SHA-256")
            if known is None or (known.size is None and bundle.size is not None):
                by_name[bundle.name] = bundle
        return tuple(by_name[name] for name in sorted(by_name))

    @property
    def ordered_findings(self) -> tuple[DossierFinding, ...]:
        """Confirmed findings (the dossier's copies) in the order they were first seen."""
        return tuple(
            sorted(
                (f for f in self.findings if f.status is FindingStatus.CONFIRMED),
                key=lambda f: (f.first_seen_at, f.id),
            )
        )

    @property
    def pending_findings(self) -> tuple[DossierFinding, ...]:
        """Matches not yet checked by a caseworker: never counted as copies, only shown in a
        separate annex when the caller put them in."""
        return tuple(
            sorted(
                (f for f in self.findings if f.status is FindingStatus.PENDING),
                key=lambda f: (f.first_seen_at, f.id),
            )
        )

    def provenance_counts(self) -> VerdictCounts:
        """The confirmed copies by provenance verdict (the dossier's copies, as its summary
        counts them)."""
        return count_verdicts(f.provenance for f in self.ordered_findings)

    def provenance_by_site(self) -> dict[str, VerdictCounts]:
        """Per site (host), most copies first, then by name."""
        counts = count_by((f.site, f.provenance) for f in self.ordered_findings)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1].total, kv[0])))

    def provenance_by_month(self) -> dict[str, VerdictCounts]:
        """Per month the copies were first seen (YYYY-MM in the dossier's zone), oldest first."""
        zone = ZoneInfo(self.zone)
        counts = count_by(
            (f.first_seen_at.astimezone(zone).strftime("%Y-%m"), f.provenance)
            for f in self.ordered_findings
        )
        return dict(sorted(counts.items()))

    def provenance_by_victim(self) -> dict[str, VerdictCounts]:
        """Per victim (pseudonym) of a collective complaint; empty when no copy names one."""
        if not any(f.victim for f in self.ordered_findings):
            return {}
        counts = count_by((f.victim or "", f.provenance) for f in self.ordered_findings)
        return dict(sorted(counts.items()))

    def bundle_findings(self) -> Mapping[str, tuple[int, ...]]:
        """For each bundle name, the findings whose captures it holds."""
        holders: dict[str, list[int]] = {}
        for finding in (*self.ordered_findings, *self.pending_findings):
            for capture in finding.captures:
                ids = holders.setdefault(capture.bundle, [])
                if finding.id not in ids:
                    ids.append(finding.id)
        return {name: tuple(ids) for name, ids in holders.items()}


def events_from_findings(findings: tuple[DossierFinding, ...]) -> tuple[DossierEvent, ...]:
    """The timeline events the confirmed findings record: first seen, confirmed, captured,
    notices sent and removed (pending matches are not copies and stay off the timeline).
    Reappearances are only known to the caller."""
    events: list[DossierEvent] = []
    for f in findings:
        if f.status is not FindingStatus.CONFIRMED:
            continue
        if f.posted_at is not None:
            events.append(DossierEvent(f.posted_at, EventKind.POSTED, f.id))
        events.append(DossierEvent(f.first_seen_at, EventKind.FIRST_SEEN, f.id))
        if f.status is FindingStatus.CONFIRMED and f.reviewed_at is not None:
            events.append(DossierEvent(f.reviewed_at, EventKind.CONFIRMED, f.id))
        events.extend(DossierEvent(c.captured_at, EventKind.CAPTURED, f.id) for c in f.captures)
        events.extend(DossierEvent(n.sent_at, EventKind.NOTICE, f.id) for n in f.notices)
        if f.removed_at is not None:
            events.append(DossierEvent(f.removed_at, EventKind.REMOVED, f.id))
    return tuple(sorted(events, key=lambda e: (e.at, e.finding_id, e.kind.value)))


def render_dossier(dossier: Dossier) -> bytes:
    """The dossier as a PDF. The same dossier gives the same bytes."""
    # Imported here so that building the values (in the CLI, from the database) does not load
    # reportlab and matplotlib.
    from rempart.evidence.dossier_pdf import render_pdf

    return render_pdf(dossier)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:  # a hostile URL may not even parse
        return None
