"""Benchmark: end-to-end scan throughput and memory (fetch → hash → match → store) on loopback.

Usage: .venv/bin/python bench/scan.py [--images N] [--quick] [--postgres] [--seed S]
                                      [--hash-workers N]

The demo site (rempart.demo_site) is laid out with N pictures, its images made ahead and kept
in a disk cache (the first run for 10,000 pictures takes about a minute more), and served by
this process. Each measured run is a fresh child process, so that its memory is its own:

* crawl:  the forum's WebSource alone, candidates thrown away: the ceiling for a scan;
* scan:   `scan_source` of the forum, as `rempart scan forum` runs it, on a fresh SQLite
          store (PostgreSQL with --postgres) holding the demo victim's bank, registered with
          `bank add`'s default extras (Windows.CROPS | GRID | FEATURES);
* anchor: a straightforward reference pipeline over the very images the scan handled: one
          httpx GET per full-size image URL, Pillow decode to RGB, `pdqhash.compute`, and a
          brute-force match against the victims' reference hashes (radius 31), in one thread.
          It is handed the URLs: it fetches none of the site's pages, and follows redirects
          (an attachment's link leads to its file) as far as the real fetcher does.

The scan must find every copy of a victim image the forum shows (the site says where), or
the command fails. Defaults: 1,000 and 10,000 pictures, under 2 minutes once the image cache
exists (--quick: 1,000 only, about 15 s). Results go to stdout and bench/results/scan.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from machine_info import basics  # noqa: E402  (bench/machine_info.py)

RESULTS = ROOT / "bench" / "results" / "scan.json"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "rempart-bench"
POSTGRES_ADMIN_URL = os.environ.get(
    "REMPART_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# As the tests scan the demo site: loopback allowed, no politeness delay.
LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}
RADIUS = 31  # the anchor's match threshold, PDQ's usual one
GOAL = 200  # images/s end to end, on 2 cores
MODES = ("crawl", "scan", "anchor")

Timed = Callable[[], dict[str, Any]]


# ------------------------------------------------------------------------------- the parent


@dataclass
class Run:
    """One measured child run."""

    mode: str
    images: int  # media handled: candidates (crawl, scan), URLs (anchor)
    seconds: float
    images_per_s: float
    peak_rss_mib: float  # the child's own peak (VmHWM)
    peak_tree_rss_mib: float  # the child with its own children (the hash worker), sampled
    rss_before_mib: float  # after imports and set-up, when the timed part starts
    cpu_s: float  # the child's CPU time in the timed part, all its threads
    worker_cpu_s: float  # CPU time of the child's own children (the hash worker)
    server_cpu_s: float  # CPU time of the demo site's servers (this process) meanwhile
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Size:
    pictures: int
    runs: dict[str, Run]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, help="pictures on the demo site (one size)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 pictures")
    parser.add_argument("--postgres", action="store_true", help="scan into PostgreSQL")
    parser.add_argument("--seed", type=int, default=1, help="demo site seed (default 1)")
    parser.add_argument(
        "--hash-workers", type=int, help="the scan's hash worker processes (default: its own)"
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [args.images] if args.images else [1_000] if args.quick else [1_000, 10_000]
    load_before = os.getloadavg()
    measured = [
        measure(pictures, args.seed, args.postgres, args.hash_workers) for pictures in sizes
    ]
    info = {**machine(), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    store = "PostgreSQL" if args.postgres else "SQLite"
    print_report(measured, info, store)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "scan",
        "command": " ".join(["bench/scan.py", *sys.argv[1:]]),
        "store": store,
        "seed": args.seed,
        "hash_workers": args.hash_workers,
        "machine": info,
        "sizes": [asdict(size) for size in measured],
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")
    if not all(size.runs["scan"].detail["all_expected_found"] for size in measured):
        sys.exit("FAILED: the scan missed copies of victim images (see above)")


def measure(pictures: int, seed: int, postgres: bool, hash_workers: int | None) -> Size:
    from rempart.demo_site import DemoSite

    site = DemoSite(seed, images=pictures, cache_dir=CACHE / "demo-site")
    started = time.perf_counter()
    made = site.warm()
    if made:
        print(f"[{pictures}] made {made} demo images in {time.perf_counter() - started:.0f} s")
    with site.serve() as served, tempfile.TemporaryDirectory(prefix="rempart-bench-") as tmp:
        work = Path(tmp)
        victims = []
        for i, data in enumerate(served.victim_images()):
            path = work / f"victim-{i}.jpg"
            path.write_bytes(data)
            victims.append(str(path))
        job: dict[str, Any] = {
            "recipe": served.recipes()["forum"],
            "victims": victims,
            "expected": [
                [s.page_url, s.media_url, s.alteration, s.embed]
                for s in served.expected_sightings()
                if s.where == "forum"
            ],
            "urls": str(work / "urls.json"),  # written by the scan, read by the anchor
            "hash_workers": hash_workers,
        }
        runs = {}
        for mode in MODES:
            with _database(postgres, work) as url:
                runs[mode] = run_child(mode, {**job, "database": url}, work)
            run = runs[mode]
            print(
                f"[{pictures}] {mode}: {run.images} images in {run.seconds:.1f} s = "
                f"{run.images_per_s:.0f}/s, peak RSS {run.peak_rss_mib:.0f} MiB"
            )
    return Size(pictures, runs)


@contextmanager
def _database(postgres: bool, work: Path) -> Iterator[str]:
    """A database URL for one run: a new SQLite file, or a new PostgreSQL database."""
    if not postgres:
        yield f"sqlite:///{work / f'scan-{uuid.uuid4().hex[:8]}.db'}"
        return
    import sqlalchemy as sa

    name = f"rempart_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_child(mode: str, job: dict[str, Any], work: Path) -> Run:
    job_file = work / f"{mode}.job.json"
    result_file = work / f"{mode}.result.json"
    job_file.write_text(json.dumps({**job, "result": str(result_file)}))
    server_cpu = time.process_time()  # meanwhile, this process does nothing but serve
    subprocess.run([sys.executable, __file__, "--child", mode, str(job_file)], check=True)
    result = json.loads(result_file.read_text())
    return Run(**{**result, "server_cpu_s": time.process_time() - server_cpu})


def machine() -> dict[str, object]:
    import numpy as np
    import PIL

    return {
        **basics(),
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "platform": platform.platform(),
    }


def print_report(sizes: list[Size], info: dict[str, Any], store: str) -> None:
    print(f"\nmachine: {info['cpu']}, {info['cores']} cores; {info['platform']}; store: {store}")
    before, after = info["load_average_before"][0], info["load_average_after"][0]
    print(f"load average (1 min) before: {before:.2f}, after: {after:.2f}\n")
    print(
        f"{'pictures':>8} {'run':<7} {'images':>7} {'s':>6} {'img/s':>6} {'vs anchor':>9} "
        f"{'RSS MiB':>8} {'+worker':>8} {'CPU s':>6} {'worker':>6} {'server':>6}"
    )
    for size in sizes:
        anchor = size.runs["anchor"].images_per_s
        for run in size.runs.values():
            print(
                f"{size.pictures:>8} {run.mode:<7} {run.images:>7} {run.seconds:>6.1f} "
                f"{run.images_per_s:>6.0f} {run.images_per_s / anchor:>8.2f}x "
                f"{run.peak_rss_mib:>8.0f} {run.peak_tree_rss_mib:>8.0f} {run.cpu_s:>6.1f} "
                f"{run.worker_cpu_s:>6.1f} {run.server_cpu_s:>6.1f}"
            )
    for size in sizes:
        scan, anchor, crawl = (size.runs[mode] for mode in ("scan", "anchor", "crawl"))
        detail = scan.detail
        parts = ", ".join(f"{name} {s:.1f} s" for name, s in detail["split_s"].items())
        print(f"\n{size.pictures} pictures: scan {scan.images_per_s:.0f} images/s", end="")
        print(f" = {scan.images_per_s / anchor.images_per_s:.2f}x the anchor", end="")
        print(f", {scan.images_per_s / crawl.images_per_s:.2f}x the crawl alone", end="")
        print(f"; goal {GOAL}/s {'met' if scan.images_per_s >= GOAL else 'NOT met'}")
        print(f"  the scan's own thread: {parts}")
        print(
            f"  copies of victim images on the forum found: {detail['expected_found']}"
            f"/{detail['expected']}; candidates matched {detail['matched']}, "
            f"problems {detail['problems']}"
        )
        missed = ", ".join(f"{n} {a}" for a, n in anchor.detail["missed_alterations"].items())
        print(f"  the anchor found {anchor.detail['expected_found']}; it missed {missed or 'none'}")
        for missed in detail["missed"]:
            print(f"  MISSED: {missed}")
        for elsewhere in detail["recorded_on_another_page"]:
            print(f"  found, on another page: {elsewhere}")
        print(
            f"  RSS {scan.rss_before_mib:.0f} MiB when the scan starts, peak "
            f"{scan.peak_rss_mib:.0f} MiB (+{scan.peak_rss_mib - scan.rss_before_mib:.0f}); "
            f"with the hash worker {scan.peak_tree_rss_mib:.0f} MiB"
        )


# ------------------------------------------------------------------------------ the children


def child(mode: str, job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    prepare: dict[str, Callable[[dict[str, Any]], Timed]] = {
        "crawl": _crawl,
        "scan": _scan,
        "anchor": _anchor,
    }
    timed = prepare[mode](job)
    rss_before = _rss_mib()
    cpu_self, cpu_kids = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    with _RssSampler() as sampler:
        started = time.perf_counter()
        detail = timed()
        seconds = time.perf_counter() - started
    handled = int(detail.pop("images"))
    result = Run(
        mode=mode,
        images=handled,
        seconds=seconds,
        images_per_s=handled / seconds,
        peak_rss_mib=_peak_rss_mib(),
        peak_tree_rss_mib=max(sampler.peak_tree_mib, _peak_rss_mib()),
        rss_before_mib=rss_before,
        cpu_s=_cpu(resource.RUSAGE_SELF) - cpu_self,
        worker_cpu_s=_cpu(resource.RUSAGE_CHILDREN) - cpu_kids,
        server_cpu_s=0.0,
        detail=detail,
    )
    Path(job["result"]).write_text(json.dumps(asdict(result)))


class _RssSampler:
    """Peak RSS of this process and its children together, sampled every 20 ms."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.peak_tree_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        # Its CPU counts as the scan's: the children are listed every 25th sample only
        # (listing reads every process of the machine: ~6 % of a core every 20 ms)
        kids: list[psutil.Process] = []
        samples = 0
        while not self._stop.wait(0.02):
            if samples % 25 == 0:
                kids = self._process.children(recursive=True)
            samples += 1
            total = self._process.memory_info().rss
            for kid in kids:
                with suppress(psutil.Error):  # it may have just ended
                    total += kid.memory_info().rss
            self.peak_tree_mib = max(self.peak_tree_mib, total / 2**20)


def _rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mib() -> float:
    """This process's peak RSS. VmHWM, not getrusage: ru_maxrss survives exec, so a child
    would report the RSS of the parent (the site's image cache) it was forked from."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class _ForgetfulState:
    """A SourceState with nothing handled before and nothing kept (the crawl-alone run)."""

    def seen(self, key: str) -> bool:
        return False

    def validators(self, url: str) -> None:
        return None

    def save_validators(self, url: str, validators: object) -> None:
        pass


def _crawl(job: dict[str, Any]) -> Timed:
    from rempart.sources import catalog
    from rempart.sources.base import Candidate

    def timed() -> dict[str, Any]:
        candidates = problems = 0
        with catalog.opened("web", "forum", {**LOOPBACK, "recipe": job["recipe"]}) as source:
            for found in source.scan(_ForgetfulState()):
                if isinstance(found, Candidate):
                    candidates += 1
                else:
                    problems += 1
        return {"images": candidates, "problems": problems}

    return timed


def _scan(job: dict[str, Any]) -> Timed:
    from sqlalchemy import select

    from rempart.hashing import REGISTRATION_EXTRAS, Windows
    from rempart.intake import banks
    from rempart.jobs import scan as scan_module
    from rempart.jobs import watchlist
    from rempart.jobs.findings import list_findings
    from rempart.jobs.watchlist import get_source
    from rempart.matching.service import Matcher, QueryResult
    from rempart.sources import catalog
    from rempart.sources.base import Candidate, Problem, SourceState
    from rempart.store.database import Database
    from rempart.store.models import SeenMedia

    db = Database.open(job["database"])
    banks.create_bank(db, "victim")
    paths = [Path(p) for p in job["victims"]]
    extras = REGISTRATION_EXTRAS
    outcomes = list(banks.add_images(db, "victim", paths, label="demo victim", extras=extras))
    assert all(o.item_id is not None for o in outcomes)
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": job["recipe"]})

    # The time split: wrappers around the scan's dependencies (the source, the matcher, the
    # store's sessions) and around handing a batch to hashing; scan.py itself is unchanged.
    split = {"crawl": 0.0, "to hashing": 0.0, "match": 0.0, "store": 0.0}

    @contextmanager
    def timing(part: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            split[part] += time.perf_counter() - started

    class TimedMatcher(Matcher):
        def match(self, queries: Any, *, banks: Any = None) -> list[QueryResult]:
            with timing("match"):
                return super().match(queries, banks=banks)

    class TimedDatabase(Database):
        @contextmanager
        def session(self) -> Iterator[Any]:
            with timing("store"), super().session() as session:
                yield session

    class TimedSource:
        def __init__(self, inner: Any) -> None:
            self._inner = inner
            self.name = inner.name

        def scan(self, state: SourceState) -> Iterator[Candidate | Problem]:
            found = iter(self._inner.scan(state))
            while True:
                with timing("crawl"):
                    item = next(found, None)
                if item is None:
                    return
                yield item

    workers = getattr(scan_module, "_HashWorkers", None)  # absent before hashing moved out
    if workers is not None:
        submit = workers.submit

        def timed_submit(self: Any, data: list[bytes], windows: Windows) -> Any:
            with timing("to hashing"):  # and hashing here while the worker starts
                return submit(self, data, windows)

        workers.submit = timed_submit
    matcher = TimedMatcher(Database(db.engine))  # its own reads count as matching
    matcher.refresh()  # a long-running scanner has its banks loaded already

    def timed() -> dict[str, Any]:
        started = time.perf_counter()
        info = get_source(db, "forum")  # what run_scan does, with the wrappers
        with catalog.opened(info.kind, info.name, info.settings) as source:
            report = scan_module.scan_source(
                TimedDatabase(db.engine),
                matcher,
                info.id,
                TimedSource(source),
                hash_workers=job["hash_workers"],
            )
        split["waiting for hashes, the rest"] = time.perf_counter() - started - sum(split.values())
        pages_of: dict[str, set[str]] = {}
        for view in list_findings(db, source="forum"):
            pages_of.setdefault(view.media_url or "", set()).add(view.page_url or "")
        missed, elsewhere = [], []
        for page, media, alteration, embed in job["expected"]:
            if media not in pages_of:
                missed.append(f"{alteration} copy ({embed}) at {page}")
            elif page not in pages_of[media]:
                seen_on = ", ".join(sorted(pages_of[media]))
                elsewhere.append(f"{alteration} copy ({embed}) of {page} recorded at {seen_on}")
        with db.session() as session:
            urls = list(session.scalars(select(SeenMedia.key)))  # the full-size image URLs
        Path(job["urls"]).write_text(json.dumps(urls))
        return {
            "images": report.candidates,
            "matched": report.matched,
            "problems": report.problems,
            "expected": len(job["expected"]),
            "expected_found": len(job["expected"]) - len(missed),
            "all_expected_found": not missed,
            "missed": missed,
            "recorded_on_another_page": elsewhere,
            "split_s": split,
        }

    return timed


def _anchor(job: dict[str, Any]) -> Timed:
    import httpx
    import numpy as np
    import pdqhash
    from PIL import Image

    from rempart.fetch import FetchPolicy

    max_redirects = FetchPolicy().max_redirects  # as far as the real fetcher follows them

    def reference_bits(data: bytes) -> Any:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        bits, _quality = pdqhash.compute(rgb)
        return bits.astype(bool)

    bank = np.array([reference_bits(Path(p).read_bytes()) for p in job["victims"]])
    urls = json.loads(Path(job["urls"]).read_text())
    alteration_of = {media: alteration for _, media, alteration, _ in job["expected"]}

    def timed() -> dict[str, Any]:
        matched: set[str] = set()
        # Redirects followed, bounded as the real fetcher bounds them (an attachment's link
        # answers with a redirect to its file on the image host); no proxy from the
        # environment: loopback only.
        with httpx.Client(
            timeout=30, follow_redirects=True, max_redirects=max_redirects, trust_env=False
        ) as client:
            for url in urls:
                response = client.get(url)
                response.raise_for_status()
                if int((bank != reference_bits(response.content)).sum(axis=1).min()) <= RADIUS:
                    matched.update((url, str(response.url)))  # as linked, and the file itself
        missed = sorted(a for media, a in alteration_of.items() if media not in matched)
        return {
            "images": len(urls),
            "matched": len(matched),
            "expected": len(alteration_of),
            "expected_found": len(alteration_of) - len(missed),
            "missed_alterations": {a: missed.count(a) for a in dict.fromkeys(missed)},
        }

    return timed


if __name__ == "__main__":
    main()
