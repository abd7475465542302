"""Copies found in file-based sources are sealed too: a Telegram export, a folder and an
archive, a WARC file. Confirming one seals it from its source (the message or record as
found, the media as stored, the export's digests, who and when), signed and time-stamped
like a web capture, listed with the captures, verifiable offline, recorded in the custody
log; in a minor's case the bundle holds no picture at all. No browser, no internet: generated
neutral pictures and a demo time-stamping authority on 127.0.0.1."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.cli import app
from rempart.config import Settings
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.authorities import write_authorities
from rempart.evidence.custody import CustodyAction, verify_chain
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info
from rempart.jobs.watchlist import add_source
from rempart.samples import web_jpeg
from rempart.store.database import Database

runner = CliRunner()
CHAT_ID = 1698765432
PHOTO = "photos/photo_1@01-05-2024_10-00-00.jpg"
_PICTURE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_tsa: DemoTimestampAuthority
) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("REMPART_HOME", str(home))
    monkeypatch.setenv("REMPART_OPERATOR", "camille")
    monkeypatch.setenv("REMPART_ORGANISATION", "Association de démonstration")
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_TSA_CONFIG", raising=False)
    monkeypatch.delenv("REMPART_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    (home / "demo-root.pem").write_bytes(local_tsa.root_pem)
    write_authorities(home / "authorities.toml", [("demo-tsa", local_tsa.url, ["demo-root.pem"])])
    return home


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _telegram_export(folder: Path, picture: bytes) -> Path:
    export = folder / "ChatExport_2024-05-02"
    (export / "photos").mkdir(parents=True)
    (export / PHOTO).write_bytes(picture)
    messages = [
        {
            "id": 2,
            "type": "message",
            "date": "2024-05-01T12:00:00",
            "date_unixtime": "1714557600",
            "from": "Neutral poster",
            "from_id": "user42",
            "photo": PHOTO,
            "text": "A view of the harbour",
        },
        {"id": 3, "type": "message", "text": "no media here"},
    ]
    document = {"name": "Neutral channel", "type": "public_channel", "id": CHAT_ID}
    (export / "result.json").write_text(json.dumps({**document, "messages": messages}))
    return export


def _warc_file(path: Path, picture: bytes) -> Path:
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=True)
    url = "http://img.example.test/i/harbour.jpg"
    writer.write_record(
        writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(picture),
            http_headers=StatusAndHeaders(
                "200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1"
            ),
            warc_headers_dict={"WARC-Date": "2024-05-01T12:00:00Z"},
        )
    )
    path.write_bytes(stream.getvalue())
    return path


def _reencoded(picture: bytes, quality: int) -> bytes:
    """Another file of the same picture: each place holds its own copy (one copy, one finding)."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(picture)).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _victim_with_copies(tmp_path: Path, case: str, *, minor: bool) -> tuple[Database, bytes]:
    """The victim's picture registered, and different copies of it in an export, a folder, a
    zip and a WARC. Returns the store and the copy the Telegram export holds."""
    picture = web_jpeg(11, 320, 240)
    _ok("case", "create", case, *(["--minor"] if minor else []))
    _ok("bank", "create", f"{case}-images", "--case", case)
    device = tmp_path / "device"
    device.mkdir()
    (device / "photo.jpg").write_bytes(picture)
    _ok("bank", "add", f"{case}-images", str(device))
    sources = tmp_path / "sources"
    sources.mkdir()
    folder = sources / "seized"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(_reencoded(picture, 90))
    with zipfile.ZipFile(folder / "backup.zip", "w") as archive:
        archive.writestr("DCIM/copy.jpg", _reencoded(picture, 85))
    in_export = _reencoded(picture, 80)
    in_warc = _reencoded(picture, 75)
    db = Database.open(Settings.from_env().database_url)
    add_source(db, "channel", "telegram", {"path": str(_telegram_export(sources, in_export))})
    add_source(db, "seized", "files", {"path": str(folder)})
    add_source(db, "crawl", "warc", {"path": str(_warc_file(sources / "crawl.warc.gz", in_warc))})
    _ok("scan", "--all")
    return db, in_export


def _findings(case: str) -> dict[str, list[int]]:
    lines = _ok("review", "list", "--case", case, "--json").splitlines()
    found: dict[str, list[int]] = {}
    for line in lines:
        view = json.loads(line)
        found.setdefault(str(view["source"]), []).append(int(view["finding"]))
    return found


def _bundle_files(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_confirming_copies_from_an_export_a_folder_and_a_warc_seals_each_from_its_source(
    home: Path, tmp_path: Path
) -> None:
    db, picture = _victim_with_copies(tmp_path, "case-s", minor=False)
    found = _findings("case-s")
    assert set(found) == {"channel", "seized", "crawl"}
    assert len(found["seized"]) == 2  # the file in the folder, and the one in the zip
    ids = [i for ids in found.values() for i in ids]
    for finding in ids:
        _ok("review", "confirm", str(finding), "--no-capture")
    # before: nothing sealed these; now `capture --confirmed` seals them without a browser
    _ok("keys", "init")
    captured = _ok("capture", "--confirmed", "--json")
    outcomes = [json.loads(line) for line in captured.splitlines()]
    assert sorted(o["finding"] for o in outcomes) == sorted(ids)
    assert all(o["status"] == "sealed" for o in outcomes), outcomes
    assert "Nothing to capture" in _ok("capture", "--confirmed")

    vault = Vault.open(home)
    by_finding = {o["finding"]: o for o in outcomes}
    telegram = _bundle_files(vault.get(by_finding[found["channel"][0]]["bundle"]))
    message = json.loads(telegram["source/message.json"])
    assert message["id"] == 2 and message["from"] == "Neutral poster"
    assert picture in telegram.values()  # the media as stored in the export
    context = json.loads(telegram["capture/context.json"])
    assert context["operator"]["name"] == "camille"
    assert context["record"]["chat"] == {
        "id": CHAT_ID,
        "name": "Neutral channel",
        "type": "public_channel",
    }
    assert context["record"]["author"] == "Neutral poster"
    roles = {f["role"] for f in context["source"]["files"]}
    assert "result.json" in roles
    assert all(len(str(f["sha256"])) == 64 for f in context["source"]["files"])

    warc = _bundle_files(vault.get(by_finding[found["crawl"][0]]["bundle"]))
    record = json.loads(warc["capture/context.json"])["record"]
    assert record["kind"] == "WARC record" and record["copied"] is True
    stored = (tmp_path / "sources" / "crawl.warc.gz").read_bytes()
    kept = warc["archive/data.warc.gz"]
    assert stored[record["offset"] : record["offset"] + record["stored_bytes"]] in kept

    in_zip = [
        json.loads(_bundle_files(vault.get(by_finding[i]["bundle"]))["capture/context.json"])
        for i in found["seized"]
    ]
    paths = sorted(str(c["record"]["path_in_archive"]) for c in in_zip)
    assert paths == ["None", "['DCIM/copy.jpg']"]

    # each bundle verifies offline; a tampered one does not
    for outcome in outcomes:
        target = tmp_path / f"out-{outcome['capture']}.wacz"
        _ok("evidence", "export", str(outcome["capture"]), "--to", str(target))
        report = json.loads(_ok("verify", str(target), "--json"))
        assert report["verdict"] == "pass", report
        assert report["facts"]["source"].split(":")[0] in {"telegram", "files", "warc"}
    tampered = bytearray((tmp_path / f"out-{outcomes[0]['capture']}.wacz").read_bytes())
    tampered[len(tampered) // 3] ^= 0x01
    (tmp_path / "tampered.wacz").write_bytes(bytes(tampered))
    assert _run("verify", str(tmp_path / "tampered.wacz")).exit_code == 1

    french = _run("verify", str(tmp_path / f"out-{outcomes[0]['capture']}.wacz"), "--lang", "fr")
    assert "source de fichiers" in french.stdout and "RÉUSSI" in french.stdout

    events = chain_events(db, f"case:{case_info(db, 'case-s').id}")
    assert verify_chain(events).ok
    actions = [e.action for e in events]
    assert actions.count(CustodyAction.CAPTURE) == len(ids)
    assert actions.count(CustodyAction.SEAL) == len(ids)
    listed = _ok("evidence", "list", "--case", "case-s")
    assert "sealed" in listed


def test_confirming_in_review_seals_an_export_copy_at_once(home: Path, tmp_path: Path) -> None:
    _victim_with_copies(tmp_path, "case-r", minor=False)
    _ok("keys", "init")
    finding = _findings("case-r")["channel"][0]
    confirmed = _ok("review", "confirm", str(finding))
    assert "sealed" in confirmed
    (outcome,) = [json.loads(x) for x in _ok("evidence", "list", "--json").splitlines()]
    assert outcome["finding"] == finding and outcome["status"] == "sealed"


def test_a_minors_copies_in_files_are_sealed_with_digests_only(home: Path, tmp_path: Path) -> None:
    _victim_with_copies(tmp_path, "case-m", minor=True)
    _ok("keys", "init")
    found = _findings("case-m")
    for ids in found.values():
        for finding in ids:
            _ok("review", "confirm", str(finding), "--no-capture")
    outcomes = [json.loads(line) for line in _ok("capture", "--confirmed", "--json").splitlines()]
    assert outcomes and all(o["status"] == "sealed" and o["no_media"] for o in outcomes)
    vault = Vault.open(home)
    for outcome in outcomes:
        files = _bundle_files(vault.get(outcome["bundle"]))
        assert not [n for n in files if n.startswith("media/")]
        for name, data in files.items():
            if name.endswith(".warc.gz"):
                for record in ArchiveIterator(io.BytesIO(data)):
                    body = record.content_stream().read()
                    assert not body.startswith(_PICTURE_MAGIC), record.rec_headers
            else:
                assert not data.startswith(_PICTURE_MAGIC), name
        context = json.loads(files["capture/context.json"])
        assert context["media"]["kept"] is False
        assert len(context["media"]["items"][0]["sha256"]) == 64


def test_a_copy_gone_from_its_source_fails_with_its_reason_and_what_to_do(
    home: Path, tmp_path: Path
) -> None:
    _victim_with_copies(tmp_path, "case-g", minor=False)
    _ok("keys", "init")
    finding = _findings("case-g")["channel"][0]
    (tmp_path / "sources" / "ChatExport_2024-05-02" / PHOTO).write_bytes(b"gone")
    confirmed = _run("review", "confirm", str(finding))  # confirmed, but not sealed
    assert confirmed.exit_code == 1 and "What to do" in confirmed.stderr
    result = _run("capture", "--confirmed")
    assert result.exit_code == 1
    assert "failed" in result.stderr and "What to do" in result.stderr
    listed = _ok("evidence", "list")
    assert "failed" in listed and "problem" in listed
    rows = [json.loads(x) for x in _ok("evidence", "list", "--json").splitlines()]
    assert all(r["status"] == "failed" and r["bundle_sha256"] is None for r in rows)
    assert all("no longer holds" in r["error"] for r in rows)
    french = runner.invoke(app, ["capture", "--confirmed"], env={"REMPART_LANG": "fr"})
    assert french.exit_code == 1 and "Que faire" in french.stderr
    assert "a échoué" in french.stderr and "What to do" not in french.stderr
    listed_fr = runner.invoke(app, ["evidence", "list"], env={"REMPART_LANG": "fr"}).stdout
    assert "problème" in listed_fr and "échoué" in listed_fr and "failed" not in listed_fr


def test_an_uncompressed_warc_record_is_kept_whole(tmp_path: Path) -> None:
    raw = gzip.decompress(_warc_file(tmp_path / "a.warc.gz", web_jpeg(3, 64, 48)).read_bytes())
    from rempart.evidence.source_record import _as_gzip_member

    assert gzip.decompress(_as_gzip_member(raw)) == raw


def test_a_zipped_export_and_a_wacz_are_sealed_from_inside_their_archives(
    home: Path, tmp_path: Path
) -> None:
    picture = web_jpeg(12, 320, 240)
    _ok("case", "create", "case-z")
    _ok("bank", "create", "case-z-images", "--case", "case-z")
    device = tmp_path / "device"
    device.mkdir()
    (device / "photo.jpg").write_bytes(picture)
    _ok("bank", "add", "case-z-images", str(device))
    export = _telegram_export(tmp_path / "plain", _reencoded(picture, 80))
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(export.rglob("*")):
            if path.is_file():
                archive.write(path, f"{export.name}/{path.relative_to(export).as_posix()}")
    warc = _warc_file(tmp_path / "data.warc.gz", _reencoded(picture, 75)).read_bytes()
    wacz = tmp_path / "crawl.wacz"
    with zipfile.ZipFile(wacz, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.warc.gz", warc)
    db = Database.open(Settings.from_env().database_url)
    add_source(db, "zipped", "telegram", {"path": str(zipped)})
    add_source(db, "wacz", "warc", {"path": str(wacz)})
    _ok("scan", "--all")
    found = _findings("case-z")
    assert set(found) == {"zipped", "wacz"}
    _ok("keys", "init")
    for ids in found.values():
        _ok("review", "confirm", str(ids[0]))
    outcomes = [json.loads(x) for x in _ok("evidence", "list", "--json").splitlines()]
    assert [o["status"] for o in outcomes] == ["sealed", "sealed"], outcomes
    vault = Vault.open(home)
    for outcome in outcomes:
        context = json.loads(_bundle_files(vault.get(outcome["bundle"]))["capture/context.json"])
        roles = {f["role"] for f in context["source"]["files"]}
        assert roles & {"export archive (zip)", "WACZ file"}
        target = tmp_path / f"z-{outcome['capture']}.wacz"
        _ok("evidence", "export", str(outcome["capture"]), "--to", str(target))
        assert json.loads(_ok("verify", str(target), "--json"))["verdict"] == "pass"


def test_a_capture_killed_before_its_seal_is_closed_when_the_copy_is_sealed_again(
    home: Path, tmp_path: Path
) -> None:
    """A capture run killed between logging a capture and recording its seal left the row
    `sealing` for good (found by bench/kill.py); sealing the copy again now closes it."""
    from sqlalchemy import select

    from rempart.store.models import CaptureRow, Finding

    db, _picture = _victim_with_copies(tmp_path, "case-k", minor=False)
    finding = _findings("case-k")["seized"][0]
    _ok("review", "confirm", str(finding), "--no-capture")
    _ok("keys", "init")
    with db.session() as session:  # what a kill after the first step leaves behind
        finding_row = session.get(Finding, finding)
        assert finding_row is not None
        killed = CaptureRow(
            finding_id=finding,
            case_id=case_info(db, "case-k").id,
            url="file://seized/holiday.jpg",
            status="sealing",
            operator="camille",
            started_at=finding_row.found_at,
        )
        session.add(killed)
        session.flush()
        killed_id = killed.id
    sealed = json.loads(_ok("capture", "--confirmed", "--json").splitlines()[0])
    assert sealed["status"] == "sealed" and sealed["finding"] == finding
    with db.session() as session:
        rows = {r.id: r for r in session.scalars(select(CaptureRow)).all()}
    assert rows[killed_id].status == "failed"
    assert f"sealed again as capture {sealed['capture']}" in (rows[killed_id].error or "")
    assert [r.status for r in rows.values() if r.finding_id == finding].count("sealed") == 1
    assert "sealing" not in {r.status for r in rows.values()}
