"""The chain of custody of a case: an append-only log where each event holds the digest of the
one before it, so that an edited, deleted, inserted or reordered event breaks the chain.

Pure: values, canonical bytes and checks. Must not touch a database, a file or a clock; the
caller stores the events and passes the time in.

Encoding (anyone can recompute a digest from it):

- An event is the JSON object with the keys `seq` (integer, 1 for the first event), `at`
  (UTC time, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fractional digits), `actor`, `action`,
  `subject` (strings), `detail` (an object) and `prev` (hex SHA-256 of the previous event's
  `digest`, 64 zeros for the first event).
- Canonical JSON: keys sorted, separators `,` and `:` with no spaces, non-ASCII characters
  written as UTF-8 (not escaped), encoded as UTF-8. Detail values may be strings, integers
  (|n| < 2^53), booleans, null, arrays and objects whose keys match `[a-z0-9_.-]+`; floats are
  refused because their text form is not canonical. For this value space the encoding is the
  JSON Canonicalization Scheme (RFC 8785): Python's
  `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()`.
- `digest` = lowercase hex SHA-256 of the canonical JSON of the event without `digest`.
- The JSONL form has one event a line: the canonical JSON of the event *with* `digest`,
  followed by `\\n`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from rempart.errors import EvidenceError
from rempart.i18n import Phrase

__all__ = [
    "GENESIS",
    "ChainBreak",
    "ChainCheck",
    "CustodyAction",
    "CustodyEvent",
    "append",
    "canonical_json",
    "format_time",
    "parse_jsonl",
    "parse_time",
    "to_jsonl",
    "verify_chain",
]

GENESIS = "0" * 64
MAX_LINE = 64 * 1024  # one event a line; anything longer is not a custody event
MAX_EVENTS = 1_000_000
_MAX_DEPTH = 16
_SAFE_INT = 2**53
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DETAIL_KEY = re.compile(r"[a-z0-9_.-]{1,64}")
_FIELDS = ("action", "actor", "at", "detail", "digest", "prev", "seq", "subject")

Detail = Mapping[str, Any]


class CustodyAction(StrEnum):
    """What happened to the evidence. Stored by value: never rename one."""

    CASE_OPEN = "case_open"
    CAPTURE = "capture"
    SEAL = "seal"
    VERIFY = "verify"
    ACCESS = "access"
    EXPORT = "export"
    TRANSFER = "transfer"
    REVIEW_LOOK = "review_look"
    REVIEW_DECISION = "review_decision"
    DELETE = "delete"
    CASE_CLOSE = "case_close"
    LOOKUP = "lookup"  # raw answers that named a notice's recipient (their digests)
    NOTICE_DRAFT = "notice_draft"
    NOTICE_APPROVE = "notice_approve"
    NOTICE_SEND = "notice_send"  # the message's digest and Message-ID
    NOTICE_UPDATE = "notice_update"  # submitted, replied, uncertain, failed


class _InvalidEventError(EvidenceError, ValueError):
    """A custody event or time that breaks the encoding's rules (a ValueError too: the rules
    are checks on values)."""


class ChainBreak(StrEnum):
    """Why a chain does not verify, as best it can be told from the events alone."""

    EDITED = "edited"  # an event's fields no longer match its digest, or the next event's prev
    DELETED = "deleted"  # a sequence number is missing
    INSERTED = "inserted"  # a sequence number appears twice, or an event was slipped in
    REORDERED = "reordered"  # all numbers are there, out of order
    TRUNCATED = "truncated"  # the last event is not the anchor the caller holds


def format_time(moment: datetime) -> str:
    """The one text form of a custody time: UTC, microseconds, `Z`."""
    if moment.tzinfo is None:
        raise _InvalidEventError("custody times must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise _InvalidEventError(
            "not a custody time (YYYY-MM-DDTHH:MM:SS.ffffffZ): {text!r:.40}", text=text
        )
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def canonical_json(value: object) -> bytes:
    """RFC 8785 bytes for Rempart's JSON value space (no floats): see the module docstring."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _check_value(value: object, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise _InvalidEventError("detail nests too deeply")
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str):
            _check_text(value)
        return
    if isinstance(value, int):
        if not -_SAFE_INT < value < _SAFE_INT:
            raise _InvalidEventError("detail integers must stay within ±2^53")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(item, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
                raise _InvalidEventError(
                    "detail keys must match [a-z0-9_.-]+: {key!r:.40}", key=key
                )
            _check_value(item, depth + 1)
        return
    raise _InvalidEventError(
        "detail values must be JSON without floats, not {kind}", kind=type(value).__name__
    )


def _check_text(text: str) -> None:
    # Lone surrogates cannot be written as UTF-8, so they could never be hashed.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _InvalidEventError("text is not valid Unicode") from exc


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    """One custody event. Build new ones with `append`; `digest` is checked, not trusted, by
    `verify_chain` (an event read back may carry any digest)."""

    seq: int
    at: datetime
    actor: str
    action: CustodyAction
    subject: str
    detail: Detail = field(repr=False)
    prev: str
    digest: str

    def __post_init__(self) -> None:
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 1:
            raise _InvalidEventError("seq must be a positive integer")
        if self.seq >= _SAFE_INT:
            raise _InvalidEventError("seq too large")
        object.__setattr__(self, "action", CustodyAction(self.action))
        for name in ("actor", "subject"):
            text = getattr(self, name)
            if not isinstance(text, str) or not text:
                raise _InvalidEventError("{name} must be a non-empty string", name=name)
            _check_text(text)
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise _InvalidEventError("at must be an aware datetime")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        for name in ("prev", "digest"):
            if not isinstance(getattr(self, name), str) or not _HEX64.fullmatch(
                getattr(self, name)
            ):
                raise _InvalidEventError("{name} must be 64 lowercase hex digits", name=name)
        if not isinstance(self.detail, Mapping):
            raise _InvalidEventError("detail must be an object")
        _check_value(self.detail)
        object.__setattr__(self, "detail", _freeze(self.detail))

    def body(self) -> dict[str, Any]:
        """The fields the digest covers, as JSON values."""
        return {
            "seq": self.seq,
            "at": format_time(self.at),
            "actor": self.actor,
            "action": self.action.value,
            "subject": self.subject,
            "detail": _thaw(self.detail),
            "prev": self.prev,
        }

    def expected_digest(self) -> str:
        return hashlib.sha256(canonical_json(self.body())).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "digest": self.digest}


def append(
    tail: CustodyEvent | None,
    *,
    at: datetime,
    actor: str,
    action: CustodyAction | str,
    subject: str,
    detail: Detail | None = None,
) -> CustodyEvent:
    """The event that follows `tail` (None: the first event of a case)."""
    seq = 1 if tail is None else tail.seq + 1
    prev = GENESIS if tail is None else tail.digest
    if tail is not None and at < tail.at:
        raise _InvalidEventError("a custody event cannot be earlier than the one before it")
    draft = CustodyEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=CustodyAction(action),
        subject=subject,
        detail=detail or {},
        prev=prev,
        digest=GENESIS,
    )
    return CustodyEvent(
        seq=draft.seq,
        at=draft.at,
        actor=draft.actor,
        action=draft.action,
        subject=draft.subject,
        detail=draft.detail,
        prev=draft.prev,
        digest=draft.expected_digest(),
    )


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The verdict on a chain: ok, or where it first breaks and how."""

    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: ChainBreak | None = None
    detail: str = ""  # a Phrase: English, or `detail.localized(lang)`
    tail: str = GENESIS  # digest of the last event (GENESIS for an empty chain)


def verify_chain(events: Sequence[CustodyEvent], *, anchor: str | None = None) -> ChainCheck:
    """Check a whole chain from its first event. `anchor`, when given, is the digest of the
    last event as recorded elsewhere (a sealed bundle, the database): without it, dropping the
    newest events cannot be noticed."""
    n = len(events)
    tail = events[-1].digest if events else GENESIS
    seqs = [event.seq for event in events]
    digests: dict[str, int] = {}
    prev = GENESIS
    for position, event in enumerate(events):
        expected_seq = position + 1
        if event.seq != expected_seq:
            return _sequence_break(seqs, position, n, tail)
        if event.expected_digest() != event.digest:
            return ChainCheck(
                False,
                n,
                event.seq,
                ChainBreak.EDITED,
                Phrase("its fields do not match its digest"),
                tail,
            )
        if event.prev != prev:
            if event.prev in digests:
                return ChainCheck(
                    False,
                    n,
                    event.seq,
                    ChainBreak.INSERTED,
                    Phrase(
                        "it follows event {seq}, not the event just before it",
                        seq=digests[event.prev],
                    ),
                    tail,
                )
            return ChainCheck(
                False,
                n,
                max(event.seq - 1, 1),
                ChainBreak.EDITED,
                Phrase("the next event recorded a different digest for it"),
                tail,
            )
        digests[event.digest] = event.seq
        prev = event.digest
    if anchor is not None and tail != anchor:
        last = events[-1].seq if events else 0
        return ChainCheck(
            False,
            n,
            last + 1,
            ChainBreak.TRUNCATED,
            Phrase("the chain does not end at the anchored event"),
            tail,
        )
    return ChainCheck(True, n, tail=tail)


def _sequence_break(seqs: list[int], position: int, n: int, tail: str) -> ChainCheck:
    expected = position + 1
    found = seqs[position]
    if sorted(seqs) == list(range(1, n + 1)):
        return ChainCheck(
            False,
            n,
            found,
            ChainBreak.REORDERED,
            Phrase("event {found} stands where {expected} should", found=found, expected=expected),
            tail,
        )
    if found in seqs[:position] or len(set(seqs)) < n:
        return ChainCheck(
            False,
            n,
            found,
            ChainBreak.INSERTED,
            Phrase("event number {found} appears twice", found=found),
            tail,
        )
    if found > expected:
        return ChainCheck(
            False,
            n,
            expected,
            ChainBreak.DELETED,
            Phrase("event {expected} is missing", expected=expected),
            tail,
        )
    return ChainCheck(
        False,
        n,
        found,
        ChainBreak.INSERTED,
        Phrase("event {found} stands where {expected} should", found=found, expected=expected),
        tail,
    )


def to_jsonl(events: Iterable[CustodyEvent]) -> bytes:
    """The JSONL form: one canonical event a line, each ending with a newline."""
    return b"".join(canonical_json(event.to_json()) + b"\n" for event in events)


def parse_jsonl(data: bytes) -> tuple[CustodyEvent, ...]:
    """Read the JSONL form strictly. Any deviation (non-canonical line, unknown field, bad
    type, missing final newline) raises EvidenceError naming the line; nothing else escapes.

    Parsing does not verify the chain: call `verify_chain` on the result."""
    if not isinstance(data, bytes | bytearray):
        raise EvidenceError("custody log: expected bytes")
    if not data:
        return ()
    if not data.endswith(b"\n"):
        raise EvidenceError("custody log: the last line does not end with a newline")
    lines = bytes(data).split(b"\n")[:-1]
    if len(lines) > MAX_EVENTS:
        raise EvidenceError("custody log: more than {count} events", count=MAX_EVENTS)
    return tuple(_parse_line(number, line) for number, line in enumerate(lines, start=1))


def _parse_line(number: int, line: bytes) -> CustodyEvent:
    if len(line) > MAX_LINE:
        raise EvidenceError(
            "custody log line {line}: longer than {size} bytes", line=number, size=MAX_LINE
        )
    try:
        text = line.decode("utf-8")
        raw = json.loads(text, parse_float=_refuse_float, parse_constant=_refuse_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise EvidenceError(
            "custody log line {line}: not JSON ({kind})", line=number, kind=exc.__class__.__name__
        ) from None
    if not isinstance(raw, dict):
        raise EvidenceError("custody log line {line}: not a JSON object", line=number)
    if sorted(raw) != list(_FIELDS):
        raise EvidenceError(
            "custody log line {line}: fields must be exactly {fields}",
            line=number,
            fields=", ".join(_FIELDS),
        )
    try:
        if not isinstance(raw["action"], str) or raw["action"] not in _ACTIONS:
            raise _InvalidEventError("unknown action {action!r:.40}", action=raw["action"])
        event = CustodyEvent(
            seq=raw["seq"],
            at=parse_time(raw["at"]),
            actor=raw["actor"],
            action=CustodyAction(raw["action"]),
            subject=raw["subject"],
            detail=raw["detail"],
            prev=raw["prev"],
            digest=raw["digest"],
        )
        canonical = canonical_json(event.to_json())
    except (ValueError, TypeError, RecursionError) as exc:
        raise EvidenceError(
            "custody log line {line}: {problem}", line=number, problem=exc
        ) from None
    if canonical != line:
        raise EvidenceError("custody log line {line}: not in canonical form", line=number)
    return event


_ACTIONS = frozenset(action.value for action in CustodyAction)


def _refuse_float(text: str) -> Any:
    raise ValueError("floats are not allowed in a custody log")  # only its kind is shown
