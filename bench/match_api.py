"""Benchmark: the match API over loopback — requests per second and latency percentiles.

Usage: .venv/bin/python bench/match_api.py [--items 100000] [--workers 1] [--clients 8]
       [--seconds 20] [--batch 1]

A store (SQLite, in a temporary folder) holds one bank of N random PDQ hashes. `rempart
serve` runs in its own process group (uvicorn, --workers W, rate limiting off); C client
threads, each with one keep-alive connection, send `POST /api/v1/match` requests of `--batch`
hashes for the given time, a quarter of them near a stored hash (must match) and the rest
random (must not). A wrong answer fails the run. Results go to stdout and
bench/results/match_api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from machine_info import basics  # noqa: E402  (bench/machine_info.py)

RESULTS = ROOT / "bench" / "results" / "match_api.json"


def _hashes(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.getrandbits(256).to_bytes(32, "big").hex() for _ in range(n)]


def _near(hex_hash: str, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), 8):
        value ^= 1 << bit
    return value.to_bytes(32, "big").hex()


def _store(home: Path, items: int) -> tuple[list[str], str]:
    from rempart.accounts.tokens import create_token
    from rempart.hashing.signals import PdqHash
    from rempart.intake.banks import create_bank, import_records
    from rempart.intake.hashlists import HashRecord
    from rempart.store.database import Database

    db = Database.open(f"sqlite:///{home / 'rempart.db'}")
    create_bank(db, "bench")
    stored = _hashes(items, 1)
    import_records(db, "bench", (HashRecord(pdq=PdqHash.from_hex(h)) for h in stored))
    token = create_token(db, "bench", "matcher", all_banks=True, actor="bench").secret
    db.dispose()
    return stored, token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        stored, token = _store(home, args.items)
        load_s = time.perf_counter() - started
        port = _free_port()
        env = {**os.environ, "REMPART_HOME": str(home), "REMPART_WEB_RATE": "0"}
        env.pop("REMPART_DATABASE_URL", None)
        env["PYTHONPATH"] = str(ROOT / "src")
        server = subprocess.Popen(
            [sys.executable, "-m", "rempart", "serve", "--port", str(port),
             "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            _run(args, port, stored, token, load_s)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def _run(args: argparse.Namespace, port: int, stored: list[str], token: str, load_s: float) -> None:
    url = f"http://127.0.0.1:{port}"
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        deadline = time.monotonic() + 300
        while True:  # until the server answers, and each worker has loaded the bank once
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server never started")
            time.sleep(0.05)
        warm_started = time.perf_counter()
        for _ in range(args.workers * 4):
            client.post("/api/v1/match", json={"inputs": [{"pdq": stored[0]}]}).raise_for_status()
        first_s = time.perf_counter() - warm_started

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            while time.monotonic() < stop:
                expected = []
                inputs = []
                for _ in range(args.batch):
                    if rng.random() < 0.25:
                        inputs.append({"pdq": _near(rng.choice(stored), rng)})
                        expected.append(True)
                    else:
                        inputs.append({"pdq": rng.getrandbits(256).to_bytes(32, "big").hex()})
                        expected.append(False)
                begin = time.perf_counter()
                answer = client.post("/api/v1/match", json={"inputs": inputs})
                mine.append(time.perf_counter() - begin)
                got = [bool(r["matches"]) for r in answer.json()["results"]]
                if answer.status_code != 200 or got != expected:
                    with lock:
                        errors.append(f"{answer.status_code}: {got} != {expected}")
        with lock:
            latencies.extend(mine)

    seeds = range(1000, 1000 + args.clients)  # never the stored hashes' seed
    threads = [threading.Thread(target=client_loop, args=(s,)) for s in seeds]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin
    if errors:
        raise SystemExit(f"{len(errors)} wrong answers, first: {errors[0]}")
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": basics(),
        "items": args.items,
        "workers": args.workers,
        "clients": args.clients,
        "batch": args.batch,
        "store_build_s": round(load_s, 1),
        "first_requests_s": round(first_s, 2),
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "hashes_per_s": round(len(latencies) * args.batch / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
