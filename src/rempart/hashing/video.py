"""Everything Rempart keeps about one video file: its exact digests and, vPDQ-style, the PDQ hash
of the frame on screen at each sampled instant of presentation time (1 a second by default).

Owns safe decoding of untrusted video (container and codec allowlists, limits on size, duration,
resolution, samples and decode time) and the sampling. Must not keep frames, write anything,
compare videos, or let a bad file escape as anything but ImageDecodeError.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import numpy.typing as npt

from rempart.errors import ImageDecodeError
from rempart.hashing.pdq import pdq_from_luma
from rempart.hashing.signals import Digest, PdqSignal

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_LIMITS",
    "OPEN_OPTIONS",
    "SUPPORTED_CODECS",
    "SUPPORTED_CONTAINERS",
    "FrameHash",
    "VideoHashes",
    "VideoLimits",
    "hash_video_bytes",
    "hash_video_file",
]

StrPath = str | os.PathLike[str]
Clock = Callable[[], float]
Luma = npt.NDArray[np.uint8] | npt.NDArray[np.float32]

DEFAULT_FPS = 1.0  # vPDQ's default: one sampled frame per second of presentation time
_MAX_FPS = 60.0

# FFmpeg demuxer name -> the name VideoHashes reports. FFmpeg cannot tell MP4 from MOV (one
# demuxer) nor WebM from Matroska; the reported name is the family. The allowlist is handed
# to FFmpeg itself (format_whitelist), so other demuxers never read the bytes: some (HLS,
# concat, image sequences) would open further files or URLs named inside the data.
_CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "matroska",
    "avi": "avi",
    "mpegts": "mpegts",
    "flv": "flv",
}
SUPPORTED_CONTAINERS = tuple(_CONTAINERS.values())
_CONTAINER_HELP = "MP4/MOV, Matroska/WebM, AVI, MPEG-TS or FLV"
# Video codecs (FFmpeg's canonical names) that the web serves; "flv1" is Sorenson H.263.
SUPPORTED_CODECS = (
    "h264",
    "hevc",
    "vp8",
    "vp9",
    "av1",
    "mpeg4",
    "mpeg2video",
    "mpeg1video",
    "h263",
    "flv1",
    "mjpeg",
)
# Decoders FFmpeg may open while probing the streams (audio and subtitle decoders are left out:
# their parameters are not needed, and their code then never sees the bytes).
_PROBE_DECODERS = "h264,hevc,vp8,vp9,libdav1d,av1,mpeg4,mpeg2video,mpeg1video,h263,flv,mjpeg"
# FFmpeg's options for opening a video from bytes: listed containers and probe decoders only,
# no protocol (nothing else is opened). Also used to read a video's tags (rempart.provenance).
OPEN_OPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "format_whitelist": ",".join(_CONTAINERS),
        "codec_whitelist": _PROBE_DECODERS,
        "protocol_whitelist": "none",  # the bytes come from us; nothing else is opened
        "max_streams": "32",
    }
)
# Containers that state their duration in a header, against which an early end of the frames
# shows a truncated file (MPEG-TS and FLV durations are estimates or optional metadata).
_STATED_DURATION = frozenset({"mp4", "matroska", "avi"})
# A file is truncated when its frames stop this much before the stated duration, so that a
# stream ending a few frames early (common, harmless) is not refused.
_TRUNCATION_SLACK_S = 1.0
_TRUNCATION_SLACK_SHARE = 0.1

# A frame that starts within this much after a sampled instant counts as on screen at it, so
# that containers rounding timestamps to the millisecond (Matroska) sample the same frames.
_EPSILON = Fraction(1, 1000)
_FALLBACK_RATE = Fraction(25)  # frames per second, when neither frame nor stream says

# Pixel formats whose first plane is 8-bit luma; others are converted by FFmpeg.
_LUMA_FIRST = frozenset(
    {
        "yuv420p",
        "yuv422p",
        "yuv444p",
        "yuv440p",
        "yuv411p",
        "yuv410p",
        "yuva420p",
        "nv12",
        "nv21",
        "nv16",
        "nv24",
        "nv42",
        "yuvj420p",
        "yuvj422p",
        "yuvj444p",
        "yuvj440p",
        "yuvj411p",
        "gray",
    }
)
_FULL_RANGE_FORMATS = frozenset({"yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p", "yuvj411p"})
_JPEG_RANGE = 2  # AVCOL_RANGE_JPEG: luma uses 0-255 rather than 16-235


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """What a video may cost before it is refused. The defaults fit web videos up to 8K and
    3 hours (3 hours of 1080p decode in 10-20 minutes on 2 cores, hence the decode time);
    a service may lower them for anonymous uploads."""

    max_file_bytes: int = 2 * 1024**3
    max_duration_s: float = 3 * 3600.0
    max_side: int = 8192
    max_pixels: int = 8192 * 4320
    max_samples: int = 20_000
    max_decode_s: float = 1800.0


DEFAULT_LIMITS = VideoLimits()


@dataclass(frozen=True, slots=True)
class FrameHash:
    """The PDQ hash of the frame on screen at `time_s` seconds (a multiple of 1/fps)."""

    time_s: float
    pdq: PdqSignal


@dataclass(frozen=True, slots=True)
class VideoHashes:
    """The signals of one video file.

    `frames` holds one hash per sampled instant k / `fps` seconds, counted from the first
    frame, for every instant before the video's end (`duration_s`, the end of its last frame).
    `width` and `height` are the first frame's displayed size (after the rotation a phone
    records in the container); `container` is a family from SUPPORTED_CONTAINERS and `codec`
    FFmpeg's name for the video codec.
    """

    digest: Digest
    duration_s: float
    width: int
    height: int
    container: str
    codec: str
    fps: float
    frames: tuple[FrameHash, ...]


def hash_video_bytes(
    data: bytes,
    *,
    fps: float = DEFAULT_FPS,
    limits: VideoLimits = DEFAULT_LIMITS,
    clock: Clock = time.monotonic,
) -> VideoHashes:
    """Hash a video file's bytes. Raises ImageDecodeError if they are not a safe, whole video.

    `fps` is how many instants a second are sampled (vPDQ uses 1). `clock` measures the
    decode time against `limits.max_decode_s`. Safe to call from several threads at once.
    """
    _check_fps(fps)
    if not data:
        raise ImageDecodeError("empty file (0 bytes)")
    if len(data) > limits.max_file_bytes:
        raise _too_big(len(data), limits)
    decoded = _decode(io.BytesIO(data), fps, limits, clock)
    return decoded.hashes(_digest(data), fps)


def hash_video_file(
    path: StrPath,
    *,
    fps: float = DEFAULT_FPS,
    limits: VideoLimits = DEFAULT_LIMITS,
    clock: Clock = time.monotonic,
) -> VideoHashes:
    """Hash one video file, streaming it from disk (never held in memory whole).

    A file that cannot be read is an ImageDecodeError too.
    """
    _check_fps(fps)
    path = Path(path)
    try:
        with path.open("rb") as handle:
            digest, size = _digest_stream(handle, limits)
            if size == 0:
                raise ImageDecodeError("{name} is empty (0 bytes)", name=path.name)
            handle.seek(0)
            decoded = _decode(handle, fps, limits, clock)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ImageDecodeError(
            "cannot read {name}: {reason}", name=path.name, reason=reason
        ) from None
    return decoded.hashes(digest, fps)


def _check_fps(fps: float) -> None:
    """A bad rate is the caller's mistake, not the file's: ValueError."""
    if not (isinstance(fps, int | float) and 0 < fps <= _MAX_FPS and math.isfinite(fps)):
        raise ValueError(f"fps must be a number in (0, {_MAX_FPS:g}], got {fps!r}")


# ----------------------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class _Decoded:
    """What decoding found, before the digest is attached."""

    duration_s: float
    width: int
    height: int
    container: str
    codec: str
    frames: tuple[FrameHash, ...]

    def hashes(self, digest: Digest, fps: float) -> VideoHashes:
        return VideoHashes(
            digest=digest,
            duration_s=self.duration_s,
            width=self.width,
            height=self.height,
            container=self.container,
            codec=self.codec,
            fps=float(fps),
            frames=self.frames,
        )


def _decode(source: BinaryIO, fps: float, limits: VideoLimits, clock: Clock) -> _Decoded:
    """Open, check and sample the video in `source`, translating every failure."""
    import av  # heavy (FFmpeg): loaded on first use

    deadline = clock() + limits.max_decode_s
    try:
        container = av.open(source, mode="r", options=dict(OPEN_OPTIONS))
    except Exception as exc:  # FFmpeg refuses unknown, unlisted and garbage data alike
        raise _open_failure(exc) from None
    with container:
        try:
            return _read(container, Fraction(fps), limits, clock, deadline)
        except ImageDecodeError:
            raise
        except Exception as exc:  # decoders raise FFmpegError, ValueError, MemoryError...
            raise _decode_failure(exc) from None


def _read(
    container: InputContainer, fps: Fraction, limits: VideoLimits, clock: Clock, deadline: float
) -> _Decoded:
    family = _CONTAINERS.get(container.format.name)
    if family is None:  # FFmpeg enforces the allowlist; this keeps the promise if it did not
        raise ImageDecodeError("unsupported container {name!r}", name=container.format.name)
    stream = _video_stream(container)
    codec = _codec_name(stream)
    _check_resolution(stream.codec_context.width, stream.codec_context.height, limits)
    stated = _stated_duration(container, stream)
    if stated is not None:
        _check_duration(stated, limits, "declares")
        _check_samples(stated, fps, limits)
    stream.thread_type = "AUTO"
    run = _Run(fps, limits, clock, deadline, _default_frame_duration(stream))
    for frame in _frames(container, stream, run):
        run.add(frame)
    frames, duration = run.finish()
    if family in _STATED_DURATION and stated is not None:
        _check_whole(duration, stated)
    width, height = run.size or (stream.codec_context.width, stream.codec_context.height)
    return _Decoded(float(duration), width, height, family, codec, frames)


def _video_stream(container: InputContainer) -> VideoStream:
    """The first real video stream; a cover picture in an audio file does not count."""
    for stream in container.streams.video:
        if not stream.disposition & _ATTACHED_PIC:
            return stream
    raise ImageDecodeError("no video stream in this file (audio only?)")


_ATTACHED_PIC = 0x400  # AV_DISPOSITION_ATTACHED_PIC: album art shipped as a one-frame stream


def _codec_name(stream: VideoStream) -> str:
    """FFmpeg's name for the stream's codec, if it is on the allowlist."""
    context = stream.codec_context  # None when FFmpeg has no decoder for the codec at all
    if context is None:
        raise ImageDecodeError("unknown video codec")
    name = context.codec.canonical_name
    if name not in SUPPORTED_CODECS:
        raise ImageDecodeError("unsupported video codec {name!r}", name=name)
    return name


def _frames(container: InputContainer, stream: VideoStream, run: _Run) -> Iterator[VideoFrame]:
    """Decoded frames in presentation order, checking the clock between packets."""
    for packet in container.demux(stream):
        run.check_clock()
        yield from packet.decode()


def _stated_duration(container: InputContainer, stream: VideoStream) -> Fraction | None:
    """The longest duration the headers claim for the video: its own duration, its frame count
    at its frame rate (AVI recomputes the duration from what is present, but keeps the count),
    else the file's, if it holds no other stream (the file's may be a longer audio track's)."""
    claims = []
    if stream.duration is not None and stream.duration > 0 and stream.time_base is not None:
        claims.append(Fraction(stream.duration) * Fraction(stream.time_base))
    if stream.frames > 0:
        claims.append(stream.frames * _default_frame_duration(stream))
    whole = container.duration or 0  # microseconds
    if not claims and whole > 0 and len(container.streams) == 1:
        claims.append(Fraction(whole, 1_000_000))
    return max(claims, default=None)


def _default_frame_duration(stream: VideoStream) -> Fraction:
    """How long a frame lasts when the frame does not say: from the stream's frame rate."""
    rate = stream.average_rate or stream.guessed_rate
    if rate is not None and 0 < rate <= 1000:
        return 1 / Fraction(rate)
    return 1 / _FALLBACK_RATE


# ----------------------------------------------------------------------------- sampling


class _Sampler:
    """Which frame is on screen at each instant k * interval, from frame start times alone.

    Frames are offered in presentation order; the frame on screen at instant t is the last
    one starting at or before t (+ _EPSILON). Pure: it never sees pixels.
    """

    __slots__ = ("_interval", "_max_instants", "_next", "_origin", "_start")

    def __init__(self, interval: Fraction, max_instants: int) -> None:
        self._interval = interval
        self._max_instants = max_instants
        self._next = 0  # index k of the next instant to assign
        self._origin: Fraction | None = None
        self._start = Fraction(0)  # start of the latest frame, relative to the first

    @property
    def started(self) -> bool:
        return self._origin is not None

    @property
    def latest_start(self) -> Fraction:
        return self._start

    @property
    def origin(self) -> Fraction:
        return Fraction(0) if self._origin is None else self._origin

    def relative(self, time: Fraction) -> Fraction:
        """`time` counted from the first frame's start (the first frame's own time is 0)."""
        return Fraction(0) if self._origin is None else time - self._origin

    def offer(self, time: Fraction) -> tuple[Fraction, ...] | None:
        """A frame starts at `time`: returns the instants the previous frame covered, or None
        when this frame does not move time forward (a duplicate or out-of-order timestamp,
        which is dropped)."""
        if self._origin is None:
            self._origin = time
            return ()
        start = time - self._origin
        if start <= self._start:
            return None
        instants = self._until(start)
        self._start = start
        return instants

    def end(self, end: Fraction) -> tuple[Fraction, ...]:
        """The stream ends at relative time `end`: the instants the last frame covers. A video
        of a single, timeless frame still has its instant 0."""
        if self._origin is None:
            return ()
        instants = self._until(max(end, self._start))
        if self._next == 0:
            self._next = 1
            return (Fraction(0),)
        return instants

    def _until(self, start: Fraction) -> tuple[Fraction, ...]:
        """Instants before `start` not yet assigned: k * interval + _EPSILON < start."""
        if self._next * self._interval + _EPSILON >= start:
            return ()
        last = math.ceil((start - _EPSILON) / self._interval) - 1  # largest k with k*i+eps < s
        if last + 1 > self._max_instants:
            raise ImageDecodeError(
                "the video gives more than {limit} sampled frames, the limit",
                limit=self._max_instants,
            )
        instants = tuple(k * self._interval for k in range(self._next, last + 1))
        self._next = last + 1
        return instants


class _Run:
    """One decode: the sampler, the frame held until the next one starts, the limits."""

    __slots__ = ("_clock", "_deadline", "_held", "_limits", "_out", "_sampler", "_step", "size")

    def __init__(
        self,
        fps: Fraction,
        limits: VideoLimits,
        clock: Clock,
        deadline: float,
        step: Fraction,
    ) -> None:
        self._sampler = _Sampler(1 / fps, limits.max_samples)
        self._limits = limits
        self._clock = clock
        self._deadline = deadline
        self._step = step  # duration of a frame that does not state its own
        self._held: tuple[VideoFrame, Fraction] | None = None  # frame on screen, its duration
        self._out: list[FrameHash] = []
        self.size: tuple[int, int] | None = None  # displayed size of the first frame

    def check_clock(self) -> None:
        if self._clock() > self._deadline:
            raise ImageDecodeError(
                "decoding took longer than the {limit} s limit",
                limit=f"{self._limits.max_decode_s:g}",
            )

    def add(self, frame: VideoFrame) -> None:
        """Take the next decoded frame; hash the held one for the instants it covered."""
        self.check_clock()
        _check_resolution(frame.width, frame.height, self._limits)
        start = self._start_of(frame)
        _check_duration(self._sampler.relative(start), self._limits, "runs for")
        instants = self._sampler.offer(start)
        if instants is None:
            return
        self._emit(instants)
        self._held = (frame, _duration_of(frame) or self._step)
        if self.size is None:
            self.size = _displayed_size(frame)

    def finish(self) -> tuple[tuple[FrameHash, ...], Fraction]:
        """Hash the last frame for its instants; return the hashes and the video's length."""
        if self._held is None:
            raise ImageDecodeError("no decodable frame in the video stream (damaged or truncated?)")
        end = self._sampler.latest_start + self._held[1]
        self._emit(self._sampler.end(end))
        return tuple(self._out), end

    def _start_of(self, frame: VideoFrame) -> Fraction:
        """Presentation time in seconds; a frame without one follows the previous frame."""
        if frame.pts is not None and frame.time_base is not None:
            return Fraction(frame.pts) * Fraction(frame.time_base)
        if self._held is None:
            return Fraction(0)
        return self._sampler.origin + self._sampler.latest_start + self._held[1]

    def _emit(self, instants: tuple[Fraction, ...]) -> None:
        if not instants or self._held is None:
            return
        signal = pdq_from_luma(_luma(self._held[0]))  # one hash, however many instants
        self._out.extend(FrameHash(float(t), signal) for t in instants)


def _duration_of(frame: VideoFrame) -> Fraction | None:
    duration = frame.duration
    if duration and duration > 0 and frame.time_base is not None:
        return Fraction(duration) * Fraction(frame.time_base)
    return None


# -------------------------------------------------------------------------------- pixels


def _luma(frame: VideoFrame) -> Luma:
    """The frame's luma on a 0-255 scale, as displayed (rotation applied).

    Planar YUV is read straight from its Y plane; limited-range ("TV", 16-235) luma is
    stretched to 0-255. The stretch is affine, so it leaves the PDQ bits as they were and only
    brings the quality figure in line with a hash of the RGB frame. Other pixel formats
    (10-bit, RGB, palette) are converted to grey by FFmpeg.
    """
    name = frame.format.name
    luma: Luma
    if name in _LUMA_FIRST:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * frame.height)
        y = rows.reshape(frame.height, plane.line_size)[:, : frame.width]
        full = name in _FULL_RANGE_FORMATS or name == "gray" or frame.color_range == _JPEG_RANGE
        luma = y if full else (y.astype(np.float32) - 16.0) * np.float32(255.0 / 219.0)
    else:
        luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
    turns = _quarter_turns(frame)
    return np.rot90(luma, turns) if turns else luma


def _quarter_turns(frame: VideoFrame) -> int:
    """Counter-clockwise quarter turns that show the frame upright (phones record sideways
    and store the rotation in the container)."""
    try:
        degrees = float(frame.rotation)
    except Exception:  # a malformed display matrix must not cost an otherwise good video
        return 0
    return round(degrees / 90) % 4 if math.isfinite(degrees) else 0


def _displayed_size(frame: VideoFrame) -> tuple[int, int]:
    if _quarter_turns(frame) % 2:
        return frame.height, frame.width
    return frame.width, frame.height


# -------------------------------------------------------------------------------- limits


def _check_resolution(width: int, height: int, limits: VideoLimits) -> None:
    """Refuse frames beyond the limits; 0 (not yet known) passes."""
    if width > limits.max_side or height > limits.max_side:
        raise ImageDecodeError(
            "video is {width}x{height}, above the limit of {limit} pixels a side",
            width=width,
            height=height,
            limit=limits.max_side,
        )
    if width * height > limits.max_pixels:
        raise ImageDecodeError(
            "video is {width}x{height}, above the limit of {limit} pixels a frame",
            width=width,
            height=height,
            limit=f"{limits.max_pixels:,}",
        )


def _check_duration(seconds: Fraction, limits: VideoLimits, says: str) -> None:
    """Refuse a video longer than the limit ("video declares 4:00:00, above...")."""
    if seconds <= limits.max_duration_s:
        return
    duration, limit = _hms(seconds), _hms(limits.max_duration_s)
    if says == "declares":
        raise ImageDecodeError(
            "video declares {duration}, above the {limit} limit", duration=duration, limit=limit
        )
    raise ImageDecodeError(
        "video runs for {duration}, above the {limit} limit", duration=duration, limit=limit
    )


def _check_samples(seconds: Fraction, fps: Fraction, limits: VideoLimits) -> None:
    """Refuse up front a video that would give more samples than allowed."""
    count = math.ceil(seconds * fps)
    if count > limits.max_samples:
        raise ImageDecodeError(
            "video declares {duration}: sampling {fps} frames/s gives {count} frames, above "
            "the limit of {limit}",
            duration=_hms(seconds),
            fps=f"{float(fps):g}",
            count=count,
            limit=limits.max_samples,
        )


def _check_whole(decoded: Fraction, stated: Fraction) -> None:
    """Refuse a file whose frames stop well before the duration its header states."""
    slack = max(Fraction(_TRUNCATION_SLACK_S), stated * Fraction(_TRUNCATION_SLACK_SHARE))
    if decoded + slack < stated:
        raise ImageDecodeError(
            "truncated video: frames stop at {decoded} s of the {stated} s the file declares",
            decoded=f"{float(decoded):.1f}",
            stated=f"{float(stated):.1f}",
        )


def _hms(seconds: float | Fraction) -> str:
    total = int(seconds)
    if total < 60:
        return f"{float(seconds):.1f} s"
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _too_big(size: int, limits: VideoLimits) -> ImageDecodeError:
    return ImageDecodeError(
        "file is {size}, above the {limit} limit",
        size=_bytes(size),
        limit=_bytes(limits.max_file_bytes),
    )


def _bytes(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size:,} bytes"


# -------------------------------------------------------------------------------- digests

_CHUNK = 1 << 20


def _digest(data: bytes) -> Digest:
    return Digest(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )


def _digest_stream(handle: BinaryIO, limits: VideoLimits) -> tuple[Digest, int]:
    """Digests of a file read in chunks, refused as soon as it passes the size limit."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    while chunk := handle.read(_CHUNK):
        size += len(chunk)
        if size > limits.max_file_bytes:
            raise _too_big(size, limits)
        sha256.update(chunk)
        md5.update(chunk)
    return Digest(sha256=sha256.hexdigest(), md5=md5.hexdigest()), size


# --------------------------------------------------------------------------- error reasons

_OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")
_FFMPEG_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")
_FFMPEG_CALL = re.compile(r"[:;]\s*'\w+\(\)'$")  # PyAV names the failing FFmpeg call


def _open_failure(exc: BaseException) -> ImageDecodeError:
    """FFmpeg gives no useful reason when no allowed demuxer recognises the data, and an MP4
    cut short usually lacks its index (written last), so it looks like any unknown data."""
    if isinstance(exc, MemoryError):
        return ImageDecodeError("not enough memory to open this video")
    return ImageDecodeError(
        "not a readable video: unknown format, or a damaged or truncated file "
        "(supported: {formats})",
        formats=_CONTAINER_HELP,
    )


def _decode_failure(exc: BaseException) -> ImageDecodeError:
    """One line a person can act on, from whatever the demuxer or decoder raised."""
    if isinstance(exc, MemoryError):
        return ImageDecodeError("not enough memory to decode this video")
    text = _reason(exc)
    if isinstance(exc, EOFError) or "partial file" in text or "end of file" in text.lower():
        return ImageDecodeError("truncated video (the file ends before the video does)")
    return ImageDecodeError("corrupt or truncated video data: {reason}", reason=text)


def _reason(exc: BaseException) -> str:
    lines = _OBJECT_REPR.sub("data", str(exc)).strip().splitlines()
    text = _FFMPEG_CALL.sub("", _FFMPEG_PREFIX.sub("", lines[0])).strip()[:160] if lines else ""
    return text or type(exc).__name__
