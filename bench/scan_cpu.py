"""Benchmark: CPU time per image of each stage of a scan (hash, match, store), on a busy machine.

Usage: .venv/bin/python bench/scan_cpu.py [--images N] [--seed S] [--profile STAGE]

bench/scan.py measures a scan end to end, in wall-clock time: meaningless on a shared
machine. This one crawls the demo site's forum once (N pictures, default 2,000, images from
bench/scan.py's disk cache), keeps every candidate's bytes, registers the demo victim's
pictures as bench/scan.py does, and then runs the scan's stages one after another in this
one thread, in batches of 64 as rempart.jobs.scan does, timing each with the thread's CPU
clock (time.thread_time): what the hash worker spends an image (rempart.jobs.hash_worker.hash_all),
what the scan's thread spends matching (Matcher.match) and recording (rempart.jobs.scan's
_handle, with a real SQLite store), and what the hash workers' answers cost pickled (in a
worker) and unpickled (in the scan process), median of 9 rounds. `--profile
hash|match|store` prints that stage's cProfile (cumulative, top 40). The copies of the
victim's pictures must all match, as in bench/scan.py. Results go to stdout.

The scan process as a whole: `--process` (on by default; `--no-process` skips it) also runs,
each in a fresh child process as bench/scan.py runs them (its `crawl` and `scan` children,
without the memory sampler), the forum's crawl alone (candidates thrown away) and the real
`scan_source` (with its hash workers), and reports the child's own CPU (all its threads; the
workers' apart), split by thread: the scan's thread, the crawl's fetch threads, the process
pool's threads, and the garbage collector's share (all threads, by generation).
`--profile crawl|scan` prints that child's cProfile, all its threads together (and saves it
to the file SCAN_CPU_PROFILE_OUT names, when set, for pstats' callers and callees).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pickle
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "bench"))

import scan as scan_bench  # noqa: E402  (bench/scan.py)
from scan import CACHE, LOOPBACK  # noqa: E402

T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2_000, help="pictures on the demo site")
    parser.add_argument("--seed", type=int, default=1, help="demo site seed (default 1)")
    parser.add_argument(
        "--profile", choices=("hash", "match", "store", "crawl", "scan"), help="cProfile a stage"
    )
    parser.add_argument("--repeat", type=int, default=1, help="hash the batches this many times")
    parser.add_argument(
        "--process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the crawl and the whole scan, each in a child process",
    )
    parser.add_argument(
        "--stages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time hash, match and store in this thread",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

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
        if args.process:
            processes(work, served, recipe, paths, args.profile)
        if not args.stages:
            return
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
    pickled(outcomes, count)
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


def processes(
    work: Path, served: Any, recipe: Any, victims: list[Path], profile: str | None
) -> None:
    """The crawl alone and the whole scan, each in a child process; their CPU split by thread."""
    job = {
        "recipe": recipe,
        "victims": [str(p) for p in victims],
        "expected": [
            [s.page_url, s.media_url, s.alteration, s.embed]
            for s in served.expected_sightings()
            if s.where == "forum"
        ],
        "urls": str(work / "urls.json"),
        "hash_workers": None,
        "profile": profile,
    }
    for mode in ("crawl", "scan"):
        job_file, result_file = work / f"{mode}.job.json", work / f"{mode}.result.json"
        database = f"sqlite:///{work / f'child-{mode}.db'}"
        job_file.write_text(json.dumps({**job, "database": database, "result": str(result_file)}))
        subprocess.run([sys.executable, __file__, "--child", mode, str(job_file)], check=True)
        result = json.loads(result_file.read_text())
        count = result["images"]
        per = 1000 / count
        threads = ", ".join(f"{name} {cpu * per:.2f}" for name, cpu in result["threads"].items())
        print(
            f"{mode} process: {result['cpu_s']:.2f} s CPU = {result['cpu_s'] * per:.2f} ms an "
            f"image, {result['system_s'] * per:.2f} of it in the kernel ({count} images; "
            f"by thread, ms an image: {threads}); "
            f"hash workers {result['workers_cpu_s'] * per:.2f} ms an image; "
            f"of the process's CPU, the garbage collector's {result['gc_s'] * per:.2f} ms an "
            f"image ({result['gc_runs']} collections; by generation, ms an image: "
            f"{', '.join(f'{s * per:.3f}' for s in result['gc_by_generation'])})"
        )
        if mode == "scan" and not result["detail"]["all_expected_found"]:
            sys.exit(f"FAILED: the scan missed {result['detail']['missed']}")


def child(mode: str, job_path: str) -> None:
    """bench/scan.py's crawl or scan child, timed by thread (and profiled, all threads)."""
    job = json.loads(Path(job_path).read_text())
    prepare = {"crawl": scan_bench._crawl, "scan": scan_bench._scan}[mode]
    run = prepare(job)
    spent: dict[str, float] = {}
    lock = threading.Lock()
    profilers: list[cProfile.Profile] = []
    original_run = threading.Thread.run

    def counted_run(thread: threading.Thread) -> None:
        try:
            original_run(thread)
        finally:
            name = re.sub(r"[_-]?\d+$", "", thread.name)
            with lock:
                spent[name] = spent.get(name, 0.0) + time.thread_time()

    threading.Thread.run = counted_run  # type: ignore[method-assign]
    if mode == "scan":
        # the scan thread's part handing batches to the workers, and hashing them itself
        # while the workers start (a fixed cost, which weighs on small scans)
        from rempart.jobs import scan as scan_module

        submit = scan_module._HashWorkers.submit

        def counted_submit(self: Any, data: list[bytes], windows: Any) -> Any:
            started = time.thread_time()
            try:
                return submit(self, data, windows)
            finally:
                spent["scan thread: to hashing"] = (
                    spent.get("scan thread: to hashing", 0.0) + time.thread_time() - started
                )

        scan_module._HashWorkers.submit = counted_submit  # type: ignore[method-assign]
    if job["profile"] == mode:

        def start_profiler(*_: object) -> None:
            profiler = cProfile.Profile(time.thread_time)
            with lock:
                profilers.append(profiler)
            profiler.enable()

        threading.setprofile(start_profiler)
        start_profiler()
    collecting = _GcTimer()
    gc.callbacks.append(collecting)
    cpu = scan_bench._cpu(resource.RUSAGE_SELF)
    system = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    workers = scan_bench._cpu(resource.RUSAGE_CHILDREN)
    main_cpu = time.thread_time()
    detail = run()
    gc.callbacks.remove(collecting)
    main_cpu = time.thread_time() - main_cpu
    threading.setprofile(None)  # type: ignore[arg-type]
    if profilers:
        profilers[0].disable()
    time.sleep(0.5)  # the crawl's fetch threads end once they see the pool shut down
    cpu = scan_bench._cpu(resource.RUSAGE_SELF) - cpu
    system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - system
    workers = scan_bench._cpu(resource.RUSAGE_CHILDREN) - workers
    handing = spent.pop("scan thread: to hashing", 0.0)
    threads = {"scan thread": main_cpu - handing}
    if mode == "scan":
        threads["scan thread: to hashing"] = handing
    threads.update(sorted(spent.items(), key=lambda kv: -kv[1]))
    threads["other"] = cpu - sum(threads.values())
    images = int(detail.pop("images"))
    result = {
        "images": images,
        "cpu_s": cpu,
        "system_s": system,
        "workers_cpu_s": workers,
        "threads": threads,
        "gc_s": collecting.spent,
        "gc_runs": collecting.runs,
        "gc_by_generation": collecting.by_generation,
    }
    Path(job["result"]).write_text(json.dumps({**result, "detail": detail}))
    if profilers:
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        if os.environ.get("SCAN_CPU_PROFILE_OUT"):  # for pstats: callers, callees
            stats.dump_stats(os.environ["SCAN_CPU_PROFILE_OUT"])


class _GcTimer:
    """A gc callback: the CPU the garbage collector takes, in whichever thread it runs."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.runs = 0
        self.by_generation = [0.0, 0.0, 0.0]
        self._started = threading.local()

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started.at = time.thread_time()
        elif hasattr(self._started, "at"):
            spent = time.thread_time() - self._started.at
            self.spent += spent
            self.by_generation[info["generation"]] += spent
            self.runs += 1


def pickled(outcomes: list[list[Any]], count: int, rounds: int = 9) -> None:
    """The hash workers' answers, batch by batch, pickled (in a worker) and unpickled (in the
    scan process) as the process pool does: the CPU of each, median of `rounds` rounds."""
    dumps: list[float] = []
    loads: list[float] = []
    for _ in range(rounds):
        started = time.thread_time()
        blobs = [pickle.dumps(part) for part in outcomes]
        dumps.append(time.thread_time() - started)
        started = time.thread_time()
        back = [pickle.loads(blob) for blob in blobs]
        loads.append(time.thread_time() - started)
    assert _plain(back) == _plain(outcomes), "the answers changed on their way"
    size = sum(len(blob) for blob in blobs)
    print(
        f"pickle: dumps {statistics.median(dumps) / count * 1000:.3f} ms an image "
        f"({min(dumps) / count * 1000:.3f}-{max(dumps) / count * 1000:.3f}), "
        f"loads {statistics.median(loads) / count * 1000:.3f} "
        f"({min(loads) / count * 1000:.3f}-{max(loads) / count * 1000:.3f}), "
        f"{size / count / 1024:.1f} KiB an image (median of {rounds})"
    )


def _plain(outcomes: list[list[Any]]) -> list[Any]:
    """The answers in comparable form: local features compare by identity, so by their
    stored blob and pixels here."""
    from rempart.hashing.image import ImageHashes

    plain: list[Any] = []
    for outcome in (o for part in outcomes for o in part):
        hashes = getattr(outcome, "hashes", None)
        if isinstance(hashes, ImageHashes):
            features = [
                (kind, f.to_bytes(), None if f.pixels is None else f.pixels.tobytes())
                for kind, f in hashes.features
            ]
            plain.append((replace(outcome, hashes=replace(hashes, features=())), features))
        else:
            plain.append(outcome)
    return plain


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
