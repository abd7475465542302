"""Probe: do a pixelated copy's block values tell it from unrelated pixelated pictures, when
compared as values (not as PDQ signs) with its original's?

Usage: PYTHONPATH=src .venv/bin/python bench/mosaic_values.py [--seed S] [--originals N]
       [--unrelated M]

In process, nothing registered: bench/corpus.py's originals (seed S), each pixelated by
bench/alterations.pixelate and saved as JPEG q70-92; M unrelated pictures of corpus seed
S + 5000, pixelated the same way; and two families of one layout from
tests/matching/hard_copies.py (the fixed-layout interface screen, pixelated at 12-32 blocks by
area means, and the text page of one generator, by alterations.pixelate): 10 of each are
originals, their own copies are copies, the 30 and 20 others are unrelated. Every query that
`find_mosaic` takes for a mosaic is compared with every original of its size, two ways:

* coarse: the picture reduced to the registered coarse grids (mosaic.GRIDS, area means), the
  query's two finest grids (mosaic.grids_for) against the original's at the same grids;
* blocks: the query's own blocks (the mosaic's period and phase) against the original's area
  means over the same rectangles: what registering every block count would allow, an upper
  bound for any stored signature of grid values.

Scores: the 90th percentile of the absolute difference after fitting the original's values
to the query's (gain within 0.5-2 and offset; in luma levels; the worse of the two grids),
Pearson's correlation of the values and of their residuals after a 3 x 3 local mean (the
worse of the two grids). Reported: for each score, how many copies lie beyond the closest
unrelated pair (found at zero false match), with and without the fixed-layout screens, and
which pairs lie closest. A throwaway probe: its figures are in docs/benchmarks.md (pixelated
copies, fourth pass).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy.ndimage import uniform_filter

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH.parent / "tests" / "matching"))

import hard_copies  # noqa: E402

import alterations  # noqa: E402
import corpus  # noqa: E402
from rempart.hashing import mosaic  # noqa: E402
from rempart.hashing.decode import decode_luma  # noqa: E402

Grid = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Query:
    group: str  # copy, unrelated, layout-ui, layout-page
    owner: int  # the original it copies, or -1
    kind: str
    luma: Grid


@dataclass(frozen=True)
class Pair:
    query: Query
    original_kind: str
    same: bool
    layout_ui: bool
    scores: dict[str, float]


def _luma(image: Image.Image, quality: int) -> Grid:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return np.asarray(decode_luma(buf.getvalue()).luma, dtype=np.float64)


def _grid(luma: Grid, grid: int) -> Grid:
    height, width = luma.shape
    image = Image.fromarray(np.ascontiguousarray(luma, dtype=np.float32), mode="F")
    cells = image.resize((grid, max(2, round(grid * height / width))), Image.Resampling.BOX)
    return np.asarray(cells, dtype=np.float64)


def _edges(phase: float, period: float, size: int) -> npt.NDArray[np.intp]:
    start = phase % period - period
    edges = np.round(np.arange(start, size + period, period)).astype(np.intp)
    edges = np.unique(np.clip(edges, 0, size))
    keep = np.concatenate([[True], np.diff(edges) >= 0.6 * period])
    return edges[keep]


def _blocks(luma: Grid, found: mosaic.Mosaic) -> Grid:
    """Area means over the mosaic's blocks (those at least 0.6 of a block on each axis)."""
    xs = _edges(found.phase_x, found.block_x, luma.shape[1])
    ys = _edges(found.phase_y, found.block_y, luma.shape[0])
    table = np.pad(luma, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sums = table[np.ix_(ys[1:], xs[1:])] - table[np.ix_(ys[:-1], xs[1:])]
    sums -= table[np.ix_(ys[1:], xs[:-1])] - table[np.ix_(ys[:-1], xs[:-1])]
    area = np.outer(np.diff(ys), np.diff(xs))
    return np.asarray(sums / np.maximum(area, 1), dtype=np.float64)


def _fit_p90(query: Grid, original: Grid) -> float:
    design = np.stack([original.ravel(), np.ones(original.size)], axis=1)
    coef, *_ = np.linalg.lstsq(design, query.ravel(), rcond=None)
    if not 0.5 <= coef[0] <= 2.0:
        return float("inf")  # a copy keeps its contrast, roughly: a flat grid fits anything
    return float(np.percentile(np.abs(query.ravel() - design @ coef), 90))


def _pearson(a: Grid, b: Grid) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / norm if norm > 1e-9 else 0.0


def _residual(values: Grid) -> Grid:
    return np.asarray(values - uniform_filter(values, 3, mode="nearest"), dtype=np.float64)


Originals = list[tuple[str, Grid]]


def _queries(seed: int, originals: int, unrelated: int) -> tuple[Originals, list[Query]]:
    kept: Originals = []
    queries: list[Query] = []
    for i in range(originals):
        picture = corpus.original(seed, i)
        kept.append((picture.kind, _luma(picture.image, 92)))
        rng = np.random.default_rng([seed, 77, i])
        copy = alterations.pixelate(picture.image.convert("RGB"), rng)
        queries.append(Query("copy", i, picture.kind, _luma(copy, int(rng.integers(70, 93)))))
    for j in range(unrelated):
        picture = corpus.distractor(seed + 5000, j)
        rng = np.random.default_rng([seed, 78, j])
        copy = alterations.pixelate(picture.image.convert("RGB"), rng)
        queries.append(Query("unrelated", -1, picture.kind, _luma(copy, int(rng.integers(70, 93)))))
    for j in range(40):  # one interface layout, other text and card counts
        rng = np.random.default_rng([seed, 79, j])
        screen = hard_copies._ui(rng)
        if j < 10:
            kept.append(("layout-ui", _luma(screen, 90)))
        blocks = float(np.exp(rng.uniform(np.log(12), np.log(32))))
        down = max(1, round(blocks * screen.height / screen.width))
        small = screen.resize((round(blocks), down), Image.Resampling.BOX)
        pixelated = small.resize(screen.size, Image.Resampling.NEAREST)
        owner = originals + j if j < 10 else -1
        queries.append(Query("layout-ui", owner, "ui", _luma(pixelated, 85)))
    for j in range(30):  # text pages of one generator
        rng = np.random.default_rng([seed, 80, j])
        page = hard_copies._text_page(rng)
        if j < 10:
            kept.append(("layout-page", _luma(page, 90)))
        owner = originals + 10 + j if j < 10 else -1
        pixelated = alterations.pixelate(page, rng)
        queries.append(Query("layout-page", owner, "page", _luma(pixelated, 85)))
    return kept, queries


def _pairs(kept: Originals, queries: list[Query]) -> tuple[list[Pair], int]:
    pairs: list[Pair] = []
    copies = 0
    coarse_of = [{g: _grid(luma, g) for g in mosaic.GRIDS} for _, luma in kept]
    for query in queries:
        found = mosaic.find_mosaic(query.luma.astype(np.uint8))
        copies += query.owner >= 0
        if found is None:
            continue
        grids = sorted(mosaic.grids_for(found), reverse=True)[:2]
        if len(grids) < 2:
            continue
        mine = {g: _grid(query.luma, g) for g in grids}
        blocks = _blocks(query.luma, found)
        for index, (kind, luma) in enumerate(kept):
            if luma.shape != query.luma.shape:
                continue
            theirs = coarse_of[index]
            scores = {
                "coarse p90": max(_fit_p90(mine[g], theirs[g]) for g in grids),
                "coarse corr": min(_pearson(mine[g], theirs[g]) for g in grids),
                "coarse resid corr": min(
                    _pearson(_residual(mine[g]), _residual(theirs[g])) for g in grids
                ),
                "blocks p90": _fit_p90(blocks, _blocks(luma, found)),
            }
            same = query.owner == index
            pairs.append(Pair(query, kind, same, kind == "layout-ui", scores))
    return pairs, copies


def _report(pairs: list[Pair], copies: int, title: str) -> None:
    print(f"\n{title}: {copies} copies")
    lower: dict[str, bool] = {
        "coarse p90": True,
        "coarse corr": False,
        "coarse resid corr": False,
        "blocks p90": True,
    }
    for name, smaller in lower.items():
        sign = 1.0 if smaller else -1.0
        key: Callable[[Pair], float] = lambda p, n=name, s=sign: s * p.scores[n]  # noqa: E731
        others = sorted((p for p in pairs if not p.same), key=key)
        mine = [p for p in pairs if p.same]
        if not others or not mine:
            continue
        closest = key(others[0])
        found = sum(key(p) < closest for p in mine)
        spread = np.percentile([p.scores[name] for p in mine], [25, 50, 75])
        print(
            f"  {name:18s} closest unrelated {abs(closest):6.3f}  copies beyond it {found:3d}"
            f"  copies' quartiles {np.round(spread, 2).tolist()}"
        )
        near = ", ".join(
            f"{p.query.kind}/{p.original_kind} {p.scores[name]:.2f}" for p in others[:4]
        )
        print(f"    closest unrelated pairs: {near}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--originals", type=int, default=150)
    parser.add_argument("--unrelated", type=int, default=600)
    args = parser.parse_args()
    kept, queries = _queries(args.seed, args.originals, args.unrelated)
    pairs, copies = _pairs(kept, queries)
    print(f"seed {args.seed}: {len(kept)} originals, {len(queries)} queries, {len(pairs)} pairs")
    _report(pairs, copies, "every pair")
    layout = [p for p in pairs if not p.layout_ui and p.query.kind != "ui"]
    _report(layout, copies - 10, "without the fixed-layout screens")
    for kind in ("ui", "page"):
        group = f"layout-{kind}"
        mine = [p.scores["blocks p90"] for p in pairs if p.same and p.query.group == group]
        print(f"  {kind} copies of one layout, blocks p90: {np.round(sorted(mine), 2).tolist()}")


if __name__ == "__main__":
    main()
