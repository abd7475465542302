"""What the demo site holds: boards, threads, posts, image-host uploads and the mirror's
copies, laid out deterministically from a seed and a number of pictures.

Owns the structure only (ids, authors, times, which picture goes where, which copy is
altered how). Must not make image bytes, HTML or network calls: media.py and the page
modules do that from this structure.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from rempart.demo_site import wording
from rempart.i18n import N_

__all__ = [
    "ALTERATIONS",
    "EMBEDS",
    "EXACT",
    "FIRST_ATTACHMENT",
    "MIRROR_ENTRIES_PER_PAGE",
    "MIRROR_THREADS_PER_PAGE",
    "POSTS_PER_PAGE",
    "REUPLOAD_EMBEDS",
    "THREADS_PER_PAGE",
    "Board",
    "MirrorEntry",
    "MirrorMedia",
    "MirrorThread",
    "Picture",
    "Post",
    "PostImage",
    "SiteContent",
    "Thread",
    "Upload",
    "build_content",
    "default_victims",
    "page_count",
    "picture_seed",
    "victim_pictures",
]

EXACT = N_("exact")
# What re-uploaders did to a victim's picture; media.py implements each with Pillow.
ALTERATIONS = (
    N_("resized"),
    N_("recompressed"),
    N_("mirrored"),
    N_("cropped"),
    N_("letterboxed"),
    N_("captioned"),
)
# How a post shows an upload (see docs/demo-site.md for the HTML of each).
EMBEDS = (
    "thumbnail",
    "srcset",
    "background",
    "direct",
    "og-image",
    "attachment",  # a link named like a file, to /attachments/N, which redirects to the file
    "attachment-thumb",  # a thumbnail wrapped in such a link
    "full-link",  # a thumbnail wrapped in a link to the full image
    "lazy",  # <img data-lazy-src> with a placeholder src
    "picture",  # <picture><source srcset> around a thumbnail <img>
    "style",  # a <style> block gives an element its background
)
# How victim j's altered re-upload is shown: REUPLOAD_EMBEDS[j mod 10] (no og-image, which a
# thread has only once).
REUPLOAD_EMBEDS = (
    "attachment",
    "thumbnail",
    "attachment-thumb",
    "lazy",
    "full-link",
    "picture",
    "style",
    "srcset",
    "background",
    "direct",
)

THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 5
FIRST_ATTACHMENT = 4001  # /attachments/N numbers uploads shown through attachment links
MIRROR_THREADS_PER_PAGE = 15
MIRROR_ENTRIES_PER_PAGE = 12

SITE_START = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
_SPAN_MINUTES = 520 * 24 * 60
_THREAD_LENGTHS = (2, 3, 3, 4, 5, 6, 7, 8, 9, 12, 14, 18, 24, 31)
_GROUP_SIZES = (1, 1, 1, 1, 2, 2, 3, 4)
_PHOTO_BOARDS = ("landscapes", "macro-textures", "critique", "gear-talk")
_PHOTO_BOARD_WEIGHTS = (40, 30, 20, 10)
_DISTRACTOR_EMBED_WEIGHTS = (50, 10, 6, 9, 3, 5, 5, 4, 4, 2, 2)
_MIRRORED_SHARE = 0.15
_MORE_PHOTOS = 0.2  # chance that a later post in a photo thread shows photos too
_LOUNGE_THREADS = 45  # enough for three board pages whatever the size
_FIRST_POST_ID = 10001
_FIRST_THREAD_ID = 101
_PORTRAIT_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class Picture:
    """One generated neutral picture: `rempart.samples.neutral_image(seed, width, height)`."""

    index: int
    seed: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Upload:
    """One file on the image host: a picture, as generated (`EXACT`) or altered."""

    host_id: str
    picture: int
    alteration: str
    uploaded_at: datetime
    removed: bool = False  # the host answers 410 Gone for it


@dataclass(frozen=True, slots=True)
class PostImage:
    host_id: str
    embed: str  # one of EMBEDS


@dataclass(frozen=True, slots=True)
class Post:
    post_id: int
    author: str
    posted_at: datetime
    text: str
    images: tuple[PostImage, ...]


@dataclass(frozen=True, slots=True)
class Thread:
    thread_id: int
    board: str
    title: str
    slug: str
    posts: tuple[Post, ...]
    cover: str | None  # the upload shown only through the page's og:image, if any

    @property
    def path(self) -> str:
        return f"/thread/{self.thread_id}-{self.slug}"

    @property
    def pages(self) -> int:
        return page_count(len(self.posts), POSTS_PER_PAGE)

    def page_path(self, page: int) -> str:
        return self.path if page == 1 else f"{self.path}?page={page}"

    def page_of(self, position: int) -> int:
        """The page (from 1) showing the post at `position` (from 0)."""
        return position // POSTS_PER_PAGE + 1


@dataclass(frozen=True, slots=True)
class Board:
    slug: str
    name: str
    description: str
    threads: tuple[int, ...]  # thread ids, most recently active first

    @property
    def pages(self) -> int:
        return page_count(len(self.threads), THREADS_PER_PAGE)


@dataclass(frozen=True, slots=True)
class MirrorMedia:
    """One file on the mirror: a picture re-uploaded as is (`EXACT`) or altered."""

    media_id: str
    picture: int
    alteration: str


@dataclass(frozen=True, slots=True)
class MirrorEntry:
    post_id: int  # the forum post it copies
    author: str
    posted_at: datetime
    text: str
    media: tuple[str, ...]  # media ids


@dataclass(frozen=True, slots=True)
class MirrorThread:
    mirror_id: int
    source_thread: int
    title: str
    slug: str
    entries: tuple[MirrorEntry, ...]

    @property
    def path(self) -> str:
        return f"/t/{self.mirror_id}/{self.slug}"

    @property
    def pages(self) -> int:
        return page_count(len(self.entries), MIRROR_ENTRIES_PER_PAGE)

    def page_path(self, page: int) -> str:
        return self.path if page == 1 else f"{self.path}/page/{page}"


@dataclass(frozen=True)
class SiteContent:
    """Everything on the three sites, as ids and text. Immutable once built."""

    seed: int
    pictures: tuple[Picture, ...]
    victims: tuple[int, ...]  # picture index of victim image j, for j = 0, 1, ...
    uploads: Mapping[str, Upload]
    boards: tuple[Board, ...]
    threads: Mapping[int, Thread]
    mirror_threads: tuple[MirrorThread, ...]  # newest first, as the mirror lists them
    mirror_media: Mapping[str, MirrorMedia]
    attachments: Mapping[int, str]  # /attachments/N -> the upload (host id) it redirects to
    _victim_of: Mapping[int, int] = field(repr=False)
    _attachment_numbers: Mapping[str, int] = field(repr=False)

    def victim_of(self, picture: int) -> int | None:
        """j when the picture is victim image j, else None."""
        return self._victim_of.get(picture)

    def attachment_of(self, host_id: str) -> int:
        """N of the /attachments/N link that shows upload `host_id`."""
        return self._attachment_numbers[host_id]

    def board(self, slug: str) -> Board | None:
        return next((b for b in self.boards if b.slug == slug), None)

    def mirror_thread(self, mirror_id: int) -> MirrorThread | None:
        index = len(self.mirror_threads) - mirror_id
        if 0 <= index < len(self.mirror_threads):
            return self.mirror_threads[index]
        return None


def page_count(items: int, per_page: int) -> int:
    return max(1, math.ceil(items / per_page))


def default_victims(images: int) -> int:
    """How many pictures are the victim's when not asked: a tenth, between 3 and 20."""
    return min(20, max(3, images // 10))


def victim_pictures(images: int, victims: int) -> tuple[int, ...]:
    """Victim image j is picture (2j + 1)·N / 2V: spread evenly over the N pictures."""
    return tuple((2 * j + 1) * images // (2 * victims) for j in range(victims))


def picture_seed(seed: int, index: int) -> int:
    digest = hashlib.sha256(f"rempart-demo-site:{seed}:picture:{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def build_content(
    seed: int, images: int, victims: int, image_size: tuple[int, int] = (320, 240)
) -> SiteContent:
    """Lay the sites out. Same arguments, same structure, on every machine."""
    if images < 10:
        raise ValueError(f"a demo site needs at least 10 images, got {images}")
    if not 1 <= victims <= images // 2:
        raise ValueError(f"victims must be between 1 and {images // 2}, got {victims}")
    layout = _Layout(seed, images, victims, image_size)
    return layout.build()


# ------------------------------------------------------------------------------ the layout
#
# Drafts are mutable while the forum is laid out; build() freezes them. Ids and times are
# given last, so that inserting a post never renumbers anything by accident.


@dataclass
class _ImageDraft:
    host_id: str
    embed: str = "thumbnail"


@dataclass
class _PostDraft:
    author: str
    text: str
    images: list[_ImageDraft] = field(default_factory=list)
    posted_at: datetime = SITE_START
    post_id: int = 0


@dataclass
class _ThreadDraft:
    board: str
    title: str
    posts: list[_PostDraft]
    cover: str | None = None
    thread_id: int = 0


class _Ids:
    """Short base-62 ids like image hosts use, unique within one site."""

    _ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._used: set[str] = set()
        self._count = 0

    def new(self, kind: str, length: int) -> str:
        while True:
            self._count += 1
            key = f"{self._seed}:{kind}:{self._count}".encode()
            number = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
            chars = []
            for _ in range(length):
                number, digit = divmod(number, 62)
                chars.append(self._ALPHABET[digit])
            candidate = "".join(chars)
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate


class _Layout:
    def __init__(self, seed: int, images: int, victims: int, size: tuple[int, int]) -> None:
        self.seed = seed
        self.rng = random.Random(f"rempart-demo-site:{seed}:{images}:{victims}")
        self.ids = _Ids(seed)
        self.pictures = self._pictures(images, size)
        self.victims = victim_pictures(images, victims)
        self.uploads: dict[str, tuple[int, str, bool]] = {}  # host id -> picture, alteration
        self.threads: list[_ThreadDraft] = []

    def build(self) -> SiteContent:
        exact = {self._upload(p.index, EXACT): p.index for p in self.pictures}
        self._photo_threads(list(exact))
        self._victim_reuploads()
        self._dead_links()
        self._text_threads()
        self._embeds(exact)
        self._times_and_ids()
        threads = {t.thread_id: _freeze_thread(t) for t in self.threads}
        mirror = _MirrorLayout(self, threads).build()
        victim_of = {picture: j for j, picture in enumerate(self.victims)}
        attachments = _attachments(threads)
        return SiteContent(
            seed=self.seed,
            pictures=tuple(self.pictures),
            victims=self.victims,
            uploads=MappingProxyType(self._frozen_uploads(threads)),
            boards=self._boards(threads),
            threads=MappingProxyType(threads),
            mirror_threads=mirror[0],
            mirror_media=MappingProxyType(mirror[1]),
            attachments=MappingProxyType(attachments),
            _victim_of=MappingProxyType(victim_of),
            _attachment_numbers=MappingProxyType({h: n for n, h in attachments.items()}),
        )

    # -- pictures and uploads

    def _pictures(self, images: int, size: tuple[int, int]) -> list[Picture]:
        width, height = size
        pictures = []
        for index in range(images):
            portrait = self.rng.random() < _PORTRAIT_SHARE
            w, h = (height, width) if portrait else (width, height)
            pictures.append(Picture(index, picture_seed(self.seed, index), w, h))
        return pictures

    def _upload(self, picture: int, alteration: str, removed: bool = False) -> str:
        host_id = self.ids.new("upload", 7)
        self.uploads[host_id] = (picture, alteration, removed)
        return host_id

    def _frozen_uploads(self, threads: Mapping[int, Thread]) -> dict[str, Upload]:
        first_seen: dict[str, datetime] = {}
        for thread in threads.values():
            for post in thread.posts:
                for image in post.images:
                    first_seen.setdefault(image.host_id, post.posted_at)
        return {
            host_id: Upload(host_id, picture, alteration, first_seen[host_id], removed)
            for host_id, (picture, alteration, removed) in self.uploads.items()
        }

    # -- threads

    def _photo_threads(self, host_ids: list[str]) -> None:
        """Every picture is posted once: in groups of 1-4 per post, in threads of 2-31 posts
        where the first post always shows photos and later ones are replies or more photos."""
        self.rng.shuffle(host_ids)
        groups, start = [], 0
        while start < len(host_ids):
            size = self.rng.choice(_GROUP_SIZES)
            groups.append(host_ids[start : start + size])
            start += size
        while groups:
            board = self.rng.choices(_PHOTO_BOARDS, _PHOTO_BOARD_WEIGHTS)[0]
            posts = [self._photo_post(groups.pop())]
            for _ in range(self.rng.choice(_THREAD_LENGTHS) - 1):
                if groups and self.rng.random() < _MORE_PHOTOS:
                    posts.append(self._photo_post(groups.pop()))
                else:
                    posts.append(_PostDraft(self._handle(), wording.reply_text(self.rng)))
            self.threads.append(_ThreadDraft(board, wording.thread_title(self.rng), posts))

    def _photo_post(self, host_ids: list[str]) -> _PostDraft:
        post = _PostDraft(self._handle(), wording.image_post_text(self.rng))
        post.images = [_ImageDraft(h) for h in host_ids]
        return post

    def _handle(self) -> str:
        return self.rng.choice(wording.HANDLES)

    def _victim_reuploads(self) -> None:
        """Victim image j is re-uploaded once more, altered by ALTERATIONS[j mod 6], in a new
        post on page 2 or later of a long thread (a crawler must follow thread pages); for
        odd j, page 3 or later. It is shown as REUPLOAD_EMBEDS[j mod 10]."""
        long_threads = [t for t in self.threads if len(t.posts) > POSTS_PER_PAGE]
        if not long_threads:
            long_threads = [self._challenge_thread()]
        longer = [t for t in long_threads if len(t.posts) > 2 * POSTS_PER_PAGE] or long_threads
        for j, picture in enumerate(self.victims):
            host_id = self._upload(picture, ALTERATIONS[j % len(ALTERATIONS)])
            deep = j % 2 == 1 and longer is not long_threads
            thread = self.rng.choice(longer if deep else long_threads)
            start = 2 * POSTS_PER_PAGE if deep else POSTS_PER_PAGE
            position = self.rng.randint(start, len(thread.posts))
            post = self._photo_post([host_id])
            post.images[0].embed = REUPLOAD_EMBEDS[j % len(REUPLOAD_EMBEDS)]
            thread.posts.insert(position, post)

    def _challenge_thread(self) -> _ThreadDraft:
        replies = [
            _PostDraft(self._handle(), wording.reply_text(self.rng))
            for _ in range(2 * POSTS_PER_PAGE + 2)
        ]
        thread = _ThreadDraft("critique", "Monthly challenge: reflections", replies)
        self.threads.append(thread)
        return thread

    def _dead_links(self) -> None:
        """A few posts link uploads the host has since removed (410 Gone)."""
        photo_posts = [p for t in self.threads for p in t.posts if p.images]
        for _ in range(2 + len(self.pictures) // 500):
            picture = self.rng.randrange(len(self.pictures))
            post = self.rng.choice(photo_posts)
            post.images.append(_ImageDraft(self._upload(picture, EXACT, removed=True)))

    def _text_threads(self) -> None:
        rules = ("Forum rules: please read", "How to post photos", "Planned maintenance")
        for title in rules:
            text = "Please keep it friendly and credit your own work."
            self.threads.append(_ThreadDraft("announcements", title, [_PostDraft("admin", text)]))
        for _ in range(_LOUNGE_THREADS + len(self.pictures) // 100):
            posts = [
                _PostDraft(self._handle(), wording.reply_text(self.rng))
                for _ in range(self.rng.randint(1, 14))
            ]
            title = wording.text_thread_title(self.rng)
            self.threads.append(_ThreadDraft("lounge", title, posts))

    def _embeds(self, exact: Mapping[str, int]) -> None:
        """Victim image j's exact copy uses EMBEDS[j mod 11]; other images are drawn at random,
        thumbnails most often. A thread shows at most one image through og:image only, from a
        post on its first page (every page carries the thread's og:image, so a crawler meets
        it there first), and victims choose first; an og-image drawn elsewhere is a thumbnail."""
        victim_embed = {picture: EMBEDS[j % len(EMBEDS)] for j, picture in enumerate(self.victims)}
        placed = [
            (thread, image, exact[image.host_id], position < POSTS_PER_PAGE)
            for thread in self.threads
            for position, post in enumerate(thread.posts)
            for image in post.images
            if image.host_id in exact
        ]
        placed.sort(key=lambda item: item[2] not in victim_embed)  # stable: victims first
        for thread, image, picture, first_page in placed:
            wanted = (
                victim_embed.get(picture) or self.rng.choices(EMBEDS, _DISTRACTOR_EMBED_WEIGHTS)[0]
            )
            image.embed = self._settle_embed(thread, image.host_id, wanted, first_page)

    @staticmethod
    def _settle_embed(thread: _ThreadDraft, host_id: str, wanted: str, first_page: bool) -> str:
        if wanted != "og-image":
            return wanted
        if thread.cover is not None or not first_page:
            return "thumbnail"
        thread.cover = host_id
        return wanted

    def _times_and_ids(self) -> None:
        """Threads start over 520 days; replies follow minutes to hours apart. Post and thread
        ids grow with time, as on a real forum."""
        for thread in self.threads:
            at = SITE_START + timedelta(minutes=self.rng.randrange(_SPAN_MINUTES))
            for post in thread.posts:
                post.posted_at = at
                at += timedelta(minutes=self.rng.randint(7, 900))
        ordered = sorted(self.threads, key=lambda t: t.posts[0].posted_at)
        for number, thread in enumerate(ordered):
            thread.thread_id = _FIRST_THREAD_ID + number
        posts = sorted(
            ((p.posted_at, t.thread_id, i, p) for t in self.threads for i, p in enumerate(t.posts)),
            key=lambda item: item[:3],
        )
        for number, (*_, post) in enumerate(posts):
            post.post_id = _FIRST_POST_ID + number

    def _boards(self, threads: Mapping[int, Thread]) -> tuple[Board, ...]:
        boards = []
        for board in wording.BOARDS:
            mine = [t for t in threads.values() if t.board == board.slug]
            mine.sort(key=lambda t: (t.posts[-1].posted_at, t.thread_id), reverse=True)
            ids = tuple(t.thread_id for t in mine)
            boards.append(Board(board.slug, board.name, board.description, ids))
        return tuple(boards)


def _attachments(threads: Mapping[int, Thread]) -> dict[int, str]:
    """Numbers for the uploads shown through /attachments/N links, in thread and post order."""
    shown = [
        image.host_id
        for thread in sorted(threads.values(), key=lambda t: t.thread_id)
        for post in thread.posts
        for image in post.images
        if image.embed in {"attachment", "attachment-thumb"}
    ]
    return {FIRST_ATTACHMENT + n: host_id for n, host_id in enumerate(dict.fromkeys(shown))}


def _freeze_thread(draft: _ThreadDraft) -> Thread:
    posts = tuple(
        Post(
            p.post_id,
            p.author,
            p.posted_at,
            p.text,
            tuple(PostImage(i.host_id, i.embed) for i in p.images),
        )
        for p in draft.posts
    )
    slug = wording.slugify(draft.title)
    return Thread(draft.thread_id, draft.board, draft.title, slug, posts, draft.cover)


class _MirrorLayout:
    """The mirror re-posts every thread holding a victim's copy and about 15% of the other
    photo threads. Victim image j is re-uploaded there altered by ALTERATIONS[(j+3) mod 6]
    (applied to the original); other pictures are re-uploaded as they are."""

    def __init__(self, layout: _Layout, threads: Mapping[int, Thread]) -> None:
        self.layout = layout
        self.threads = threads
        self.rng = random.Random(f"rempart-demo-site-mirror:{layout.seed}")
        self.media: dict[str, MirrorMedia] = {}

    def build(self) -> tuple[tuple[MirrorThread, ...], dict[str, MirrorMedia]]:
        chosen = [t for t in sorted(self.threads.values(), key=_started) if self._mirrors(t)]
        mirrored = [self._thread(number + 1, t) for number, t in enumerate(chosen)]
        return tuple(reversed(mirrored)), self.media

    def _mirrors(self, thread: Thread) -> bool:
        pictures = [self.layout.uploads[i.host_id][0] for i in _images(thread)]
        if not pictures:
            return False
        drawn = self.rng.random() < _MIRRORED_SHARE
        return drawn or any(p in self.layout.victims for p in pictures)

    def _thread(self, mirror_id: int, thread: Thread) -> MirrorThread:
        entries = tuple(
            MirrorEntry(
                post.post_id,
                post.author,
                post.posted_at,
                post.text,
                tuple(self._medium(i.host_id) for i in post.images if self._live(i.host_id)),
            )
            for post in thread.posts
        )
        return MirrorThread(mirror_id, thread.thread_id, thread.title, thread.slug, entries)

    def _live(self, host_id: str) -> bool:
        return not self.layout.uploads[host_id][2]

    def _medium(self, host_id: str) -> str:
        picture = self.layout.uploads[host_id][0]
        victims = self.layout.victims
        alteration = (
            ALTERATIONS[(victims.index(picture) + 3) % len(ALTERATIONS)]
            if picture in victims
            else EXACT
        )
        media_id = self.layout.ids.new("mirror", 10)
        self.media[media_id] = MirrorMedia(media_id, picture, alteration)
        return media_id


def _started(thread: Thread) -> datetime:
    return thread.posts[0].posted_at


def _images(thread: Thread) -> Iterator[PostImage]:
    for post in thread.posts:
        yield from post.images
