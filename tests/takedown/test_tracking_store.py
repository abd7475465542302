"""Following notices up in the store, on SQLite and PostgreSQL: no answer past the due date,
removal proven by re-checks, escalation down the chain citing the earlier notice, re-uploads
linked once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from rempart.config import Identity
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import (
    FindingReupload,
    FindingStatus,
    NoticeEscalation,
    NoticeEventRow,
    NoticeItemRow,
    NoticeRow,
    RecheckSchedule,
)
from rempart.takedown.drafting import notice
from rempart.takedown.followup import escalate, link_reuploads, sync, tracking_of

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
IDENTITY = Identity(name="Asso Rempart", email="contact@asso.example", caseworker="alice")
CHAIN = [
    {"name": "Host", "role": "host", "channel": "email", "address": "abuse@host.example"},
    {"name": "Small CDN", "role": "cdn", "channel": "email", "address": "abuse@cdn.example"},
    {"name": "Registrar", "role": "registrar", "channel": "email", "address": "abuse@reg.example"},
]


def _sent(db: Database, findings: list[int], *, due: datetime) -> int:
    with db.session() as session:
        row = NoticeRow(
            kind="dsa",
            recipient_key="dsa:email:abuse@host.example",
            recipient_name="Host",
            recipient_role="host",
            recipient_channel="email",
            recipient_address="abuse@host.example",
            provenance=json.dumps({"chain": CHAIN, "earlier": []}),
            legal_basis="226-2-1",
            language="en",
            status="sent",
            created_at=T0,
            created_by="alice",
            sent_at=T0,
            message_id="<n1@asso.example>",
            due_at=due,
            updated_at=T0,
        )
        session.add(row)
        session.flush()
        for finding in findings:
            session.add(
                NoticeItemRow(
                    notice_id=row.id,
                    finding_id=finding,
                    url=f"https://host.example/{finding}.jpg",
                    sha256="a" * 64,
                )
            )
        for status in ("drafted", "approved", "sent"):
            session.add(NoticeEventRow(notice_id=row.id, at=T0, actor="alice", status=status))
        return row.id


def _schedule(db: Database, finding: int, status: str, at: datetime) -> None:
    with db.session() as session:
        session.merge(
            RecheckSchedule(
                finding_id=finding,
                status=status,
                last_checked_at=at,
                next_check_at=at + timedelta(hours=6),
                interval_s=21600,
                removed_at=at if status == "removed" else None,
            )
        )


def _confirmed(make_finding: Any, seed: int) -> int:
    made = make_finding(None, seed=seed)
    return int(made.finding)


def test_no_answer_then_escalation_to_the_cdn_citing_the_host_notice(
    db: Database, make_finding: Any
) -> None:
    finding = _confirmed(make_finding, 1)
    decide(db, finding, FindingStatus.CONFIRMED, actor="alice")
    first = _sent(db, [finding], due=T0 + timedelta(hours=48))
    assert sync(db, clock=lambda: T0 + timedelta(hours=47)).no_answer == ()
    assert sync(db, clock=lambda: T0 + timedelta(hours=49)).no_answer == (first,)
    _schedule(db, finding, "online", T0 + timedelta(hours=49))
    (cdn,) = escalate(db, identity=IDENTITY, operator="alice", clock=lambda: T0 + timedelta(days=3))
    view = notice(db, cdn)
    assert view.kind == "abuse" and view.recipient_address == "abuse@cdn.example"
    assert view.status == "drafted" and [c.finding for c in view.copies] == [finding]
    assert "<n1@asso.example>" in view.provenance["earlier"][0]  # type: ignore[index]
    assert (
        escalate(db, identity=IDENTITY, operator="alice", clock=lambda: T0 + timedelta(days=4))
        == []
    )
    with db.session() as session:
        (link,) = session.query(NoticeEscalation).all()
        assert (link.notice_id, link.earlier_notice_id, link.step) == (cdn, first, "cdn")


def test_all_copies_removed_moves_the_notice_to_removed_and_measures_the_time(
    db: Database, make_finding: Any
) -> None:
    one, two = _confirmed(make_finding, 1), _confirmed(make_finding, 2)
    first = _sent(db, [one, two], due=T0 + timedelta(hours=72))
    _schedule(db, one, "removed", T0 + timedelta(hours=5))
    assert sync(db, clock=lambda: T0 + timedelta(hours=6)).removed == ()  # one still there
    _schedule(db, two, "removed", T0 + timedelta(hours=30))
    assert sync(db, clock=lambda: T0 + timedelta(hours=31)).removed == (first,)
    assert notice(db, first).status == "removed"
    track = tracking_of(db, [(first, T0, [one, two])])[first]
    assert track.time_to_removal == timedelta(hours=30)


def test_a_later_copy_of_a_notified_item_is_linked_once_as_a_reupload(
    db: Database, make_finding: Any
) -> None:
    first = _confirmed(make_finding, 1)
    _sent(db, [first], due=T0 + timedelta(hours=72))
    assert link_reuploads(db) == []  # nothing repeats it yet
    with db.session() as session:
        from rempart.store.models import Finding, Sighting

        original = session.get(Finding, first)
        assert original is not None
        seen = session.get(Sighting, original.sighting_id)
        assert seen is not None
        again = Sighting(
            source_id=seen.source_id,
            key_sha="b" * 64,
            key="https://elsewhere.example/x.jpg",
            media_url="https://elsewhere.example/x.jpg",
            first_seen_at=T0,
            last_seen_at=T0,
            media="image",
            sha256=seen.sha256,
            md5=seen.md5,
            context="{}",
        )
        session.add(again)
        session.flush()
        later = Finding(
            sighting_id=again.id,
            item_id=original.item_id,
            bank=original.bank,
            method="sha256",
            distance=0,
            threshold=0,
            found_at=T0,
        )
        session.add(later)
        session.flush()
        later_id = later.id
    assert link_reuploads(db) == [(later_id, first)]
    assert link_reuploads(db) == []
    with db.session() as session:
        (row,) = session.query(FindingReupload).all()
        assert row.why == "notified"
