"""`rempart backup` and `rempart restore`: a case with confirmed copies sealed in the vault,
backed up, its machine lost (home and database wiped), restored: every row and every file
is back, each custody log is unbroken, and an exported bundle still verifies. A wrong
passphrase, a cut-off or altered backup, or a folder that is not empty restore nothing.
On SQLite and PostgreSQL; generated neutral pictures and a demo TSA on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from rempart.cli import app
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.authorities import write_authorities
from rempart.jobs.backup_file import ChunkWriter, KdfParams, open_reader
from rempart.samples import web_jpeg
from rempart.store import dump
from rempart.store.database import Database, head_revision

runner = CliRunner()
PASSPHRASE = "a long enough passphrase"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite in the home, or this session's PostgreSQL database, wiped."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'rempart.db'}"
    url: str = request.getfixturevalue("postgres_url")
    db = Database.open(url, migrate=False)
    dump.wipe(db)
    db.dispose()
    return url


@pytest.fixture
def home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_tsa: DemoTimestampAuthority,
    database_url: str,
) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("REMPART_HOME", str(home))
    monkeypatch.setenv("REMPART_DATABASE_URL", database_url)
    monkeypatch.setenv("REMPART_OPERATOR", "camille")
    monkeypatch.setenv("REMPART_ORGANISATION", "Association de démonstration")
    for variable in ("REMPART_TSA_CONFIG", "REMPART_KEY_PASSPHRASE", "REMPART_VAULT_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("REMPART_BACKUP_PASSPHRASE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    (home / "demo-root.pem").write_bytes(local_tsa.root_pem)
    write_authorities(home / "authorities.toml", [("demo-tsa", local_tsa.url, ["demo-root.pem"])])
    return home


def _run(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


def _ok(*args: str, stdin: str | None = None) -> str:
    result = _run(*args, stdin=stdin)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _sealed_case(tmp_path: Path) -> None:
    """A case whose copies, found in a folder, are confirmed and sealed in the vault."""
    picture = web_jpeg(11, 320, 240)
    _ok("case", "create", "case-b")
    _ok("bank", "create", "case-b-images", "--case", "case-b")
    device = tmp_path / "device"
    device.mkdir()
    (device / "photo.jpg").write_bytes(picture)
    _ok("bank", "add", "case-b-images", str(device))
    seized = tmp_path / "seized"
    seized.mkdir()
    (seized / "copy.jpg").write_bytes(picture)
    (seized / "again.jpg").write_bytes(picture + b"\x00")  # another file, same picture
    _ok("source", "add", "seized", "files", "--path", str(seized))
    _ok("scan", "--all")
    found = [json.loads(line)["finding"] for line in _ok("review", "list", "--json").splitlines()]
    assert len(found) == 2
    for finding in found:
        _ok("review", "confirm", str(finding), "--no-capture")
    _ok("keys", "init")
    captured = [json.loads(line) for line in _ok("capture", "--confirmed", "--json").splitlines()]
    assert [c["status"] for c in captured] == ["sealed", "sealed"]


def _rows(url: str, scratch: Path) -> dict[str, list[object]]:
    scratch.mkdir()
    db = Database.open(url, migrate=False)
    try:
        tables = dump.dump_rows(db, scratch)
    finally:
        db.dispose()
    return {t.name: [json.loads(line) for line in t.path.read_text().splitlines()] for t in tables}


def _files(home: Path) -> dict[str, bytes]:
    skip = {"rempart.db", "rempart.db-wal", "rempart.db-shm"}
    return {
        p.relative_to(home).as_posix(): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name not in skip
    }


def _wipe(home: Path, url: str) -> None:
    shutil.rmtree(home)
    if not url.startswith("sqlite"):
        db = Database.open(url, migrate=False)
        dump.wipe(db)
        db.dispose()


def test_a_lost_machine_is_restored_whole_from_its_backup(
    home: Path, tmp_path: Path, database_url: str
) -> None:
    _sealed_case(tmp_path)
    rows = _rows(database_url, tmp_path / "before")
    files = _files(home)
    assert sum(1 for name in files if name.startswith("evidence/")) >= 2  # bundles and media
    assert rows["captures"] and rows["custody_events"] and rows["findings"]

    backup = tmp_path / "rempart.rbk"
    said = _ok("backup", "--to", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert "checked" in said
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert PASSPHRASE.encode() not in backup.read_bytes()
    assert b"custody" not in backup.read_bytes()  # nothing in clear

    _wipe(home, database_url)
    restored = _ok("restore", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert "unbroken" in restored and "✗" not in restored

    assert _rows(database_url, tmp_path / "after") == rows
    assert _files(home) == files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in home.rglob("*") if p.is_file())
    capture = json.loads(_ok("evidence", "list", "--json").splitlines()[0])["capture"]
    exported = tmp_path / "exported.wacz"
    _ok("evidence", "export", str(capture), "--to", str(exported))
    assert "PASS" in _ok("verify", str(exported))
    # the restored case goes on: a new event extends its custody log
    _ok("evidence", "export", str(capture), "--to", str(tmp_path / "again.wacz"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_bad_backup_or_a_busy_folder_restores_nothing(home: Path, tmp_path: Path) -> None:
    _ok("case", "create", "case-c")
    _ok("keys", "init")
    backup = tmp_path / "b.rbk"
    _ok("backup", "--to", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    data = backup.read_bytes()
    target = tmp_path / "elsewhere"
    restore = ("restore", "--to-home", str(target), "--passphrase-stdin")
    os.environ.pop("REMPART_DATABASE_URL")  # SQLite in the folder restored into

    wrong = _run(*restore[:1], str(backup), *restore[1:], stdin="not the passphrase\n")
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.stderr
    cut = tmp_path / "cut.rbk"
    cut.write_bytes(data[: len(data) - 40])
    result = _run("restore", str(cut), *restore[1:], stdin=PASSPHRASE + "\n")
    assert result.exit_code == 2 and "cut off" in result.stderr
    altered = tmp_path / "altered.rbk"
    middle = len(data) // 2
    altered.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    result = _run("restore", str(altered), *restore[1:], stdin=PASSPHRASE + "\n")
    assert result.exit_code == 2 and "altered" in result.stderr
    verify = _run("backup", "verify", str(altered), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert verify.exit_code == 2
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left

    # the original home is not empty: refused, and left as it was
    before = _files(home)
    busy = _run("restore", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert busy.exit_code == 2 and "not empty" in busy.stderr
    assert _files(home) == before
    _ok("restore", str(backup), "--force", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert _files(home) == before

    taken = _run("backup", "--to", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert taken.exit_code == 2 and "already exists" in taken.stderr
    short = _run("backup", "--to", str(tmp_path / "s.rbk"), "--passphrase-stdin", stdin="short\n")
    assert short.exit_code == 2 and not (tmp_path / "s.rbk").exists()


def test_a_backup_of_an_older_schema_is_migrated_when_restored(
    home: Path, tmp_path: Path, database_url: str
) -> None:
    db = Database.open(database_url, migrate=False)
    db.upgrade("0008")
    db.dispose()
    backup = tmp_path / "old.rbk"
    _ok("backup", "--to", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    summary = json.loads(
        _ok("backup", "verify", str(backup), "--json", "--passphrase-stdin", stdin=PASSPHRASE)
    )
    assert summary["revision"] == "0008"
    _wipe(home, database_url)
    Database.open(database_url).dispose()  # a command ran on the new machine: empty, at head
    report = json.loads(
        _ok("restore", str(backup), "--json", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    )
    assert report["contents"]["revision"] == "0008"
    assert report["revision"] == head_revision() != "0008"


def _forged(original: Path, forged: Path, table: str, edit: Callable[[dict], dict]) -> None:
    """The backup re-written with the passphrase, one table's rows edited and the manifest's
    digests made to match: a backup that opens and checks whole, but cannot load."""
    with original.open("rb") as source, forged.open("wb") as out:
        reader = open_reader(source, PASSPHRASE.encode())
        writer = ChunkWriter(out, PASSPHRASE.encode(), kdf=KdfParams(log_n=10), created="x")
        members: dict[str, bytes] = {}
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for info in tar:
                members[info.name] = tar.extractfile(info).read()
        name = f"database/rows/{table}.jsonl"
        lines = [json.loads(line) for line in members[name].decode().splitlines()]
        members[name] = "".join(json.dumps(edit(row)) + "\n" for row in lines).encode()
        manifest = json.loads(members.pop("manifest.json"))
        manifest["members"][name] = {
            "sha256": hashlib.sha256(members[name]).hexdigest(),
            "size": len(members[name]),
        }
        members["manifest.json"] = json.dumps(manifest).encode()
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            for member, data in members.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        writer.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_rows_that_cannot_load_leave_the_database_and_the_folder_as_they_were(
    home: Path, tmp_path: Path, database_url: str
) -> None:
    _ok("case", "create", "case-d")
    _ok("bank", "create", "case-d-images", "--case", "case-d")
    backup = tmp_path / "b.rbk"
    _ok("backup", "--to", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    forged = tmp_path / "forged.rbk"
    _forged(backup, forged, "banks", lambda row: {**row, "case_id": 999})  # no such case
    _wipe(home, database_url)
    result = _run("restore", str(forged), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert result.exit_code == 2 and "do not load" in result.stderr
    assert not home.exists()
    db = Database.open(database_url, migrate=False)
    try:
        assert db.table_names() == []  # nothing half-loaded
    finally:
        db.dispose()
    _ok("restore", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
