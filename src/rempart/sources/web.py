"""The web source: crawls a forum or image host by its recipe (or generically, without one)
and yields each new image or video found, with the page, post and thread it was seen in.

Owns the crawl: the page frontier, URL normalisation, trap defences (URL shapes cut when their
pages stop giving anything new), probes of links that may lead to media (attachments behind
redirects), incremental re-scans (page validators, seen media keys) and the concurrent media
pipeline. Must not hash, match or store anything, reach the network except through a Fetcher,
or let a bad page end a scan.

A scan, in one thread: pages are fetched one at a time, conditionally, and read; media they
reference go to a small thread pool (the Fetcher keeps each host's limits) and come back as
Candidates as they complete. All SourceState calls happen in the scan's own thread.

Re-scans: a page answered 304 is not read again, and neither is what it leads to, so
validators are kept only for pages whose 304 can stand for everything below them (board
pages, a thread's last page, image host pages, generic pages at the depth limit that have no
next page), and only
once everything they led to was handed over: a scan that stops midway leaves its pages to be
fetched in full again, and nothing is lost.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Generator, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

from rempart.errors import InputError
from rempart.fetch import Fetcher, FetchError, FetchResult, site_key
from rempart.i18n import N_
from rempart.sources.base import Candidate, Problem, SourceState, Validators
from rempart.sources.html import MediaRef, Page, Post, looks_like_attachment, looks_like_media_url
from rempart.sources.recipes import Recipe

__all__ = ["ScanStats", "WebSource", "normalise_url"]

SESSION_PARAMS = frozenset(
    {
        "phpsessid",
        "jsessionid",
        "sessionid",
        "session_id",
        "sessid",
        "aspsessionid",
        "cfid",
        "cftoken",
        "zenid",
        "oscsid",
        "sid",
        "s",
    }
)
# Short names that are sessions only when they hold a hash (vBulletin's s=, phpBB's sid=):
# elsewhere `s` is often a search term or a size.
_HASH_ONLY = frozenset({"s", "sid"})
_HASH = re.compile(r"[0-9a-fA-F]{16,}")
_PATH_SESSION = re.compile(
    r";(?:jsessionid|phpsessid|sessionid|sid)=[^/;?]*", re.IGNORECASE
)  # /page;jsessionid=ABC
_PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_MEDIA_ACCEPT = "image/avif,image/webp,image/*,video/*;q=0.9,*/*;q=0.5"
_PROBE_ACCEPT = "image/avif,image/webp,image/*,video/*,text/html;q=0.8,*/*;q=0.5"
# Query parameters and path endings that number the pages of one listing.
_PAGE_PARAMS = frozenset({"page", "p", "pg", "pagenum", "paged", "start", "offset", "from"})
_PAGE_PATH = re.compile(r"/(?:page[/-]?|p)\d+/?$", re.IGNORECASE)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_MAX_PATH_SEGMENTS = 30
_MAX_SEGMENT_REPEATS = 3


def normalise_url(url: str, *, session_params: Iterable[str] = ()) -> str:
    """The URL as a stable key: lower-case scheme and host, no default port, no fragment,
    no session ids (known ones, `utm_*`, and `session_params`), query parameters sorted.
    Raises InputError for what is not an absolute http(s) URL without credentials."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InputError("not a usable URL: {error}", error=str(exc)) from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in {"http", "https"} or not host:
        raise InputError("not an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise InputError("credentials in URL")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = _clean_query(parts.query, frozenset(p.lower() for p in session_params))
    return urlunsplit((scheme, netloc, path, query, ""))


def _clean_query(query: str, extra: frozenset[str]) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        lowered = unquote_plus(name).lower()
        session = lowered in extra or lowered.startswith("utm_")
        if lowered in SESSION_PARAMS:
            session = lowered not in _HASH_ONLY or bool(_HASH.fullmatch(unquote_plus(value)))
        if not session:
            kept.append(pair)
    return "&".join(sorted(kept))


@dataclass
class ScanStats:
    """What one scan did, for logs and tests."""

    pages_fetched: int = 0
    pages_unchanged: int = 0  # answered 304
    pages_over_limit: int = 0  # left unvisited by max_pages / max_pages_per_host
    links_refused: int = 0  # off-site, too deep, trap-shaped or over a pattern's cap
    patterns_cut: int = 0  # URL shapes whose pages stopped giving anything new (generic)
    links_probed: int = 0  # links fetched to see whether they lead to media
    probes_over_limit: int = 0  # left unprobed by max_probes
    media_fetched: int = 0
    media_already_seen: int = 0
    problems: int = 0


# ------------------------------------------------------------------------------- scan records


@dataclass(frozen=True, slots=True)
class _PageJob:
    url: str  # normalised once queued
    kind: str  # "board", "thread" or "generic"
    depth: int = 0
    page_no: int = 1
    board: str | None = None
    referer: str | None = None


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a media reference was seen: what a caseworker needs to find it again."""

    page_url: str
    post_id: str | None = None
    posted_at: datetime | None = None
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _MediaJob:
    key: str  # normalised URL
    url: str
    owner: str  # the ledger entry told when this job is done
    where: _Where
    image_page: bool = False  # url is an image host's page: find its main image first
    validators: Validators | None = None  # of that image page, from an earlier scan
    probe: bool = False  # url may lead to media, or to a page with a main image, or nothing


@dataclass(frozen=True, slots=True)
class _Got:
    job: _MediaJob
    result: FetchResult


@dataclass(frozen=True, slots=True)
class _Failed:
    job: _MediaJob
    problem: Problem
    transient: bool


@dataclass(frozen=True, slots=True)
class _Resolved:
    job: _MediaJob
    media_url: str | None
    validators: Validators | None
    unchanged: bool = False


_Outcome = _Got | _Failed | _Resolved


# ---------------------------------------------------------------------------------- ledger


@dataclass
class _Entry:
    validators: Validators | None
    parent: str | None
    pending: int = 0
    sealed: bool = False
    failed: bool = False


class _Ledger:
    """Saves a page's validators once the page is read (sealed) and every page, image page
    and media it led to is done; a transient failure or a limit hit among them keeps them
    unsaved, so the next scan fetches the page in full and goes on from there."""

    def __init__(self, state: SourceState) -> None:
        self._state = state
        self._entries: dict[str, _Entry] = {}

    def open(self, key: str, validators: Validators | None, parent: str | None = None) -> None:
        self._entries[key] = _Entry(validators, parent)
        if parent is not None:
            self.add(parent)

    def add(self, key: str) -> None:
        self._entries[key].pending += 1

    def set_validators(self, key: str, validators: Validators | None) -> None:
        self._entries[key].validators = validators

    def done(self, key: str, failed: bool = False) -> None:
        entry = self._entries[key]
        entry.pending -= 1
        entry.failed |= failed
        self._settle(key, entry)

    def seal(self, key: str, failed: bool = False) -> None:
        entry = self._entries[key]
        entry.sealed = True
        entry.failed |= failed
        self._settle(key, entry)

    def _settle(self, key: str, entry: _Entry) -> None:
        if not entry.sealed or entry.pending:
            return
        del self._entries[key]
        validators = entry.validators
        if not entry.failed and validators and (validators.etag or validators.last_modified):
            self._state.save_validators(key, validators)
        if entry.parent is not None:
            self.done(entry.parent, entry.failed)


# ---------------------------------------------------------------------------------- shapes


def url_shapes(key: str) -> tuple[str, str]:
    """A normalised URL's shape and its coarser path shape: digits in the path count as one,
    query values are ignored (their names kept, sorted), and the path shape drops the query.
    `/calendar?month=2024-07` and `/calendar?month=2031-01` share a shape, as do `/threads/7`
    and `/threads/51`; a site's URL shapes are few, a trap's pages pile up in one."""
    parts = urlsplit(key)
    path = re.sub(r"\d+", "0", parts.path)
    names = sorted({pair.partition("=")[0] for pair in parts.query.split("&") if pair})
    base = f"{parts.netloc}{path}"
    return (f"{base}?{'&'.join(names)}" if names else base), base


@dataclass
class _Shape:
    """How the pages of one URL shape did: a shape is cut once its last pages gave nothing
    new for longer than `idle_limit` and than it ever gave something (its useful pages)."""

    useful: int = 0
    idle: int = 0  # pages in a row that gave nothing new

    def cut(self, idle_limit: int) -> bool:
        return self.idle >= max(idle_limit, self.useful)

    def record(self, useful: bool) -> None:
        self.useful += useful
        self.idle = 0 if useful else self.idle + 1


def _listing_base(key: str) -> str:
    """The URL without what numbers a listing's pages (`?page=3`, `/page/3`, `/page-3`)."""
    parts = urlsplit(key)
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and pair.partition("=")[0].lower() not in _PAGE_PARAMS
    )
    return urlunsplit((parts.scheme, parts.netloc, _PAGE_PATH.sub("", parts.path), query, ""))


# ------------------------------------------------------------------------------ the source


class WebSource:
    """A site to watch, crawled by its recipe with one Fetcher (which holds the network
    policy, cookies and proxy for this source)."""

    kind = "web"

    def __init__(self, recipe: Recipe, fetcher: Fetcher, *, workers: int = 8) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.recipe = recipe
        self._fetcher = fetcher
        self._workers = workers
        self.last_stats = ScanStats()

    @property
    def name(self) -> str:
        return self.recipe.name

    def scan(self, state: SourceState) -> Iterator[Candidate | Problem]:
        crawl = _Crawl(self.recipe, self._fetcher, state, self._workers)
        self.last_stats = crawl.stats
        try:
            yield from crawl.run()
        finally:
            crawl.close()


class _Crawl:
    """One scan of one recipe."""

    def __init__(self, recipe: Recipe, fetcher: Fetcher, state: SourceState, workers: int) -> None:
        self.recipe = recipe
        self.limits = recipe.limits
        self.stats = ScanStats()
        self._fetcher = fetcher
        self._state = state
        self._ledger = _Ledger(state)
        self._frontier: deque[_PageJob] = deque()
        self._queued_pages: set[str] = set()
        self._queued_media: set[str] = set()
        self._taken_files: set[str] = set()  # keys and final addresses of the media yielded
        self._pages_per_host: Counter[str] = Counter()
        self._pages_per_pattern: Counter[str] = Counter()
        self._shapes: dict[str, _Shape] = {}
        self._offered = 0  # new media references taken so far (for the shapes' usefulness)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"rempart-web-{recipe.name}")
        self._in_flight: dict[Future[_Outcome], _MediaJob] = {}
        self._max_in_flight = workers * 4

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run(self) -> Iterator[Candidate | Problem]:
        first = "generic" if self.recipe.generic else "board" if self.recipe.board else "thread"
        for url in self.recipe.start_urls:
            self._enqueue(_PageJob(url, first), start=True)
        while self._frontier:
            yield from self._visit(self._frontier.popleft())
            yield from self._harvest(block=False)
        while self._in_flight:
            yield from self._harvest(block=True)
        if self.stats.pages_over_limit:
            yield self._problem(
                self.recipe.start_urls[0],
                N_("page limit reached: {n} pages not visited"),
                n=self.stats.pages_over_limit,
            )
        if self.stats.probes_over_limit:
            yield self._problem(
                self.recipe.start_urls[0],
                N_("probe limit reached: {n} links not followed to see if they lead to media"),
                n=self.stats.probes_over_limit,
            )

    # ---- pages

    def _enqueue(self, job: _PageJob, *, start: bool = False) -> None:
        """Queue a page (its URL as found) unless it was queued already or is off-site, too
        deep or trap-like. The page it was found on (its referer) waits for it in the ledger."""
        try:
            key = normalise_url(job.url, session_params=self.recipe.session_params)
        except InputError:
            self.stats.links_refused += 1
            return
        if key in self._queued_pages:
            return
        refusal = None if start else self._link_refusal(key, job)
        if refusal:
            self.stats.links_refused += 1
            return
        self._queued_pages.add(key)
        self._ledger.open(key, None, parent=job.referer)
        self._frontier.append(replace(job, url=key))

    def _link_refusal(self, key: str, job: _PageJob) -> str | None:
        parts = urlsplit(key)
        if not self.recipe.allows_page(parts.hostname or "", parts.port):
            return "off-site"
        if len(key) > self.limits.max_url_length:
            return "URL too long"
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) > _MAX_PATH_SEGMENTS or (
            segments and max(Counter(segments).values()) > _MAX_SEGMENT_REPEATS
        ):
            return "repeated path segments"
        if job.kind == "generic":
            if job.depth > self.limits.max_depth:
                return "too deep"
            if self._shape_cut(key):
                return "a shape whose pages give nothing new"
            pattern = url_shapes(key)[0]
            if self._pages_per_pattern[pattern] >= self.limits.max_pages_per_pattern:
                return "too many pages of one shape"
            self._pages_per_pattern[pattern] += 1
        return None

    def _shape_cut(self, key: str) -> bool:
        limit = self.limits.max_idle_pages_per_pattern
        return any(
            shape in self._shapes and self._shapes[shape].cut(limit) for shape in url_shapes(key)
        )

    def _record_shape(self, key: str, useful: bool) -> None:
        limit = self.limits.max_idle_pages_per_pattern
        for shape in dict.fromkeys(url_shapes(key)):
            record = self._shapes.setdefault(shape, _Shape())
            was_cut = record.cut(limit)
            record.record(useful)
            self.stats.patterns_cut += record.cut(limit) and not was_cut

    def _visit(self, job: _PageJob) -> Iterator[Candidate | Problem]:
        if job.kind == "generic" and job.referer is not None and self._shape_cut(job.url):
            # queued before its shape was cut (a page listing a hundred sort orders)
            self.stats.links_refused += 1
            self._ledger.seal(job.url)
            return
        failed = yield from self._fetch_and_read(job)
        self._ledger.seal(job.url, failed)

    def _fetch_and_read(self, job: _PageJob) -> Generator[Candidate | Problem, None, bool]:
        """Fetch and read one page; returns (as a generator does) whether it failed in a way
        that a later scan may not (transient errors, limits), so its parents keep no 304."""
        parts = urlsplit(job.url)
        host = site_key(parts.hostname or "", parts.port)  # two ports, two sites
        if (
            self.stats.pages_fetched >= self.limits.max_pages
            or self._pages_per_host[host] >= self.limits.max_pages_per_host
        ):
            self.stats.pages_over_limit += 1
            return True
        self.stats.pages_fetched += 1
        self._pages_per_host[host] += 1
        try:
            result = self._fetcher.fetch(
                job.url,
                validators=self._state.validators(job.url),
                max_bytes=self.limits.max_page_bytes,
                accept=_PAGE_ACCEPT,
                referer=job.referer,
            )
        except FetchError as exc:
            yield self._problem_of(job.url, exc)
            return exc.transient
        if result.not_modified:
            self.stats.pages_unchanged += 1
        else:
            yield from self._read(job, result)
        return False

    def _read(self, job: _PageJob, result: FetchResult) -> Iterator[Candidate | Problem]:
        if _is_media(result):  # a link without an extension that led to an image
            media = _MediaJob(job.url, job.url, job.url, _Where(job.referer or job.url))
            if job.url not in self._queued_media and not self._state.seen(job.url):
                final = self._new_file(job.url, result)
                if final is not None:
                    self._queued_media.add(job.url)
                    yield self._candidate(media, result, final)
            return
        if not _is_html(result):
            template, kind = _not_html(result)
            yield self._problem(job.url, template, kind=kind)
            return
        page = Page(
            result.body, result.final_url, charset=_charset(result), ignore=self.recipe.ignore
        )
        if self._at_edge(job, page):
            self._ledger.set_validators(job.url, result.validators)
        if job.kind == "board":
            self._read_board(job, page)
        elif job.kind == "thread":
            yield from self._read_thread(job, page)
        else:
            yield from self._read_generic(job, page)

    def _at_edge(self, job: _PageJob, page: Page) -> bool:
        """Whether a 304 for this page next time can stand for everything it leads to, so its
        validators are worth keeping. True for a board page (a thread with new posts changes
        it), a thread's last page and a generic page at the depth limit without further
        pages; false for a page with a next page, which may change while this one does not."""
        if job.kind == "board":
            return True
        if job.kind == "thread":
            rules = self.recipe.thread
            return not (rules and rules.next_page and page.first_link(rules.next_page))
        return job.depth >= self.limits.max_depth and not self._paginated(job, page)

    def _paginated(self, job: _PageJob, page: Page) -> bool:
        pagers, base = page.pagination_links(), _listing_base(job.url)
        return bool(pagers) or any(self._same_listing(url, base) for url in page.links())

    def _read_board(self, job: _PageJob, page: Page) -> None:
        rules = self.recipe.board
        assert rules is not None  # a board job exists only when the recipe has a board
        board = job.board or page.title(rules.title)
        for url in page.links(rules.thread_links):
            self._enqueue(_PageJob(url, "thread", job.depth + 1, 1, board, job.url))
        following = page.first_link(rules.next_page) if rules.next_page else None
        if following and job.page_no < rules.max_pages:
            self._enqueue(
                _PageJob(following, "board", job.depth + 1, job.page_no + 1, board, job.url)
            )

    def _read_thread(self, job: _PageJob, page: Page) -> Iterator[Candidate | Problem]:
        rules = self.recipe.thread
        assert rules is not None  # thread jobs exist only when the recipe has thread rules
        context = _context(thread=page.title(rules.title), board=job.board)
        posts = (
            page.posts(self.recipe.post, self._is_image_page)
            if self.recipe.post
            else [Post(None, None, None, tuple(page.media(self._is_image_page)))]
        )
        for post in posts:
            where = _Where(
                page.url,
                post.post_id or None,
                post.posted_at,
                MappingProxyType({**context, **_context(author=post.author)}),
            )
            for ref in post.media:
                yield from self._offer(ref, where, job.url)
        og_image = page.og_image()
        if og_image:
            yield from self._offer(
                MediaRef(og_image, "og:image"), _Where(page.url, None, None, context), job.url
            )
        following = page.first_link(rules.next_page) if rules.next_page else None
        if following and job.page_no < rules.max_pages:
            self._enqueue(
                _PageJob(following, "thread", job.depth + 1, job.page_no + 1, job.board, job.url),
            )

    def _read_generic(self, job: _PageJob, page: Page) -> Iterator[Candidate | Problem]:
        """Every media of the page, then its links: a link to another page of the same
        listing (pagination) keeps the page's depth, any other costs one hop. The page was
        useful to its URL shape when it gave a new media or a new link of another shape."""
        offered = self._offered
        where = _Where(page.url, None, None, _context(page=page.title()))
        refs = page.media(self._is_image_page)
        for ref in refs:
            yield from self._offer(ref, where, job.url)
        og_image = page.og_image()
        if og_image:
            yield from self._offer(MediaRef(og_image, "og:image"), where, job.url)
        probed = {ref.url for ref in refs if ref.is_probe or ref.is_image_page}
        pagers = page.pagination_links()
        own_shape, base = url_shapes(job.url)[0], _listing_base(job.url)
        new_elsewhere = 0
        for url in page.links():
            if url in probed or looks_like_media_url(url) or looks_like_attachment(url):
                continue
            paging = url in pagers or self._same_listing(url, base)
            before = len(self._queued_pages)
            depth = job.depth if paging else job.depth + 1
            self._enqueue(_PageJob(url, "generic", depth, referer=job.url))
            if len(self._queued_pages) > before:
                new_elsewhere += url_shapes(self._frontier[-1].url)[0] != own_shape
        self._record_shape(job.url, self._offered > offered or new_elsewhere > 0)

    def _same_listing(self, url: str, base: str) -> bool:
        try:
            key = normalise_url(url, session_params=self.recipe.session_params)
        except InputError:
            return False
        return _listing_base(key) == base

    def _is_image_page(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname
        return host is not None and self.recipe.image_host(host, _port(parts)) is not None

    # ---- media

    def _offer(self, ref: MediaRef, where: _Where, owner: str) -> Iterator[Candidate | Problem]:
        """Send a media reference (or an image page) to the pool unless already handled."""
        try:
            key = normalise_url(ref.url, session_params=self.recipe.session_params)
        except InputError:
            return
        if ref.is_image_page or ref.is_probe:
            if key in self._queued_pages or key in self._queued_media:
                return
            self._queued_pages.add(key)
            self._offered += 1
            parts = urlsplit(key)
            host, port = parts.hostname or "", parts.port
            if ref.is_probe and (
                self._state.seen(key)
                or not (self.recipe.allows_media(host, port) or self.recipe.allows_page(host, port))
            ):
                return
            if ref.is_probe and self.stats.links_probed >= self.limits.max_probes:
                self.stats.probes_over_limit += 1
                return
            self.stats.links_probed += ref.is_probe
            self._ledger.open(key, None, parent=owner)
            job = _MediaJob(
                key, key, key, where, True, self._state.validators(key), probe=ref.is_probe
            )
        else:
            parts = urlsplit(key)
            if key in self._queued_media or not self.recipe.allows_media(
                parts.hostname or "", parts.port
            ):
                return
            self._queued_media.add(key)
            self._offered += 1
            if self._state.seen(key):
                self.stats.media_already_seen += 1
                return
            self._ledger.add(owner)
            job = _MediaJob(key, key, owner, where)
        while len(self._in_flight) >= self._max_in_flight:
            yield from self._harvest(block=True)
        self._in_flight[self._pool.submit(self._work, job)] = job

    def _work(self, job: _MediaJob) -> _Outcome:
        """In a pool thread: one fetch, and for an image page the reading of its main image.
        Never raises: whatever goes wrong becomes a Problem in the scan's thread."""
        try:
            return self._resolve(job) if job.image_page else _Got(job, self._fetch_media(job))
        except FetchError as exc:
            return _Failed(job, Problem.from_error(self.recipe.name, job.url, exc), exc.transient)
        except Exception as exc:  # a page that trips a parser bug must not end the scan
            problem = Problem.of(
                self.recipe.name, job.url, N_("unreadable: {error}"), error=type(exc).__name__
            )
            return _Failed(job, problem, False)

    def _fetch_media(self, job: _MediaJob) -> FetchResult:
        return self._fetcher.fetch(
            job.url,
            max_bytes=self.limits.max_media_bytes,
            accept=_MEDIA_ACCEPT,
            referer=job.where.page_url,
        )

    def _resolve(self, job: _MediaJob) -> _Outcome:
        """An image page's (or a probed link's) media: the answer itself when it is one
        (an attachment redirected to its file), else the main image of the page it is."""
        result = self._fetcher.fetch(
            job.url,
            validators=job.validators,
            max_bytes=self.limits.max_media_bytes if job.probe else self.limits.max_page_bytes,
            accept=_PROBE_ACCEPT if job.probe else _PAGE_ACCEPT,
            referer=job.where.page_url,
        )
        if result.not_modified:
            return _Resolved(job, None, None, unchanged=True)
        if _is_media(result):
            return _Got(job, result)
        if not _is_html(result):
            if job.probe:  # a link to a document or an archive: nothing to take, no fault
                return _Resolved(job, None, result.validators)
            template, kind = _not_html(result)
            problem = Problem.of(self.recipe.name, job.url, template, kind=kind)
            return _Failed(job, problem, False)
        final = urlsplit(result.final_url)
        rule = self.recipe.image_host(final.hostname or "", _port(final))
        page = Page(result.body, result.final_url, charset=_charset(result))
        return _Resolved(job, page.main_image(rule.image if rule else None), result.validators)

    def _harvest(self, *, block: bool) -> Iterator[Candidate | Problem]:
        if not self._in_flight:
            return
        done, _ = wait(self._in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in done:
            self._in_flight.pop(future)
            yield from self._settle(future.result())

    def _settle(self, outcome: _Outcome) -> Iterator[Candidate | Problem]:
        job = outcome.job
        if isinstance(outcome, _Resolved):
            yield from self._settle_image_page(outcome)
            return
        if isinstance(outcome, _Failed):
            self.stats.problems += 1
            yield outcome.problem
            self._finish(job, failed=outcome.transient)
            return
        if not _is_media(outcome.result):
            kind = outcome.result.content_type or "unknown"
            yield self._problem(job.url, N_("not an image or video ({kind})"), kind=kind)
        elif not (job.image_page and self._state.seen(job.key)):
            final = self._new_file(job.key, outcome.result)
            if final is not None:
                yield self._candidate(job, outcome.result, final)
        self._finish(job)

    def _new_file(self, key: str, result: FetchResult) -> str | None:
        """The normalised address the job's file ended at, when that file was not taken
        already under another address (an attachment link and the og:image both leading to
        one file make one candidate, in this scan and, through the candidate's aliases, in
        the next); None when it was."""
        try:
            final = normalise_url(result.final_url, session_params=self.recipe.session_params)
        except InputError:
            final = key
        if final in self._taken_files or (final != key and self._state.seen(final)):
            self.stats.media_already_seen += 1
            return None
        self._taken_files.update((key, final))
        self._queued_media.add(final)
        return final

    def _settle_image_page(self, outcome: _Resolved) -> Iterator[Candidate | Problem]:
        job = outcome.job
        if not outcome.unchanged:
            self._ledger.set_validators(job.key, outcome.validators)
            if outcome.media_url is None:
                if not job.probe:
                    yield self._problem(job.url, N_("no main image on the image page"))
            else:
                where = _Where(
                    job.where.page_url,
                    job.where.post_id,
                    job.where.posted_at,
                    MappingProxyType({**job.where.context, "image_page": job.url}),
                )
                yield from self._offer(MediaRef(outcome.media_url, "img"), where, job.key)
        self._ledger.seal(job.key)

    def _finish(self, job: _MediaJob, failed: bool = False) -> None:
        if job.image_page:
            self._ledger.seal(job.key, failed)
        else:
            self._ledger.done(job.owner, failed)

    # ---- records

    def _candidate(self, job: _MediaJob, result: FetchResult, final: str) -> Candidate:
        self.stats.media_fetched += 1
        return Candidate(
            source=self.recipe.name,
            key=job.key,
            data=result.body,
            media_url=result.final_url,
            page_url=job.where.page_url,
            post_id=job.where.post_id,
            posted_at=job.where.posted_at,
            content_type=result.content_type,
            context=MappingProxyType(dict(job.where.context)),
            aliases=(final,) if final != job.key else (),
        )

    def _problem(self, where: str, template: str, /, **values: object) -> Problem:
        """A problem with a catalog message as reason."""
        self.stats.problems += 1
        return Problem.of(self.recipe.name, where, template, **values)

    def _problem_of(self, where: str, error: FetchError) -> Problem:
        self.stats.problems += 1
        return Problem.from_error(self.recipe.name, where, error)


def _context(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value}


def _port(parts: SplitResult) -> int | None:
    """The port a URL names, None for its scheme's default or for a malformed one."""
    try:
        port = parts.port
    except ValueError:
        return None
    return None if port == (443 if parts.scheme.lower() == "https" else 80) else port


def _is_media(result: FetchResult) -> bool:
    kind = result.sniffed_type or result.declared_type or ""
    if result.sniffed_type is None and kind == "image/svg+xml":
        return False
    return kind.startswith(("image/", "video/"))


def _is_html(result: FetchResult) -> bool:
    if result.sniffed_type == "text/html":
        return True
    return (
        result.sniffed_type is None
        and result.declared_type in _HTML_TYPES
        and b"\x00" not in result.body[:4096]
    )


def _not_html(result: FetchResult) -> tuple[str, str]:
    """The problem's template and the type it names."""
    if result.sniffed_type is None and result.declared_type in _HTML_TYPES:
        return N_("not an HTML page (binary data served as {kind})"), result.declared_type or ""
    return N_("not an HTML page ({kind})"), result.content_type or N_("unknown type")


def _charset(result: FetchResult) -> str | None:
    content_type = result.headers.get("content-type", "")
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None
