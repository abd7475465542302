"""A video's container tags are read for provenance without decoding a frame: a ComfyUI
workflow left in `comment`, an editor named by `software`, a phone's QuickTime make and model;
a damaged video is an `unreadable` signal, never a crash; and a scan stores the verdict of a
matched video copy."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from rempart.intake import banks
from rempart.jobs import watchlist
from rempart.jobs.findings import list_findings
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.provenance import Verdict, read_provenance
from rempart.samples import neutral_video
from rempart.store.database import Database

av = pytest.importorskip("av")

COMFY = json.dumps(
    {
        "prompt": json.dumps(
            {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "ckpt_name": "m.safetensors"}}}
        ),
        "workflow": json.dumps({"nodes": []}),
    }
)


def tagged(data: bytes, tags: dict[str, str], fmt: str = "mp4", **options: str) -> bytes:
    """The same video stream remuxed (not re-encoded) with container tags."""
    source = av.open(io.BytesIO(data))
    buffer = io.BytesIO()
    out = av.open(buffer, "w", format=fmt, options=options)
    out.metadata.update(tags)
    stream = source.streams.video[0]
    written = out.add_stream_from_template(stream)
    for packet in source.demux(stream):
        if packet.dts is not None:
            packet.stream = written
            out.mux(packet)
    out.close()
    source.close()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def video() -> bytes:
    return neutral_video(3, 4)


def test_a_comfyui_workflow_in_a_videos_comment_declares_ai(video: bytes) -> None:
    reading = read_provenance(tagged(video, {"comment": COMFY}), watermark=False)
    assert reading.verdict is Verdict.AI_DECLARED and reading.declared_by == ("ComfyUI",)
    (signal,) = reading.signals
    assert signal.details["seed"] == 42


def test_an_editor_named_by_the_software_tag_is_an_edit(video: bytes) -> None:
    # (FFmpeg's muxer writes its own `encoder` tag, so the test names the editor otherwise)
    data = tagged(
        video, {"software": "Adobe Premiere Pro 2025"}, "mov", movflags="use_metadata_tags"
    )
    assert read_provenance(data, watermark=False).verdict is Verdict.EDITED


def test_a_phones_quicktime_make_and_model_point_to_a_camera(video: bytes) -> None:
    tags = {"com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15"}
    data = tagged(video, tags, "mov", movflags="use_metadata_tags")
    assert read_provenance(data, watermark=False).verdict is Verdict.CAMERA


def test_a_plain_or_damaged_video_says_nothing_and_never_crashes(video: bytes) -> None:
    assert read_provenance(video, watermark=False).verdict is Verdict.NO_SIGNAL
    damaged = read_provenance(video[:3000], watermark=False)
    assert damaged.verdict is Verdict.NO_SIGNAL
    assert [s.kind for s in damaged.signals] == ["unreadable"]


def test_a_scan_stores_the_verdict_of_a_matched_video_copy(db: Database, tmp_path: Path) -> None:
    original = tmp_path / "original.mp4"
    original.write_bytes(neutral_video(21, 12))
    banks.create_bank(db, "victim")
    list(banks.add_images(db, "victim", [original]))
    seized = tmp_path / "seized"
    seized.mkdir()
    (seized / "clip.mp4").write_bytes(tagged(neutral_video(21, 12), {"comment": COMFY}))
    watchlist.add_source(db, "seized", "files", {"path": str(seized)})
    assert run_scan(db, Matcher(db), "seized").matched == 1
    (view,) = list_findings(db)
    assert view.media == "video"
    assert view.provenance is not None and view.provenance["verdict"] == "ai-declared"
