"""Fuzz every parser of untrusted input: `python bench/fuzz/run.py --inputs N [--only NAME]
[--seed S] [--jobs J] [--crashes FOLDER]`.

Each harness (bench/fuzz/harnesses.py) runs in its own atheris/libFuzzer process, seeded
with small generated files, for its share of the N inputs (the slow parsers, video and
bundle, get fewer). An input that raises anything but a Rempart error is a crash, one that
takes longer than the harness's time limit a hang, one that grows the process past
--rss-mb a memory blow-up: libFuzzer stops that harness and saves the input under
--crashes. An input slower than a quarter of the limit is saved too ("slow": reported, not
a failure). Prints per harness the inputs run, crashes, hangs, memory blow-ups, slow inputs,
coverage and time, then the totals; exits 1 when anything but slow inputs was found.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))

import harnesses  # noqa: E402

_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STAT = re.compile(r"#(\d+)\s+(?:pulse|NEW|REDUCE|DONE|INITED)")
_COVERAGE = re.compile(r"cov: (\d+)")


@dataclass
class Outcome:
    name: str
    runs: int
    seconds: float
    crashes: list[Path]
    hangs: list[Path]
    memory: list[Path]
    slow: list[Path]  # under the time limit, but over -report_slow_units: worth a look
    coverage: int
    returncode: int

    @property
    def found(self) -> int:
        return len(self.crashes) + len(self.hangs) + len(self.memory)


def share_of(total: int, only: list[str]) -> dict[str, int]:
    chosen = {name: harnesses.HARNESSES[name] for name in only}
    weight = sum(h.share for h in chosen.values())
    return {name: max(1, round(total * h.share / weight)) for name, h in chosen.items()}


def fuzz_one(
    name: str, runs: int, seed: int, work: Path, crashes: Path, rss_mb: int, max_s: int
) -> Outcome:
    harness = harnesses.HARNESSES[name]
    corpus, seeds = work / name / "corpus", work / name / "seeds"
    corpus.mkdir(parents=True)
    seeds.mkdir()
    harness.seeds(seeds)
    prefix = crashes / f"{name}-"
    command = [
        sys.executable,
        str(HERE / "target.py"),
        name,
        str(corpus),
        str(seeds),
        f"-runs={runs}",
        f"-seed={seed}",
        f"-max_len={harness.max_len}",
        f"-timeout={harness.timeout_s}",
        f"-rss_limit_mb={rss_mb}",
        f"-malloc_limit_mb={rss_mb}",
        f"-artifact_prefix={prefix}",
        "-print_final_stats=1",
        f"-max_total_time={max_s}",
        f"-report_slow_units={max(1, harness.timeout_s // 4)}",
    ]
    started = time.monotonic()
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        process.wait()
    shutil.rmtree(harnesses.scratch_folder(process.pid), ignore_errors=True)
    seconds = time.monotonic() - started
    text = log.read_text("utf-8", "replace")
    shutil.copy(log, crashes / f"{name}.log")
    finished = _DONE.findall(text)
    counts = [int(n) for n in _STAT.findall(text)]
    ran = int(finished[-1][0]) if finished else max(counts, default=0)
    coverage = max((int(c) for c in _COVERAGE.findall(text)), default=0)
    found = sorted(crashes.glob(f"{name}-*"))
    return Outcome(
        name=name,
        runs=ran,
        seconds=seconds,
        crashes=[p for p in found if p.name.startswith(f"{name}-crash-")],
        hangs=[p for p in found if p.name.startswith(f"{name}-timeout-")],
        memory=[p for p in found if p.name.startswith((f"{name}-oom-", f"{name}-leak-"))],
        slow=[p for p in found if p.name.startswith(f"{name}-slow-unit-")],
        coverage=coverage,
        returncode=process.returncode,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs in total")
    parser.add_argument("--only", action="append", choices=sorted(harnesses.HARNESSES))
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    parser.add_argument("--jobs", type=int, default=2, help="harnesses run at once")
    parser.add_argument("--rss-mb", type=int, default=2048, help="memory limit per process")
    parser.add_argument(
        "--max-seconds", type=int, default=0, help="stop a harness after this long (0: never)"
    )
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-findings"))
    args = parser.parse_args(argv)
    only = args.only or list(harnesses.HARNESSES)
    runs = share_of(args.inputs, only)
    args.crashes.mkdir(parents=True, exist_ok=True)
    print(f"fuzzing {', '.join(only)}: {args.inputs} inputs, seed {args.seed}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rempart-fuzz-") as scratch:
        work = Path(scratch)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [
                pool.submit(
                    fuzz_one,
                    name,
                    runs[name],
                    args.seed,
                    work,
                    args.crashes,
                    args.rss_mb,
                    args.max_seconds,
                )
                for name in sorted(only, key=lambda n: -harnesses.HARNESSES[n].timeout_s)
            ]
            outcomes = []
            for future in futures:
                outcome = future.result()
                outcomes.append(outcome)
                print(_line(outcome), flush=True)
    wall = time.monotonic() - started
    print(f"{'harness':10} {'inputs':>10} {'crashes':>8} {'hangs':>6} {'memory':>7} "
          f"{'slow':>5} {'cov':>6} {'seconds':>8}")  # fmt: skip
    for outcome in sorted(outcomes, key=lambda o: o.name):
        print(_row(outcome))
    total = sum(o.runs for o in outcomes)
    found = sum(o.found for o in outcomes)
    print(f"{'total':10} {total:>10} {sum(len(o.crashes) for o in outcomes):>8} "
          f"{sum(len(o.hangs) for o in outcomes):>6} {sum(len(o.memory) for o in outcomes):>7} "
          f"{sum(len(o.slow) for o in outcomes):>5} {'':>6} {wall:>8.0f}")  # fmt: skip
    for outcome in outcomes:
        for path in (*outcome.crashes, *outcome.hangs, *outcome.memory, *outcome.slow):
            print(f"found: {path} (replay: python bench/fuzz/target.py {outcome.name} {path})")
        if outcome.returncode and not outcome.found:
            print(f"{outcome.name}: libFuzzer exited {outcome.returncode}, see "
                  f"{args.crashes / (outcome.name + '.log')}")  # fmt: skip
    failed = found or any(o.returncode for o in outcomes)
    return 1 if failed else 0


def _line(outcome: Outcome) -> str:
    return f"{outcome.name}: {outcome.runs} inputs, {outcome.found} found, {outcome.seconds:.0f} s"


def _row(o: Outcome) -> str:
    return (
        f"{o.name:10} {o.runs:>10} {len(o.crashes):>8} {len(o.hangs):>6} {len(o.memory):>7} "
        f"{len(o.slow):>5} {o.coverage:>6} {o.seconds:>8.0f}"
    )


if __name__ == "__main__":
    sys.exit(main())
