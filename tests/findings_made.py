"""Findings made directly in the store (no scan needed): a case, its bank, one item, a
sighting of that item on a page, and its held copy in the vault."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rempart.evidence.held import held_name
from rempart.evidence.vault import Vault
from rempart.intake import banks, cases
from rempart.jobs import watchlist
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import Finding, Sighting

MOMENT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    finding: int
    data: bytes


def jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, 320, 240).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_finding(
    db: Database,
    vault: Vault | None,
    tmp_path: Path,
    *,
    case: str = "case-a",
    minor: bool = False,
    seed: int = 1,
) -> Made:
    """One pending finding of case `case` (created with its bank on first use)."""
    data = jpeg(seed)
    bank = f"{case}-images"
    if case not in {c.name for c in cases.list_cases(db)}:
        cases.create_case(db, case, minor=minor)
        banks.create_bank(db, bank, case=case)
        watchlist.add_source(db, f"{case}-forum", "files", {"path": str(tmp_path)})
    original = tmp_path / f"original-{case}-{seed}.jpg"
    original.write_bytes(data)
    (outcome,) = banks.add_images(db, bank, [original], label="photo")
    assert outcome.item_id is not None
    sha256 = hashlib.sha256(data).hexdigest()
    source_id = watchlist.get_source(db, f"{case}-forum").id
    with db.session() as session:
        sighting = Sighting(
            source_id=source_id,
            key_sha=hashlib.sha256(f"{case}{seed}".encode()).hexdigest(),
            key=f"https://forum.example/{case}/{seed}.jpg",
            media_url=f"https://forum.example/{case}/{seed}.jpg",
            page_url=f"https://forum.example/{case}/thread-{seed}",
            first_seen_at=MOMENT,
            last_seen_at=MOMENT,
            media="image",
            sha256=sha256,
            md5=hashlib.md5(data).hexdigest(),
            pdq=None,
            context="{}",
        )
        session.add(sighting)
        session.flush()
        finding = Finding(
            sighting_id=sighting.id,
            item_id=outcome.item_id,
            bank=bank,
            method="sha256",
            distance=0,
            threshold=0,
            found_at=MOMENT,
        )
        session.add(finding)
        session.flush()
        finding_id = finding.id
    if vault is not None and not minor:
        vault.put(held_name(sha256), data)
    return Made(finding_id, data)
