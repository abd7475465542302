"""The web source on the demo site (docs/demo-site.md): a forum of 90 threads, its image host
and a mirror, all on 127.0.0.1, each on its own port. Without a recipe, within the default limits,
and with the demo's recipes, every planted copy is fetched; the traps stay bounded; the
attachments' redirects to the image host pass the network guard only where it allows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import pytest

from rempart.demo_site import DemoSite, ServedSite
from rempart.fetch import Fetcher, FetchPolicy
from rempart.sources.base import Candidate, Problem, Validators
from rempart.sources.recipes import Limits, Recipe
from rempart.sources.web import ScanStats, WebSource

LOOPBACK = FetchPolicy(allow_networks=("127.0.0.1/32",), any_port=True, per_host_interval_s=0.0)


@dataclass
class Requests:
    """The sites' access log: one path (with its query) per request."""

    paths: list[str] = field(default_factory=list)

    def __call__(self, line: str) -> None:
        self.paths.append(line)


@dataclass
class State:
    handled: set[str] = field(default_factory=set)

    def seen(self, key: str) -> bool:
        return key in self.handled

    def validators(self, url: str) -> Validators | None:
        return None

    def save_validators(self, url: str, validators: Validators) -> None:
        pass


@dataclass
class Watched:
    candidates: list[Candidate]
    problems: list[Problem]
    stats: list[ScanStats]

    @property
    def media_urls(self) -> set[str]:
        return {c.media_url for c in self.candidates}


@pytest.fixture(scope="module")
def requests() -> Requests:
    return Requests()


@pytest.fixture(scope="module")
def served(requests: Requests) -> Iterator[ServedSite]:
    with DemoSite(seed=1, images=200).serve(access_log=requests) as site:
        yield site


def _watch(recipes: list[Recipe], policy: FetchPolicy = LOOPBACK) -> Watched:
    watched = Watched([], [], [])
    with Fetcher(policy) as fetcher:
        for recipe in recipes:
            source, state = WebSource(recipe, fetcher), State()
            for item in source.scan(state):
                if isinstance(item, Candidate):
                    watched.candidates.append(item)
                    state.handled.add(item.key)
                else:
                    watched.problems.append(item)
            watched.stats.append(source.last_stats)
    return watched


def test_the_demo_forum_is_a_forum_of_many_paginated_threads(served: ServedSite) -> None:
    threads = served.site.content.threads.values()
    assert sum(t.pages >= 2 for t in threads) >= 50
    deep = [s for s in served.expected_sightings() if s.page_url.endswith("?page=3")]
    assert deep  # some copies are on a thread's third page
    embeds = {s.embed for s in served.expected_sightings()}
    assert {"attachment", "attachment-thumb", "style", "picture", "lazy"} <= embeds


def test_a_watch_without_recipe_finds_every_copy_within_the_default_limits(
    served: ServedSite, requests: Requests
) -> None:
    requests.paths.clear()
    recipes = [
        Recipe.crawl([served.forum_url + "/"], name="forum"),
        Recipe.crawl([served.mirror_url + "/"], name="mirror"),
    ]

    watched = _watch(recipes)

    missing = {s.media_url for s in served.expected_sightings()} - watched.media_urls
    assert missing == set()
    limits = Limits()
    assert all(s.pages_fetched < limits.max_pages and not s.pages_over_limit for s in watched.stats)
    assert not [p for p in watched.problems if "limit" in p.reason]
    calendar = [p for p in requests.paths if "/calendar" in p]
    assert 0 < len(calendar) <= 2 * limits.max_idle_pages_per_pattern + 2
    assert not [p for p in requests.paths if "sid=" in p]  # session ids were stripped


def test_a_watch_with_the_demo_recipes_finds_every_copy(served: ServedSite) -> None:
    recipes = [Recipe.from_mapping(r) for r in served.recipes().values()]

    watched = _watch(recipes)

    missing = {s.media_url for s in served.expected_sightings()} - watched.media_urls
    assert missing == set()
    attachments = {c.key for c in watched.candidates if "/attachments/" in c.key}
    assert len(attachments) >= 2


def test_attachments_redirected_to_a_host_the_guard_refuses_are_problems_not_copies(
    served: ServedSite,
) -> None:
    image_port = urlsplit(served.imagehost_url).port
    others = {urlsplit(u).port for u in (served.forum_url, served.mirror_url)}
    forum_only = replace(LOOPBACK, any_port=False, allowed_ports=frozenset(others))

    watched = _watch([Recipe.from_mapping(served.recipes()["forum"])], forum_only)

    assert not [c for c in watched.candidates if urlsplit(c.media_url).port == image_port]
    refused = {p.where for p in watched.problems if f"port {image_port}" in p.reason}
    numbers = served.site.content.attachments
    shown = {f"{served.forum_url}/attachments/{n}" for n in numbers}
    assert shown & refused == shown  # every attachment went to the refused host, none got in
