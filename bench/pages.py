"""Benchmark: the caseworkers' pages with 10 caseworkers at once, beside a bare FastAPI page
measured in the same run — requests per second and latency percentiles.

Usage: .venv/bin/python bench/pages.py [--caseworkers 10] [--cases 30] [--findings 3]
       [--workers 2] [--seconds 15] [--warmup 3] [--think 0]

A SQLite store holds `--cases` cases, each with its bank and `--findings` pending findings
(tests/findings_made.py), and `--caseworkers` caseworker accounts, each assigned a few cases.
`rempart serve` runs in its own process group (rate limiting off). Each caseworker signs in
through the sign-in form (CSRF and all), then the load generator (bench/loadgen.py, its own
process) gives each her own keep-alive connection with her session cookie: she browses the
dashboard, the cases list and her cases' pages in turn, one request at a time, as fast as the
server answers (far faster than a person), or with `--think S` pausing 0.5-1.5 S after each
page as a person reading it would. The anchor is bench/anchor_app.py's `GET /hello`
under the same uvicorn options. Results go to stdout and bench/results/pages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from machine_info import basics  # noqa: E402  (bench/machine_info.py)
from servers import anchor, free_port, load, load_average, serving  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "pages.json"
PASSWORD = "bench horse battery staple"


def _store(home: Path, caseworkers: int, cases: int, findings: int) -> dict[str, list[str]]:
    """The store, and each caseworker's cases."""
    from findings_made import make_finding  # tests/findings_made.py
    from rempart.accounts import users
    from rempart.accounts.policy import Role
    from rempart.store.database import Database

    db = Database.open(f"sqlite:///{home / 'rempart.db'}")
    names = [f"case-{n:03d}" for n in range(cases)]
    media = home / "media"
    media.mkdir()
    for n, case in enumerate(names):
        for f in range(findings):
            make_finding(db, None, media, case=case, seed=n * 100 + f)
    assigned: dict[str, list[str]] = {}
    for w in range(caseworkers):
        mine = [names[(w * 3 + k) % cases] for k in range(3)]
        name = f"worker{w:02d}"
        users.add_user(db, name, Role.CASEWORKER, cases=mine, password=PASSWORD, actor="bench")
        assigned[name] = mine
    db.dispose()
    return assigned


def _sign_in(url: str, name: str) -> str:
    """The session cookie header of `name`, signed in through the form."""
    with httpx.Client(base_url=url, timeout=120) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, "no CSRF field on the sign-in page"
        answer = client.post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf": csrf.group(1)},
            follow_redirects=False,
        )
        if answer.status_code != 303:
            raise SystemExit(f"{name} could not sign in: {answer.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--caseworkers", type=int, default=10)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--findings", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument(
        "--think", type=float, default=0, help="seconds a caseworker reads a page (0: none)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        started = time.perf_counter()
        assigned = _store(home, args.caseworkers, args.cases, args.findings)
        store_s = time.perf_counter() - started
        plan = {
            "host": "127.0.0.1",
            "connections": args.caseworkers,
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "think_s": args.think,
        }
        load_before = load_average()
        port = free_port()
        with anchor(port, args.workers, tmp):
            hello = load(
                {**plan, "port": port, "requests": [{"method": "GET", "path": "/hello"}]}, tmp
            )
        port = free_port()
        env = {
            **os.environ,
            "REMPART_HOME": str(home),
            "REMPART_WEB_RATE": "0",
            "PYTHONPATH": str(ROOT / "src"),
        }
        env.pop("REMPART_DATABASE_URL", None)
        command = [sys.executable, "-m", "rempart", "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        with serving(command, env, args.workers, tmp / "serve.log"):
            url = f"http://127.0.0.1:{port}"
            cookies = [{"cookie": _sign_in(url, name)} for name in assigned]
            rounds = [
                [
                    {"method": "GET", "path": p}
                    for p in ("/", "/cases", *(f"/cases/{c}" for c in mine))
                ]
                for mine in assigned.values()
            ]
            ours = load(
                {
                    **plan,
                    "port": port,
                    "requests": rounds[0],
                    "connection_requests": rounds,
                    "connection_headers": cookies,
                },
                tmp,
            )
    if ours["wrong"]:
        raise SystemExit(f"{ours['wrong']} failed pages, first: {ours['first_wrong']}")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": basics(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "caseworkers": args.caseworkers,
        "cases": args.cases,
        "findings_per_case": args.findings,
        "workers": args.workers,
        "seconds": args.seconds,
        "think_s": args.think,
        "store_s": round(store_s, 1),
        "pages": ours,
        "anchor": hello,
        "ratio_of_anchor_requests_per_s": round(
            ours["requests_per_s"] / hello["requests_per_s"], 3
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"\npages ({args.caseworkers} caseworkers): {ours['requests_per_s']} req/s, "
        f"p50 {ours['p50_ms']} ms, p95 {ours['p95_ms']} ms | anchor (bare FastAPI): "
        f"{hello['requests_per_s']} req/s, p50 {hello['p50_ms']} ms, p95 {hello['p95_ms']} ms | "
        f"ratio {result['ratio_of_anchor_requests_per_s']} | load {load_before} -> "
        f"{result['load_average_after']}"
    )


if __name__ == "__main__":
    main()
