"""The forum ("Shutter Lane"): board index, paginated boards and threads, member pages, and
the traps a crawler must bound (session ids in links, an endless calendar).

Owns the forum's URLs and HTML (documented in docs/demo-site.md). Must not make image bytes
beyond the ad banners, nor know how it is served.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import urlencode

from rempart.demo_site import web
from rempart.demo_site.content import (
    POSTS_PER_PAGE,
    SITE_START,
    THREADS_PER_PAGE,
    Board,
    Post,
    PostImage,
    SiteContent,
    Thread,
)
from rempart.demo_site.media import BANNER_SIZE, SiteMedia, altered_size
from rempart.demo_site.mirror import PIXEL, PLACEHOLDER_PATH
from rempart.demo_site.web import Request, Response, SiteUrls, esc, iso_time

__all__ = ["CALENDAR_START", "SITE_NAME", "ForumApp"]

SITE_NAME = "Shutter Lane"
CALENDAR_START = "2024-06"  # the month the navigation's calendar link opens
_BANNERS = 2
_THREAD_PATH = re.compile(r"/thread/(\d+)(?:-([a-z0-9-]*))?")
_BANNER_PATH = re.compile(r"/static/banner-(\d+)\.jpg")
_ATTACHMENT_PATH = re.compile(r"/attachments/(\d+)")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_EVENTS = ("Photo walk: river path", "Print swap", "Night sky meet-up", "Lens cleaning clinic")
_STYLE = """body{font-family:sans-serif;margin:0;background:#f4f1ea;color:#222}
.site-header{background:#2f4858;color:#fff;padding:8px 16px}.site-header a{color:#fff}
#content{max-width:860px;margin:12px auto;background:#fff;padding:12px}
.post{border-bottom:1px solid #ddd;padding:8px 0}.post-meta{color:#666;font-size:90%}
.photo-bg{display:inline-block;background-size:cover}.ad-box{border:1px dashed #aaa;margin:8px}
"""


class ForumApp:
    """Answers the forum's requests from the site content; see docs/demo-site.md."""

    def __init__(self, content: SiteContent, media: SiteMedia, urls: SiteUrls) -> None:
        self._content = content
        self._media = media
        self._urls = urls
        self._members = _member_index(content)
        self._routes: dict[str, Callable[[Request, _Links], Response]] = {
            "/": self._index,
            "/members": self._member_list,
            "/calendar": self._calendar,
            "/login": self._login,
            "/online": self._online,
            "/search": self._search,
            "/privacy": self._plain("Privacy", "We keep no more than the forum needs."),
            "/terms": self._plain("Terms", "Post only pictures you made yourself."),
        }

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/robots.txt":
            return web.text("User-agent: *\nDisallow: /search\nDisallow: /login\n")
        if path == "/static/style.css":
            return web.text(_STYLE, "text/css; charset=utf-8")
        if banner := _BANNER_PATH.fullmatch(path):
            return self._banner(int(banner.group(1)))
        if path == PLACEHOLDER_PATH:
            return Response(200, PIXEL, content_type="image/gif", cache_control="max-age=86400")
        if attachment := _ATTACHMENT_PATH.fullmatch(path):
            return self._attachment(int(attachment.group(1)))
        links = _Links(request, self._urls.forum)
        if path in self._routes:
            return self._routes[path](request, links)
        if path.startswith("/board/"):
            return self._board(path.removeprefix("/board/"), request, links)
        if thread := _THREAD_PATH.fullmatch(path):
            return self._thread(int(thread.group(1)), thread.group(2), request, links)
        if path.startswith("/member/"):
            return self._member(path.removeprefix("/member/"), links)
        return web.not_found()

    # -- pages

    def _index(self, request: Request, links: _Links) -> Response:
        rows = "".join(
            f'<tr class="board-row"><td><a class="board-link" href="{links.href(_board_path(b))}">'
            f'{esc(b.name)}</a><p class="board-desc">{esc(b.description)}</p></td>'
            f'<td class="board-count">{len(b.threads)} threads</td></tr>'
            for b in self._content.boards
        )
        main = f'<h1>Boards</h1><table class="boards">{rows}</table>'
        return self._page("Boards", main, links, crumbs=[])

    def _board(self, slug: str, request: Request, links: _Links) -> Response:
        board = self._content.board(slug)
        page = _page_number(request)
        if board is None or page is None or page > board.pages:
            return web.not_found("No such board or page")
        first = (page - 1) * THREADS_PER_PAGE
        shown = [self._content.threads[i] for i in board.threads[first : first + THREADS_PER_PAGE]]
        rows = "".join(self._thread_row(t, n, links) for n, t in enumerate(shown))
        pager = _pagination(page, board.pages, lambda n: links.href(f"?page={n}"))
        main = (
            f'<h1 class="board-title">{esc(board.name)}</h1>'
            f'<p class="board-desc">{esc(board.description)}</p>'
            f'<ul class="thread-list">{rows}</ul>{pager}'
        )
        canonical = _board_path(board) if page == 1 else f"{_board_path(board)}?page={page}"
        head = _rel_links(page, board.pages, lambda n: links.href(f"{_board_path(board)}?page={n}"))
        latest = max((t.posts[-1].posted_at for t in shown), default=SITE_START)
        return self._page(
            board.name, main, links, crumbs=[], head=head, canonical=canonical, modified=latest
        )

    def _thread_row(self, thread: Thread, number: int, links: _Links) -> str:
        # Links are written three ways (absolute, root-relative, page-relative), as real
        # forum software mixes them.
        style = ("absolute", "root", "relative")[number % 3]
        href = links.href(thread.path, style)
        extra_pages = " ".join(
            f'<a href="{links.href(thread.page_path(n))}">{n}</a>'
            for n in range(2, thread.pages + 1)
        )
        pages = f'<span class="thread-pages">Pages: {extra_pages}</span>' if extra_pages else ""
        op, last = thread.posts[0], thread.posts[-1]
        return (
            f'<li class="thread-row" data-thread-id="{thread.thread_id}">'
            f'<a class="thread-link" href="{href}">{esc(thread.title)}</a> '
            f'<span class="thread-author">by <a href="{links.href("/member/" + op.author)}">'
            f"{esc(op.author)}</a></span> "
            f'<span class="thread-replies">{_replies(len(thread.posts) - 1)}</span> {pages}'
            f'<span class="thread-last">last post <time datetime="{iso_time(last.posted_at)}">'
            f"{_display_time(last.posted_at)}</time></span></li>"
        )

    def _thread(
        self, thread_id: int, slug: str | None, request: Request, links: _Links
    ) -> Response:
        thread = self._content.threads.get(thread_id)
        if thread is None:
            return web.not_found("No such thread")
        if slug != thread.slug:
            query = f"?{urlencode(dict(request.query))}" if request.query else ""
            return web.redirect(f"{self._urls.forum}{thread.path}{query}")
        page = _page_number(request)
        if page is None or page > thread.pages:
            return web.not_found("No such page")
        first = (page - 1) * POSTS_PER_PAGE
        posts = thread.posts[first : first + POSTS_PER_PAGE]
        pager = _pagination(page, thread.pages, lambda n: links.href(thread.page_path(n)))
        board = self._content.board(thread.board)
        articles = "".join(self._post(thread, first + i, p, links) for i, p in enumerate(posts))
        main = (
            f'<h1 class="thread-title">{esc(thread.title)}</h1>{pager}'
            f'<div class="posts">{articles}</div>{pager}'
        )
        head = _rel_links(page, thread.pages, lambda n: links.href(thread.page_path(n)))
        head += self._og_tags(thread)
        crumbs = [(links.href(f"../board/{thread.board}"), board.name if board else thread.board)]
        return self._page(
            thread.title,
            main,
            links,
            crumbs=crumbs,
            head=head,
            canonical=thread.page_path(page),
            modified=max(p.posted_at for p in posts),
        )

    def _og_tags(self, thread: Thread) -> str:
        tags = f'<meta property="og:title" content="{esc(thread.title)}">'
        shown = thread.cover or next(
            (
                i.host_id
                for p in thread.posts
                for i in p.images
                if not self._content.uploads[i.host_id].removed
            ),
            None,
        )
        if shown is not None:
            tags += f'<meta property="og:image" content="{self._full_url(shown)}">'
        return tags

    def _post(self, thread: Thread, position: int, post: Post, links: _Links) -> str:
        permalink = links.href(f"{thread.page_path(thread.page_of(position))}#p{post.post_id}")
        images = "".join(self._embed(image) for image in post.images)
        attachments = f'<div class="attachments">{images}</div>' if images else ""
        signature = (
            '<footer class="post-signature">Shot on whatever was in the bag.</footer>'
            if post.post_id % 4 == 0
            else ""
        )
        return (
            f'<article class="post" id="p{post.post_id}" data-post-id="{post.post_id}">'
            f'<header class="post-meta"><a class="post-author" href="'
            f'{links.href("/member/" + post.author)}">{esc(post.author)}</a> '
            f'<time class="post-time" datetime="{iso_time(post.posted_at)}">'
            f"{_display_time(post.posted_at)}</time> "
            f'<a class="post-permalink" href="{permalink}">#{position + 1}</a></header>'
            f'<div class="post-body"><p>{esc(post.text)}</p>{attachments}</div>{signature}'
            "</article>"
        )

    def _embed(self, image: PostImage) -> str:
        host = self._urls.imagehost
        upload = self._content.uploads[image.host_id]
        picture = self._content.pictures[upload.picture]
        width, height = altered_size(picture.width, picture.height, upload.alteration)
        full, thumb = self._full_url(image.host_id), f"{host}/t/{image.host_id}.jpg"
        if image.embed in {"attachment", "attachment-thumb"}:
            number = self._content.attachment_of(image.host_id)
            if image.embed == "attachment-thumb":
                return (
                    f'<a class="attachment-thumb" href="/attachments/{number}" target="_blank">'
                    f'<img src="{thumb}" alt="attachment"></a>'
                )
            return (
                f'<a class="attachment" href="/attachments/{number}">'
                f"{_file_name(upload.host_id)}</a> "
                f'<span class="attachment-size">({_kib(width * height)} KB)</span>'
            )
        if image.embed == "full-link":
            return f'<a class="full-link" href="{full}"><img src="{thumb}" alt="photo"></a>'
        if image.embed == "lazy":
            return (
                f'<img class="lazyload" src="{PLACEHOLDER_PATH}" data-lazy-src="{full}" '
                f'width="{width}" height="{height}" alt="">'
            )
        if image.embed == "picture":
            return (
                f'<picture><source type="image/jpeg" srcset="{full} {width}w, {thumb} 150w">'
                f'<img class="pic" src="{thumb}" alt="photo"></picture>'
            )
        if image.embed == "style":
            return (
                f"<style>.ph-{image.host_id}{{background-image:url({full});"
                f"width:{width}px;height:{height}px}}</style>"
                f'<div class="ph ph-{image.host_id}" role="img" aria-label="photo"></div>'
            )
        if image.embed == "srcset":
            return (
                f'<img class="inline-photo" src="{thumb}" srcset="{thumb} 150w, {full} {width}w" '
                f'sizes="(max-width: 600px) 150px, {width}px" alt="photo">'
            )
        if image.embed == "background":
            return (
                f'<div class="photo-bg" role="img" aria-label="photo" style="background-image: '
                f"url('{full}'); width: {width}px; height: {height}px\"></div>"
            )
        if image.embed == "direct":
            return f'<img class="full-photo" src="{full}" width="{width}" height="{height}" alt="">'
        if image.embed == "og-image":
            return (
                f'<div class="js-gallery" data-gallery="{image.host_id}">'
                "<noscript>Enable JavaScript to see this gallery.</noscript></div>"
            )
        return (
            f'<a class="thumb" href="{host}/i/{image.host_id}">'
            f'<img src="{thumb}" alt="photo" loading="lazy"></a>'
        )

    def _full_url(self, host_id: str) -> str:
        return f"{self._urls.imagehost}/f/{host_id}.jpg"

    def _attachment(self, number: int) -> Response:
        """An attachment's address answers with a redirect to its file on the image host, as
        forum software serves uploads (XenForo, phpBB, vBulletin): no extension in the link."""
        host_id = self._content.attachments.get(number)
        if host_id is None:
            return web.not_found("No such attachment")
        return web.redirect(self._full_url(host_id), status=302)

    def _member_list(self, request: Request, links: _Links) -> Response:
        items = "".join(
            f'<li><a class="member-link" href="{links.href("/member/" + h)}">{esc(h)}</a></li>'
            for h in sorted(self._members)
        )
        return self._page("Members", f'<h1>Members</h1><ul class="members">{items}</ul>', links)

    def _member(self, handle: str, links: _Links) -> Response:
        if handle not in self._members:
            return web.not_found("No such member")
        posts, started = self._members[handle]
        threads = "".join(
            f'<li><a href="{links.href(self._content.threads[t].path)}">'
            f"{esc(self._content.threads[t].title)}</a></li>"
            for t in started[:20]
        )
        main = (
            f'<h1 class="member-name">{esc(handle)}</h1><p class="member-posts">{posts} posts</p>'
            f'<h2>Threads started</h2><ul class="member-threads">{threads}</ul>'
        )
        return self._page(handle, main, links)

    def _calendar(self, request: Request, links: _Links) -> Response:
        """An endless chain: every month links the next one, forever (a crawler trap)."""
        found = _MONTH.fullmatch(request.query.get("month", CALENDAR_START))
        if found is None or not 1 <= int(found.group(2)) <= 12:
            return web.not_found("Bad month", status=400)
        year, month = int(found.group(1)), int(found.group(2))
        before = f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
        after = f"{year + (month == 12):04d}-{month % 12 + 1:02d}"
        events = "".join(
            f"<li>{_EVENTS[(year * 12 + month + k) % len(_EVENTS)]} ({k * 7 + 3} "
            f"{_MONTHS[month - 1]})</li>"
            for k in range(3)
        )
        main = (
            f'<h1 class="calendar-title">{_MONTHS[month - 1]} {year}</h1>'
            f'<ul class="events">{events}</ul>'
            f'<a class="cal-prev" href="{links.href("/calendar?month=" + before)}">‹ earlier</a> '
            f'<a class="cal-next" href="{links.href("/calendar?month=" + after)}">later ›</a>'
        )
        return self._page("Calendar", main, links)

    def _login(self, request: Request, links: _Links) -> Response:
        main = (
            '<h1>Log in</h1><form class="login" method="post" action="/login">'
            '<input name="user"><input name="password" type="password"><button>Log in</button>'
            f'</form><p><a href="{links.href("/")}">Back to the boards</a></p>'
        )
        return self._page("Log in", main, links)

    def _online(self, request: Request, links: _Links) -> Response:
        main = (
            '<h1>Who is online</h1><p class="online">3 guests, 0 members.</p>'
            f'<p><a href="{links.href("/online")}">Refresh</a></p>'
        )
        return self._page("Who is online", main, links)

    def _search(self, request: Request, links: _Links) -> Response:
        main = (
            '<h1>Search</h1><form class="search" action="/search"><input name="q"></form>'
            '<p class="results">No results.</p>'
        )
        return self._page("Search", main, links)

    def _plain(self, title: str, sentence: str) -> Callable[[Request, _Links], Response]:
        def page(request: Request, links: _Links) -> Response:
            return self._page(title, f"<h1>{esc(title)}</h1><p>{esc(sentence)}</p>", links)

        return page

    def _banner(self, number: int) -> Response:
        if not 1 <= number <= _BANNERS:
            return web.not_found()
        return Response(
            200,
            self._media.banner(number),
            content_type="image/jpeg",
            cache_control="public, max-age=86400",
            last_modified=SITE_START,
        )

    # -- the frame every page shares

    def _page(
        self,
        title: str,
        main: str,
        links: _Links,
        *,
        crumbs: Iterable[tuple[str, str]] = (),
        head: str = "",
        canonical: str | None = None,
        modified: datetime = SITE_START,
    ) -> Response:
        trail = "".join(f' › <a href="{href}">{esc(name)}</a>' for href, name in crumbs)
        canonical_tag = (
            f'<link rel="canonical" href="{self._urls.forum}{canonical}">' if canonical else ""
        )
        markup = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)} — {SITE_NAME}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="/static/style.css">{canonical_tag}{head}</head><body>'
            f'<header class="site-header"><a class="logo" href="{links.href("/")}">{SITE_NAME}</a>'
            f'<nav class="main-nav"><a href="{links.href("/")}">Boards</a> '
            f'<a href="{links.href("/calendar?month=" + CALENDAR_START)}">Calendar</a> '
            f'<a href="{links.href("/members")}">Members</a> '
            f'<a href="{links.href("/search")}">Search</a> '
            f'<a class="login" href="{links.with_sid("/login")}">Log in</a></nav></header>'
            f'<div class="breadcrumbs"><a href="{links.href("/")}">Boards</a>{trail}</div>'
            f'<main id="content">{main}</main>{_SIDEBAR}'
            f'<footer class="site-footer"><a href="{links.with_sid("/online")}">Who is online</a>'
            f' · <a href="{links.href("/privacy")}">Privacy</a>'
            f' · <a href="{links.href("/terms")}">Terms</a> · © 2024 {SITE_NAME}</footer>'
            "</body></html>"
        )
        return web.html_page(markup, last_modified=modified)


_SIDEBAR = (
    '<aside class="sidebar">'
    '<div class="ad-box"><span class="ad-label">Advertisement</span> '
    '<a href="https://ads.example.net/click?c=tripods" rel="sponsored nofollow">'
    "Carbon tripods, 20% off this week</a></div>"
    '<div class="ad-box"><span class="ad-label">Sponsored</span> '
    '<a href="https://ads.example.net/click?c=prints" rel="sponsored nofollow">'
    f'<img class="ad-banner" src="/static/banner-1.jpg" width="{BANNER_SIZE[0]}" '
    f'height="{BANNER_SIZE[1]}" alt="Print shop"></a></div>'
    '<div class="ad-box"><a href="https://ads.example.net/click?c=bags" rel="sponsored nofollow">'
    f'<img class="ad-banner" src="/static/banner-2.jpg" width="{BANNER_SIZE[0]}" '
    f'height="{BANNER_SIZE[1]}" alt="Camera bags"></a></div></aside>'
)


class _Links:
    """Writes the page's links. A page requested with ?sid=… writes every internal link with
    a new sid derived from it, so each visit opens fresh URLs: the session-id trap."""

    def __init__(self, request: Request, origin: str) -> None:
        self._origin = origin
        self._path = request.path
        self._sid = request.query.get("sid")

    def href(self, target: str, style: str = "root") -> str:
        if style == "absolute" and target.startswith("/"):
            target = self._origin + target
        elif style == "relative" and target.startswith("/"):
            target = ".." + target  # used on /board/<slug> pages, one folder deep
        return self._add_sid(target, self._next_sid()) if self._sid is not None else target

    def with_sid(self, target: str) -> str:
        """A link that always carries a session id: the way into the trap."""
        return self._add_sid(target, self._next_sid())

    def _next_sid(self) -> str:
        return hashlib.sha256(f"{self._sid}|{self._path}".encode()).hexdigest()[:16]

    @staticmethod
    def _add_sid(target: str, sid: str) -> str:
        path, hash_mark, fragment = target.partition("#")
        joiner = "&" if "?" in path else "?"
        return f"{path}{joiner}sid={sid}{hash_mark}{fragment}"


def _member_index(content: SiteContent) -> dict[str, tuple[int, list[int]]]:
    """Per handle: how many posts, and the threads they started (newest first)."""
    found: dict[str, tuple[int, list[int]]] = {}
    for thread in sorted(content.threads.values(), key=lambda t: -t.thread_id):
        for position, post in enumerate(thread.posts):
            count, started = found.get(post.author, (0, []))
            if position == 0:
                started.append(thread.thread_id)
            found[post.author] = (count + 1, started)
    return found


def _board_path(board: Board) -> str:
    return f"/board/{board.slug}"


def _page_number(request: Request) -> int | None:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def _pagination(page: int, pages: int, href: Callable[[int], str]) -> str:
    if pages == 1:
        return ""
    numbers = " ".join(
        f'<span class="current">{n}</span>' if n == page else f'<a href="{href(n)}">{n}</a>'
        for n in range(max(1, page - 3), min(pages, page + 3) + 1)
    )
    prev = f'<a class="prev" rel="prev" href="{href(page - 1)}">‹ Prev</a> ' if page > 1 else ""
    after = (
        f' <a class="next" rel="next" href="{href(page + 1)}">Next ›</a>' if page < pages else ""
    )
    return f'<nav class="pagination">{prev}{numbers}{after}</nav>'


def _rel_links(page: int, pages: int, href: Callable[[int], str]) -> str:
    tags = f'<link rel="prev" href="{href(page - 1)}">' if page > 1 else ""
    return tags + (f'<link rel="next" href="{href(page + 1)}">' if page < pages else "")


def _file_name(host_id: str) -> str:
    """The name a member's camera gave the file: IMG_ and four digits from the upload id."""
    return f"IMG_{int(hashlib.sha256(host_id.encode()).hexdigest()[:6], 16) % 10000:04d}.jpg"


def _kib(pixels: int) -> int:
    return max(8, pixels // 5000)


def _replies(count: int) -> str:
    return "1 reply" if count == 1 else f"{count} replies"


def _display_time(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1][:3]} {moment.year}, {moment:%H:%M}"
