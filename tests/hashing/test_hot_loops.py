"""The hashing's hot loops written with numpy and OpenCV calls give what their plain Python
definitions give (the scan's hash workers run them on every picture)."""

import numpy as np

from rempart.hashing import watermark, windows


def _plain_leading_true(flags: np.ndarray) -> int:
    count = 0
    for flag in flags:
        if not flag:
            break
        count += 1
    return count


def _plain_piles(gaps: np.ndarray) -> list[int]:
    counts = np.bincount(gaps[::2].ravel(), minlength=256).astype(np.float64)
    smooth = np.convolve(counts, [1, 2, 3, 2, 1], "same") / 9
    floor = watermark._MIN_PILE * counts.sum()
    low = round(watermark._MIN_STEP * watermark._STEPS)
    high = round(watermark._MAX_STEP * watermark._STEPS)
    found = [
        p for p in range(low, high + 1) if smooth[p] >= max(smooth[p - 1], smooth[p + 1], floor)
    ]
    return sorted(found, key=lambda p: -smooth[p])[:2]


def test_leading_true_counts_the_leading_trues() -> None:
    rng = np.random.default_rng(5)
    cases = [np.zeros(0, bool), np.ones(7, bool), np.zeros(3, bool)]
    cases += [rng.random(int(rng.integers(1, 40))) < share for share in (0.5, 0.9, 0.99) * 50]
    for flags in cases:
        assert windows._leading_true(flags) == _plain_leading_true(flags)


def test_piles_are_the_histograms_local_maxima_most_first() -> None:
    rng = np.random.default_rng(11)
    for trial in range(60):
        height, width = int(rng.integers(20, 90)), int(rng.integers(20, 90))
        gaps = rng.integers(0, 12, (height, width)).astype(np.uint8)
        for _ in range(int(rng.integers(0, 4))):  # piles at a few steps, ties included
            step = int(rng.integers(6, 60))
            gaps[rng.random((height, width)) < rng.choice([0.05, 0.2])] = step
        if trial % 7 == 0:
            gaps[:] = 30  # one flat pile
        assert watermark._piles(gaps) == _plain_piles(gaps)
