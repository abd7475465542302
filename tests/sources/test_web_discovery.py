"""How the web source finds media without being told where: a whole forum crawled without a
recipe within the default budget, traps kept bounded, and links that lead to media only once
followed (attachments behind redirects), with the network guard on every hop."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from rempart.fetch import Fetcher
from rempart.samples import web_jpeg
from rempart.sources.base import Candidate, Problem, Source
from rempart.sources.html import Page
from rempart.sources.recipes import Limits, Recipe
from rempart.sources.web import WebSource, url_shapes

if TYPE_CHECKING:
    from conftest import LoopbackSite, MemoryState, Reply, Seen

    SiteFactory = Callable[[str], LoopbackSite]
    FetcherFactory = Callable[..., Fetcher]

JPEG = {"Content-Type": "image/jpeg"}


def _html(body: str, head: str = "") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def _jpeg(name: str) -> bytes:
    return web_jpeg(int(hashlib.md5(name.encode()).hexdigest()[:6], 16), 40, 30)


def _scan(source: Source, state: MemoryState) -> tuple[list[Candidate], list[Problem]]:
    candidates, problems = [], []
    for item in source.scan(state):
        if isinstance(item, Candidate):
            candidates.append(item)
            for key in (item.key, *item.aliases):  # as the scan pipeline records them
                state.handle(key)
        else:
            problems.append(item)
    return candidates, problems


# ------------------------------------------------------------------------ a whole forum


class NumberedForum:
    """A forum whose URLs differ only by numbers, as the one that starved the old crawl: a
    board of 3 pages listing 60 threads `/threads/N`, each of 3 pages `/threads/N/page-P`
    chained by "Next ›"; one picture per page, but every fourth thread is text only. Traps:
    an endless calendar, session ids in every link, and a listing in every sort order."""

    THREADS = 60
    PAGES = 3
    PER_BOARD_PAGE = 20

    def __init__(self, site: LoopbackSite) -> None:
        self.site = site
        self.pictures: set[str] = set()
        site.route("/", self._home)
        site.route("/forum", self._board)
        site.route("/calendar", self._calendar)
        site.route("/list", self._sorted_list)
        site.fallback = self._other
        for thread in range(self.THREADS):
            for page in range(1, self.PAGES + 1):
                if thread % 4 != 3:
                    self.pictures.add(site.url(f"/pics/{thread}-{page}.jpg"))

    def _nav(self, seen: Seen) -> str:
        sid = hashlib.sha1(seen.path.encode()).hexdigest()  # a new session id on each page
        return (
            f'<nav><a href="/?sid={sid}">Home</a> <a href="/calendar?month=2024-06">Events</a>'
            f' <a href="/list?sort=date&order=asc&sid={sid}">All posts</a></nav>'
        )

    def _home(self, seen: Seen) -> Reply:
        return self.site.reply(_html(self._nav(seen) + '<a href="/forum">The board</a>'))

    def _board(self, seen: Seen) -> Reply:
        page = int(seen.path.partition("page=")[2] or 1)
        first = (page - 1) * self.PER_BOARD_PAGE
        rows = "".join(
            f'<li><a href="/threads/{t}">Thread {t}</a></li>'
            for t in range(first, min(first + self.PER_BOARD_PAGE, self.THREADS))
        )
        pages = -(-self.THREADS // self.PER_BOARD_PAGE)
        following = f'<a href="/forum?page={page + 1}">Next ›</a>' if page < pages else ""
        return self.site.reply(_html(f"{self._nav(seen)}<ul>{rows}</ul>{following}"))

    def _thread(self, seen: Seen, thread: int, page: int) -> Reply:
        picture = (
            f'<img src="/pics/{thread}-{page}.jpg" width="40" height="30">'
            if thread % 4 != 3
            else "<p>Just words here.</p>"
        )
        following = (
            f'<a class="button" href="/threads/{thread}/page-{page + 1}">Next ›</a>'
            if page < self.PAGES
            else ""
        )
        return self.site.reply(_html(f"{self._nav(seen)}<article>{picture}</article>{following}"))

    def _calendar(self, seen: Seen) -> Reply:
        year, month = (int(p) for p in seen.path.partition("month=")[2].split("-"))
        after = f"{year + month // 12}-{month % 12 + 1:02d}"
        before = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
        links = f'<a href="/calendar?month={before}">‹</a> <a href="/calendar?month={after}">›</a>'
        return self.site.reply(_html(f"{self._nav(seen)}<h1>{year}-{month}</h1>{links}"))

    def _sorted_list(self, seen: Seen) -> Reply:
        orders = itertools.product(("date", "title", "author", "views", "replies"), ("asc", "desc"))
        links = "".join(
            f'<a href="/list?sort={s}&order={o}&filter={n}">{s} {o}</a>'
            for n in range(4)
            for s, o in orders
        )
        return self.site.reply(_html(f"{self._nav(seen)}<p>All posts.</p>{links}"))

    def _other(self, seen: Seen) -> Reply:
        path = seen.path.split("?", 1)[0]
        if path.startswith("/pics/"):
            return self.site.reply(_jpeg(path), headers=JPEG)
        parts = path.strip("/").split("/")
        if parts[0] == "threads" and parts[1].isdigit():
            page = int(parts[2].removeprefix("page-")) if len(parts) > 2 else 1
            if int(parts[1]) < self.THREADS and 1 <= page <= self.PAGES:
                return self._thread(seen, int(parts[1]), page)
        return self.site.reply(b"not found", status=404)


def test_a_forum_of_numbered_threads_is_crawled_whole_by_default_and_its_traps_stay_bounded(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    forum = NumberedForum(site)
    source = WebSource(Recipe.crawl([site.url("/")]), fetcher)

    candidates, problems = _scan(source, state)

    assert {c.key for c in candidates} == forum.pictures  # third pages and all 60 threads
    assert problems == []
    stats, limits = source.last_stats, Limits()
    assert stats.pages_fetched < limits.max_pages
    calendar = [s for s in site.seen if s.path.startswith("/calendar")]
    assert len(calendar) <= 2 * limits.max_idle_pages_per_pattern + 2
    permutations = [s for s in site.seen if s.path.startswith("/list")]
    assert len(permutations) <= limits.max_idle_pages_per_pattern + 2
    assert not [s for s in site.seen if "sid=" in s.path]
    assert site.hits("/") == 1
    assert stats.patterns_cut >= 2


def test_a_shape_is_cut_only_after_its_idle_pages_outnumber_its_useful_ones(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    # 30 threads with a picture each, then 25 without, then 5 with: the 25 idle ones do
    # not cut the shape that was useful 30 times, so the last 5 are still read
    def thread(seen: Seen) -> Reply:
        number = int(seen.path.rsplit("/", 1)[1])
        body = f'<img src="/p/{number}.jpg">' if number < 30 or number >= 55 else "<p>text</p>"
        return site.reply(_html(body))

    site.route("/", _html("".join(f'<a href="/t/{n}">{n}</a>' for n in range(60))))
    site.fallback = lambda seen: (
        site.reply(_jpeg(seen.path), headers=JPEG) if seen.path.startswith("/p/") else thread(seen)
    )

    candidates, _ = _scan(WebSource(Recipe.crawl([site.url("/")]), fetcher), state)

    assert {c.key for c in candidates} == {
        site.url(f"/p/{n}.jpg") for n in (*range(30), *range(55, 60))
    }


def test_pagination_keeps_the_depth_but_other_links_cost_a_hop(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    # start -> list (depth 1) -> item (depth 2): the list's 8 pages, linked page to page,
    # all stay at depth 1, so every item is within max_depth=2
    def listing(seen: Seen) -> Reply:
        page = int(seen.path.partition("page=")[2] or 1)
        following = f'<a rel="next" href="/list?page={page + 1}">more</a>' if page < 8 else ""
        return site.reply(_html(f'<a href="/item/{page}">item {page}</a>{following}'))

    site.route("/", _html('<a href="/list">list</a>'))
    site.route("/list", listing)
    site.fallback = lambda seen: (
        site.reply(_html(f'<img src="{seen.path}.jpg"><a href="{seen.path}/deeper">on</a>'))
        if not seen.path.endswith(".jpg")
        else site.reply(_jpeg(seen.path), headers=JPEG)
    )

    candidates, _ = _scan(WebSource(Recipe.crawl([site.url("/")], max_depth=2), fetcher), state)

    assert {c.key for c in candidates} == {site.url(f"/item/{n}.jpg") for n in range(1, 9)}
    assert not [s for s in site.seen if s.path.endswith("/deeper")]


def test_url_shapes_ignore_numbers_and_query_values() -> None:
    assert url_shapes("http://f.test/threads/7?page=2") == url_shapes(
        "http://f.test/threads/51?page=3"
    )
    assert url_shapes("http://f.test/c?month=2024-07")[0] == "f.test/c?month"
    assert url_shapes("http://f.test/l?sort=a&order=b")[0] == "f.test/l?order&sort"
    assert url_shapes("http://f.test/l?sort=a")[1] == "f.test/l"


def test_pagination_links_are_told_by_rel_pager_classes_and_words() -> None:
    page = Page(
        _html(
            '<a rel="next" href="/a">x</a> <a class="pageNav-jump--next" href="/b">y</a>'
            '<div class="pagination"><span><a href="/c">3</a></span></div>'
            '<a href="/d">Suivant »</a> <a href="/e">Next ›</a> <a href="/f">later</a>'
            '<a class="page-content" href="/g">z</a>',
            '<link rel="prev" href="/h">',
        ),
        "http://f.test/",
    )
    assert page.pagination_links() == {f"http://f.test/{p}" for p in "abcdeh"}


# ------------------------------------------------------------------- media behind links


class Attachments:
    """A thread page whose posts show pictures in the ways forums do, several behind links
    that say nothing of what they lead to."""

    def __init__(self, forum: LoopbackSite, files: LoopbackSite) -> None:
        self.forum, self.files = forum, files
        forum.route(
            "/thread/1",
            _html(
                '<article class="post" data-id="1"><div class="body">'
                '<a href="/attachments/7">IMG_0007.jpg</a>'  # redirects to the file
                '<a href="/attachments/8/"><img src="/thumbs/8.jpg"></a>'  # XenForo style
                '<a href="/go/9">holiday.PNG</a>'  # a page whose og:image is the picture
                '<a href="/download/file.php?id=10">notes.pdf</a>'  # not media: left quietly
                '<a href="/data/11" download>get it</a>'  # the file itself, no extension
                '<a href="/thread/2">another thread</a>'  # a plain link: not probed
                "<style>.ph12{background-image:url(/bg/12.jpg)}</style>"
                '<div class="ph12"></div>'
                "</div></article>"
            ),
        )
        forum.route("/attachments/7", b"", status=302, headers={"Location": files.url("/f/7")})
        forum.route("/attachments/8/", b"", status=302, headers={"Location": "/data/8"})
        forum.route(
            "/go/9", _html("", f'<meta property="og:image" content="{files.url("/f/9.png")}">')
        )
        forum.route(
            "/download/file.php", b"%PDF-1.4 notes", headers={"Content-Type": "application/pdf"}
        )
        forum.route("/thread/2", _html("<p>words</p>"))
        for site in (forum, files):
            site.fallback = lambda seen, site=site: site.reply(_jpeg(seen.path), headers=JPEG)

    def recipe(self, **limits: int) -> Recipe:
        return Recipe.from_mapping(
            {
                "name": "attachments",
                "start_urls": [self.forum.url("/thread/1")],
                "post": {"selector": "article.post", "id_attr": "data-id", "content": ".body"},
                "limits": limits,
            }
        )


@pytest.fixture
def attachments(make_site: SiteFactory) -> Attachments:
    return Attachments(make_site("forum.test"), make_site("files.test"))


def test_links_that_lead_to_media_are_followed_through_redirects_and_pages(
    attachments: Attachments, fetcher: Fetcher, state: MemoryState
) -> None:
    forum, files = attachments.forum, attachments.files

    candidates, problems = _scan(WebSource(attachments.recipe(), fetcher), state)

    found = {c.key: c.media_url for c in candidates}
    assert found == {
        forum.url("/attachments/7"): files.url("/f/7"),
        forum.url("/attachments/8/"): forum.url("/data/8"),
        files.url("/f/9.png"): files.url("/f/9.png"),
        forum.url("/data/11"): forum.url("/data/11"),
        forum.url("/bg/12.jpg"): forum.url("/bg/12.jpg"),
    }
    assert all(c.post_id == "1" for c in candidates)
    assert problems == []
    assert forum.hits("/thumbs/8.jpg") == 0  # the link stands for the full picture
    assert forum.hits("/thread/2") == 0


def test_probes_are_bounded_and_the_scan_says_how_many_were_left(
    attachments: Attachments, fetcher: Fetcher, state: MemoryState
) -> None:
    source = WebSource(attachments.recipe(max_probes=2), fetcher)

    candidates, problems = _scan(source, state)

    assert source.last_stats.links_probed == 2
    assert [p.reason for p in problems] == [
        "probe limit reached: 3 links not followed to see if they lead to media"
    ]
    assert {c.key for c in candidates} == {  # the first two probes, and the style background
        attachments.forum.url(p) for p in ("/attachments/7", "/attachments/8/", "/bg/12.jpg")
    }


def test_a_probe_redirected_to_a_private_address_is_refused(
    site: LoopbackSite, make_fetcher: FetcherFactory, state: MemoryState
) -> None:
    site.route("/t", _html('<a href="/attachments/1">IMG_1.jpg</a>'))
    site.route("/attachments/1", b"", status=302, headers={"Location": "http://10.9.8.7/x.jpg"})
    recipe = Recipe.from_mapping(
        {"name": "t", "start_urls": [site.url("/t")], "post": {"selector": "body"}}
    )

    candidates, problems = _scan(WebSource(recipe, make_fetcher()), state)

    assert candidates == []
    assert [p.where for p in problems] == [site.url("/attachments/1")]
    assert "private" in problems[0].reason


def test_a_paginated_page_at_the_depth_limit_keeps_no_validators_so_later_pages_are_read(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    def tagged(body: bytes) -> dict[str, object]:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        return {"headers": {"Content-Type": "text/html", "ETag": etag}}

    def publish(second: str) -> None:
        first = _html('<img src="/a.jpg"><a rel="next" href="/list?page=2">2</a>')
        later = _html(f'<img src="/{second}.jpg">')
        site.route(
            "/list",
            lambda seen: site.reply(
                later if "page=2" in seen.path else first,
                **tagged(later if "page=2" in seen.path else first),
            ),
        )

    site.route("/", _html('<a href="/list">the list</a>'))
    site.fallback = lambda seen: site.reply(_jpeg(seen.path), headers=JPEG)
    source = WebSource(Recipe.crawl([site.url("/")], max_depth=1), fetcher)
    publish("b")
    first, _ = _scan(source, state)
    publish("c")  # a new picture on page 2; page 1 is unchanged

    again, _ = _scan(source, state)

    assert {c.key for c in first} == {site.url("/a.jpg"), site.url("/b.jpg")}
    assert {c.key for c in again} == {site.url("/c.jpg")}


def test_style_blocks_give_their_backgrounds_but_not_their_fonts() -> None:
    page = Page(
        _html(
            '<style>.b{background-image:url("/in-body.jpg")}</style><div class="b"></div>',
            "<style>@import url(/more.css); @font-face{src:url(/f.woff2)}"
            " .a{background:#fff url('/in-head.png') no-repeat}</style>",
        ),
        "http://f.test/",
    )
    assert [(r.url, r.via) for r in page.media(lambda url: False)] == [
        ("http://f.test/in-body.jpg", "css"),
        ("http://f.test/in-head.png", "css"),
    ]


def test_an_attachment_and_the_og_image_leading_to_one_file_make_one_candidate(
    make_site: SiteFactory, fetcher: Fetcher, state: MemoryState
) -> None:
    forum, files = make_site("forum.test"), make_site("files.test")
    full = files.url("/f/7.jpg")
    forum.route(
        "/t",
        _html(
            '<article><a href="/attachments/7">IMG_0007.jpg</a><img src="/other.jpg"></article>',
            f'<meta property="og:image" content="{full}">',
        ),
    )
    forum.route("/attachments/7", b"", status=302, headers={"Location": full})
    for site in (forum, files):
        site.fallback = lambda seen, site=site: site.reply(_jpeg(seen.path), headers=JPEG)
    recipe = Recipe.from_mapping(
        {"name": "t", "start_urls": [forum.url("/t")], "post": {"selector": "article"}}
    )

    candidates, problems = _scan(WebSource(recipe, fetcher), state)

    assert problems == []
    assert sorted(c.media_url for c in candidates) == sorted([full, forum.url("/other.jpg")])


def test_a_file_taken_through_its_attachment_link_is_not_taken_again_by_its_address(
    make_site: SiteFactory, fetcher: Fetcher, state: MemoryState
) -> None:
    # Seen in a scan killed and resumed: the attachment in one run, the direct link in the
    # next made two sightings of one file. The candidate names the address as an alias.
    forum, files = make_site("forum.test"), make_site("files.test")
    full = files.url("/f/8.jpg")
    forum.route("/t", _html('<article><a href="/attachments/8">IMG_0008.jpg</a></article>'))
    forum.route("/attachments/8", b"", status=302, headers={"Location": full})
    forum.route("/u", _html(f'<article><img src="{full}"></article>'))
    files.fallback = lambda seen: files.reply(_jpeg(seen.path), headers=JPEG)

    def recipe(page: str) -> Recipe:
        return Recipe.from_mapping(
            {"name": "t", "start_urls": [forum.url(page)], "post": {"selector": "article"}}
        )

    first, _ = _scan(WebSource(recipe("/t"), fetcher), state)
    assert [(c.key, c.aliases) for c in first] == [(forum.url("/attachments/8"), (full,))]
    again, problems = _scan(WebSource(recipe("/u"), fetcher), state)
    assert again == [] and problems == []
