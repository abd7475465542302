"""Start-up time of the `rempart` command, beside anchors measured in the same run.

Each command runs N times as a fresh process (as a person runs it); best and median wall time
are printed with their ratio to the anchors: `python -c pass` (the interpreter alone) and a
bare Typer app's `--help` (the floor of any Typer command line). Goals (issue 10): `--help`
and `--version` under 0.25 s, commands that only read the store under 0.5 s.

    python bench/startup.py            # 15 runs each
    python bench/startup.py --runs 30 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent))
from machine_info import basics

_BARE_TYPER = (
    "import typer\n"
    "app = typer.Typer()\n"
    "@app.command()\n"
    "def hello(name: str = 'x') -> None:\n"
    "    'Say hello.'\n"
    "app()\n"
)
# Distinct, non-degenerate PDQ hashes for the populated home (a real bank holds such lists).
_SEED = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"


def _rempart() -> list[str]:
    exe = Path(sys.executable).with_name("rempart")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rempart"]


def _env(home: Path) -> dict[str, str]:
    # As a person runs it: with Python's byte-code cache (an environment that turns it off,
    # PYTHONDONTWRITEBYTECODE, would recompile every Rempart module at every start).
    drop = {"REMPART_DATABASE_URL", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(REMPART_HOME=str(home), REMPART_LANG="en", COLUMNS="80")
    return env


class Sample(NamedTuple):
    wall: float  # seconds, as a person waits
    cpu: float  # the process's user + system CPU seconds: what load beside it barely changes


def _time(cmd: Sequence[str], env: dict[str, str]) -> Sample:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(elapsed, cpu)


def _series(cmd: Sequence[str], env: dict[str, str], runs: int) -> list[Sample]:
    _time(cmd, env)  # warm the file cache and byte-code
    return [_time(cmd, env) for _ in range(runs)]


def _populate(home: Path, items: int) -> None:
    """A home with a case and a bank of `items` imported hashes."""
    env = _env(home)
    rempart = _rempart()
    subprocess.run(
        [*rempart, "case", "create", "case-0001"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*rempart, "bank", "create", "case-0001-images", "--case", "case-0001"],
        env=env,
        check=True,
        capture_output=True,
    )
    seed = int(_SEED, 16)
    lines = []
    for i in range(items):
        value = (seed * (2 * i + 3)) % (1 << 256)
        lines.append(f"pdq {value:064x}\n")
    hashes = home / "list.txt"
    hashes.write_text("".join(lines))
    subprocess.run(
        [*rempart, "bank", "import", "case-0001-images", str(hashes)],
        env=env,
        check=False,  # a rare degenerate value is rejected and reported; the rest lands
        capture_output=True,
    )


def _first_use(tmp: Path, runs: int) -> list[Sample]:
    """`bank list` in a new home each time: creates the store and runs every migration."""
    times = []
    for i in range(runs + 1):
        home = tmp / f"new-{i}"
        elapsed = _time([*_rempart(), "bank", "list"], _env(home))
        shutil.rmtree(home)
        if i:
            times.append(elapsed)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--items", type=int, default=1000, help="items in the populated bank")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    rempart = _rempart()
    with tempfile.TemporaryDirectory(prefix="rempart-startup-") as folder:
        tmp = Path(folder)
        empty, populated = tmp / "empty", tmp / "populated"
        subprocess.run([*rempart, "bank", "list"], env=_env(empty), check=True, capture_output=True)
        _populate(populated, args.items)
        anchors = {
            "python -c pass": _series([sys.executable, "-c", "pass"], _env(empty), args.runs),
            "bare Typer app --help": _series(
                [sys.executable, "-c", _BARE_TYPER, "--help"], _env(empty), args.runs
            ),
        }
        rows: list[tuple[str, float | None, list[Sample]]] = [
            ("rempart --help", 0.25, _series([*rempart, "--help"], _env(empty), args.runs)),
            ("rempart --version", 0.25, _series([*rempart, "--version"], _env(empty), args.runs)),
            (
                "rempart bank list (empty store)",
                0.5,
                _series([*rempart, "bank", "list"], _env(empty), args.runs),
            ),
            (
                f"rempart bank list ({args.items} items)",
                0.5,
                _series([*rempart, "bank", "list"], _env(populated), args.runs),
            ),
            (
                f"rempart bank show --json ({args.items} items)",
                0.5,
                _series(
                    [*rempart, "bank", "show", "case-0001-images", "--json"],
                    _env(populated),
                    args.runs,
                ),
            ),
            (
                "rempart case list",
                0.5,
                _series([*rempart, "case", "list"], _env(populated), args.runs),
            ),
            ("rempart bank list (new home: creates the store)", None, _first_use(tmp, args.runs)),
        ]
    base = min(t.wall for t in anchors["python -c pass"])
    typer_base = min(t.wall for t in anchors["bare Typer app --help"])
    if args.json:
        print(json.dumps({"machine": basics(), "runs": args.runs, "load": os.getloadavg()}))
        for name, times in anchors.items():
            print(json.dumps({"anchor": name, **_figures(times)}))
        for name, goal, times in rows:
            figures = _figures(times)
            print(
                json.dumps(
                    {
                        "command": name,
                        **figures,
                        "goal_s": goal,
                        "x_python": figures["best_s"] / base,
                        "x_typer": figures["best_s"] / typer_base,
                    }
                )
            )
        return
    info = basics()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# {info['cpu']}, {info['cores']} cores, Python {info['python']}; {args.runs} runs each")
    print(f"# load average at the end: {load} (CPU time is the figure to trust when it is high)")
    head = f"{'command':<50} {'best':>6} {'median':>6} {'cpu':>6} {'goal':>5} {'×typer':>6}"
    print(head)
    for name, times in anchors.items():
        f = _figures(times)
        row = f"{f['best_s']:6.3f} {f['median_s']:6.3f} {f['cpu_best_s']:6.3f}"
        print(f"{'anchor: ' + name:<50} {row}")
    for name, goal, times in rows:
        f = _figures(times)
        mark = "" if goal is None else ("  ok" if f["median_s"] < goal else "  SLOW")
        goal_text = "" if goal is None else f"{goal:.2f}"
        print(
            f"{name:<50} {f['best_s']:6.3f} {f['median_s']:6.3f} {f['cpu_best_s']:6.3f} "
            f"{goal_text:>5} {f['best_s'] / typer_base:6.1f}{mark}"
        )


def _figures(samples: list[Sample]) -> dict[str, float]:
    return {
        "best_s": min(s.wall for s in samples),
        "median_s": statistics.median(s.wall for s in samples),
        "cpu_best_s": min(s.cpu for s in samples),
        "cpu_median_s": statistics.median(s.cpu for s in samples),
    }


if __name__ == "__main__":
    main()
