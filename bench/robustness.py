"""Benchmark: are altered copies found, and do unrelated pictures stay unmatched, when
Rempart is used as an integrator uses it?

Usage: .venv/bin/python bench/robustness.py [--quick] [--originals N] [--distractors M]
       [--workers W] [--seed S] [--keep DIR] [--via-page]

Measured from outside, through the command line only: the originals are registered with
`rempart bank add` (its defaults: crops and grid cells) into a fresh SQLite store under a
temporary REMPART_HOME, and every copy and unrelated picture is checked with
`rempart match --json` at its defaults, W processes at once. Whatever `rempart match` does
(a new matching stage included) is what is measured; nothing here knows how it works.

The pictures and the alterations come from bench/corpus.py and bench/alterations.py, which
import nothing of Rempart's hashing or matching:
  * originals: the photographs bundled with scikit-image and matplotlib (no people), then
    drawn landscapes, still lifes, illustrations, textures, pages, screenshots, charts and
    rempart.samples pictures;
  * copies: each original once per family (20 families, random parameters drawn per copy,
    six of them the hard ones seen missed in the wild), saved as JPEG of quality 70-92;
  * unrelated pictures: other drawn pictures, hard ones (stripes, checkerboards, gradients,
    flat shapes, pages, screenshots), two other shots of each landscape and still life (same
    place and light, other objects, camera moved by 1-4%), and unrelated pictures altered by
    the same families, so that every window and crop meets unrelated content.

Reported: recall per family and its mean; false matches over every unrelated picture x
original pair, and copies matched to another original than their own; how matches were
made (method); the rate of `rempart match` (images/s, hashing included, W processes) and
of `bank add`. Plain PDQ is the anchor, in the same run: `pdqhash` of the original against
the 8 rotations and flips of the copy, distance <= 31.

`--via-page` registers the originals through the victim's offline page instead (hashed in
Chromium, imported with `rempart intake import`): the same recall is expected, the page
registering what `bank add` registers (hashes, extras and local features).

Results go to stdout and bench/results/robustness.json (robustness-page.json with
--via-page).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "src"))  # rempart.samples, for one kind of picture

import alterations  # noqa: E402
import corpus  # noqa: E402

PDQ_THRESHOLD = 31
Codes = npt.NDArray[np.uint8]  # rows of 32 bytes
FAMILY_NAMES = list(alterations.FAMILIES)


# ---------------------------------------------------------------------------- generating


def _jpeg(image: Image.Image, rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=int(rng.integers(70, 93)))
    return buf.getvalue()


def _pdq_dihedral(data: bytes) -> Codes:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    vectors, _qualities = pdqhash.compute_dihedral(rgb)
    return np.packbits(np.asarray(vectors, dtype=np.uint8), axis=1)


def _shard(index: int, shards: int) -> str:
    return f"shard-{index % shards}"


@dataclass(frozen=True)
class Made:
    name: str
    kind: str
    pdq: Codes  # the original's single hash, or a query's 8 variants


def make_original(job: tuple[Path, int, int, int]) -> tuple[Made, list[tuple[str, str, Made]]]:
    """Writes original `index` (PNG, as the victim holds it) and its 20 copies (JPEG)."""
    work, seed, index, shards = job
    picture = corpus.original(seed, index)
    picture.image.save(work / "originals" / f"{picture.name}.png")
    vector, _quality = pdqhash.compute(np.asarray(picture.image.convert("RGB")))
    made = Made(picture.name, picture.kind, np.packbits(np.asarray(vector, dtype=np.uint8))[None])
    copies = []
    for number, family in enumerate(FAMILY_NAMES):
        rng = np.random.default_rng([seed, 200, number, index])
        data = _jpeg(alterations.alter(family, picture.image, seed, index), rng)
        path = (
            work
            / "queries"
            / _shard(index * 31 + number, shards)
            / f"c{number:02d}-{picture.name}.jpg"
        )
        path.write_bytes(data)
        copies.append((path.name, family, Made(picture.name, picture.kind, _pdq_dihedral(data))))
    return made, copies


def make_distractor(job: tuple[Path, int, str, int, int]) -> tuple[str, Made]:
    """Writes one unrelated picture: plain, another shot of a series, or altered."""
    work, seed, what, index, shards = job
    rng = np.random.default_rng([seed, 300, index, len(what)])
    if what == "plain":
        picture = corpus.distractor(seed, index)
    elif what == "series":
        original, shot = divmod(index, 2)
        sibling = corpus.series_sibling(seed, original, shot)
        if sibling is None:
            raise ValueError(f"original {original} has no series")
        picture = sibling
    else:
        base = corpus.distractor(seed, 10**6 + index)
        family = FAMILY_NAMES[index % len(FAMILY_NAMES)]
        image = alterations.alter(family, base.image, seed + 1, index)
        picture = corpus.Picture(f"altered-{index:06d}", f"altered ({family})", image)
    data = _jpeg(picture.image, rng)
    name = f"d-{picture.name}.jpg"
    (work / "queries" / _shard(index * 7 + len(what), shards) / name).write_bytes(data)
    return name, Made(picture.name, picture.kind, _pdq_dihedral(data))


def series_originals(seed: int, originals: int) -> list[int]:
    return [i for i in range(originals) if corpus.series_sibling(seed, i, 0) is not None]


# ---------------------------------------------------------------------------- rempart CLI


def _rempart(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rempart", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def register(env: dict[str, str], folder: Path) -> tuple[dict[int, str], list[str], float]:
    """`rempart bank add` of every original: item id -> original name, the originals it
    refused (too flat for the bank's quality gate, as it would refuse them to anyone), and
    seconds."""
    created = _rempart(env, "bank", "create", "robust")
    if created.returncode:
        raise RuntimeError(created.stderr)
    started = time.perf_counter()
    added = _rempart(env, "bank", "add", "robust", str(folder), "--json")
    seconds = time.perf_counter() - started
    items, refused = {}, []
    for line in added.stdout.splitlines():
        row = json.loads(line)
        if "path" not in row:
            continue  # a summary line (the search of what scans saw before)
        if "error" in row:
            refused.append(Path(row["path"]).stem)
            print(f"  bank add refused {Path(row['path']).name}: {row['error']}")
        elif row.get("existing"):
            raise RuntimeError(f"two originals are the same picture: {line}")
        else:
            items[int(row["item"])] = Path(row["path"]).stem
    return items, refused, seconds


def register_via_page(env: dict[str, str], folder: Path) -> tuple[dict[int, str], list[str], float]:
    """As `register`, but the originals are hashed by the victim's offline page in Chromium
    (bench/intake_page.py drives it) and its hash file imported with `rempart intake import`:
    what a victim registers from her phone, to be found as well as what `bank add` registers."""
    import intake_page
    from rempart.intake.offline_page import write_page

    for args in (("case", "create", "robust-case"), ("bank", "create", "robust")):
        made = _rempart(env, *args)
        if made.returncode:
            raise RuntimeError(made.stderr)
    attached = _rempart(env, "case", "attach", "robust-case", "robust")
    if attached.returncode:
        raise RuntimeError(attached.stderr)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    started = time.perf_counter()
    with intake_page.chromium() as browser:
        run = intake_page.run_page(browser, write_page(folder.parent / "page"), files)
    if run.requests or run.errors:
        raise RuntimeError(f"the page made requests {run.requests} or failed {run.errors}")
    hash_file = folder.parent / "hashes.json"
    hash_file.write_bytes(run.hash_file)
    if len(json.loads(run.hash_file)["items"]) != len(files):
        raise RuntimeError("the page could not read every original")
    imported = _rempart(env, "intake", "import", "robust-case", str(hash_file), "--json")
    seconds = time.perf_counter() - started
    items, refused = {}, []
    for line in imported.stdout.splitlines():
        row = json.loads(line)
        if "index" not in row:
            continue  # the summary line
        name = files[int(row["index"]) - 1].stem
        if "error" in row:
            refused.append(name)
            print(f"  intake import refused {name}: {row['error']}")
        else:
            items[int(row["item"])] = name
    return items, refused, seconds


def match_all(
    env: dict[str, str], shards: list[Path]
) -> tuple[dict[str, list[dict[str, object]]], float]:
    """`rempart match --json` over each shard, one process per shard, all at once."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "rempart", "match", "--json", str(shard)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for shard in shards
    ]
    outputs = [p.communicate() for p in running]
    seconds = time.perf_counter() - started
    results: dict[str, list[dict[str, object]]] = {}
    for (stdout, stderr), process in zip(outputs, running, strict=True):
        if process.returncode not in (0, 1):
            raise RuntimeError(f"rempart match failed: {stderr[-2000:]}")
        for line in stdout.splitlines():
            row = json.loads(line)
            if "error" in row:
                raise RuntimeError(f"rempart match could not read a query: {line}")
            results[Path(row["path"]).name] = row["matches"]
    return results, seconds


# ---------------------------------------------------------------------------- evaluating


def hamming(a: Codes, b: Codes) -> npt.NDArray[np.int16]:
    xor = np.bitwise_xor(a[:, np.newaxis, :], b[np.newaxis, :, :])
    return np.bitwise_count(xor).sum(axis=2, dtype=np.int16)


@dataclass
class Tally:
    found: int = 0
    total: int = 0
    pdq: int = 0
    wrong: int = 0  # matched another original than its own
    methods: Counter[str] = field(default_factory=Counter)

    def recall(self) -> float:
        return self.found / max(self.total, 1)

    def pdq_recall(self) -> float:
        return self.pdq / max(self.total, 1)


def _names(matches: list[dict[str, object]], items: dict[int, str]) -> set[str]:
    return {items[int(str(m["item"]))] for m in matches}


def _how(match: dict[str, object]) -> str:
    """How a match was made, as `rempart match --json` says it: method and query window."""
    window = match.get("window")
    return f"{match['method']}:{window}" if window else str(match["method"])


def _detail(
    query: str, kind: str, match: dict[str, object], items: dict[int, str]
) -> dict[str, object]:
    return {
        "query": query,
        "query_kind": kind,
        "original": items[int(str(match["item"]))],
        "method": match["method"],
        "window": match.get("window"),
        "reference": match.get("reference"),
        "distance": match["distance"],
        "threshold": match["threshold"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--originals", type=int, default=300)
    parser.add_argument("--distractors", type=int, default=7000, help="unrelated pictures")
    parser.add_argument("--quick", action="store_true", help="30 originals, 300 unrelated")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", type=Path, help="keep the pictures and the store here")
    parser.add_argument(
        "--via-page",
        action="store_true",
        help="register the originals through the victim's offline page (Chromium)",
    )
    args = parser.parse_args()
    n_orig, n_dist = (30, 300) if args.quick else (args.originals, args.distractors)
    n_orig = max(n_orig, 1)
    seed, shards = args.seed, max(1, args.workers)
    work = Path(tempfile.mkdtemp(prefix="rempart-robustness-")) if args.keep is None else args.keep
    if args.keep is not None and work.exists() and any(work.iterdir()):
        parser.error(f"{work} is not empty")
    started = time.perf_counter()
    try:
        report = run(work, seed, n_orig, n_dist, shards, started, via_page=args.via_page)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = "robustness-page.json" if args.via_page else "robustness.json"
    (out / name).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nfull results: {out / name}  ({time.perf_counter() - started:.0f} s)")


def run(
    work: Path,
    seed: int,
    n_orig: int,
    n_dist: int,
    shards: int,
    started: float,
    *,
    via_page: bool = False,
) -> dict[str, object]:
    (work / "originals").mkdir(parents=True, exist_ok=True)
    shard_dirs = [work / "queries" / f"shard-{i}" for i in range(shards)]
    for d in shard_dirs:
        d.mkdir(parents=True, exist_ok=True)
    series = series_originals(seed, n_orig)
    n_series = min(2 * len(series), n_dist // 10)
    n_altered = n_dist // 5
    n_plain = n_dist - n_series - n_altered
    dist_jobs = (
        [(work, seed, "plain", i, shards) for i in range(n_plain)]
        + [(work, seed, "series", 2 * series[i // 2] + i % 2, shards) for i in range(n_series)]
        + [(work, seed, "altered", i, shards) for i in range(n_altered)]
    )
    with multiprocessing.Pool(shards) as pool:
        made = pool.map(
            make_original, [(work, seed, i, shards) for i in range(n_orig)], chunksize=1
        )
        copies = n_orig * len(FAMILY_NAMES)
        print(f"[{time.perf_counter() - started:5.0f} s] {n_orig} originals, {copies} copies")
        unrelated = pool.map(make_distractor, dist_jobs, chunksize=8)
        print(f"[{time.perf_counter() - started:5.0f} s] {len(unrelated)} unrelated pictures")

    env = {**os.environ, "REMPART_HOME": str(work / "home"), "PYTHONPATH": str(ROOT / "src")}
    env.pop("REMPART_DATABASE_URL", None)
    items, refused, add_s = (register_via_page if via_page else register)(env, work / "originals")
    elapsed = time.perf_counter() - started
    print(f"[{elapsed:5.0f} s] registered {len(items)} originals ({add_s:.1f} s)")
    load_before = os.getloadavg()[0]
    results, match_s = match_all(env, shard_dirs)
    load_after = os.getloadavg()[0]
    n_queries = len(results)
    print(
        f"[{time.perf_counter() - started:5.0f} s] matched {n_queries} pictures ({match_s:.1f} s)"
    )

    names = [m.name for m, _ in made]
    kinds = {m.name: m.kind for m, _ in made}
    reference = np.concatenate([m.pdq for m, _ in made if m.name not in refused])
    names = [n for n in names if n not in refused]

    by_family: dict[str, Tally] = {f: Tally() for f in FAMILY_NAMES}
    wrong_rempart: list[dict[str, object]] = []
    by_kind: dict[str, Tally] = defaultdict(Tally)  # hard families only, by original's kind
    missed: list[dict[str, object]] = []  # every copy not found, to look into
    for orig, copies in made:
        if orig.name in refused:
            continue
        for file_name, family, copy in copies:
            matches = results[file_name]
            own = copy.name
            matched = _names(matches, items)
            tally = by_family[family]
            tally.total += 1
            tally.found += own in matched
            tally.wrong += bool(matched - {own})
            tally.methods.update(_how(m) for m in matches if items[int(str(m["item"]))] == own)
            wrong_rempart.extend(
                _detail(file_name, family, m, items)
                for m in matches
                if items[int(str(m["item"]))] != own
            )
            close = hamming(copy.pdq, reference[names.index(own)][None]).min() <= PDQ_THRESHOLD
            tally.pdq += bool(close)
            if own not in matched:
                missed.append(
                    {
                        "query": file_name,
                        "family": family,
                        "original_kind": kinds[own],
                        "pdq_within_31": bool(close),
                    }
                )
            if family in alterations.HARD:
                k = by_kind[kinds[own]]
                k.total += 1
                k.found += own in matched

    false_rempart: list[dict[str, object]] = []
    false_pdq = 0
    by_dist_kind: Counter[str] = Counter()
    for file_name, picture in unrelated:
        by_dist_kind[picture.kind.split(" (")[0]] += 1
        for m in results[file_name]:
            false_rempart.append(_detail(file_name, picture.kind, m, items))
        false_pdq += int((hamming(picture.pdq, reference).min(axis=0) <= PDQ_THRESHOLD).sum())
    pairs = len(unrelated) * len(items)
    copies_total = sum(t.total for t in by_family.values())
    wrong_pairs = copies_total * (len(items) - 1)
    rows = {
        f: {
            "rempart": round(t.recall(), 3),
            "pdq": round(t.pdq_recall(), 3),
            "copies": t.total,
            "wrong_item": t.wrong,
            "methods": dict(t.methods.most_common()),
        }
        for f, t in by_family.items()
    }
    mean = float(np.mean([t.recall() for t in by_family.values()]))
    mean_pdq = float(np.mean([t.pdq_recall() for t in by_family.values()]))
    report: dict[str, object] = {
        "command": " ".join(sys.argv),
        "seed": seed,
        "originals": n_orig,
        "registered": len(items),
        "refused_by_quality_gate": refused,
        "original_kinds": dict(Counter(kinds.values())),
        "unrelated": len(unrelated),
        "unrelated_kinds": dict(by_dist_kind),
        "families": rows,
        "mean_recall": {"rempart": round(mean, 4), "pdq": round(mean_pdq, 4)},
        "worst_family": {
            "rempart": round(min(t.recall() for t in by_family.values()), 3),
            "pdq": round(min(t.pdq_recall() for t in by_family.values()), 3),
        },
        "hard_families_by_original_kind": {
            k: round(t.recall(), 3) for k, t in sorted(by_kind.items())
        },
        "missed_copies": missed,
        "false_matches": {"rempart": len(false_rempart), "pdq": false_pdq, "pairs": pairs},
        "false_match_details": false_rempart[:500],
        "false_matches_by_how": dict(Counter(_how(d) for d in false_rempart).most_common()),
        "wrong_item_details": wrong_rempart[:500],
        "wrong_item": {
            "rempart": sum(t.wrong for t in by_family.values()),
            "pairs": wrong_pairs,
        },
        "match": {
            "queries": n_queries,
            "processes": shards,
            "seconds": round(match_s, 1),
            "images_per_s": round(n_queries / match_s, 1),
            "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
            "cpus": os.cpu_count(),
        },
        "bank_add": {
            "originals": len(items),
            "seconds": round(add_s, 1),
            "per_original_ms": round(add_s / len(items) * 1000, 1),
        },
    }
    _print(report, by_family)
    return report


def _print(report: dict[str, object], by_family: dict[str, Tally]) -> None:
    print(f"\n{'family':32} {'plain PDQ':>10} {'Rempart':>8} {'wrong item':>10}")
    for family, t in by_family.items():
        mark = " *" if family in alterations.HARD else ""
        print(f"{family + mark:32} {t.pdq_recall():10.3f} {t.recall():8.3f} {t.wrong:10d}")
    mean, worst = report["mean_recall"], report["worst_family"]
    assert isinstance(mean, dict) and isinstance(worst, dict)
    print(f"{'mean recall':32} {mean['pdq']:10.3f} {mean['rempart']:8.3f}")
    print(f"{'worst family':32} {worst['pdq']:10.3f} {worst['rempart']:8.3f}")
    false, wrong = report["false_matches"], report["wrong_item"]
    assert isinstance(false, dict) and isinstance(wrong, dict)
    print(
        f"false matches: Rempart {false['rempart']}, plain PDQ {false['pdq']}, "
        f"over {false['pairs']:,} unrelated x original pairs"
    )
    print(
        f"copies matched to another original: Rempart {wrong['rempart']} "
        f"(over {wrong['pairs']:,} pairs)"
    )
    print(f"false matches by method and window: {report['false_matches_by_how']}")
    print(f"hard families (*) by original kind: {report['hard_families_by_original_kind']}")
    print(f"rempart match: {report['match']}")
    print(f"rempart bank add: {report['bank_add']}")


if __name__ == "__main__":
    main()
