"""Read the notified copies (rempart.takedown.reports) and the confirmed copies (the police
export, rempart.takedown.provenance_export) out of the store for the reports.

Owns the queries the reports need; reduces each row at once (`NotifiedCopy`, `SeenCopy`), so no
case, URL or person ever reaches the report code. Must not compute a figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import select

from rempart.clock import aware
from rempart.store.database import Database
from rempart.store.models import (
    Finding,
    FindingReupload,
    FindingStatus,
    Item,
    NoticeItemRow,
    NoticeRow,
    RecheckSchedule,
    Sighting,
    SourceRow,
)
from rempart.takedown.provenance_export import SeenCopy, site_of
from rempart.takedown.reports import OTHER_PROVIDER, NotifiedCopy

__all__ = ["load_notified", "load_seen_copies", "reuploads_by_provider"]


def _provider(row: NoticeRow) -> str:
    """The registry's name for a platform in it; anyone else is OTHER_PROVIDER (a contact
    looked up in RDAP can be a private person)."""
    return row.recipient_name if row.recipient_platform else OTHER_PROVIDER


def load_notified(db: Database) -> list[NotifiedCopy]:
    """Every copy listed in a notice that has left (sent, or submitted through a form)."""
    query = (
        select(
            NoticeRow,
            NoticeItemRow.id,
            Item.media,
            RecheckSchedule.removed_at,
            Finding.sighting_id,
            Sighting.provenance_verdict,
        )
        .join(NoticeItemRow, NoticeItemRow.notice_id == NoticeRow.id)
        .outerjoin(Finding, Finding.id == NoticeItemRow.finding_id)
        .outerjoin(Sighting, Sighting.id == Finding.sighting_id)
        .outerjoin(Item, Item.id == Finding.item_id)
        .outerjoin(RecheckSchedule, RecheckSchedule.finding_id == NoticeItemRow.finding_id)
        .where(NoticeRow.sent_at.is_not(None))
        .order_by(NoticeRow.id, NoticeItemRow.id)
    )
    copies = []
    with db.session() as session:
        for notice, _item_row, media, removed_at, sighting, verdict in session.execute(query):
            assert notice.sent_at is not None
            copies.append(
                NotifiedCopy(
                    notice=notice.id,
                    kind=notice.kind,
                    provider=_provider(notice),
                    sent_at=aware(notice.sent_at),
                    notice_status=notice.status,
                    legal_basis=notice.legal_basis,
                    media=media or "image",
                    due_at=aware(notice.due_at) if notice.due_at else None,
                    removed_at=aware(removed_at) if removed_at else None,
                    provenance=verdict,
                    copy=sighting,
                )
            )
    return copies


def reuploads_by_provider(db: Database) -> Mapping[str, int] | None:
    """Re-uploads per provider: copies found again after their item was notified or removed
    elsewhere (`finding_reuploads`), counted under the provider of a sent notice listing the
    re-upload, else under the provider of one listing the earlier copy."""

    def providers(column: object) -> dict[int, str]:
        query = (
            select(FindingReupload.finding_id, NoticeRow)
            .join(NoticeItemRow, NoticeItemRow.finding_id == column)
            .join(NoticeRow, NoticeRow.id == NoticeItemRow.notice_id)
            .where(NoticeRow.sent_at.is_not(None))
            .order_by(NoticeRow.sent_at)
        )
        found: dict[int, str] = {}
        with db.session() as session:
            for finding, notice in session.execute(query):
                found.setdefault(finding, _provider(notice))
        return found

    own = providers(FindingReupload.finding_id)
    earlier = providers(FindingReupload.earlier_finding_id)
    with db.session() as session:
        every = list(session.scalars(select(FindingReupload.finding_id)))
    seen = {f: own.get(f) or earlier.get(f) or OTHER_PROVIDER for f in every}
    return dict(Counter(seen.values()))


def load_seen_copies(db: Database) -> list[SeenCopy]:
    """Every copy with a confirmed finding, once (its first sighting), reduced at once to its
    site (rempart.takedown.provenance_export.site_of), when it was first seen and its
    provenance verdict."""
    confirmed = select(Finding.sighting_id).where(Finding.status == FindingStatus.CONFIRMED)
    query = (
        select(
            Sighting.page_url,
            Sighting.media_url,
            SourceRow.kind,
            Sighting.first_seen_at,
            Sighting.provenance_verdict,
        )
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .where(Sighting.id.in_(confirmed))
        .order_by(Sighting.first_seen_at, Sighting.id)
    )
    with db.session() as session:
        return [
            SeenCopy(site_of(page, media, kind), aware(seen), verdict)
            for page, media, kind, seen, verdict in session.execute(query)
        ]
