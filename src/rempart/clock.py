"""The time Rempart records things at: aware UTC datetimes, from a clock callers can replace
(tests pass a fixed one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "aware", "utc_now"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time with its zone: SQLite hands datetimes back without one, and Rempart
    writes them in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
