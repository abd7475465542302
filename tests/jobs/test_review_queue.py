"""The shared review queue: a finding someone is reviewing is not offered to another until
her claim lapses; a decision made meanwhile by someone else is refused; a long stretch of
reviewing is measured from the custody log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rempart.errors import Conflict
from rempart.jobs import review, review_queue
from rempart.store.database import Database
from rempart.store.models import FindingStatus

_T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = _T0

    def __call__(self) -> datetime:
        return self.now


def test_a_claimed_finding_is_refused_to_another_until_the_claim_lapses(
    db: Database, make_finding
) -> None:
    made = make_finding()
    clock = Clock()
    held = review_queue.claim(db, made.finding, actor="claire", clock=clock)
    assert (held.holder, held.expires_at) == ("claire", _T0 + review_queue.CLAIM_TIME)
    with pytest.raises(Conflict, match="being reviewed by"):
        review_queue.claim(db, made.finding, actor="bruno", clock=clock)
    assert review_queue.claims(db, [made.finding], clock=clock)[made.finding].holder == "claire"
    clock.now += review_queue.CLAIM_TIME + timedelta(seconds=1)
    assert review_queue.claims(db, [made.finding], clock=clock) == {}
    assert review_queue.claim(db, made.finding, actor="bruno", clock=clock).holder == "bruno"


def test_claim_next_skips_what_others_review_and_keeps_ones_own_first(
    db: Database, make_finding
) -> None:
    first, second, third = (make_finding(seed=s).finding for s in (1, 2, 3))
    clock = Clock()
    review_queue.claim(db, first, actor="claire", clock=clock)
    review_queue.claim(db, third, actor="bruno", clock=clock)
    taken = review_queue.claim_next(db, [first, second, third], actor="bruno", clock=clock)
    assert taken is not None and taken.finding == third
    taken = review_queue.claim_next(db, [first, second], actor="bruno", clock=clock)
    assert taken is not None and taken.finding == second
    assert review_queue.claim_next(db, [first], actor="bruno", clock=clock) is None


def test_a_decision_while_someone_else_reviews_is_refused_and_ends_ones_own_claim(
    db: Database, make_finding
) -> None:
    made = make_finding()
    clock = Clock()
    review_queue.claim(db, made.finding, actor="claire", clock=clock)
    with pytest.raises(Conflict, match="being reviewed by claire"):
        review.decide(db, made.finding, FindingStatus.CONFIRMED, actor="bruno", clock=clock)
    assert review.finding(db, made.finding).status == "pending"
    review.decide(db, made.finding, FindingStatus.CONFIRMED, actor="claire", clock=clock)
    assert review_queue.claims(db, [made.finding], clock=clock) == {}


def test_a_second_decision_on_a_decided_finding_is_refused_when_pending_is_expected(
    db: Database, make_finding
) -> None:
    made = make_finding()
    clock = Clock()
    review.decide(db, made.finding, FindingStatus.REJECTED, actor="claire", note="no", clock=clock)
    with pytest.raises(Conflict, match="already rejected by claire"):
        review.decide(
            db, made.finding, FindingStatus.CONFIRMED, actor="bruno", clock=clock, pending_only=True
        )
    with pytest.raises(Conflict, match="already rejected by claire"):
        review_queue.claim(db, made.finding, actor="bruno", clock=clock)
    assert review.finding(db, made.finding).reviewed_by == "claire"


def test_a_stretch_of_reviewing_ends_at_the_last_pause() -> None:
    minute = timedelta(minutes=1)
    now = _T0 + 60 * minute
    moments = [_T0 + m * minute for m in (0, 20, 25, 32, 40, 48, 55)]  # 20 minutes' pause at first
    assert review_queue.stretch(moments, now) == 60 * minute - 20 * minute
    assert review_queue.stretch([], now) == timedelta(0)
    assert review_queue.stretch([_T0], now) == timedelta(0)  # an hour ago: a break since


def test_reviewing_time_is_read_from_the_looks_and_decisions_of_that_person(
    db: Database, make_finding, tmp_path
) -> None:
    from rempart.evidence.vault import Vault

    vault = Vault.open(tmp_path / "home", env={})
    made = make_finding(vault)
    clock = Clock()
    for _ in range(6):
        review.look(db, vault, made.finding, actor="claire", clock=clock)
        clock.now += timedelta(minutes=9)
    assert review_queue.reviewing_for(db, "claire", clock=clock) == timedelta(minutes=54)
    assert review_queue.reviewing_for(db, "bruno", clock=clock) == timedelta(0)


def test_two_reviewers_claiming_at_once_get_one_claim_between_them(
    db: Database, make_finding
) -> None:
    import threading

    made = make_finding()
    clock = Clock()
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(name: str) -> None:
        start.wait()
        try:
            review_queue.claim(db, made.finding, actor=name, clock=clock)
            outcomes[name] = "claimed"
        except Conflict:
            outcomes[name] = "refused"

    threads = [threading.Thread(target=take, args=(n,)) for n in ("claire", "bruno")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["claimed", "refused"]
    (winner,) = [n for n, o in outcomes.items() if o == "claimed"]
    assert review_queue.claims(db, [made.finding], clock=clock)[made.finding].holder == winner


def test_a_claim_taken_between_the_check_and_the_write_is_never_overwritten(
    db: Database, make_finding, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bruno's claim commits after Claire's check read no claim: Claire is refused."""
    made = make_finding()
    clock = Clock()
    checked = review_queue.check_claim
    raced: list[bool] = []

    def check_then_bruno_claims(session, finding_id, actor, now) -> None:  # type: ignore[no-untyped-def]
        checked(session, finding_id, actor, now)
        if actor == "claire" and not raced:
            raced.append(True)
            review_queue.claim(db, made.finding, actor="bruno", clock=clock)

    monkeypatch.setattr(review_queue, "check_claim", check_then_bruno_claims)
    with pytest.raises(Conflict):
        review_queue.claim(db, made.finding, actor="claire", clock=clock)
    assert raced
    assert review_queue.claims(db, [made.finding], clock=clock)[made.finding].holder == "bruno"
