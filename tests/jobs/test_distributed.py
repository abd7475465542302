"""The same scan tasks on the distributed engine: Dramatiq on the Redis running here, two
worker processes, PostgreSQL as the shared store. Duplicated messages do no harm."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from rempart.demo_site import DemoSite
from rempart.demo_site.site import ServedSite
from rempart.intake import banks
from rempart.jobs import watchlist
from rempart.jobs.findings import list_findings
from rempart.store.database import Database
from rempart.store.models import ScanRun, SeenMedia

BROKER = os.environ.get("REMPART_TEST_BROKER_URL", "redis://127.0.0.1:6379/7")
STALL_S = 120.0  # a guard against hung workers only: a batch takes well under a second
LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}


def _broker_or_skip() -> None:
    import redis

    try:
        client = redis.Redis.from_url(BROKER)
        client.ping()
        client.flushdb()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis not reachable at {BROKER}: {exc} (CI=true: must run)")
        pytest.skip(f"Redis not reachable at {BROKER}: {exc}")


@pytest.fixture
def store(postgres_url: str) -> Iterator[tuple[Database, str]]:
    db = Database.open(postgres_url)
    db.downgrade("base")
    db.upgrade("head")
    yield db, postgres_url
    db.dispose()


@pytest.fixture(scope="module")
def site() -> Iterator[ServedSite]:
    with DemoSite(seed=7, images=120).serve() as served:
        yield served


@pytest.mark.postgres
@pytest.mark.slow
def test_two_worker_processes_scan_every_source_once(
    store: tuple[Database, str], site: ServedSite, tmp_path: Path
) -> None:
    _broker_or_skip()
    db, url = store
    banks.create_bank(db, "victim")
    paths = []
    for i, data in enumerate(site.victim_images()):
        paths.append(tmp_path / f"victim-{i}.jpg")
        paths[-1].write_bytes(data)
    list(banks.add_images(db, "victim", paths))
    recipes = site.recipes()
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": recipes["forum"]})
    watchlist.add_source(db, "mirror", "web", {**LOOPBACK, "recipe": recipes["mirror"]})
    export = tmp_path / "export"
    site.site.write_telegram_export(export)
    watchlist.add_source(db, "channel", "telegram", {"path": str(export)})

    env = {
        **os.environ,
        "REMPART_DATABASE_URL": url,
        "REMPART_BROKER_URL": BROKER,
        "REMPART_HOME": str(tmp_path),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "rempart", "worker", "--processes", "2", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    # Wait until both worker processes consume: otherwise the first one ready may prefetch
    # every message and the test would only show that one process can scan.
    logged: list[str] = []
    both_ready = threading.Event()

    def read_log() -> None:
        assert worker.stderr is not None
        for raw in worker.stderr:
            logged.append(raw.decode(errors="replace"))
            if sum("ready for action" in line for line in logged) >= 2:
                both_ready.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        assert both_ready.wait(120), "the worker processes did not start:\n" + "".join(logged)
        # Enqueue from a separate process, as `rempart watch --distributed` would.
        names = ["forum", "mirror", "channel", "forum"]  # the duplicate must do no harm
        script = (
            f"from rempart.jobs import tasks\nfor name in {names!r}:\n    tasks.scan.send(name)\n"
        )
        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
        # No deadline on the whole: only a guard against workers that stop making progress
        # (no new run, batch or "seen" mark for STALL_S), whatever this machine's speed.
        progress, last_progress = None, time.monotonic()
        while True:
            with db.session() as session:
                done = set(
                    session.scalars(
                        select(sa.func.distinct(ScanRun.source_id)).where(ScanRun.status == "done")
                    )
                )
                now = (
                    session.scalar(select(sa.func.count()).select_from(ScanRun)),
                    session.scalar(select(sa.func.sum(ScanRun.candidates))),
                    session.scalar(select(sa.func.count()).select_from(SeenMedia)),
                )
            if len(done) == 3:
                break
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            if now != progress:
                progress, last_progress = now, time.monotonic()
            elif time.monotonic() - last_progress > STALL_S:
                pytest.fail(f"the workers made no progress for {STALL_S:.0f} s: {now}")
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    with db.session() as session:
        runs = session.execute(select(ScanRun.worker, ScanRun.status)).all()
    assert len({w for w, _ in runs}) >= 2, "both worker processes should have scanned"
    findings = list_findings(db)
    keys = [(v.source, v.page_url, v.media_url, v.item) for v in findings]
    assert len(keys) == len(set(keys))  # nothing recorded twice
    forum_exact = {
        (s.page_url, s.media_url)
        for s in site.expected_sightings()
        if s.where == "forum" and s.alteration == "exact"
    }
    # one copy is one finding, first seen by whichever scan got there first
    seen = {(v.source, v.page_url, v.media_url) for v in findings} | {
        (a.source, a.page_url, a.media_url) for v in findings for a in v.also_seen
    }
    assert forum_exact <= {(page, media) for source, page, media in seen if source == "forum"}
    assert {source for source, _, _ in seen} == {"forum", "mirror", "channel"}
