"""The mirror ("ForumVault"): copies of some forum threads in another layout, with the images
re-hosted on the mirror itself (lazy-loaded, some altered).

Owns the mirror's URLs and HTML (documented in docs/demo-site.md). Must not know the forum's
HTML nor how it is served.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime

from rempart.demo_site import web
from rempart.demo_site.content import (
    MIRROR_ENTRIES_PER_PAGE,
    MIRROR_THREADS_PER_PAGE,
    SITE_START,
    MirrorEntry,
    MirrorThread,
    SiteContent,
    page_count,
)
from rempart.demo_site.media import SiteMedia
from rempart.demo_site.web import Request, Response, SiteUrls, esc

__all__ = ["PIXEL", "PLACEHOLDER_PATH", "SITE_NAME", "MirrorApp"]

SITE_NAME = "ForumVault"
PLACEHOLDER_PATH = "/static/px.gif"
_THREAD = re.compile(r"/t/(\d+)/([a-z0-9-]+)(?:/page/(\d+))?")
_MEDIA = re.compile(r"/media/([0-9A-Za-z]+)\.jpg")
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_STYLE = "body.mirror{font-family:serif;background:#111;color:#ddd}.entry{margin:1em 0}"


class MirrorApp:
    """Answers the mirror's requests; see docs/demo-site.md."""

    def __init__(self, content: SiteContent, media: SiteMedia, urls: SiteUrls) -> None:
        self._content = content
        self._media = media
        self._urls = urls
        self._media_times = {
            medium: entry.posted_at
            for thread in content.mirror_threads
            for entry in thread.entries
            for medium in entry.media
        }

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/":
            return self._listing(request)
        if path == PLACEHOLDER_PATH:
            return Response(200, PIXEL, content_type="image/gif", cache_control="max-age=86400")
        if path == "/static/mirror.css":
            return web.text(_STYLE, "text/css; charset=utf-8")
        if path == "/robots.txt":
            return web.text("User-agent: *\nAllow: /\n")
        if path == "/about":
            return self._frame("About", "<p>We keep copies of public threads.</p>")
        if thread := _THREAD.fullmatch(path):
            page = int(thread.group(3) or 1)
            return self._thread(int(thread.group(1)), thread.group(2), page)
        if medium := _MEDIA.fullmatch(path):
            return self._medium(medium.group(1))
        return web.not_found()

    def _listing(self, request: Request) -> Response:
        raw = request.query.get("p", "1")
        threads = self._content.mirror_threads
        pages = page_count(len(threads), MIRROR_THREADS_PER_PAGE)
        page = int(raw) if raw.isdigit() else 0
        if not 1 <= page <= pages:
            return web.not_found("No such page")
        first = (page - 1) * MIRROR_THREADS_PER_PAGE
        items = "".join(
            f'<div class="item"><a class="item-title" href="{t.path}">{esc(t.title)}</a> '
            f'<span class="n">{len(t.entries)} posts</span></div>'
            for t in threads[first : first + MIRROR_THREADS_PER_PAGE]
        )
        older = f'<a class="older" href="/?p={page + 1}">older threads</a>' if page < pages else ""
        newer = f'<a class="newer" href="/?p={page - 1}">newer threads</a> ' if page > 1 else ""
        main = f'<div class="listing">{items}</div><div class="nav">{newer}{older}</div>'
        shown = threads[first : first + MIRROR_THREADS_PER_PAGE]
        # A thread added later (the demo's re-upload) changes the page: a re-scan reads it.
        newest = max((e.posted_at for t in shown for e in t.entries), default=SITE_START)
        return self._frame("Archived threads", main, max(newest, SITE_START))

    def _thread(self, mirror_id: int, slug: str, page: int) -> Response:
        thread = self._content.mirror_thread(mirror_id)
        if thread is None or page < 1 or page > thread.pages:
            return web.not_found("No such thread or page")
        if slug != thread.slug:
            return web.redirect(thread.page_path(page))
        first = (page - 1) * MIRROR_ENTRIES_PER_PAGE
        entries = thread.entries[first : first + MIRROR_ENTRIES_PER_PAGE]
        source = f"{self._urls.forum}/thread/{thread.source_thread}-{thread.slug}"
        main = (
            f'<h2 class="t-title">{esc(thread.title)}</h2><p class="origin">Archived from '
            f'<a href="{source}" rel="nofollow">Shutter Lane</a></p>'
            + "".join(_entry(e) for e in entries)
            + _pager(thread, page)
        )
        return self._frame(thread.title, main, max(e.posted_at for e in entries))

    def _medium(self, media_id: str) -> Response:
        medium = self._content.mirror_media.get(media_id)
        if medium is None:
            return web.not_found()
        return Response(
            200,
            self._media.full(medium.picture, medium.alteration),
            content_type="image/jpeg",
            cache_control="public, max-age=604800",
            last_modified=self._media_times.get(media_id, SITE_START),
        )

    def _frame(self, title: str, main: str, modified: datetime = SITE_START) -> Response:
        markup = (
            f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)} | {SITE_NAME}"
            '</title><link rel=stylesheet href="/static/mirror.css"></head><body class="mirror">'
            f'<div id="top"><a class="brand" href="/">{SITE_NAME}</a> '
            '<span class="tagline">threads worth keeping</span></div>'
            f'<div id="wrap">{main}</div>'
            f'<div id="bottom">{SITE_NAME} keeps copies of public threads. '
            '<a href="/about">About</a></div></body></html>'
        )
        return web.html_page(markup, last_modified=modified)


def _entry(entry: MirrorEntry) -> str:
    pictures = "".join(
        f'<figure class="pic"><img class="lazy" src="{PLACEHOLDER_PATH}" '
        f'data-src="/media/{medium}.jpg" alt=""></figure>'
        for medium in entry.media
    )
    stamp = int(entry.posted_at.timestamp())
    return (
        f'<div class="entry" id="e-{entry.post_id}"><div class="meta">'
        f'<span class="nick">{esc(entry.author)}</span> wrote on '
        f'<span class="stamp" data-ts="{stamp}">{entry.posted_at:%Y-%m-%d %H:%M}</span></div>'
        f'<div class="text">{esc(entry.text)}</div>{pictures}</div>'
    )


def _pager(thread: MirrorThread, page: int) -> str:
    if thread.pages == 1:
        return ""
    previous = (
        f'<a class="pager-prev" href="{thread.page_path(page - 1)}">« previous page</a> '
        if page > 1
        else ""
    )
    following = (
        f'<a class="pager-next" href="{thread.page_path(page + 1)}">next page »</a>'
        if page < thread.pages
        else ""
    )
    return (
        f'<div class="pager"><span class="pos">Page {page} of {thread.pages}</span> '
        f"{previous}{following}</div>"
    )
