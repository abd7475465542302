"""The image host ("PicDrop"): one page per upload with the full image, the full image and a
small thumbnail, 410 Gone for removed uploads.

Owns the host's URLs and HTML (documented in docs/demo-site.md). Must not know the forum's
pages nor how it is served.
"""

from __future__ import annotations

import re

from rempart.demo_site import web
from rempart.demo_site.content import SITE_START, SiteContent, Upload
from rempart.demo_site.media import SiteMedia, altered_size
from rempart.demo_site.web import Request, Response, SiteUrls, esc, iso_time

__all__ = ["SITE_NAME", "ImageHostApp"]

SITE_NAME = "PicDrop"
_PAGE = re.compile(r"/i/([0-9A-Za-z]+)")
_FILE = re.compile(r"/([ft])/([0-9A-Za-z]+)\.jpg")
_REPORT = re.compile(r"/report/([0-9A-Za-z]+)")
_IMAGE_CACHE = "public, max-age=86400"
_PLAIN_PAGES = {
    "/terms": ("Terms", "Upload only what you have the right to share."),
    "/dmca": ("Takedown requests", "Use the report link under any image."),
    "/upload": ("Upload", "Uploads are closed for maintenance."),
}


class ImageHostApp:
    """Answers the image host's requests; see docs/demo-site.md."""

    def __init__(self, content: SiteContent, media: SiteMedia, urls: SiteUrls) -> None:
        self._content = content
        self._media = media
        self._urls = urls

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/":
            return self._frame("Free image hosting", "<h1>Share pictures in seconds</h1>")
        if path == "/robots.txt":
            return web.text("User-agent: *\nDisallow: /report/\n")
        if path in _PLAIN_PAGES:
            title, sentence = _PLAIN_PAGES[path]
            return self._frame(title, f"<h1>{title}</h1><p>{sentence}</p>")
        if page := _PAGE.fullmatch(path):
            return self._image_page(page.group(1))
        if file := _FILE.fullmatch(path):
            return self._image_file(file.group(2), thumbnail=file.group(1) == "t")
        if report := _REPORT.fullmatch(path):
            return self._frame("Report", f"<h1>Report image {esc(report.group(1))}</h1>")
        return web.not_found()

    def _upload(self, host_id: str) -> Upload | Response:
        upload = self._content.uploads.get(host_id)
        if upload is None:
            return web.not_found("No such image")
        if upload.removed:
            return web.not_found("This image has been removed.", status=410)
        return upload

    def _image_page(self, host_id: str) -> Response:
        upload = self._upload(host_id)
        if isinstance(upload, Response):
            return upload
        picture = self._content.pictures[upload.picture]
        width, height = altered_size(picture.width, picture.height, upload.alteration)
        full = f"/f/{host_id}.jpg"
        main = (
            f'<main class="viewer"><img id="full" src="{full}" width="{width}" height="{height}" '
            f'alt="Image {host_id}"><ul class="image-info"><li>Uploaded <time datetime="'
            f'{iso_time(upload.uploaded_at)}">{upload.uploaded_at:%d %b %Y}</time></li>'
            f"<li>{width} × {height} · JPEG</li></ul>"
            f'<p class="links"><a href="{full}" download>Download</a> · '
            f'<a class="report" href="/report/{host_id}">Report this image</a></p></main>'
        )
        head = (
            f'<meta property="og:image" content="{self._urls.imagehost}{full}">'
            '<meta property="og:type" content="website">'
        )
        return self._frame(f"Image {host_id}", main, head, upload)

    def _image_file(self, host_id: str, *, thumbnail: bool) -> Response:
        upload = self._upload(host_id)
        if isinstance(upload, Response):
            return upload
        make = self._media.thumbnail if thumbnail else self._media.full
        return Response(
            200,
            make(upload.picture, upload.alteration),
            content_type="image/jpeg",
            cache_control=_IMAGE_CACHE,
            last_modified=upload.uploaded_at,
        )

    def _frame(
        self, title: str, main: str, head: str = "", upload: Upload | None = None
    ) -> Response:
        markup = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)} — {SITE_NAME}</title>{head}</head><body>"
            f'<header class="topbar"><a class="brand" href="/">{SITE_NAME}</a> '
            '<a href="/upload">Upload</a></header>'
            f'{main}<aside class="promo"><p>Go premium: no ads, unlimited uploads.</p></aside>'
            f'<footer><a href="/terms">Terms</a> · <a href="/dmca">Takedown requests</a></footer>'
            "</body></html>"
        )
        modified = upload.uploaded_at if upload is not None else SITE_START
        return web.html_page(markup, last_modified=modified)
