"""Custody anchors: a case's chain head, signed by the sealing key and time-stamped by an
RFC 3161 authority, kept outside the database (the vault's anchor files, a lawyer's copy), and
the comparison of a database chain against every anchor and sealed bundle that recorded it.

Pure: values, canonical bytes and checks. Must not touch a database, a file, a clock or the
network; the caller stores anchors and passes time and time-stamps in.

An anchor is one line of canonical JSON (see `rempart.evidence.custody`):

    {"format": "rempart-custody-anchor-1", "chain": "case:3", "case": "case-0142",
     "seq": 12, "head": <digest of event 12>, "from_seq": 9,
     "digests": [<digest of event 9>, ..., <digest of event 12>],
     "reason": "export", "anchored_at": <time>, "fingerprint": <key>, "public_key": <b64>,
     "signature": <b64 Ed25519 over the canonical JSON of every field above>,
     "timestamps": [{"authority", "url", "request", "response", "chain", "crls",
                     "revocation_notes"}]}   # over the canonical JSON of the signed fields
                                             # plus "signature"; DER blobs in base64

Each anchor lists the digest of every event since the anchor before it, so that the anchors
of a chain together name the first event that a later database edit changed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography import x509

from rempart.errors import EvidenceError
from rempart.evidence.custody import (
    CustodyEvent,
    canonical_json,
    format_time,
    parse_time,
    verify_chain,
)
from rempart.evidence.keys import PublicKeyInfo, SigningKey, fingerprint, verify_signature
from rempart.evidence.timestamps import Timestamp, Timestamper, verify_timestamp
from rempart.i18n import Phrase

__all__ = [
    "ANCHOR_FORMAT",
    "Anchor",
    "AnchorReason",
    "AnchorVerdict",
    "ChainReport",
    "Disagreement",
    "check_anchor",
    "compare_chain",
    "make_anchor",
    "parse_anchors",
]

ANCHOR_FORMAT = "rempart-custody-anchor-1"
_GRACE = timedelta(minutes=5)  # clocks differ: a key retired now may have stamped just before
MAX_ANCHOR_LINE = 16 * 1024 * 1024
MAX_ANCHORS = 100_000
_SIGNED = (
    "anchored_at",
    "case",
    "chain",
    "digests",
    "fingerprint",
    "format",
    "from_seq",
    "head",
    "public_key",
    "reason",
    "seq",
)
_FIELDS = (*_SIGNED, "signature", "timestamps")


class AnchorReason(StrEnum):
    """Why an anchor was made. Stored by value: never rename one."""

    INTERVAL = "interval"  # `rempart custody anchor`, run regularly
    MANUAL = "manual"  # `rempart custody anchor CASE`
    REVIEW = "review"
    EXPORT = "export"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchor, as read or made. `signature` and `timestamps` are checked by
    `check_anchor`, not trusted."""

    chain: str
    case: str
    seq: int
    head: str
    from_seq: int
    digests: tuple[str, ...] = field(repr=False)
    reason: str
    anchored_at: datetime
    public_key: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    timestamps: tuple[Timestamp, ...] = field(default=(), repr=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def signed_fields(self) -> dict[str, Any]:
        return {
            "format": ANCHOR_FORMAT,
            "chain": self.chain,
            "case": self.case,
            "seq": self.seq,
            "head": self.head,
            "from_seq": self.from_seq,
            "digests": list(self.digests),
            "reason": self.reason,
            "anchored_at": format_time(self.anchored_at),
            "fingerprint": self.fingerprint,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
        }

    def stamped_bytes(self) -> bytes:
        """What the time-stamps cover: the signed fields and the signature."""
        return canonical_json(
            {**self.signed_fields(), "signature": base64.b64encode(self.signature).decode()}
        )

    def recorded(self) -> dict[int, str]:
        """Event number -> digest, for every event this anchor records."""
        return {self.from_seq + i: digest for i, digest in enumerate(self.digests)}

    def to_line(self) -> bytes:
        document = {
            **self.signed_fields(),
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "timestamps": [_stamp_json(stamp) for stamp in self.timestamps],
        }
        return canonical_json(document) + b"\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _stamp_json(stamp: Timestamp) -> dict[str, Any]:
    return {
        "authority": stamp.authority,
        "url": stamp.url,
        "request": _b64(stamp.request),
        "response": _b64(stamp.response),
        "chain": [_b64(der) for der in stamp.chain],
        "crls": [_b64(der) for der in stamp.crls],
        "revocation_notes": [str(note) for note in stamp.revocation_notes],
    }


def make_anchor(
    events: Sequence[CustodyEvent],
    *,
    chain: str,
    case: str,
    since: int,
    reason: AnchorReason,
    at: datetime,
    key: SigningKey,
    timestamper: Timestamper,
) -> Anchor:
    """Anchor the head of `events` (a whole chain, from event 1), recording the digests of
    the events after event number `since` (0: all of them). Raises EvidenceError for an
    empty or broken chain (a broken chain is never anchored) and when no time-stamp comes."""
    if not events:
        raise EvidenceError("an empty custody chain has nothing to anchor")
    checked = verify_chain(events)
    if not checked.ok:
        raise EvidenceError(
            "the custody chain {chain} is broken at event {seq}: not anchored",
            chain=chain,
            seq=checked.first_bad_seq,
        )
    head = events[-1]
    since = max(0, min(since, head.seq - 1))
    draft = Anchor(
        chain=chain,
        case=case,
        seq=head.seq,
        head=head.digest,
        from_seq=since + 1,
        digests=tuple(event.digest for event in events[since:]),
        reason=AnchorReason(reason).value,
        anchored_at=at,
        public_key=key.public_key,
        signature=b"",
    )
    signature = key.sign(canonical_json(draft.signed_fields()))
    signed = Anchor(**{**_as_kwargs(draft), "signature": signature})
    stamps = tuple(timestamper(signed.stamped_bytes()))
    if not stamps:
        raise EvidenceError("no time-stamp was returned for the custody anchor")
    for stamp in stamps:
        if not verify_timestamp(stamp, signed.stamped_bytes()).valid:
            raise EvidenceError("the custody anchor's time-stamp is invalid")
    return Anchor(**{**_as_kwargs(signed), "timestamps": stamps})


def _as_kwargs(anchor: Anchor) -> dict[str, Any]:
    return {name: getattr(anchor, name) for name in Anchor.__dataclass_fields__}


def parse_anchors(data: bytes, *, source: str = "anchors") -> tuple[Anchor, ...]:
    """Read anchor lines strictly: EvidenceError naming the line for anything that is not an
    anchor in canonical form. Parsing proves nothing: `check_anchor` does."""
    if not data:
        return ()
    if not data.endswith(b"\n"):
        raise EvidenceError("{source}: the last line does not end with a newline", source=source)
    lines = data.split(b"\n")[:-1]
    if len(lines) > MAX_ANCHORS:
        raise EvidenceError("{source}: too many anchors", source=source)
    return tuple(_parse_line(source, number, line) for number, line in enumerate(lines, 1))


def _parse_line(source: str, number: int, line: bytes) -> Anchor:
    where = {"source": source, "line": number}
    if len(line) > MAX_ANCHOR_LINE:
        raise EvidenceError("{source}, line {line}: too long for an anchor", **where)
    try:
        raw = json.loads(line.decode("utf-8"))
        if not isinstance(raw, dict) or sorted(raw) != sorted(_FIELDS):
            raise ValueError("not an anchor")
        if raw["format"] != ANCHOR_FORMAT:
            raise ValueError("unknown format")
        anchor = Anchor(
            chain=_text(raw["chain"]),
            case=_text(raw["case"]),
            seq=_number(raw["seq"]),
            head=_text(raw["head"]),
            from_seq=_number(raw["from_seq"]),
            digests=tuple(_text(d) for d in raw["digests"]),
            reason=AnchorReason(raw["reason"]).value,
            anchored_at=parse_time(raw["anchored_at"]),
            public_key=_decode(raw["public_key"]),
            signature=_decode(raw["signature"]),
            timestamps=tuple(_stamp(entry) for entry in raw["timestamps"]),
        )
        if len(anchor.public_key) != 32 or raw["fingerprint"] != anchor.fingerprint:
            raise ValueError("bad key")
        if anchor.from_seq + len(anchor.digests) - 1 != anchor.seq or not anchor.digests:
            raise ValueError("digests do not end at the head")
        if anchor.digests[-1] != anchor.head:
            raise ValueError("the head is not the last digest")
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise EvidenceError(
            "{source}, line {line}: not a custody anchor ({kind})",
            kind=exc.__class__.__name__,
            **where,
        ) from None
    if anchor.to_line() != line + b"\n":
        raise EvidenceError("{source}, line {line}: not in canonical form", **where)
    return anchor


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("not a positive integer")
    return value


def _decode(value: object) -> bytes:
    try:
        return base64.b64decode(_text(value).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not base64") from exc


def _stamp(entry: object) -> Timestamp:
    if not isinstance(entry, dict):
        raise TypeError("a time-stamp is not an object")
    return Timestamp(
        authority=_text(entry["authority"]),
        url=_text(entry["url"]),
        request=_decode(entry["request"]),
        response=_decode(entry["response"]),
        chain=tuple(_decode(der) for der in entry["chain"]),
        crls=tuple(_decode(der) for der in entry["crls"]),
        revocation_notes=tuple(_text(note) for note in entry["revocation_notes"]),
    )


@dataclass(frozen=True, slots=True)
class AnchorVerdict:
    """Whether an anchor can be relied on: its signature by a key you trust, and a valid
    time-stamp (`stamped_at`: the earliest; `trusted_root`: under a root you trust)."""

    ok: bool
    problem: str = ""  # a Phrase when not ok
    stamped_at: datetime | None = None
    trusted_root: bool = False


def check_anchor(
    anchor: Anchor,
    *,
    keys: Mapping[str, PublicKeyInfo],
    roots: Sequence[x509.Certificate] = (),
) -> AnchorVerdict:
    """An anchor is relied on when a key you trust signed it and an authority time-stamped
    it; a key compromised before the anchor's first time-stamp cannot vouch for it."""
    if not verify_signature(
        anchor.public_key, anchor.signature, canonical_json(anchor.signed_fields())
    ):
        return AnchorVerdict(False, Phrase("its signature does not hold"))
    life = keys.get(anchor.fingerprint)
    if life is None:
        return AnchorVerdict(False, Phrase("it is signed by a key you do not trust"))
    verdicts = [verify_timestamp(s, anchor.stamped_bytes(), roots=roots) for s in anchor.timestamps]
    times = sorted(v.gen_time for v in verdicts if v.valid and v.gen_time is not None)
    trusted = sorted(v.gen_time for v in verdicts if v.valid and v.trusted and v.gen_time)
    if not times:
        return AnchorVerdict(False, Phrase("it has no valid time-stamp"))
    if life.compromised is not None and not (trusted and trusted[0] < life.compromised):
        return AnchorVerdict(False, Phrase("its key was compromised before it was time-stamped"))
    if life.retired is not None and times[0] > life.retired + _GRACE:
        return AnchorVerdict(False, Phrase("its key was retired before it was time-stamped"))
    return AnchorVerdict(True, "", times[0], bool(trusted))


class Source(StrEnum):
    ANCHOR = "anchor"
    BUNDLE = "bundle"
    DATABASE = "database"


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Where the database chain and a record of it outside part first."""

    seq: int  # the first event that disagrees
    source: str  # where the disagreeing record was found (a file, a vault object)
    kind: str  # anchor, bundle, database (the chain itself is broken)
    reason: str  # a Phrase
    fields: tuple[str, ...] = ()  # the fields that changed, when the record holds the event


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One chain checked against every record of it found outside the database."""

    chain: str
    events: int
    anchors: int
    bundles: int
    disagreements: tuple[Disagreement, ...]

    @property
    def ok(self) -> bool:
        return not self.disagreements

    @property
    def first(self) -> Disagreement | None:
        return min(self.disagreements, key=lambda d: d.seq) if self.disagreements else None


def compare_chain(
    chain: str,
    events: Sequence[CustodyEvent],
    *,
    anchors: Iterable[tuple[str, Anchor]] = (),
    bundles: Iterable[tuple[str, Sequence[CustodyEvent]]] = (),
    problems: Iterable[Disagreement] = (),
) -> ChainReport:
    """Compare the database's `events` of `chain` with anchors and bundle chains (each with
    where it was found). Every record must agree, event by event, with the database; the
    report names, for each record, the first event where it does not."""
    found: list[Disagreement] = list(problems)
    checked = verify_chain(events)
    if not checked.ok and checked.first_bad_seq is not None:
        found.append(
            Disagreement(
                checked.first_bad_seq,
                "database",
                Source.DATABASE,
                Phrase("the database chain itself is broken: {detail}", detail=checked.detail),
            )
        )
    by_seq = {event.seq: event for event in events}
    anchor_list, bundle_list = list(anchors), list(bundles)
    for where, anchor in anchor_list:
        for seq, digest in sorted(anchor.recorded().items()):
            mine = by_seq.get(seq)
            if mine is None:
                found.append(
                    Disagreement(
                        seq,
                        where,
                        Source.ANCHOR,
                        Phrase(
                            "event {seq} was anchored on {at} but is not in the database",
                            seq=seq,
                            at=format_time(anchor.anchored_at),
                        ),
                    )
                )
                break
            if mine.digest != digest:
                found.append(
                    Disagreement(
                        seq,
                        where,
                        Source.ANCHOR,
                        Phrase(
                            "event {seq} in the database differs from the one anchored on {at}",
                            seq=seq,
                            at=format_time(anchor.anchored_at),
                        ),
                    )
                )
                break
    for where, recorded in bundle_list:
        for event in recorded:
            mine = by_seq.get(event.seq)
            if mine is None:
                found.append(
                    Disagreement(
                        event.seq,
                        where,
                        Source.BUNDLE,
                        Phrase(
                            "event {seq}, sealed in this bundle, is not in the database",
                            seq=event.seq,
                        ),
                    )
                )
                break
            if mine.digest != event.digest:
                changed = tuple(
                    name
                    for name in ("at", "actor", "action", "subject", "detail", "prev")
                    if mine.body()[name] != event.body()[name]
                )
                found.append(
                    Disagreement(
                        event.seq,
                        where,
                        Source.BUNDLE,
                        Phrase(
                            "event {seq} in the database differs from the one sealed in this "
                            "bundle",
                            seq=event.seq,
                        ),
                        changed,
                    )
                )
                break
    return ChainReport(
        chain,
        len(events),
        len(anchor_list),
        len(bundle_list),
        tuple(sorted(found, key=lambda d: (d.seq, d.source))),
    )
