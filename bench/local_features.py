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


def query_cost(scales: list[int], pool_pictures: int) -> dict[str, object]:
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
    rng = np.random.default_rng(5)
    queries = [
        _features(hard_copy(family, original(10_000 + s), s))
        for s in range(20)
        for family in ("crop-two-thirds", "rotated")
    ] + [_features(distractor(kind, s)) for s in range(4) for kind in DISTRACTORS]
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
    for scale in scales:
        index = FeatureIndex()
        started = time.thread_time()
        for item in range(scale):
            if item < len(real):
                index.add(item, real[item])
                continue
            picks = pool[rng.integers(0, len(pool), 500)]
            flips = np.packbits(rng.random((500, 256)) < 8 / 256, axis=1)  # ~8 bits each
            points = rng.uniform(0, 512, (500, 2)).astype(np.float32)
            index.add(item, LocalFeatures(512, 384, points, picks ^ flips))
        index.candidates(real[0])  # merges the additions
        build = time.thread_time() - started
        candidates_s, verify_s, counts, found = [], [], [], 0
        for i, query in enumerate(queries):
            started = time.thread_time()
            chosen = index.candidates(query)
            candidates_s.append(time.thread_time() - started)
            started = time.thread_time()
            for item in chosen:
                reference = index.features_of(item)
                if reference is not None and verify(query, reference) and i < 40:
                    found += item == i // 2
            verify_s.append(time.thread_time() - started)
            counts.append(len(chosen))
        result = {
            "build_s": round(build, 1),
            "candidates_ms_median": round(1000 * float(np.median(candidates_s)), 2),
            "candidates_ms_p95": round(1000 * float(np.percentile(candidates_s, 95)), 2),
            "verify_ms_median": round(1000 * float(np.median(verify_s)), 2),
            "verify_ms_p95": round(1000 * float(np.percentile(verify_s, 95)), 2),
            "candidates_mean": round(float(np.mean(counts)), 1),
            "copies_found_of_40": found,
            "index_mib": round(index.nbytes / 2**20, 1),
        }
        out["scales"][str(scale)] = result  # type: ignore[index]
        print(f"  {scale:>7} pictures: {result}")
    return out


def main() -> None:
    import cv2

    cv2.setNumThreads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=60)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--scales", default="1000,10000,100000")
    parser.add_argument("--pool", type=int, default=400, help="pictures giving real descriptors")
    args = parser.parse_args()
    print("recall and false matches (pipeline, SQLite):")
    results: dict[str, object] = {
        "recall": recall_and_false_matches(args.originals, args.distractors)
    }
    print("query cost (index and verification, one thread):")
    results["cost"] = query_cost([int(s) for s in args.scales.split(",")], args.pool)
    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    (folder / "local_features.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
