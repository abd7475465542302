"""VideoHashes from a video file: digests, the sampling of presentation time, per-frame PDQ that
survives re-encoding, and refusal of anything unsafe with ImageDecodeError alone."""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hashing_support import mutate, reference_pdq_rgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import ImageDecodeError
from rempart.hashing.video import (
    SUPPORTED_CONTAINERS,
    VideoHashes,
    VideoLimits,
    _luma,
    _Sampler,
    hash_video_bytes,
    hash_video_file,
)
from rempart.samples import encode_video, neutral_video, web_jpeg

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def _video(seed: int = 1, seconds: float = 5, **options: object) -> bytes:
    """Small test videos, made once per test session."""
    return neutral_video(seed, seconds, **options)  # type: ignore[arg-type]


def _distances(a: VideoHashes, b: VideoHashes) -> list[int]:
    assert [f.time_s for f in a.frames] == [f.time_s for f in b.frames]
    return [x.pdq.hash.distance(y.pdq.hash) for x, y in zip(a.frames, b.frames, strict=True)]


def _refused(data: bytes, match: str = "", **options: object) -> str:
    with pytest.raises(ImageDecodeError, match=match) as caught:
        hash_video_bytes(data, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message and "\n" not in message
    return message


# ------------------------------------------------------------------------- what is hashed


def test_digests_are_those_of_the_file_bytes() -> None:
    data = _video()
    hashes = hash_video_bytes(data)
    assert hashes.digest.sha256 == hashlib.sha256(data).hexdigest()
    assert hashes.digest.md5 == hashlib.md5(data).hexdigest()


def test_one_frame_is_sampled_per_second_from_zero() -> None:
    hashes = hash_video_bytes(_video(seconds=5, fps=10))
    assert [f.time_s for f in hashes.frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert hashes.duration_s == pytest.approx(5.0)
    assert hashes.fps == 1.0
    assert all(f.pdq.quality >= 80 for f in hashes.frames)


def test_sampling_rate_is_a_parameter() -> None:
    hashes = hash_video_bytes(_video(seconds=5, fps=10), fps=4)
    assert [f.time_s for f in hashes.frames] == [k / 4 for k in range(20)]


def test_samples_follow_time_not_frame_count_at_ntsc_rates() -> None:
    # 29.97 frames a second: frame 30 starts at 1.001 s, so second 1 still shows frame 29.
    hashes = hash_video_bytes(_video(seconds=4, fps=29.97))
    assert [f.time_s for f in hashes.frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert hashes.duration_s == pytest.approx(4.004, abs=0.001)


@pytest.mark.parametrize(
    ("codec", "container", "family"),
    [
        ("h264", "mp4", "mp4"),
        ("h264", "mov", "mp4"),
        ("hevc", "mp4", "mp4"),
        ("av1", "mp4", "mp4"),
        ("vp9", "webm", "matroska"),
        ("vp8", "webm", "matroska"),
        ("h264", "matroska", "matroska"),
        ("mpeg4", "avi", "avi"),
        ("h264", "mpegts", "mpegts"),
        ("h264", "flv", "flv"),
    ],
)
def test_common_web_formats_decode(codec: str, container: str, family: str) -> None:
    hashes = hash_video_bytes(_video(2, 3, width=160, height=96, codec=codec, container=container))
    assert (hashes.container, hashes.codec) == (family, codec)
    assert (hashes.width, hashes.height) == (160, 96)
    assert [f.time_s for f in hashes.frames] == [0.0, 1.0, 2.0]
    assert family in SUPPORTED_CONTAINERS


def test_file_and_bytes_give_the_same_hashes(tmp_path: Path) -> None:
    path = tmp_path / "clip.webm"
    path.write_bytes(_video(codec="vp9", container="webm"))
    assert hash_video_file(path) == hash_video_bytes(path.read_bytes())


def test_frame_hashes_agree_with_the_pdq_reference_on_the_rgb_frame() -> None:
    """vPDQ hashes each RGB frame; reading the Y plane must land within a few bits of it."""
    data = _video(seconds=3)
    hashes = hash_video_bytes(data)
    with av.open(io.BytesIO(data)) as container:
        rgb = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)][::10]
    for frame, picture in zip(hashes.frames, rgb, strict=True):
        reference, quality = reference_pdq_rgb(picture)
        assert frame.pdq.hash.distance(reference) <= 6
        assert abs(frame.pdq.quality - quality) <= 10


def test_limited_range_luma_is_stretched_like_ffmpeg_grey() -> None:
    with av.open(io.BytesIO(_video(seconds=1))) as container:
        frame = next(container.decode(video=0))
    assert frame.format.name == "yuv420p"
    ours = np.asarray(_luma(frame), dtype=np.float32)
    ffmpeg = frame.to_ndarray(format="gray").astype(np.float32)
    assert np.abs(ours - ffmpeg).max() <= 1.5


# ----------------------------------------------------------------- robust across re-encoding


def test_reencoding_in_another_codec_and_container_keeps_frames_close() -> None:
    h264 = hash_video_bytes(_video(3, 8))
    vp9 = hash_video_bytes(_video(3, 8, codec="vp9", container="webm"))
    distances = _distances(h264, vp9)
    assert max(distances) <= 16, distances


def test_another_resolution_and_frame_rate_keeps_frames_close() -> None:
    small = hash_video_bytes(_video(3, 8))
    large = hash_video_bytes(_video(3, 8, fps=25, width=480, height=360, container="matroska"))
    distances = _distances(small, large)
    assert max(distances) <= 24, distances
    assert np.median(distances) <= 14, distances


def test_different_videos_hash_far_apart() -> None:
    a, b = hash_video_bytes(_video(3, 8)), hash_video_bytes(_video(4, 8))
    assert min(_distances(a, b)) > 31


def _frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _encode(
    frames: list[np.ndarray],
    encoder: str,
    pix_fmt: str,
    container: str = "matroska",
    rotation: int = 0,
) -> bytes:
    """Frames encoded with options encode_video does not offer (pixel format, rotation)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(encoder, 10)
        assert isinstance(stream, av.VideoStream)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        if rotation:
            stream.set_display_rotation(rotation)
        for k, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            frame.pts = k
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def test_a_phone_video_stored_sideways_is_hashed_upright() -> None:
    upright = _video(5, 3)
    sideways = [np.rot90(f, -1) for f in _frames(upright)]  # recorded turned clockwise
    turned = hash_video_bytes(_encode(sideways, "libx264", "yuv420p", "mp4", rotation=90))
    assert (turned.width, turned.height) == (320, 240)
    assert max(_distances(hash_video_bytes(upright), turned)) <= 12


@pytest.mark.parametrize(
    ("encoder", "pix_fmt", "codec"),
    [
        ("libx265", "yuv420p10le", "hevc"),
        ("mjpeg", "yuvj420p", "mjpeg"),
        ("libx264", "yuv444p", "h264"),
    ],
)
def test_other_pixel_formats_hash_like_the_common_one(
    encoder: str, pix_fmt: str, codec: str
) -> None:
    common = _video(5, 3)
    other = hash_video_bytes(_encode(_frames(common), encoder, pix_fmt))
    assert other.codec == codec
    assert max(_distances(hash_video_bytes(common), other)) <= 8


def test_flat_frames_have_no_quality() -> None:
    black = encode_video([np.zeros((120, 160, 3), np.uint8)] * 30)
    hashes = hash_video_bytes(black)
    assert len(hashes.frames) == 3
    assert all(f.pdq.quality == 0 for f in hashes.frames)


def test_sample_videos_are_deterministic() -> None:
    assert neutral_video(9, 2) == neutral_video(9, 2)
    assert neutral_video(9, 2, codec="vp9", container="webm") == neutral_video(
        9, 2, codec="vp9", container="webm"
    )


def test_hashing_from_several_threads_gives_the_same_result() -> None:
    data = _video(6, 4, codec="vp9", container="webm")
    expected = hash_video_bytes(data)
    barrier = threading.Barrier(4)

    def hash_together(_: int) -> VideoHashes:
        barrier.wait()
        return hash_video_bytes(data)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(hash_together, range(4))) == [expected] * 4


# ---------------------------------------------------------------------------- the sampler


def _instants(starts: list[Fraction], end: Fraction, interval: Fraction = Fraction(1)) -> list:
    """For each frame offered, the instants it was on screen for."""
    sampler = _Sampler(interval, max_instants=1000)
    shown: list[list[Fraction]] = []
    for start in starts:
        covered = sampler.offer(start)
        if covered is None:
            continue
        if shown:
            shown[-1].extend(covered)
        shown.append([])
    shown[-1].extend(sampler.end(end))
    return shown


def test_sampler_picks_the_frame_on_screen_at_each_instant() -> None:
    starts = [Fraction(k, 4) + 7 for k in range(10)]  # 4 fps, first frame at 7 s
    shown = _instants(starts, Fraction(10, 4))
    assert shown[0] == [0] and shown[4] == [1] and shown[8] == [2]
    assert sum(len(s) for s in shown) == 3  # instants 0, 1, 2 of a 2.5 s video


def test_sampler_repeats_a_held_frame_and_drops_backward_timestamps() -> None:
    starts = [Fraction(0), Fraction(3, 2), Fraction(1), Fraction(7, 2)]
    shown = _instants(starts, Fraction(4))
    assert shown == [[0, 1], [2, 3], []]  # the 1 s frame came late and was dropped


def test_sampler_tolerates_millisecond_rounding() -> None:
    # Matroska stamps times in milliseconds: the 30 fps frame due at 2/3 s says 0.667 s. It
    # must still be the one on screen at 2/3 s, as in an MP4 of the same frames.
    shown = _instants([Fraction(0), Fraction(667, 1000)], Fraction(1), Fraction(1, 3))
    assert shown == [[0, Fraction(1, 3)], [Fraction(2, 3)]]


def test_a_single_timeless_frame_still_has_instant_zero() -> None:
    assert _instants([Fraction(5)], Fraction(0)) == [[0]]


def test_sampler_refuses_a_timestamp_jump_beyond_the_sample_limit() -> None:
    sampler = _Sampler(Fraction(1), max_instants=100)
    sampler.offer(Fraction(0))
    with pytest.raises(ImageDecodeError, match="more than 100 sampled frames"):
        sampler.offer(Fraction(10**12))


# ------------------------------------------------------------------------------ refusals


def _audio_only(container: str, codec: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, 48_000)
        for k in range(25):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 960), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 48_000, k * 960
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def test_empty_input_is_refused() -> None:
    _refused(b"", "empty")


@pytest.mark.parametrize(
    "data",
    [b"\x00" * 1000, bytes(range(256)) * 20, b"RIFF\x00\x00\x00\x00AVI LIST", web_jpeg(1, 64, 48)],
    ids=["zeros", "garbage", "avi-signature", "jpeg"],
)
def test_data_that_is_no_video_is_refused(data: bytes) -> None:
    _refused(data, "not a readable video")


@pytest.mark.parametrize(
    ("container", "codec"), [("mp4", "aac"), ("webm", "libopus")], ids=["m4a", "webm"]
)
def test_audio_only_files_are_refused(container: str, codec: str) -> None:
    _refused(_audio_only(container, codec), "no video stream")


def test_unlisted_containers_are_never_opened() -> None:
    _refused(_audio_only("mp3", "libmp3lame"), "not a readable video")
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    _refused(playlist, "not a readable video")


def test_a_video_with_sound_hashes_its_pictures_only() -> None:
    silent = hash_video_bytes(_video(7, 3))
    with_sound = hash_video_bytes(_video(7, 3, audio=True))
    assert with_sound.frames == silent.frames


@pytest.mark.parametrize(
    ("codec", "container"),
    [("h264", "mp4"), ("vp9", "webm"), ("h264", "matroska"), ("mpeg4", "avi")],
)
@pytest.mark.parametrize("kept", [0.02, 0.5, 0.7])
def test_truncated_files_are_refused(codec: str, container: str, kept: float) -> None:
    data = _video(8, 6, codec=codec, container=container)
    _refused(data[: int(len(data) * kept)], "truncated|damaged")


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        (VideoLimits(max_file_bytes=10_000), "above the 10,000 bytes limit"),
        (VideoLimits(max_side=300), "320x240, above the limit of 300 pixels a side"),
        (VideoLimits(max_pixels=320 * 200), "above the limit of 64,000 pixels a frame"),
        (VideoLimits(max_duration_s=4), "declares 5.0 s, above the 4.0 s limit"),
        (VideoLimits(max_samples=4), "gives 5 frames, above the limit of 4"),
    ],
)
def test_oversized_videos_are_refused(limits: VideoLimits, match: str) -> None:
    _refused(_video(), match, limits=limits)


def test_oversized_files_are_refused_before_being_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    path.write_bytes(_video())
    with pytest.raises(ImageDecodeError, match="above the 1,000 bytes limit"):
        hash_video_file(path, limits=VideoLimits(max_file_bytes=1000))


def test_decoding_stops_at_the_time_limit() -> None:
    ticks = iter(range(10**6))  # a clock that advances one second a reading
    with pytest.raises(ImageDecodeError, match="longer than the 20 s limit"):
        hash_video_bytes(_video(), limits=VideoLimits(max_decode_s=20), clock=lambda: next(ticks))


def test_unreadable_paths_are_decode_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match=r"cannot read missing\.mp4"):
        hash_video_file(tmp_path / "missing.mp4")
    with pytest.raises(ImageDecodeError, match="cannot read"):
        hash_video_file(tmp_path)


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf"), 61])
def test_a_bad_sampling_rate_is_the_callers_error(fps: float) -> None:
    with pytest.raises(ValueError, match="fps"):
        hash_video_bytes(_video(), fps=fps)


# -------------------------------------------------------------------------------- fuzzing

_SEEDS = (("h264", "mp4"), ("vp9", "webm"), ("mpeg4", "avi"), ("h264", "mpegts"), ("h264", "flv"))


@functools.cache
def _seed_file(index: int) -> bytes:
    codec, container = _SEEDS[index]
    return neutral_video(index, 2, fps=5, width=64, height=48, codec=codec, container=container)


def _hash_or_refuse(data: bytes) -> None:
    try:
        result = hash_video_bytes(data)
    except ImageDecodeError as error:
        message = str(error)
    else:
        assert isinstance(result, VideoHashes)
        return
    assert message and "\n" not in message


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    return mutate(draw, _seed_file(draw(st.integers(0, len(_SEEDS) - 1))))


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_only_ever_raise_the_decode_error(data: bytes) -> None:
    _hash_or_refuse(data)


@settings(FUZZ, max_examples=300)
@given(_mutated())
def test_mutated_videos_only_ever_raise_the_decode_error(data: bytes) -> None:
    _hash_or_refuse(data)
