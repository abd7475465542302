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


def _plain_ground(counts: np.ndarray) -> tuple[int, int]:
    level = int(np.argmax(counts))
    low = high = level
    while low > 0 and counts[low - 1] >= watermark._GROUND_PEAK * counts[level]:
        low -= 1
    while high < 255 and counts[high + 1] >= watermark._GROUND_PEAK * counts[level]:
        high += 1
    least, most = watermark._GROUND_LEVELS, watermark._GROUND_SPREAD
    return (
        max(0, level - min(max(level - low, least), most)),
        min(255, level + min(max(high - level, least), most)),
    )


def _plain_on_ground(grey: np.ndarray, thick: np.ndarray) -> float:
    cells = watermark._CELLS
    rows, cols = grey.shape[0] // cells, grey.shape[1] // cells
    on = total = 0
    for row in range(cells):
        for col in range(cells):
            part = grey[row * rows : (row + 1) * rows, col * cols : (col + 1) * cols]
            low, high = _plain_ground(np.bincount(part.ravel(), minlength=256))
            mask = thick[row * rows : (row + 1) * rows, col * cols : (col + 1) * cols] > 0
            levels = part[mask]
            on += int(np.count_nonzero((levels >= low) & (levels <= high)))
            total += levels.size
    return on / max(1, total)


def test_the_ground_is_the_run_of_levels_around_the_commonest_within_its_bounds() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for trial in range(400):
        centre, spread = int(rng.integers(0, 256)), float(rng.uniform(0.1, 30))
        values = np.clip(rng.normal(centre, spread, 2000), 0, 255).astype(np.uint8)
        if trial % 4 == 0:
            values[:] = centre  # one level: the ground at its narrowest
        rows.append(np.bincount(values, minlength=256))
    counts = np.array(rows)
    low, high = watermark._ground(counts)
    for row, expected in enumerate(map(_plain_ground, counts)):
        assert (int(low[row]), int(high[row])) == expected


def test_strokes_on_their_cells_ground_are_counted_cell_by_cell() -> None:
    rng = np.random.default_rng(8)
    for trial in range(20):
        light = np.linspace(0, 40 * (trial % 3), 128)  # the light falls off across the picture
        grey = np.clip(rng.normal(180, 1 + trial % 7, (96, 128)) - light, 0, 255).astype(np.uint8)
        grey[rng.random(grey.shape) < 0.2] = rng.integers(0, 256)
        thick = ((rng.random(grey.shape) < 0.3) * 255).astype(np.uint8)
        assert watermark._on_ground(grey, thick) == _plain_on_ground(grey, thick)
