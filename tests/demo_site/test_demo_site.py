"""The demo site: a forum, an image host and a mirror on loopback, and a Telegram export,
with the victim's copies where expected_sightings() says (see docs/demo-site.md)."""

from __future__ import annotations

import http.client
import io
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest
from PIL import Image, ImageOps

from rempart.demo_site import ALTERATIONS, EMBEDS, DemoSite, ServedSite, Sighting, SiteUrls
from rempart.demo_site.content import POSTS_PER_PAGE, THREADS_PER_PAGE, Thread
from rempart.demo_site.media import altered_size, render_altered
from rempart.demo_site.telegram_export import NOT_INCLUDED
from rempart.demo_site.web import Request, answer

# ------------------------------------------------------------------------------ helpers


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}>"
        return found[0]

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


VOID_TAGS = frozenset({"img", "meta", "link", "br", "input", "hr", "source"})


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    return builder.root


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes

    def html(self) -> Node:
        return parse(self.body.decode())


def fetch(url: str, **headers: str) -> Fetched:
    request = urllib.request.Request(
        url, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Fetched(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, dict(error.headers), error.read())


def page(url: str) -> Node:
    fetched = fetch(url)
    assert fetched.status == 200, url
    return fetched.html()


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


def follow(url: str, next_link: Node | None) -> str | None:
    return None if next_link is None else urljoin(url, next_link.attrs["href"])


def first_or_none(nodes: list[Node]) -> Node | None:
    return nodes[0] if nodes else None


def unaltered(copy: Image.Image, alteration: str, size: tuple[int, int]) -> Image.Image:
    """Undo an alteration's geometry (as docs/demo-site.md gives it) to compare pixels."""
    width, height = size
    if alteration == "mirrored":
        return ImageOps.mirror(copy)
    if alteration == "letterboxed":
        bar = round(height * 0.2)
        return copy.crop((0, bar, width, bar + height))
    if alteration == "captioned":
        return copy.crop((0, 0, width, height))
    return copy


def difference(original: Image.Image, copy: Image.Image, alteration: str) -> float:
    """Mean absolute grey difference (0-255) between a copy, put back in place, and an
    original (cropped like the copy when the copy was cropped)."""
    if alteration == "cropped":
        dx, dy = round(original.width * 0.06), round(original.height * 0.06)
        original = original.crop((dx, dy, original.width - dx, original.height - dy))
    copy = unaltered(copy, alteration, original.size)
    a = np.asarray(original.convert("L").resize((64, 48)), dtype=np.float32)
    b = np.asarray(copy.convert("L").resize((64, 48)), dtype=np.float32)
    return float(np.abs(a - b).mean())


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def served() -> Iterator[ServedSite]:
    with DemoSite(seed=1, images=200).serve() as site:
        yield site


@pytest.fixture(scope="module")
def small() -> Iterator[ServedSite]:
    with DemoSite(seed=1, images=50).serve() as site:
        yield site


def long_thread(site: DemoSite) -> Thread:
    return max(site.content.threads.values(), key=lambda t: (len(t.posts), -t.thread_id))


# --------------------------------------------------------------------------------- forum


def test_readme_demo_site_starts_in_well_under_two_seconds() -> None:
    # CPU time of this process (the site's threads included): other processes running beside
    # the tests do not count, as they would in wall-clock time
    start = time.process_time()
    with DemoSite(seed=1, images=50).serve() as site:
        assert page(site.forum_url + "/").find_all("a", "board-link")
        started = time.process_time() - start
    assert started < 1.0


def test_index_lists_boards_and_board_pages_end(served: ServedSite) -> None:
    index = page(served.forum_url + "/")
    links = index.find_all("a", "board-link")
    boards = served.site.content.boards
    assert [urlsplit(a.attrs["href"]).path for a in links] == [f"/board/{b.slug}" for b in boards]
    lounge = next(b for b in boards if b.slug == "lounge")
    assert lounge.pages >= 3
    url: str | None = served.forum_url + "/board/lounge"
    seen, pages = [], 0
    while url is not None:
        board_page = page(url)
        rows = board_page.find_all("li", "thread-row")
        assert 1 <= len(rows) <= THREADS_PER_PAGE
        seen += [urljoin(url, r.find("a", "thread-link").attrs["href"]) for r in rows]
        pages += 1
        url = follow(url, first_or_none(board_page.find_all("a", "next", rel="next")))
    assert pages == lounge.pages
    expected = [served.forum_url + served.site.content.threads[t].path for t in lounge.threads]
    assert seen == expected  # absolute, root- and page-relative links all resolve
    beyond = fetch(f"{served.forum_url}/board/lounge?page={lounge.pages + 1}")
    assert beyond.status == 404


def test_thread_pages_chain_by_rel_next_and_show_every_post(served: ServedSite) -> None:
    thread = long_thread(served.site)
    assert thread.pages >= 2
    url: str | None = served.forum_url + thread.path
    posts = []
    while url is not None:
        thread_page = page(url)
        articles = thread_page.find_all("article", "post")
        assert len(articles) <= POSTS_PER_PAGE
        for article in articles:
            time_tag = article.find("time", "post-time")
            posts.append(
                (
                    article.attrs["data-post-id"],
                    article.attrs["id"],
                    article.find("a", "post-author").all_text(),
                    time_tag.attrs["datetime"],
                )
            )
        head_next = [n for n in thread_page.find_all("link") if n.attrs.get("rel") == "next"]
        body_next = thread_page.find_all("a", "next", rel="next")
        assert len(head_next) == len(body_next) // 2  # the pager shows above and below posts
        url = follow(url, first_or_none(body_next))
    assert posts == [
        (str(p.post_id), f"p{p.post_id}", p.author, p.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for p in thread.posts
    ]


def test_thumbnails_link_host_pages_whose_full_images_decode(served: ServedSite) -> None:
    content = served.site.content
    thread = next(
        t
        for t in content.threads.values()
        if any(i.embed == "thumbnail" for i in t.posts[0].images)
    )
    anchors = page(served.forum_url + thread.path).find("article", "post").find_all("a", "thumb")
    assert anchors
    for anchor in anchors[:3]:
        host_page_url = anchor.attrs["href"]
        assert host_page_url.startswith(served.imagehost_url + "/i/")
        thumb = decode(fetch(anchor.find("img").attrs["src"]).body)
        host_page = page(host_page_url)
        full_url = urljoin(host_page_url, host_page.find("img", id="full").attrs["src"])
        og = host_page.find("meta", property="og:image").attrs["content"]
        assert og == full_url
        full = decode(fetch(full_url).body)
        assert max(thumb.size) <= 150 < max(full.size)


def test_posts_use_every_embedding_style(served: ServedSite) -> None:
    content = served.site.content
    for embed in EMBEDS:
        thread, image = next(
            (t, i)
            for t in content.threads.values()
            for p in t.posts[:POSTS_PER_PAGE]
            for i in p.images
            if i.embed == embed and not content.uploads[i.host_id].removed
        )
        full = f"{served.imagehost_url}/f/{image.host_id}.jpg"
        markup = fetch(served.forum_url + thread.path).body.decode()
        tree = parse(markup)
        if embed == "thumbnail":
            assert tree.find("a", "thumb", href=f"{served.imagehost_url}/i/{image.host_id}")
        elif embed == "srcset":
            assert full in tree.find("img", "inline-photo").attrs["srcset"]
        elif embed == "background":
            assert f"url('{full}')" in markup
        elif embed == "direct":
            assert tree.find("img", "full-photo", src=full)
        elif embed in {"attachment", "attachment-thumb"}:
            number = content.attachment_of(image.host_id)
            anchor = tree.find("a", embed, href=f"/attachments/{number}")
            assert bool(anchor.find_all("img")) == (embed == "attachment-thumb")
            if embed == "attachment":
                assert re.fullmatch(r"IMG_\d{4}\.jpg", anchor.all_text())
            assert full not in markup
            assert _attachment_target(served, number) == full
        elif embed == "full-link":
            assert tree.find("a", "full-link", href=full).find("img")
        elif embed == "lazy":
            assert tree.find("img", "lazyload", data_lazy_src=full).attrs["src"].endswith(".gif")
        elif embed == "picture":
            assert full in tree.find("picture").find("source").attrs["srcset"]
        elif embed == "style":
            assert f"url({full})" in tree.find("style").all_text()
            assert tree.find("div", f"ph-{image.host_id}")
        else:
            assert embed == "og-image"
            assert tree.find("meta", property="og:image").attrs["content"] == full
            assert full not in markup.split("</head>")[1]


def _attachment_target(served: ServedSite, number: int) -> str:
    """Where /attachments/N redirects (302), not following it."""
    connection = http.client.HTTPConnection(urlsplit(served.forum_url).netloc, timeout=10)
    try:
        connection.request("GET", f"/attachments/{number}")
        response = connection.getresponse()
        response.read()
        assert response.status == 302
        return response.getheader("Location") or ""
    finally:
        connection.close()


def test_unknown_attachments_are_404(served: ServedSite) -> None:
    assert fetch(f"{served.forum_url}/attachments/1").status == 404
    last = max(served.site.content.attachments)
    assert fetch(f"{served.forum_url}/attachments/{last + 1}").status == 404
    assert fetch(f"{served.forum_url}/attachments/{last}").status == 200  # after the redirect


def test_ads_and_removed_uploads(served: ServedSite) -> None:
    content = served.site.content
    thread = next(t for t in content.threads.values() if t.posts[0].images)
    tree = page(served.forum_url + thread.path)
    banners = tree.find_all("img", "ad-banner")
    assert banners and all(decode(fetch(served.forum_url + b.attrs["src"]).body) for b in banners)
    assert not tree.find("aside", "sidebar").find_all("a", "thumb")
    removed = next(u for u in content.uploads.values() if u.removed)
    for path in (f"/i/{removed.host_id}", f"/f/{removed.host_id}.jpg"):
        assert fetch(served.imagehost_url + path).status == 410


def test_thread_url_without_slug_redirects_to_canonical(served: ServedSite) -> None:
    thread = long_thread(served.site)
    parts = urlsplit(served.forum_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    connection.request("GET", f"/thread/{thread.thread_id}?page=2")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 301
    assert response.getheader("Location") == f"{served.forum_url}{thread.path}?page=2"


# --------------------------------------------------------------------------------- traps


def test_calendar_always_links_a_next_month(served: ServedSite) -> None:
    url = served.forum_url + "/"
    nav = page(url).find("nav", "main-nav")
    url = urljoin(
        url, next(a for a in nav.find_all("a") if "calendar" in a.attrs["href"]).attrs["href"]
    )
    months = []
    for _ in range(30):
        calendar = page(url)
        months.append(calendar.find("h1", "calendar-title").all_text())
        url = urljoin(url, calendar.find("a", "cal-next").attrs["href"])
    assert len(set(months)) == 30
    assert "month=2026-12" in url


def test_session_id_links_open_endless_duplicate_urls(served: ServedSite) -> None:
    home = served.forum_url + "/"
    url = urljoin(home, page(home).find("a", "login").attrs["href"])
    urls, boards = [], []
    for _ in range(5):
        tree = page(url)
        urls.append(url)
        board_links = [a.attrs["href"] for a in tree.find_all("a", "board-link")]
        boards += [urljoin(url, href) for href in board_links if "/landscapes" in href]
        url = urljoin(url, tree.find("a", "logo").attrs["href"])
    assert len(set(urls)) == 5 and all("sid=" in u for u in urls)
    assert boards and all("sid=" in b for b in boards)
    plain = page(served.forum_url + "/board/landscapes").find_all("li", "thread-row")
    with_sid = page(boards[0]).find_all("li", "thread-row")
    assert [r.attrs["data-thread-id"] for r in plain] == [
        r.attrs["data-thread-id"] for r in with_sid
    ]


# ------------------------------------------------------------------------- caching, HTTP


@pytest.mark.parametrize("where", ["host page", "full", "thumbnail", "forum thread", "mirror"])
def test_conditional_requests_get_304(served: ServedSite, where: str) -> None:
    content = served.site.content
    upload = next(u for u in content.uploads.values() if not u.removed)
    mirror_thread = content.mirror_threads[0]
    url = {
        "host page": f"{served.imagehost_url}/i/{upload.host_id}",
        "full": f"{served.imagehost_url}/f/{upload.host_id}.jpg",
        "thumbnail": f"{served.imagehost_url}/t/{upload.host_id}.jpg",
        "forum thread": served.forum_url + long_thread(served.site).path,
        "mirror": served.mirror_url + mirror_thread.path,
    }[where]
    first = fetch(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.status == 200 and first.body
    again = fetch(url, If_None_Match=etag)
    assert (again.status, again.body) == (304, b"")
    assert fetch(url, If_Modified_Since=modified).status == 304
    assert fetch(url, If_None_Match='"stale"', If_Modified_Since=modified).status == 200
    assert fetch(url, If_Modified_Since="Mon, 01 Jan 2001 00:00:00 GMT").status == 200


def test_head_gives_headers_without_body(served: ServedSite) -> None:
    upload = next(u for u in served.site.content.uploads.values() if not u.removed)
    url = f"{served.imagehost_url}/f/{upload.host_id}.jpg"
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.read() == b""
        assert int(response.headers["Content-Length"]) == len(fetch(url).body)
        assert response.headers["Content-Type"] == "image/jpeg"


def test_concurrent_clients_get_the_right_bytes(served: ServedSite) -> None:
    uploads = [u for u in served.site.content.uploads.values() if not u.removed][:120]
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def worker(share: list[str]) -> None:
        try:
            for host_id in share:
                results[host_id] = fetch(f"{served.imagehost_url}/f/{host_id}.jpg").body
        except BaseException as error:
            errors.append(error)

    ids = [u.host_id for u in uploads]
    threads = [threading.Thread(target=worker, args=(ids[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    media = served.site.media
    assert all(results[u.host_id] == media.full(u.picture, u.alteration) for u in uploads)


def test_servers_close_cleanly_with_idle_keep_alive_connections() -> None:
    before = set(threading.enumerate())
    with DemoSite(seed=2, images=20).serve() as site:
        parts = urlsplit(site.forum_url)
        idle = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        idle.request("GET", "/")
        idle.getresponse().read()  # the connection stays open (HTTP/1.1 keep-alive)
        started = time.monotonic()
    # well under the 30 s an idle keep-alive connection would otherwise be kept open
    assert time.monotonic() - started < 15.0
    assert set(threading.enumerate()) <= before  # servers and handlers all joined
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((parts.hostname or "", parts.port or 0), timeout=1).close()
    idle.close()


# ----------------------------------------------------------------------------- mirror


def test_mirror_lists_threads_and_pages_end(served: ServedSite) -> None:
    url: str | None = served.mirror_url + "/"
    listed = []
    while url is not None:
        listing = page(url)
        listed += [urljoin(url, a.attrs["href"]) for a in listing.find_all("a", "item-title")]
        url = follow(url, first_or_none(listing.find_all("a", "older")))
    threads = served.site.content.mirror_threads
    assert listed == [served.mirror_url + t.path for t in threads]
    thread = max(threads, key=lambda t: len(t.entries))
    url = served.mirror_url + thread.path
    entries = []
    while url is not None:
        thread_page = page(url)
        for entry in thread_page.find_all("div", "entry"):
            stamp = entry.find("span", "stamp").attrs["data-ts"]
            images = [i for i in entry.find_all("img", "lazy")]
            assert all(i.attrs["src"] == "/static/px.gif" for i in images)
            entries.append((entry.attrs["id"], entry.find("span", "nick").all_text(), stamp))
        url = follow(url, first_or_none(thread_page.find_all("a", "pager-next")))
    assert entries == [
        (f"e-{e.post_id}", e.author, str(int(e.posted_at.timestamp()))) for e in thread.entries
    ]


# --------------------------------------------------------------------- victims' copies


def test_every_expected_sighting_is_where_it_is_claimed(small: ServedSite) -> None:
    originals = [decode(data) for data in small.victim_images()]
    sightings = small.expected_sightings()
    assert {s.victim for s in sightings} == set(range(len(originals)))
    for sighting in sightings:
        media = _media_on_page(sighting)
        assert media == sighting.media_url, sighting
        data = fetch(media).body
        if sighting.alteration == "exact":
            assert data == small.victim_images()[sighting.victim]
            continue
        copy = decode(data)
        own = difference(originals[sighting.victim], copy, sighting.alteration)
        others = [difference(o, copy, sighting.alteration) for o in originals]
        del others[sighting.victim]
        assert own < 8 < min(others), (sighting, own, min(others))


def _media_on_page(sighting: Sighting) -> str:
    """The full-size media URL a careful crawler gets from the sighting's page and post."""
    tree = page(sighting.page_url)
    if sighting.where == "mirror":
        entry = tree.find("div", "entry", id=sighting.post_id)
        lazy = [i.attrs["data-src"] for i in entry.find_all("img", "lazy")]
        found = [urljoin(sighting.page_url, src) for src in lazy]
        return next(u for u in found if u == sighting.media_url)
    post = tree.find("article", "post", data_post_id=sighting.post_id)
    host_id = sighting.media_url.rsplit("/", 1)[1].removesuffix(".jpg")
    if sighting.embed == "og-image":
        assert post.find("div", "js-gallery").attrs["data-gallery"] == host_id
        return tree.find("meta", property="og:image").attrs["content"]
    if sighting.embed == "thumbnail":
        link = next(a for a in post.find_all("a", "thumb") if a.attrs["href"].endswith(host_id))
        host_page = page(link.attrs["href"])
        return urljoin(link.attrs["href"], host_page.find("img", id="full").attrs["src"])
    if sighting.embed in {"attachment", "attachment-thumb"}:
        link = post.find("a", sighting.embed)
        with urllib.request.urlopen(urljoin(sighting.page_url, link.attrs["href"])) as answer:
            return str(answer.url)  # after the redirect
    markup = "".join(f"{n.attrs}" for n in post.walk())
    assert sighting.media_url in markup
    return sighting.media_url


def test_victims_have_exact_and_altered_copies_on_forum_and_mirror(small: ServedSite) -> None:
    sightings = small.expected_sightings()
    for victim in range(len(small.victim_images())):
        mine = [s for s in sightings if s.victim == victim]
        forum = {s.alteration for s in mine if s.where == "forum"}
        assert forum == {"exact", ALTERATIONS[victim % len(ALTERATIONS)]}
        assert {s.alteration for s in mine if s.where == "mirror"} == {
            ALTERATIONS[(victim + 3) % len(ALTERATIONS)]
        }
        altered = next(s for s in mine if s.where == "forum" and s.alteration != "exact")
        assert "page=" in altered.page_url  # on page 2 or later of its thread


@pytest.mark.parametrize("alteration", ["exact", *ALTERATIONS])
def test_altered_copies_have_the_documented_size(alteration: str) -> None:
    site = DemoSite(seed=4, images=20)
    original = site.victim_images()[0]
    copy = decode(render_altered(original, alteration, 3))
    assert copy.size == altered_size(*decode(original).size, alteration)
    if alteration != "exact":
        assert render_altered(original, alteration, 3) != original


# ------------------------------------------------------------------ determinism, scale


def test_same_seed_same_site_bytes() -> None:
    urls = SiteUrls("http://forum.test", "http://img.test", "http://mirror.test")
    first, second, other = (
        DemoSite(seed=9, images=30),
        DemoSite(seed=9, images=30),
        DemoSite(seed=10, images=30),
    )
    assert first.victim_images() == second.victim_images() != other.victim_images()
    assert first.expected_sightings(urls) == second.expected_sightings(urls)
    assert first.expected_sightings(urls) != other.expected_sightings(urls)
    thread = long_thread(first)
    for target in ("/", "/board/landscapes", thread.path + "?page=2"):
        pages = [
            answer(app, Request.parse(target)).body
            for app in (first._apps(urls)[0], second._apps(urls)[0])
        ]
        assert pages[0] == pages[1]
    upload = next(u for u in first.content.uploads.values() if u.alteration != "exact")
    host = (first._apps(urls)[1], second._apps(urls)[1])
    files = [answer(app, Request.parse(f"/f/{upload.host_id}.jpg")).body for app in host]
    assert files[0] == files[1]


def test_ten_thousand_image_site_starts_quickly_and_serves_any_image() -> None:
    start = time.process_time()  # CPU time: processes running beside the tests do not count
    site = DemoSite(seed=3, images=10_000)
    with site.serve() as served:
        last = list(site.content.uploads.values())[-1]
        upload = (
            last
            if not last.removed
            else next(u for u in reversed(site.content.uploads.values()) if not u.removed)
        )
        full = fetch(f"{served.imagehost_url}/f/{upload.host_id}.jpg")
        thumb = fetch(f"{served.imagehost_url}/t/{upload.host_id}.jpg")
        elapsed = time.process_time() - start
    assert full.status == thumb.status == 200
    assert decode(full.body).size == altered_size(
        *(lambda p: (p.width, p.height))(site.content.pictures[upload.picture]), upload.alteration
    )
    assert elapsed < 5.0  # ~1 s here; making the images up front would take over a minute
    assert sum(1 for b in site.content.boards for _ in range(b.pages)) > 60


# --------------------------------------------------------------------------- telegram


def test_telegram_export_is_valid_with_its_files(tmp_path: Path) -> None:
    site = DemoSite(seed=1, images=30)
    sightings = site.write_telegram_export(tmp_path / "export")
    root = tmp_path / "export"
    result = json.loads((root / "result.json").read_text(encoding="utf-8"))
    assert (result["name"], result["type"]) == ("Trail & Lens Photo Swap", "public_channel")
    assert isinstance(result["id"], int)
    messages = result["messages"]
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)
    assert {m["type"] for m in messages} == {"message", "service"}
    for message in messages:
        assert message["date_unixtime"].isdigit() and len(message["date"]) == 19
        if message["type"] == "message":
            assert message["from_id"] == f"channel{result['id']}"
            assert isinstance(message["text"], str | list)
        photo = message.get("photo")
        if photo and photo != NOT_INCLUDED:
            assert photo.startswith("photos/photo_") and "@" in photo
            image = decode((root / photo).read_bytes())
            assert image.size == (message["width"], message["height"])
    assert sum(m.get("photo") == NOT_INCLUDED for m in messages) == 1
    assert any(isinstance(m["text"], list) for m in messages)
    assert {s.victim for s in sightings} == set(range(len(site.victim_images())))
    exact = [s for s in sightings if s.alteration == "exact"]
    assert exact and all(
        (root / s.media_url).read_bytes() == site.victim_images()[s.victim] for s in exact
    )
    for sighting in sightings:
        assert (root / sighting.media_url).is_file()
        assert sighting.page_url.endswith(f"/{sighting.post_id}")


def test_warm_makes_every_image_once_and_a_cache_dir_keeps_them(tmp_path: Path) -> None:
    site = DemoSite(seed=6, images=12, cache_dir=tmp_path)
    made = site.warm(workers=2)
    live = [u for u in site.content.uploads.values() if not u.removed]
    assert made >= 2 * len(live)  # every full image and thumbnail, mirror files besides
    again = DemoSite(seed=6, images=12, cache_dir=tmp_path)
    assert again.warm(workers=2) == 0
    upload = live[-1]
    fresh = DemoSite(seed=6, images=12)
    assert again.media.full(upload.picture, upload.alteration) == fresh.media.full(
        upload.picture, upload.alteration
    )
