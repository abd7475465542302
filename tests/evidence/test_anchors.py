"""Custody anchors as values: made, written and read back byte for byte; checked (signature,
trusted key within its life, time-stamp); compared with a chain event by event, naming the
first event that disagrees; hostile anchor files only ever raise EvidenceError."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sealing_support import RecordingTimestamper, fixed_signing_key

from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.errors import EvidenceError
from rempart.evidence.anchors import (
    Anchor,
    AnchorReason,
    check_anchor,
    compare_chain,
    make_anchor,
    parse_anchors,
)
from rempart.evidence.custody import CustodyAction, CustodyEvent, append
from rempart.evidence.keys import SigningKey

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def chain(n: int, *, actor: str = "camille") -> tuple[CustodyEvent, ...]:
    events: list[CustodyEvent] = []
    for seq in range(1, n + 1):
        events.append(
            append(
                events[-1] if events else None,
                at=T0 + timedelta(minutes=seq),
                actor=actor if seq != 3 else "dominique",
                action=CustodyAction.CAPTURE if seq == 3 else CustodyAction.REVIEW_DECISION,
                subject=f"finding:{seq}",
                detail={"n": seq},
            )
        )
    return tuple(events)


def rewritten(events: tuple[CustodyEvent, ...], seq: int, actor: str) -> tuple[CustodyEvent, ...]:
    """The chain with one event's actor changed and every digest after it recomputed."""
    out: list[CustodyEvent] = []
    for event in events:
        out.append(
            append(
                out[-1] if out else None,
                at=event.at,
                actor=actor if event.seq == seq else event.actor,
                action=event.action,
                subject=event.subject,
                detail=event.detail,
            )
        )
    return tuple(out)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return fixed_signing_key("anchor key")


def anchored(
    events: tuple[CustodyEvent, ...], key: SigningKey, stamps: RecordingTimestamper, since: int = 0
) -> Anchor:
    return make_anchor(
        events,
        chain="case:1",
        case="case-a",
        since=since,
        reason=AnchorReason.EXPORT,
        at=datetime.now(UTC),
        key=key,
        timestamper=stamps,
    )


def test_an_anchor_is_written_and_read_back_byte_for_byte(
    key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    events = chain(5)
    first = anchored(events[:3], key, recording_timestamper)
    second = anchored(events, key, recording_timestamper, since=first.seq)
    data = first.to_line() + second.to_line()
    assert parse_anchors(data) == (first, second)
    assert first.recorded() == {1: events[0].digest, 2: events[1].digest, 3: events[2].digest}
    assert second.recorded() == {4: events[3].digest, 5: events[4].digest}
    assert second.head == events[-1].digest and second.seq == 5


def test_a_broken_or_empty_chain_is_never_anchored(
    key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    events = list(chain(4))
    events[1] = replace(events[1], actor="mallory")  # its digest no longer matches
    with pytest.raises(EvidenceError, match="broken at event 2"):
        anchored(tuple(events), key, recording_timestamper)
    with pytest.raises(EvidenceError, match="nothing to anchor"):
        anchored((), key, recording_timestamper)


def test_an_anchor_holds_only_under_a_trusted_key_within_its_life(
    key: SigningKey, recording_timestamper: RecordingTimestamper, local_tsa: DemoTimestampAuthority
) -> None:
    anchor = anchored(chain(3), key, recording_timestamper)
    roots = [local_tsa.root]
    life = key.info
    assert check_anchor(anchor, keys={key.fingerprint: life}, roots=roots).ok
    assert check_anchor(anchor, keys={key.fingerprint: life}, roots=roots).trusted_root
    assert "do not trust" in check_anchor(anchor, keys={}, roots=roots).problem
    past = datetime.now(UTC) - timedelta(days=1)
    retired = replace(life, retired=past)
    assert "retired" in check_anchor(anchor, keys={key.fingerprint: retired}, roots=roots).problem
    stolen = replace(life, retired=past, compromised=past)
    assert "compromised" in check_anchor(anchor, keys={key.fingerprint: stolen}).problem
    later = replace(life, compromised=datetime.now(UTC) + timedelta(days=1))
    assert check_anchor(anchor, keys={key.fingerprint: later}, roots=roots).ok
    assert not check_anchor(anchor, keys={key.fingerprint: later}).ok  # root not trusted
    edited = replace(anchor, reason="manual")  # a field changed after signing
    assert "signature" in check_anchor(edited, keys={key.fingerprint: life}).problem


def test_the_first_altered_event_is_named_by_anchors_and_by_bundles(
    key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    original = chain(8)
    early = anchored(original[:4], key, recording_timestamper)
    late = anchored(original, key, recording_timestamper, since=early.seq)
    assert compare_chain("case:1", original, anchors=[("a", early), ("a", late)]).ok

    edited = rewritten(original, 6, "mallory")
    report = compare_chain("case:1", edited, anchors=[("a", early), ("a", late)])
    assert not report.ok and report.first is not None and report.first.seq == 6
    bundle = compare_chain("case:1", edited, bundles=[("b.wacz", original[:7])])
    assert bundle.first is not None and bundle.first.seq == 6
    assert bundle.first.fields == ("actor",)

    cut = original[:5]  # the database lost its newest events
    truncated = compare_chain("case:1", cut, anchors=[("a", late)])
    assert truncated.first is not None and truncated.first.seq == 6
    assert "not in the database" in truncated.first.reason


def test_a_database_chain_broken_in_place_is_reported_as_such() -> None:
    events = list(chain(4))
    events[2] = replace(events[2], actor="mallory")
    report = compare_chain("case:1", events)
    assert report.first is not None and report.first.seq == 3 and report.first.kind == "database"


def test_a_line_edited_by_hand_is_refused(
    key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    line = anchored(chain(3), key, recording_timestamper).to_line()
    for damaged in (
        line.replace(b'"seq":3', b'"seq":4'),
        line.replace(b'"reason":"export"', b'"reason":"bogus"'),
        line[:-1],
        line.replace(b"{", b"{ ", 1),
        b"[]\n",
    ):
        with pytest.raises(EvidenceError):
            parse_anchors(damaged)


@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_evidence_errors(data: bytes) -> None:
    try:
        anchors = parse_anchors(data)
    except EvidenceError:
        return
    assert all(not check_anchor(a, keys={}).ok for a in anchors)


@given(st.data())
def test_mutated_anchor_lines_never_raise_anything_but_evidence_errors(
    data: st.DataObject,
) -> None:
    line = _SAMPLE_LINE
    position = data.draw(st.integers(0, len(line) - 2))
    byte = data.draw(st.integers(0, 255))
    mutated = line[:position] + bytes([byte]) + line[position + 1 :]
    try:
        anchors = parse_anchors(mutated)
    except EvidenceError:
        return
    key = fixed_signing_key("anchor key")
    for anchor in anchors:  # a mutation that still parses is still checked without raising
        assert not check_anchor(anchor, keys={key.fingerprint: key.info}).ok


def _sample_line() -> bytes:
    """A real anchor line, made once with a fixed time-stamp (no authority needed)."""
    from rempart.evidence.timestamps import Timestamp

    key = fixed_signing_key("anchor key")
    stamp = Timestamp("demo", "http://127.0.0.1/tsa", b"\x30\x00", b"\x30\x03\x02\x01\x00")
    anchor = Anchor(
        chain="case:1",
        case="case-a",
        seq=2,
        head=chain(2)[-1].digest,
        from_seq=1,
        digests=tuple(e.digest for e in chain(2)),
        reason="interval",
        anchored_at=T0,
        public_key=key.public_key,
        signature=b"\x00" * 64,
        timestamps=(stamp,),
    )
    return anchor.to_line()


_SAMPLE_LINE = _sample_line()
