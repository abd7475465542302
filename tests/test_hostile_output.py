"""Attacks on the terminal: names and addresses chosen by whoever posted a copy (zip member
names, WARC-Target-URI) carry escape sequences and direction overrides; none reaches a
caseworker's terminal raw, in tables, details, errors or `--json`."""

from __future__ import annotations

import io
import json
import unicodedata
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.cli import app
from rempart.cli.text import json_text, safe, safe_lines
from rempart.samples import neutral_image

runner = CliRunner()

# Clear screen, set the window title, an OSC 8 link, 8-bit CSI, BEL, a right-to-left override
# and isolates, marks, a line separator.
HOSTILE = (
    "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
    "\x9b31m\u202egpj.exe\u2066x\u2069\u200e\u200f\u2028end"
)


def _raw_danger(text: str) -> list[str]:
    """Characters a terminal acts on or that reorder what is read, found raw in `text`."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if (unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} and c not in "\n\t ")
        }
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REMPART_OPERATOR", "alice")
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    return tmp_path / "home"


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _copy() -> bytes:
    buffer = io.BytesIO()
    neutral_image(3, 320, 240).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture
def hostile_findings(home: Path, tmp_path: Path) -> list[str]:
    """A bank with one protected picture, found again in a zip under a hostile member name
    and in a WARC under a hostile target URI. Returns the scan's output."""
    original = tmp_path / "original.jpg"
    neutral_image(3, 320, 240).save(original, quality=95)
    _ok("bank", "create", "case-1")
    _ok("bank", "add", "case-1", str(original), "--no-extras")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "leak.zip", "w") as archive:
        archive.writestr(f"dir/{HOSTILE}.jpg", _copy())
    warc = tmp_path / "crawl.warc.gz"
    with warc.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            f"http://forum.example/{HOSTILE}.jpg",
            "response",
            payload=io.BytesIO(_copy()),
            http_headers=http,
        )
        writer.write_record(record)
    _ok("source", "add", "inbox", "files", "--path", str(inbox))
    _ok("source", "add", "crawl", "warc", "--path", str(warc))
    return [_ok("scan", "inbox"), _ok("scan", "crawl")]


def test_hostile_names_never_reach_the_terminal_raw(hostile_findings: list[str]) -> None:
    findings = [json.loads(line) for line in _ok("findings", "--json").splitlines()]
    assert len(findings) >= 1
    shown = [*hostile_findings, _ok("findings"), _ok("review", "list")]
    for finding in findings:
        shown.append(_ok("review", "show", str(finding["finding"])))
    for output in shown:
        assert _raw_danger(output) == [], output
    assert any("<U+202E>" in output for output in shown)  # shown, not hidden


def test_json_output_keeps_hostile_values_exact_but_escaped(hostile_findings: list[str]) -> None:
    text = _ok("findings", "--json")

    assert _raw_danger(text) == []
    (finding,) = map(json.loads, text.splitlines())  # one copy, seen by both sources
    places = [finding["media_url"], *(seen["media_url"] for seen in finding["also_seen"])]
    assert places[0].endswith(f"dir/{HOSTILE}.jpg")  # values are kept whole, only escaped
    assert f"http://forum.example/{HOSTILE}.jpg" in places


def test_an_error_naming_a_hostile_path_is_made_safe(home: Path, tmp_path: Path) -> None:
    hostile = tmp_path / f"list{HOSTILE.replace('/', '_')}.txt"
    hostile.write_bytes(b"\xff\xfe not utf-8")
    _ok("bank", "create", "b1")

    result = runner.invoke(app, ["bank", "import", "b1", str(hostile)])

    assert result.exit_code == 2
    assert _raw_danger(result.stdout + result.stderr) == []


def test_safe_covers_c0_c1_escape_and_every_bidi_control() -> None:
    controls = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
    bidi = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)]
    others = ["\u061c", "\u2028", "\u2029", "\ufeff", "\u200b"]
    for char in [*controls, *bidi, *others]:
        assert _raw_danger(safe(f"a{char}b")) == [], f"U+{ord(char):04X}"
    assert safe_lines("one\x1b[2J\ntwo") == "one␛[2J\ntwo"


def test_json_text_is_the_same_json_with_nothing_raw() -> None:
    value = {"name": HOSTILE + "\U000e0001", "plain": "café"}
    text = json_text(json.dumps(value, ensure_ascii=False))

    assert json.loads(text) == value
    assert _raw_danger(text) == []
    assert "café" in text
