"""The demo site's image bytes: originals, the re-uploaders' alterations, thumbnails, banners,
made on first request and kept in a bounded in-memory cache (optionally also on disk).

Owns turning content.Picture and an alteration name into JPEG bytes, and caching them. Must
not decide what is posted where (content.py) nor speak HTTP (servers.py).
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFont, ImageOps

from rempart.demo_site.content import ALTERATIONS, EXACT, Picture, SiteContent
from rempart.demo_site.wording import caption
from rempart.samples import neutral_image

__all__ = [
    "BANNER_SIZE",
    "JPEG_QUALITY",
    "THUMBNAIL_SIDE",
    "MediaCache",
    "SiteMedia",
    "altered_size",
    "render_altered",
    "render_original",
    "render_thumbnail",
]

JPEG_QUALITY = 88
THUMBNAIL_SIDE = 150
BANNER_SIZE = (300, 100)
FORMAT_VERSION = 1  # bump when any rendering below changes, so disk caches start afresh
_RESIZE_SHARE = 0.6
_CROP_SHARE = 0.06
_LETTERBOX_SHARE = 0.2  # each bar, as a share of the picture's height
_RECOMPRESS_QUALITY = 30


# ------------------------------------------------------------------------------ rendering


def render_original(picture: Picture) -> bytes:
    """The picture as its owner has it: a baseline JPEG at quality 88."""
    return _jpeg(neutral_image(picture.seed, picture.width, picture.height))


def altered_size(width: int, height: int, alteration: str) -> tuple[int, int]:
    """The pixel size of a copy altered by `alteration`, without making it."""
    if alteration == "resized":
        return round(width * _RESIZE_SHARE), round(height * _RESIZE_SHARE)
    if alteration == "cropped":
        dx, dy = round(width * _CROP_SHARE), round(height * _CROP_SHARE)
        return width - 2 * dx, height - 2 * dy
    if alteration == "letterboxed":
        return width, height + 2 * round(height * _LETTERBOX_SHARE)
    if alteration == "captioned":
        return width, height + _caption_band(height)
    if alteration in (EXACT, "recompressed", "mirrored"):
        return width, height
    raise ValueError(f"unknown alteration {alteration!r}")


def render_altered(original: bytes, alteration: str, picture_index: int = 0) -> bytes:
    """A re-upload of `original`: decoded, altered with Pillow, encoded again. `EXACT` gives
    the original bytes back; the caption text depends on `picture_index`."""
    if alteration == EXACT:
        return original
    image = _decode(original)
    width, height = image.size
    if alteration == "recompressed":
        return _jpeg(image, _RECOMPRESS_QUALITY)
    if alteration == "mirrored":
        return _jpeg(ImageOps.mirror(image))
    if alteration == "resized":
        size = altered_size(width, height, alteration)
        return _jpeg(image.resize(size, Image.Resampling.LANCZOS), 85)
    if alteration == "cropped":
        dx, dy = round(width * _CROP_SHARE), round(height * _CROP_SHARE)
        return _jpeg(image.crop((dx, dy, width - dx, height - dy)))
    if alteration == "letterboxed":
        canvas = Image.new("RGB", altered_size(width, height, alteration), (0, 0, 0))
        canvas.paste(image, (0, round(height * _LETTERBOX_SHARE)))
        return _jpeg(canvas)
    if alteration == "captioned":
        return _jpeg(_captioned(image, caption(picture_index)))
    raise ValueError(f"unknown alteration {alteration!r}; choose from {', '.join(ALTERATIONS)}")


def render_thumbnail(full: bytes) -> bytes:
    """A forum-sized preview: at most 150 px on the longer side, JPEG quality 80."""
    with Image.open(io.BytesIO(full)) as opened:
        opened.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        image = opened.convert("RGB")
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BICUBIC)
    return _jpeg(image, 80)


def render_banner(seed: int, number: int) -> bytes:
    """A flat-colour advertising banner (a neutral 'graphic' picture)."""
    return _jpeg(neutral_image(seed * 101 + number, *BANNER_SIZE, style="graphic"), 80)


def _caption_band(height: int) -> int:
    return max(16, height // 6)


def _captioned(image: Image.Image, text: str) -> Image.Image:
    band = _caption_band(image.height)
    canvas = Image.new("RGB", (image.width, image.height + band), (255, 255, 255))
    canvas.paste(image, (0, 0))
    font = ImageFont.load_default(max(8, int(band * 0.6)))
    draw = ImageDraw.Draw(canvas)
    draw.text((band // 3, image.height + band // 6), text, fill=(20, 20, 20), font=font)
    return canvas


def _decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# -------------------------------------------------------------------------------- caching


class MediaCache:
    """Bytes by key, least recently used dropped past `max_bytes`; thread-safe. A key being
    made by one thread is waited for by the others, not made twice. With `directory`,
    everything made is also written there and read back on a later miss (or a later run)."""

    def __init__(self, max_bytes: int, directory: Path | None = None) -> None:
        self._max_bytes = max_bytes
        self._directory = directory
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._making: dict[str, threading.Lock] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def get(self, key: str, make: Callable[[], bytes]) -> bytes:
        found = self._lookup(key)
        if found is not None:
            return found
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:
            found = self._lookup(key)
            if found is None:
                found = self._read(key)
                if found is None:
                    found = make()
                    self._write(key, found)
                self.put(key, found)
        with self._lock:
            self._making.pop(key, None)
        return found

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._entries[key] = data
            self._size += len(data)
            while self._size > self._max_bytes and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def store(self, key: str, data: bytes) -> None:
        """Keep bytes made elsewhere (by a worker process), on disk too when there is one."""
        self._write(key, data)
        self.put(key, data)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            if key in self._entries:
                return True
        return self._directory is not None and (self._directory / key).is_file()

    def _lookup(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def _read(self, key: str) -> bytes | None:
        if self._directory is None:
            return None
        try:
            return (self._directory / key).read_bytes()
        except FileNotFoundError:
            return None

    def _write(self, key: str, data: bytes) -> None:
        if self._directory is None:
            return
        # Written aside then renamed, so a reader never sees half a file.
        part = self._directory / f"{key}.{threading.get_ident()}.part"
        part.write_bytes(data)
        part.replace(self._directory / key)


@dataclass(frozen=True, slots=True)
class _Job:
    """One picture's files, made together in a worker process by SiteMedia.warm."""

    picture: Picture
    alterations: tuple[str, ...]
    thumbnails: tuple[str, ...]


class SiteMedia:
    """Every image of one demo site, by picture and alteration, made on first use."""

    def __init__(self, content: SiteContent, cache: MediaCache) -> None:
        self._content = content
        self._cache = cache
        self._namespace = f"v{FORMAT_VERSION}-pil{PIL.__version__}-s{content.seed}"

    def original(self, picture: int) -> bytes:
        return self.full(picture, EXACT)

    def full(self, picture: int, alteration: str) -> bytes:
        spec = self._content.pictures[picture]
        if alteration == EXACT:
            return self._cache.get(self._key("full", spec, EXACT), lambda: render_original(spec))
        return self._cache.get(
            self._key("full", spec, alteration),
            lambda: render_altered(self.original(picture), alteration, picture),
        )

    def thumbnail(self, picture: int, alteration: str) -> bytes:
        spec = self._content.pictures[picture]
        return self._cache.get(
            self._key("thumb", spec, alteration),
            lambda: render_thumbnail(self.full(picture, alteration)),
        )

    def banner(self, number: int) -> bytes:
        key = f"{self._namespace}-banner-{number}.jpg"
        return self._cache.get(key, lambda: render_banner(self._content.seed, number))

    def warm(self, workers: int | None = None) -> int:
        """Make every image the sites serve now, in `workers` processes (default: one per
        CPU), so that later requests are answered from the cache. Returns how many files were
        made. Call it before serving: it keeps the CPUs busy while it runs."""
        jobs = [job for job in self._jobs() if not self._complete(job)]
        workers = workers or os.cpu_count() or 1
        if workers == 1 or len(jobs) < 8:
            return self._keep(_run_job(job, self._namespace) for job in jobs)
        # Fork is quick and works from any __main__; with other threads running (a server),
        # a forked child could inherit a lock held by one of them, so spawn instead.
        context = get_context("fork" if threading.active_count() == 1 else "spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            namespaces = [self._namespace] * len(jobs)
            return self._keep(pool.map(_run_job, jobs, namespaces, chunksize=32))

    def _keep(self, results: Iterable[dict[str, bytes]]) -> int:
        made = 0
        for files in results:
            for key, data in files.items():
                self._cache.store(key, data)
                made += 1
        return made

    def _jobs(self) -> Iterator[_Job]:
        wanted: dict[int, tuple[set[str], set[str]]] = {}
        for upload in self._content.uploads.values():
            if not upload.removed:
                fulls, thumbs = wanted.setdefault(upload.picture, ({EXACT}, set()))
                fulls.add(upload.alteration)
                thumbs.add(upload.alteration)
        for medium in self._content.mirror_media.values():
            wanted.setdefault(medium.picture, ({EXACT}, set()))[0].add(medium.alteration)
        for picture, (fulls, thumbs) in sorted(wanted.items()):
            spec = self._content.pictures[picture]
            yield _Job(spec, tuple(sorted(fulls)), tuple(sorted(thumbs)))

    def _complete(self, job: _Job) -> bool:
        keys = [self._key("full", job.picture, a) for a in job.alterations]
        keys += [self._key("thumb", job.picture, a) for a in job.thumbnails]
        return all(key in self._cache for key in keys)

    def _key(self, kind: str, picture: Picture, alteration: str) -> str:
        return _key(self._namespace, kind, picture, alteration)


def _key(namespace: str, kind: str, picture: Picture, alteration: str) -> str:
    size = f"{picture.width}x{picture.height}"
    return f"{namespace}-{kind}-{picture.index}-{picture.seed:x}-{size}-{alteration}.jpg"


def _run_job(job: _Job, namespace: str) -> dict[str, bytes]:
    """Worker side of SiteMedia.warm: one picture's full images and thumbnails."""
    original = render_original(job.picture)
    files: dict[str, bytes] = {}
    fulls = {a: render_altered(original, a, job.picture.index) for a in job.alterations}
    for alteration, data in fulls.items():
        files[_key(namespace, "full", job.picture, alteration)] = data
    for alteration in job.thumbnails:
        thumb = render_thumbnail(fulls[alteration])
        files[_key(namespace, "thumb", job.picture, alteration)] = thumb
    return files
