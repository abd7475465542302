"""Reading forum and image-host pages: links, posts and the media in them, from HTML that may
be broken or hostile (parsed by lexbor through selectolax, never rendered).

Owns extraction: selectors, img/srcset/lazy attributes, thumbnails wrapped in links, links
that may lead to media (attachments, file names), pagination hints, video sources, og:image,
CSS url() in style attributes and <style> blocks, charsets and URL resolution. Must not fetch
anything, and keeps page text as data only: no script, style or markup from a page is ever run.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

__all__ = [
    "MediaRef",
    "Page",
    "Post",
    "PostSelectors",
    "is_valid_selector",
    "looks_like_attachment",
    "looks_like_media_url",
    "parse_posted_at",
]

MEDIA_EXTENSIONS = frozenset(
    {
        "jpg",
        "jpeg",
        "jpe",
        "jfif",
        "png",
        "gif",
        "webp",
        "avif",
        "heic",
        "heif",
        "bmp",
        "tif",
        "tiff",
        "mp4",
        "m4v",
        "mov",
        "webm",
        "mkv",
    }
)
# Lazy-loading attributes come first: where they exist, `src` is usually a placeholder.
_SRC_ATTRIBUTES = ("data-src", "data-original", "data-lazy-src", "data-url", "src")
_SRCSET_ATTRIBUTES = ("data-srcset", "srcset")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_OG_IMAGE = (
    'meta[property="og:image"]',
    'meta[property="og:image:secure_url"]',
    'meta[property="og:image:url"]',
    'meta[name="twitter:image"]',
)
_THUMB_LINK_LEVELS = 4  # how far up from an <img> an enclosing <a> still counts as its link
# Declarations in <style> blocks whose url() is a picture (fonts and imports are not).
_CSS_BACKGROUND = re.compile(r"background(?:-image)?\s*:\s*([^;}]*)", re.IGNORECASE)
# Where forum software serves uploaded files without a file extension (XenForo
# /attachments/x.123/, phpBB download/file.php?id=, vBulletin attachment.php?attachmentid=).
_ATTACHMENT_PATH = re.compile(
    r"/(?:attachments?|attach|download|dl|getattachment|file\.php|attachment\.php)(?:/|$|\?)",
    re.IGNORECASE,
)
_ATTACHMENT_QUERY = re.compile(r"(?:^|&)(?:attachmentid|attach_?id|file_?id)=", re.IGNORECASE)
_FILE_NAME_TEXT = re.compile(
    r"[\w .()\[\]-]{1,120}\.(" + "|".join(sorted(MEDIA_EXTENSIONS)) + r")\b", re.IGNORECASE
)
# Pagination: rel=next/prev, a pager's class names, and the words sites put on those links.
_PAGER_CLASS = re.compile(
    r"(?:^|[-_])(?:pagination|pager|page-?nav|paging|page-numbers|next|prev|previous)(?:$|[-_])",
    re.IGNORECASE,
)
_PAGER_TEXT = re.compile(
    r"(?:next|next page|suivant|suivante|page suivante|older|weiter|siguiente|[›»>]+)"
    r"\s*[›»>]*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media URL found on a page (absolute, as written there), and how it was found.

    `via`: img, srcset, link (an <a> to a media file), image-page (an <a> to an image host's
    page, whose main image is the media), probe (an <a> that may lead to media although its
    URL does not say so: an attachment, a file name as its text, a thumbnail's target; it is
    fetched to see), video, og:image, css.
    """

    url: str
    via: str

    @property
    def is_image_page(self) -> bool:
        return self.via == "image-page"

    @property
    def is_probe(self) -> bool:
        return self.via == "probe"


@dataclass(frozen=True, slots=True)
class Post:
    """One post of a thread page: who posted it, when, and its media."""

    post_id: str | None
    author: str | None
    posted_at: datetime | None
    media: tuple[MediaRef, ...]


@dataclass(frozen=True, slots=True)
class PostSelectors:
    """Where a post's parts are, as CSS selectors relative to the post element."""

    selector: str
    id_attr: str | None = "id"
    id_selector: str | None = None
    author: str | None = None
    author_attr: str | None = None
    time: str | None = None
    time_attr: str = "datetime"
    content: str | None = None


def is_valid_selector(selector: str) -> bool:
    try:
        LexborHTMLParser("<p></p>").css(selector)
    except (SelectolaxError, ValueError):
        return False
    return True


def looks_like_media_url(url: str) -> bool:
    """True when the URL's path ends in an image or video file extension."""
    path = urlsplit(url).path
    return path.rsplit(".", 1)[-1].lower() in MEDIA_EXTENSIONS if "." in path else False


def looks_like_attachment(url: str) -> bool:
    """True when the URL's path or query is where forum software serves uploaded files."""
    parts = urlsplit(url)
    return bool(_ATTACHMENT_PATH.search(parts.path) or _ATTACHMENT_QUERY.search(parts.query))


def parse_posted_at(value: str | None) -> datetime | None:
    """A post's time from an ISO 8601 string or a Unix timestamp (as forums put them in
    attributes); None when absent or unreadable. Times without a zone are taken as UTC."""
    if not value:
        return None
    text = value.strip()
    try:
        if text.isdigit() and len(text) <= 12:
            return datetime.fromtimestamp(int(text), UTC)
        when = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class Page:
    """One parsed HTML page. `ignore` (a selector) removes what must never be read as media,
    such as avatars, smileys, signatures or ads, before anything is extracted."""

    def __init__(
        self,
        body: bytes,
        url: str,
        *,
        charset: str | None = None,
        ignore: str | None = None,
    ) -> None:
        self.url = url
        self._tree = LexborHTMLParser(decode_html(body, charset))
        self.base = self._base_url()
        if ignore:
            for node in self._tree.css(ignore):
                node.decompose()

    # ---- links and text

    def links(self, selector: str = "a[href]") -> list[str]:
        """Absolute http(s) URLs of what `selector` matches: its href (or src), in order."""
        found = (self._href(node) for node in self._tree.css(selector))
        return list(dict.fromkeys(url for url in found if url))

    def first_link(self, selector: str) -> str | None:
        return next(iter(self.links(selector)), None)

    def pagination_links(self) -> set[str]:
        """Links that look like the way to another page of this listing: rel=next/prev (on
        <a> or <link>), an element of a pager (by its class), or the words of such links
        ("Next", "Suivant", "›", "»"). A hint only: the crawler also reads the URLs."""
        found: set[str] = set()
        for node in self._tree.css("a[href], link[href]"):
            url = self._href(node)
            if url and _is_pager_link(node):
                found.add(url)
        return found

    def text(self, selector: str) -> str | None:
        node = self._tree.css_first(selector)
        text = _clean(node.text(deep=True, separator=" ")) if node is not None else None
        return text or None

    def title(self, selector: str | None = None) -> str | None:
        return (self.text(selector) if selector else None) or self.text("title")

    def og_image(self) -> str | None:
        for selector in _OG_IMAGE:
            node = self._tree.css_first(selector)
            url = self._absolute(node.attributes.get("content")) if node is not None else None
            if url:
                return url
        return None

    def main_image(self, selector: str | None) -> str | None:
        """An image host page's main image: what `selector` points at (an img, a link, a
        meta tag or a styled element), else the page's og:image, else (without a selector)
        its largest <img> by declared size, when one is declared at least 300 px wide."""
        node = self._tree.css_first(selector) if selector else None
        if node is not None:
            url = self._main_url(node)
            if url:
                return url
        return self.og_image() or (None if selector else self._largest_image())

    def _largest_image(self) -> str | None:
        best: tuple[int, str] | None = None
        for img in self._tree.css("img"):
            width, height = (_pixels(img.attributes.get(a)) for a in ("width", "height"))
            url = _best_image(img, self._absolute)
            area = width * height
            if url and width >= _MAIN_IMAGE_MIN_WIDTH and (best is None or area > best[0]):
                best = (area, url)
        return best[1] if best else None

    # ---- posts and media

    def posts(self, rules: PostSelectors, is_image_page: Callable[[str], bool]) -> list[Post]:
        return [self._post(node, rules, is_image_page) for node in self._tree.css(rules.selector)]

    def media(self, is_image_page: Callable[[str], bool]) -> list[MediaRef]:
        """All media of the page's body (the generic reading, for pages without a recipe)."""
        body = self._tree.body or self._tree.root
        if body is None:
            return []
        found = list(_media_in(body, self._absolute, is_image_page))
        head = self._tree.head
        if head is not None:
            known = {ref.url for ref in found}
            found += [r for r in _style_block_media(head, self._absolute) if r.url not in known]
        return found

    def _post(
        self, node: LexborNode, rules: PostSelectors, is_image_page: Callable[[str], bool]
    ) -> Post:
        content = node.css_first(rules.content) if rules.content else node
        media = _media_in(content, self._absolute, is_image_page) if content is not None else ()
        posted_at = _read(node, rules.time, rules.time_attr, text=True) if rules.time else ""
        return Post(
            post_id=_read(node, rules.id_selector, rules.id_attr) or None,
            author=_read(node, rules.author, rules.author_attr) or None,
            posted_at=parse_posted_at(posted_at),
            media=tuple(media),
        )

    # ---- URLs

    def _base_url(self) -> str:
        node = self._tree.css_first("base[href]")
        href = node.attributes.get("href") if node is not None else None
        # _absolute: a base that is not a valid http(s) URL (`ps://im[`) is ignored
        return _absolute(self.url, href) or self.url

    def _absolute(self, value: str | None) -> str | None:
        return _absolute(self.base, value)

    def _href(self, node: LexborNode) -> str | None:
        return self._absolute(node.attributes.get("href") or node.attributes.get("src"))

    def _main_url(self, node: LexborNode) -> str | None:
        if node.tag == "img":
            return _best_image(node, self._absolute)
        if node.tag == "meta":
            return self._absolute(node.attributes.get("content"))
        if node.tag in {"video", "source"}:
            return self._absolute(node.attributes.get("src"))
        return self._href(node) or next(_css_urls(node, self._absolute), None)


def decode_html(body: bytes, charset: str | None) -> str:
    """The page's text: the header's charset, else a <meta> one, else UTF-8; bad bytes are
    replaced, never fatal."""
    for candidate in (charset, _meta_charset(body[:4096])):
        if candidate:
            try:
                return body.decode(codecs.lookup(candidate).name, errors="replace")
            except (LookupError, ValueError):
                continue
    return body.decode("utf-8", errors="replace")


def _meta_charset(head: bytes) -> str | None:
    found = _META_CHARSET.search(head)
    return found.group(1).decode("ascii", errors="ignore") if found else None


def _absolute(base: str, value: str | None) -> str | None:
    """An absolute http(s) URL, or None for empty, inline (data:, blob:) or script links."""
    if not value:
        return None
    value = value.strip()
    if not value or value.startswith("#"):
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    return url


def _clean(text: str) -> str:
    return " ".join(text.split())


def _read(node: LexborNode, selector: str | None, attr: str | None, text: bool = False) -> str:
    """An attribute of the element `selector` finds in `node` (or of `node` itself), else its
    text when `text` or when no attribute is named; empty when nothing is there."""
    target = node.css_first(selector) if selector else node
    if target is None:
        return ""
    value = target.attributes.get(attr) if attr else None
    if value:
        return value.strip()
    if selector and (text or not attr):
        return _clean(target.text(deep=True, separator=" "))
    return ""


Absolute = Callable[[str | None], str | None]
_MAIN_IMAGE_MIN_WIDTH = 300


def _pixels(value: str | None) -> int:
    text = (value or "").strip().removesuffix("px")
    return int(text) if text.isdigit() and len(text) < 6 else 0


def _is_pager_link(node: LexborNode) -> bool:
    rel = (node.attributes.get("rel") or "").lower().split()
    if "next" in rel or "prev" in rel or "previous" in rel:
        return True
    if node.tag != "a":
        return False
    current: LexborNode | None = node
    for _ in range(3):
        if current is None:
            break
        classes = (current.attributes.get("class") or "").split()
        if any(_PAGER_CLASS.search(name) for name in classes):
            return True
        current = current.parent
    text = _clean(node.text(deep=True, separator=" "))
    return bool(text) and len(text) <= 20 and bool(_PAGER_TEXT.fullmatch(text))


def _media_in(
    node: LexborNode, absolute: Absolute, is_image_page: Callable[[str], bool]
) -> Iterator[MediaRef]:
    """Every media reference under `node`, in document order per kind, without duplicates.

    A thumbnail wrapped in a link to a media file or to an image host's page stands for that
    link's target (the full-size image), not for itself."""
    seen: set[str] = set()
    taken_links: set[str] = set()
    for ref in _linked_media(node, absolute, is_image_page):
        taken_links.add(ref.url)
        if ref.url not in seen:
            seen.add(ref.url)
            yield ref
    for ref in _embedded_media(node, absolute, taken_links):
        if ref.url not in seen:
            seen.add(ref.url)
            yield ref


def _linked_media(
    node: LexborNode, absolute: Absolute, is_image_page: Callable[[str], bool]
) -> Iterator[MediaRef]:
    anchors = [(a, absolute(a.attributes.get("href"))) for a in node.css("a[href]")]
    # A URL that is also linked by words (a thread's title beside its preview picture) is
    # a page to crawl, not a picture to probe.
    worded = {url for a, url in anchors if url and not a.css_first("img")}
    for anchor, url in anchors:
        if not url:
            continue
        if looks_like_media_url(url):
            yield MediaRef(url, "link")
        elif is_image_page(url):
            yield MediaRef(url, "image-page")
        elif _may_lead_to_media(anchor, url, worded):
            yield MediaRef(url, "probe")


def _may_lead_to_media(anchor: LexborNode, url: str, worded: set[str]) -> bool:
    """An attachment's address, a link whose text is a file name (`IMG_0042.jpg`) or that
    says `download`, or a thumbnail's link to a page linked nowhere else by words."""
    if "sponsored" in (anchor.attributes.get("rel") or "").lower().split():
        return False  # an advertisement: never clicked
    if looks_like_attachment(url) or "download" in anchor.attributes:
        return True
    if anchor.css_first("img") is not None:
        return url not in worded
    text = _clean(anchor.text(deep=True, separator=" "))
    title = anchor.attributes.get("title") or ""
    return any(t and len(t) <= 160 and _FILE_NAME_TEXT.search(t) for t in (text, title))


def _embedded_media(node: LexborNode, absolute: Absolute, taken: set[str]) -> Iterator[MediaRef]:
    for img in node.css("img"):
        if _enclosing_link(img, node, absolute) in taken:
            continue
        url = _best_image(img, absolute)
        if url:
            yield MediaRef(url, "srcset" if _has_srcset(img) else "img")
    for video in node.css("video"):
        for url in (
            absolute(video.attributes.get("src")),
            absolute(video.attributes.get("poster")),
        ):
            if url:
                yield MediaRef(url, "video")
        for source in video.css("source[src]"):
            url = absolute(source.attributes.get("src"))
            if url:
                yield MediaRef(url, "video")
    for styled in node.css("[style]"):
        for url in _css_urls(styled, absolute):
            yield MediaRef(url, "css")
    yield from _style_block_media(node, absolute)


def _style_block_media(node: LexborNode, absolute: Absolute) -> Iterator[MediaRef]:
    """background / background-image url()s of the <style> blocks under `node` (a class that
    gives an element its picture); fonts and imports are left out."""
    for style in node.css("style"):
        for declaration in _CSS_BACKGROUND.findall(style.text(deep=True)):
            for _, raw in _CSS_URL.findall(declaration):
                url = absolute(raw)
                if url:
                    yield MediaRef(url, "css")


def _enclosing_link(img: LexborNode, container: LexborNode, absolute: Absolute) -> str | None:
    current = img.parent
    for _ in range(_THUMB_LINK_LEVELS):
        if current is None or current == container:
            return None
        if current.tag == "a":
            return absolute(current.attributes.get("href"))
        current = current.parent
    return None


def _has_srcset(img: LexborNode) -> bool:
    return any(img.attributes.get(a) for a in _SRCSET_ATTRIBUTES)


def _best_image(img: LexborNode, absolute: Absolute) -> str | None:
    """The largest candidate of the img's srcset (and of its <picture> sources), else its
    source, lazy-loading attributes first."""
    candidates: list[tuple[float, str]] = []
    for srcset in _srcsets(img):
        candidates.extend(_srcset_candidates(srcset))
    if candidates:
        best = absolute(max(candidates, key=lambda c: c[0])[1])
        if best:
            return best
    for name in _SRC_ATTRIBUTES:
        url = absolute(img.attributes.get(name))
        if url:
            return url
    return None


def _srcsets(img: LexborNode) -> Iterator[str]:
    for name in _SRCSET_ATTRIBUTES:
        value = img.attributes.get(name)
        if value:
            yield value
    parent = img.parent
    if parent is not None and parent.tag == "picture":
        for source in parent.css("source"):
            for name in _SRCSET_ATTRIBUTES:
                value = source.attributes.get(name)
                if value:
                    yield value


def _srcset_candidates(srcset: str) -> Iterator[tuple[float, str]]:
    """(size, url) for each candidate: the width for `640w`, the density times a nominal
    1000 px for `2x` (a bare URL counts as 1x), so both kinds compare."""
    for part in re.split(r",\s+|,(?=\S+\s)", srcset.strip()):
        words = part.strip().split()
        if not words:
            continue
        url, descriptor = words[0].rstrip(","), (words[1] if len(words) > 1 else "1x")
        size = _descriptor_size(descriptor)
        if url and size is not None:
            yield size, url


def _descriptor_size(descriptor: str) -> float | None:
    unit, number = descriptor[-1:].lower(), descriptor[:-1]
    try:
        value = float(number)
    except ValueError:
        return None
    if unit == "w":
        return value
    if unit == "x":
        return value * 1000
    return None


def _css_urls(node: LexborNode, absolute: Absolute) -> Iterator[str]:
    for _, raw in _CSS_URL.findall(node.attributes.get("style") or ""):
        url = absolute(raw)
        if url:
            yield url
