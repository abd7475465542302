"""Review: decisions and looks are logged in the case's custody chain with who and when, in
the same transaction as their effect; a minor's case shows nothing; the log is append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rempart.errors import EvidenceError, InputError, NotFound
from rempart.evidence.custody import CustodyAction, verify_chain
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info, chain_of
from rempart.jobs import review
from rempart.store.database import Database
from rempart.store.models import FindingStatus

_MOMENT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _clock(start=_MOMENT):  # type: ignore[no-untyped-def]
    ticks = iter(range(1000))
    return lambda: start + timedelta(seconds=next(ticks))


def test_confirming_records_who_and_when_and_logs_it_in_the_case_chain(
    db: Database, tmp_path: Path, make_finding
) -> None:
    made = make_finding()
    view = review.decide(
        db, made.finding, FindingStatus.CONFIRMED, actor="alice", note="same photo", clock=_clock()
    )
    assert (view.status, view.reviewed_by, view.review_note) == ("confirmed", "alice", "same photo")
    assert review.pending(db) == []
    events = chain_events(db, chain_of(case_info(db, "case-a").id))
    assert [(e.action, e.actor, e.subject) for e in events] == [
        (CustodyAction.REVIEW_DECISION, "alice", f"finding:{made.finding}")
    ]
    assert events[0].detail["verdict"] == "confirmed"
    assert verify_chain(events).ok


def test_a_changed_mind_is_logged_with_the_earlier_verdict(
    db: Database, tmp_path: Path, make_finding
) -> None:
    made = make_finding()
    clock = _clock()
    review.decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice", clock=clock)
    review.decide(
        db, made.finding, FindingStatus.REJECTED, actor="bob", note="other person", clock=clock
    )
    events = chain_events(db, chain_of(case_info(db, "case-a").id))
    assert [e.detail["before"] for e in events] == ["pending", "confirmed"]
    assert verify_chain(events).ok


def test_rejecting_needs_a_reason_and_someone(db: Database, tmp_path: Path, make_finding) -> None:
    made = make_finding()
    with pytest.raises(InputError, match="why"):
        review.decide(db, made.finding, FindingStatus.REJECTED, actor="alice")
    with pytest.raises(InputError, match="who"):
        review.decide(db, made.finding, FindingStatus.CONFIRMED, actor=" ")
    with pytest.raises(NotFound):
        review.decide(db, 999, FindingStatus.CONFIRMED, actor="alice")
    assert [v.id for v in review.pending(db)] == [made.finding]


def test_a_look_hands_over_the_held_copy_and_is_logged_blurred_or_clear(
    db: Database, tmp_path: Path, make_finding
) -> None:
    vault = Vault.open(tmp_path / "home", env={})
    made = make_finding(vault)
    clock = _clock()
    first = review.look(db, vault, made.finding, actor="alice", clock=clock)
    second = review.look(db, vault, made.finding, actor="alice", clear=True, clock=clock)
    assert first.data == second.data == made.data
    events = chain_events(db, chain_of(case_info(db, "case-a").id))
    assert [(e.action, e.detail["clear"]) for e in events] == [
        (CustodyAction.REVIEW_LOOK, False),
        (CustodyAction.REVIEW_LOOK, True),
    ]


def test_a_minors_case_shows_nothing_and_logs_no_look(
    db: Database, tmp_path: Path, make_finding
) -> None:
    vault = Vault.open(tmp_path / "home", env={})
    made = make_finding(vault, case="case-m", minor=True)
    with pytest.raises(EvidenceError, match="minor"):
        review.look(db, vault, made.finding, actor="alice")
    assert chain_events(db, chain_of(case_info(db, "case-m").id)) == ()
    assert review.finding(db, made.finding).minor


def test_each_case_has_its_own_chain(db: Database, tmp_path: Path, make_finding) -> None:
    one = make_finding(case="case-a", seed=1)
    two = make_finding(case="case-b", seed=2)
    clock = _clock()
    review.decide(db, one.finding, FindingStatus.CONFIRMED, actor="alice", clock=clock)
    review.decide(db, two.finding, FindingStatus.CONFIRMED, actor="alice", clock=clock)
    for case in ("case-a", "case-b"):
        events = chain_events(db, chain_of(case_info(db, case).id))
        assert [e.seq for e in events] == [1]
    assert [v.id for v in review.pending(db, case="case-a")] == []


@pytest.mark.parametrize(
    "statement", ["UPDATE custody_events SET actor = 'mallory'", "DELETE FROM custody_events"]
)
def test_the_custody_log_refuses_edits_and_deletions(
    db: Database, tmp_path: Path, statement: str, make_finding
) -> None:
    made = make_finding()
    review.decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice", clock=_clock())
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session() as session:
        session.execute(sa.text(statement))
    assert len(chain_events(db, chain_of(case_info(db, "case-a").id))) == 1
