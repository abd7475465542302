"""A short run of every fuzz harness (bench/fuzz): a few hundred coverage-guided inputs each,
from freshly generated seeds. The long run and its figures are in docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("atheris") is None, reason="atheris is not installed"
    ),
]

RUN = Path(__file__).resolve().parents[1] / "bench" / "fuzz" / "run.py"
HARNESSES = (
    "image", "video", "html", "recipe", "archive", "telegram", "warc", "hashlist", "bundle",
    "answers",
)  # fmt: skip


def test_every_harness_runs_its_inputs_without_a_crash_hang_or_blow_up(tmp_path: Path) -> None:
    findings = tmp_path / "findings"
    done = subprocess.run(
        [sys.executable, str(RUN), "--inputs", "3000", "--seed", "7", "--crashes", str(findings)],
        capture_output=True,
        text=True,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    rows = {
        line.split()[0]: line.split()[1:]
        for line in done.stdout.splitlines()
        if line.split() and line.split()[0] in (*HARNESSES, "total")
    }
    for name in HARNESSES:
        inputs, crashes, hangs, memory = (int(n) for n in rows[name][:4])
        assert inputs >= 20 and (crashes, hangs, memory) == (0, 0, 0), report
    assert int(rows["total"][0]) >= 2500, report
    assert not list(findings.glob("*-crash-*")), report
