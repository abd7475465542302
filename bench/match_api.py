"""Benchmark: the match API over loopback, beside a bare FastAPI endpoint measured in the same
run — requests per second and latency percentiles, and the ratio of the two.

Usage: .venv/bin/python bench/match_api.py [--items 1000000] [--workers 2] [--connections 16]
       [--seconds 15] [--warmup 3] [--batch 1] [--store PATH] [--no-anchor]

The store (SQLite) holds one bank of N random PDQ hashes; it is built once through the import
use case and kept (default bench/results/stores/match-N.db) for the next runs. `rempart serve`
runs in its own process group (uvicorn, W workers, rate limiting off), each worker loading the
bank before it takes requests. The load generator (bench/loadgen.py) runs in a process of its
own: C keep-alive connections, each sending `POST /api/v1/match` with `--batch` hashes, one
request at a time; a quarter of the hashes lie 8 bits from a stored one (they must match), the
rest are random (they must not): a wrong answer fails the run. The anchor — bench/anchor_app.py,
a FastAPI endpoint that does nothing, under the same uvicorn options and workers — gets the
same connections and the same bodies. Results go to stdout and bench/results/match_api.json,
with the load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from machine_info import basics  # noqa: E402  (bench/machine_info.py)
from servers import anchor, free_port, load, load_average, serving  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "match_api.json"
STORES = ROOT / "bench" / "results" / "stores"
_SEED = 1


def _hashes(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.getrandbits(256).to_bytes(32, "big").hex() for _ in range(n)]


def _near(hex_hash: str, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), 8):
        value ^= 1 << bit
    return value.to_bytes(32, "big").hex()


def _store(path: Path, items: int) -> tuple[float, str]:
    """The store at `path` with its bank of `items` hashes (built if missing), and a new
    matcher token."""
    from sqlalchemy import func, select

    from rempart.accounts.tokens import create_token
    from rempart.hashing.signals import PdqHash
    from rempart.intake.banks import create_bank, import_records
    from rempart.intake.hashlists import HashRecord
    from rempart.store.database import Database
    from rempart.store.models import Item

    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database.open(f"sqlite:///{path}")
    with db.session() as session:
        count = session.scalar(select(func.count(Item.id))) or 0
    if count != items:
        db.dispose()
        path.unlink()
        db = Database.open(f"sqlite:///{path}")
        create_bank(db, "bench")
        rng = random.Random(_SEED)
        records = (
            HashRecord(pdq=PdqHash(rng.getrandbits(256).to_bytes(32, "big"))) for _ in range(items)
        )
        import_records(db, "bench", records)
    name = f"bench-{os.getpid()}-{time.time_ns()}"
    token = create_token(db, name, "matcher", all_banks=True, actor="bench").secret
    db.dispose()
    return time.perf_counter() - started, token


def _requests(items: int, batch: int, count: int) -> list[dict[str, object]]:
    stored = _hashes(min(items, 100_000), _SEED)  # the first of the bank's hashes
    rng = random.Random(1000)
    requests: list[dict[str, object]] = []
    for _ in range(count):
        inputs, expect = [], []
        for _ in range(batch):
            if rng.random() < 0.25:
                inputs.append({"pdq": _near(rng.choice(stored), rng)})
                expect.append(True)
            else:
                inputs.append({"pdq": rng.getrandbits(256).to_bytes(32, "big").hex()})
                expect.append(False)
        body = json.dumps({"inputs": inputs}, separators=(",", ":"))
        requests.append({"method": "POST", "path": "/api/v1/match", "body": body, "expect": expect})
    return requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--no-anchor", action="store_true")
    args = parser.parse_args()
    store = args.store or STORES / f"match-{args.items}.db"

    store_s, token = _store(store, args.items)
    requests = _requests(args.items, args.batch, 2000)
    plan = {
        "host": "127.0.0.1",
        "connections": args.connections,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "headers": {"authorization": f"Bearer {token}"},
    }
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        anchor_result = None
        if not args.no_anchor:
            port = free_port()
            hello = [{**r, "path": "/hello", "expect": None} for r in requests]
            with anchor(port, args.workers, tmp):
                anchor_result = load({**plan, "port": port, "requests": hello}, tmp)
        port = free_port()
        env = {
            **os.environ,
            "REMPART_DATABASE_URL": f"sqlite:///{store}",
            "REMPART_HOME": str(tmp),
            "REMPART_WEB_RATE": "0",
            "PYTHONPATH": str(ROOT / "src"),
        }
        command = [sys.executable, "-m", "rempart", "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        started = time.perf_counter()
        with serving(command, env, args.workers, tmp / "serve.log"):
            ready_s = time.perf_counter() - started
            ours = load({**plan, "port": port, "requests": requests}, tmp)
    if ours["wrong"]:
        raise SystemExit(f"{ours['wrong']} wrong answers, first: {ours['first_wrong']}")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": basics(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "items": args.items,
        "workers": args.workers,
        "connections": args.connections,
        "batch": args.batch,
        "seconds": args.seconds,
        "store_s": round(store_s, 1),
        "server_ready_s": round(ready_s, 1),
        "match_api": ours,
        "anchor": anchor_result,
        "hashes_per_s": round(ours["requests_per_s"] * args.batch, 1),
    }
    if anchor_result:
        result["ratio_of_anchor_requests_per_s"] = round(
            ours["requests_per_s"] / anchor_result["requests_per_s"], 3
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    a = anchor_result or {}
    print(
        f"\nmatch API: {ours['requests_per_s']} req/s, p50 {ours['p50_ms']} ms, "
        f"p99 {ours['p99_ms']} ms | anchor (bare FastAPI): {a.get('requests_per_s')} req/s, "
        f"p50 {a.get('p50_ms')} ms, p99 {a.get('p99_ms')} ms | ratio "
        f"{result.get('ratio_of_anchor_requests_per_s')} | load {load_before} -> "
        f"{result['load_average_after']}"
    )


if __name__ == "__main__":
    main()
