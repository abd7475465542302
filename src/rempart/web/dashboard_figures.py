"""The dashboard's takedown figures for one caller: notices awaiting approval, awaiting an
answer, overdue, removals this month, and the time-to-removal chart (bars computed here, drawn
by the template as SVG: no script, no inline style). Read only: the figures come from the
notices' own tracking (rempart.takedown.followup), on the cases the caller sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rempart.i18n import N_

if TYPE_CHECKING:
    from rempart.accounts.policy import Principal
    from rempart.web.service import Service

__all__ = ["Bar", "Figures", "bars", "figures_for"]

# Time from a notice leaving to its copies found removed, in buckets a coordinator reads.
BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    (N_("under 1 day"), timedelta(days=1)),
    (N_("1-2 days"), timedelta(days=2)),
    (N_("2-3 days"), timedelta(days=3)),
    (N_("3-10 days"), timedelta(days=10)),
    (N_("over 10 days"), None),
)
_WAITING = ("sent", "submitted", "acknowledged")
WIDTH, HEIGHT, GAP = 600, 160, 12


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # a catalog message id
    count: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Figures:
    drafts: int
    awaiting_answer: int
    overdue: int
    removed_this_month: int
    removal_bars: tuple[Bar, ...]
    removals_measured: int


def bars(durations: Sequence[timedelta]) -> tuple[Bar, ...]:
    """One bar per bucket, scaled to the tallest; pure."""
    counts = [0] * len(BUCKETS)
    for took in durations:
        for i, (_label, limit) in enumerate(BUCKETS):
            if limit is None or took < limit:
                counts[i] += 1
                break
    tallest = max(counts) or 1
    width = (WIDTH - GAP * (len(BUCKETS) - 1)) // len(BUCKETS)
    out = []
    for i, ((label, _limit), count) in enumerate(zip(BUCKETS, counts, strict=True)):
        height = round(HEIGHT * count / tallest)
        out.append(Bar(label, count, i * (width + GAP), HEIGHT - height, width, height))
    return tuple(out)


def figures_for(svc: Service, principal: Principal) -> Figures:
    """Removals are counted per copy: the first re-check that found it gone, measured from
    the first notice about it that left (rempart.takedown.tracking.time_to_removal)."""
    from sqlalchemy import select

    from rempart.clock import aware
    from rempart.store.models import RecheckSchedule
    from rempart.takedown.tracking import time_to_removal
    from rempart.web.notice_pages import visible_notices

    now: datetime = svc.clock()
    notices = visible_notices(svc, principal)
    first_sent: dict[int, datetime] = {}
    for n in notices:
        for copy in n.copies:
            if copy.finding and n.sent_at is not None:
                seen = first_sent.get(copy.finding)
                first_sent[copy.finding] = min(seen, n.sent_at) if seen else n.sent_at
    with svc.db.session() as session:
        removed = {
            finding: aware(at)
            for finding, at in session.execute(
                select(RecheckSchedule.finding_id, RecheckSchedule.removed_at).where(
                    RecheckSchedule.finding_id.in_(list(first_sent)),
                    RecheckSchedule.status == "removed",
                )
            )
            if at is not None
        }
    took = [d for f, at in removed.items() if (d := time_to_removal(first_sent[f], at)) is not None]
    return Figures(
        drafts=sum(n.status == "drafted" for n in notices),
        awaiting_answer=sum(n.status in _WAITING and not n.overdue(now) for n in notices),
        overdue=sum(n.overdue(now) for n in notices),
        removed_this_month=sum(
            (at.year, at.month) == (now.year, now.month) for at in removed.values()
        ),
        removal_bars=bars(took),
        removals_measured=len(took),
    )
