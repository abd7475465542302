"""The caseworker's path on the demo site, through the command line: scan, review, capture
and seal with a real Chromium and a local time-stamping authority, verify offline, export,
write the dossier. And a minor's case: no picture anywhere, at any step."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result
from warcio.archiveiterator import ArchiveIterator

from rempart.cli import app
from rempart.config import Settings
from rempart.demo_site import DemoSite
from rempart.demo_site.site import ServedSite, serve_until_interrupted
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.evidence.anchors import parse_anchors
from rempart.evidence.authorities import write_authorities
from rempart.evidence.custody import CustodyAction, verify_chain
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info
from rempart.jobs.watchlist import add_source
from rempart.store.database import Database

pytestmark = [pytest.mark.browser, pytest.mark.slow]
runner = CliRunner()
LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}
_PICTURE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")


@pytest.fixture(scope="module")
def site() -> Iterator[ServedSite]:
    with DemoSite(seed=5, images=24).serve() as served:
        yield served


@pytest.fixture(scope="module")
def tsa() -> Iterator[DemoTimestampAuthority]:
    with DemoTimestampAuthority.start() as authority:
        yield authority


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tsa: DemoTimestampAuthority) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("REMPART_HOME", str(home))
    monkeypatch.setenv("REMPART_OPERATOR", "camille")
    monkeypatch.setenv("REMPART_ORGANISATION", "Association de démonstration")
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMPART_TSA_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    (home / "demo-root.pem").write_bytes(tsa.root_pem)
    write_authorities(home / "authorities.toml", [("demo-tsa", tsa.url, ["demo-root.pem"])])
    return home


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _scan_a_victim(site: ServedSite, tmp_path: Path, case: str, *, minor: bool) -> Database:
    _ok("case", "create", case, *(["--minor"] if minor else []))
    _ok("bank", "create", f"{case}-images", "--case", case)
    device = tmp_path / "device"
    device.mkdir()
    for i, data in enumerate(site.victim_images()):
        (device / f"photo-{i}.jpg").write_bytes(data)
    _ok("bank", "add", f"{case}-images", str(device))
    db = Database.open(Settings.from_env().database_url)
    add_source(db, "forum", "web", {**LOOPBACK, "recipe": site.recipes()["forum"]})
    _ok("scan", "forum")
    return db


def _pending(case: str) -> list[dict[str, object]]:
    lines = _ok("review", "list", "--case", case, "--json").splitlines()
    return [json.loads(line) for line in lines]


def test_from_a_confirmed_match_to_a_verified_bundle_and_a_dossier(
    site: ServedSite, home: Path, tmp_path: Path
) -> None:
    db = _scan_a_victim(site, tmp_path, "case-a", minor=False)
    pending = _pending("case-a")
    assert len(pending) >= 2
    first, second = (int(str(p["finding"])) for p in pending[:2])
    assert "Not captured yet" in _ok("review", "confirm", str(first))
    _ok("review", "reject", str(second), "--note", "not her")

    result = _run("capture", "--confirmed", "--allow-network", "127.0.0.1/32")
    assert "no signing key yet" in result.stderr and result.exit_code == 2
    _ok("keys", "init")
    captured = _ok("capture", "--confirmed", "--allow-network", "127.0.0.1/32", "--json")
    (outcome,) = [json.loads(line) for line in captured.splitlines()]
    assert outcome["status"] == "sealed" and outcome["finding"] == first
    assert [t["authority"] for t in outcome["timestamps"]] == ["demo-tsa"]
    again = _ok("capture", "--confirmed", "--allow-network", "127.0.0.1/32")
    assert "Nothing to capture" in again  # what is sealed is not captured twice

    _ok("evidence", "export", str(outcome["capture"]), "--to", str(tmp_path))
    bundle = tmp_path / f"capture-{outcome['capture']}.wacz"
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == outcome["bundle_sha256"]
    verified = _ok("verify", str(bundle), "--lang", "fr")
    assert "Ce que cela prouve" in verified or "prouve" in verified
    report = json.loads(_ok("verify", str(bundle), "--json"))
    assert report["verdict"] == "pass" and report["trusted"] is True

    tampered = bytearray(bundle.read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    (tmp_path / "tampered.wacz").write_bytes(bytes(tampered))
    assert _run("verify", str(tmp_path / "tampered.wacz")).exit_code == 1

    _ok("dossier", "case-a", "--to", str(tmp_path))
    folder = tmp_path / "dossier-case-a"
    sums = (folder / "SHA256SUMS").read_text().splitlines()
    assert {line.split("  ")[1] for line in sums} == {
        "dossier-case-a-fr.pdf",
        "dossier-case-a-en.pdf",
        f"bundles/capture-{outcome['capture']}.wacz",
        "custody-anchors.jsonl",  # the log's anchors: the lawyer checks it with them later
    }
    assert parse_anchors((folder / "custody-anchors.jsonl").read_bytes())
    text = "".join(p.extract_text() for p in PdfReader(folder / "dossier-case-a-fr.pdf").pages)
    assert outcome["bundle_sha256"] in text.replace("\n", "")

    events = chain_events(db, f"case:{case_info(db, 'case-a').id}")
    assert verify_chain(events).ok
    actions = [e.action for e in events]
    assert actions[:2] == [CustodyAction.REVIEW_DECISION, CustodyAction.REVIEW_DECISION]
    assert actions[2:4] == [CustodyAction.CAPTURE, CustodyAction.SEAL]
    assert actions.count(CustodyAction.EXPORT) == 2  # the bundle, then the dossier (fr + en)
    names = list(Vault.open(home).names())
    assert any(n.startswith("bundles/") for n in names)


def test_a_minors_case_keeps_no_picture_at_any_step(
    site: ServedSite, home: Path, tmp_path: Path
) -> None:
    _scan_a_victim(site, tmp_path, "case-m", minor=True)
    vault = Vault.open(home)
    assert not [n for n in vault.names() if n.startswith("media/")]
    finding = int(str(_pending("case-m")[0]["finding"]))
    result = _run("review", "show", str(finding), "--look")
    assert result.exit_code == 2 and "minor" in result.stderr
    _ok("keys", "init")
    # with sealing set up, confirming captures and seals the page at once
    confirmed = _ok("review", "confirm", str(finding), "--allow-network", "127.0.0.1/32")
    assert "sealed" in confirmed and "no picture kept" in confirmed
    assert "Nothing to capture" in _ok("capture", "--confirmed", "--allow-network", "127.0.0.1/32")
    listed = _ok("evidence", "list", "--case", "case-m", "--json")
    outcome = json.loads(listed.splitlines()[0])
    assert outcome["status"] == "sealed" and outcome["no_media"] is True
    bundle = vault.get(str(outcome["bundle"]))
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith(".warc.gz"):
                for record in ArchiveIterator(io.BytesIO(data)):
                    body = record.content_stream().read()
                    assert not body.startswith(_PICTURE_MAGIC), record.rec_headers
            else:
                assert not data.startswith(_PICTURE_MAGIC), name
    _ok("dossier", "case-m", "--to", str(tmp_path), "--lang", "fr")
    reader = PdfReader(tmp_path / "dossier-case-m" / "dossier-case-m-fr.pdf")
    images = [image for page in reader.pages for image in page.images]
    assert len(images) <= 1  # the timeline chart, drawn from dates only


def test_the_cli_captures_and_verifies_a_page_of_the_served_demo_site(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As docs/evidence.md tells a new user: `python -m rempart.demo_site --tsa FOLDER`, then
    `rempart capture URL` with the authorities file it wrote, then `rempart verify`."""
    lines: list[str] = []
    stop = threading.Event()
    folder = tmp_path / "tsa"
    server = threading.Thread(
        target=serve_until_interrupted,
        kwargs={
            "seed": 2,
            "images": 12,
            "timestamp_authority": folder,
            "out": lines.append,
            "stop": stop,
        },
    )
    server.start()
    try:
        # the site prints its addresses once it serves; waiting longer is only a hang guard
        deadline = time.monotonic() + 300
        while not any(line.startswith("forum:") for line in lines):
            assert server.is_alive(), "the demo site stopped before serving:\n" + "\n".join(lines)
            assert time.monotonic() < deadline, "the demo site did not start"
            time.sleep(0.05)
        forum = next(line.split()[-1] for line in lines if line.startswith("forum:"))
        assert any("REMPART_TSA_CONFIG=" in line for line in lines)
        monkeypatch.setenv("REMPART_TSA_CONFIG", str(folder / "authorities.toml"))
        _ok("keys", "init")
        _ok("case", "create", "case-x")
        captured = _ok(
            "capture", forum, "--case", "case-x", "--allow-network", "127.0.0.1/32", "--json"
        )
        outcome = json.loads(captured)
        assert outcome["status"] == "sealed" and outcome["case"] == "case-x"
        _ok("evidence", "export", str(outcome["capture"]), "--to", str(tmp_path))
        bundle = tmp_path / f"capture-{outcome['capture']}.wacz"
        assert json.loads(_ok("verify", str(bundle), "--json"))["verdict"] == "pass"
        refused = _run("capture", forum, "--case", "case-x", "--json")  # no --allow-network
        assert refused.exit_code == 1
        assert "not allowed" in json.loads(refused.stdout)["error"]  # loopback port refused
    finally:
        stop.set()
        server.join(30)
