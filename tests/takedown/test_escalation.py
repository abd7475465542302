"""The escalation decision (pure) and migration 0009 on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rempart.store.database import Database
from rempart.takedown.escalation import ARCOM, Lapsed, Step, decide
from rempart.takedown.notices import NoticeKind
from rempart.takedown.tracking import deadline_for, url_state

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
CHAIN = (
    Step("Host", "host", "email", "abuse@host.example"),
    Step("Cloudflare", "cdn", "webform", "https://abuse.cloudflare.com"),
    Step("Registrar", "registrar", "email", "abuse@registrar.example"),
    Step("Google", "search", "webform", "https://support.google.com/x"),
)


def _lapsed(role: str = "host", address: str = "abuse@host.example", **kw: object) -> Lapsed:
    values: dict[str, object] = {
        "id": 4,
        "kind": "dsa" if role == "host" else "abuse",
        "role": role,
        "status": "no-answer",
        "recipient_name": "Host",
        "recipient_address": address,
        "sent_at": NOW - timedelta(days=4),
        "due_at": NOW - timedelta(days=1),
        "message_id": "<m4@asso.example>",
        "reference": None,
        "chain": CHAIN,
        "findings": (12, 13),
    }
    values.update(kw)
    return Lapsed(**values)  # type: ignore[arg-type]


def test_a_lapsed_host_notice_with_a_copy_online_goes_to_the_cdn_citing_it() -> None:
    step = decide(_lapsed(), now=NOW, copy_status={12: "online", 13: "removed"}, notified=())
    assert step is not None and step.step.role == "cdn" and step.kind is NoticeKind.ABUSE
    assert step.findings == (12,)  # only what is still online
    assert "n° 4" in step.cites[0] and "<m4@asso.example>" in step.cites[0]


def test_recipients_already_notified_are_skipped_and_the_regulator_comes_last() -> None:
    lapsed = _lapsed("registrar", "abuse@registrar.example", earlier=("n° 1", "n° 2"))
    step = decide(
        lapsed, now=NOW, copy_status={12: "changed"}, notified={"https://support.google.com/x"}
    )
    assert step is not None and step.step == ARCOM and step.kind is NoticeKind.COMPLAINT
    assert step.cites[:2] == ("n° 1", "n° 2") and len(step.cites) == 3


def test_no_escalation_before_the_due_date_when_gone_unchecked_or_already_done() -> None:
    online = {12: "online"}
    assert (
        decide(_lapsed(due_at=NOW + timedelta(hours=1)), now=NOW, copy_status=online, notified=())
        is None
    )
    assert decide(_lapsed(), now=NOW, copy_status={12: "removed"}, notified=()) is None
    assert decide(_lapsed(), now=NOW, copy_status={}, notified=()) is None
    assert decide(_lapsed(), now=NOW, copy_status=online, notified=(), escalated=True) is None
    assert decide(_lapsed(status="removed"), now=NOW, copy_status=online, notified=()) is None
    regulator = _lapsed("regulator", ARCOM.address, kind="complaint")
    assert decide(regulator, now=NOW, copy_status=online, notified=()) is None


def test_deadlines_per_basis_and_platform() -> None:
    assert deadline_for(NoticeKind.DSA, take_it_down=True) == timedelta(hours=48)
    assert deadline_for(NoticeKind.DSA, take_it_down=False) == timedelta(hours=72)
    assert deadline_for(
        NoticeKind.DSA, take_it_down=False, dsa_target=timedelta(days=5)
    ) == timedelta(days=5)
    assert deadline_for(NoticeKind.DSA, take_it_down=True, response_time="24h") == timedelta(
        hours=24
    )
    assert deadline_for(NoticeKind.DSA, take_it_down=True, response_time="10d") == timedelta(
        hours=48
    )
    assert deadline_for(NoticeKind.PHAROS, take_it_down=False) is None


def test_a_urls_state_comes_from_its_notices_and_its_rechecks() -> None:
    assert url_state([], None) == "found"
    assert url_state(["drafted", "sent"], "online") == "sent"
    assert url_state(["sent", "no-answer", "acknowledged"], "online") == "acknowledged"
    assert url_state(["refused"], "removed") == "removed"


def test_0009_goes_down_to_0008_and_back(db: Database) -> None:
    assert {"finding_reuploads", "notice_escalations"} <= set(db.table_names())
    db.downgrade("0008")
    assert "finding_reuploads" not in db.table_names()
    assert "notice_escalations" not in db.table_names()
    db.upgrade("head")
    assert {"finding_reuploads", "notice_escalations"} <= set(db.table_names())


def test_the_dsa_target_comes_from_the_environment_and_a_bad_value_is_a_clear_error() -> None:
    from rempart.errors import InputError
    from rempart.takedown.notices import DSA_TARGET
    from rempart.takedown.tracking import dsa_target

    assert dsa_target({}) == DSA_TARGET
    assert dsa_target({"REMPART_DSA_TARGET": " 5d "}) == timedelta(days=5)
    with pytest.raises(InputError) as refused:
        dsa_target({"REMPART_DSA_TARGET": "soon"})
    assert "REMPART_DSA_TARGET='soon' is not a duration like 72h or 5d" in str(refused.value)
    assert "n'est pas une durée" in refused.value.localized("fr")
