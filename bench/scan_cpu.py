"""Benchmark: CPU time per image of each stage of a scan (hash, match, store), on a busy machine.

Usage: .venv/bin/python bench/scan_cpu.py [--images N] [--seed S] [--profile STAGE]

bench/scan.py measures a scan end to end, in wall-clock time: meaningless on a shared
machine. This one crawls the demo site's forum once (N pictures, default 2,000, images from
bench/scan.py's disk cache), keeps every candidate's bytes, registers the demo victim's
pictures as bench/scan.py does, and then runs the scan's stages one after another in this
one thread, in batches of 64 as rempart.jobs.scan does, timing each with the thread's CPU
clock (time.thread_time): what the hash worker spends an image (rempart.jobs.hash_worker.hash_all),
what the scan's thread spends matching (Matcher.match) and recording (rempart.jobs.scan's
_handle, with a real SQLite store). `--profile hash|match|store` prints that stage's
cProfile (cumulative, top 40). The copies of the victim's pictures must all match, as in
bench/scan.py. Results go to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "bench"))

from scan import CACHE, LOOPBACK  # noqa: E402  (bench/scan.py)

T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2_000, help="pictures on the demo site")
    parser.add_argument("--seed", type=int, default=1, help="demo site seed (default 1)")
    parser.add_argument("--profile", choices=("hash", "match", "store"), help="cProfile a stage")
    parser.add_argument("--repeat", type=int, default=1, help="hash the batches this many times")
    args = parser.parse_args()

    from rempart.demo_site import DemoSite
    from rempart.hashing import REGISTRATION_EXTRAS
    from rempart.intake import banks
    from rempart.jobs import hash_worker, watchlist
    from rempart.jobs import scan as scan_module
    from rempart.jobs.state import StoredState
    from rempart.matching.service import Matcher
    from rempart.sources import catalog
    from rempart.sources.base import Candidate
    from rempart.store.database import Database

    site = DemoSite(args.seed, images=args.images, cache_dir=CACHE / "demo-site")
    site.warm()
    with tempfile.TemporaryDirectory(prefix="rempart-bench-") as tmp, site.serve() as served:
        work = Path(tmp)
        db = Database.open(f"sqlite:///{work / 'scan.db'}")
        banks.create_bank(db, "victim")
        paths = []
        for i, data in enumerate(served.victim_images()):
            paths.append(work / f"victim-{i}.jpg")
            paths[-1].write_bytes(data)
        added = list(
            banks.add_images(db, "victim", paths, label="demo victim", extras=REGISTRATION_EXTRAS)
        )
        assert all(o.item_id is not None for o in added)
        recipe = served.recipes()["forum"]
        expected = {s.media_url for s in served.expected_sightings() if s.where == "forum"}
        source_id = watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": recipe})
        candidates: list[Candidate] = []
        with catalog.opened("web", "forum", {**LOOPBACK, "recipe": recipe}) as source:
            state = StoredState.load(db, source_id)
            candidates = [c for c in source.scan(state) if isinstance(c, Candidate)]

    matcher = Matcher(db)
    matcher.refresh()
    windows = matcher.query_windows()
    batches = [candidates[i : i + 64] for i in range(0, len(candidates), 64)]
    count = len(candidates)
    print(f"{count} candidates from {args.images} pictures (seed {args.seed}); windows {windows}")

    def hash_all() -> list[list[Any]]:
        return [hash_worker.hash_all([c.data for c in batch], windows) for batch in batches]

    outcomes = timed("hash", hash_all, count, args.profile, args.repeat)
    hashed = [
        [scan_module._Hashed(c, o.hashes, o.provenance) for c, o in zip(batch, part, strict=True)]
        for batch, part in zip(batches, outcomes, strict=True)
        if all(isinstance(o, hash_worker.Read) for o in part)
    ]
    queries = [[h.query() for h in part] for part in hashed]

    def match_all() -> list[list[Any]]:
        return [matcher.match(part) for part in queries]

    results = timed("match", match_all, count, args.profile)
    found = {
        h.candidate.media_url
        for part, rs in zip(hashed, results, strict=True)
        for h, r in zip(part, rs, strict=True)
        if r.matches
    }
    print(f"copies of the victim's pictures found: {len(expected & found)}/{len(expected)}")

    state = StoredState.load(db, source_id)
    run_id = scan_module._start_run(db, source_id, scan_module.utc_now())

    def store_all() -> None:
        counts = scan_module.ScanProgress()
        for batch, part in zip(batches, outcomes, strict=True):
            done: Future[list[Any]] = Future()
            done.set_result(part)
            scanned = scan_module._Batch(candidates=list(batch), hashes=[done])
            scan_module._handle(
                db, matcher, state, run_id, scanned, counts, scan_module.utc_now, None
            )

    timed("match+store", store_all, count, args.profile)
    if expected - found:
        sys.exit("FAILED: copies of the victim's pictures missed")


def timed(name: str, run: Callable[[], T], count: int, profile: str | None, repeat: int = 1) -> T:
    # "match+store": its last stage is the one profiled
    wanted = profile is not None and name.split("+")[-1] == profile
    profiler = cProfile.Profile(time.thread_time) if wanted else None
    started = time.thread_time()
    if profiler is not None:
        profiler.enable()
    for _ in range(repeat):
        result = run()
    if profiler is not None:
        profiler.disable()
    spent = (time.thread_time() - started) / repeat
    print(f"{name}: {spent:.2f} s CPU = {spent / count * 1000:.2f} ms an image")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    return result


if __name__ == "__main__":
    main()
