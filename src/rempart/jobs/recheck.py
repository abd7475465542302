"""Re-check confirmed copies: fetch each address again through the guarded fetcher, hash what
is served in memory, decide (rempart.takedown.recheck), record the check and the schedule,
and seal a capture of the removed state the first time a copy is found removed.

Bytes never outlive their hashing: a check keeps the served digest and the PDQ distance to
the copy's item. Fetching runs on a few threads; deciding and recording run here. Must not
print (results come back as values).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.clock import Clock, aware, utc_now
from rempart.errors import ImageDecodeError, InputError, RempartError
from rempart.fetch import (
    Fetcher,
    FetchError,
    FetchFailure,
    FetchPolicy,
    Resolver,
    system_resolver,
)
from rempart.hashing import ImageHashes, Windows, hash_image_bytes
from rempart.hashing.sniff import SNIFF_BYTES, is_video
from rempart.hashing.video import VideoHashes, hash_video_bytes
from rempart.i18n import gettext
from rempart.matching.service import Matcher, Query
from rempart.store.database import Database
from rempart.store.models import (
    Bank,
    CaptureRow,
    Case,
    Finding,
    FindingStatus,
    Item,
    RecheckSchedule,
    Sighting,
    SourceRow,
    UrlCheck,
)
from rempart.takedown.recheck import (
    DEFAULT_INTERVALS,
    CheckStatus,
    Intervals,
    Observation,
    Target,
    Verdict,
    classify,
    finding_status,
    mentions_removal,
    page_refers_to,
)

if TYPE_CHECKING:
    from rempart.evidence.browser import Browser
    from rempart.evidence.vault import Vault
    from rempart.jobs.evidence import Sealer

__all__ = [
    "CheckOutcome",
    "RemovalSealer",
    "Selection",
    "Tracked",
    "failed_capture",
    "history",
    "last_statuses",
    "policy_for",
    "recheck",
    "removal_sealer",
    "tracked_findings",
]

_THREADS = 8
_PAGE_BYTES = 2 * 1024 * 1024
# A re-check asks once and bounded: a busy server is "unreachable, try again later" on the
# schedule (an hour by default), not a wait here.
_TOTAL_TIMEOUT_S = 20.0


class Selection(StrEnum):
    ALL = "all"  # every confirmed copy not yet removed
    DUE = "due"  # those whose next check is due (never checked: due now)
    FINDINGS = "findings"  # the findings named


@dataclass(frozen=True, slots=True)
class Tracked:
    """A confirmed copy to re-check: its addresses, its item, and what its source allows."""

    finding: int
    item: int
    sha256: str  # the file confirmed
    media_url: str | None
    page_url: str | None
    case: str | None
    allow_networks: tuple[str, ...] = ()
    any_port: bool = False
    last_status: str | None = None

    def urls(self) -> list[tuple[Target, str]]:
        found = []
        if _web(self.media_url):
            assert self.media_url is not None
            found.append((Target.MEDIA, self.media_url))
        if _web(self.page_url) and self.page_url != self.media_url:
            assert self.page_url is not None
            found.append((Target.PAGE, self.page_url))
        return found


def _web(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One address checked: what it means, why, and for a removal its sealed capture."""

    check: int
    finding: int
    target: Target
    url: str
    status: CheckStatus
    checked_at: datetime
    reason: str
    values: dict[str, str]
    finding_status: CheckStatus
    http_status: int | None = None
    final_url: str | None = None
    served_sha256: str | None = None
    distance: int | None = None
    placeholder: bool = False
    newly_removed: bool = False
    capture: int | None = None
    capture_status: str | None = None
    capture_error: str | None = None

    def detail(self, lang: str | None = None) -> str:
        """Why, in `lang`; a fetch failure's reason (a catalog message id) translated too."""
        values = {
            key: gettext(value, lang=lang) if key == "reason" else value
            for key, value in self.values.items()
        }
        return gettext(self.reason, lang=lang, **values)

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "status": self.status.value,
            "checked_at": aware(self.checked_at).isoformat(),
            "check": self.check,
            "finding": self.finding,
            "target": self.target.value,
            "finding_status": self.finding_status.value,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "detail": self.detail("en"),
            "served_sha256": self.served_sha256,
            "distance": self.distance,
            "placeholder": self.placeholder,
            "newly_removed": self.newly_removed,
            "capture": self.capture,
            "capture_status": self.capture_status,
            "capture_error": self.capture_error,
        }


RemovalSealer = Callable[[Tracked, str], int]
"""Seals a capture of `url` showing a copy's removal; returns the capture's id (a failed
capture too: its row keeps the reason)."""


# ---------------------------------------------------------------------------- selection


def tracked_findings(
    db: Database,
    selection: Selection,
    *,
    ids: Sequence[int] = (),
    now: datetime | None = None,
) -> list[Tracked]:
    """The confirmed copies to re-check (of items not withdrawn), in finding order. `ALL`:
    every one not yet removed; `DUE`: those never checked or whose next check is due;
    `FINDINGS`: `ids` (an unknown or unconfirmed one is an error)."""
    query = (
        select(
            Finding.id,
            Finding.item_id,
            Sighting.sha256,
            Sighting.media_url,
            Sighting.page_url,
            Case.name,
            SourceRow.settings,
            RecheckSchedule.status,
        )
        .join(Sighting, Sighting.id == Finding.sighting_id)
        .join(SourceRow, SourceRow.id == Sighting.source_id)
        .join(Item, Item.id == Finding.item_id)
        .join(Bank, Bank.id == Item.bank_id)
        .outerjoin(Case, Case.id == Bank.case_id)
        .outerjoin(RecheckSchedule, RecheckSchedule.finding_id == Finding.id)
        # a withdrawn item is no longer the victim's to protect: its copies are not followed
        .where(Finding.status == FindingStatus.CONFIRMED, Item.withdrawn_at.is_(None))
        .order_by(Finding.id)
    )
    if selection is Selection.ALL:
        query = query.where(
            or_(RecheckSchedule.status.is_(None), RecheckSchedule.status != CheckStatus.REMOVED)
        )
    elif selection is Selection.DUE:
        due = now or utc_now()
        query = query.where(
            or_(RecheckSchedule.finding_id.is_(None), RecheckSchedule.next_check_at <= due)
        )
    else:
        query = query.where(Finding.id.in_(list(ids)))
    with db.session() as session:
        rows = session.execute(query).all()
    tracked = [_tracked(*row) for row in rows]
    if selection is Selection.FINDINGS:
        missing = sorted(set(ids) - {t.finding for t in tracked})
        if missing:
            raise InputError(
                "finding {id} is not a confirmed copy (see `rempart findings --status confirmed`)",
                id=missing[0],
            )
    return [t for t in tracked if t.urls()]


def _tracked(
    finding: int,
    item: int,
    sha256: str,
    media_url: str | None,
    page_url: str | None,
    case: str | None,
    settings: str | None,
    last: str | None,
) -> Tracked:
    try:
        values = json.loads(settings or "{}")
    except ValueError:
        values = {}
    values = values if isinstance(values, dict) else {}
    networks = values.get("allow_networks") or ()
    return Tracked(
        finding=finding,
        item=item,
        sha256=sha256,
        media_url=media_url,
        page_url=page_url,
        case=case,
        allow_networks=tuple(str(n) for n in networks) if isinstance(networks, list) else (),
        any_port=bool(values.get("any_port", False)),
        last_status=last,
    )


def last_statuses(db: Database, finding_ids: Iterable[int]) -> dict[int, tuple[str, datetime]]:
    """Each finding's last re-check status and when, for those checked at least once."""
    wanted = list(finding_ids)
    found: dict[int, tuple[str, datetime]] = {}
    with db.session() as session:
        for start in range(0, len(wanted), 10_000):
            chunk = wanted[start : start + 10_000]
            rows = session.execute(
                select(
                    RecheckSchedule.finding_id,
                    RecheckSchedule.status,
                    RecheckSchedule.last_checked_at,
                ).where(RecheckSchedule.finding_id.in_(chunk))
            ).all()
            found.update({f: (s, aware(at)) for f, s, at in rows})
    return found


# ---------------------------------------------------------------------------- fetching


class _NameWatch:
    """The resolver the fetchers use, noting the host names that do not exist (NXDOMAIN):
    a copy whose host name is gone is removed, while a resolver that fails is unreachable."""

    def __init__(self, inner: Resolver) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.missing: set[str] = set()

    def __call__(self, host: str, port: int) -> Sequence[str]:
        try:
            return self._inner(host, port)
        except socket.gaierror as exc:
            if exc.errno == socket.EAI_NONAME:
                with self._lock:
                    self.missing.add(host.lower())
            raise


@dataclass(frozen=True, slots=True)
class _Seen:
    """One fetch, bytes dropped: the observation (without its match and sharing yet) and
    the served media's hashes, to be matched in one batch."""

    tracked: Tracked
    observation: Observation
    sha256: str | None = None
    hashes: ImageHashes | VideoHashes | None = None


class _Fetchers:
    """One guarded fetcher per network policy (a source may allow its private network)."""

    def __init__(self, base: FetchPolicy, names: _NameWatch, extra: tuple[str, ...]) -> None:
        self._base = replace(base, max_retries=0)
        self._names = names
        self._extra = extra
        self._lock = threading.Lock()
        self._open: dict[tuple[tuple[str, ...], bool], Fetcher] = {}

    def for_(self, tracked: Tracked) -> Fetcher:
        policy = policy_for(self._base, tracked, self._extra)
        key = (tuple(policy.allow_networks), policy.any_port)
        with self._lock:
            if key not in self._open:
                self._open[key] = Fetcher(policy, resolver=self._names)
            return self._open[key]

    def close(self) -> None:
        for fetcher in self._open.values():
            fetcher.close()


def policy_for(base: FetchPolicy, tracked: Tracked, extra: Sequence[str] = ()) -> FetchPolicy:
    """The fetch policy for one copy: `base`, plus the networks its source may reach (its
    `--allow-network`) and those given for this re-check."""
    networks = (*base.allow_networks, *tracked.allow_networks, *extra)
    any_port = base.any_port or tracked.any_port or bool(extra)
    return replace(base, allow_networks=tuple(dict.fromkeys(networks)), any_port=any_port)


def _observe(
    fetchers: _Fetchers, names: _NameWatch, tracked: Tracked, target: Target, url: str, w: Windows
) -> _Seen:
    fetcher = fetchers.for_(tracked)
    media = target is Target.MEDIA
    try:
        result = fetcher.fetch(
            url,
            max_bytes=None if media else _PAGE_BYTES,
            accept="image/*,video/*,*/*;q=0.8" if media else "text/html,*/*;q=0.8",
        )
    except FetchError as exc:
        host = (_host(exc.url) or _host(url) or "").lower()
        return _Seen(
            tracked,
            Observation(
                url,
                target,
                http_status=exc.status,
                failure=exc.reason.value,
                nxdomain=exc.reason is FetchFailure.DNS and host in names.missing,
            ),
        )
    body = result.body
    kind = _kind(result.content_type)
    seen = Observation(
        url, target, http_status=result.status, final_url=result.final_url, kind=kind
    )
    if kind == "html":
        text = body[:_PAGE_BYTES].decode("utf-8", "replace")
        refers = page_refers_to(text, tracked.media_url) if tracked.media_url else True
        return _Seen(tracked, replace(seen, refers=refers, removal_words=mentions_removal(text)))
    if kind not in {"image", "video"}:
        return _Seen(tracked, seen)
    try:
        hashes: ImageHashes | VideoHashes
        if is_video(body[:SNIFF_BYTES]):
            hashes = hash_video_bytes(body)
        else:
            hashes = hash_image_bytes(body, dihedral=True, windows=w)
    except ImageDecodeError:
        return _Seen(tracked, replace(seen, unreadable=True), hashlib.sha256(body).hexdigest())
    finally:
        del body  # hashed or not, the bytes go now
    if isinstance(hashes, ImageHashes):
        seen = replace(seen, quality=hashes.pdq.quality, width=hashes.width, height=hashes.height)
    return _Seen(tracked, seen, hashes.digest.sha256, hashes)


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _kind(content_type: str | None) -> str:
    if not content_type:
        return "other"
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    if content_type in {"text/html", "application/xhtml+xml"}:
        return "html"
    return "other"


# ---------------------------------------------------------------------------- deciding


def _query(hashes: ImageHashes | VideoHashes) -> Query:
    if isinstance(hashes, VideoHashes):
        return Query.from_video(hashes)
    return Query.from_image(hashes)


def _matched(matcher: Matcher, seen: list[_Seen]) -> list[_Seen]:
    """Match every hashed media against the banks, in one batch: does it still match its
    copy's item (by the matcher's rules: thresholds, quality gate, variants, windows)?"""
    hashed = [(i, s, s.hashes) for i, s in enumerate(seen) if s.hashes is not None]
    results = matcher.match([_query(h) for _, _, h in hashed]) if hashed else []
    done = list(seen)
    for (i, s, _h), result in zip(hashed, results, strict=True):
        hits = [m for m in result.matches if m.item == s.tracked.item]
        same = s.sha256 == s.tracked.sha256
        distance = min((m.distance for m in hits), default=None)
        observation = replace(
            s.observation,
            matched=bool(hits) or same,
            same_bytes=same,
            distance=0 if same else distance,
        )
        done[i] = replace(s, observation=observation, hashes=None)
    return done


def _shared(session: Session, seen: list[_Seen]) -> list[_Seen]:
    """How many other addresses served the same bytes, in this run and in earlier checks,
    for what did not match (a copy served at several addresses is no placeholder)."""
    candidates = [s for s in seen if s.sha256 and not s.observation.matched]
    by_digest: dict[str, set[str]] = defaultdict(set)
    for s in candidates:
        assert s.sha256 is not None
        by_digest[s.sha256].add(s.observation.url)
    digests = list(by_digest)
    for start in range(0, len(digests), 1_000):
        chunk = digests[start : start + 1_000]
        rows = session.execute(
            select(UrlCheck.served_sha256, UrlCheck.url)
            .where(UrlCheck.served_sha256.in_(chunk))
            .distinct()
        ).all()
        for digest, url in rows:
            if digest is not None:
                by_digest[digest].add(url)

    def counted(s: _Seen) -> _Seen:
        if s.sha256 is None or s.observation.matched:
            return s
        others = len(by_digest[s.sha256] - {s.observation.url})
        return replace(s, observation=replace(s.observation, shared_with=others))

    return [counted(s) for s in seen]


# ---------------------------------------------------------------------------- the use case


def recheck(
    db: Database,
    matcher: Matcher,
    tracked: Sequence[Tracked],
    *,
    policy: FetchPolicy | None = None,
    allow_networks: Sequence[str] = (),
    intervals: Intervals = DEFAULT_INTERVALS,
    seal: RemovalSealer | None = None,
    resolver: Resolver = system_resolver,
    clock: Clock = utc_now,
    progress: Callable[[CheckOutcome], None] | None = None,
    chunk: int = 256,
) -> list[CheckOutcome]:
    """Check each copy's addresses once, record every check and each copy's next check, and
    seal a capture of the removed state for each copy found removed for the first time.

    `policy` is the fetch policy (the open web's by default, bounded for re-checks); each
    copy's source adds the networks it was allowed to reach, and `allow_networks` adds more
    (for the browser too). Copies are handled `chunk` at a time: memory stays flat however
    many are tracked."""
    base = policy or FetchPolicy(total_timeout_s=_TOTAL_TIMEOUT_S)
    names = _NameWatch(resolver)
    fetchers = _Fetchers(base, names, tuple(allow_networks))
    windows = matcher.query_windows()
    outcomes: list[CheckOutcome] = []
    try:
        with ThreadPoolExecutor(_THREADS, thread_name_prefix="recheck") as pool:
            for start in range(0, len(tracked), chunk):
                part = tracked[start : start + chunk]
                jobs = [(t, target, url) for t in part for target, url in t.urls()]
                seen = list(
                    pool.map(lambda j: _observe(fetchers, names, j[0], j[1], j[2], windows), jobs)
                )
                matched = _matched(matcher, seen)
                try:
                    done = _record(db, matched, intervals, clock)
                except IntegrityError:
                    # another re-check scheduled one of these copies first: record against
                    # the schedule it wrote
                    done = _record(db, matched, intervals, clock)
                if seal is not None:
                    done = _seal_removals(db, done, part, seal)
                for outcome in done:
                    if progress is not None:
                        progress(outcome)
                outcomes.extend(done)
    finally:
        fetchers.close()
    return outcomes


def _record(
    db: Database, seen: list[_Seen], intervals: Intervals, clock: Clock
) -> list[CheckOutcome]:
    now = clock()
    outcomes: list[CheckOutcome] = []
    with db.session() as session:
        seen = _shared(session, seen)
        verdicts = [(s, classify(s.observation)) for s in seen]
        by_finding: dict[int, list[tuple[_Seen, Verdict]]] = defaultdict(list)
        for s, verdict in verdicts:
            by_finding[s.tracked.finding].append((s, verdict))
        schedules = {
            row.finding_id: row
            for row in session.scalars(
                select(RecheckSchedule).where(RecheckSchedule.finding_id.in_(list(by_finding)))
            )
        }
        for finding, checks in by_finding.items():
            statuses = {s.observation.target: v.status for s, v in checks}
            overall = finding_status(statuses.get(Target.MEDIA), statuses.get(Target.PAGE))
            schedule = schedules.get(finding)
            newly = overall is CheckStatus.REMOVED and (
                schedule is None or schedule.status != CheckStatus.REMOVED
            )
            _reschedule(session, finding, schedule, overall, now, intervals)
            for s, verdict in checks:
                outcomes.append(_stored(session, s, verdict, overall, newly, now))
    return outcomes


def _reschedule(
    session: Session,
    finding: int,
    schedule: RecheckSchedule | None,
    status: CheckStatus,
    now: datetime,
    intervals: Intervals,
) -> None:
    every = intervals.after(status)
    if schedule is None:
        schedule = RecheckSchedule(finding_id=finding)
        session.add(schedule)
    was = schedule.status
    schedule.status = status.value
    schedule.last_checked_at = now
    schedule.next_check_at = now + every
    schedule.interval_s = int(every.total_seconds())
    if status is CheckStatus.ONLINE:
        schedule.last_online_at = now
        schedule.removed_at = None  # back online: a later removal is measured afresh
    elif status is CheckStatus.REMOVED and was != CheckStatus.REMOVED:
        schedule.removed_at = now


def _stored(
    session: Session,
    s: _Seen,
    verdict: Verdict,
    overall: CheckStatus,
    newly: bool,
    now: datetime,
) -> CheckOutcome:
    o = s.observation
    served = s.sha256 if o.kind in {"image", "video"} else None
    row = UrlCheck(
        finding_id=s.tracked.finding,
        target=o.target.value,
        url=o.url,
        final_url=o.final_url,
        checked_at=now,
        status=verdict.status.value,
        http_status=o.http_status,
        detail=verdict.reason,
        detail_values=json.dumps(dict(verdict.values), sort_keys=True),
        served_sha256=served,
        distance=o.distance,
        placeholder=verdict.placeholder,
    )
    session.add(row)
    session.flush()
    return CheckOutcome(
        check=row.id,
        finding=s.tracked.finding,
        target=o.target,
        url=o.url,
        status=verdict.status,
        checked_at=now,
        reason=verdict.reason,
        values=dict(verdict.values),
        finding_status=overall,
        http_status=o.http_status,
        final_url=o.final_url,
        served_sha256=served,
        distance=o.distance,
        placeholder=verdict.placeholder,
        newly_removed=newly,
    )


def _seal_removals(
    db: Database, done: list[CheckOutcome], part: Sequence[Tracked], seal: RemovalSealer
) -> list[CheckOutcome]:
    """For each copy removed for the first time: seal a capture of its removed state (its
    media address, which decided, else its page) and link it to that check."""
    by_id = {t.finding: t for t in part}
    result = list(done)
    check_ids = {(o.finding, o.target): o.check for o in done}
    for finding in dict.fromkeys(o.finding for o in done if o.newly_removed):
        tracked = by_id[finding]
        target = Target.MEDIA if (finding, Target.MEDIA) in check_ids else Target.PAGE
        url = next(o.url for o in done if o.finding == finding and o.target is target)
        capture_id = seal(tracked, url)
        with db.session() as session:
            check = session.get(UrlCheck, check_ids[(finding, target)])
            assert check is not None
            check.capture_id = capture_id
            capture = session.get(CaptureRow, capture_id)
            status, error = (capture.status, capture.error) if capture else (None, None)
        result = [
            replace(o, capture=capture_id, capture_status=status, capture_error=error)
            if o.finding == finding and o.target is target
            else o
            for o in result
        ]
    return result


def failed_capture(
    db: Database,
    tracked: Tracked,
    url: str,
    reason: RempartError | str,
    *,
    operator: str,
    clock: Clock = utc_now,
) -> int:
    """Record a capture of a removal that could not be made (no browser, sealing not set up),
    with its reason: the removal stays recorded by its check, unproven by a seal."""
    now = clock()
    with db.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.name == tracked.case))
        row = CaptureRow(
            finding_id=tracked.finding,
            case_id=case_id,
            url=url,
            status="failed",
            operator=operator,
            started_at=now,
            finished_at=now,
            error=str(reason),
        )
        session.add(row)
        session.flush()
        return row.id


def history(db: Database, finding: int) -> list[dict[str, Any]]:
    """Every check of one copy, oldest first (for reports and the dossier)."""
    with db.session() as session:
        rows = session.scalars(
            select(UrlCheck).where(UrlCheck.finding_id == finding).order_by(UrlCheck.id)
        ).all()
        return [
            {
                "url": r.url,
                "target": r.target,
                "status": r.status,
                "checked_at": aware(r.checked_at).isoformat(),
                "http_status": r.http_status,
                "detail": r.detail,
                "values": json.loads(r.detail_values or "{}"),
                "served_sha256": r.served_sha256,
                "distance": r.distance,
                "placeholder": r.placeholder,
                "capture": r.capture_id,
            }
            for r in rows
        ]


def removal_sealer(
    db: Database,
    vault: Vault,
    sealer: Callable[[], Sealer],
    browser: Callable[[], Browser],
    *,
    policy: Callable[[Tracked], FetchPolicy],
    operator: str,
    clock: Clock = utc_now,
) -> RemovalSealer:
    """Seal removals through the web capture path of rempart.jobs.evidence (a fresh
    browser, the custody log, signature and time-stamps). `sealer` and `browser` are asked
    for on the first removal; when either cannot be had (no signing key, no Chromium), the
    capture is recorded as failed with the reason, and the removal stays recorded."""
    from rempart.jobs.evidence import capture_url
    from rempart.jobs.findings import list_findings

    def seal(tracked: Tracked, url: str) -> int:
        try:
            ready, opened = sealer(), browser()
        except RempartError as exc:
            return failed_capture(db, tracked, url, exc, operator=operator, clock=clock)
        views = list_findings(db, ids=(tracked.finding,))
        outcome = capture_url(
            db,
            vault,
            opened,
            ready,
            url,
            policy=policy(tracked),
            finding=views[0] if views else None,
            clock=clock,
        )
        return outcome.id

    return seal
