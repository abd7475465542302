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
from rempart.store.models import Finding, Item, Sighting, SourceRow

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
            **self.detail,
        }


def list_findings(
    db: Database,
    *,
    source: str | None = None,
    status: str | None = None,
    since_run_sightings: tuple[int, ...] | None = None,
) -> list[FindingView]:
    query = (
        select(Finding, Sighting, SourceRow.name, Item.label)
        .join(Sighting, Sighting.id == Finding.sighting_id)
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .join(Item, Item.id == Finding.item_id)
        .order_by(Finding.id)
    )
    if source is not None:
        query = query.where(SourceRow.name == source)
    if status is not None:
        query = query.where(Finding.status == status)
    if since_run_sightings is not None:
        query = query.where(Sighting.id.in_(since_run_sightings))
    with db.session() as session:
        return [
            FindingView(
                f.id,
                str(f.status),
                name,
                s.page_url,
                s.media_url,
                s.post_id,
                s.posted_at,
                s.first_seen_at,
                json.loads(s.context),
                f.bank,
                f.item_id,
                label,
                f.method,
                f.distance,
                f.threshold,
                f.variant,
                f.window,
                f.reference,
                f.reference_label,
                json.loads(f.detail),
            )
            for f, s, name, label in session.execute(query).all()
        ]


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
