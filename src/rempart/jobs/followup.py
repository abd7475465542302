"""What `rempart watch` does besides scanning: re-check the copies due and draft the
escalations due, each on its own interval. A task that fails is reported and tried again at
its next turn; it never stops the watch.

    tasks = Followup([Task("recheck", timedelta(minutes=5), run_rechecks), ...], clock=clock)
    tasks.run_due()        # one iteration: what is due now, with each outcome
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Event

from rempart.clock import Clock, utc_now

__all__ = ["Followup", "Task", "TaskOutcome"]


@dataclass(frozen=True, slots=True)
class Task:
    """A scheduled task: its stable name, how often, and what it does (returns a count)."""

    name: str
    every: timedelta
    run: Callable[[], int]


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    name: str
    at: datetime
    count: int = 0
    error: Exception | None = None


class Followup:
    """Runs each task when due (first at once, then every `task.every`)."""

    def __init__(self, tasks: Sequence[Task], *, clock: Clock = utc_now) -> None:
        self._tasks = tuple(tasks)
        self._clock = clock
        self._next: dict[str, datetime] = {}

    def run_due(self) -> list[TaskOutcome]:
        """One iteration: every task due now, in order; a failure is an outcome, not a raise."""
        done = []
        for task in self._tasks:
            now = self._clock()
            if self._next.get(task.name, now) > now:
                continue
            self._next[task.name] = now + task.every
            try:
                done.append(TaskOutcome(task.name, now, task.run()))
            except Exception as exc:
                done.append(TaskOutcome(task.name, now, error=exc))
        return done

    def loop(
        self, stop: Event, report: Callable[[TaskOutcome], None], *, poll_s: float = 30.0
    ) -> None:
        """Until `stop` is set: run what is due, report each outcome, wait `poll_s`."""
        while not stop.is_set():
            for outcome in self.run_due():
                report(outcome)
            stop.wait(poll_s)
