"""Videos leave and enter Rempart as partners exchange them: vPDQ frame hashes, both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.errors import HashListError
from rempart.hashing.signals import PdqHash
from rempart.intake import banks
from rempart.intake.hashlists import HashRecord, ListFormat, format_records, parse_hash_list
from rempart.intake.vpdq import VideoFrame, format_vpdq, parse_vpdq
from rempart.samples import neutral_video
from rempart.store.database import Database

runner = CliRunner()
PDQ1 = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"
PDQ2 = "a" * 30 + "5" * 34


def test_vpdq_lines_are_read_in_time_order_and_bad_ones_reported() -> None:
    text = f"1,100,{PDQ2},1.000\n0,90,{PDQ1},0.000\n2,100,zz,2.0\n3,101,{PDQ1},3.0\n"
    frames, problems = parse_vpdq(text)
    assert [(f.at_s, f.pdq.hex, f.quality) for f in frames] == [
        (0.0, PDQ1, 90),
        (1.0, PDQ2, 100),
    ]
    assert [line for line, _ in problems] == [3, 4]


def test_a_vpdq_file_is_one_video_and_round_trips() -> None:
    frames = [VideoFrame(float(s), PdqHash.from_hex(h), 100) for s, h in enumerate([PDQ1, PDQ2])]
    text = format_vpdq(frames)
    assert text.splitlines()[0] == f"0,100,{PDQ1},0.000"
    parsed = parse_hash_list(text)  # recognised from its lines
    (record,) = parsed.records
    assert record.media == "video" and list(record.frames) == frames
    with pytest.raises(HashListError, match="no frame hash"):
        parse_hash_list("# nothing\n", ListFormat.VPDQ)


def test_a_video_known_by_its_frames_only_is_left_out_of_other_formats() -> None:
    frames = (VideoFrame(0.0, PdqHash.from_hex(PDQ1), 100),)
    records = [HashRecord(media="video", frames=frames), HashRecord(pdq=PdqHash.from_hex(PDQ2))]
    for fmt in (ListFormat.PDQ, ListFormat.CSV, ListFormat.JSON, ListFormat.PYTX):
        written = format_records(records, fmt, [1, 2])
        assert [item for item, _ in written.left_out] == [1]
        assert "--format vpdq" in str(written.left_out[0][1])
        assert PDQ2 in written.text and PDQ1 not in written.text


def test_frames_below_the_banks_quality_gate_are_not_kept(db: Database) -> None:
    banks.create_bank(db, "v", quality_min=50)
    frames = (
        VideoFrame(0.0, PdqHash.from_hex(PDQ1), 100),
        VideoFrame(1.0, PdqHash.from_hex(PDQ2), 20),
    )
    report = banks.import_records(db, "v", [HashRecord(media="video", frames=frames)])
    ((item_id, text),) = banks.export_videos(db, "v")
    assert item_id == report.added[0]
    assert [f.pdq.hex for f in parse_vpdq(text)[0]] == [PDQ1]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    return tmp_path / "home"


def test_hash_a_video_export_its_frames_and_match_it_from_them(home: Path, tmp_path: Path) -> None:
    # Seen: `rempart hash` refused videos, and frame hashes could neither leave nor enter.
    video = tmp_path / "clip.mp4"
    video.write_bytes(neutral_video(5, 6.0))
    frames_dir = tmp_path / "frames"
    hashed = runner.invoke(app, ["hash", "--json", "--vpdq", str(frames_dir), str(video)])
    assert hashed.exit_code == 0, hashed.output
    line = json.loads(hashed.stdout)
    assert line["media"] == "video" and len(line["frames"]) == 6
    vpdq_file = frames_dir / "clip.mp4.vpdq"
    assert len(vpdq_file.read_text().splitlines()) == 6

    # a partner's vPDQ file -> a bank -> the video matches through its frames
    assert runner.invoke(app, ["bank", "create", "partner"]).exit_code == 0
    imported = runner.invoke(app, ["bank", "import", "partner", str(vpdq_file)])
    assert imported.exit_code == 0, imported.output
    copy = tmp_path / "copy.webm"
    copy.write_bytes(neutral_video(5, 6.0, width=256, height=192, codec="vp9", container="webm"))
    matched = runner.invoke(app, ["match", "--json", str(copy)])
    assert matched.exit_code == 0, matched.output
    assert json.loads(matched.stdout)["matches"], matched.stdout

    # ...and leaves again as vPDQ, the same frames
    out = tmp_path / "out"
    exported = runner.invoke(app, ["bank", "export", "partner", "--format", "vpdq", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    (written,) = out.iterdir()
    assert parse_vpdq(written.read_text())[0] == parse_vpdq(vpdq_file.read_text())[0]
    refused = runner.invoke(app, ["bank", "export", "partner", "--format", "vpdq"])
    assert refused.exit_code != 0 and "-o" in refused.output


def test_going_below_migration_0016_never_deletes_a_frames_only_video(db: Database) -> None:
    banks.create_bank(db, "v")
    frames = (VideoFrame(0.0, PdqHash.from_hex(PDQ1), 100),)
    banks.import_records(db, "v", [HashRecord(media="video", frames=frames)])
    db.downgrade("0016")
    with pytest.raises(RuntimeError, match="frame hashes only"):
        db.downgrade("0015")
    with db.engine.connect() as connection:
        kept = connection.exec_driver_sql("SELECT count(*) FROM items").scalar_one()
    assert kept == 1
    db.upgrade("head")
    banks.delete_bank(db, "v")  # once deleted on purpose, going below 0016 is allowed
    db.downgrade("0015")
