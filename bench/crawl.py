"""Benchmark: what a watch without a recipe reads and finds on the demo site, beside the demo's
recipes.

Usage: .venv/bin/python bench/crawl.py [--images N] [--seed S]

The demo site (rempart.demo_site) is served by this process on 127.0.0.1, each site on its own
port (a host and its port make a site: a crawl keeps to its start URL's port as it keeps to a
host on the web). Two sources are crawled each way, with default limits and a fresh state: the
forum from its home page and the mirror from its home page (`Recipe.crawl`, what
`rempart source add NAME web --url …` makes), then both with `ServedSite.recipes()`. For each
way: pages fetched, probes, media fetched, URL shapes cut, the copies fetched out of those
planted (`expected_sightings`), the trap pages requested (calendar, session ids) and the wall
time. Nothing is hashed or matched: the question is what reaches the pipeline. Results go to
stdout and bench/results/crawl.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "bench"))

from machine_info import basics  # noqa: E402
from rempart.demo_site import DemoSite, ServedSite  # noqa: E402
from rempart.fetch import Fetcher, FetchPolicy  # noqa: E402
from rempart.sources.base import Candidate, Validators  # noqa: E402
from rempart.sources.recipes import Recipe  # noqa: E402
from rempart.sources.web import ScanStats, WebSource  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "crawl.json"
POLICY = FetchPolicy(allow_networks=("127.0.0.1/32",), any_port=True, per_host_interval_s=0.0)


class FreshState:
    """A first scan: nothing seen, no validators."""

    def __init__(self) -> None:
        self.handled: set[str] = set()

    def seen(self, key: str) -> bool:
        return key in self.handled

    def validators(self, url: str) -> Validators | None:
        return None

    def save_validators(self, url: str, validators: Validators) -> None:
        pass


def crawl(recipes: dict[str, Recipe], served: ServedSite, log: list[str]) -> dict[str, Any]:
    log.clear()
    started = time.perf_counter()
    media: set[str] = set()
    stats: dict[str, ScanStats] = {}
    problems: list[str] = []
    with Fetcher(POLICY) as fetcher:
        for name, recipe in recipes.items():
            source, state = WebSource(recipe, fetcher), FreshState()
            for item in source.scan(state):
                if isinstance(item, Candidate):
                    media.add(item.media_url)
                    state.handled.add(item.key)
                else:
                    problems.append(f"{name}: {item.reason}")
            stats[name] = source.last_stats
    elapsed = time.perf_counter() - started
    expected = served.expected_sightings()
    found = [s for s in expected if s.media_url in media]
    return {
        "seconds": round(elapsed, 2),
        "pages": {name: s.pages_fetched for name, s in stats.items()},
        "stats": {name: asdict(s) for name, s in stats.items()},
        "copies_found": len(found),
        "copies_planted": len(expected),
        "missed": sorted(
            {f"{s.where} {s.embed} {s.page_url}" for s in expected}
            - {f"{s.where} {s.embed} {s.page_url}" for s in found}
        ),
        "calendar_requests": sum("/calendar" in line for line in log),
        "session_id_requests": sum("sid=" in line for line in log),
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    site = DemoSite(seed=args.seed, images=args.images)
    log: list[str] = []
    with site.serve(access_log=log.append) as served:
        plain = {
            "forum": Recipe.crawl([served.forum_url + "/"], name="forum"),
            "mirror": Recipe.crawl([served.mirror_url + "/"], name="mirror"),
        }
        recipes = {name: Recipe.from_mapping(r) for name, r in served.recipes().items()}
        results = {
            "machine": basics(),
            "images": args.images,
            "seed": args.seed,
            "threads": len(site.content.threads),
            "without_recipe": crawl(plain, served, log),
            "with_recipe": crawl(recipes, served, log),
        }
    for way in ("without_recipe", "with_recipe"):
        r = results[way]
        stats = r["stats"]
        print(
            f"{way:15} copies {r['copies_found']}/{r['copies_planted']}  pages "
            + " ".join(f"{n}={p}" for n, p in r["pages"].items())
            + f"  probes {sum(s['links_probed'] for s in stats.values())}"
            + f"  media {sum(s['media_fetched'] for s in stats.values())}"
            + f"  shapes cut {sum(s['patterns_cut'] for s in stats.values())}"
            + f"  calendar {r['calendar_requests']}  sid {r['session_id_requests']}"
            + f"  {r['seconds']} s"
        )
        for line in r["missed"]:
            print("   missed:", line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
