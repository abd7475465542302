"""A confirmed finding sealed as evidence the way `rempart capture --confirmed` seals a copy
found in a folder: read again from its source, signed with a fixed test key and time-stamped
by the demo authority on 127.0.0.1. No browser needed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.keys import SigningKey
from rempart.evidence.timestamps import TimestampAuthority, make_timestamper
from rempart.evidence.vault import Vault
from rempart.fetch import FetchPolicy
from rempart.jobs import review
from rempart.jobs.evidence import CaptureOutcome, Sealer, capture_confirmed
from rempart.store.database import Database
from rempart.store.models import Finding, FindingStatus, Sighting


@contextmanager
def sealer() -> Iterator[Sealer]:
    seed = hashlib.sha256(b"rempart web evidence test key").digest()
    key = SigningKey.from_private(
        Ed25519PrivateKey.from_private_bytes(seed), created=datetime(2026, 1, 1, tzinfo=UTC)
    )
    with (
        DemoTimestampAuthority.start() as tsa,
        httpx.Client(timeout=30, trust_env=False) as http,
    ):
        authority = TimestampAuthority("demo", tsa.url, (tsa.root_pem,))
        yield Sealer(key, make_timestamper([authority], http=http), "sealer", "Association")


def seal(
    db: Database, vault: Vault, folder: Path, finding: int, *, case: str, seed: int
) -> CaptureOutcome:
    """Confirm the finding made by findings_made.make_finding(…, tmp_path=folder) and seal it
    from its folder source (the file make_finding wrote there)."""
    with db.session() as session:
        sighting = session.get(Finding, finding).sighting_id  # type: ignore[union-attr]
        session.execute(
            update(Sighting)
            .where(Sighting.id == sighting)
            .values(key=f"{folder.name}/original-{case}-{seed}.jpg")
        )
    review.decide(db, finding, FindingStatus.CONFIRMED, actor="sealer")

    def no_browser():  # type: ignore[no-untyped-def]
        raise AssertionError("a folder's copy is sealed without a browser")

    with sealer() as sealing:
        (outcome,) = capture_confirmed(
            db, vault, no_browser, sealing, policy=FetchPolicy(), ids=(finding,)
        )
    assert outcome.status == "sealed", outcome.error
    return outcome
