"""Videos in banks and queries: exact digests, frames matched with their time ranges, a
picture found in a video and a video frame found as a picture."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from rempart.hashing import hash_image_bytes
from rempart.hashing.video import hash_video_bytes
from rempart.intake import banks
from rempart.matching.service import Matcher, Query
from rempart.samples import neutral_image, neutral_video
from rempart.store.database import Database


def _register_video(db: Database, tmp_path: Path, data: bytes, seconds: int) -> int:
    banks.create_bank(db, "victim")
    path = tmp_path / "original.mp4"
    path.write_bytes(data)
    (outcome,) = banks.add_images(db, "victim", [path])
    assert outcome.item_id is not None and outcome.error is None
    assert outcome.extra_hashes >= 0.8 * seconds  # about one frame a second
    return outcome.item_id


def test_a_reencoded_clip_matches_with_its_time_ranges(db: Database, tmp_path: Path) -> None:
    item = _register_video(db, tmp_path, neutral_video(11, 60), 60)
    clip = neutral_video(11, 20, start_s=20, codec="vp9", container="webm", width=256, height=192)
    unrelated = neutral_video(12, 20)
    matched, other = Matcher(db).match(
        [Query.from_video(hash_video_bytes(clip)), Query.from_video(hash_video_bytes(unrelated))]
    )
    (m,) = matched.matches
    assert (m.item, m.window, m.reference) == (item, "frame", "frame")
    detail = dict(m.detail)
    (query_range,) = detail["query_ranges"]  # type: ignore[misc]
    (reference_range,) = detail["reference_ranges"]  # type: ignore[misc]
    assert abs(query_range[0] - 0) <= 1 and abs(query_range[1] - 20) <= 1
    assert abs(reference_range[0] - 20) <= 1 and abs(reference_range[1] - 40) <= 1
    assert json.dumps(m.to_json())  # JSON-able, ranges included
    assert other.matches == ()


def test_the_same_file_matches_by_digest(db: Database, tmp_path: Path) -> None:
    data = neutral_video(13, 10)
    item = _register_video(db, tmp_path, data, 10)
    (result,) = Matcher(db).match([Query.from_video(hash_video_bytes(data))])
    assert [(m.item, m.method) for m in result.matches] == [(item, "sha256")]


def test_a_still_of_the_video_matches_the_frame_it_shows(db: Database, tmp_path: Path) -> None:
    import av

    data = neutral_video(14, 30)
    item = _register_video(db, tmp_path, data, 30)
    with av.open(io.BytesIO(data)) as container:
        frame = next(f for f in container.decode(video=0) if f.time is not None and f.time >= 12)
        still: Image.Image = frame.to_image()
    buffer = io.BytesIO()
    still.save(buffer, "JPEG", quality=85)
    (result,) = Matcher(db).match([Query.from_image(hash_image_bytes(buffer.getvalue()))])
    (m,) = result.matches
    (reference_range,) = dict(m.detail)["reference_ranges"]  # type: ignore[misc]
    assert m.item == item and 10 <= reference_range[0] <= 14


def test_a_protected_picture_shown_in_a_video_is_found_with_when(
    db: Database, tmp_path: Path
) -> None:
    banks.create_bank(db, "victim")
    picture = neutral_image(77, 320, 240)
    path = tmp_path / "photo.jpg"
    picture.save(path, "JPEG", quality=90)
    (outcome,) = banks.add_images(db, "victim", [path])
    from rempart.samples import encode_video

    before, after = neutral_image(78, 320, 240), neutral_image(79, 320, 240)
    frames = [np.asarray(im) for im in [before] * 50 + [picture] * 30 + [after] * 50]
    video = encode_video(frames, fps=10.0, codec="h264", container="mp4", audio=False)
    (result,) = Matcher(db).match([Query.from_video(hash_video_bytes(video))])
    (m,) = result.matches
    (query_range,) = dict(m.detail)["query_ranges"]  # type: ignore[misc]
    assert m.item == outcome.item_id and 4 <= query_range[0] <= 6 and 7 <= query_range[1] <= 9
