"""The trusted flagger's yearly report (DSA Art. 22(3)) and the removal statistics, computed
from notified copies: counts, medians and shares, in the DSA Transparency Database vocabulary.

Pure: `NotifiedCopy` values in, report values out. Must not touch the store, the clock or the
network, and must never carry a case, a URL, a victim or a caseworker into a report.

    copies = load_notified(db)                      # rempart.jobs.reports (the store's edge)
    flagger_report(copies, year=2026, as_of=now)    # FlaggerReport: rows and totals
    removal_stats(copies, reuploads={...})          # RemovalStats: one row per platform
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from rempart.i18n import N_
from rempart.provenance.counts import VerdictCounts, count_by, count_verdicts

__all__ = [
    "ACTION_LABELS",
    "CONTENT_TYPES",
    "OTHER_PROVIDER",
    "REPORTED_KINDS",
    "TOTAL",
    "WITHIN_10_DAYS",
    "WITHIN_48_HOURS",
    "Action",
    "FlaggerReport",
    "FlaggerRow",
    "NotifiedCopy",
    "PlatformRemovals",
    "RemovalStats",
    "action_of",
    "category_of",
    "content_type_of",
    "flagger_report",
    "nearest_rank",
    "removal_stats",
    "specification_of",
]

# Notices sent to a provider who can act on the content (a host, a CDN, a network, a registrar,
# a search engine). Pharos and child-protection reports go to authorities, not providers.
REPORTED_KINDS = frozenset({"dsa", "abuse", "delisting"})
# A provider outside the platform registry is known only by a looked-up contact, which may be a
# private person's name: the report puts all of them under this one key.
OTHER_PROVIDER = "OTHER_PROVIDER"
WITHIN_48_HOURS = timedelta(hours=48)
WITHIN_10_DAYS = timedelta(days=10)

CATEGORY = "STATEMENT_CATEGORY_CYBER_VIOLENCE"
CATEGORY_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
IMAGE_SHARING = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
DEEPFAKE = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
CONTENT_TYPES = ("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_SYNTHETIC_MEDIA")
_DEEPFAKE_BASIS = "226-8-1"


class Action(StrEnum):
    """What the provider did about a notified copy, as the report counts it. Stable names."""

    REMOVED = "removed"
    DISABLED = "disabled"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    PENDING = "pending"


ACTION_LABELS: Mapping[Action, str] = {
    Action.REMOVED: N_("content removed"),
    Action.DISABLED: N_("access disabled"),
    Action.REFUSED: N_("notice refused"),
    Action.NO_ANSWER: N_("no answer by the deadline"),
    Action.PENDING: N_("pending"),
}


@dataclass(frozen=True, slots=True)
class NotifiedCopy:
    """One copy listed in one sent notice, reduced to what the reports count: no URL, no case.

    `provider` is the platform registry's name of the recipient, or OTHER_PROVIDER.
    `removed_at` is the first re-check that found the copy gone (a removal proven, not claimed).
    """

    notice: int
    kind: str
    provider: str
    sent_at: datetime
    notice_status: str
    legal_basis: str
    media: str  # "image" or "video"
    due_at: datetime | None = None
    removed_at: datetime | None = None
    # What the copy's file and match said about its origin (a rempart.provenance verdict name;
    # None: not read), and which copy it is, so that it counts once however often notified.
    provenance: str | None = None
    copy: int | None = None


def category_of(*, against_women: bool) -> str:
    return CATEGORY_AGAINST_WOMEN if against_women else CATEGORY


def specification_of(copy: NotifiedCopy, *, against_women: bool) -> str:
    keyword = DEEPFAKE if copy.legal_basis == _DEEPFAKE_BASIS else IMAGE_SHARING
    return f"{keyword}_AGAINST_WOMEN" if against_women else keyword


def content_type_of(copy: NotifiedCopy) -> str:
    """A generated or edited picture is synthetic media, whatever its format."""
    if copy.legal_basis == _DEEPFAKE_BASIS:
        return "CONTENT_TYPE_SYNTHETIC_MEDIA"
    return "CONTENT_TYPE_VIDEO" if copy.media == "video" else "CONTENT_TYPE_IMAGE"


def action_of(copy: NotifiedCopy, *, as_of: datetime) -> Action:
    """Removal proven by a re-check wins over what the provider said; then its answer; then
    whether the notice's deadline has passed by `as_of`."""
    if copy.notice_status == "disabled":
        return Action.DISABLED
    if copy.removed_at is not None or copy.notice_status == "removed":
        return Action.REMOVED
    if copy.notice_status == "refused":
        return Action.REFUSED
    if copy.due_at is not None and as_of > copy.due_at:
        return Action.NO_ANSWER
    return Action.PENDING


@dataclass(frozen=True, slots=True)
class FlaggerRow:
    """Notices and notified items that share a provider, a type of content and an action."""

    provider: str
    category: str
    category_specification: str
    content_type: str
    action: Action
    notices: int
    items: int
    notice_ids: frozenset[int] = field(default=frozenset(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class FlaggerReport:
    """Art. 22(3): notices by hosting provider, by type of content and by action taken.

    A notice counts once per group it has items in; `notices` is the distinct total."""

    year: int
    as_of: datetime
    rows: tuple[FlaggerRow, ...]
    notices: int
    items: int
    # Notified copies by provenance verdict, per provider (most copies first) then TOTAL:
    # each copy once per provider, whatever the number of notices listing it.
    provenance: tuple[tuple[str, VerdictCounts], ...] = ()

    def by(self, column: str) -> list[tuple[str, int, int]]:
        """(value, notices, items) for one column, largest first, then by name."""
        notices: dict[str, set[int]] = defaultdict(set)
        items: dict[str, int] = defaultdict(int)
        for row in self.rows:
            key = str(getattr(row, column))
            notices[key] |= row.notice_ids
            items[key] += row.items
        return sorted(
            ((key, len(notices[key]), items[key]) for key in items),
            key=lambda entry: (-entry[2], entry[0]),
        )


def flagger_report(
    copies: Iterable[NotifiedCopy], *, year: int, as_of: datetime, against_women: bool = False
) -> FlaggerReport:
    """Copies whose notice was sent in `year` (UTC), to a provider, grouped and counted."""
    groups: dict[tuple[str, str, str, str, Action], tuple[set[int], list[int]]] = {}
    all_notices: set[int] = set()
    items = 0
    reported: list[NotifiedCopy] = []
    for copy in copies:
        if copy.kind not in REPORTED_KINDS or copy.sent_at.year != year:
            continue
        reported.append(copy)
        key = (
            copy.provider,
            category_of(against_women=against_women),
            specification_of(copy, against_women=against_women),
            content_type_of(copy),
            action_of(copy, as_of=as_of),
        )
        ids, count = groups.setdefault(key, (set(), [0]))
        ids.add(copy.notice)
        count[0] += 1
        all_notices.add(copy.notice)
        items += 1
    ordered = sorted(groups.items(), key=lambda entry: entry[0])
    rows = tuple(
        FlaggerRow(*key, len(ids), count[0], frozenset(ids)) for key, (ids, count) in ordered
    )
    return FlaggerReport(year, as_of, rows, len(all_notices), items, _provenance(reported))


def _provenance(copies: Sequence[NotifiedCopy]) -> tuple[tuple[str, VerdictCounts], ...]:
    """Each copy once per provider and once in the total; a copy with no id (its finding
    was deleted) counts as its own."""
    seen: set[tuple[str, object]] = set()
    per: list[tuple[str, str | None]] = []
    every: dict[object, str | None] = {}
    for i, copy in enumerate(copies):
        key = copy.copy if copy.copy is not None else ("item", i)
        every.setdefault(key, copy.provenance)
        if (copy.provider, key) not in seen:
            seen.add((copy.provider, key))
            per.append((copy.provider, copy.provenance))
    counts = sorted(count_by(per).items(), key=lambda kv: (-kv[1].total, kv[0]))
    if not counts:
        return ()
    return (*counts, (TOTAL, count_verdicts(every.values())))


def nearest_rank(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `share` of them at or
    below it (no interpolation: every figure is a time that was really measured)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class PlatformRemovals:
    """One platform's removals. Times are hours from the notice being sent to the first
    re-check that found the copy gone; shares are of every copy notified to it."""

    provider: str
    notified: int
    removed: int
    removed_before_notice: int
    median_hours: float | None
    p90_hours: float | None
    within_48h: float | None
    within_10d: float | None
    reuploads: int
    hours: tuple[float, ...] = field(default=(), repr=False)  # each removal's time, sorted


@dataclass(frozen=True, slots=True)
class RemovalStats:
    rows: tuple[PlatformRemovals, ...]  # one per platform, then the total (provider "ALL")
    reuploads_tracked: bool  # False: this store does not link re-uploads yet (counted as 0)
    year: int | None = None


TOTAL = "ALL"  # the provider name of the row over every platform


def removal_stats(
    copies: Iterable[NotifiedCopy],
    *,
    reuploads: Mapping[str, int] | None = None,
    year: int | None = None,
) -> RemovalStats:
    """Per platform: median and 90th percentile time to removal, share removed within 48 hours
    and within 10 days, re-uploads. A copy already gone before its notice left is counted
    apart and left out of the times and shares (its removal owes nothing to the notice)."""
    chosen = [
        c for c in copies if c.kind in REPORTED_KINDS and (year is None or c.sent_at.year == year)
    ]
    per: dict[str, list[NotifiedCopy]] = defaultdict(list)
    for copy in chosen:
        per[copy.provider].append(copy)
    counts = dict(reuploads or {})
    rows = [
        _platform(name, group, counts.get(name, 0))
        for name, group in sorted(per.items(), key=lambda e: (-len(e[1]), e[0]))
    ]
    rows.append(_platform(TOTAL, chosen, sum(counts.values())))
    return RemovalStats(tuple(rows), reuploads is not None, year)


def _platform(name: str, copies: Sequence[NotifiedCopy], reuploads: int) -> PlatformRemovals:
    hours: list[float] = []
    before = 0
    for copy in copies:
        if copy.removed_at is None:
            continue
        took = copy.removed_at - copy.sent_at
        if took < timedelta(0):
            before += 1
        else:
            hours.append(took.total_seconds() / 3600)
    counted = len(copies) - before

    def share(limit: timedelta) -> float | None:
        cutoff = limit.total_seconds() / 3600
        return sum(h <= cutoff for h in hours) / counted if counted else None

    return PlatformRemovals(
        provider=name,
        notified=len(copies),
        removed=len(hours) + before,
        removed_before_notice=before,
        median_hours=statistics.median(hours) if hours else None,
        p90_hours=nearest_rank(hours, 0.9) if hours else None,
        within_48h=share(WITHIN_48_HOURS),
        within_10d=share(WITHIN_10_DAYS),
        reuploads=reuploads,
        hours=tuple(sorted(hours)),
    )
