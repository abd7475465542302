"""Crash safety: SIGKILL at random points during a scan, capturing and sealing, a bank import
and sending notices, 100 kills in all by default; after each phase's kills the work is run to
the end and checked (nothing lost, nothing twice, no half-written file).

Usage: .venv/bin/python bench/kill.py [--kills 100] [--seed 2026]

The kills are shared between the four phases (scan 30%, capture 25%, import 20%, notices 25%)
and land on observed progress, then after a random delay within the time a step of that work
takes (tests/kill_points.py says which, phase by phase). Everything runs on 127.0.0.1: a demo
site, a demo time-stamping authority, a recording SMTP server. Figures go to stdout and to
bench/results/kill.json; the exit status is 1 if any violation was found.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import kill_points as kp  # noqa: E402
from machine_info import basics  # noqa: E402
from rempart.demo_site.tsa import DemoTimestampAuthority  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "kill.json"
SHARE = {"scan": 0.30, "capture": 0.25, "import": 0.20, "notices": 0.25}
PER_ROUND = {"scan": 5, "capture": 5, "import": 5, "notices": 5}


def planned(total: int) -> dict[str, int]:
    counts = {phase: int(total * share) for phase, share in SHARE.items()}
    counts["scan"] += total - sum(counts.values())
    return counts


def run(total: int, seed: int, work: Path) -> list[kp.PhaseResult]:
    rng = random.Random(seed)
    plan = planned(total)
    results: list[kp.PhaseResult] = []

    def rounds(phase: str, one: object) -> None:
        done = 0
        number = 0
        while done < plan[phase]:
            want = min(PER_ROUND[phase], plan[phase] - done)
            started = time.monotonic()
            result = one(work / f"{phase}-{number}", want)  # type: ignore[operator]
            result.seconds = time.monotonic() - started
            results.append(result)
            done += result.kills
            number += 1
            print(f"{phase} round {number}: {result.kills} kills, "
                  f"{len(result.violations)} violations", flush=True)  # fmt: skip
            if result.kills == 0:
                raise SystemExit(f"{phase}: a round ended before any kill; give it more work")

    with kp.demo_site() as site:
        expected = kp.scan_reference(site, work / "scan-reference")
        rounds("scan", lambda w, k: kp.scan_round(site, w, rng, k, expected))
    with DemoTimestampAuthority.start() as tsa:
        rounds("capture", lambda w, k: kp.capture_round(tsa, w, rng, k))
    rounds("import", lambda w, k: kp.import_round(w, rng, k))
    rounds("notices", lambda w, k: kp.notices_round(w, rng, k))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rempart-kill-") as scratch:
        results = run(args.kills, args.seed, Path(scratch))
    table = kp.merge(results)
    kills = sum(int(row["kills"]) for row in table.values())  # type: ignore[call-overload]
    violations = [v for row in table.values() for v in row["violations"]]  # type: ignore[attr-defined]
    print(f"\n{'phase':10} {'kills':>5} {'rounds':>6} {'violations':>10} {'left .part':>10}")
    for phase, row in table.items():
        print(f"{phase:10} {row['kills']:>5} {row['rounds']:>6} "
              f"{len(row['violations']):>10} {row['left_temporary']:>10}")  # type: ignore[arg-type]  # fmt: skip
    print(f"{'total':10} {kills:>5} {'':>6} {len(violations):>10}")
    for violation in violations:
        print("  violation:", violation)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "kills": kills,
                "violations": violations,
                "phases": table,
                "seed": args.seed,
                "seconds": round(time.monotonic() - started, 1),
                "machine": basics(),
            },
            indent=2,
        )
    )
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
