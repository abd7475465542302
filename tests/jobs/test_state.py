"""StoredState's page validators: written with the batch that closes after they were saved,
new pages inserted, changed ones updated, one stored behind its back merged."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from rempart.jobs import watchlist
from rempart.jobs.state import StoredState, key_sha
from rempart.sources.base import Validators
from rempart.store.database import Database
from rempart.store.models import PageValidator


def _stored(db: Database, source_id: int) -> dict[str, tuple[str | None, str | None]]:
    with db.session() as session:
        rows = session.execute(
            select(PageValidator.url, PageValidator.etag, PageValidator.last_modified).where(
                PageValidator.source_id == source_id
            )
        )
        return {url: (etag, modified) for url, etag, modified in rows}


def _flush(db: Database, state: StoredState) -> None:
    with db.session() as session:
        state.flush_validators(session)
    state.committed([])


def _source(db: Database, tmp_path: Path) -> int:
    return watchlist.add_source(db, "forum", "files", {"path": str(tmp_path)})


def test_validators_are_inserted_then_updated_and_reloaded(db: Database, tmp_path: Path) -> None:
    source = _source(db, tmp_path)
    state = StoredState.load(db, source)
    state.save_validators("https://forum.test/a", Validators('"a1"', None))
    state.save_validators("https://forum.test/b", Validators(None, "Mon, 01 Jan 2024"))
    _flush(db, state)
    state.save_validators("https://forum.test/a", Validators('"a2"', None))  # changed
    state.save_validators("https://forum.test/b", Validators(None, "Mon, 01 Jan 2024"))  # same
    state.save_validators("https://forum.test/c", Validators('"c1"', None))  # new
    _flush(db, state)

    assert _stored(db, source) == {
        "https://forum.test/a": ('"a2"', None),
        "https://forum.test/b": (None, "Mon, 01 Jan 2024"),
        "https://forum.test/c": ('"c1"', None),
    }
    again = StoredState.load(db, source)
    assert again.validators("https://forum.test/a") == Validators('"a2"', None)
    again.save_validators("https://forum.test/a", Validators('"a3"', None))
    _flush(db, again)
    assert _stored(db, source)["https://forum.test/a"] == ('"a3"', None)


def test_a_row_stored_behind_the_states_back_is_merged(db: Database, tmp_path: Path) -> None:
    source = _source(db, tmp_path)
    state = StoredState.load(db, source)
    url = "https://forum.test/a"
    with db.session() as session:  # written after the state was loaded, by something else
        session.execute(
            insert(PageValidator).values(
                source_id=source, url_sha=key_sha(url), url=url, etag='"old"', last_modified=None
            )
        )
    state.save_validators(url, Validators('"new"', None))
    state.save_validators("https://forum.test/b", Validators('"b1"', None))
    _flush(db, state)

    assert _stored(db, source) == {url: ('"new"', None), "https://forum.test/b": ('"b1"', None)}
