"""A scan keeps, with each finding, every kind of index its item was hit through, and folds
what the matches say into the copy's stored verdict: only through the face, ai-suspected;
then matched whole by another picture, the suspicion is withdrawn. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from rempart.hashing import hash_image_bytes
from rempart.hashing.signals import PdqHash
from rempart.intake import banks
from rempart.intake.hashlists import parse_hash_list
from rempart.jobs import watchlist
from rempart.jobs.findings import list_findings, provenance_counts
from rempart.jobs.scan import record_sighting
from rempart.matching.service import Match, QueryResult
from rempart.samples import neutral_image
from rempart.sources.base import Candidate
from rempart.store.database import Database
from rempart.store.models import BankKind, Finding, FindingStatus, Sighting

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HASHES = (
    "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f",
    "07f80fce1ff4574ff937f532fc8f98f04c6ed1d56962c11dcce3470dd51d836f",
)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    neutral_image(5, 320, 240).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _items(db: Database) -> list[int]:
    banks.create_bank(db, "victim")
    records = parse_hash_list("\n".join(PdqHash.from_hex(h).hex for h in HASHES)).records
    return list(banks.import_records(db, "victim", records).added)


def _match(item: int, via: tuple[str, ...], window: str) -> Match:
    return Match(
        "victim", BankKind.PROTECT, item, "", 20, "pdq", None, 24, window, window, "0", (), via
    )


def _record(db: Database, source: int, matches: tuple[Match, ...]) -> int:
    data = _jpeg()
    candidate = Candidate(
        "posted", "https://leaks.example/a.jpg", data, "https://leaks.example/a.jpg"
    )
    with db.session() as session:
        return record_sighting(
            session, source, candidate, hash_image_bytes(data), QueryResult(matches), NOW
        )


def test_a_copy_met_only_through_the_face_is_stored_as_ai_suspected_until_matched_whole(
    db: Database, tmp_path: Path
) -> None:
    first, second = _items(db)
    source = watchlist.add_source(db, "posted", "files", {"path": str(tmp_path)})
    sighting = _record(db, source, (_match(first, ("face",), "face"),))
    with db.session() as session:
        copy = session.get(Sighting, sighting)
        assert copy is not None and copy.provenance_verdict == "ai-suspected"
        reading = json.loads(copy.provenance or "{}")
        assert [s["kind"] for s in reading["signals"]] == ["match"]
        assert session.scalar(select(Finding.via)) == "face"
    (view,) = list_findings(db)
    assert view.provenance is not None and view.provenance["verdict"] == "ai-suspected"
    (counts,) = provenance_counts(db).values()
    assert counts.ai_suspected == 1

    # later, another of her pictures matches the same copy as a whole: it may be her picture
    assert _record(db, source, (_match(second, ("picture",), "whole"),)) == sighting
    with db.session() as session:
        copy = session.get(Sighting, sighting)
        assert copy is not None and copy.provenance_verdict == "no-signal"
        assert sorted(session.scalars(select(Finding.via))) == ["face", "picture"]


def test_an_exact_copy_keeps_its_method_as_its_path_and_gets_no_match_signal(
    db: Database, tmp_path: Path
) -> None:
    first, _ = _items(db)
    source = watchlist.add_source(db, "posted", "files", {"path": str(tmp_path)})
    exact = Match("victim", BankKind.PROTECT, first, "", 0, "sha256")
    sighting = _record(db, source, (exact,))
    with db.session() as session:
        copy = session.get(Sighting, sighting)
        assert copy is not None and copy.provenance_verdict == "no-signal"
        assert session.scalar(select(Finding.via)) == "sha256"


def test_a_rejected_match_is_no_copy_in_the_counts(db: Database, tmp_path: Path) -> None:
    from sqlalchemy import update

    first, _ = _items(db)
    source = watchlist.add_source(db, "posted", "files", {"path": str(tmp_path)})
    _record(db, source, (_match(first, ("face",), "face"),))
    assert sum(c.total for c in provenance_counts(db).values()) == 1
    with db.session() as session:
        session.execute(update(Finding).values(status=FindingStatus.REJECTED))
    assert provenance_counts(db) == {}


def _two_cases(db: Database) -> tuple[int, int]:
    """Two victims, one registered picture each (case-a's with its face window)."""
    from rempart.intake.cases import create_case

    items = []
    for case, pdq in zip(("case-a", "case-b"), HASHES, strict=True):
        create_case(db, case)
        banks.create_bank(db, f"{case}-images", case=case)
        records = parse_hash_list(PdqHash.from_hex(pdq).hex).records
        items += list(banks.import_records(db, f"{case}-images", records).added)
    return items[0], items[1]


def _in(bank: str, item: int, via: tuple[str, ...], window: str) -> Match:
    return Match(
        bank, BankKind.PROTECT, item, "", 20, "pdq", None, 24, window, window, "0", (), via
    )


def test_a_copy_met_through_one_victims_face_and_anothers_whole_picture_is_judged_per_case(
    db: Database, tmp_path: Path
) -> None:
    face_of_a, picture_of_b = _two_cases(db)
    source = watchlist.add_source(db, "posted", "files", {"path": str(tmp_path)})
    matches = (
        _in("case-a-images", face_of_a, ("face",), "face"),
        _in("case-b-images", picture_of_b, ("picture",), "whole"),
    )
    sighting = _record(db, source, matches)
    with db.session() as session:
        copy = session.get(Sighting, sighting)
        # over all its matches (the police export, the flagger report): no match signal
        assert copy is not None and copy.provenance_verdict == "no-signal"
    views = {v.case: v.provenance for v in list_findings(db)}
    a, b = views["case-a"], views["case-b"]
    assert a is not None and b is not None
    assert a["verdict"] == "ai-suspected" and b["verdict"] == "no-signal"
    (reason,) = a["reasons"]
    assert "only through the face region" in str(reason)
    assert "judged on this case's matches only" in str(reason)
    assert [s["details"] for s in a["signals"]] == [{"via": "face", "judged_on": "case"}]
    (in_a,) = provenance_counts(db, case="case-a").values()
    (in_b,) = provenance_counts(db, case="case-b").values()
    (overall,) = provenance_counts(db).values()
    assert (in_a.ai_suspected, in_b.no_signal, overall.no_signal) == (1, 1, 1)


def test_within_a_case_a_rejected_whole_picture_match_no_longer_hides_the_face_only_one(
    db: Database, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from rempart.intake.cases import attach_bank, create_case

    create_case(db, "case-a")
    first, second = _items(db)
    attach_bank(db, "case-a", "victim")
    source = watchlist.add_source(db, "posted", "files", {"path": str(tmp_path)})
    matches = (_match(first, ("face",), "face"), _match(second, ("picture",), "whole"))
    _record(db, source, matches)
    assert {v.provenance["verdict"] for v in list_findings(db) if v.provenance} == {"no-signal"}
    with db.session() as session:
        session.execute(
            update(Finding).where(Finding.item_id == second).values(status=FindingStatus.REJECTED)
        )
    (view,) = list_findings(db, status="pending")
    assert view.provenance is not None and view.provenance["verdict"] == "ai-suspected"
    assert "judged on this case" not in str(view.provenance["reasons"])
    (counts,) = provenance_counts(db, case="case-a").values()
    assert counts.ai_suspected == 1
