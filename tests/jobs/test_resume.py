"""Kill -9 the scanner at random points: the next `rempart scan` resumes, and in the end the
findings are exactly those of an uninterrupted scan (nothing lost, nothing twice)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rempart.demo_site import DemoSite
from rempart.demo_site.site import ServedSite
from rempart.intake import banks
from rempart.jobs import watchlist
from rempart.jobs.findings import list_findings
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.store.models import Finding, ScanRun, Sighting

LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}


@pytest.fixture(scope="module")
def site() -> Iterator[ServedSite]:
    with DemoSite(seed=5, images=1200).serve() as served:
        yield served


def _prepare(url: str, site: ServedSite, tmp_path: Path) -> Database:
    db = Database.open(url)
    banks.create_bank(db, "victim")
    paths = []
    for i, data in enumerate(site.victim_images()):
        path = tmp_path / f"victim-{i}.jpg"
        path.write_bytes(data)
        paths.append(path)
    list(banks.add_images(db, "victim", paths))
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": site.recipes()["forum"]})
    return db


def _findings(db: Database) -> set[tuple[str | None, str | None, int]]:
    return {(v.page_url, v.media_url, v.item) for v in list_findings(db)}


@pytest.mark.slow
def test_scan_killed_at_random_points_loses_nothing_and_repeats_nothing(
    site: ServedSite, tmp_path: Path
) -> None:
    reference = _prepare(f"sqlite:///{tmp_path / 'reference.db'}", site, tmp_path)
    run_scan(reference, Matcher(reference), "forum")
    expected = _findings(reference)
    assert expected

    url = f"sqlite:///{tmp_path / 'killed.db'}"
    killed = _prepare(url, site, tmp_path)
    env = {**os.environ, "REMPART_DATABASE_URL": url, "REMPART_HOME": str(tmp_path)}
    rng = random.Random(2026)
    kills = 0
    for _ in range(30):
        scanner = subprocess.Popen(
            [sys.executable, "-m", "rempart", "scan", "forum", "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            scanner.wait(timeout=rng.uniform(1.2, 3.0))
        except subprocess.TimeoutExpired:
            scanner.send_signal(signal.SIGKILL)
            scanner.wait()
            kills += 1
            continue
        assert scanner.returncode == 0, scanner.stderr.read() if scanner.stderr else ""
        break
    else:
        pytest.fail("the scan never completed")
    assert _findings(killed) == expected
    with killed.session() as session:
        sightings = session.scalar(select(func.count()).select_from(Sighting))
        findings = session.scalar(select(func.count()).select_from(Finding))
        statuses = session.scalars(select(ScanRun.status).order_by(ScanRun.id)).all()
    assert sightings == len({(p, m) for p, m, _ in expected})
    assert findings == len(expected)
    # some kills land before a run starts (while Python imports) or after it ended; the
    # others interrupt one, and the last run completes
    assert statuses[-1] == "done" and 2 <= statuses.count("interrupted") <= kills
