"""Diagnostic: for each web-page or social-post copy of bench/robustness, where the picture is,
whether the query side found its region, at what size, and which stage lost it.

Usage: .venv/bin/python bench/page_regions.py KEPT_DIR [--seed S] [--families web,post]
       .venv/bin/python bench/page_regions.py --pairs [--originals N] [--distractors M]

KEPT_DIR is a folder written by `bench/robustness.py --keep KEPT_DIR` (its originals, copies
and store). The picture's true box in each copy is known by generating the copy again with
bench/alterations.py while recording where the picture was pasted (alterations.py itself is
untouched). For each copy it prints: the true box (share of the page's area, pixels), the
query windows and candidate regions found (IoU with the truth), keypoints the query side
extracted inside the truth, the matcher's verdict, and an oracle (the local features of the
true box itself verified against the registered picture): when the oracle passes and the
matcher fails, region finding lost it; when the oracle fails too, verification did.

`--pairs`: how close the regions of unrelated pages come to registered pictures by PDQ alone.
M unrelated pictures of bench/corpus.py (plain and hard: pages of text, interfaces, charts...)
and the same shown in a web page and in a post (bench/alterations.py), so 3M queries, each
with its page regions hashed in their 8 variants, against N originals' hashes: the smallest
distances, and the pairs within 31 (a region's match standing alone) and 52 (the screen
window's threshold, to be corroborated by local features).
Not a benchmark: it reads Rempart's internals, in process.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "src"))

from PIL import Image  # noqa: E402

import alterations  # noqa: E402
import corpus  # noqa: E402

Box = tuple[int, int, int, int]
FAMILY = {"web": "web page screenshot", "post": "social-network post"}


def true_box(family: str, original: Image.Image, seed: int, index: int) -> Box:
    """Where the picture lies in the copy: the copy generated again, its paste recorded."""
    pasted: list[tuple[Image.Image, tuple[int, int], tuple[int, int]]] = []
    paste = Image.Image.paste

    def recording(self: Image.Image, im: object, box: object = None, mask: object = None) -> None:
        if isinstance(im, Image.Image) and isinstance(box, tuple) and len(box) == 2:
            pasted.append((self, (int(box[0]), int(box[1])), im.size))
        paste(self, im, box, mask)  # type: ignore[arg-type]

    Image.Image.paste = recording  # type: ignore[assignment,method-assign]
    try:
        altered = alterations.alter(family, original, seed, index)
    finally:
        Image.Image.paste = paste  # type: ignore[method-assign]
    canvas, (x, y), (w, h) = max(pasted, key=lambda p: p[2][0] * p[2][1])
    sx, sy = altered.width / canvas.width, altered.height / canvas.height
    return round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)


def iou(a: Box | None, b: Box) -> float:
    if a is None:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def pairs(seed: int, n_orig: int, n_dist: int) -> None:
    import numpy as np

    from rempart.hashing.pdq import pdq_dihedral_from_luma, pdq_from_luma
    from rempart.hashing.windows import find_page_regions

    def luma(image: Image.Image) -> object:
        return np.asarray(image.convert("L"))

    codes = np.stack(
        [
            np.frombuffer(pdq_from_luma(luma(corpus.original(seed, i).image)).hash.value, np.uint8)
            for i in range(n_orig)
        ]
    )
    distances: list[int] = []
    queries = regions = 0
    for index in range(n_dist):
        plain = corpus.distractor(seed, index).image.convert("RGB")
        for shown in (
            plain,
            alterations.alter("web page screenshot", plain, seed + 1, index),
            alterations.alter("social-network post", plain, seed + 1, index),
        ):
            grey = luma(shown)
            queries += 1
            for window in find_page_regions(grey):  # type: ignore[arg-type]
                regions += 1
                variants = pdq_dihedral_from_luma(window.crop(grey)).values()  # type: ignore[arg-type]
                hashed = np.stack(
                    [np.frombuffer(v.hash.value, np.uint8) for v in variants if v.quality >= 50]
                    or [np.zeros(32, np.uint8)]
                )
                xor = np.bitwise_xor(hashed[:, None, :], codes[None, :, :])
                distances += np.bitwise_count(xor).sum(axis=2).min(axis=0).tolist()
    ordered = sorted(distances)
    print(
        f"{queries} unrelated queries, {regions} regions, {len(distances):,} region x original "
        f"pairs; smallest distances {ordered[:10]}; within 31: {sum(d <= 31 for d in ordered)}, "
        f"within 52: {sum(d <= 52 for d in ordered)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kept", type=Path, nargs="?")
    parser.add_argument("--pairs", action="store_true")
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--families", default="web,post")
    parser.add_argument("--only-missed", action="store_true")
    parser.add_argument("--originals", type=int, default=30)
    args = parser.parse_args()
    if args.pairs:
        pairs(args.seed, args.originals, args.distractors)
        return
    os.environ["REMPART_HOME"] = str(args.kept / "home")
    os.environ.pop("REMPART_DATABASE_URL", None)

    from rempart.config import Settings
    from rempart.hashing import hash_image_bytes
    from rempart.hashing.decode import decode_luma
    from rempart.hashing.features import extract_features
    from rempart.matching.features import SEARCH_LIMITS, verify
    from rempart.matching.service import Matcher, Query
    from rempart.store.database import Database
    from rempart.store.models import Item

    db = Database.open(Settings.from_env().database_url)
    matcher = Matcher(db)
    wanted = matcher.query_windows()
    with db.session() as session:
        by_digest = {i.sha256: i.id for i in session.query(Item)}
    items = {
        p.stem: by_digest[hashlib.sha256(p.read_bytes()).hexdigest()]
        for p in (args.kept / "originals").iterdir()
        if hashlib.sha256(p.read_bytes()).hexdigest() in by_digest
    }
    bank = next(iter(matcher._banks.values()))
    queries = {q.name: q for q in (args.kept / "queries").rglob("c*.jpg")}
    totals: dict[str, list[int]] = {}
    for name in args.families.split(","):
        family = FAMILY[name]
        number = list(alterations.FAMILIES).index(family)
        for index in range(args.originals):
            picture = corpus.original(args.seed, index)
            stem = picture.name
            path = queries.get(f"c{number:02d}-{stem}.jpg")
            item = items.get(stem)
            if path is None or item is None:
                continue
            original = picture.image.convert("RGB")
            data = path.read_bytes()
            luma = decode_luma(data).luma
            truth = true_box(family, original, args.seed, index)
            hashed = hash_image_bytes(data, dihedral=True, windows=wanted)
            result = matcher.match([Query.from_image(hashed)], refresh=False)[0]
            found = any(m.item == item for m in result.matches)
            how = [f"{m.method}:{m.window}:{m.distance}" for m in result.matches if m.item == item]
            wins = [
                (w.window.kind.value, round(iou(w.window.box, truth), 2))
                for w in hashed.windows
                if w.window.kind.value in ("screen", "uncaptioned", "trimmed", "cell")
            ]
            feats = [(k, len(f)) for k, f in hashed.features]
            reference = bank.features.features_of(item)
            left, top, right, bottom = truth
            oracle = extract_features(luma[top:bottom, left:right])
            check = verify(oracle, reference, SEARCH_LIMITS) if reference is not None else None
            loose = verify(oracle, reference, (1.0, 1.0)) if reference is not None else None
            share = (right - left) * (bottom - top) / luma.size
            tally = totals.setdefault(family, [0, 0, 0])
            tally[0] += 1
            tally[1] += found
            tally[2] += check is not None
            if args.only_missed and found:
                continue
            print(
                f"{path.name[:40]:40} {'FOUND' if found else 'miss '} truth {share:.2f} "
                f"{right - left}x{bottom - top} of {luma.shape[1]}x{luma.shape[0]} "
                f"windows {wins} feats {feats} how {how} oracle {len(oracle)} kp "
                f"{'ok ' + str(check.inliers) if check else 'fail'}"
                + (
                    f" (geometry {loose.inliers}, unlike {loose.unlike})"
                    if check is None and loose
                    else ""
                )
            )
    for family, (n, found, oracle) in totals.items():
        print(f"{family}: {found}/{n} found, oracle on the true box {oracle}/{n}")


if __name__ == "__main__":
    main()
