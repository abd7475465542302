"""The scan pipeline end to end against the demo site served on loopback, a Telegram export
and a folder: every expected copy is recorded with where it was seen, nothing else is kept,
and a re-scan finds nothing new."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rempart.demo_site import DemoSite
from rempart.demo_site.site import ServedSite
from rempart.evidence.held import held_name
from rempart.evidence.vault import Vault
from rempart.hashing import ImageHashes, Windows
from rempart.intake import banks, cases
from rempart.jobs import hash_worker, scan, watchlist
from rempart.jobs.findings import list_findings, provenance_counts
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.store.models import SeenMedia, Sighting

LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}


@pytest.fixture(scope="module")
def site() -> Iterator[ServedSite]:
    with DemoSite(seed=3, images=60).serve() as served:
        yield served


def _register_victim(db: Database, site: ServedSite, tmp_path: Path) -> None:
    banks.create_bank(db, "victim")
    paths = []
    for i, data in enumerate(site.victim_images()):
        path = tmp_path / f"victim-{i}.jpg"
        path.write_bytes(data)
        paths.append(path)
    outcomes = list(
        banks.add_images(
            db,
            "victim",
            paths,
            label="demo victim",
            extras=Windows.CROPS | Windows.GRID | Windows.FEATURES,
        )
    )
    assert all(o.item_id is not None for o in outcomes)


def test_scanning_the_demo_forum_records_every_expected_copy(
    db: Database, site: ServedSite, tmp_path: Path
) -> None:
    _register_victim(db, site, tmp_path)
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": site.recipes()["forum"]})
    matcher = Matcher(db)
    report = run_scan(db, matcher, "forum")
    found = {(v.page_url, v.media_url) for v in list_findings(db, source="forum")}
    expected = {(s.page_url, s.media_url) for s in site.expected_sightings() if s.where == "forum"}
    exact = {
        (s.page_url, s.media_url)
        for s in site.expected_sightings()
        if s.where == "forum" and s.alteration == "exact"
    }
    assert exact <= found
    assert len(found & expected) >= 0.8 * len(expected)
    assert report.matched == len(found)
    with db.session() as session:
        # only matched media become sightings; everything else leaves its key alone (and
        # a file reached through an attachment link its address too: Candidate.aliases)
        assert session.scalar(select(func.count()).select_from(Sighting)) == len(found)
        marks = session.scalar(select(func.count()).select_from(SeenMedia))
        assert report.candidates <= marks <= 2 * report.candidates
    again = run_scan(db, matcher, "forum")
    assert (again.candidates, again.matched) == (0, 0)


def test_telegram_export_and_folder_sources(db: Database, site: ServedSite, tmp_path: Path) -> None:
    _register_victim(db, site, tmp_path)
    export = tmp_path / "export"
    expected = site.site.write_telegram_export(export)
    watchlist.add_source(db, "channel", "telegram", {"path": str(export)})
    watchlist.add_source(db, "photos", "files", {"path": str(export / "photos")})
    matcher = Matcher(db)
    run_scan(db, matcher, "channel")
    folder = run_scan(db, matcher, "photos")
    views = list_findings(db, source="channel")
    assert {s.post_id for s in expected} <= {v.post_id for v in views}
    assert all(v.context.get("chat") and v.posted_at for v in views)
    in_photos = [s for s in expected if s.media_url and s.media_url.startswith("photos/")]
    assert folder.matched >= len(in_photos)


def test_a_video_clip_in_a_folder_is_found_with_its_time_ranges(
    db: Database, tmp_path: Path
) -> None:
    from rempart.samples import neutral_video

    original = tmp_path / "original.mp4"
    original.write_bytes(neutral_video(21, 40))
    banks.create_bank(db, "victim")
    (outcome,) = banks.add_images(db, "victim", [original])
    seized = tmp_path / "seized"
    seized.mkdir()
    (seized / "clip.webm").write_bytes(
        neutral_video(21, 15, start_s=10, codec="vp9", container="webm")
    )
    (seized / "other.mp4").write_bytes(neutral_video(22, 15))
    watchlist.add_source(db, "seized", "files", {"path": str(seized)})
    report = run_scan(db, Matcher(db), "seized")
    (view,) = list_findings(db, source="seized")
    assert report.candidates == 2 and report.matched == 1
    assert view.item == outcome.item_id and view.media_url and "clip.webm" in view.media_url
    (reference_range,) = view.detail["reference_ranges"]  # type: ignore[misc]
    assert abs(reference_range[0] - 10) <= 1 and abs(reference_range[1] - 25) <= 1


def test_matched_copies_are_held_encrypted_for_review_and_nothing_else(
    db: Database, site: ServedSite, tmp_path: Path
) -> None:
    _register_victim(db, site, tmp_path)
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": site.recipes()["forum"]})
    vault = Vault.open(tmp_path / "home", env={})
    run_scan(db, Matcher(db), "forum", vault=vault)
    with db.session() as session:
        digests = set(session.scalars(select(Sighting.sha256)))
    assert digests
    assert set(vault.names()) == {held_name(d) for d in digests}
    for digest in digests:
        assert hashlib.sha256(vault.get(held_name(digest))).hexdigest() == digest


def test_a_minors_case_holds_no_media_at_all(
    db: Database, site: ServedSite, tmp_path: Path
) -> None:
    cases.create_case(db, "case-m", minor=True)
    _register_victim(db, site, tmp_path)
    cases.attach_bank(db, "case-m", "victim")
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": site.recipes()["forum"]})
    vault = Vault.open(tmp_path / "home", env={})
    report = run_scan(db, Matcher(db), "forum", vault=vault)
    assert report.matched > 0
    assert list(vault.names()) == []


# ------------------------------------------------------------------- one copy, one finding


def _copies(folder: Path, *seeds: int) -> Path:
    from rempart.samples import neutral_image

    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        neutral_image(seed, 320, 240).save(folder / f"picture-{seed}.jpg", quality=85)
    return folder


def test_a_copy_seen_by_a_second_source_is_a_sighting_of_the_same_finding(
    db: Database, tmp_path: Path
) -> None:
    from rempart.jobs.review import decide
    from rempart.samples import neutral_image
    from rempart.store.models import Finding, FindingStatus

    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    banks.create_bank(db, "victim")
    list(banks.add_images(db, "victim", [original]))
    first = _copies(tmp_path / "first", 3)
    second = tmp_path / "second"
    second.mkdir()
    # the same bytes under another name, in another place
    (second / "renamed.jpg").write_bytes((first / "picture-3.jpg").read_bytes())
    watchlist.add_source(db, "first", "files", {"path": str(first)})
    watchlist.add_source(db, "second", "files", {"path": str(second)})
    matcher = Matcher(db)
    assert run_scan(db, matcher, "first").matched == 1
    (view,) = list_findings(db)
    decide(db, view.id, FindingStatus.CONFIRMED, actor="caseworker")

    report = run_scan(db, matcher, "second")

    assert report.matched == 1  # seen, and reported as such
    (again,) = list_findings(db)  # still one finding, still confirmed
    assert again.id == view.id and again.status == "confirmed"
    assert [s.source for s in again.also_seen] == ["second"]
    assert again.also_seen[0].media_url and again.also_seen[0].media_url.endswith("renamed.jpg")
    assert [v.id for v in list_findings(db, source="second")] == [view.id]
    assert [v.id for v in list_findings(db, since_run_sightings=report.sightings)] == [view.id]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Finding)) == 1
        assert session.scalar(select(func.count()).select_from(Sighting)) == 2


def test_a_copy_is_known_by_its_normalised_media_url_too() -> None:
    """Another source may see the same address with other bytes (a host that re-encodes):
    the normalised media URL makes it the same copy."""
    from rempart.jobs.scan import media_key

    assert media_key("HTTP://Img.Example:80/f/1.jpg#top") == media_key("http://img.example/f/1.jpg")
    assert media_key("photos/photo_1.jpg") is None  # a path inside an export names nothing
    assert media_key(None) is None


class _Fake:
    """A source that yields the given problems, after asking about `keys` if any."""

    def __init__(self, name: str, keys: tuple[str, ...], problems: int) -> None:
        self.name, self._keys, self._problems = name, keys, problems

    def scan(self, state):  # type: ignore[no-untyped-def]
        from rempart.sources.base import Problem

        for key in self._keys:
            state.seen(key)
        for n in range(self._problems):
            yield Problem.of(
                self.name, f"http://site.example/{n}", "refused port: {detail}", detail=n
            )


@pytest.mark.parametrize(
    ("keys", "problems", "unreadable"),
    [((), 2, True), (("http://site.example/a.jpg",), 2, False), ((), 0, False)],
)
def test_a_source_that_gave_nothing_but_problems_could_not_be_read(
    db: Database, keys: tuple[str, ...], problems: int, unreadable: bool
) -> None:
    from rempart.jobs.scan import scan_source

    source_id = watchlist.add_source(db, "fake", "web", {"start_urls": ["http://site.example/"]})
    report = scan_source(db, Matcher(db), source_id, _Fake("fake", keys, problems))
    assert report.unreadable is unreadable and report.problems == problems


def test_each_matched_copy_keeps_what_its_bytes_said_about_its_origin(
    db: Database, tmp_path: Path
) -> None:
    from PIL import Image

    from rempart.samples import neutral_image

    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    banks.create_bank(db, "victim")
    list(banks.add_images(db, "victim", [original]))
    folder = tmp_path / "posted"
    folder.mkdir()
    generated = Image.Exif()
    parameters = "x\nSteps: 20, Sampler: Euler, Seed: 77, Model: undress_v2"
    generated.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + parameters.encode()
    neutral_image(3, 320, 240).save(folder / "generated.jpg", quality=85, exif=generated)
    neutral_image(3, 320, 240).save(folder / "stripped.jpg", quality=80)
    watchlist.add_source(db, "posted", "files", {"path": str(folder)})

    assert run_scan(db, Matcher(db), "posted").matched == 2

    views = {Path(v.media_url or "").name: v.to_json() for v in list_findings(db)}
    also = {Path(s.media_url or "").name for v in list_findings(db) for s in v.also_seen}
    readings = {name: view["provenance"] for name, view in views.items()}
    assert set(readings) | also == {"generated.jpg", "stripped.jpg"}
    with db.session() as session:
        stored = dict(session.execute(select(Sighting.key, Sighting.provenance_verdict)).all())
    by_name = {Path(k).name: v for k, v in stored.items()}
    assert by_name == {"generated.jpg": "ai-declared", "stripped.jpg": "no-signal"}
    for reading in readings.values():
        assert isinstance(reading, dict) and reading["verdict"] in {"ai-declared", "no-signal"}
    (counts,) = provenance_counts(db).values()
    assert (counts.ai_declared, counts.no_signal, counts.total) == (1, 1, 2)
    assert provenance_counts(db, case="nobody") == {}


@pytest.mark.parametrize("started_before", [0, 1, 2])
def test_hash_workers_after_the_first_run_below_the_scans_priority(started_before: int) -> None:
    """The first worker hashes at the scan's priority, as the one worker always did; the
    others take only the cycles the scan's thread and the first worker leave: niced."""
    context = multiprocessing.get_context("spawn")
    before = context.Value("i", started_before)
    with ProcessPoolExecutor(
        1, mp_context=context, initializer=hash_worker.started, initargs=(os.getpid(), before)
    ) as pool:
        niceness = pool.submit(os.nice, 0).result()
    lowered = hash_worker.WORKER_NICENESS if started_before else 0
    assert niceness == min(19, os.nice(0) + lowered)
    assert before.value == started_before + 1


def test_hash_workers_give_each_batch_back_whole_and_in_order(site: ServedSite) -> None:
    """A batch is split between the workers; its outcomes come back in the batch's order,
    the same as hashing it in the scan's thread (an unreadable file in its place too)."""
    victims = site.victim_images()
    data = [*victims, b"no picture", *(victims * (40 // len(victims)))]  # parts of 16
    windows = Windows.PICTURE | Windows.GRID | Windows.FEATURES
    here = hash_worker.hash_all(data, windows)
    assert isinstance(here[len(victims)], hash_worker.Unreadable)
    with scan._HashWorkers(2) as workers:
        first = workers.submit(data, windows)  # starts them; hashed here meanwhile
        assert workers._ready is not None
        workers._ready.result()
        parts = workers.submit(data, windows)
        assert len(first) == 1 and len(parts) == -(-len(data) // scan._HASH_PART) > 2
        for outcomes in (
            [o for part in first for o in part.result()],
            [o for part in parts for o in part.result()],
        ):
            assert len(outcomes) == len(here)
            for got, want in zip(outcomes, here, strict=True):
                assert type(got) is type(want)
                if isinstance(got, hash_worker.Read) and isinstance(want, hash_worker.Read):
                    assert isinstance(got.hashes, ImageHashes)
                    assert isinstance(want.hashes, ImageHashes)
                    assert got.hashes.digest == want.hashes.digest
                    assert got.hashes.variants == want.hashes.variants
                    assert got.hashes.windows == want.hashes.windows
                    assert got.provenance == want.provenance


class _Watching(_Fake):
    """A source that notes how many objects the garbage collector leaves out while it scans."""

    frozen: list[int]

    def scan(self, state):  # type: ignore[no-untyped-def]
        import gc

        self.frozen = [gc.get_freeze_count()]
        yield from super().scan(state)


def test_what_the_process_held_before_a_scan_is_left_out_of_collections_until_it_ends(
    db: Database,
) -> None:
    import gc

    from rempart.jobs.scan import scan_source

    before = gc.get_freeze_count()
    source_id = watchlist.add_source(db, "fake", "web", {"start_urls": ["http://site.example/"]})
    source = _Watching("fake", (), 1)
    with pytest.raises(RuntimeError, match="boom"):
        scan_source(db, Matcher(db), source_id, source, progress=_boom)
    assert source.frozen[0] > before  # the modules and the matcher, at least
    assert gc.get_freeze_count() == before  # given back, the scan failing as well
    scan_source(db, Matcher(db), source_id, _Watching("fake", (), 0))
    assert gc.get_freeze_count() == before


def _boom(progress: object) -> None:
    raise RuntimeError("boom")
