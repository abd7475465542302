"""End to end in Debian's Chromium against a real server on 127.0.0.1: an administrator signs
in with her second factor and goes through the pages that are not the review's: the dashboard's
figures and time-to-removal chart, the notices (overdue ones, a draft to approve), the sources
and a scan with its problems, the reports and the settings. Each page runs under its CSP with no
script refused.

With REMPART_SCREENSHOTS=FOLDER set, the pages are also photographed into FOLDER (the
screenshots of docs/web.md: `REMPART_SCREENSHOTS=docs/img pytest tests/web/test_browser_pages.py`).
Only generated, neutral data is shown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from notices_made import IDENTITY, drafted, notices_web, removed
from served import chromium_page, served
from webapp import PASSWORD, Web

from findings_made import make_finding
from rempart.accounts.policy import Role
from rempart.jobs import watchlist
from rempart.jobs.findings import list_runs
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.takedown.drafting import approve, reply, submitted
from rempart.takedown.notices import NoticeStatus
from rempart.takedown.sending import send_notices

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = os.environ.get("REMPART_SCREENSHOTS", "")


class _Accepting:
    """A mail server that takes every notice."""

    def send(
        self,
        message: bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_data: Callable[[], None] = lambda: None,
    ) -> str:
        before_data()
        return "250 OK"


def _sent(web: Web, notice_id: int) -> None:
    approve(web.db, notice_id, identity=IDENTITY, operator="claire", clock=web.clock)
    (outcome,) = send_notices(
        web.db,
        _Accepting(),
        ids=[notice_id],
        identity=IDENTITY,
        sender="notices@asso.example",
        actor="claire",
        clock=web.clock,
    )
    assert outcome.status == "sent"


def _a_month_of_work(web: Web, tmp_path: Path) -> dict[str, int]:
    """Four cases: two copies removed (in 30 hours and in 5 days), one notice overdue, one
    web-form report filed, one draft waiting, one match waiting for review; a scan of a
    shared folder that met a link it would not follow."""
    a = drafted(web, tmp_path, case="case-a", seed=1)
    b = drafted(web, tmp_path, case="case-b", seed=2)
    c = drafted(web, tmp_path, case="case-c", seed=3)
    d = drafted(web, tmp_path, case="case-d", seed=4)
    make_finding(web.db, None, tmp_path, case="case-a", seed=5)
    for ids in (a, b, c):
        _sent(web, ids["dsa"])
    approve(web.db, a["pharos"], identity=IDENTITY, operator="claire", clock=web.clock)
    submitted(web.db, a["pharos"], reference="PH-2026-0042", operator="claire", clock=web.clock)
    removed(web, a["dsa"], timedelta(hours=30))
    removed(web, b["dsa"], timedelta(days=5))
    web.clock.advance(hours=30)
    reply(web.db, a["dsa"], status=NoticeStatus.REMOVED, operator="claire", clock=web.clock)
    web.clock.advance(hours=90)
    reply(web.db, b["dsa"], status=NoticeStatus.REMOVED, operator="claire", clock=web.clock)
    web.clock.advance(days=1)  # case-c's notice is past its 72 hours

    folder = tmp_path / "shared-folder"
    folder.mkdir()
    (folder / "holiday.jpg").symlink_to("/etc/hostname")  # links are not followed
    watchlist.add_source(web.db, "shared-folder", "files", {"path": str(folder)})
    run_scan(web.db, Matcher(web.db), "shared-folder")
    (run,) = list_runs(web.db, source="shared-folder")
    assert run.problems == 1
    return {"draft": d["dsa"], "overdue": c["dsa"], "run": run.id}


def _shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"web-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_administrator_goes_through_the_dashboard_notices_sources_reports_and_settings(
    sqlite_db: Database, tmp_path: Path
) -> None:
    web = notices_web(sqlite_db, tmp_path)
    made = _a_month_of_work(web, tmp_path)
    web.user("nadia", Role.ADMIN, totp=True)
    web.user("claire", Role.CASEWORKER, "case-a", "case-b")
    web.user("bruno", Role.REVIEWER, "case-a")
    refused: list[str] = []
    with served(web) as url, chromium_page() as page:
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.goto(url + "/login")  # type: ignore[attr-defined]
        page.fill("#name", "nadia")  # type: ignore[attr-defined]
        page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_selector("#code")  # type: ignore[attr-defined]
        page.fill("#code", web.code("nadia"))  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_selector("text=Dashboard")  # type: ignore[attr-defined]
        figures = " ".join(page.inner_text("main").split())  # type: ignore[attr-defined]
        assert "4 open cases" in figures and "2 removals this month" in figures
        assert "1 notice overdue" in figures
        assert page.locator("main svg rect").count() >= 2  # type: ignore[attr-defined]
        _shot(page, "dashboard")

        page.click("nav >> text=Notices")  # type: ignore[attr-defined]
        page.wait_for_url("**/notices")  # type: ignore[attr-defined]
        page.goto(url + "/notices?view=overdue")  # type: ignore[attr-defined]
        assert page.locator(f"a[href='/notices/{made['overdue']}']").count() == 1  # type: ignore[attr-defined]
        _shot(page, "notices")
        page.goto(f"{url}/notices/{made['draft']}")  # type: ignore[attr-defined]
        assert "abuse@forum.example" in page.inner_text("main")  # type: ignore[attr-defined]
        assert page.locator("#approve").count() == 1  # type: ignore[attr-defined]
        _shot(page, "notice")

        page.click("nav >> text=Sources")  # type: ignore[attr-defined]
        page.wait_for_url("**/sources")  # type: ignore[attr-defined]
        assert "shared-folder" in page.inner_text("main")  # type: ignore[attr-defined]
        _shot(page, "sources")
        page.goto(f"{url}/scans/{made['run']}")  # type: ignore[attr-defined]
        assert "holiday.jpg" in page.inner_text("main")  # type: ignore[attr-defined]
        _shot(page, "scan-problems")

        page.click("nav >> text=Reports")  # type: ignore[attr-defined]
        page.wait_for_url("**/reports")  # type: ignore[attr-defined]
        assert "Removal statistics, 2026" in page.inner_text("main")  # type: ignore[attr-defined]
        _shot(page, "reports")

        page.click("nav >> text=Settings")  # type: ignore[attr-defined]
        page.wait_for_url("**/settings")  # type: ignore[attr-defined]
        accounts = page.inner_text("main")  # type: ignore[attr-defined]
        assert "claire" in accounts and "bruno" in accounts
        _shot(page, "settings")
    assert not [text for text in refused if "Content Security Policy" in text]
