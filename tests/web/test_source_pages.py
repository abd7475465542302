"""The sources and scans pages: each source with how its last scan ended, each scan with what
it could not read and why (as `rempart runs --problems` says it), in French too; outside text
(a file's name) escaped; a role that reads no case reads no source."""

from __future__ import annotations

from pathlib import Path

from webapp import Web

from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.jobs import watchlist
from rempart.jobs.findings import list_problems, list_runs
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher


def _scanned(web: Web, tmp_path: Path) -> int:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "<b>broken<i>.jpg").symlink_to("/etc/hostname")  # links are not followed
    watchlist.add_source(web.db, "dropbox", "files", {"path": str(folder)})
    run_scan(web.db, Matcher(web.db), "dropbox")
    (run,) = list_runs(web.db, source="dropbox")
    assert run.problems == 1
    return run.id


def test_a_scans_problems_are_shown_with_their_reason_escaped(web: Web, tmp_path: Path) -> None:
    run = _scanned(web, tmp_path)
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    sources = client.get("/sources").text
    assert 'href="/sources/dropbox"' in sources and "done" in sources
    source = client.get("/sources/dropbox").text
    assert f'href="/scans/{run}"' in source
    assert f'href="/scans/{run}"' in client.get("/scans").text
    page = client.get(f"/scans/{run}").text
    (problem,) = list_problems(web.db, run)
    assert problem.localized("en") in page
    assert "<b>broken<i>" not in page and "&lt;b&gt;broken&lt;i&gt;" in page
    client.get("/lang/fr")
    french = client.get(f"/scans/{run}").text
    assert problem.localized("fr") in french and "Ce qui n&#39;a pas pu être lu" in french
    assert client.get("/scans/999999").status_code == 404
    assert client.get("/sources/nope").status_code == 404


def test_sources_need_a_signed_in_account_that_reads_cases(web: Web, tmp_path: Path) -> None:
    _scanned(web, tmp_path)
    client = web.client()
    assert client.get("/sources", follow_redirects=False).status_code == 303
    assert client.get("/scans/1", follow_redirects=False).status_code == 303
    assert {e.subject for e in access_log.recent(web.db) if e.detail == "not signed in"} >= {
        "/sources",
        "/scans/1",
    }
