"""The web source against a small generated forum and image host on 127.0.0.1: what it finds,
where it says it found it, what a re-scan skips, and how it survives traps and bad pages."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from rempart.errors import InputError
from rempart.fetch import Fetcher
from rempart.samples import web_jpeg
from rempart.sources.base import Candidate, Problem, Source
from rempart.sources.html import Page
from rempart.sources.recipes import Recipe, RecipeError
from rempart.sources.web import WebSource, normalise_url

if TYPE_CHECKING:
    from conftest import LoopbackSite, MemoryState, Reply, Seen

    SiteFactory = Callable[[str], LoopbackSite]
    FetcherFactory = Callable[..., Fetcher]

JPEGS = [web_jpeg(seed, 48, 32) for seed in range(4)]


def _jpeg(path: str) -> bytes:
    return JPEGS[int(hashlib.md5(path.encode()).hexdigest(), 16) % len(JPEGS)]


def _html(body: str, head: str = "") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def _tagged(body: bytes, **headers: str) -> dict[str, object]:
    """Route options for a page with an ETag derived from its content."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    return {"headers": {"Content-Type": "text/html; charset=utf-8", "ETag": etag, **headers}}


@dataclass(frozen=True)
class Expected:
    page_url: str
    post_id: str | None
    author: str | None
    thread: str


class Forum:
    """A board with two threads of three pages each (next links between pages), two posts a
    page. Media come as thumbnails linking to an image host's page, srcsets, links to full
    images, CSS backgrounds and og:image; avatars and smileys are there to be ignored."""

    THREADS = 2
    PAGES = 3

    def __init__(self, forum: LoopbackSite, images: LoopbackSite) -> None:
        self.forum, self.images = forum, images
        self.expected: dict[str, Expected] = {}
        self.extra_posts: dict[tuple[int, int], str] = {}
        forum.fallback = _media_reply(forum)
        images.fallback = _media_reply(images)
        self.publish()

    @property
    def board_url(self) -> str:
        return self.forum.url("/board/leaks/")

    def recipe(self, **changes: object) -> Recipe:
        data: dict[str, object] = {
            "name": "test-forum",
            "start_urls": [self.board_url],
            "ignore": ".avatar, img.smilie",
            "board": {"thread_links": "a.thread-title", "title": "h1.board"},
            "thread": {"title": "h1.thread", "next_page": "a.next", "max_pages": 10},
            "post": {
                "selector": "article.post",
                "id_attr": "data-post-id",
                "author": ".author",
                "time": "time",
                "content": ".body",
            },
            "image_hosts": [{"host": "img.test", "image": "img#main"}],
        }
        data.update(changes)
        return Recipe.from_mapping(data)

    def publish(self) -> None:
        """(Re)write every page from the current content, expected media included."""
        self.expected.clear()
        links = "".join(
            f'<li><a class="thread-title" href="/threads/{t}/">Thread {t}</a></li>'
            for t in range(1, self.THREADS + 1)
        )
        latest = len(self.extra_posts)
        board = _html(f'<h1 class="board">Leaks board</h1><ul>{links}</ul><p>{latest}</p>')
        self.forum.route("/board/leaks/", board, **_tagged(board))
        for thread in range(1, self.THREADS + 1):
            for page in range(1, self.PAGES + 1):
                self._publish_page(thread, page)

    def add_post(self, thread: int, page: int, name: str) -> str:
        """A new post with one new image; returns that image's URL."""
        self.extra_posts[(thread, page)] = name
        self.publish()
        return self.forum.url(f"/media/{name}.jpg")

    def _publish_page(self, t: int, page: int) -> None:
        path = f"/threads/{t}/" if page == 1 else f"/threads/{t}/page-{page}"
        url = self.forum.url(path)
        title = f"Thread {t}"
        posts = [self._post(url, title, t, page, 1), self._post(url, title, t, page, 2)]
        if (t, page) in self.extra_posts:
            name = self.extra_posts[(t, page)]
            posts.append(
                f'<article class="post" data-post-id="{name}"><span class="author">late</span>'
                f'<div class="body"><img src="/media/{name}.jpg"></div></article>'
            )
            self._expect(f"/media/{name}.jpg", url, name, "late", title)
        following = f'<a class="next" href="/threads/{t}/page-{page + 1}">Next</a>'
        head = ""
        if page == 1:
            head = f'<meta property="og:image" content="/media/og-{t}.jpg">'
            self._expect(f"/media/og-{t}.jpg", url, None, None, title)
        body = _html(
            f'<h1 class="thread">{title}</h1>{"".join(posts)}'
            f"{following if page < self.PAGES else ''}",
            head,
        )
        self.forum.route(path, body, **_tagged(body))

    def _post(self, url: str, title: str, t: int, page: int, n: int) -> str:
        post_id = f"{t}-{page}-{n}"
        author = f"user{n}"
        if n == 1:  # a thumbnail linking to the image host's page, and a CSS background
            self.images.route(
                f"/v/{post_id}",
                _html(f'<img id="main" src="/i/{post_id}.jpg"><img src="/ads/banner.jpg">'),
            )
            self._expect(f"/i/{post_id}.jpg", url, post_id, author, title, self.images)
            self._expect(f"/media/{post_id}-bg.jpg", url, post_id, author, title)
            media = (
                f'<a href="{self.images.url(f"/v/{post_id}")}">'
                f'<img src="/thumbs/{post_id}.jpg"></a>'
                f"<div style=\"background-image: url('/media/{post_id}-bg.jpg')\">x</div>"
            )
        else:  # a srcset, and a thumbnail linking straight to the full image
            self._expect(f"/media/{post_id}-large.jpg", url, post_id, author, title)
            self._expect(f"/media/{post_id}-full.jpg", url, post_id, author, title)
            media = (
                f'<img src="/media/{post_id}-small.jpg" '
                f'srcset="/media/{post_id}-small.jpg 320w, /media/{post_id}-large.jpg 1280w">'
                f'<a href="/media/{post_id}-full.jpg"><img src="/thumbs/{post_id}-t.jpg"></a>'
            )
        return (
            f'<article class="post" data-post-id="{post_id}">'
            f'<img class="avatar" src="/avatars/{n}.jpg"><span class="author">{author}</span>'
            f'<time datetime="2024-05-0{page}T10:00:00Z">May</time>'
            f'<div class="body"><p>Post {post_id} <img class="smilie" src="/smilies/1.gif"></p>'
            f"{media}</div></article>"
        )

    def _expect(
        self,
        path: str,
        page_url: str,
        post_id: str | None,
        author: str | None,
        thread: str,
        site: LoopbackSite | None = None,
    ) -> None:
        self.expected[(site or self.forum).url(path)] = Expected(page_url, post_id, author, thread)


def _media_reply(site: LoopbackSite) -> Callable[[Seen], Reply]:
    """Any path a site has no page for is a JPEG (with an ETag), as on an image host."""

    def reply(seen: Seen) -> Reply:
        body = _jpeg(seen.path.split("?", 1)[0])
        etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
        return site.reply(body, headers={"Content-Type": "image/jpeg", "ETag": etag})

    return reply


@pytest.fixture
def forum(make_site: SiteFactory) -> Forum:
    return Forum(make_site("forum.test"), make_site("img.test"))


def _scan(source: Source, state: MemoryState) -> tuple[list[Candidate], list[Problem]]:
    """Run a scan the way the pipeline does: each candidate is handled as it arrives."""
    candidates, problems = [], []
    for item in source.scan(state):
        if isinstance(item, Candidate):
            candidates.append(item)
            state.handle(item.key)
        else:
            problems.append(item)
    return candidates, problems


def _media_hits(*sites: LoopbackSite) -> int:
    return sum(1 for site in sites for seen in site.seen if seen.path.endswith((".jpg", ".gif")))


# ---------------------------------------------------------------------------------- recipes


def test_the_forum_recipe_finds_exactly_the_expected_media_where_they_were_posted(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    source = WebSource(forum.recipe(), fetcher)

    candidates, problems = _scan(source, state)

    assert problems == []
    assert sorted(c.key for c in candidates) == sorted(forum.expected)
    for candidate in candidates:
        expected = forum.expected[candidate.key]
        assert (candidate.page_url, candidate.post_id) == (expected.page_url, expected.post_id)
        assert candidate.context.get("author") == expected.author
        assert candidate.context["thread"] == expected.thread
        assert candidate.context["board"] == "Leaks board"
        assert candidate.data == _jpeg(urlsplit(str(candidate.media_url)).path)
        assert candidate.content_type == "image/jpeg"
        assert candidate.source == "test-forum"


def test_thumbnails_small_sources_avatars_and_ads_are_never_fetched(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    _scan(WebSource(forum.recipe(), fetcher), state)

    fetched = [s.path for site in (forum.forum, forum.images) for s in site.seen]
    unwanted = ("/thumbs/", "-small.jpg", "/avatars/", "/smilies/", "/ads/")
    assert not [path for path in fetched if any(part in path for part in unwanted)]


def test_posts_carry_their_time_and_image_host_media_their_host_page(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    candidates, _ = _scan(WebSource(forum.recipe(), fetcher), state)
    by_key = {c.key: c for c in candidates}

    hosted = by_key[forum.images.url("/i/2-3-1.jpg")]
    assert hosted.context["image_page"] == forum.images.url("/v/2-3-1")
    assert hosted.posted_at == datetime(2024, 5, 3, 10, tzinfo=UTC)
    assert by_key[forum.forum.url("/media/og-1.jpg")].posted_at is None


def test_a_second_scan_that_saw_everything_fetches_no_media_and_gets_304(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    source = WebSource(forum.recipe(), fetcher)
    _scan(source, state)
    media_before = _media_hits(forum.forum, forum.images)
    requests_before = len(forum.forum.seen)

    candidates, problems = _scan(source, state)

    assert (candidates, problems) == ([], [])
    assert _media_hits(forum.forum, forum.images) == media_before
    assert source.last_stats.pages_unchanged == 1  # the board: nothing below it changed
    assert [s.path for s in forum.forum.seen[requests_before:]] == ["/board/leaks/"]
    assert "if-none-match" in forum.forum.seen[-1].headers


def test_a_rescan_after_a_new_post_fetches_only_its_image(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    source = WebSource(forum.recipe(), fetcher)
    _scan(source, state)
    media_before = _media_hits(forum.forum, forum.images)
    new_image = forum.add_post(2, 3, "late-1")

    candidates, problems = _scan(source, state)

    assert problems == []
    assert [c.key for c in candidates] == [new_image]
    assert candidates[0].post_id == "late-1"
    assert _media_hits(forum.forum, forum.images) == media_before + 1
    # Thread 1 is unchanged: its last page (the only one whose validators are kept) is a 304.
    assert source.last_stats.pages_unchanged == 1


def test_a_scan_stopped_midway_loses_nothing_on_the_next(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    source = WebSource(forum.recipe(), fetcher)
    scan = source.scan(state)
    first = [next(scan) for _ in range(5)]
    scan.close()
    for item in first:
        assert isinstance(item, Candidate)
        state.handle(item.key)

    candidates, problems = _scan(source, state)

    assert problems == []
    handled = {c.key for c in candidates} | {c.key for c in first if isinstance(c, Candidate)}
    assert handled == set(forum.expected)


def test_page_and_media_failures_are_problems_not_crashes(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    forum.forum.route("/threads/1/page-2", b"gone", status=404)
    forum.images.route("/v/2-1-1", _html("<p>no image here</p>"))
    forum.forum.route("/media/2-1-2-full.jpg", _html("<p>an html page</p>"))
    forum.images.route("/i/2-2-1.jpg", b"", status=500)

    candidates, problems = _scan(WebSource(forum.recipe(), fetcher), state)

    reasons = {p.where: p.reason for p in problems}
    assert reasons[forum.forum.url("/threads/1/page-2")] == "http error: HTTP 404"
    assert reasons[forum.images.url("/v/2-1-1")] == "no main image on the image page"
    assert reasons[forum.forum.url("/media/2-1-2-full.jpg")].startswith("not an image")
    assert reasons[forum.images.url("/i/2-2-1.jpg")] == "http error: HTTP 500"
    # 26 media in all; the dead page hides its own 4 and the 4 of the page after it.
    assert len(candidates) == 26 - 8 - 3


def test_a_transient_media_failure_keeps_the_page_for_the_next_scan(
    forum: Forum, fetcher: Fetcher, state: MemoryState
) -> None:
    forum.images.route("/i/1-3-1.jpg", b"", status=500)
    source = WebSource(forum.recipe(), fetcher)
    _scan(source, state)
    forum.images.routes.pop("/i/1-3-1.jpg")

    candidates, _ = _scan(source, state)

    assert [c.key for c in candidates] == [forum.images.url("/i/1-3-1.jpg")]


def test_pages_off_the_allowed_hosts_are_not_visited(
    make_site: SiteFactory, fetcher: Fetcher, state: MemoryState
) -> None:
    forum, elsewhere = make_site("forum.test"), make_site("elsewhere.test")
    forum.route(
        "/board",
        _html(
            f'<a class="t" href="{elsewhere.url("/thread")}">away</a><a class="t" href="/t">t</a>'
        ),
    )
    forum.route("/t", _html("<article><img src='/a.jpg'></article>"))
    forum.fallback = _media_reply(forum)
    recipe = Recipe.from_mapping(
        {
            "name": "f",
            "start_urls": [forum.url("/board")],
            "board": {"thread_links": "a.t"},
            "post": {"selector": "article"},
        }
    )

    candidates, _ = _scan(WebSource(recipe, fetcher), state)

    assert [c.key for c in candidates] == [forum.url("/a.jpg")]
    assert elsewhere.seen == []


# ---------------------------------------------------------------------------------- generic


def test_the_generic_crawl_finds_images_within_depth_and_stays_on_site(
    make_site: SiteFactory, fetcher: Fetcher, state: MemoryState
) -> None:
    site, other = make_site("site.test"), make_site("other.test")
    chain = ["/", "/a", "/b", "/c"]
    for here, following in zip(chain, [*chain[1:], None], strict=True):
        name = here.strip("/") or "home"
        links = f'<a href="{following}">read on</a>' if following else ""
        site.route(
            here,
            _html(
                f'{links}<a href="{other.url("/page")}">elsewhere</a>'
                f'<img src="/img/{name}.jpg"><a href="/img/{name}-full.png">full</a>'
            ),
        )
    other.route("/page", _html('<img src="/x.jpg">'))
    site.fallback = _media_reply(site)
    recipe = Recipe.crawl([site.url("/")], name="generic", max_depth=2)

    candidates, problems = _scan(WebSource(recipe, fetcher), state)

    assert problems == []
    assert sorted(c.key for c in candidates) == sorted(
        site.url(f"/img/{name}{suffix}")
        for name in ("home", "a", "b")
        for suffix in (".jpg", "-full.png")
    )
    assert {c.page_url for c in candidates} == {site.url(p) for p in ("/", "/a", "/b")}
    assert site.hits("/c") == 0
    assert other.seen == []


def test_session_ids_and_an_endless_calendar_keep_the_crawl_bounded(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    rng = random.Random(7)

    def calendar(seen: Seen) -> Reply:
        month = int(seen.path.rsplit("=", 1)[-1]) if "month=" in seen.path else 0
        session = f"{rng.getrandbits(128):032x}"
        return site.reply(
            _html(
                f'<a href="/calendar?month={month + 1}&PHPSESSID={session}">next</a>'
                f'<a href="/calendar?month={month - 1}&sid={session}">prev</a>'
                f'<a href="/?s={session}#top">home</a>'
                f'<a href="/loop/loop/loop/loop/x">deep</a>'
                f'<a href="/;jsessionid={session}">home again</a>'
            )
        )

    site.route("/", calendar)
    site.route("/calendar", calendar)
    recipe = Recipe.crawl([site.url("/")], max_depth=100, max_pages_per_pattern=10)
    source = WebSource(recipe, fetcher)

    _scan(source, state)

    assert site.hits("/") == 1
    assert len(site.seen) <= 1 + 2 * 10
    assert not [s for s in site.seen if s.path.startswith("/loop")]
    assert source.last_stats.links_refused > 0


def test_the_page_limits_stop_a_scan_and_say_so(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    site.route("/", _html("".join(f'<a href="/p{i}">{i}</a>' for i in range(50))))
    site.fallback = lambda seen: site.reply(_html("<p>page</p>"))
    recipe = Recipe.crawl(
        [site.url("/")], max_pages=12, max_pages_per_pattern=100, max_idle_pages_per_pattern=100
    )

    _, problems = _scan(WebSource(recipe, fetcher), state)

    assert len(site.seen) == 12
    assert [p.reason for p in problems] == ["page limit reached: 39 pages not visited"]


# ---------------------------------------------------------------------------- hostile pages


def test_malformed_and_hostile_html_is_read_as_data(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    hostile = (
        b"<html><body><div><p><table><img src='/ok.jpg'><td></p></div>"
        b"<script>document.write('<img src=\"/scripted.jpg\">')</script>"
        b"<img src='javascript:alert(1)'><img src='data:image/png;base64,AAAA'>"
        b"<img srcset=',,, 99999999999999999999999w, /big.jpg 9e999w'>"
        b"<img src='http://[::1'><a href='http://user:pw@site.test/x.jpg'>x</a>"
        b"<div style='background:url(  )'>" + b"<b>" * 20000 + b"\xff\xfe\x00 \xc3("
    )
    site.route("/", hostile, headers={"Content-Type": "text/html"})
    site.fallback = _media_reply(site)

    candidates, problems = _scan(WebSource(Recipe.crawl([site.url("/")]), fetcher), state)

    assert site.url("/ok.jpg") in {c.key for c in candidates}
    assert site.hits("/scripted.jpg") == 0
    assert all(p.where != site.url("/") for p in problems)


def test_a_huge_garbage_page_is_a_problem(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    garbage = random.Random(1).randbytes(5_000_000)
    site.route("/", garbage, headers={"Content-Type": "text/html"})
    site.route("/small", garbage[:200_000], headers={"Content-Type": "text/html"})

    _, big = _scan(WebSource(Recipe.crawl([site.url("/")]), fetcher), state)
    _, small = _scan(WebSource(Recipe.crawl([site.url("/small")]), fetcher), state)

    assert [p.reason.split(":")[0] for p in big] == ["too large"]
    assert [p.reason for p in small] == ["not an HTML page (binary data served as text/html)"]


def test_garbage_text_served_as_html_parses_to_nothing(
    site: LoopbackSite, fetcher: Fetcher, state: MemoryState
) -> None:
    rng = random.Random(2)
    text = "".join(rng.choice("<>/=\"' abcimgsrc&;#") for _ in range(1_000_000))
    site.route("/", text.encode(), headers={"Content-Type": "text/html"})

    _, problems = _scan(WebSource(Recipe.crawl([site.url("/")]), fetcher), state)

    assert len(site.seen) < 200  # whatever links it made up, the crawl stayed bounded
    assert all(p.where != site.url("/") for p in problems)


# ------------------------------------------------------------------------ pieces on their own


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("HTTP://Forum.Test:80/a/b?z=1&a=2#frag", "http://forum.test/a/b?a=2&z=1"),
        ("https://forum.test:443", "https://forum.test/"),
        ("http://forum.test:8080/x?PHPSESSID=abc&page=2", "http://forum.test:8080/x?page=2"),
        ("http://forum.test/t?s=0123456789abcdef0123456789abcdef&t=5", "http://forum.test/t?t=5"),
        ("http://forum.test/search?s=cats", "http://forum.test/search?s=cats"),
        ("http://forum.test/p;jsessionid=XYZ?utm_source=mail", "http://forum.test/p"),
    ],
)
def test_urls_are_normalised_into_stable_keys(url: str, key: str) -> None:
    assert normalise_url(url) == key


@pytest.mark.parametrize(
    "url", ["ftp://x.test/", "/relative", "http://u:p@x.test/", "http://x:99999/"]
)
def test_unusable_urls_cannot_be_keys(url: str) -> None:
    with pytest.raises(InputError):
        normalise_url(url)


def test_srcset_gives_its_largest_candidate_and_picture_sources_count() -> None:
    page = Page(
        b"<img srcset='a.jpg 1x, b.jpg 3x, c.jpg 2x'>"
        b"<picture><source srcset='w1.webp 400w, w2.webp 1600w'><img src='p.jpg'></picture>"
        b"<img data-src='lazy.jpg' src='placeholder.gif'>",
        "http://site.test/dir/",
    )

    assert [ref.url for ref in page.media(lambda url: False)] == [
        "http://site.test/dir/b.jpg",
        "http://site.test/dir/w2.webp",
        "http://site.test/dir/lazy.jpg",
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "x", "start_urls": []}, "no start_urls"),
        ({"name": "x", "start_urls": ["ftp://a/"]}, "not http"),
        ({"name": "x", "start_urls": ["http://a/"], "bord": {}}, "unknown key"),
        ({"name": "x", "start_urls": ["http://a/"], "post": {"selector": "a[["}}, "not a valid"),
        ({"name": "x", "start_urls": ["http://a/"], "limits": {"max_pages": "9"}}, "whole"),
        ({"name": "x", "start_urls": ["http://a/"], "allowed_hosts": ["a/b"]}, "bare name"),
        ({"name": "x", "start_urls": ["http://a/"], "allowed_hosts": ["a:99999"]}, "bare name"),
        ({"name": "x", "start_urls": ["http://a/"], "media_hosts": ["a:b"]}, "bare name"),
    ],
)
def test_bad_recipes_fail_when_loaded(data: dict[str, object], error: str) -> None:
    with pytest.raises(RecipeError, match=error):
        Recipe.from_mapping(data)


def test_sites_on_one_address_are_told_apart_by_their_ports() -> None:
    plain = Recipe.crawl(["http://127.0.0.1:8401/", "https://forum.example:443/"])
    named = Recipe.from_mapping(
        {
            "name": "x",
            "start_urls": ["http://127.0.0.1:8401/"],
            "allowed_hosts": ["127.0.0.1:8401", "forum.example"],
            "image_hosts": [{"host": "127.0.0.1:8402"}],
        }
    )

    assert plain.allowed_hosts == ("127.0.0.1:8401", "forum.example")  # default port: any
    for recipe in (plain, named):
        assert recipe.allows_page("127.0.0.1", 8401) and recipe.allows_page("forum.example")
        assert recipe.allows_page("forum.example", 8080)  # a bare name allows every port
        assert not recipe.allows_page("127.0.0.1", 8403) and not recipe.allows_page("127.0.0.1")
    assert named.image_host("127.0.0.1", 8402) is not None
    assert named.image_host("127.0.0.1", 8401) is None


def test_a_crawl_of_one_port_stays_off_another_site_on_the_same_address(
    make_site: SiteFactory, fetcher: Fetcher, state: MemoryState
) -> None:
    forum, mirror = make_site("127.0.0.1"), make_site("127.0.0.1")
    html = {"Content-Type": "text/html; charset=utf-8"}
    forum.route("/", _html(f'<a href="/a">a</a><a href="{mirror.url("/")}">m</a>'), headers=html)
    forum.route("/a", _html('<img src="/x.jpg">'), headers=html)
    forum.route("/x.jpg", JPEGS[0], headers={"Content-Type": "image/jpeg"})
    mirror.route("/", _html('<img src="/y.jpg">'), headers=html)

    candidates, problems = _scan(WebSource(Recipe.crawl([forum.url("/")]), fetcher), state)

    assert problems == []
    assert [c.media_url for c in candidates] == [forum.url("/x.jpg")]
    assert mirror.seen == []  # another port is another site: never visited


def test_a_toml_recipe_loads_into_the_same_rules() -> None:
    recipe = Recipe.from_toml(
        """
        name = "example-forum"
        start_urls = ["https://forum.example/boards/leaks/"]
        allowed_hosts = ["forum.example", "*.cdn.example"]
        ignore = ".avatar"

        [board]
        thread_links = "a.thread-title"
        next_page = "a.next"

        [post]
        selector = "article.message"
        id_attr = "data-content"

        [[image_hosts]]
        host = "img.example"
        image = "img#image"

        [limits]
        max_pages = 50
        """
    )

    assert recipe.board is not None and recipe.board.thread_links == "a.thread-title"
    assert recipe.thread is not None  # implied by the board: default thread rules
    assert recipe.limits.max_pages == 50
    assert recipe.allows_page("media.cdn.example") and recipe.allows_page("img.example")
    assert not recipe.allows_page("forum.example.evil")
