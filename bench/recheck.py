"""Benchmark: re-checks per second with hashing, and memory, for 1k and 10k tracked copies.

Usage: .venv/bin/python bench/recheck.py [--sizes 1000,10000] [--threads 8]

A store (SQLite, in a temporary folder) holds one victim's bank of 20 neutral pictures and N
confirmed copies, each with one media address on a loopback HTTP server run in its own
process: 70% serve their picture recompressed (online), 10% answer 404, 10% serve a shared
placeholder picture, 10% serve another picture (changed). Each measured run is a fresh child
process, so that its peak memory is its own:

* recheck: `rempart.jobs.recheck.recheck` over every copy, as `rempart recheck --all` runs it
           (guarded fetch, hash with the 8 variants and the matcher's windows, match, decide,
           record each check and schedule);
* anchor:  the same URLs fetched with a bare `httpx.Client.get` and hashed with
           `pdqhash.compute` after a Pillow decode, on as many threads; nothing matched or
           stored.

The results must show every status where expected, or the command fails. Results go to
stdout and bench/results/recheck.json.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from machine_info import basics  # noqa: E402  (bench/machine_info.py)

RESULTS = ROOT / "bench" / "results" / "recheck.json"
PICTURES = 20
GOAL = 200  # URLs/s on 2 cores


def _jpeg(seed: int, width: int = 320, height: int = 240, quality: int = 90) -> bytes:
    from rempart.samples import neutral_image

    buffer = io.BytesIO()
    neutral_image(seed, width, height).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


KINDS = ["online"] * 7 + ["removed", "placeholder", "changed"]


def expected(i: int) -> str:
    return KINDS[i % 10]


# ----------------------------------------------------------------------------- the server


def _resized(data: bytes) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).resize((300, 225)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def _serve(port_out: Any) -> None:
    online = [_resized(_jpeg(seed)) for seed in range(PICTURES)]
    placeholder = _jpeg(999, 400, 300)
    changed: dict[int, bytes] = {}  # another picture per address, made on first request

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            i = int(self.path.rsplit("/", 1)[1].split(".")[0])
            kind = expected(i)
            status, body = 200, b""
            if kind == "online":
                body = online[i % PICTURES]
            elif kind == "changed":
                body = changed.get(i) or changed.setdefault(i, _jpeg(10_000 + i))
            elif kind == "placeholder":
                body = placeholder
            else:
                status, body = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "image/jpeg" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client closing its pooled connection at exit is no error

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


# ----------------------------------------------------------------------------- the store


def _store(path: Path, n: int, port: int) -> None:
    import hashlib

    from rempart.intake import banks, cases
    from rempart.jobs import watchlist
    from rempart.store.database import Database
    from rempart.store.models import Finding, FindingStatus, Sighting

    db = Database.open(f"sqlite:///{path}")
    cases.create_case(db, "bench")
    banks.create_bank(db, "bench-images", case="bench")
    files = []
    for seed in range(PICTURES):
        file = path.parent / f"item-{seed}.jpg"
        file.write_bytes(_jpeg(seed))
        files.append(file)
    outcomes = banks.add_images(db, "bench-images", files, label="photo")
    items = [o.item_id for o in outcomes]
    source = watchlist.add_source(db, "bench", "files", {"path": str(path.parent)})
    now = datetime.now(UTC)
    with db.session() as session:
        for start in range(0, n, 1000):
            sightings = []
            for i in range(start, min(n, start + 1000)):
                url = f"http://127.0.0.1:{port}/m/{i}.jpg"
                sightings.append(
                    Sighting(
                        source_id=source,
                        key_sha=hashlib.sha256(url.encode()).hexdigest(),
                        key=url,
                        media_url=url,
                        first_seen_at=now,
                        last_seen_at=now,
                        media="image",
                        sha256=hashlib.sha256(url.encode()).hexdigest(),
                        md5="0" * 32,
                        context="{}",
                    )
                )
            session.add_all(sightings)
            session.flush()
            session.add_all(
                Finding(
                    sighting_id=s.id,
                    item_id=items[i % PICTURES],
                    bank="bench-images",
                    method="pdq",
                    distance=0,
                    threshold=31,
                    found_at=now,
                    status=FindingStatus.CONFIRMED,
                )
                for i, s in zip(range(start, start + len(sightings)), sightings, strict=True)
            )
    db.dispose()


# ----------------------------------------------------------------------------- measured runs


def _child(mode: str, path: str, n: int, port: int, threads: int) -> dict[str, Any]:
    if mode == "recheck":
        from rempart.fetch import FetchPolicy
        from rempart.jobs import recheck as rc
        from rempart.matching.service import Matcher
        from rempart.store.database import Database

        rc._THREADS = threads
        db = Database.open(f"sqlite:///{path}")
        policy = FetchPolicy(
            allow_networks=("127.0.0.1/32",),
            any_port=True,
            per_host_interval_s=0.0,
            per_host_concurrency=threads,
            total_timeout_s=20.0,
        )
        matcher = Matcher(db)
        matcher.refresh()
        started = time.perf_counter()
        tracked = rc.tracked_findings(db, rc.Selection.ALL)
        counts: dict[str, int] = {}
        wrong = 0

        def count(outcome: rc.CheckOutcome) -> None:
            nonlocal wrong
            counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
            i = int(outcome.url.rsplit("/", 1)[1].split(".")[0])
            want = {"placeholder": "removed"}.get(expected(i), expected(i))
            wrong += outcome.status.value != want

        rc.recheck(db, matcher, tracked, policy=policy, progress=count)
        seconds = time.perf_counter() - started
        detail: dict[str, Any] = {"statuses": counts, "wrong": wrong}
    else:
        import httpx
        import numpy as np
        import pdqhash
        from PIL import Image

        urls = [f"http://127.0.0.1:{port}/m/{i}.jpg" for i in range(n)]
        client = httpx.Client(limits=httpx.Limits(max_connections=threads))

        def one(url: str) -> None:
            response = client.get(url)
            if response.status_code == 200:
                pixels = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
                pdqhash.compute(pixels)

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, urls))
        seconds = time.perf_counter() - started
        detail = {}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "urls": n,
        "seconds": seconds,
        "urls_per_s": n / seconds,
        "peak_rss_mib": peak_kib / 1024,
        **detail,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--child", nargs=4, metavar=("MODE", "DB", "N", "PORT"))
    args = parser.parse_args()
    if args.child:
        mode, path, n, port = args.child
        print(json.dumps(_child(mode, path, int(n), int(port), args.threads)))
        return
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    port = queue.get(timeout=60)
    results: dict[str, Any] = {"machine": basics(), "threads": args.threads, "sizes": {}}
    failed = False
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "rempart.db"
                _store(path, n, port)
                runs = {}
                for mode in ("anchor", "recheck"):
                    command = [
                        sys.executable, __file__, "--threads", str(args.threads),
                        "--child", mode, str(path), str(n), str(port),
                    ]  # fmt: skip
                    done = subprocess.run(command, capture_output=True, text=True, check=True)
                    runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
                results["sizes"][n] = runs
                r, a = runs["recheck"], runs["anchor"]
                failed |= r["wrong"] > 0
                print(
                    f"{n:>6} tracked: recheck {r['urls_per_s']:.0f} URLs/s "
                    f"({r['peak_rss_mib']:.0f} MiB peak), anchor {a['urls_per_s']:.0f} URLs/s "
                    f"({a['peak_rss_mib']:.0f} MiB) = {r['urls_per_s'] / a['urls_per_s']:.2f}x; "
                    f"statuses {r['statuses']}, wrong {r['wrong']}"
                )
    finally:
        server.terminate()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    if failed:
        raise SystemExit("some copies got the wrong status")
    if os.cpu_count() and all(
        runs["recheck"]["urls_per_s"] < GOAL for runs in results["sizes"].values()
    ):
        print(f"below the goal of {GOAL} URLs/s")


if __name__ == "__main__":
    main()
