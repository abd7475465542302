"""`rempart watch`'s follow-up tasks: each runs on its interval, a failure is reported and
the others go on. One iteration at a time, on an injected clock: nothing waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rempart.errors import InputError
from rempart.jobs.followup import Followup, Task

T0 = datetime(2026, 12, 6, tzinfo=UTC)


def test_due_tasks_run_on_their_interval_and_a_failure_never_stops_the_others() -> None:
    now = [T0]
    calls: list[str] = []

    def recheck() -> int:
        calls.append("recheck")
        raise InputError("the store is busy")

    def escalate() -> int:
        calls.append("escalate")
        return 2

    tasks = Followup(
        [
            Task("recheck", timedelta(minutes=5), recheck),
            Task("escalate", timedelta(hours=1), escalate),
        ],
        clock=lambda: now[0],
    )
    first = tasks.run_due()
    assert [(o.name, o.count, o.error is not None) for o in first] == [
        ("recheck", 0, True),
        ("escalate", 2, False),
    ]
    assert "busy" in str(first[0].error)
    now[0] = T0 + timedelta(minutes=6)
    assert [o.name for o in tasks.run_due()] == ["recheck"]  # escalation not due yet
    now[0] = T0 + timedelta(hours=1)
    assert [o.name for o in tasks.run_due()] == ["recheck", "escalate"]
    assert calls == ["recheck", "escalate", "recheck", "recheck", "escalate"]
