"""Reading what scans found: sightings of protected items with where and how they matched.

Read-only views for the CLI and reports; must not change anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from rempart.clock import aware
from rempart.errors import NotFound
from rempart.matching.wording import describe_match
from rempart.provenance.counts import VerdictCounts, count_by
from rempart.provenance.match import MatchOfCopy, judged_within
from rempart.sources.base import localized_reason
from rempart.store.database import Database
from rempart.store.models import (
    Bank,
    Case,
    Finding,
    FindingStatus,
    Item,
    ScanProblem,
    ScanRun,
    Sighting,
    SourceRow,
)

__all__ = [
    "FindingView",
    "ProblemView",
    "RunView",
    "SeenAgain",
    "describe_how",
    "get_run",
    "list_findings",
    "list_problems",
    "list_runs",
]


@dataclass(frozen=True, slots=True)
class SeenAgain:
    """A later sighting of a finding's copy: which source saw it, where, when."""

    source: str
    page_url: str | None
    media_url: str | None
    post_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "page_url": self.page_url,
            "media_url": self.media_url,
            "post_id": self.post_id,
            "first_seen_at": aware(self.first_seen_at).isoformat(),
            "last_seen_at": aware(self.last_seen_at).isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FindingView:
    id: int
    status: str
    source: str
    page_url: str | None
    media_url: str | None
    post_id: str | None
    posted_at: datetime | None
    first_seen_at: datetime
    context: dict[str, str]
    bank: str
    item: int
    item_label: str
    method: str
    distance: int
    threshold: int
    variant: str | None
    window: str | None
    reference: str | None
    reference_label: str
    detail: dict[str, object]  # videos: time ranges on both timelines, shares of frames
    last_seen_at: datetime | None = None
    media: str = "image"
    sha256: str = ""
    md5: str = ""
    pdq: str | None = None
    quality: int | None = None
    case: str | None = None  # the case (pseudonym) whose bank matched
    minor: bool = False  # that case involves a minor: no media is ever kept or shown
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str = ""
    also_seen: tuple[SeenAgain, ...] = ()  # the same copy seen again, here or elsewhere
    # What the copy's bytes said about its origin (rempart.provenance): verdict, reasons,
    # signals. None for a copy recorded before provenance was read.
    provenance: dict[str, object] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "finding": self.id,
            "status": self.status,
            "source": self.source,
            "page_url": self.page_url,
            "media_url": self.media_url,
            "post_id": self.post_id,
            "posted_at": aware(self.posted_at).isoformat() if self.posted_at else None,
            "first_seen_at": aware(self.first_seen_at).isoformat(),
            "context": self.context,
            "bank": self.bank,
            "item": self.item,
            "item_label": self.item_label,
            "method": self.method,
            "distance": self.distance,
            "threshold": self.threshold,
            "variant": self.variant,
            "window": self.window,
            "reference": self.reference,
            "reference_label": self.reference_label or None,
            "sha256": self.sha256,
            "case": self.case,
            "minor": self.minor,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": aware(self.reviewed_at).isoformat() if self.reviewed_at else None,
            "review_note": self.review_note or None,
            "also_seen": [seen.to_json() for seen in self.also_seen],
            "provenance": self.provenance,
            **self.detail,
        }


def list_findings(
    db: Database,
    *,
    source: str | None = None,
    status: str | None = None,
    since_run_sightings: tuple[int, ...] | None = None,
    case: str | None = None,
    ids: tuple[int, ...] | None = None,
) -> list[FindingView]:
    query = (
        select(Finding, Sighting, SourceRow.name, Item.label, Case)
        .join(Sighting, Sighting.id == Finding.sighting_id)
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .join(Item, Item.id == Finding.item_id)
        .join(Bank, Bank.id == Item.bank_id)
        .outerjoin(Case, Case.id == Bank.case_id)
        .order_by(Finding.id)
    )
    if source is not None:
        # a copy this source saw again counts, even if another source saw it first
        seen_again = (
            select(Sighting.copy_of_id)
            .join(SourceRow, SourceRow.id == Sighting.source_id)
            .where(SourceRow.name == source, Sighting.copy_of_id.is_not(None))
        )
        query = query.where(or_(SourceRow.name == source, Sighting.id.in_(seen_again)))
    if status is not None:
        query = query.where(Finding.status == status)
    if since_run_sightings is not None:
        query = query.where(Sighting.id.in_(since_run_sightings))
    if case is not None:
        query = query.where(Case.name == case)
    if ids is not None:
        query = query.where(Finding.id.in_(ids))
    with db.session() as session:
        rows = session.execute(query).all()
        again = _seen_again(session, {row[1].id for row in rows})
        matches = _matches_of(session, {row[1].id for row in rows})
        return [
            _view(*row, again.get(row[1].id, ()), provenance=_provenance(row[0], row[1], matches))
            for row in rows
        ]


_Matches = dict[int, dict[int, MatchOfCopy]]  # copy (first sighting) -> finding -> match


def _matches_of(session: Any, copies: set[int]) -> _Matches:
    """Every match of these copies, with the case (else the bank) whose picture matched."""
    found: _Matches = {}
    if not copies:
        return found
    rows = session.execute(
        select(Finding.sighting_id, Finding.id, Finding.via, Finding.status, Bank.case_id, Bank.id)
        .join(Item, Item.id == Finding.item_id)
        .join(Bank, Bank.id == Item.bank_id)
        .where(Finding.sighting_id.in_(copies))
    ).all()
    for copy, finding, via, status, case_id, bank_id in rows:
        scope = ("case", case_id) if case_id is not None else ("bank", bank_id)
        found.setdefault(copy, {})[finding] = MatchOfCopy(
            scope, tuple(via.split(",")) if via else (), status == FindingStatus.REJECTED
        )
    return found


def _provenance(f: Finding, s: Sighting, matches: _Matches) -> dict[str, object] | None:
    """The copy's stored reading, its match signal judged on this finding's case only
    (rempart.provenance.match.judged_within)."""
    stored = json.loads(s.provenance) if s.provenance else None
    of_copy = matches.get(s.id, {})
    if f.id not in of_copy:
        return stored
    return judged_within(stored, of_copy[f.id].scope, of_copy.values())


def _seen_again(session: Any, firsts: set[int]) -> dict[int, tuple[SeenAgain, ...]]:
    """The later sightings of each of these first sightings, in the order they came."""
    found: dict[int, list[SeenAgain]] = {}
    if not firsts:
        return {}
    rows = session.execute(
        select(Sighting, SourceRow.name)
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .where(Sighting.copy_of_id.in_(firsts))
        .order_by(Sighting.id)
    ).all()
    for sighting, source in rows:
        found.setdefault(sighting.copy_of_id, []).append(
            SeenAgain(
                source,
                sighting.page_url,
                sighting.media_url,
                sighting.post_id,
                sighting.first_seen_at,
                sighting.last_seen_at,
            )
        )
    return {first: tuple(seen) for first, seen in found.items()}


def _view(
    f: Finding,
    s: Sighting,
    source: str,
    label: str,
    case: Case | None,
    also_seen: tuple[SeenAgain, ...] = (),
    *,
    provenance: dict[str, object] | None = None,
) -> FindingView:
    return FindingView(
        id=f.id,
        status=str(f.status),
        source=source,
        page_url=s.page_url,
        media_url=s.media_url,
        post_id=s.post_id,
        posted_at=s.posted_at,
        first_seen_at=s.first_seen_at,
        context=json.loads(s.context),
        bank=f.bank,
        item=f.item_id,
        item_label=label,
        method=f.method,
        distance=f.distance,
        threshold=f.threshold,
        variant=f.variant,
        window=f.window,
        reference=f.reference,
        reference_label=f.reference_label,
        detail=json.loads(f.detail),
        last_seen_at=s.last_seen_at,
        media=s.media,
        sha256=s.sha256,
        md5=s.md5,
        pdq=s.pdq,
        quality=s.quality,
        case=case.name if case is not None else None,
        minor=case.minor if case is not None else False,
        reviewed_by=f.reviewed_by,
        reviewed_at=f.reviewed_at,
        review_note=f.review_note,
        also_seen=also_seen,
        provenance=provenance,
    )


def describe_how(view: FindingView, *, lang: str | None = None) -> str:
    """How a finding matched, in words a caseworker reads (in `lang`, else the current
    language): an identical file, or how the copy was altered and how close its PDQ hash is."""
    return describe_match(
        view.method,
        view.distance,
        view.threshold,
        window=view.window,
        variant=view.variant,
        reference=view.reference,
        corroborated=_corroboration(view.detail),
        lang=lang,
    )


def _corroboration(detail: dict[str, object]) -> int | None:
    points = detail.get("corroborated_inliers")
    return points if isinstance(points, int) else None


# ------------------------------------------------------------------------ runs and problems


@dataclass(frozen=True, slots=True)
class ProblemView:
    """What a scan could not read: where, and why (English as stored; `localized()` to show)."""

    run: int
    source: str
    where: str
    reason: str
    template: str | None
    values: dict[str, str]
    at: datetime

    def localized(self, lang: str | None = None) -> str:
        return localized_reason(self.reason, self.template, self.values, lang)

    def to_json(self) -> dict[str, object]:
        return {
            "run": self.run,
            "source": self.source,
            "where": self.where,
            "reason": self.reason,
            "at": aware(self.at).isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RunView:
    """One scan of one source: when, how it ended, what it counted."""

    id: int
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    candidates: int
    matched: int
    problems: int
    error: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "run": self.id,
            "source": self.source,
            "status": self.status,
            "started_at": aware(self.started_at).isoformat(),
            "finished_at": aware(self.finished_at).isoformat() if self.finished_at else None,
            "new_media": self.candidates,
            "matched": self.matched,
            "problems": self.problems,
            "error": self.error,
        }


def list_runs(db: Database, *, source: str | None = None, last: int = 10) -> list[RunView]:
    """The latest scans, newest first (of one source, or of all)."""
    query = (
        select(ScanRun, SourceRow.name)
        .join(SourceRow, SourceRow.id == ScanRun.source_id)
        .order_by(ScanRun.id.desc())
        .limit(last)
    )
    if source is not None:
        query = query.where(SourceRow.name == source)
    with db.session() as session:
        return [
            RunView(
                run.id,
                name,
                run.status,
                run.started_at,
                run.finished_at,
                run.candidates,
                run.matched,
                run.problems,
                run.error,
            )
            for run, name in session.execute(query).all()
        ]


def get_run(db: Database, run: int) -> RunView:
    """One scan by its number; NotFound when there is none."""
    query = (
        select(ScanRun, SourceRow.name)
        .join(SourceRow, SourceRow.id == ScanRun.source_id)
        .where(ScanRun.id == run)
    )
    with db.session() as session:
        found = session.execute(query).first()
    if found is None:
        raise NotFound("no scan {run} (see `rempart runs`)", run=run)
    row, name = found
    return RunView(
        row.id,
        name,
        row.status,
        row.started_at,
        row.finished_at,
        row.candidates,
        row.matched,
        row.problems,
        row.error,
    )


def list_problems(db: Database, run: int, *, limit: int | None = None) -> list[ProblemView]:
    """What one scan could not read, in the order it met it."""
    query = (
        select(ScanProblem, SourceRow.name)
        .join(ScanRun, ScanRun.id == ScanProblem.run_id)
        .join(SourceRow, SourceRow.id == ScanRun.source_id)
        .where(ScanProblem.run_id == run)
        .order_by(ScanProblem.id)
    )
    if limit is not None:
        query = query.limit(limit)
    with db.session() as session:
        return [
            ProblemView(
                p.run_id,
                name,
                p.where,
                p.reason,
                p.template,
                json.loads(p.values) if p.values else {},
                p.at,
            )
            for p, name in session.execute(query).all()
        ]


def provenance_counts(
    db: Database,
    *,
    case: str | None = None,
    period: str = "month",
) -> dict[tuple[str, str], VerdictCounts]:
    """Copies with findings by verdict, per (source, period of first sighting): one copy
    counts once, under the source that saw it first, whichever items it matched; a match a
    caseworker rejected is no copy. `period` is "month" (`2026-11`) or "year" (`2026`).
    `case` keeps the copies matching its banks, each judged on that case's matches (as its
    findings and dossier are); without it, each copy's stored verdict, taken over all of its
    matches."""
    if period not in {"month", "year"}:
        raise ValueError(f"period must be month or year, not {period!r}")
    copies = select(Finding.sighting_id).where(Finding.status != FindingStatus.REJECTED)
    if case is not None:
        copies = (
            copies.join(Item, Item.id == Finding.item_id)
            .join(Bank, Bank.id == Item.bank_id)
            .join(Case, Case.id == Bank.case_id)
            .where(Case.name == case)
        )
    query = (
        select(
            Sighting.id,
            SourceRow.name,
            Sighting.first_seen_at,
            Sighting.provenance_verdict,
            Sighting.provenance,
        )
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .where(Sighting.id.in_(copies))
        .order_by(Sighting.first_seen_at, Sighting.id)
    )
    width = 7 if period == "month" else 4
    with db.session() as session:
        found = session.execute(query).all()
        scope: tuple[str, int] | None = None
        matches: _Matches = {}
        if case is not None:
            case_id = session.scalar(select(Case.id).where(Case.name == case))
            scope = ("case", case_id) if case_id is not None else None
            matches = _matches_of(session, {row[0] for row in found})
    rows = []
    for copy, source, seen, verdict, reading in found:
        if scope is not None:
            stored = json.loads(reading) if reading else None
            judged = judged_within(stored, scope, matches.get(copy, {}).values())
            said = judged.get("verdict") if judged else None
            verdict = said if isinstance(said, str) else None
        rows.append(((source, aware(seen).isoformat()[:width]), verdict))
    return count_by(rows)
