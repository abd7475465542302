"""Reading what scans found: sightings of protected items with where and how they matched.

Read-only views for the CLI and reports; must not change anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from rempart.clock import aware
from rempart.store.database import Database
from rempart.store.models import Bank, Case, Finding, Item, Sighting, SourceRow

__all__ = ["FindingView", "describe_how", "list_findings"]


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
        query = query.where(SourceRow.name == source)
    if status is not None:
        query = query.where(Finding.status == status)
    if since_run_sightings is not None:
        query = query.where(Sighting.id.in_(since_run_sightings))
    if case is not None:
        query = query.where(Case.name == case)
    if ids is not None:
        query = query.where(Finding.id.in_(ids))
    with db.session() as session:
        return [_view(*row) for row in session.execute(query).all()]


def _view(f: Finding, s: Sighting, source: str, label: str, case: Case | None) -> FindingView:
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
    )


def describe_how(view: FindingView) -> str:
    """How a finding matched, in a few words: "exact file (sha256)", or the distance with the
    variant, query window and registered hash that produced it."""
    if view.method != "pdq":
        return f"exact file ({view.method})"
    how = f"PDQ {view.distance}/{view.threshold}"
    if view.variant and view.variant != "original":
        how += f", {view.variant}"
    if view.window and view.window != "whole":
        how += f", {view.window} window"
    if view.reference and view.reference not in ("whole", view.window):
        label = f" {view.reference_label}" if view.reference_label else ""
        how += f", its {view.reference}{label}"
    return how
