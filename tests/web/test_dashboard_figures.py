"""The dashboard's takedown figures: drafts, answers awaited, overdue notices, removals this
month and the time-to-removal chart, counted on the caller's own cases only."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from notices_made import IDENTITY, drafted, notices_web, removed

from rempart.accounts.policy import Role
from rempart.store.database import Database
from rempart.takedown.drafting import approve, list_notices, submitted
from rempart.web.dashboard_figures import bars


def _figure(html: str, words: str) -> int:
    found = re.search(r"<strong[^>]*>(\d+)</strong> " + words, html)
    assert found, words
    return int(found.group(1))


def test_the_dashboard_counts_notices_and_removals_of_her_cases_only(
    db: Database, tmp_path: Path
) -> None:
    web = notices_web(db, tmp_path)
    mine = drafted(web, tmp_path, case="case-a", seed=1)
    other = drafted(web, tmp_path, case="case-b", seed=2)
    for ids in (mine, other):
        approve(web.db, ids["pharos"], identity=IDENTITY, operator="x", clock=web.clock)
        submitted(web.db, ids["pharos"], reference="T-1", operator="x", clock=web.clock)
    removed(web, mine["pharos"], timedelta(hours=30))
    web.clock.advance(days=2)
    web.user("claire", Role.CASEWORKER, "case-a")
    client = web.client()
    web.sign_in(client, "claire")
    page = client.get("/").text
    hers = list_notices(web.db, case="case-a", status="drafted")
    assert len(hers) < len(list_notices(web.db, status="drafted"))
    assert _figure(page, "notices? to approve") == len(hers)  # not case-b's
    assert _figure(page, "removals? this month") == 1
    assert _figure(page, "notices? overdue") == 0
    assert "<svg" in page and "<script" not in page and " style=" not in page
    assert "1 measured" in page


def test_time_to_removal_bars_fall_in_their_buckets_and_scale_to_the_tallest() -> None:
    chart = bars([timedelta(hours=5), timedelta(hours=30), timedelta(hours=31), timedelta(days=20)])
    assert [b.count for b in chart] == [1, 2, 0, 0, 1]
    tallest = max(chart, key=lambda b: b.count)
    assert tallest.y == 0 and all(b.height <= tallest.height for b in chart)
    assert [b.count for b in bars([])] == [0, 0, 0, 0, 0]
