"""Re-checking confirmed copies against a real HTTP server on loopback, on SQLite and
PostgreSQL: what is still online (even resized and recompressed), what is gone (404, 410, a
name that no longer exists, placeholders), what changed, and what could not be reached."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from recheck_site import LOOPBACK, Site, free_port, jpeg, png, resolver
from sqlalchemy import select, update

from findings_made import make_finding
from rempart.errors import CaptureError
from rempart.jobs import recheck as rc
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.store.models import CaptureRow, Finding, FindingStatus, RecheckSchedule, Sighting
from rempart.takedown.recheck import CheckStatus, Intervals

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


def confirmed(
    db: Database, tmp_path: Path, seed: int, media_url: str, page_url: str | None = None
) -> int:
    """A confirmed copy of a neutral picture (seed) seen at `media_url`."""
    made = make_finding(db, None, tmp_path, seed=seed)
    with db.session() as session:
        finding = session.get(Finding, made.finding)
        assert finding is not None
        finding.status = FindingStatus.CONFIRMED
        session.execute(
            update(Sighting)
            .where(Sighting.id == finding.sighting_id)
            .values(media_url=media_url, page_url=page_url)
        )
    return made.finding


def run(db: Database, **options: object) -> dict[tuple[int, str], rc.CheckOutcome]:
    tracked = rc.tracked_findings(db, rc.Selection.ALL)
    outcomes = rc.recheck(
        db,
        Matcher(db),
        tracked,
        policy=options.pop("policy", LOOPBACK),
        resolver=resolver,
        clock=lambda: NOW,
        **options,  # type: ignore[arg-type]
    )
    return {(o.finding, o.target.value): o for o in outcomes}


def resized(data: bytes, width: int, height: int, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).resize((width, height)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_copies_are_sorted_into_online_removed_changed_and_unreachable(
    db: Database, tmp_path: Path, site: Site
) -> None:
    same = confirmed(db, tmp_path, 1, site.route("/same.jpg", jpeg(1)))
    smaller = confirmed(
        db, tmp_path, 2, site.route("/small.jpg", resized(jpeg(2), 200, 150, quality=55))
    )
    gone = confirmed(db, tmp_path, 3, site.route("/gone.jpg", b"gone", status=404))
    g410 = confirmed(db, tmp_path, 4, site.route("/410.jpg", b"gone", status=410))
    other = confirmed(db, tmp_path, 5, site.route("/other.jpg", jpeg(77)))
    busy = confirmed(db, tmp_path, 6, site.route("/busy.jpg", b"busy", status=503))
    refused = confirmed(db, tmp_path, 7, f"http://host.test:{free_port()}/x.jpg")
    nxdomain = confirmed(db, tmp_path, 9, "http://img.gone.invalid/a.jpg")
    tiny = confirmed(db, tmp_path, 10, site.route("/tiny.png", png(55, 120, 60)))
    page = confirmed(
        db,
        tmp_path,
        12,
        site.route(
            "/page-removed.jpg",
            b"<html><body><h1>This image has been removed</h1></body></html>",
            headers={"Content-Type": "text/html"},
        ),
    )
    site.route("/", b"<html><body>Welcome</body></html>", headers={"Content-Type": "text/html"})
    home = confirmed(
        db, tmp_path, 13, site.route("/moved.jpg", status=302, headers={"Location": "/"})
    )

    broken = confirmed(
        db,
        tmp_path,
        14,
        site.route(
            "/broken.jpg", b"\xff\xd8\xff" + b"\x00" * 500, headers={"Content-Type": "image/jpeg"}
        ),
    )

    seen = run(db)
    status = {finding: seen[(finding, "media")].status for finding, _ in seen}
    assert status[broken] is CheckStatus.CHANGED
    assert status[same] is CheckStatus.ONLINE
    assert status[smaller] is CheckStatus.ONLINE
    assert seen[(smaller, "media")].distance is not None
    for removed in (gone, g410, nxdomain, tiny, page, home):
        assert status[removed] is CheckStatus.REMOVED, seen[(removed, "media")]
    assert status[other] is CheckStatus.CHANGED
    for unreachable in (busy, refused):
        assert status[unreachable] is CheckStatus.UNREACHABLE, seen[(unreachable, "media")]
    assert seen[(tiny, "media")].placeholder and seen[(page, "media")].placeholder
    assert seen[(home, "media")].final_url == site.url("/")

    with db.session() as session:
        schedule = {r.finding_id: r for r in session.scalars(select(RecheckSchedule))}
    assert schedule[same].last_online_at is not None
    assert schedule[gone].removed_at is not None
    assert schedule[busy].next_check_at.replace(tzinfo=UTC) == NOW + timedelta(hours=1)
    assert schedule[same].next_check_at.replace(tzinfo=UTC) == NOW + timedelta(hours=6)


def test_a_server_slower_than_the_limit_is_unreachable_within_it(
    db: Database, tmp_path: Path, site: Site
) -> None:
    slow = confirmed(db, tmp_path, 8, site.slow("/slow.jpg"))
    seen = run(db, policy=replace(LOOPBACK, total_timeout_s=0.5))
    assert seen[(slow, "media")].status is CheckStatus.UNREACHABLE
    assert seen[(slow, "media")].values == {"reason": "timeout"}


def test_a_picture_served_for_many_removed_addresses_is_a_placeholder(
    db: Database, tmp_path: Path, site: Site
) -> None:
    placeholder = jpeg(99, 400, 300)  # a real-looking picture, neither tiny nor flat
    ids = [confirmed(db, tmp_path, 20 + i, site.route(f"/p{i}.jpg", placeholder)) for i in range(3)]
    seen = run(db)
    for finding in ids:
        outcome = seen[(finding, "media")]
        assert outcome.status is CheckStatus.REMOVED
        assert outcome.placeholder
        assert outcome.values["n"] == "2"


def test_a_placeholder_recognised_from_earlier_checks_of_other_addresses(
    db: Database, tmp_path: Path, site: Site
) -> None:
    placeholder = jpeg(98, 400, 300)
    first = [
        confirmed(db, tmp_path, 30 + i, site.route(f"/q{i}.jpg", placeholder)) for i in range(2)
    ]
    assert all(o.status is CheckStatus.CHANGED for o in run(db).values())  # 1 other: not yet
    late = confirmed(db, tmp_path, 40, site.route("/late.jpg", placeholder))
    # one copy at a time: the third address knows the two others from their earlier checks
    seen = run(db, chunk=1)
    assert seen[(late, "media")].status is CheckStatus.REMOVED
    seen = run(db, chunk=1)
    assert {seen[(f, "media")].status for f in first} == {CheckStatus.REMOVED}


def test_the_page_is_checked_too_and_the_media_decides(
    db: Database, tmp_path: Path, site: Site
) -> None:
    media = site.route("/m.jpg", jpeg(50))
    html = f'<html><body><img src="{media}"></body></html>'.encode()
    site.route("/thread", html, headers={"Content-Type": "text/html"})
    online = confirmed(db, tmp_path, 50, media, site.url("/thread"))
    site.route(
        "/thread2",
        b"<html><body>Ce message a \xc3\xa9t\xc3\xa9 supprim\xc3\xa9.</body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    gone = confirmed(db, tmp_path, 51, site.route("/m2.jpg", b"", status=404), site.url("/thread2"))
    seen = run(db)
    assert seen[(online, "page")].status is CheckStatus.ONLINE
    assert seen[(online, "media")].finding_status is CheckStatus.ONLINE
    assert seen[(gone, "page")].status is CheckStatus.REMOVED
    assert seen[(gone, "page")].finding_status is CheckStatus.REMOVED


def test_a_removal_is_sealed_once_and_a_missing_browser_leaves_a_failed_capture(
    db: Database, tmp_path: Path, site: Site
) -> None:
    gone = confirmed(db, tmp_path, 60, site.route("/g.jpg", b"", status=404))
    asked: list[str] = []

    def no_browser() -> object:
        asked.append("browser")
        raise CaptureError("no Chromium at {path}: install Debian's chromium package", path="/x")

    seal = rc.removal_sealer(
        db,
        None,  # type: ignore[arg-type]
        lambda: None,  # type: ignore[arg-type,return-value]
        no_browser,  # type: ignore[arg-type]
        policy=lambda t: LOOPBACK,
        operator="caseworker",
        clock=lambda: NOW,
    )
    first = run(db, seal=seal)[(gone, "media")]
    assert first.newly_removed and first.capture is not None
    assert first.capture_status == "failed" and "Chromium" in (first.capture_error or "")
    with db.session() as session:
        row = session.get(CaptureRow, first.capture)
        assert row is not None and row.finding_id == gone and row.url == site.url("/g.jpg")
    # checked again: still removed, not newly, no second capture; `--all` skips it by then
    again = rc.recheck(
        db,
        Matcher(db),
        rc.tracked_findings(db, rc.Selection.FINDINGS, ids=[gone]),
        policy=LOOPBACK,
        resolver=resolver,
        seal=seal,
        clock=lambda: NOW,
    )
    assert [o.newly_removed for o in again] == [False] and asked == ["browser"]
    assert rc.tracked_findings(db, rc.Selection.ALL) == []


def test_due_follows_the_schedule(db: Database, tmp_path: Path, site: Site) -> None:
    copy = confirmed(db, tmp_path, 70, site.route("/d.jpg", jpeg(70)))
    assert [t.finding for t in rc.tracked_findings(db, rc.Selection.DUE, now=NOW)] == [copy]
    run(db, intervals=Intervals.parse("online=2h"))
    assert rc.tracked_findings(db, rc.Selection.DUE, now=NOW + timedelta(hours=1)) == []
    later = rc.tracked_findings(db, rc.Selection.DUE, now=NOW + timedelta(hours=2))
    assert [t.finding for t in later] == [copy]
    assert rc.last_statuses(db, [copy])[copy][0] == "online"


def test_the_network_guard_stays_on_for_a_source_that_did_not_allow_loopback(
    db: Database, tmp_path: Path, site: Site
) -> None:
    copy = confirmed(db, tmp_path, 80, site.route("/a.jpg", jpeg(80)))
    outcomes = rc.recheck(
        db,
        Matcher(db),
        rc.tracked_findings(db, rc.Selection.ALL),
        policy=replace(LOOPBACK, allow_networks=()),
        resolver=resolver,
        clock=lambda: NOW,
    )
    assert [(o.finding, o.status) for o in outcomes] == [(copy, CheckStatus.UNREACHABLE)]
    assert "refused address" in outcomes[0].detail("en")


def test_a_withdrawn_item_s_copies_are_no_longer_followed(
    db: Database, tmp_path: Path, site: Site
) -> None:
    from rempart.intake import banks

    copy = confirmed(db, tmp_path, 85, site.route("/w.jpg", jpeg(85)))
    with db.session() as session:
        item = session.scalar(select(Finding.item_id).where(Finding.id == copy))
    assert [t.finding for t in rc.tracked_findings(db, rc.Selection.ALL)] == [copy]
    banks.withdraw_item(db, "case-a-images", item)
    assert rc.tracked_findings(db, rc.Selection.ALL) == []
    assert rc.tracked_findings(db, rc.Selection.DUE, now=NOW) == []


def test_unknown_or_unconfirmed_findings_are_refused(db: Database, tmp_path: Path) -> None:
    made = make_finding(db, None, tmp_path, seed=90)
    with pytest.raises(Exception, match="not a confirmed copy"):
        rc.tracked_findings(db, rc.Selection.FINDINGS, ids=[made.finding])
