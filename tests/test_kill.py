"""A handful of SIGKILLs in each kind of work that must survive a crash (bench/kill.py runs
100): after them the work, resumed, ends with nothing lost, nothing twice and no
half-written file. Loopback servers only; kills on observed progress (tests/kill_points.py)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import kill_points as kp
from rempart.demo_site.tsa import DemoTimestampAuthority

KILLS = 2


@pytest.mark.slow
@pytest.mark.parametrize("phase", kp.PHASES)
def test_work_killed_at_random_points_loses_nothing_repeats_nothing_leaves_no_half_file(
    phase: str, tmp_path: Path
) -> None:
    rng = random.Random(phase)
    if phase == "scan":
        with kp.demo_site() as site:
            expected = kp.scan_reference(site, tmp_path / "reference")
            result = kp.scan_round(site, tmp_path / "scan", rng, KILLS, expected)
    elif phase == "capture":
        with DemoTimestampAuthority.start() as tsa:
            result = kp.capture_round(tsa, tmp_path / "capture", rng, KILLS)
    elif phase == "import":
        result = kp.import_round(tmp_path / "import", rng, KILLS, size=5_000)
    else:
        result = kp.notices_round(tmp_path / "notices", rng, KILLS)
    assert result.violations == []
    assert result.kills == KILLS
