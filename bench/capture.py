"""Benchmark: capturing demo-site pages as evidence with one reused Chromium, beside a plain
Playwright screenshot of the same pages.

Usage: .venv/bin/python bench/capture.py [--pages N] [--quick] [--seal]

The demo site (rempart.demo_site, 200 pictures) is served by this process on 127.0.0.1; the
pages are forum and mirror pages that show pictures. One browser is opened for the run, and
every page is measured twice, alternately, wall-clock:

* capture: `capture_page` (fresh context and relay, load, settle, scroll, freeze, full-page
  screenshot, HTML, bodies, certificates, WARC, media hashed with PDQ, context, checklist);
* anchor:  plain Playwright in a fresh context: `page.goto` (load event) and
  `page.screenshot(full_page=True)`, nothing recorded;
* seal (with --seal, when rempart.evidence.bundle exists): `seal_capture` of each capture,
  with a demo RFC 3161 authority on 127.0.0.1; reported alone and added to the capture.

Goal: capture and seal within 5 s per page at the median, on 2 cores. Results go to stdout
and bench/results/capture.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from rempart.demo_site import DemoSite  # noqa: E402
from rempart.evidence.artifacts import Capture  # noqa: E402
from rempart.evidence.browser import DEFAULT_CHROMIUM, open_browser  # noqa: E402
from rempart.evidence.capture import Operator, capture_page  # noqa: E402
from rempart.fetch import FetchPolicy  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "capture.json"
POLICY = FetchPolicy(allow_networks=("127.0.0.1/32",), any_port=True)
OPERATOR = Operator("bench", "Rempart benchmark")
GOAL_S = 5.0

Sealer = Callable[[Capture], bytes]


def pages(served: Any, count: int) -> list[str]:
    """Forum and mirror pages showing pictures, victims' copies first, no repeats."""
    urls = list(dict.fromkeys(s.page_url for s in served.expected_sightings()))
    return urls[:count]


def anchor_times(urls: list[str]) -> list[float]:
    """What a plain script does, timed per page: Chromium launched by Playwright the usual
    way (no relay), a fresh context per page, `goto` (load event), a full-page screenshot."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=DEFAULT_CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        for index, url in enumerate([urls[0], *urls]):  # the first one warms up
            started = time.perf_counter()
            context = chromium.new_context(viewport={"width": 1366, "height": 768})
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.screenshot(full_page=True)
            context.close()
            if index:
                times.append(time.perf_counter() - started)
        chromium.close()
    return times


@contextmanager
def sealer() -> Iterator[Sealer]:
    """`seal_capture` as bench/seal.py measures it: a fixed key, the demo authority."""
    from seal import demo_sealing, seal  # bench/seal.py, beside this script

    with demo_sealing() as (key, stamper, _authority):
        yield lambda capture: seal(capture, key, stamper)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20, help="pages measured (default 20)")
    parser.add_argument("--quick", action="store_true", help="5 pages")
    parser.add_argument("--seal", action="store_true", help="also seal each capture")
    args = parser.parse_args()
    count = 5 if args.quick else args.pages

    site = DemoSite(seed=1, images=200)
    site.warm()  # every picture made ahead: neither pass pays for making them
    times: dict[str, list[float]] = {"capture": [], "anchor": [], "seal": []}
    details: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with site.serve() as served:
        urls = pages(served, count)
        # Plain Playwright first (Playwright's sync API runs one instance at a time), then
        # Rempart's captures of the same pages, in the same run.
        times["anchor"] = anchor_times(urls)
        with open_browser() as browser, _maybe(sealer, args.seal) as seal:
            chromium = browser.version
            capture_page(browser, urls[0], operator=OPERATOR, policy=POLICY)  # warm up
            for url, anchor_s in zip(urls, times["anchor"], strict=True):
                capture_s, capture = timed(
                    lambda u=url: capture_page(browser, u, operator=OPERATOR, policy=POLICY)
                )
                times["capture"].append(capture_s)
                row = {
                    "url": url,
                    "capture_s": round(capture_s, 3),
                    "anchor_s": round(anchor_s, 3),
                    "requests": capture.context["requests"]["answered"],
                    "media": len(capture.media),
                    "settle_s": capture.context["page"]["load"]["settle_s"],
                    "screenshot_px": capture.context["screenshot"].get("height_px"),
                }
                if seal is not None:
                    seal_s, bundle = timed(lambda c=capture: seal(c))
                    times["seal"].append(seal_s)
                    row.update(seal_s=round(seal_s, 3), bundle_bytes=len(bundle))
                details.append(row)
                print(
                    f"{url.split('//', 1)[1]:<58} capture {capture_s:5.2f} s  anchor "
                    f"{anchor_s:5.2f} s" + (f"  seal {row['seal_s']:5.2f} s" if seal else "")
                )

    summary = {name: percentiles(samples) for name, samples in times.items() if samples}
    if times["seal"]:
        total = [c + s for c, s in zip(times["capture"], times["seal"], strict=True)]
        summary["capture+seal"] = percentiles(total)
    ratio = summary["capture"]["p50_s"] / summary["anchor"]["p50_s"]
    print(f"\n{count} pages, one reused Chromium {chromium}, {os.cpu_count()} CPUs")
    for name, row in summary.items():
        print(f"  {name:<13} p50 {row['p50_s']:5.2f} s   p95 {row['p95_s']:5.2f} s")
    print(f"  capture / anchor at p50: {ratio:.1f}x")
    headline = summary.get("capture+seal", summary["capture"])
    verdict = "within" if headline["p50_s"] <= GOAL_S else "OVER"
    print(f"  goal {GOAL_S:g} s per page at p50 ({'capture+seal' if seal else 'capture'}): "
          f"{verdict}")  # fmt: skip

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "capture",
        "command": " ".join(["bench/capture.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "chromium": chromium,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "pages": count,
        "summary": summary,
        "capture_over_anchor_p50": round(ratio, 2),
        "per_page": details,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")


@contextmanager
def _maybe(factory: Callable[[], Any], wanted: bool) -> Iterator[Any]:
    if not wanted:
        yield None
        return
    with factory() as made:
        yield made


if __name__ == "__main__":
    main()
