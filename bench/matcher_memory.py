"""Benchmark: a whole matcher's memory, load time and query cost with 1k, 10k and 100k
registered pictures, loaded from a SQLite store as `rempart match` and scans load it.

Usage: .venv/bin/python bench/matcher_memory.py [--items 1000,10000,100000] [--folder DIR]
       [--code DIR] [--templates T] [--limit-mib M] [--out NAME]

The stores are made once (kept in --folder, reused by later runs, so that two versions of the
code are measured on the same rows): `T` pictures from tests/matching/hard_copies.py are
registered with `bank add`'s default extras (crops, smoothed crops, grid cells, coarse grids,
local features) into a template store; a bank of N items then holds those T real items and
N - T synthetic ones, each a copy of a real item's rows (the same kinds, labels, qualities and
number of extra hashes) with random PDQ codes (as uniform as real PDQ hashes, so that the
indexes' buckets fill as they would), and local features synthesised from the real items'
descriptors (~8 of 256 bits flipped, random points: bench/local_features.py's way).

Each store is measured in a child process (its memory is the matcher's; `--code DIR` runs the
child on the checkout at DIR, for a before/after on the same store): `Matcher.refresh()`'s
wall and CPU seconds, the first query (which merges the feature index), then every query
(copies of the real items in four families, plain copies, unrelated pictures) through
`Matcher.match` one at a time: its wall time and thread CPU, and its output, kept to compare
versions. VmRSS growth and VmHWM (peak) are read from /proc; a child above --limit-mib of
resident memory is stopped (the machine is shared). Results: stdout and
bench/results/matcher_memory.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_path(code: Path) -> None:
    sys.path.insert(0, str(code / "src"))
    sys.path.insert(0, str(ROOT / "tests" / "matching"))  # the families' generator


_QUERIES = "queries.pickle"
_FAMILIES = ("crop-two-thirds", "rotated", "post-screenshot", "collage-2x2", "pixelated")
_CHUNK = 2_000


def _memory_mib() -> dict[str, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        name: round(int(fields[key].split()[0]) / 1024, 1)
        for name, key in (("rss_mib", "VmRSS"), ("peak_rss_mib", "VmHWM"))
    }


def _template(folder: Path, templates: int) -> None:
    """The real items (registered with `bank add`'s defaults) and the queries."""
    from hard_copies import DISTRACTORS, distractor, hard_copy, jpeg, original

    from rempart.hashing import REGISTRATION_EXTRAS, hash_image_bytes
    from rempart.intake import banks
    from rempart.matching.service import Matcher, Query
    from rempart.store.database import Database

    db = Database.open(f"sqlite:///{folder}/template.db")
    banks.create_bank(db, "victim")
    for s in range(templates):
        data = jpeg(original(10_000 + s), 90)
        hashes = hash_image_bytes(data, windows=REGISTRATION_EXTRAS)
        banks.register_hashes(db, "victim", hashes, source=Path(f"original-{s}"))
    matcher = Matcher(db)
    wanted = matcher.query_windows()
    pictures = [jpeg(original(10_000 + s), 80) for s in range(templates)]
    pictures += [hard_copy(f, original(10_000 + s), s) for s in range(templates) for f in _FAMILIES]
    pictures += [distractor(kind, s) for s in range(max(1, templates // 5)) for kind in DISTRACTORS]
    queries = [
        Query.from_image(hash_image_bytes(d, dihedral=True, windows=wanted)) for d in pictures
    ]
    with open(folder / _QUERIES, "wb") as out:
        pickle.dump(queries, out)
    db.dispose()


def _build(folder: Path, items: int, templates: int) -> Path:
    """A store of `items` pictures: the real ones, then synthetic copies of their rows."""
    import numpy as np
    from sqlalchemy import insert, select

    from rempart.hashing.features import LocalFeatures
    from rempart.intake import banks
    from rempart.store.database import Database
    from rempart.store.models import Item, ItemFeatures, ItemSignal

    path = folder / f"bank-{items}.db"
    if path.exists():
        return path
    if not (folder / _QUERIES).exists():
        _template(folder, templates)
    template = Database.open(f"sqlite:///{folder}/template.db")
    with template.session() as session:
        real = session.execute(select(Item.id, Item.pdq, Item.quality).order_by(Item.id)).all()
        signals = session.execute(
            select(
                ItemSignal.item_id,
                ItemSignal.kind,
                ItemSignal.label,
                ItemSignal.pdq,
                ItemSignal.quality,
                ItemSignal.at_s,
            ).order_by(ItemSignal.id)
        ).all()
        stored = dict(session.execute(select(ItemFeatures.item_id, ItemFeatures.data)).all())
    template.dispose()
    per_item: dict[int, list[tuple[object, ...]]] = {}
    for row in signals:
        per_item.setdefault(row[0], []).append(tuple(row[1:]))
    features = {i: LocalFeatures.from_bytes(d) for i, d in stored.items()}
    pool = np.concatenate([f.descriptors for f in features.values()])
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = Database.open(f"sqlite:///{partial}")
    bank_id = banks.create_bank(db, "victim").id
    rng = np.random.default_rng(2026)
    now = datetime.now(UTC)
    next_signal = 1
    for start in range(0, items, _CHUNK):
        item_rows, signal_rows, feature_rows = [], [], []
        for i in range(start, min(items, start + _CHUNK)):
            source_id, source_pdq, quality = real[i % len(real)]
            pdq = source_pdq if i < len(real) else rng.bytes(32).hex()
            item_rows.append(
                {
                    "id": i + 1,
                    "bank_id": bank_id,
                    "pdq": pdq,
                    "quality": quality,
                    "sha256": rng.bytes(32).hex(),
                    "origin": "file",
                    "created_at": now,
                }
            )
            for kind, label, code, q, at_s in per_item.get(source_id, []):
                signal_rows.append(
                    {
                        "id": next_signal,
                        "item_id": i + 1,
                        "kind": kind,
                        "label": label,
                        "pdq": code if i < len(real) else rng.bytes(32).hex(),
                        "quality": q,
                        "at_s": at_s,
                    }
                )
                next_signal += 1
            source = features.get(source_id)
            if source is None:
                continue
            if i < len(real):
                data = stored[source_id]
            else:
                n = len(source)
                picks = pool[rng.integers(0, len(pool), n)]
                flips = np.bitwise_and.reduce(rng.integers(0, 256, (5, n, 32), np.uint8), axis=0)
                points = rng.uniform(0, 512, (n, 2)).astype(np.float32)
                data = LocalFeatures(512, 384, points, picks ^ flips).to_bytes()
            feature_rows.append({"item_id": i + 1, "points": len(source), "data": data})
        with db.session() as session:
            session.execute(insert(Item), item_rows)
            session.execute(insert(ItemSignal), signal_rows)
            if feature_rows:
                session.execute(insert(ItemFeatures), feature_rows)
        print(f"  built {min(items, start + _CHUNK)} of {items}", file=sys.stderr, flush=True)
    db.dispose()
    partial.rename(path)  # a crashed build leaves no half store behind
    return path


def _measure(store: Path, queries_file: Path) -> dict[str, object]:
    """In this (child) process: the matcher's load, its memory, and every query's cost."""
    from rempart.matching.service import Matcher
    from rempart.store.database import Database

    with open(queries_file, "rb") as inputs:
        queries = pickle.load(inputs)
    before = _memory_mib()["rss_mib"]
    db = Database.open(f"sqlite:///{store}", migrate=False)
    started, cpu = time.perf_counter(), time.process_time()
    matcher = Matcher(db)
    matcher.refresh()
    load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    loaded = _memory_mib()
    started, cpu = time.perf_counter(), time.process_time()
    matcher.match(queries[-1:], refresh=False)  # an unrelated picture: merges the feature index
    first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    ready = _memory_mib()
    walls, cpus, outputs = [], [], []
    for query in queries:
        started, cpu = time.perf_counter(), time.thread_time()
        (result,) = matcher.match([query], refresh=False)
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - started)
        outputs.append([m.to_json() for m in (*result.matches, *result.suppressed)])
    (bank,) = matcher._banks.values()
    import numpy as np

    found = sum(1 for out in outputs if out)
    return {
        "items": len(bank.features),
        "extra_hashes": sum(len(ix) for ix in bank.slots.values()),
        "load_s": round(load_s, 2),
        "load_cpu_s": round(load_cpu, 2),
        "first_query_s": round(first_s, 2),
        "first_query_cpu_s": round(first_cpu, 2),
        "loaded_rss_growth_mib": round(loaded["rss_mib"] - before, 1),
        "rss_growth_mib": round(ready["rss_mib"] - before, 1),
        "peak_rss_mib": ready["peak_rss_mib"],
        "rss_mib": ready["rss_mib"],
        "multi_index_mib": round(sum(ix.memory_bytes() for ix in bank.slots.values()) / 2**20, 1),
        "feature_index_mib": round(bank.features.nbytes / 2**20, 1),
        "query_ms_median": round(1000 * float(np.median(walls)), 2),
        "query_ms_p95": round(1000 * float(np.percentile(walls, 95)), 2),
        "query_cpu_ms_median": round(1000 * float(np.median(cpus)), 2),
        "query_cpu_ms_p95": round(1000 * float(np.percentile(cpus, 95)), 2),
        "queries": len(queries),
        "queries_matched": found,
        "outputs": outputs,
    }


def _child(store: Path, folder: Path, code: Path, limit_mib: float) -> dict[str, object]:
    """Measure a store in a child process, stopped when its memory passes `limit_mib`."""
    command = [sys.executable, __file__, "--measure", str(store), "--folder", str(folder)]
    command += ["--code", str(code)]
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(command, stdout=out, text=True)
        status = Path(f"/proc/{child.pid}/status")
        while child.poll() is None:
            try:
                text = status.read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("VmRSS:") and int(line.split()[1]) / 1024 > limit_mib:
                    child.kill()
            time.sleep(0.2)
        if child.returncode != 0:
            return {"error": f"child exited {child.returncode} (memory limit {limit_mib} MiB?)"}
        out.seek(0)
        result: dict[str, object] = json.loads(out.read())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", default="1000,10000,100000")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "rempart-mem")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout measured")
    parser.add_argument("--templates", type=int, default=40, help="real registered pictures")
    parser.add_argument("--limit-mib", type=float, default=7_000)
    parser.add_argument("--build-only", action="store_true", help="make the stores, measure none")
    parser.add_argument("--out", default="matcher_memory.json", help="under bench/results/")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # a store's child
    args = parser.parse_args()
    _setup_path(args.code.resolve())
    if args.measure is not None:
        print(json.dumps(_measure(args.measure, args.folder / _QUERIES)))
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"code": str(args.code.resolve())}
    for items in (int(n) for n in args.items.split(",") if n):
        store = _build(args.folder, items, args.templates)
        if args.build_only:
            continue
        result = _child(store, args.folder, args.code.resolve(), args.limit_mib)
        results[str(items)] = result
        shown = {k: v for k, v in result.items() if k != "outputs"}
        print(f"  {items:>7} pictures: {shown}", flush=True)
    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    (folder / args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
