"""The custody chain: append-only, each event holding the digest of the one before; anyone can
recompute a digest from the documented encoding; edits, deletions, insertions and reorderings
are told apart; the JSONL form is read strictly and never crashes on hostile bytes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import EvidenceError
from rempart.evidence.custody import (
    GENESIS,
    ChainBreak,
    CustodyAction,
    CustodyEvent,
    append,
    parse_jsonl,
    to_jsonl,
    verify_chain,
)

T0 = datetime(2025, 3, 14, 9, 0, 0, tzinfo=UTC)


def chain(n: int = 5) -> list[CustodyEvent]:
    events: list[CustodyEvent] = []
    actions = list(CustodyAction)
    for i in range(n):
        events.append(
            append(
                events[-1] if events else None,
                at=T0 + timedelta(minutes=i),
                actor="caseworker-1",
                action=actions[i % len(actions)],
                subject=f"finding:F-{i}",
                detail={"n": i, "note": "é ✓", "items": [1, "two", None, True]},
            )
        )
    return events


def with_digest(event: CustodyEvent, **changes: object) -> CustodyEvent:
    """`event` changed and given a digest that matches its new fields (a careful forger)."""
    changed = dataclasses.replace(event, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(changed, digest=changed.expected_digest())


def test_the_first_event_follows_genesis_and_each_next_one_its_predecessor() -> None:
    events = chain(3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev == GENESIS == "0" * 64
    assert events[1].prev == events[0].digest and events[2].prev == events[1].digest
    assert verify_chain(events).ok


def test_a_digest_is_recomputable_from_the_documented_encoding_alone() -> None:
    event = chain(1)[0]
    body = {
        "seq": 1,
        "at": "2025-03-14T09:00:00.000000Z",
        "actor": "caseworker-1",
        "action": "case_open",
        "subject": "finding:F-0",
        "detail": {"n": 0, "note": "é ✓", "items": [1, "two", None, True]},
        "prev": "0" * 64,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert event.digest == hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    # Pinned so that the encoding can never drift silently between versions.
    assert event.digest == "02d3be487f833eaaf2411c0ad33afaa190b363352be3b6c14d9a617aa593b4ce"


def test_an_empty_chain_is_valid_and_its_tail_is_genesis() -> None:
    assert verify_chain([]) == verify_chain(())
    assert verify_chain([]).ok and verify_chain([]).tail == GENESIS


def test_an_edited_event_is_found_by_its_own_digest() -> None:
    events = chain()
    events[2] = dataclasses.replace(events[2], actor="mallory")
    check = verify_chain(events)
    assert (check.ok, check.first_bad_seq, check.reason) == (False, 3, ChainBreak.EDITED)


def test_an_edited_event_with_a_recomputed_digest_is_found_by_the_next_event() -> None:
    events = chain()
    events[2] = with_digest(events[2], actor="mallory")
    check = verify_chain(events)
    assert (check.ok, check.first_bad_seq, check.reason) == (False, 3, ChainBreak.EDITED)


def test_a_deleted_event_leaves_a_gap() -> None:
    events = chain()
    del events[2]
    check = verify_chain(events)
    assert (check.ok, check.first_bad_seq, check.reason) == (False, 3, ChainBreak.DELETED)


def test_swapped_events_are_reported_as_reordered() -> None:
    events = chain()
    events[1], events[3] = events[3], events[1]
    check = verify_chain(events)
    assert (check.ok, check.first_bad_seq, check.reason) == (False, 4, ChainBreak.REORDERED)


def test_an_event_slipped_in_with_a_taken_number_is_reported_as_inserted() -> None:
    events = chain()
    forged = append(
        events[1], at=T0 + timedelta(minutes=1), actor="mallory", action="access", subject="x"
    )
    events.insert(2, forged)
    check = verify_chain(events)
    assert (check.ok, check.reason) == (False, ChainBreak.INSERTED)
    assert check.first_bad_seq == 3


def test_an_event_that_skips_its_predecessor_is_reported_as_inserted() -> None:
    events = chain()
    skipping = with_digest(events[3], prev=events[1].digest)
    events[3] = skipping
    check = verify_chain(events)
    assert (check.ok, check.first_bad_seq, check.reason) == (False, 4, ChainBreak.INSERTED)


def test_dropping_the_newest_events_is_only_seen_against_an_anchor() -> None:
    events = chain()
    anchor = events[-1].digest
    assert verify_chain(events[:3]).ok
    check = verify_chain(events[:3], anchor=anchor)
    assert (check.ok, check.reason) == (False, ChainBreak.TRUNCATED)
    assert verify_chain(events, anchor=anchor).ok


def test_an_event_earlier_than_its_predecessor_is_refused() -> None:
    first = chain(1)[0]
    with pytest.raises(ValueError, match="earlier"):
        append(first, at=T0 - timedelta(seconds=1), actor="a", action="access", subject="s")


@pytest.mark.parametrize(
    "detail",
    [{"ratio": 0.5}, {"Bad Key": 1}, {"big": 2**60}, {"x": object()}, {"s": "\ud800"}],
)
def test_details_that_cannot_be_hashed_canonically_are_refused(detail: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"detail|Unicode"):
        append(None, at=T0, actor="a", action="access", subject="s", detail=detail)


def test_times_without_a_zone_and_unknown_actions_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        append(None, at=datetime(2025, 1, 1), actor="a", action="access", subject="s")
    with pytest.raises(ValueError, match="teleport"):
        append(None, at=T0, actor="a", action="teleport", subject="s")


def test_the_jsonl_form_reads_back_to_the_same_events() -> None:
    events = chain()
    data = to_jsonl(events)
    assert data.count(b"\n") == len(events) and data.endswith(b"\n")
    assert parse_jsonl(data) == tuple(events)
    assert to_jsonl(parse_jsonl(data)) == data
    assert parse_jsonl(b"") == ()


def _line(data: bytes, index: int, new: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[index] = new
    return b"\n".join(lines)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:-1], "newline"),
        (lambda d: _line(d, 1, b"not json"), "line 2: not JSON"),
        (lambda d: _line(d, 0, b"[1,2]"), "line 1: not a JSON object"),
        (lambda d: d.replace(b'"seq":1,', b'"seq":1,"extra":1,', 1), "line 1: fields"),
        (lambda d: d.replace(b'"seq":1', b'"seq": 1', 1), "line 1: not in canonical form"),
        (lambda d: d.replace(b'"n":0', b'"n":0.0', 1), "line 1: not JSON"),
        (lambda d: d.replace(b'"case_open"', b'"teleport"', 1), "line 1: unknown action"),
        (lambda d: d.replace(b"T09:00:00.000000Z", b"T09:00:00Z", 1), "line 1: not a custody"),
        (lambda d: d.replace(b'"seq":1', b'"seq":"1"', 1), "line 1: seq"),
        (lambda d: b"\xff\xfe" + d, "line 1: not JSON"),
    ],
)
def test_malformed_jsonl_is_refused_with_the_line_that_is_wrong(
    mutate: object, message: str
) -> None:
    data = to_jsonl(chain(3))
    with pytest.raises(EvidenceError, match=message):
        parse_jsonl(mutate(data))  # type: ignore[operator]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_are_refused_cleanly_or_read(data: bytes) -> None:
    try:
        events = parse_jsonl(data)
    except EvidenceError:
        return
    assert to_jsonl(events) == data


_VALID = to_jsonl(chain(4))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=4
    )
)
def test_a_mutated_log_is_refused_or_its_chain_breaks(edits: list[tuple[int, int]]) -> None:
    data = bytearray(_VALID)
    for position, value in edits:
        data[position] = value
    if bytes(data) == _VALID:
        return
    try:
        events = parse_jsonl(bytes(data))
    except EvidenceError:
        return
    assert not verify_chain(events, anchor=chain(4)[-1].digest).ok


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**52), 2**52) | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.from_regex(r"[a-z0-9_.-]{1,8}", fullmatch=True), inner, max_size=4)
        ),
        max_leaves=12,
    ).filter(lambda v: not isinstance(v, str) or "\ud800" not in v),
    st.text(min_size=1, max_size=30),
)
def test_any_allowed_detail_survives_the_round_trip(detail: object, actor: str) -> None:
    try:
        event = append(None, at=T0, actor=actor, action="access", subject="s", detail={"v": detail})
    except ValueError:
        return  # lone surrogates cannot be written as UTF-8
    assert parse_jsonl(to_jsonl([event])) == (event,)
    assert verify_chain([event]).ok
