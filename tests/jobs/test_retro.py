"""What was seen before a victim registered: a scan keeps the hashes of media that matched
nothing (never their bytes), items registered later are matched against them at once, each
earlier sighting is fetched again before it becomes a finding, and retention purges the rest.
Everything runs on loopback and local folders."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, func, select

from rempart.clock import aware, utc_now
from rempart.hashing import Windows
from rempart.intake import banks
from rempart.jobs import retro, watchlist
from rempart.jobs.findings import list_findings
from rempart.jobs.runner import run_scan
from rempart.jobs.seen import purge_seen, seen_stats
from rempart.matching.packed import RECORD_BYTES, unpack_query
from rempart.matching.service import Matcher
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import SeenSignals, Sighting

LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}


def _original(seed: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, 640, 480).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _jpeg(seed: int) -> bytes:
    """A copy as a site serves it: the original made smaller and compressed harder."""
    buffer = io.BytesIO()
    neutral_image(seed, 640, 480).resize((320, 240)).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


class _Site:
    """A page showing pictures, on loopback; `media[path] = None` takes one down (404)."""

    def __init__(self, media: dict[str, bytes | None]) -> None:
        self.media = media
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/":
                    imgs = "".join(f'<img src="{p}">' for p in site.media)
                    body, kind, status = (
                        f"<html><body>{imgs}</body></html>".encode(),
                        "text/html",
                        200,
                    )
                elif site.media.get(path) is not None:
                    body, kind, status = site.media[path] or b"", "image/jpeg", 200
                else:
                    body, kind, status = b"not found", "text/plain", 404
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def site() -> Iterator[_Site]:
    served = _Site(
        {f"/media/{name}.jpg": _jpeg(seed) for name, seed in [("a", 11), ("b", 12), ("c", 13)]}
    )
    yield served
    served.close()


def _register(db: Database, bank: str, seeds: list[int], folder: Path) -> list[int]:
    """The victim's originals (larger, better quality than the copies served), hashed."""
    folder.mkdir(exist_ok=True)
    paths = []
    for seed in seeds:
        path = folder / f"original-{seed}.jpg"
        path.write_bytes(_original(seed))
        paths.append(path)
    outcomes = list(banks.add_images(db, bank, paths, extras=Windows.CROPS | Windows.GRID))
    ids = [o.item_id for o in outcomes]
    assert all(i is not None for i in ids)
    return [i for i in ids if i is not None]


def test_media_seen_before_registration_becomes_a_finding_only_when_still_served(
    db: Database, site: _Site, tmp_path: Path
) -> None:
    # another victim's bank, so that scans hash grid cells and the smoothed image too
    banks.create_bank(db, "other")
    _register(db, "other", [99], tmp_path / "other")
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "start_urls": [site.url("/")]})
    report = run_scan(db, Matcher(db), "forum")
    assert (report.candidates, report.matched) == (3, 0)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 0
        kept = {row.media_url: row for row in session.scalars(select(SeenSignals))}
    assert set(kept) == {site.url(f"/media/{n}.jpg") for n in "abc"}
    for row in kept.values():
        kinds = {s.kind for s in unpack_query(row.signals).signals}
        assert {"whole", "grid", "smooth"} <= kinds

    # in between: b is taken down, c now shows another picture
    site.media["/media/b.jpg"] = None
    site.media["/media/c.jpg"] = _jpeg(77)
    banks.create_bank(db, "victim")
    items = _register(db, "victim", [11, 12, 13], tmp_path / "victim")
    matcher = Matcher(db)
    search = retro.find_earlier(db, matcher, items)
    assert search.compared == 3
    assert {e.media_url: e.items for e in search.earlier} == {
        site.url("/media/a.jpg"): (items[0],),
        site.url("/media/b.jpg"): (items[1],),
        site.url("/media/c.jpg"): (items[2],),
    }
    results = retro.confirm_earlier(db, matcher, search.earlier)
    outcomes = {r.earlier.media_url: r.outcome for r in results}
    assert outcomes == {
        site.url("/media/a.jpg"): retro.Outcome.FOUND,
        site.url("/media/b.jpg"): retro.Outcome.GONE,
        site.url("/media/c.jpg"): retro.Outcome.CHANGED,
    }
    views = list_findings(db)
    assert [(v.media_url, v.item, v.status) for v in views] == [
        (site.url("/media/a.jpg"), items[0], "pending")
    ]
    assert views[0].first_seen_at == kept[site.url("/media/a.jpg")].first_seen_at
    assert views[0].detail["confirmed_by"] == "refetch"
    with db.session() as session:
        gone = {row.media_url for row in session.scalars(select(SeenSignals)) if row.gone_at}
    assert gone == {site.url("/media/b.jpg"), site.url("/media/c.jpg")}

    # matching again finds a alone (what is gone is not fetched again) and adds nothing
    again = retro.find_earlier(db, matcher, items)
    assert [e.media_url for e in again.earlier] == [site.url("/media/a.jpg")]
    retro.confirm_earlier(db, matcher, again.earlier)
    assert len(list_findings(db)) == 1


def test_the_table_holds_hashes_never_the_media(db: Database, site: _Site) -> None:
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "start_urls": [site.url("/")]})
    run_scan(db, Matcher(db), "forum")
    binary = [c.name for c in SeenSignals.__table__.columns if isinstance(c.type, LargeBinary)]
    assert binary == ["signals"]
    served = [data for data in site.media.values() if data is not None]
    with db.session() as session:
        rows = session.scalars(select(SeenSignals)).all()
    assert len(rows) == 3
    for row in rows:
        assert len(row.signals) % RECORD_BYTES == 0
        texts = " ".join(str(v) for v in vars(row).values() if isinstance(v, str))
        for data in served:
            # no 48-byte run of any served file is anywhere in a row
            for start in range(0, len(data) - 48, 48):
                piece = data[start : start + 48]
                assert piece not in row.signals
                assert piece.decode("latin-1") not in texts


def _folder_source(
    db: Database, tmp_path: Path, name: str, seeds: list[int], **settings: Any
) -> None:
    folder = tmp_path / name
    folder.mkdir()
    for seed in seeds:
        (folder / f"{seed}.jpg").write_bytes(_jpeg(seed))
    watchlist.add_source(db, name, "files", {"path": str(folder), **settings})


def test_retention_purges_what_was_seen_too_long_ago_per_source(
    db: Database, tmp_path: Path
) -> None:
    _folder_source(db, tmp_path, "usual", [1, 2])
    _folder_source(db, tmp_path, "short", [3, 4], seen_retention_days=30)
    _folder_source(db, tmp_path, "none", [5], seen_retention_days=0)
    matcher = Matcher(db)
    for name in ("usual", "short", "none"):
        run_scan(db, matcher, name)
    counts = {s.source: (s.media, s.retention_days) for s in seen_stats(db)}
    assert counts == {"usual": (2, 180), "short": (2, 30), "none": (0, 0)}

    now = utc_now()
    assert purge_seen(db, clock=lambda: now + timedelta(days=29)) == 0
    assert purge_seen(db, clock=lambda: now + timedelta(days=31)) == 2
    assert {s.source: s.media for s in seen_stats(db)} == {"usual": 2, "short": 0, "none": 0}
    assert purge_seen(db, clock=lambda: now + timedelta(days=181)) == 2
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SeenSignals)) == 0


def test_a_media_seen_again_by_a_rescan_stays_kept_longer(db: Database, tmp_path: Path) -> None:
    _folder_source(db, tmp_path, "folder", [1])
    matcher = Matcher(db)
    run_scan(db, matcher, "folder")
    with db.session() as session:
        first = session.scalars(select(SeenSignals)).one()
    run_scan(db, matcher, "folder")  # handled already: skipped, but seen again
    with db.session() as session:
        again = session.scalars(select(SeenSignals)).one()
    assert aware(again.first_seen_at) == aware(first.first_seen_at)
    assert aware(again.last_seen_at) >= aware(first.last_seen_at)


def test_media_of_a_folder_become_findings_on_the_hashes_kept(db: Database, tmp_path: Path) -> None:
    _folder_source(db, tmp_path, "export", [21, 22])
    run_scan(db, Matcher(db), "export")
    banks.create_bank(db, "victim")
    items = _register(db, "victim", [22], tmp_path / "victim")
    matcher = Matcher(db)
    search = retro.find_earlier(db, matcher, items)
    results = retro.confirm_earlier(db, matcher, search.earlier)
    assert [(r.outcome, r.earlier.items) for r in results] == [(retro.Outcome.KEPT, (items[0],))]
    views = list_findings(db)
    assert [(v.source, v.item, v.status) for v in views] == [("export", items[0], "pending")]
    assert views[0].detail["confirmed_by"] == "kept hashes"
