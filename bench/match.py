"""Benchmark: exact Hamming range search (radius 31) over a bank of random 256-bit codes.

Usage: .venv/bin/python bench/match.py [--sizes 1000000,10000000] [--images N] [--quick]

Rempart's MultiIndex (1 and 2 threads) against two faiss anchors: IndexBinaryFlat (brute force)
and IndexBinaryMultiHash(256, 16 tables, 16 bits) with nflip=1, the setting under which it is
exact for radius 31. A query image is 8 codes (its 8 dihedral variants); about 10% of the images
carry a planted true match (a bank code with 0..31 random bit flips). Each index is built and
timed in a fresh subprocess so that its RSS increase is its own. faiss range search is strict
(distance < radius; checked at start), so it is asked for radius 32. The results of all three are
compared on the queries each one ran. Results go to stdout and to bench/results/match.json.
"""

from __future__ import annotations

import os

# Before numpy loads: no BLAS/OpenMP worker pools spinning beside the threads measured here.
# The faiss workers get their OpenMP threads back explicitly.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

RESULTS = ROOT / "bench" / "results" / "match.json"
RADIUS = 31
VARIANTS = 8  # codes a query image
PLANTED_SHARE = 0.10
SMALL_BATCH = 500  # images a call, for the "small batches" row
LATENCY_IMAGES = 50  # images searched one at a time for the latency row
Results = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


# ---------------------------------------------------------------------------------------------
# Workers: one index each, in a fresh process


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _save(path: Path, q: NDArray[Any], ids: NDArray[Any], dist: NDArray[Any]) -> None:
    np.savez(path, q=q.astype(np.int64), ids=ids.astype(np.int64), dist=dist.astype(np.int64))


def _worker_rempart(
    bank: NDArray[np.uint8], queries: NDArray[np.uint8], out: Path
) -> dict[str, Any]:
    from rempart.matching import MultiIndex

    ids = np.arange(bank.shape[0], dtype=np.int64)
    rss0 = _rss()
    t0 = time.perf_counter()
    index = MultiIndex()
    index.add(ids, bank)
    build = time.perf_counter() - t0
    rss1 = _rss()
    images = queries.shape[0] // VARIANTS
    index.search(queries[: 64 * VARIANTS], RADIUS, threads=2)  # warm the code paths
    timings: dict[str, float] = {}
    result = None
    for threads in (1, 2):
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            got = index.search(queries, RADIUS, threads=threads)
            best = min(best, time.perf_counter() - t0)
            if result is None:
                result = got
            elif not (
                np.array_equal(got.query_index, result.query_index)
                and np.array_equal(got.item_id, result.item_id)
                and np.array_equal(got.distance, result.distance)
            ):
                raise SystemExit("rempart: results differ between runs or thread counts")
        timings[f"threads_{threads}"] = images / best
    t0 = time.perf_counter()
    for start in range(0, images, SMALL_BATCH):
        rows = queries[start * VARIANTS : (start + SMALL_BATCH) * VARIANTS]
        index.search(rows, RADIUS, threads=2)
    timings["small_batches_2"] = images / (time.perf_counter() - t0)
    latencies = []
    for image in range(min(LATENCY_IMAGES, images)):
        rows = queries[image * VARIANTS : (image + 1) * VARIANTS]
        t0 = time.perf_counter()
        index.search(rows, RADIUS, threads=2)
        latencies.append(time.perf_counter() - t0)
    timings["latency_ms"] = 1000 * statistics.median(latencies)
    assert result is not None
    _save(out, result.query_index, result.item_id, result.distance)
    return {
        "build_s": build,
        "rss_mib": (rss1 - rss0) / 2**20,
        "memory_bytes_mib": index.memory_bytes() / 2**20,
        "images_timed": images,
        "segments": len(index.segments()),
        **timings,
    }


def _faiss_range(index: Any, queries: NDArray[np.uint8]) -> Results:
    lims, dist, labels = index.range_search(queries, RADIUS + 1)  # strict: d < 32 == d <= 31
    counts = np.diff(lims.astype(np.int64))
    q = np.repeat(np.arange(queries.shape[0], dtype=np.int64), counts)
    return q, labels.astype(np.int64), dist.astype(np.int64)


def _worker_faiss(
    kind: str, bank: NDArray[np.uint8], queries: NDArray[np.uint8], out: Path
) -> dict[str, Any]:
    import faiss

    faiss.omp_set_num_threads(psutil.cpu_count(logical=True) or 1)
    rss0 = _rss()
    t0 = time.perf_counter()
    if kind == "flat":
        index = faiss.IndexBinaryFlat(256)
    else:
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1  # probe each 16-bit substring at distance <= 1: exact up to 31
    index.add(bank)
    build = time.perf_counter() - t0
    rss1 = _rss()
    index.range_search(queries[:VARIANTS], RADIUS + 1)  # warm
    t0 = time.perf_counter()
    q, ids, dist = _faiss_range(index, queries)
    elapsed = time.perf_counter() - t0
    _save(out, q, ids, dist)
    images = queries.shape[0] // VARIANTS
    return {
        "build_s": build,
        "rss_mib": (rss1 - rss0) / 2**20,
        "images_timed": images,
        "images_per_s": images / elapsed,
        "omp_threads": faiss.omp_get_max_threads(),
    }


def worker(name: str, data: Path, images: int) -> None:
    bank = np.load(data / "bank.npy")
    queries = np.ascontiguousarray(np.load(data / "queries.npy")[: images * VARIANTS])
    out = data / f"{name}.npz"
    if name == "rempart":
        report = _worker_rempart(bank, queries, out)
    else:
        report = _worker_faiss(name.removeprefix("faiss-"), bank, queries, out)
    print(json.dumps(report))


def run_worker(name: str, data: Path, images: int) -> dict[str, Any]:
    env = dict(os.environ)
    if name.startswith("faiss"):
        env["OMP_NUM_THREADS"] = str(psutil.cpu_count(logical=True) or 1)
    cmd = [sys.executable, __file__, "--worker", name, "--data", str(data), "--images", str(images)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} worker failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# ---------------------------------------------------------------------------------------------
# Driver


def make_data(
    n: int, images: int, data: Path, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Bank and query files; returns (query row, bank id) of the planted matches."""
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, (images * VARIANTS, 32), dtype=np.uint8)
    planted_images = rng.choice(images, max(1, round(images * PLANTED_SHARE)), replace=False)
    rows = planted_images * VARIANTS + rng.integers(0, VARIANTS, planted_images.size)
    targets = rng.integers(0, n, planted_images.size)
    for row, target in zip(rows.tolist(), targets.tolist(), strict=True):
        code = np.unpackbits(bank[target])
        flips = rng.choice(256, int(rng.integers(0, RADIUS + 1)), replace=False)
        code[flips] ^= 1
        queries[row] = np.packbits(code)
    np.save(data / "bank.npy", bank)
    np.save(data / "queries.npy", queries)
    return rows.astype(np.int64), targets.astype(np.int64)


def load_results(path: Path, rows: int) -> Results:
    with np.load(path, allow_pickle=False) as z:
        q, ids, dist = z["q"], z["ids"], z["dist"]
    keep = q < rows
    q, ids, dist = q[keep], ids[keep], dist[keep]
    order = np.lexsort((ids, dist, q))
    return q[order], ids[order], dist[order]


def compare(a: Results, b: Results) -> str:
    if all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)):
        return f"OK ({a[0].size} matches)"
    set_a = set(zip(*(x.tolist() for x in a), strict=True))
    set_b = set(zip(*(x.tolist() for x in b), strict=True))
    return f"DIFFER: {len(set_a - set_b)} only in rempart, {len(set_b - set_a)} only in faiss"


def check_faiss_strictness() -> str:
    import faiss

    rng = np.random.default_rng(0)
    code = rng.integers(0, 256, (1, 32), dtype=np.uint8)
    bits = np.unpackbits(code[0])
    bits[rng.choice(256, RADIUS, replace=False)] ^= 1
    query = np.packbits(bits)[None]
    index = faiss.IndexBinaryFlat(256)
    index.add(code)
    at_r = int(np.diff(index.range_search(query, RADIUS)[0])[0])
    at_r1 = int(np.diff(index.range_search(query, RADIUS + 1)[0])[0])
    if (at_r, at_r1) != (0, 1):
        raise SystemExit("faiss range_search is not strict as assumed: fix the radius mapping")
    return f"faiss range_search is strict: a code at distance {RADIUS} needs radius {RADIUS + 1}"


def bench_size(n: int, images: int, seed: int) -> dict[str, Any]:
    flat_images = 50 if n > 2_000_000 else 200
    mih_images = min(images, 300 if n > 2_000_000 else 2000)
    with tempfile.TemporaryDirectory(prefix="rempart-bench-") as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        planted_rows, planted_ids = make_data(n, images, data, seed)
        print(
            f"\n== {n:,} codes, {images:,} query images; data in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        reports = {
            "rempart": run_worker("rempart", data, images),
            "faiss-mih": run_worker("faiss-mih", data, mih_images),
            "faiss-flat": run_worker("faiss-flat", data, min(images, flat_images)),
        }
        rem = load_results(data / "rempart.npz", images * VARIANTS)
        mih = load_results(data / "faiss-mih.npz", mih_images * VARIANTS)
        flat = load_results(data / "faiss-flat.npz", min(images, flat_images) * VARIANTS)
    found = set(zip(rem[0].tolist(), rem[1].tolist(), strict=True))
    planted_found = sum(
        (r, i) in found for r, i in zip(planted_rows.tolist(), planted_ids.tolist(), strict=True)
    )
    checks = {
        "vs_faiss_mih": compare(load_prefix(rem, mih_images * VARIANTS), mih),
        "vs_faiss_flat": compare(load_prefix(rem, min(images, flat_images) * VARIANTS), flat),
        "planted_found": f"{planted_found}/{planted_rows.size}",
    }
    return {"codes": n, "images": images, "reports": reports, "checks": checks}


def load_prefix(res: Results, rows: int) -> Results:
    keep = res[0] < rows
    return res[0][keep], res[1][keep], res[2][keep]


def print_size(entry: dict[str, Any]) -> None:
    r, mih, flat = (entry["reports"][k] for k in ("rempart", "faiss-mih", "faiss-flat"))
    rows = [
        (
            "rempart MultiIndex, 1 thread",
            r["threads_1"],
            r["build_s"],
            r["rss_mib"],
            r["images_timed"],
        ),
        (
            "rempart MultiIndex, 2 threads",
            r["threads_2"],
            r["build_s"],
            r["rss_mib"],
            r["images_timed"],
        ),
        (
            f"rempart, 2 threads, {SMALL_BATCH}-image calls",
            r["small_batches_2"],
            r["build_s"],
            r["rss_mib"],
            r["images_timed"],
        ),
        (
            "faiss MultiHash 16x16 nflip=1",
            mih["images_per_s"],
            mih["build_s"],
            mih["rss_mib"],
            mih["images_timed"],
        ),
        (
            "faiss BinaryFlat",
            flat["images_per_s"],
            flat["build_s"],
            flat["rss_mib"],
            flat["images_timed"],
        ),
    ]
    print(
        f"{'index':42s} {'images/s':>10s} {'vs Flat':>8s} {'vs MIH':>8s} "
        f"{'build s':>8s} {'RSS MiB':>8s} {'timed':>6s}"
    )
    for name, ips, build, rss, timed in rows:
        print(
            f"{name:42s} {ips:10.1f} {ips / flat['images_per_s']:7.1f}x "
            f"{ips / mih['images_per_s']:7.2f}x {build:8.2f} {rss:8.0f} {timed:6d}"
        )
    print(
        f"rempart: one image (8 codes) a call, median latency {r['latency_ms']:.2f} ms; "
        f"{r['segments']} segments; memory_bytes {r['memory_bytes_mib']:.0f} MiB"
    )
    for key, value in entry["checks"].items():
        print(f"check {key}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="bank sizes, comma-separated")
    parser.add_argument("--images", type=int, default=8000, help="query images (8 codes each)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100k codes, 500 images")
    parser.add_argument("--seed", type=int, default=20240531)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.images)
        return
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    images = 500 if args.quick else args.images
    print(check_faiss_strictness())
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": __import__("faiss").__version__,
    }
    entries = []
    for n in sizes:
        entry = bench_size(n, images, args.seed + n)
        print_size(entry)
        entries.append(entry)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"radius": RADIUS, "machine": machine, "sizes": entries}, indent=2)
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
