"""A web source added with start URLs only (`rempart source add NAME web --url …`) watches the
demo forum and mirror as well as their recipes do: the same copies become findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.demo_site import DemoSite
from rempart.demo_site.site import ServedSite
from rempart.hashing import Windows
from rempart.intake import banks
from rempart.jobs import watchlist
from rempart.jobs.findings import list_findings
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database

LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}


@pytest.fixture(scope="module")
def site() -> Iterator[ServedSite]:
    with DemoSite(seed=3, images=60).serve() as served:
        yield served


def _found(db: Database, source: str) -> set[tuple[str, str]]:
    return {(v.page_url, v.media_url) for v in list_findings(db, source=source)}


def test_a_watch_without_recipe_records_what_the_recipes_record(
    db: Database, site: ServedSite, tmp_path: Path
) -> None:
    banks.create_bank(db, "victim")
    paths = []
    for i, data in enumerate(site.victim_images()):
        paths.append(tmp_path / f"victim-{i}.jpg")
        paths[-1].write_bytes(data)
    assert all(
        o.item_id is not None
        for o in banks.add_images(db, "victim", paths, extras=Windows.CROPS | Windows.GRID)
    )
    recipes = site.recipes()
    for where, url in (("forum", site.forum_url), ("mirror", site.mirror_url)):
        watchlist.add_source(db, f"{where}-recipe", "web", {**LOOPBACK, "recipe": recipes[where]})
        watchlist.add_source(db, f"{where}-urls", "web", {**LOOPBACK, "start_urls": [url + "/"]})
    matcher = Matcher(db)

    for name in ("forum-recipe", "mirror-recipe", "forum-urls", "mirror-urls"):
        run_scan(db, matcher, name)

    by_recipe = _found(db, "forum-recipe") | _found(db, "mirror-recipe")
    without = _found(db, "forum-urls") | _found(db, "mirror-urls")
    media = {m for _, m in without}
    assert {m for _, m in by_recipe} <= media
    expected = {s.media_url for s in site.expected_sightings() if s.alteration == "exact"}
    assert expected <= media
