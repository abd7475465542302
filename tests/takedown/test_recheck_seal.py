"""A removal proven by a sealed capture of the removed state: Debian's Chromium captures the
404 the copy's address now answers, and the capture is signed, time-stamped (a demo
authority on 127.0.0.1), kept in the vault and named by the check."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from recheck_site import LOOPBACK, Site
from sqlalchemy import select, update

from findings_made import make_finding
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.browser import open_browser
from rempart.evidence.keys import SigningKey
from rempart.evidence.timestamps import TimestampAuthority, make_timestamper
from rempart.evidence.vault import Vault
from rempart.jobs import recheck as rc
from rempart.jobs.evidence import Sealer
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.store.models import CaptureRow, CustodyRow, Finding, FindingStatus, Sighting

pytestmark = pytest.mark.browser


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site("127.0.0.1")
    yield server
    server.close()


def test_a_copy_found_removed_is_sealed_as_removed(
    sqlite_db: Database, tmp_path: Path, site: Site
) -> None:
    db = sqlite_db
    url = site.route(
        "/a/1.jpg", b"<html><body>404 Not Found</body></html>", status=404,
        headers={"Content-Type": "text/html"},
    )  # fmt: skip
    made = make_finding(db, None, tmp_path, seed=5)
    with db.session() as session:
        finding = session.get(Finding, made.finding)
        assert finding is not None
        finding.status = FindingStatus.CONFIRMED
        session.execute(
            update(Sighting)
            .where(Sighting.id == finding.sighting_id)
            .values(media_url=url, page_url=None)
        )
    seed = hashlib.sha256(b"recheck seal test").digest()
    key = SigningKey.from_private(
        Ed25519PrivateKey.from_private_bytes(seed), created=datetime(2026, 1, 1, tzinfo=UTC)
    )
    with (
        DemoTimestampAuthority.start() as tsa,
        httpx.Client(timeout=10, trust_env=False) as http,
        open_browser() as browser,
    ):
        authority = TimestampAuthority("demo", tsa.url, (tsa.root_pem,))
        sealer = Sealer(key, make_timestamper([authority], http=http), "alice", "Association")
        seal = rc.removal_sealer(
            db,
            Vault.open(tmp_path / "home", env={}),
            lambda: sealer,
            lambda: browser,
            policy=lambda tracked: rc.policy_for(LOOPBACK, tracked),
            operator="alice",
        )
        (outcome,) = rc.recheck(
            db, Matcher(db), rc.tracked_findings(db, rc.Selection.ALL), policy=LOOPBACK, seal=seal
        )
    assert outcome.newly_removed and outcome.capture_status == "sealed", outcome.capture_error
    with db.session() as session:
        capture = session.get(CaptureRow, outcome.capture)
        assert capture is not None and capture.finding_id == made.finding
        assert capture.url == url and capture.bundle_sha256 and capture.timestamps >= 1
        actions = session.scalars(select(CustodyRow.action).order_by(CustodyRow.id)).all()
    assert list(actions)[-2:] == ["capture", "seal"]
