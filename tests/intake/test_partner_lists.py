"""Hash lists as partners write and read them: nothing lost silently, every format both ways.

python-threatexchange (a development dependency) reads what Rempart writes and writes what
Rempart reads, through its own code: its file exchange, its PDQ index, its signal names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rempart.errors import HashListError
from rempart.hashing.signals import PdqHash
from rempart.intake import banks
from rempart.intake.hashlists import (
    FILE_NAMES,
    PARTNER_METADATA,
    SKIPPED_COLUMNS,
    HashRecord,
    ListFormat,
    detect_format,
    format_records,
    parse_hash_list,
)
from rempart.store.database import Database

PDQ1 = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"
PDQ2 = "a" * 30 + "5" * 34
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
MD5_2 = "e4d909c290d0fb1ca068ffaddf22cbd0"
SHA = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"


def test_a_stopncii_style_csv_keeps_its_pdq_and_its_md5() -> None:
    # Seen: `hash,hash_type,md5` imported only the MD5s and said "10 imported, 0 rejected".
    parsed = parse_hash_list(f"hash,hash_type,md5\n{PDQ1},pdq,{MD5}\n{PDQ2},pdq,{MD5_2}\n")
    assert parsed.problems == []
    assert [(r.pdq.hex if r.pdq else None, r.md5) for r in parsed.records] == [
        (PDQ1, MD5),
        (PDQ2, MD5_2),
    ]


def test_an_unknown_column_refuses_the_list_unless_skipped_on_purpose() -> None:
    text = f"pdq,colour\n{PDQ1},blue\n"
    with pytest.raises(HashListError, match="unknown columns: colour"):
        parse_hash_list(text)
    parsed = parse_hash_list(text, skip_unknown=True)
    assert [r.pdq.hex for r in parsed.records if r.pdq] == [PDQ1]
    assert parsed.not_kept == {SKIPPED_COLUMNS: 1}


def test_python_threatexchange_dataset_csv_is_read_with_its_signal_types() -> None:
    # `threatexchange dataset -P --csv`: signal_type,signal_str,collab,category,tags
    text = (
        "signal_type,signal_str,collab,category,tags\n"
        f"pdq,{PDQ1},Sample Data,POSITIVE_CLASS,media_priority_s1\n"
        f"video_md5,{MD5},Sample Data,POSITIVE_CLASS,\n"
        "url,https://example.org/x,Sample Data,POSITIVE_CLASS,\n"
    )
    parsed = parse_hash_list(text)
    assert [(r.pdq.hex if r.pdq else r.md5, r.media) for r in parsed.records] == [
        (PDQ1, "image"),
        (MD5, "video"),
    ]
    (problem,) = parsed.problems
    assert problem.line == 4 and "cannot match url signals" in problem.reason
    assert parsed.not_kept[PARTNER_METADATA] == 3


def test_python_threatexchange_print_signals_lines_are_read() -> None:
    text = (
        f"pdq {PDQ1} 'Sample Data' FetchedSignalMetadata(opinions=[...])\n"  # -P
        f"video_md5 {MD5}\n"  # -P -S
        f"{PDQ2}\n"  # -P -S -s pdq: the value alone
        "raw_text some words\n"
    )
    parsed = parse_hash_list(text)
    assert [r.pdq.hex if r.pdq else r.md5 for r in parsed.records] == [PDQ1, MD5, PDQ2]
    assert parsed.records[1].media == "video"
    assert parsed.not_kept == {PARTNER_METADATA: 1}
    assert "cannot match raw_text" in parsed.problems[0].reason


def test_the_reference_hashers_lines_keep_the_quality_not_the_file_name() -> None:
    # pdq-photo-hasher writes `hash,quality,filename`; seen refused as a bad quality.
    parsed = parse_hash_list(f"{PDQ1},87,holiday photo, July.jpg\n{PDQ2},100,b.png\n")
    assert detect_format(f"{PDQ1},87,a.jpg\n") is ListFormat.PDQ
    assert [(r.pdq.hex if r.pdq else "", r.quality, r.label) for r in parsed.records] == [
        (PDQ1, 87, ""),
        (PDQ2, 100, ""),
    ]
    assert parsed.not_kept == {FILE_NAMES: 2}


def test_stopncii_records_are_read_and_withdrawn_ones_never_imported() -> None:
    text = json.dumps(
        {
            "count": 4,
            "hashRecords": [
                {"signalType": "ImagePDQ", "hashValue": PDQ1, "hashStatus": "Active"},
                {"signalType": "VideoMD5", "hashValue": MD5, "hashStatus": "Received"},
                {"signalType": "ImagePDQ", "hashValue": PDQ2, "hashStatus": "Withdrawn"},
                {"signalType": "VideoTMK", "hashValue": "00ff", "hashStatus": "Active"},
            ],
        }
    )
    parsed = parse_hash_list(text)
    assert [r.pdq.hex if r.pdq else r.md5 for r in parsed.records] == [PDQ1, MD5]
    assert [p.line for p in parsed.problems] == [3, 4]
    assert "withdrawn at the source" in parsed.problems[0].reason
    assert "cannot match VideoTMK" in parsed.problems[1].reason
    assert parsed.records[0].quality is None  # StopNCII lists say nothing of quality


def test_hma_signal_objects_are_read() -> None:
    text = (
        json.dumps({"id": 3, "signals": {"pdq": PDQ1}})
        + "\n"
        + json.dumps({"video_md5": MD5})
        + "\n"
        + json.dumps({"pdq": PDQ2, "colour": "x"})
        + "\n"
    )
    parsed = parse_hash_list(text)
    assert [r.pdq.hex if r.pdq else r.md5 for r in parsed.records] == [PDQ1, MD5]
    assert "unknown keys: colour" in parsed.problems[0].reason


def test_a_picture_and_a_video_in_one_entry_is_refused() -> None:
    parsed = parse_hash_list(json.dumps([{"pdq": PDQ1, "video_md5": MD5}]))
    assert "picture or a video" in parsed.problems[0].reason


RECORDS = [
    HashRecord(pdq=PdqHash.from_hex(PDQ1), quality=90),
    HashRecord(md5=MD5, sha256=SHA, media="video"),
    HashRecord(md5=MD5_2),  # a picture known by its MD5 only (an MD5 list's entry)
]


def test_digest_only_items_are_written_as_digest_lines_in_pdq_lists() -> None:
    # Seen: videos and MD5 imports vanished from a pdq export (0 bytes, exit 0).
    written = format_records(RECORDS, ListFormat.PDQ, [1, 2, 3])
    assert written.text == f"pdq {PDQ1}\nvideo_md5 {MD5}\nmd5 {MD5_2}\n"
    assert written.left_out == []
    back = parse_hash_list(written.text)
    assert [(r.pdq, r.md5, r.media) for r in back.records] == [
        (PdqHash.from_hex(PDQ1), None, "image"),
        (None, MD5, "video"),
        (None, MD5_2, "image"),
    ]


@pytest.mark.parametrize("fmt", [ListFormat.PYTX, ListFormat.STOPNCII, ListFormat.HMA])
def test_partner_formats_leave_out_what_they_cannot_carry_and_say_so(fmt: ListFormat) -> None:
    written = format_records(RECORDS, fmt, [1, 2, 3])
    assert [item for item, _ in written.left_out] == [3]
    assert "picture's MD5" in str(written.left_out[0][1])
    back = parse_hash_list(written.text, fmt)
    assert back.problems == []
    assert [(r.pdq, r.md5, r.media) for r in back.records] == [
        (PdqHash.from_hex(PDQ1), None, "image"),
        (None, MD5, "video"),
    ]


def test_csv_and_json_carry_everything_both_ways() -> None:
    for fmt in (ListFormat.CSV, ListFormat.JSON):
        back = parse_hash_list(format_records(RECORDS, fmt, [1, 2, 3]).text, fmt)
        assert back.problems == [] and back.not_kept  # the item numbers are not kept
        assert [(r.pdq, r.quality, r.md5, r.sha256, r.media) for r in back.records] == [
            (r.pdq, r.quality, r.md5, r.sha256, r.media) for r in RECORDS
        ]


def test_a_bank_says_whether_it_accepts_hashes_of_unknown_quality(db: Database) -> None:
    banks.create_bank(db, "accepts")
    banks.create_bank(db, "refuses", unknown_quality="refuse")
    records = parse_hash_list(f"pdq {PDQ1}\npdq {PDQ2},0\nmd5 {MD5}\n").records
    accepted = banks.import_records(db, "accepts", records)
    assert len(accepted.added) == 2 and accepted.unknown_quality == 1  # quality 0: below
    refused = banks.import_records(db, "refuses", records)
    assert len(refused.added) == 1  # the MD5: no PDQ, no quality to judge
    assert sorted(line for line, _ in refused.rejected) == [1, 2]
    assert "unknown quality" in str(dict(refused.rejected)[1])
    assert banks.bank_info(db, "refuses").unknown_quality == "refuse"


def test_a_video_digest_imported_from_a_list_stays_a_video(db: Database) -> None:
    banks.create_bank(db, "videos")
    banks.import_records(db, "videos", parse_hash_list(f"video_md5 {MD5}\n").records)
    (item,) = banks.list_items(db, "videos")
    assert (item.md5, item.media) == (MD5, "video")
    assert banks.export_bank(db, "videos", ListFormat.PYTX).text == f"video_md5 {MD5}\n"


# ----------------------------------------------------------- with python-threatexchange itself

pytx_file = pytest.importorskip("threatexchange.exchanges.impl.file_api")


def _pytx_signals(path: Path) -> dict[str, set[str]]:
    """What python-threatexchange's file exchange reads from `path`, by signal type name."""
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal

    config = pytx_file.FileCollaborationConfig(filename=str(path), name="rempart")
    api = pytx_file.LocalFileSignalExchangeAPI.for_collab(config)
    fetched: dict[tuple[str, str], object] = {}
    for delta in api.fetch_iter([], None):
        fetched.update(delta.updates)
    types = [PdqSignal, VideoMD5Signal, VideoSHA256Signal]
    converted = api.naive_convert_to_signal_type(types, config, fetched)
    return {t.get_name(): set(signals) for t, signals in converted.items()}


def test_python_threatexchange_reads_and_matches_what_rempart_exports(
    db: Database, tmp_path: Path
) -> None:
    from threatexchange.signal_type.pdq.signal import PdqSignal

    banks.create_bank(db, "ours")
    banks.import_records(
        db, "ours", parse_hash_list(f"pdq {PDQ1},90\npdq {PDQ2},80\nvideo_md5 {MD5}\n").records
    )
    for fmt in (ListFormat.PDQ, ListFormat.PYTX):
        exported = tmp_path / f"ours.{fmt.value}.txt"
        exported.write_text(banks.export_bank(db, "ours", fmt).text)
        signals = _pytx_signals(exported)
        assert signals == {"pdq": {PDQ1, PDQ2}, "video_md5": {MD5}}
        index = PdqSignal.get_index_cls().build((h, h) for h in signals["pdq"])
        near = format(int(PDQ1[0], 16) ^ 0b111, "x") + PDQ1[1:]  # 3 bits away: a copy
        matches = index.query(near)
        assert [m.metadata for m in matches] == [PDQ1]


def _tx(home: Path, *args: str) -> str:
    """Run python-threatexchange's own command line, its state kept in `home`."""
    exe = Path(sys.executable).with_name("threatexchange")
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_round_trips_through_python_threatexchanges_command_line(
    db: Database, tmp_path: Path
) -> None:
    from rempart.hashing import hash_image_bytes
    from rempart.samples import web_jpeg

    banks.create_bank(db, "ours")
    hashes = hash_image_bytes(web_jpeg(7, 640, 480))
    record = HashRecord(pdq=hashes.pdq.hash, quality=hashes.pdq.quality)
    banks.import_records(db, "ours", [record, HashRecord(md5=MD5, media="video")])
    exported = tmp_path / "ours.txt"
    exported.write_text(banks.export_bank(db, "ours", ListFormat.PYTX).text)

    # Rempart's list -> python-threatexchange's file exchange and its stored state (its PDQ
    # index matches them: test_python_threatexchange_reads_and_matches_what_rempart_exports)
    home = tmp_path / "tx-home"
    home.mkdir()
    _tx(home, "config", "collab", "edit", "local_file", "--create", "rempart",
        "--filename", str(exported))  # fmt: skip
    _tx(home, "fetch")

    # What python-threatexchange prints -> Rempart, the same items in every form
    for args, name in [(("-P",), "p.txt"), (("-P", "-S"), "s.txt"), (("-P", "--csv"), "c.csv")]:
        listed = tmp_path / name
        listed.write_text(_tx(home, "dataset", *args))
        parsed = parse_hash_list(listed.read_text(), filename=name)
        assert parsed.problems == []
        assert {(r.pdq, r.md5, r.media) for r in parsed.records} == {
            (hashes.pdq.hash, None, "image"),
            (None, MD5, "video"),
        }
