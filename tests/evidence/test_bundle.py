"""The sealed bundle: a WACZ 1.1.1 file whose bytes depend only on its inputs, listing and
digesting every file, signed, time-stamped over the digest file, closed by a signed seal; and
a reader that refuses anything unsafe or non-canonical."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rfc3161_client import decode_timestamp_response
from sealing_support import (
    CAPTURE_START,
    RecordingTimestamper,
    custody_for,
    fixed_signing_key,
    make_capture,
    seal_sample,
)

from rempart.errors import EvidenceError
from rempart.evidence.artifacts import Artifact, Capture
from rempart.evidence.bundle import (
    DATAPACKAGE,
    DIGEST,
    MANIFEST,
    SEAL,
    SEAL_SIGNATURE,
    canonical_zip,
    read_bundle,
    read_entries,
)
from rempart.evidence.custody import CustodyAction, append
from rempart.evidence.keys import SigningKey, verify_signature
from rempart.evidence.timestamps import Timestamp


def files_of(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_the_same_inputs_give_the_same_bytes(
    sample_capture: Capture,
    sealing_key: SigningKey,
    recording_timestamper: RecordingTimestamper,
    sample_bundle: bytes,
) -> None:
    again = seal_sample(sample_capture, sealing_key, recording_timestamper)
    assert again == sample_bundle
    other_key = seal_sample(sample_capture, fixed_signing_key("another"), recording_timestamper)
    assert other_key != sample_bundle


def test_entries_are_stored_sorted_and_stamped_with_the_capture_time(sample_bundle: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(sample_bundle)) as archive:
        infos = archive.infolist()
        assert archive.comment == b""
    names = [info.filename for info in infos]
    assert names == sorted(names)
    start = CAPTURE_START
    for info in infos:
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.date_time == (start.year, start.month, start.day, 9, 26, 52)
        assert info.extra == b"" and info.comment == b""
        assert info.external_attr >> 16 == 0o100644


def test_the_bundle_holds_the_wacz_files_the_capture_and_the_seal(sample_bundle: bytes) -> None:
    names = set(files_of(sample_bundle))
    assert names == {
        "archive/data.warc.gz",
        "capture/page.html",
        "capture/screenshot.png",
        "media/abc123.png",
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "rempart/manifest.json",
        "rempart/custody.jsonl",
        DATAPACKAGE,
        DIGEST,
        "rempart/timestamps/01-demo.tsq",
        "rempart/timestamps/01-demo.tsr",
        "rempart/timestamps/01-demo.chain.pem",
        "rempart/timestamps/01-demo.crl-1.der",
        SEAL,
        SEAL_SIGNATURE,
    }


def test_datapackage_lists_every_captured_file_with_its_digest(sample_bundle: bytes) -> None:
    files = files_of(sample_bundle)
    datapackage = json.loads(files[DATAPACKAGE])
    assert datapackage["profile"] == "data-package" and datapackage["wacz_version"] == "1.1.1"
    assert datapackage["mainPageUrl"] == "http://forum.example.test/board/landscapes/thread-7"
    listed = {r["path"]: r for r in datapackage["resources"]}
    assert set(listed) == {
        "archive/data.warc.gz",
        "capture/page.html",
        "capture/screenshot.png",
        "media/abc123.png",
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "rempart/manifest.json",
        "rempart/custody.jsonl",
    }
    for path, resource in listed.items():
        assert resource["hash"] == "sha256:" + hashlib.sha256(files[path]).hexdigest()
        assert resource["bytes"] == len(files[path])
    digest = json.loads(files[DIGEST])
    assert digest["path"] == DATAPACKAGE
    assert digest["hash"] == "sha256:" + hashlib.sha256(files[DATAPACKAGE]).hexdigest()


def test_the_digest_is_signed_and_the_seal_covers_every_other_file(
    sample_bundle: bytes, sealing_key: SigningKey
) -> None:
    files = files_of(sample_bundle)
    signed = json.loads(files[DIGEST])["signedData"]
    signature = base64.b64decode(signed["signature"])
    assert signed["fingerprint"] == sealing_key.fingerprint
    assert verify_signature(sealing_key.public_key, signature, signed["hash"].encode())
    seal = json.loads(files[SEAL])
    assert verify_signature(sealing_key.public_key, files[SEAL_SIGNATURE], files[SEAL])
    listed = {r["path"] for r in json.loads(files[DATAPACKAGE])["resources"]}
    sealed = {entry["path"]: entry for entry in seal["files"]}
    assert set(sealed) == set(files) - listed - {SEAL, SEAL_SIGNATURE}
    for path, entry in sealed.items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest()


def test_the_timestamp_covers_the_exact_bytes_of_the_digest_file(
    sample_bundle: bytes, recording_timestamper: RecordingTimestamper
) -> None:
    files = files_of(sample_bundle)
    assert files[DIGEST] in recording_timestamper.record
    response = decode_timestamp_response(files["rempart/timestamps/01-demo.tsr"])
    imprint = response.tst_info.message_imprint.message
    assert imprint == hashlib.sha256(files[DIGEST]).digest()


def test_the_manifest_records_the_capture_context(sample_bundle: bytes) -> None:
    manifest = json.loads(files_of(sample_bundle)[MANIFEST])
    assert manifest["case"] == "C-2025-001" and manifest["finding"] == "F-17"
    assert manifest["operator"] == "caseworker-1"
    assert manifest["capture"]["link_path"] == [
        "http://forum.example.test/",
        "http://forum.example.test/board/landscapes/thread-7",
    ]
    assert manifest["capture"]["started_at"] == "2025-03-14T09:26:52.123456Z"
    (media,) = manifest["media"]
    assert (media["pdq"], media["pdq_quality"]) == ("f" * 64, 42)
    assert {a["path"]: a["acquired_at"] for a in manifest["artifacts"]}["capture/page.html"] == (
        "2025-03-14T09:26:54.123456Z"
    )
    assert set(manifest["software"]) >= {"rempart", "python", "cryptography", "rfc3161-client"}
    assert manifest["custody"]["events"] == 2 and manifest["custody"]["capture_event"] == 2


def test_pages_and_index_follow_wacz(sample_bundle: bytes) -> None:
    files = files_of(sample_bundle)
    header, page = (json.loads(line) for line in files["pages/pages.jsonl"].splitlines())
    assert header == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    assert page["url"].endswith("thread-7") and page["ts"].startswith("2025-03-14T09:26:52")
    lines = files["indexes/index.cdx"].decode().splitlines()
    assert lines == sorted(lines) and len(lines) == 2
    key, stamp, fields = lines[0].split(" ", 2)
    assert key == "test,example,forum)/board/landscapes/thread-7" and stamp == "20250314092652"
    assert json.loads(fields)["status"] == "200"


@pytest.mark.skipif(shutil.which("unzip") is None, reason="unzip is not installed")
def test_standard_tools_read_the_bundle(sample_bundle: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bundle.wacz"
    path.write_bytes(sample_bundle)
    done = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_read_bundle_parses_a_sealed_bundle(sample_bundle: bytes) -> None:
    bundle = read_bundle(sample_bundle)
    assert len(bundle.custody) == 2 and bundle.custody[-1].action is CustodyAction.CAPTURE
    assert [t.authority for t in bundle.timestamps] == ["demo"]
    assert bundle.manifest["finding"] == "F-17"


# ------------------------------------------------------------------------- refusals


def test_a_chain_that_does_not_end_with_this_capture_is_refused(
    sample_capture: Capture, sealing_key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    opened, captured = custody_for(sample_capture)
    looked = append(
        captured,
        at=captured.at,
        actor="x",
        action=CustodyAction.REVIEW_LOOK,
        subject="finding:F-17",
    )
    for custody in ((opened,), (opened, captured, looked), ()):
        with pytest.raises(EvidenceError, match="custody chain must end"):
            seal_sample(sample_capture, sealing_key, recording_timestamper, custody=custody)
    other = custody_for(make_capture(start=CAPTURE_START + timedelta(hours=1)))
    with pytest.raises(EvidenceError, match="custody chain must end"):
        seal_sample(sample_capture, sealing_key, recording_timestamper, custody=other)


def test_a_broken_chain_is_refused(
    sample_capture: Capture, sealing_key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    opened, captured = custody_for(sample_capture)
    forged = replace(opened, actor="mallory")
    with pytest.raises(EvidenceError, match="broken"):
        seal_sample(sample_capture, sealing_key, recording_timestamper, custody=(forged, captured))


def _with_artifacts(capture: Capture, *artifacts: Artifact, no_media: bool = False) -> Capture:
    return replace(capture, artifacts=artifacts, media=(), no_media=no_media)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (("capture/page.html",), "exactly one WARC"),
        (("archive/data.warc.gz", "archive/notes.txt"), "only WARC files"),
        (("archive/data.warc.gz", "rempart/seal.json"), "reserved"),
        (("archive/data.warc.gz", "datapackage.json"), "reserved"),
        (("archive/data.warc.gz", "pages/extra.jsonl"), "reserved"),
    ],
)
def test_unusable_artifact_layouts_are_refused(
    sample_capture: Capture,
    sealing_key: SigningKey,
    recording_timestamper: RecordingTimestamper,
    names: tuple[str, ...],
    message: str,
) -> None:
    warc = sample_capture.artifact("archive/data.warc.gz")
    artifacts = [replace(warc, name=name) for name in names]
    capture = _with_artifacts(sample_capture, *artifacts)
    with pytest.raises(EvidenceError, match=message):
        seal_sample(capture, sealing_key, recording_timestamper, custody=custody_for(capture))


def test_a_no_media_capture_holding_a_picture_is_refused(
    sample_capture: Capture, sealing_key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    capture = _with_artifacts(
        sample_capture,
        sample_capture.artifact("archive/data.warc.gz"),
        sample_capture.artifact("capture/screenshot.png"),
        no_media=True,
    )
    with pytest.raises(EvidenceError, match="no-media"):
        seal_sample(capture, sealing_key, recording_timestamper, custody=custody_for(capture))


def test_a_timestamper_that_stamps_nothing_or_something_else_is_refused(
    sample_capture: Capture, sealing_key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    with pytest.raises(EvidenceError, match="no time-stamp"):
        seal_sample(sample_capture, sealing_key, lambda data: [])
    elsewhere = next(iter(recording_timestamper.record.values()))

    def wrong(data: bytes) -> list[Timestamp]:
        return list(elsewhere)

    with pytest.raises(EvidenceError, match="invalid"):
        seal_sample(
            sample_capture, sealing_key, wrong, created=CAPTURE_START + timedelta(minutes=9)
        )


# --------------------------------------------------------------------------- reading


def test_a_rezipped_bundle_is_read_but_not_canonical(sample_bundle: bytes) -> None:
    files = files_of(sample_bundle)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    entries = read_entries(buffer.getvalue())
    assert not entries.canonical and dict(entries.files) == files
    with pytest.raises(EvidenceError, match="not a canonical"):
        read_bundle(buffer.getvalue())


def _zip(names_and_data: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in names_and_data:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name", ["../evil", "/etc/passwd", "a/../../b", "a\\b", "C:/x", "a//b", "é.txt"]
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(EvidenceError, match=r"unsafe|ASCII"):
        read_entries(_zip([(name, b"x")]))
    with pytest.raises(EvidenceError):
        canonical_zip({name: b"x"}, CAPTURE_START)


def test_a_name_that_is_also_a_folder_is_refused() -> None:
    with pytest.raises(EvidenceError, match="both a file and a folder"):
        canonical_zip({"a": b"1", "a/b": b"2"}, CAPTURE_START)


def test_directory_entries_are_not_files() -> None:
    entries = read_entries(_zip([("dir/", b""), ("dir/a.txt", b"1")]))
    assert dict(entries.files) == {"dir/a.txt": b"1"} and not entries.canonical
    with pytest.raises(EvidenceError, match="unsafe"):
        canonical_zip({"dir/": b""}, CAPTURE_START)


def test_duplicate_names_are_refused() -> None:
    with pytest.warns(UserWarning, match="Duplicate"):
        data = _zip([("a.txt", b"1"), ("a.txt", b"2")])
    with pytest.raises(EvidenceError, match="two entries"):
        read_entries(data)


def test_a_decompression_bomb_is_stopped_at_the_size_cap() -> None:
    bomb = _zip([("zeros.bin", bytes(20_000_000))], zipfile.ZIP_DEFLATED)
    assert len(bomb) < 100_000
    with pytest.raises(EvidenceError, match="size limit"):
        read_entries(bomb, max_total=1_000_000)


def test_not_a_zip_is_refused_plainly() -> None:
    for data in (b"", b"PK\x03\x04", b"hello", bytes(100)):
        with pytest.raises(EvidenceError):
            read_entries(data)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z0-9_-]{1,8}(/[a-z0-9_-]{1,6}\.?[a-z0-9]{0,3}){0,2}", fullmatch=True),
        st.binary(max_size=300),
        max_size=12,
    ),
    st.datetimes(
        min_value=datetime(1980, 1, 1), max_value=datetime(2107, 12, 31), timezones=st.just(UTC)
    ),
)
def test_canonical_zip_reads_back_exactly(files: dict[str, bytes], moment: datetime) -> None:
    folders = {"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)}
    if not files or folders & set(files):
        return
    data = canonical_zip(files, moment)
    entries = read_entries(data)
    assert entries.canonical and dict(entries.files) == files
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {i.filename: archive.read(i) for i in archive.infolist()} == files


def test_the_operator_defaults_to_the_name_in_the_capture_context(
    sample_capture: Capture, sealing_key: SigningKey, recording_timestamper: RecordingTimestamper
) -> None:
    operator = {"name": "A. Martin", "organisation": "X"}
    named = replace(sample_capture, context={"operator": operator})
    bundle = seal_sample(
        named, sealing_key, recording_timestamper, custody=custody_for(named), operator=None
    )
    assert json.loads(files_of(bundle)[MANIFEST])["operator"] == "A. Martin"
    anonymous = replace(sample_capture, context={})
    with pytest.raises(EvidenceError, match="operator"):
        seal_sample(
            anonymous, sealing_key, recording_timestamper, custody=custody_for(anonymous),
            operator=None,
        )  # fmt: skip
