"""Kill -9 the scanner at random points: the next `rempart scan` resumes, and in the end the
findings are exactly those of an uninterrupted scan (nothing lost, nothing twice).

Kills land on observed progress, never on a guess of how fast this machine is: each run is
killed once the store shows it has committed one or more new batches ("seen" marks), so
every kill interrupts a run that has started and done some work, on any machine."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kill_points import scan_findings, scan_store
from rempart.demo_site import DemoSite
from rempart.demo_site.site import ServedSite
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.store.models import Finding, ScanRun, Sighting

LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}
KILLS = 4
# Only a guard against a hung scanner: a run that commits nothing for this long has stalled.
# A batch takes well under a second even on a slow, loaded machine.
STALL_S = 300.0
POLL_S = 0.02


@pytest.fixture(scope="module")
def site() -> Iterator[ServedSite]:
    with DemoSite(seed=5, images=1200).serve() as served:
        yield served


def _findings(db: Database) -> set[tuple[str | None, str | None, int]]:
    return set(scan_findings(db))


def _seen_marks(path: Path) -> int:
    """Committed "seen" marks, read as another process would (WAL: never blocks the scanner)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        return int(conn.execute("SELECT count(*) FROM seen_media").fetchone()[0])


def _kill(scanner: subprocess.Popen[bytes]) -> None:
    """SIGKILL the scanner and its hash workers (it leads its own process group)."""
    with suppress(ProcessLookupError):
        os.killpg(scanner.pid, signal.SIGKILL)
    scanner.wait()


@pytest.mark.slow
def test_scan_killed_at_random_points_loses_nothing_and_repeats_nothing(
    site: ServedSite, tmp_path: Path
) -> None:
    reference = scan_store(f"sqlite:///{tmp_path / 'reference.db'}", site, tmp_path)
    run_scan(reference, Matcher(reference), "forum")
    expected = _findings(reference)
    assert expected
    total_marks = _seen_marks(tmp_path / "reference.db")

    path = tmp_path / "killed.db"
    url = f"sqlite:///{path}"
    killed = scan_store(url, site, tmp_path)
    env = {**os.environ, "REMPART_DATABASE_URL": url, "REMPART_HOME": str(tmp_path)}
    rng = random.Random(2026)
    # room for every planned kill (at most 3 batches each) and a last run that resumes
    assert total_marks > 64 * (3 * KILLS + 1)
    kills = 0
    marks = _seen_marks(path)
    errors = tmp_path / "scanner.err"
    while True:
        with errors.open("wb") as stderr:
            scanner = subprocess.Popen(
                [sys.executable, "-m", "rempart", "scan", "forum", "--json"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        # the last run is left to finish; the others die after 1 to 3 new batches
        kill_after = rng.randint(1, 3) if kills < KILLS else None
        try:
            batches = 0
            last_progress = time.monotonic()
            while scanner.poll() is None and batches != kill_after:
                now_marks = _seen_marks(path)
                if now_marks > marks:
                    batches, marks, last_progress = batches + 1, now_marks, time.monotonic()
                elif time.monotonic() - last_progress > STALL_S:
                    pytest.fail(f"the scanner committed nothing for {STALL_S:.0f} s")
                else:
                    time.sleep(POLL_S)
        except BaseException:
            _kill(scanner)  # leave no scanner behind a failed test
            raise
        if scanner.poll() is None:
            _kill(scanner)
            kills += 1
            continue
        assert scanner.returncode == 0, errors.read_text()
        break
    assert kills == KILLS, "the scan ended before every planned kill: give it more images"
    assert _findings(killed) == expected
    with killed.session() as session:
        sightings = session.scalar(select(func.count()).select_from(Sighting))
        findings = session.scalar(select(func.count()).select_from(Finding))
        statuses = session.scalars(select(ScanRun.status).order_by(ScanRun.id)).all()
    assert sightings == len({(p, m) for p, m, _ in expected})
    assert findings == len(expected)
    # every kill interrupted a run that had committed work; the next run marked it so
    assert statuses == ["interrupted"] * KILLS + ["done"]
