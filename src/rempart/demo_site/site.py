"""DemoSite: one deterministic demo world (forum, image host, mirror), the victim's originals,
and where copies of them were put, ready to serve on loopback.

Owns the public face of the package and the list of expected sightings. Must not lay out
content (content.py), make bytes (media.py) or render pages (forum.py, imagehost.py,
mirror.py); it wires them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rempart.demo_site.content import (
    MIRROR_ENTRIES_PER_PAGE,
    SiteContent,
    build_content,
    default_victims,
)
from rempart.demo_site.forum import ForumApp
from rempart.demo_site.imagehost import ImageHostApp
from rempart.demo_site.media import MediaCache, SiteMedia
from rempart.demo_site.mirror import MirrorApp
from rempart.demo_site.servers import AccessLog, serve_apps
from rempart.demo_site.web import App, SiteUrls
from rempart.i18n import _

__all__ = ["DemoSite", "ServedSite", "Sighting", "serve_until_interrupted"]

_DEFAULT_CACHE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where a copy of victim image `victim` (an index into victim_images()) can be found.

    `where` is "forum", "mirror" or "telegram". `page_url` is the page that shows it (the
    thread page holding the post, or the message's t.me link); `media_url` the file itself
    (on the image host, on the mirror, or the path inside a Telegram export). `alteration`
    is "exact" (same bytes as the original) or one of content.ALTERATIONS; `embed` says how
    the page shows it (content.EMBEDS, "lazy" on the mirror, "photo"/"file" on Telegram);
    `post_id` is what the page's post-id attribute holds (data-post-id on the forum, the
    entry's id on the mirror, the message id on Telegram).
    """

    victim: int
    where: str
    page_url: str
    media_url: str
    alteration: str
    embed: str
    post_id: str


class DemoSite:
    """A forum, an image host and a mirror, generated from `seed` with `images` pictures.

    Building it lays out the structure only (fast even for 10,000 images); image bytes are
    made on first request and cached (`cache_bytes` in memory, and in `cache_dir` on disk
    when given, which a later run with the same seed reuses). `warm()` makes them all ahead.
    """

    def __init__(
        self,
        seed: int = 1,
        images: int = 50,
        *,
        victims: int | None = None,
        image_size: tuple[int, int] = (320, 240),
        cache_dir: str | Path | None = None,
        cache_bytes: int = _DEFAULT_CACHE_BYTES,
    ) -> None:
        chosen = default_victims(images) if victims is None else victims
        self.seed = seed
        self.images = images
        self.content: SiteContent = build_content(seed, images, chosen, image_size)
        directory = Path(cache_dir) if cache_dir is not None else None
        self.media = SiteMedia(self.content, MediaCache(cache_bytes, directory))

    def __repr__(self) -> str:
        return f"DemoSite(seed={self.seed}, images={self.images})"

    def victim_images(self) -> list[bytes]:
        """The victim's originals (JPEG bytes), as she would hash them on her own device."""
        return [self.media.original(picture) for picture in self.content.victims]

    def expected_sightings(self, urls: SiteUrls) -> list[Sighting]:
        """Every place on the forum and the mirror (served at `urls`) showing a copy of a
        victim image, in victim order. Thumbnails of these uploads are also derived from the
        victim's images but are not listed; removed uploads are never victims' copies."""
        found = self._forum_sightings(urls) + self._mirror_sightings(urls)
        return sorted(found, key=lambda s: (s.victim, s.where != "forum", s.page_url))

    def warm(self, workers: int | None = None) -> int:
        """Make every image the sites serve, in `workers` processes; returns files made."""
        return self.media.warm(workers)

    @contextmanager
    def serve(
        self,
        host: str = "127.0.0.1",
        *,
        ports: tuple[int, int, int] = (0, 0, 0),
        access_log: AccessLog | None = None,
    ) -> Iterator[ServedSite]:
        """Serve the forum, image host and mirror on `host`, on `ports` (0: any free port;
        each site its own port), until the block ends. Requests are handled concurrently, one
        thread per connection."""
        with serve_apps(self._apps, host=host, ports=ports, access_log=access_log) as urls:
            yield ServedSite(self, urls)

    def write_telegram_export(self, folder: str | Path, *, photos: int = 30) -> list[Sighting]:
        """Write a Telegram Desktop channel export (result.json, photos/, files/) into
        `folder`, with `photos` unrelated photos besides the victims' copies; returns where
        those copies are in it (see telegram_export.py)."""
        from rempart.demo_site.telegram_export import write_telegram_export

        return write_telegram_export(folder, self, photos=photos)

    def _apps(self, urls: SiteUrls) -> tuple[App, App, App]:
        return (
            ForumApp(self.content, self.media, urls),
            ImageHostApp(self.content, self.media, urls),
            MirrorApp(self.content, self.media, urls),
        )

    def _forum_sightings(self, urls: SiteUrls) -> list[Sighting]:
        found = []
        for thread in self.content.threads.values():
            for position, post in enumerate(thread.posts):
                for image in post.images:
                    upload = self.content.uploads[image.host_id]
                    victim = self.content.victim_of(upload.picture)
                    if victim is None or upload.removed:
                        continue
                    page = thread.page_path(thread.page_of(position))
                    found.append(
                        Sighting(
                            victim=victim,
                            where="forum",
                            page_url=urls.forum + page,
                            media_url=f"{urls.imagehost}/f/{image.host_id}.jpg",
                            alteration=upload.alteration,
                            embed=image.embed,
                            post_id=str(post.post_id),
                        )
                    )
        return found

    def _mirror_sightings(self, urls: SiteUrls) -> list[Sighting]:
        found = []
        for thread in self.content.mirror_threads:
            for position, entry in enumerate(thread.entries):
                page = thread.page_path(position // MIRROR_ENTRIES_PER_PAGE + 1)
                for media_id in entry.media:
                    medium = self.content.mirror_media[media_id]
                    victim = self.content.victim_of(medium.picture)
                    if victim is None:
                        continue
                    found.append(
                        Sighting(
                            victim=victim,
                            where="mirror",
                            page_url=urls.mirror + page,
                            media_url=f"{urls.mirror}/media/{media_id}.jpg",
                            alteration=medium.alteration,
                            embed="lazy",
                            post_id=f"e-{entry.post_id}",
                        )
                    )
        return found


@dataclass(frozen=True, slots=True)
class ServedSite:
    """A DemoSite being served: its three base URLs and its expected sightings."""

    site: DemoSite
    urls: SiteUrls

    @property
    def forum_url(self) -> str:
        return self.urls.forum

    @property
    def imagehost_url(self) -> str:
        return self.urls.imagehost

    @property
    def mirror_url(self) -> str:
        return self.urls.mirror

    def victim_images(self) -> list[bytes]:
        return self.site.victim_images()

    def expected_sightings(self) -> list[Sighting]:
        return self.site.expected_sightings(self.urls)

    def recipes(self) -> dict[str, dict[str, Any]]:
        """Crawler recipes for the forum and the mirror (rempart.sources.recipes format),
        written from the structure in docs/demo-site.md. The forum's start URLs are its
        boards; each site is named by its address and port (`127.0.0.1:8402`): the three
        share one address, and have no names."""
        forum = self.urls.forum.rstrip("/")
        forum_host, image_host, mirror_host = (
            urlsplit(u).netloc for u in (self.urls.forum, self.urls.imagehost, self.urls.mirror)
        )
        unbounded = {
            "max_pages": 1_000_000,
            "max_pages_per_host": 1_000_000,
            "max_pages_per_pattern": 1_000_000,
        }
        return {
            "forum": {
                "name": "shutter-lane",
                "start_urls": [f"{forum}/board/{b.slug}" for b in self.site.content.boards],
                "allowed_hosts": sorted({forum_host, image_host}),
                "ignore": "aside.sidebar",
                "board": {
                    "thread_links": "li.thread-row a.thread-link",
                    "next_page": "a.next[rel=next]",
                    "max_pages": 10_000,
                },
                "thread": {"title": "h1", "next_page": "a.next[rel=next]", "max_pages": 10_000},
                "post": {
                    "selector": "article.post",
                    "id_attr": "data-post-id",
                    "author": "a.post-author",
                    "time": "time.post-time",
                    "content": "div.post-body",
                },
                "image_hosts": [{"host": image_host, "image": "img#full"}],
                "limits": unbounded,
            },
            "mirror": {
                "name": "forumvault",
                "start_urls": [self.urls.mirror],
                "allowed_hosts": [mirror_host],
                "board": {
                    "thread_links": "div.item a.item-title",
                    "next_page": "a.older",
                    "max_pages": 10_000,
                },
                "thread": {"next_page": "a.pager-next", "max_pages": 10_000},
                "post": {
                    "selector": "div.entry",
                    "id_attr": "id",
                    "author": "span.nick",
                    "time": "span.stamp",
                    "time_attr": "data-ts",
                },
                "limits": unbounded,
            },
        }


def _serve_demo_authority(running: ExitStack, folder: Path, out: Callable[[str], None]) -> None:
    from rempart.demo_site.tsa import DemoTimestampAuthority
    from rempart.evidence.authorities import CONFIG_ENV, write_authorities

    tsa = running.enter_context(DemoTimestampAuthority.start())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo-tsa-root.pem").write_bytes(tsa.root_pem)
    config = folder / "authorities.toml"
    write_authorities(config, [("demo-tsa", tsa.url, ["demo-tsa-root.pem"])])
    out(_("time-stamping (DEMO, trusted by no court): {url}", url=tsa.url))
    out("  " + _("for rempart capture: export {setting}", setting=f"{CONFIG_ENV}={config}"))


def _print_recipes(written: list[Path], out: Callable[[str], None]) -> None:
    *recipes, sources = written
    out(_("crawler recipes: {files}", files=", ".join(str(p) for p in recipes)))
    out("  " + _("to watch the demo sites: rempart source load {file}", file=sources))
    out(
        "  "
        + _(
            "or one by one: rempart source add demo-forum web --recipe {file} "
            "--allow-network 127.0.0.1/32",
            file=recipes[0],
        )
    )


def serve_until_interrupted(
    seed: int = 1,
    images: int = 200,
    *,
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] = (0, 0, 0),
    telegram_export: str | Path | None = None,
    timestamp_authority: str | Path | None = None,
    recipes: str | Path | None = None,
    out: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> None:
    """Serve a demo site and print its URLs until Ctrl-C (or until `stop` is set), for a
    caseworker to look at in a browser. Writes a Telegram export too when asked, crawler
    recipes for the running sites (recipes.py), and runs a DEMO time-stamping authority (its
    authorities file in that folder) for `rempart capture`."""
    site = DemoSite(seed=seed, images=images)
    with ExitStack() as running:
        served = running.enter_context(site.serve(host, ports=ports))
        if timestamp_authority is not None:
            _serve_demo_authority(running, Path(timestamp_authority), out)
        labelled = [
            (_("forum"), served.forum_url),
            (_("image host"), served.imagehost_url),
            (_("mirror"), served.mirror_url),
        ]
        heads = [_("{label}:", label=label) for label, _url in labelled]
        width = max(len(head) for head in heads) + 1
        for head, (_label, url) in zip(heads, labelled, strict=True):
            out(f"{head.ljust(width)}{url}/")
        if telegram_export is not None:
            folder = Path(telegram_export)
            site.write_telegram_export(folder)
            out(_("telegram export: {path}", path=folder / "result.json"))
        if recipes is not None:
            from rempart.demo_site.recipes import write_recipes

            _print_recipes(write_recipes(served, recipes, telegram_export=telegram_export), out)
        sightings = served.expected_sightings()
        out(
            _(
                "{victims} victim images, {copies} copies on the sites",
                victims=len(site.content.victims),
                copies=len(sightings),
            )
        )
        out(_("Ctrl-C to stop."))
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            out(_("stopping"))
