"""A lean HTTP/1.1 load generator for the web benches, run as its own process.

Usage (the benches start it): python bench/loadgen.py PLAN.json RESULT.json

PLAN: {"host", "port", "connections", "seconds", "warmup_s", "headers": {...},
"connection_headers": [{...}, ...] (cycled over the connections: a session cookie each, say),
"requests": [{"method", "path", "body" (JSON text, optional), "expect" (optional)}, ...],
"connection_requests": [[...], ...] (optional: each connection's own requests, cycled),
"think_s": 0 (optional: a pause after each answer, 0.5-1.5 times this, as a person reads)}.
Each connection is one keep-alive socket on one asyncio loop (uvloop when installed) sending
the requests in turn, one at a time, and timing each answer. `expect`, when given, says which
inputs of a match request must match: the answer's `results[k].matches` must be non-empty
exactly there. Any other status than 200, or a wrong answer, is counted (and the first one
kept). Answers during the warm-up are not counted.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any


def _encoded(plan: dict[str, Any], connection: int) -> list[tuple[bytes, Any]]:
    extra = plan.get("connection_headers") or [{}]
    headers = {**plan.get("headers", {}), **extra[connection % len(extra)]}
    mine = plan.get("connection_requests") or [plan["requests"]]
    out = []
    for r in mine[connection % len(mine)]:
        head = f"{r['method']} {r['path']} HTTP/1.1\r\nhost: {plan['host']}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        body = r.get("body", "").encode()
        if body:
            head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        out.append(((head + "\r\n").encode() + body, r.get("expect")))
    return out


async def _connection(
    plan: dict[str, Any], c: int, start: float, stop: float, out: list[float], wrong: list[str]
) -> None:
    requests = _encoded(plan, c)
    reader, writer = await asyncio.open_connection(plan["host"], plan["port"])
    i = c * 7919
    think = float(plan.get("think_s", 0))
    rng = random.Random(c)
    try:
        while (now := time.perf_counter()) < stop:
            request, expect = requests[i % len(requests)]
            i += 1
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            done = time.perf_counter()
            if now >= start:
                out.append(done - now)
            status = status_line.split(b" ", 2)[1] if status_line else b"?"
            if status != b"200":
                wrong.append(f"{status.decode()}: {body[:200]!r}")
            elif expect is not None:
                got = [bool(r["matches"]) for r in json.loads(body)["results"]]
                if got != expect:
                    wrong.append(f"{got} != {expect}")
            if think:  # a person reading the page before the next click
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    finally:
        writer.close()


async def _run(plan: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter() + plan["warmup_s"]
    stop = start + plan["seconds"]
    latencies: list[float] = []
    wrong: list[str] = []
    await asyncio.gather(
        *(_connection(plan, c, start, stop, latencies, wrong) for c in range(plan["connections"]))
    )
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / plan["seconds"], 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "wrong": len(wrong),
        "first_wrong": wrong[0] if wrong else None,
    }


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop

        result = uvloop.run(_run(plan))
    except ImportError:
        result = asyncio.run(_run(plan))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
