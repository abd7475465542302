"""Probe (issue 12): would a native extraction of a page picture's two ORB sets, sharing one
pyramid, FAST pass and blur, cost less than OpenCV's two extractions, with the same output?

Usage: PYTHONPATH=src .venv/bin/python bench/orb_shared.py [--images N]

Reads the demo forum's pictures from bench/scan_cpu.py's cache (run it once first), takes
each one's grey and page mask as `extract_query_features` takes them, and compares, set by
set, `features._extract` (OpenCV) with bench/orb_shared.c (orb.h's arithmetic, compiled
here with cc): points, angles, levels and descriptors, in order, then as sets. Then CPU time
(time.thread_time, OpenCV on one thread, best of three passes) for page pictures (both sets)
and the others (the whole set), OpenCV against the probe, portable and SIMD (SSE2 FAST test,
AVX2 fused multiply-add blur: x86-64 with AVX2 and FMA only), with the probe's own stages.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from rempart.hashing import features

CACHE = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "rempart-bench"
SOURCE = Path(__file__).with_name("orb_shared.c")
Grey = npt.NDArray[np.uint8]
Found = tuple[
    npt.NDArray[np.float32], npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.uint8]
]


class _Out(ctypes.Structure):
    _fields_ = [(name, ctypes.c_void_p) for name in ("xy", "angle", "response", "octave", "desc")]


class Probe:
    def __init__(self, library: Path) -> None:
        self.lib = ctypes.CDLL(str(library))
        pointer, integer = ctypes.c_void_p, ctypes.c_int
        self.lib.orb_sets.argtypes = [pointer, integer, integer, pointer, integer, pointer, pointer]
        self.lib.stages.restype = ctypes.POINTER(ctypes.c_double)
        limit = features.MAX_FEATURES
        self.arrays: list[dict[str, npt.NDArray[Any]]] = [
            {
                "xy": np.zeros((limit, 2), np.float32),
                "angle": np.zeros(limit, np.float32),
                "response": np.zeros(limit, np.float32),
                "octave": np.zeros(limit, np.uint8),
                "desc": np.zeros((limit, features.DESCRIPTOR_BYTES), np.uint8),
            }
            for _ in range(2)
        ]
        self.outs = (_Out * 2)(*(_Out(*(a.ctypes.data for a in s.values())) for s in self.arrays))
        self.counts = (ctypes.c_int * 2)()

    def sets(self, grey: Grey, mask: Grey | None, simd: bool) -> list[Found]:
        """The whole picture's set, then the masked one's when there is a mask."""
        where = None if mask is None else mask.ctypes.data
        height, width = grey.shape
        status = self.lib.orb_sets(
            grey.ctypes.data, width, height, where, int(simd), self.outs, self.counts
        )
        assert status == 0, status
        found = []
        for arrays, count in zip(
            self.arrays[: 1 if mask is None else 2], self.counts, strict=False
        ):
            xy, desc, angle, octave = (
                arrays[k][:count].copy() for k in ("xy", "desc", "angle", "octave")
            )
            found.append((xy, desc, angle, octave))
        return found

    def run(self, items: list[tuple[Grey, Grey | None]], simd: bool) -> None:
        for grey, mask in items:
            self.sets(grey, mask, simd)


def opencv_sets(grey: Grey, mask: Grey | None) -> list[Found]:
    chosen = [features._extract(grey, None, features.MAX_FEATURES, False)]
    if mask is not None:
        chosen.append(features._extract(grey, mask, features.MAX_FEATURES, False))
    return [(f.points, f.descriptors, f.angles, f.octaves) for f in chosen]  # type: ignore[misc]


def run_opencv(items: list[tuple[Grey, Grey | None]]) -> None:
    for grey, mask in items:
        opencv_sets(grey, mask)


def compare(ours: Found, theirs: Found) -> str:
    if all(np.array_equal(ours[i], theirs[i]) for i in range(4)):
        return "identical"

    def keyed(found: Found) -> dict[tuple[float, float, int], tuple[float, bytes]]:
        xy, desc, angle, octave = found
        return {
            (float(p[0]), float(p[1]), int(o)): (float(a), bytes(d))
            for p, d, a, o in zip(xy, desc, angle, octave, strict=True)
        }

    return "same set, other order" if keyed(ours) == keyed(theirs) else "different"


def best_of(run: Callable[[], object], count: int, passes: int = 3) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.thread_time()
        run()
        best = min(best, time.thread_time() - start)
    return best / max(count, 1) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="forum pictures to read")
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    files = sorted((CACHE / "demo-site").glob("*-full-*.jpg"))[: args.images]
    if not files:
        raise SystemExit("no demo pictures cached: run bench/scan_cpu.py once first")
    greys = [
        features.scaled_bytes(np.asarray(Image.open(f).convert("L")), features.FEATURE_SIDE)
        for f in files
    ]
    masks = [features._off_page(g) for g in greys]
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("no C compiler")
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "orb_shared.so"
        flags = ["-O3", "-std=c11", "-fno-math-errno", "-fno-strict-aliasing", "-shared", "-fPIC"]
        subprocess.run([compiler, *flags, str(SOURCE), "-o", str(library), "-lm"], check=True)
        probe = Probe(library)
        outcome: dict[str, int] = {}
        for grey, mask in zip(greys, masks, strict=True):
            for simd in (False, True):
                for ours, theirs in zip(
                    probe.sets(grey, mask, simd), opencv_sets(grey, mask), strict=True
                ):
                    verdict = compare(ours, theirs)
                    outcome[verdict] = outcome.get(verdict, 0) + 1
        pages = sum(m is not None for m in masks)
        print(
            f"{len(greys)} pictures, {pages} taken for pages; sets (both probe builds): {outcome}"
        )
        for label, chosen in (("pages", True), ("others", False)):
            items = [(g, m) for g, m in zip(greys, masks, strict=True) if (m is not None) == chosen]
            opencv = best_of(partial(run_opencv, items), len(items))
            figures = [f"OpenCV {opencv:.2f}"]
            for simd in (False, True):
                stages = probe.lib.stages()
                for i in range(5):
                    stages[i] = 0.0
                cost = best_of(
                    partial(probe.run, items, simd),
                    len(items),
                )
                split = "/".join(f"{stages[i] / 3 / len(items) * 1e3:.2f}" for i in range(5))
                figures.append(f"probe{' simd' if simd else ''} {cost:.2f} ({split})")
            print(f"{label} ({len(items)}): ms a picture: " + ", ".join(figures))
    print("probe stages: pyramid/FAST/selection/blur/descriptors")


if __name__ == "__main__":
    main()
