"""The command line for watching sources: `rempart source …`, `scan`, `findings`, `watch`.

What a caseworker types, what she reads back, and the exit statuses other tools rely on.
Everything runs on local folders and SQLite; nothing reaches the network.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.config import Settings
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import ScanRun

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[1] / "docs"
RECIPE = """\
name = "example-forum"
start_urls = ["https://forum.example/forums/photos.12/"]

[board]
thread_links = "div.structItem-title > a"

[post]
selector = "article.message"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")  # long temporary paths stay on one line
    return tmp_path / "home"


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _sources() -> dict[str, dict[str, object]]:
    return {str(s["name"]): s for s in _lines(_ok("source", "list", "--json"))}


def _flat(text: str) -> str:
    """Rich wraps long messages at the terminal width; read them as one line."""
    return " ".join(text.split())


def _folder(path: Path, *seeds: int) -> Path:
    """A folder of neutral JPEGs, one per seed."""
    path.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        neutral_image(seed, 320, 240).save(path / f"picture-{seed}.jpg", quality=85)
    return path


@pytest.fixture
def victim(home: Path, tmp_path: Path) -> Path:
    """Bank `case-0142` holding one protected picture (seed 3); returns a folder holding a
    recompressed copy of it and an unrelated picture (seed 11)."""
    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    _ok("bank", "create", "case-0142")
    _ok("bank", "add", "case-0142", str(original), "--no-extras")
    return _folder(tmp_path / "inbox", 3, 11)


# ------------------------------------------------------------------------------ source add


def test_source_add_stores_a_files_and_a_web_source_with_absolute_paths(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _folder(tmp_path / "inbox")
    (tmp_path / "forum.toml").write_text(RECIPE)
    monkeypatch.chdir(tmp_path)
    _ok("source", "add", "inbox", "files", "--path", "inbox")
    _ok("source", "add", "forum", "web", "--recipe", "forum.toml", "--every", "6h")
    _ok("source", "add", "gallery", "web", "--url", "https://img.example/g/", "--every", "1d")
    sources = _sources()
    assert sources["inbox"]["kind"] == "files" and sources["inbox"]["every_s"] is None
    assert sources["inbox"]["settings"] == {"path": str((tmp_path / "inbox").resolve())}
    assert sources["forum"]["settings"] == {"recipe": str((tmp_path / "forum.toml").resolve())}
    assert sources["forum"]["every_s"] == 6 * 3600
    assert sources["gallery"]["settings"] == {"start_urls": ["https://img.example/g/"]}
    assert sources["gallery"]["every_s"] == 86400
    assert all(s["last_run"] is None for s in sources.values())


def test_source_show_prints_one_source_and_names_a_missing_one(home: Path, tmp_path: Path) -> None:
    _ok("source", "add", "inbox", "files", "--path", str(_folder(tmp_path / "inbox")))
    (shown,) = _lines(_ok("source", "show", "inbox"))
    assert shown["name"] == "inbox" and shown["kind"] == "files"
    missing = _run("source", "show", "nope")
    assert missing.exit_code == 2 and "no source named 'nope'" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "ftp", "--path", "{folder}"], "unknown source kind 'ftp'"),
        (["x", "files"], "a files source needs --path"),
        (["x", "telegram", "--path", "{missing}"], "does not exist"),
        (["x", "files", "--path", "{folder}", "--every", "5s"], "at least a minute"),
        (["x", "files", "--path", "{folder}", "--every", "abc"], "cannot read interval 'abc'"),
        (["x", "web"], "needs a recipe"),
        (["x", "web", "--url", "ftp://forum.example/"], "is not http(s)"),
        (["x", "web", "--recipe", "{bad_recipe}"], "unknown key(s) selectors"),
        (["x y", "files", "--path", "{folder}"], "source name 'x y'"),
    ],
)
def test_source_add_refuses_bad_settings_with_exit_2_and_stores_nothing(
    home: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    bad_recipe = tmp_path / "bad.toml"
    bad_recipe.write_text(RECIPE + 'selectors = ["img"]\n')
    where = {
        "folder": str(_folder(tmp_path / "inbox")),
        "missing": str(tmp_path / "nowhere"),
        "bad_recipe": str(bad_recipe),
    }
    result = _run("source", "add", *(a.format(**where) for a in args))
    assert result.exit_code == 2
    assert message in _flat(result.stderr)
    assert _sources() == {}


def test_a_second_source_of_the_same_name_needs_replace(home: Path, tmp_path: Path) -> None:
    first, second = _folder(tmp_path / "one"), _folder(tmp_path / "two")
    _ok("source", "add", "inbox", "files", "--path", str(first))
    again = _run("source", "add", "inbox", "files", "--path", str(second))
    assert again.exit_code == 2 and "a source named 'inbox' exists" in _flat(again.stderr)
    _ok("source", "add", "inbox", "files", "--path", str(second), "--every", "1h", "--replace")
    assert _sources()["inbox"]["settings"] == {"path": str(second.resolve())}
    assert _sources()["inbox"]["every_s"] == 3600


# ----------------------------------------------------------------------------- source load


def test_source_load_adds_every_kind_from_one_file(home: Path, tmp_path: Path) -> None:
    inbox = _folder(tmp_path / "inbox")
    export = _folder(tmp_path / "ChatExport_2026-11-01")
    archive = tmp_path / "thread.wacz"
    archive.write_bytes(b"")
    recipe = tmp_path / "forum.toml"
    recipe.write_text(RECIPE)
    cookies = tmp_path / "forum.cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n")
    listing = tmp_path / "sources.toml"
    listing.write_text(
        f"""
[[source]]
name = "forum"
kind = "web"
every = "6h"
recipe = "{recipe}"
cookies = "{cookies}"
contact_url = "https://association.example/rempart"

[[source]]
name = "gallery"
kind = "web"
every = 3600
start_urls = ["https://img.example/g/"]
per_host_interval_s = 2.0

[[source]]
name = "mirror"
kind = "web"
every = "1d"
[source.recipe]
name = "mirror"
start_urls = ["https://mirror.example/"]
[source.recipe.post]
selector = "div.entry"

[[source]]
name = "channel"
kind = "telegram"
path = "{export}"
username = "@some_channel"

[[source]]
name = "inbox"
kind = "files"
path = "{inbox}"

[[source]]
name = "crawl"
kind = "warc"
path = "{archive}"
"""
    )
    out = _ok("source", "load", str(listing))
    assert "6 sources loaded" in out
    sources = _sources()
    assert {n: s["kind"] for n, s in sources.items()} == {
        "channel": "telegram",
        "crawl": "warc",
        "forum": "web",
        "gallery": "web",
        "inbox": "files",
        "mirror": "web",
    }
    assert [sources[n]["every_s"] for n in ("forum", "gallery", "mirror", "inbox")] == [
        6 * 3600,
        3600,
        86400,
        None,
    ]
    assert sources["mirror"]["settings"]["recipe"]["post"] == {"selector": "div.entry"}  # type: ignore[index]
    assert sources["channel"]["settings"] == {"path": str(export), "username": "@some_channel"}


def test_loading_a_file_again_updates_its_sources(home: Path, tmp_path: Path) -> None:
    inbox = _folder(tmp_path / "inbox")
    listing = tmp_path / "sources.toml"
    listing.write_text(f'[[source]]\nname = "inbox"\nkind = "files"\npath = "{inbox}"\n')
    _ok("source", "load", str(listing))
    listing.write_text(listing.read_text() + 'every = "30m"\n')
    _ok("source", "load", str(listing))
    assert _sources()["inbox"]["every_s"] == 1800


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ('kind = "files"\npath = "{inbox}"\nevry = "6h"', "unknown setting 'evry'"),
        ('kind = "files"\npath = "{inbox}"\nevery = "5s"', "at least a minute"),
        ('kind = "files"\npath = "{inbox}/../nowhere"', "does not exist"),
        ('kind = "web"\nurl = "https://forum.example/"', "unknown setting 'url'"),
        ('kind = "ftp"\npath = "{inbox}"', "unknown source kind 'ftp'"),
        ('path = "{inbox}"', "needs a name and a kind"),
    ],
)
def test_source_load_is_all_or_none_and_names_the_wrong_source(
    home: Path, tmp_path: Path, second: str, message: str
) -> None:
    inbox = _folder(tmp_path / "inbox")
    listing = tmp_path / "sources.toml"
    listing.write_text(
        f'[[source]]\nname = "good"\nkind = "files"\npath = "{inbox}"\n\n'
        f'[[source]]\nname = "wrong"\n{second.format(inbox=inbox)}\n'
    )
    result = _run("source", "load", str(listing))
    assert result.exit_code == 2
    assert message in _flat(result.stderr)
    assert str(listing) in _flat(result.stderr)
    assert _sources() == {}


def test_source_load_stores_nothing_when_a_name_is_invalid(home: Path, tmp_path: Path) -> None:
    inbox = _folder(tmp_path / "inbox")
    listing = tmp_path / "sources.toml"
    listing.write_text(
        f'[[source]]\nname = "good"\nkind = "files"\npath = "{inbox}"\n\n'
        f'[[source]]\nname = "bad name"\nkind = "files"\npath = "{inbox}"\n'
    )
    result = _run("source", "load", str(listing))
    assert result.exit_code == 2 and "source name 'bad name'" in _flat(result.stderr)
    assert _sources() == {}


def test_source_load_explains_a_file_without_sources(home: Path, tmp_path: Path) -> None:
    typo = tmp_path / "sources.toml"
    typo.write_text('[[sources]]\nname = "inbox"\n')
    result = _run("source", "load", str(typo))
    assert result.exit_code == 2 and "has no" in _flat(result.stderr)
    assert "docs/sources.md" in _flat(result.stderr)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[source]\n")
    result = _run("source", "load", str(broken))
    assert result.exit_code == 2 and "is not valid TOML" in _flat(result.stderr)


def test_error_messages_keep_their_square_brackets(home: Path, tmp_path: Path) -> None:
    typo = tmp_path / "sources.toml"
    typo.write_text('[[sources]]\nname = "inbox"\n')
    result = _run("source", "load", str(typo))
    assert "has no [[source]] tables" in _flat(result.stderr)


def test_relative_paths_in_a_sources_file_still_work_from_another_folder(
    victim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = tmp_path / "sources.toml"
    listing.write_text(f'[[source]]\nname = "inbox"\nkind = "files"\npath = "{victim.name}"\n')
    monkeypatch.chdir(tmp_path)
    _ok("source", "load", "sources.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (report,) = _lines(_ok("scan", "inbox", "--json"))
    assert report["matched"] == 1


def test_the_complete_example_of_docs_sources_md_loads(home: Path, tmp_path: Path) -> None:
    """The example a new association copies must be accepted as written (paths moved here)."""
    text = (DOCS / "sources.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    example = next(b for b in blocks if 'kind = "warc"' in b and 'kind = "telegram"' in b)
    example = example.replace("/srv/rempart", str(tmp_path))
    for entry in tomllib.loads(example)["source"]:
        for key in ("path", "recipe", "cookies"):
            value = entry.get(key)
            if not isinstance(value, str):
                continue
            path = Path(value)
            path.parent.mkdir(parents=True, exist_ok=True)
            if key == "recipe":
                path.write_text(RECIPE)
            elif key == "cookies" or entry["kind"] == "warc":
                path.write_bytes(b"")
            else:
                path.mkdir(exist_ok=True)
    listing = tmp_path / "sources.toml"
    listing.write_text(example)
    _ok("source", "load", str(listing))
    assert {s["kind"] for s in _sources().values()} == {"web", "files", "telegram", "warc"}


# ------------------------------------------------------------------------- scan and findings


def test_scan_reports_the_match_and_findings_lists_where_it_was_seen(victim: Path) -> None:
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    out = _flat(_ok("scan", "inbox"))
    assert "inbox: 2 new media hashed, 1 matched, 0 problems" in out
    assert "case-0142#1" in out and "picture-3.jpg" in out
    (finding,) = _lines(_ok("findings", "--json"))
    assert finding["source"] == "inbox" and finding["status"] == "pending"
    assert finding["bank"] == "case-0142" and finding["item"] == 1
    assert str(finding["media_url"]).endswith("inbox/picture-3.jpg")
    assert finding["method"] == "pdq" and int(finding["distance"]) <= 31  # type: ignore[call-overload]
    assert _lines(_ok("findings", "--json", "--source", "inbox")) == [finding]
    assert _lines(_ok("findings", "--json", "--status", "confirmed")) == []
    assert "1 finding." in _ok("findings")
    (listed,) = _lines(_ok("source", "list", "--json"))
    assert listed["last_run"] == "done" and listed["last_run_finished"] is not None


def test_a_second_scan_handles_only_what_is_new(victim: Path) -> None:
    (victim / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    (first,) = _lines(_ok("scan", "inbox", "--json"))
    assert (first["new_media"], first["matched"], first["problems"]) == (3, 1, 1)
    (again,) = _lines(_ok("scan", "inbox", "--json"))
    assert (again["new_media"], again["matched"], again["findings"]) == (0, 0, [])
    assert again["run"] != first["run"]
    assert len(_lines(_ok("findings", "--json"))) == 1  # nothing recorded twice


def test_scan_all_scans_every_source_and_one_with_sightings_cannot_be_removed(
    victim: Path, tmp_path: Path
) -> None:
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    _ok("source", "add", "other", "files", "--path", str(_folder(tmp_path / "other")))
    reports = {r["source"]: r for r in _lines(_ok("scan", "--all", "--json"))}
    assert set(reports) == {"inbox", "other"}
    assert (reports["inbox"]["new_media"], reports["inbox"]["matched"]) == (2, 1)
    assert (reports["other"]["new_media"], reports["other"]["matched"]) == (0, 0)
    assert [f["source"] for f in _lines(_ok("findings", "--json"))] == ["inbox"]
    assert {s["last_run"] for s in _sources().values()} == {"done"}
    # `inbox` holds evidence; `other` has a scan history but nothing was seen there
    refused = _run("source", "remove", "inbox")
    assert refused.exit_code == 2
    assert "sightings of protected images: 1" in _flat(refused.stderr)
    assert "removed" not in refused.stdout
    _ok("source", "remove", "other")
    assert set(_sources()) == {"inbox"}
    assert len(_lines(_ok("findings", "--json"))) == 1
    gone = _run("source", "remove", "other")
    assert gone.exit_code == 2 and "no source named 'other'" in gone.stderr


def test_scan_needs_names_or_all_and_names_an_unknown_source(home: Path) -> None:
    bare = _run("scan")
    assert bare.exit_code == 2 and "--all" in bare.stderr
    unknown = _run("scan", "nope")
    assert unknown.exit_code == 2 and "no source named 'nope'" in unknown.stderr


def test_scan_all_goes_on_past_a_source_that_cannot_be_opened(victim: Path, tmp_path: Path) -> None:
    unplugged = _folder(tmp_path / "usb-drive", 12)
    _ok("source", "add", "a-usb", "files", "--path", str(unplugged))
    _ok("source", "add", "b-inbox", "files", "--path", str(victim))
    unplugged.joinpath("picture-12.jpg").unlink()
    unplugged.rmdir()
    result = _run("scan", "--all", "--json")
    assert result.exit_code == 1  # some inputs failed, each reported
    lines = _lines(result.stdout)
    assert [r["source"] for r in lines if "error" in r] == ["a-usb"]
    assert [r["source"] for r in lines if "error" not in r] == ["b-inbox"]


def test_a_scan_writes_its_heartbeat_as_it_goes(victim: Path) -> None:
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    _ok("scan", "inbox", "--json")
    db = Database.open(Settings.from_env().database_url)
    try:
        with db.session() as session:
            run = session.scalars(select(ScanRun)).one()
            assert run.heartbeat_at > run.started_at
    finally:
        db.dispose()


def test_findings_show_file_names_with_square_brackets_as_they_are(victim: Path) -> None:
    (victim / "picture-3.jpg").rename(victim / "copy [x].jpg")
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    assert "copy [x].jpg" in _ok("scan", "inbox")
    assert "copy [x].jpg" in _ok("findings")


def test_json_times_carry_their_zone(home: Path, tmp_path: Path) -> None:
    _ok("source", "add", "inbox", "files", "--path", str(_folder(tmp_path / "inbox")))
    _ok("scan", "inbox", "--json")
    assert str(_sources()["inbox"]["last_run_finished"]).endswith("+00:00")


def test_findings_refuses_an_unknown_status(home: Path) -> None:
    result = _run("findings", "--status", "confirm")
    assert result.exit_code == 2


def test_a_scan_that_could_not_read_anything_says_why_what_to_do_and_exits_1(
    home: Path, tmp_path: Path
) -> None:
    """A rehearsal against a site on one's own machine: the port is refused (no network is
    reached), the scan says so, gives the command that allows it, and fails."""
    _ok("source", "add", "rehearsal", "web", "--url", "http://127.0.0.1:8401/forum/")
    result = _run("scan", "rehearsal")
    assert result.exit_code == 1
    said = _flat(result.stdout)
    assert "1 problem " in said and "1 problems" not in said
    assert "refused port: port 8401" in said
    assert (
        "rempart source add rehearsal web --url http://127.0.0.1:8401/forum/ "
        "--allow-network 127.0.0.1/32 --replace" in said
    )
    assert "could not be read at all" in _flat(result.stderr)
    (report,) = _lines(_run("scan", "rehearsal", "--json").stdout)
    assert report["unreadable"] is True
    (problem,) = report["problem_list"]  # type: ignore[misc]
    assert problem["reason"] == "refused port: port 8401"
    listed = _flat(_ok("runs", "--problems", "--source", "rehearsal"))
    assert "refused port: port 8401" in listed and "--allow-network" in listed
    runs = _lines(_ok("runs", "--json", "--problems"))
    assert len(runs) == 2 and runs[0]["problem_list"][0]["where"] == "http://127.0.0.1:8401/forum/"  # type: ignore[index]


def test_problems_are_shown_in_french_and_stored_in_english(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok("source", "add", "rehearsal", "web", "--url", "http://127.0.0.1:8401/forum/")
    monkeypatch.setenv("REMPART_LANG", "fr")
    result = _run("scan", "rehearsal")
    said = _flat(result.stdout)
    assert result.exit_code == 1
    assert "port refusé : port 8401" in said and "refused port" not in said
    assert "1 problème" in said and "Ce qui n'a pas pu être lu" in said
    assert "n'a pas pu être lue du tout" in _flat(result.stderr)
    (report,) = _lines(_run("scan", "rehearsal", "--json").stdout)
    assert report["problem_list"][0]["reason"] == "refused port: port 8401"  # type: ignore[index]


def test_a_scan_that_read_something_exits_0_even_with_problems(victim: Path) -> None:
    (victim / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    said = _flat(_ok("scan", "inbox"))
    assert "1 problem " in said and "broken.jpg" in said


def test_findings_of_one_case(victim: Path, tmp_path: Path) -> None:
    _ok("case", "create", "case-a")
    _ok("case", "attach", "case-a", "case-0142")
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    _ok("scan", "inbox")
    assert [f["case"] for f in _lines(_ok("findings", "--case", "case-a", "--json"))] == ["case-a"]
    _ok("case", "create", "case-b")
    assert _lines(_ok("findings", "--case", "case-b", "--json")) == []
    unknown = _run("findings", "--case", "nope")
    assert unknown.exit_code == 2


def test_a_copy_already_found_elsewhere_stays_one_finding(victim: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "same.jpg").write_bytes((victim / "picture-3.jpg").read_bytes())
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    _ok("source", "add", "mirror", "files", "--path", str(mirror))
    _ok("scan", "inbox", "mirror")
    (finding,) = _lines(_ok("findings", "--json"))
    assert finding["source"] == "inbox"
    assert [s["source"] for s in finding["also_seen"]] == ["mirror"]  # type: ignore[union-attr]
    assert "inbox +1" in _ok("findings")


def test_findings_fit_80_columns_with_long_urls_shortened_in_the_middle(
    victim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = victim / ("very-long-folder-name-" * 4)
    deep.mkdir()
    (victim / "picture-3.jpg").rename(deep / "picture-3.jpg")
    _ok("source", "add", "inbox", "files", "--path", str(victim))
    _ok("scan", "inbox")
    monkeypatch.setenv("COLUMNS", "80")
    listed = _ok("findings")
    assert max(len(line) for line in listed.splitlines()) <= 80
    assert "…" in listed and "-3.jpg" in listed
    (finding,) = _lines(_ok("findings", "--json"))
    assert str(finding["media_url"]).endswith(("very-long-folder-name-" * 4) + "/picture-3.jpg")


# ---------------------------------------------------------------------------------- watch


@contextmanager
def _watching() -> Iterator[subprocess.Popen[str]]:
    """`rempart watch` in its own process, checking for due sources every 0.2 s; killed on the
    way out if the test left it running."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "rempart", "watch", "--poll", "0.2"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield watcher
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()


def _stop(watcher: subprocess.Popen[str], once_scanned: str) -> tuple[str, str]:
    """Wait until `once_scanned` has been scanned, then stop the watcher as systemd would."""
    deadline = time.monotonic() + 180  # only a guard against a hang: a scan takes seconds
    while time.monotonic() < deadline and watcher.poll() is None:
        if _sources()[once_scanned]["last_run"] == "done":
            watcher.send_signal(signal.SIGTERM)
            break
        time.sleep(0.1)
    else:
        if watcher.poll() is None:
            watcher.kill()
    return watcher.communicate(timeout=120)


def test_watch_scans_due_sources_and_stops_on_sigterm(home: Path, tmp_path: Path) -> None:
    inbox = _folder(tmp_path / "inbox")
    _ok("source", "add", "inbox", "files", "--path", str(inbox), "--every", "1h")
    _ok("source", "add", "manual", "files", "--path", str(inbox))  # no interval: not watched
    with _watching() as watcher:
        out, err = _stop(watcher, once_scanned="inbox")
    assert watcher.returncode == 0, err
    assert "inbox: 0 new media, 0 matched, 0 problems" in out
    assert _sources()["manual"]["last_run"] is None


def test_watch_goes_on_past_a_source_that_cannot_be_opened(home: Path, tmp_path: Path) -> None:
    unplugged = _folder(tmp_path / "usb-drive")
    _ok("source", "add", "a-usb", "files", "--path", str(unplugged), "--every", "1h")
    inbox = _folder(tmp_path / "inbox")
    _ok("source", "add", "b-inbox", "files", "--path", str(inbox), "--every", "1h")
    unplugged.rmdir()
    with _watching() as watcher:
        _, err = _stop(watcher, once_scanned="b-inbox")
    assert watcher.returncode == 0 and "a-usb" in err
    assert _sources()["b-inbox"]["last_run"] == "done"


def test_watch_with_only_on_demand_sources_says_nothing_is_scheduled_and_how(
    home: Path, tmp_path: Path
) -> None:
    _ok("source", "add", "inbox", "files", "--path", str(_folder(tmp_path / "inbox")))
    result = _run("watch", "--poll", "0.1")  # returns at once: nothing to wait for
    assert result.exit_code == 1
    said = _flat(result.stderr)
    assert "Nothing is scheduled" in said and "rempart source schedule inbox 6h" in said
    _ok("source", "schedule", "inbox", "6h")
    assert _sources()["inbox"]["every_s"] == 6 * 3600
    _ok("source", "schedule", "inbox", "off")
    assert _sources()["inbox"]["every_s"] is None


def test_watch_without_any_source_says_how_to_add_one(home: Path) -> None:
    result = _run("watch")
    assert result.exit_code == 1 and "--every 6h" in _flat(result.stderr)


# ----------------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["source"], "The places Rempart watches"),
        (["source", "add"], "Add a source to watch"),
        (["source", "load"], "[[source]]"),
        (["source", "list"], "List the sources"),
        (["source", "show"], "Show one source"),
        (["source", "remove"], "Stop watching a source"),
        (["scan"], "Scan sources once"),
        (["findings"], "List what scans found"),
        (["runs"], "List recent scans"),
        (["source", "schedule"], "how often"),
        (["watch"], "Re-scan each source on its interval"),
        (["worker"], "REMPART_BROKER_URL"),
    ],
)
def test_every_watching_command_explains_itself(home: Path, command: list[str], says: str) -> None:
    result = _run(*command, "--help")
    assert result.exit_code == 0, result.stdout
    assert says in _flat(result.stdout)


def test_the_kinds_and_states_the_cli_offers_are_those_of_the_code() -> None:
    from rempart.cli.watch import SOURCE_KINDS, FindingState
    from rempart.sources.catalog import KINDS
    from rempart.store.models import FindingStatus

    assert tuple(SOURCE_KINDS) == tuple(KINDS)
    assert [s.value for s in FindingState] == [s.value for s in FindingStatus]


@pytest.mark.parametrize(
    ("command", "french", "english"),
    [
        (["source", "--help"], "Les lieux que Rempart surveille", "The places Rempart watches"),
        (["source", "add", "--help"], "Ajoute une source", "Add a source to watch"),
        (["scan", "--help"], "Analyse des sources", "Scan sources once"),
        (["findings", "--help"], "copie", "List what scans found"),
        (["watch", "--help"], "intervalle", "Re-scan each source"),
        (["runs", "--help"], "analyses récentes", "List recent scans"),
        (["worker", "--help"], "REMPART_BROKER_URL", "Run scan workers"),
    ],
)
def test_watching_commands_speak_french(
    home: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], french: str, english: str
) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    said = _flat(_ok(*command))
    assert french in said and english not in said


def test_scan_and_findings_speak_french(
    victim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    added = _flat(_ok("source", "add", "inbox", "files", "--path", str(victim)))
    assert "ajoutée" in added and "added" not in added
    scanned = _flat(_ok("scan", "inbox"))
    assert "nouveaux médias" in scanned and "new media" not in scanned
    listed = _flat(_ok("findings"))
    assert "en attente" in listed and "1 copie trouvée." in listed and "pending" not in listed
    sources = _flat(_ok("source", "list"))
    assert "à la demande" in sources and "dernière analyse" in sources and "never" not in sources
    refused = _run("source", "add", "inbox", "files", "--path", str(victim))
    assert "existe déjà" in _flat(refused.stderr)
    watched = _run("watch")
    assert "Rien n'est programmé" in _flat(watched.stderr)
