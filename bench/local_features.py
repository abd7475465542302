"""Benchmark: the local-feature stage (rempart.matching.features): recall on the families that
whole-picture hashes miss, false matches on hard distractors, and the cost of a query as the
bank grows.

Usage: .venv/bin/python bench/local_features.py [--originals N] [--distractors M]
       [--scales 1000,10000,100000] [--pool P]

Recall and false matches go through the real pipeline: a SQLite store, `bank add`'s default
extras (crops, grid cells, local features), `rempart match`'s query (8 variants, the windows
the banks call for, local features), families and distractors from tests/matching/
hard_copies.py with random parameters. Two paths side by side on the same copies:
  * pdq-only: the matcher as it was before the local stage (PDQ windows and registered crops,
    every kind at its calibrated threshold, no corroboration asked);
  * rempart: with the local stage and the corroboration rule (matching/service.py).

Query cost at 1k, 10k and 100k registered pictures: real features for a few hundred
generated originals, the rest synthesised from a pool of real descriptors (drawn from
generated pictures of every style, each copied with ~8 of its 256 bits flipped, placed at
random points): the buckets then fill much as real ORB descriptors fill them, which is
what the index's cost depends on, but synthetic items are never geometrically consistent
(they are not pictures). Stated in the output.

Times are the measuring thread's CPU time (time.thread_time), so that a busy machine's
waiting is not counted; OpenCV is held to one thread (cv2.setNumThreads(1)), as a scan's
hash worker would use it. Results go to stdout and bench/results/local_features.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests" / "matching"))  # the families' generator

import numpy as np  # noqa: E402
from hard_copies import DISTRACTORS, FAMILIES, distractor, hard_copy, jpeg, original  # noqa: E402

from rempart.hashing import REGISTRATION_EXTRAS, hash_image_bytes  # noqa: E402
from rempart.hashing.decode import decode_luma  # noqa: E402
from rempart.hashing.features import LocalFeatures, extract_features  # noqa: E402
from rempart.intake import banks  # noqa: E402
from rempart.matching import service  # noqa: E402
from rempart.matching.features import FeatureIndex, verify  # noqa: E402
from rempart.matching.service import Matcher, Query  # noqa: E402
from rempart.samples import STYLES, neutral_image  # noqa: E402
from rempart.store.database import Database  # noqa: E402

EXTRAS = REGISTRATION_EXTRAS


def _features(data: bytes) -> LocalFeatures:
    return extract_features(decode_luma(data).luma)


def recall_and_false_matches(originals: int, distractors: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database.open(f"sqlite:///{folder}/bench.db")
        banks.create_bank(db, "victim")
        paths = []
        for seed in range(originals):
            path = Path(folder) / f"{seed}.jpg"
            path.write_bytes(jpeg(original(seed), 90))
            paths.append(path)
        started = time.thread_time()
        outcomes = list(banks.add_images(db, "victim", paths, extras=EXTRAS))
        register_s = (time.thread_time() - started) / originals
        items = [o.item_id for o in outcomes]
        matcher = Matcher(db)
        windows = matcher.query_windows()
        rng = np.random.default_rng(12)
        plain = service._corroborated

        def both(data: bytes) -> tuple[set[int], set[int], float, float]:
            hashed = hash_image_bytes(data, dihedral=True, windows=windows)
            query = Query.from_image(hashed)
            started = time.thread_time()
            (result,) = matcher.match([query])
            with_local = time.thread_time() - started
            service._corroborated = lambda bank, query, matches: matches  # type: ignore[assignment]
            try:
                started = time.thread_time()
                (before,) = matcher.match([query])
                pdq_only = time.thread_time() - started
            finally:
                service._corroborated = plain  # type: ignore[assignment]
            return (
                {m.item for m in before.matches},
                {m.item for m in result.matches},
                pdq_only,
                with_local,
            )

        families: dict[str, dict[str, float]] = {}
        match_s: list[float] = []
        pdq_s: list[float] = []
        for family in FAMILIES:
            found_pdq = found = 0
            for seed, item in enumerate(items):
                copy = hard_copy(family, original(seed), int(rng.integers(10**9)))
                before, after, pdq_only, with_local = both(copy)
                found_pdq += item in before
                found += item in after
                pdq_s.append(pdq_only)
                match_s.append(with_local)
            families[family] = {
                "pdq_only": round(found_pdq / len(items), 3),
                "rempart": round(found / len(items), 3),
            }
            shares = families[family]
            print(
                f"  {family:18s} pdq-only {shares['pdq_only']:.3f}  rempart {shares['rempart']:.3f}"
            )
        false_pdq = false = 0
        per_kind = distractors // len(DISTRACTORS)
        for kind in DISTRACTORS:
            for _ in range(per_kind):
                before, after, _a, _b = both(distractor(kind, int(rng.integers(10**9))))
                false_pdq += len(before)
                false += len(after)
                if after:
                    print(f"  FALSE MATCH: {kind} -> {sorted(after)}")
        print(
            f"  false matches over {per_kind * len(DISTRACTORS)} distractors x {len(items)} "
            f"originals: pdq-only {false_pdq}, rempart {false}"
        )
        db.dispose()
    return {
        "originals": originals,
        "distractors": per_kind * len(DISTRACTORS),
        "pairs": per_kind * len(DISTRACTORS) * len(items),
        "families": families,
        "false_matches": {"pdq_only": false_pdq, "rempart": false},
        "register_s_per_item": round(register_s, 4),
        "match_ms_median": {
            "pdq_only": round(1000 * float(np.median(pdq_s)), 2),
            "rempart": round(1000 * float(np.median(match_s)), 2),
        },
    }


_COST_INPUTS = "cost_inputs.pkl"


def _cost_inputs(folder: Path, pool_pictures: int) -> None:
    """The real originals, the pool of real descriptors and the queries, made once and handed
    to each scale's child process."""
    real = [_features(jpeg(original(10_000 + s), 90)) for s in range(200)]
    pool = np.concatenate(
        [
            _features(
                jpeg(neutral_image(20_000 + s, 640, 480, STYLES[s % len(STYLES)]))
            ).descriptors
            for s in range(pool_pictures)
        ]
    )
    print(f"  pool: {len(pool)} real descriptors from {pool_pictures} generated pictures")
    queries = [
        _features(hard_copy(family, original(10_000 + s), s))
        for s in range(20)
        for family in ("crop-two-thirds", "rotated")
    ] + [_features(distractor(kind, s)) for s in range(4) for kind in DISTRACTORS]
    with open(folder / _COST_INPUTS, "wb") as out:
        pickle.dump((real, pool, queries), out)


class _Bank:
    """The registered pictures of a cost run: the real ones, and synthetic ones made again
    from their number whenever asked (as a store would give them back)."""

    def __init__(self, real: list[LocalFeatures], pool: np.ndarray) -> None:
        self.real, self.pool = real, pool
        self.loads = 0

    def features(self, item: int) -> LocalFeatures:
        self.loads += 1
        if item < len(self.real):
            return self.real[item]
        rng = np.random.default_rng((5, item))
        picks = self.pool[rng.integers(0, len(self.pool), 500)]
        flips = np.packbits(rng.random((500, 256)) < 8 / 256, axis=1)  # ~8 bits each
        points = rng.uniform(0, 512, (500, 2)).astype(np.float32)
        return LocalFeatures(512, 384, points, picks ^ flips)


def _memory_mib() -> dict[str, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        name: round(int(fields[key].split()[0]) / 1024, 1)
        for name, key in (("rss_mib", "VmRSS"), ("peak_rss_mib", "VmHWM"))
    }


def _cost_at(folder: Path, scale: int) -> dict[str, object]:
    """One scale's query cost, in this (child) process: its memory is the index's."""
    with open(folder / _COST_INPUTS, "rb") as inputs:
        real, pool, queries = pickle.load(inputs)
    bank = _Bank(real, pool)
    before = _memory_mib()["rss_mib"]
    try:
        index = FeatureIndex(bank.features)
    except TypeError:  # the index before it read features back (kept them all)
        index = FeatureIndex()  # type: ignore[call-arg]
    build = 0.0  # the index's own time: not that of making the synthetic items
    for item in range(scale):
        features = bank.features(item)
        started = time.thread_time()
        index.add(item, features)
        build += time.thread_time() - started
    started = time.thread_time()
    index.candidates(real[0])  # merges the additions
    build += time.thread_time() - started
    built = _memory_mib()
    bank.loads = 0
    candidates_s, verify_s, counts, found, outcomes = [], [], [], 0, []
    for i, query in enumerate(queries):
        started = time.thread_time()
        chosen = index.candidates(query)
        candidates_s.append(time.thread_time() - started)
        started = time.thread_time()
        checks = []
        for item in chosen:
            reference = index.features_of(item)
            check = verify(query, reference) if reference is not None else None
            checks.append(None if check is None else [check.inliers, round(check.scale, 4)])
            if check is not None and i < 40:
                found += item == i // 2
        verify_s.append(time.thread_time() - started)
        counts.append(len(chosen))
        outcomes.append([chosen, checks])
    return {
        "build_s": round(build, 1),
        "candidates_ms_median": round(1000 * float(np.median(candidates_s)), 2),
        "candidates_ms_p95": round(1000 * float(np.percentile(candidates_s, 95)), 2),
        "verify_ms_median": round(1000 * float(np.median(verify_s)), 2),
        "verify_ms_p95": round(1000 * float(np.percentile(verify_s, 95)), 2),
        "candidates_mean": round(float(np.mean(counts)), 1),
        "copies_found_of_40": found,
        "features_read": bank.loads,
        "index_mib": round(index.nbytes / 2**20, 1),
        "rss_growth_mib": round(built["rss_mib"] - before, 1),
        **built,
        "outcomes": outcomes,
    }


def query_cost(scales: list[int], pool_pictures: int) -> dict[str, object]:
    extraction = []
    sample = jpeg(original(1), 85)
    luma = decode_luma(sample).luma
    for _ in range(30):
        started = time.thread_time()
        extract_features(luma)
        extraction.append(time.thread_time() - started)
    out: dict[str, object] = {
        "extract_ms_median": round(1000 * float(np.median(extraction)), 2),
        "scales": {},
    }
    print(f"  extraction (1024x683 JPEG's luma): {out['extract_ms_median']} ms")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        _cost_inputs(folder, pool_pictures)
        for scale in scales:
            # a child process a scale: its resident memory is the index's and the inputs'
            child = subprocess.run(
                [sys.executable, __file__, "--cost-at", str(scale), "--inputs", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(child.stdout)
            out["scales"][str(scale)] = result  # type: ignore[index]
            shown = {k: v for k, v in result.items() if k != "outcomes"}
            print(f"  {scale:>7} pictures: {shown}")
    return out


def matcher_start(items: int) -> dict[str, object]:
    """A Matcher's first refresh, and its first search (which merges what was loaded), over a
    SQLite bank of `items` pictures' local features (the first 200 real, the others synthetic;
    no PDQ hashes nor extra hashes: this stage alone), in a child process: CPU seconds and
    resident memory."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        _cost_inputs(folder, 50)
        url = f"sqlite:///{folder}/start.db"
        child = subprocess.run(
            [sys.executable, __file__, "--start-at", str(items), "--inputs", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, object] = json.loads(child.stdout)
        print(f"  matcher start at {items} pictures ({url}): {result}")
    return result


def _start_at(folder: Path, items: int) -> dict[str, object]:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from rempart.store.models import Item, ItemFeatures

    with open(folder / _COST_INPUTS, "rb") as inputs:
        real, pool, _queries = pickle.load(inputs)
    bank = _Bank(real, pool)
    db = Database.open(f"sqlite:///{folder}/start.db")
    bank_id = banks.create_bank(db, "victim").id
    now = datetime.now(UTC)
    for start in range(0, items, 5_000):
        chunk = range(start, min(items, start + 5_000))
        with db.session() as session:
            session.execute(
                insert(Item),
                [
                    {
                        "id": i + 1,
                        "bank_id": bank_id,
                        "sha256": f"{i:064x}",
                        "origin": "file",
                        "created_at": now,
                    }
                    for i in chunk
                ],
            )
            session.execute(
                insert(ItemFeatures),
                [
                    {"item_id": i + 1, "points": 500, "data": bank.features(i).to_bytes()}
                    for i in chunk
                ],
            )
    db.dispose()
    del bank
    before = _memory_mib()["rss_mib"]
    db = Database.open(f"sqlite:///{folder}/start.db")
    started = time.process_time()
    matcher = Matcher(db)
    matcher.refresh()
    cpu = time.process_time() - started
    (loaded,) = matcher._banks.values()
    started = time.process_time()
    loaded.features.candidates(real[0])  # the first search merges what was loaded
    first = time.process_time() - started
    return {
        "items": items,
        "indexed": len(loaded.features),
        "refresh_cpu_s": round(cpu, 2),
        "first_search_cpu_s": round(first, 2),
        "rss_growth_mib": round(_memory_mib()["rss_mib"] - before, 1),
        **_memory_mib(),
    }


def main() -> None:
    import cv2

    cv2.setNumThreads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=60)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--scales", default="1000,10000,100000")
    parser.add_argument("--pool", type=int, default=400, help="pictures giving real descriptors")
    parser.add_argument(
        "--start", type=int, default=0, help="also time a Matcher's start at this many pictures"
    )
    parser.add_argument("--cost-only", action="store_true", help="skip recall and false matches")
    parser.add_argument("--cost-at", type=int, help=argparse.SUPPRESS)  # a scale's child
    parser.add_argument("--start-at", type=int, help=argparse.SUPPRESS)  # the start's child
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cost_at is not None:
        print(json.dumps(_cost_at(args.inputs, args.cost_at)))
        return
    if args.start_at is not None:
        print(json.dumps(_start_at(args.inputs, args.start_at)))
        return
    results: dict[str, object] = {}
    if not args.cost_only:
        print("recall and false matches (pipeline, SQLite):")
        results["recall"] = recall_and_false_matches(args.originals, args.distractors)
    scales = [int(s) for s in args.scales.split(",") if s]
    if scales:
        print("query cost (index and verification, one thread):")
        results["cost"] = query_cost(scales, args.pool)
    if args.start:
        print("matcher start (SQLite):")
        results["start"] = matcher_start(args.start)
    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    (folder / "local_features.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
