"""The hash file a victim's offline page saves (docs/hash-file.md): parse, check, canonicalise.

Owns the schema (version 3; versions 1 and 2, without local or window features, still
read), its
integrity digest and the withdrawal-code digest. Pure:
bytes in, values out; must not decrypt (sealing.py does), touch the store or read files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rempart.errors import HashListError, InputError, InvalidHash
from rempart.hashing.signals import PdqHash

if TYPE_CHECKING:
    from rempart.hashing.features import LocalFeatures
    from rempart.hashing.image import ImageHashes
    from rempart.hashing.video import VideoHashes

__all__ = [
    "FORMAT",
    "MAX_FEATURE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_ITEMS",
    "READ_VERSIONS",
    "SEALED_FORMAT",
    "SEALED_VERSION",
    "VERSION",
    "WITHDRAWAL_FORMAT",
    "WITHDRAWAL_VERSION",
    "Extra",
    "HashFile",
    "Statements",
    "SubmittedItem",
    "canonical_json",
    "document_format",
    "integrity_digest",
    "new_withdrawal_code",
    "normalise_code",
    "parse_hash_file",
    "parse_withdrawal_file",
    "withdrawal_digest",
    "write_hash_file",
]

FORMAT = "rempart-hash-file"
SEALED_FORMAT = "rempart-hash-file-sealed"
WITHDRAWAL_FORMAT = "rempart-withdrawal"
# Version 2 adds each picture's local features (`features`), version 3 its windows' features
# (`windows`, optional: see _window_features); version 1 and 2 files still read.
VERSION = 3
READ_VERSIONS = (1, 2, 3)
WITHDRAWAL_VERSION = 1
SEALED_VERSION = 1  # the envelope around a sealed hash file (sealing.py)
# A picture's local features (LocalFeatures.to_bytes): at most 500 keypoints and a 16 x 16
# grid of check points on a 512-pixel picture, under 30 KB; base64 in the file.
MAX_FEATURE_BYTES = 32 * 1024
# One window's features (features.WINDOW_LIMIT keypoints, no check points): under 8 KB.
_MAX_WINDOW_BYTES = 8 * 1024
MAX_ITEMS = 10_000
# The largest hash file read: MAX_ITEMS pictures at ~100 KB each (whole and window features,
# base64) fit; a sealed file's envelope adds a third. Larger is refused before it is read.
MAX_FILE_BYTES = 1536 * 1024 * 1024
# per item: the page registers up to 81 (9 grid cells, 3 crops, 65 smoothed, 4 coarse grids)
MAX_EXTRAS = 200
MAX_LABEL = 200
_HEX = {32: re.compile(r"[0-9a-f]{32}"), 64: re.compile(r"[0-9a-f]{64}")}
# Extra kinds a page may register (rempart.hashing.windows.WindowKind values).
# Files made before the page registered coarse grids ("mosaic") have none: they still import.
_EXTRA_KINDS = frozenset({"grid", "crop", "crop_smooth", "mosaic"})
_TOP_KEYS = frozenset(
    {
        "format",
        "version",
        "submission",
        "created",
        "made_by",
        "statements",
        "label",
        "withdrawal",
        "items",
        "integrity",
    }
)
_ITEM_KEYS = frozenset(
    {"media", "pdq", "quality", "md5", "sha256", "width", "height", "partner", "extras"}
)
_ITEM_KEYS_V2 = _ITEM_KEYS | {"features"}
_ITEM_KEYS_V3 = _ITEM_KEYS_V2 | {"windows"}
_VIDEO_KEYS = frozenset({"media", "md5", "sha256", "width", "height", "duration_ms", "frames"})
MAX_FRAMES = 20_000  # one a second: over five hours (the CLI's decoding limit is three)
# Crockford's base32: what a person may type for each character of a withdrawal code.
_CODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_CHARS = re.compile(r"[0-9A-HJKMNP-TV-Z]{16,64}")


@dataclass(frozen=True, slots=True)
class Statements:
    """What she declared on the page."""

    depicted_or_acting_for: bool  # she is the person shown, or acts for her
    minor_in_images: bool  # the person shown was under 18 in these images


@dataclass(frozen=True, slots=True)
class Extra:
    """A registration extra: a grid cell, crop or smoothed crop, as `bank add` stores it."""

    kind: str
    label: str
    pdq: PdqHash
    quality: int


@dataclass(frozen=True, slots=True)
class SubmittedItem:
    """One picture as the page hashed it, or why it cannot be used (`error`)."""

    index: int  # 1-based position in the file
    media: str = "image"  # or "video": then `frames` and `duration_ms`, no PDQ of its own
    pdq: PdqHash | None = None
    quality: int = 0
    md5: str = ""
    sha256: str = ""
    width: int = 0
    height: int = 0
    partner: tuple[PdqHash, int] | None = None  # the raw-pixel hash and quality
    extras: tuple[Extra, ...] = ()
    duration_ms: int = 0
    frames: tuple[tuple[int, PdqHash, int], ...] = ()  # (at_ms, hash, quality), one a second
    # The local features `bank add` stores (ORB keypoints, descriptors, check points), when
    # the page computed them (version 2), with their window keypoints when it computed its
    # windows' features (version 3)
    features: LocalFeatures | None = None
    error: InputError | None = None


@dataclass(frozen=True, slots=True)
class HashFile:
    submission: str  # 32 hex digits the page drew at random: one per saved file
    created: str
    made_by: str
    statements: Statements
    withdrawal_sha256: str  # the digest of her withdrawal code, never the code
    items: tuple[SubmittedItem, ...]
    label: str = ""


def canonical_json(value: object) -> bytes:
    """The bytes the integrity digest covers: keys sorted, no spaces, ASCII (the page's
    canonicalisation writes the same; docs/hash-file.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def integrity_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form of everything but the `integrity` member."""
    body = {k: v for k, v in document.items() if k != "integrity"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def normalise_code(code: str) -> str:
    """A withdrawal code as typed (any case, dashes, spaces, O for 0) in its one spelling."""
    kept = "".join(c for c in code.upper() if c.isalnum()).translate(_CODE_ALIASES)
    if not _CODE_CHARS.fullmatch(kept):
        raise InputError("this is not a withdrawal code (16 to 64 letters and digits)")
    return kept


def withdrawal_digest(code: str) -> str:
    """What the hash file and the store keep of a withdrawal code: its SHA-256 (a code
    holds 100 random bits, beyond guessing)."""
    return hashlib.sha256(normalise_code(code).encode("ascii")).hexdigest()


def _load(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_FILE_BYTES:
        raise HashListError("the file is larger than {n} MB", n=MAX_FILE_BYTES // 1_000_000)
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise HashListError("not a hash file: it is not JSON text") from None
    if not isinstance(document, dict):
        raise HashListError("not a hash file: it is not a JSON object")
    return document


def document_format(data: bytes) -> tuple[str, dict[str, Any]]:
    """The `format` member of a JSON document (hash file, sealed file, withdrawal file)."""
    document = _load(data)
    kind = document.get("format")
    if kind not in (FORMAT, SEALED_FORMAT, WITHDRAWAL_FORMAT):
        raise HashListError(
            "not a Rempart hash file (its format is {format!r})", format=str(kind)[:40]
        )
    return str(kind), document


def parse_hash_file(data: bytes) -> HashFile:
    """Check a (decrypted) hash file: schema, version, integrity. A bad item does not fail the
    file: it comes back with its `error`. Raises HashListError for a file that is unusable."""
    kind, document = document_format(data)
    if kind != FORMAT:
        raise HashListError("this is not a plain hash file (it is a {format})", format=kind)
    version = document.get("version")
    if version not in READ_VERSIONS or isinstance(version, bool):
        raise HashListError(
            "hash file version {version} is not one this Rempart reads (it reads {ours})",
            version=str(version)[:20],
            ours=", ".join(str(v) for v in READ_VERSIONS),
        )
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise HashListError("unknown field in the hash file: {field}", field=unknown[0][:40])
    integrity = document.get("integrity")
    if not isinstance(integrity, dict) or integrity.get("sha256") != integrity_digest(document):
        raise HashListError(
            "the hash file is damaged or was changed after it was saved (integrity check failed)"
        )
    statements = document.get("statements")
    if not isinstance(statements, dict) or not all(
        isinstance(statements.get(k), bool) for k in ("depicted_or_acting_for", "minor_in_images")
    ):
        raise HashListError("the hash file lacks her statements")
    label = document.get("label", "")
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise HashListError("the label is not text of at most {n} characters", n=MAX_LABEL)
    withdrawal = document.get("withdrawal")
    if not isinstance(withdrawal, dict) or not _is_hex(withdrawal.get("sha256"), 64):
        raise HashListError("the hash file lacks its withdrawal digest")
    if not _is_hex(document.get("submission"), 32):
        raise HashListError("the hash file lacks its submission number")
    items = document.get("items")
    if not isinstance(items, list) or not items:
        raise HashListError("the hash file holds no pictures")
    if len(items) > MAX_ITEMS:
        raise HashListError("the hash file holds more than {n} pictures", n=MAX_ITEMS)
    return HashFile(
        submission=document["submission"],
        created=str(document.get("created", ""))[:40],
        made_by=str(document.get("made_by", ""))[:80],
        statements=Statements(
            depicted_or_acting_for=statements["depicted_or_acting_for"],
            minor_in_images=statements["minor_in_images"],
        ),
        withdrawal_sha256=withdrawal["sha256"],
        items=tuple(_item(i, raw, version) for i, raw in enumerate(items, 1)),
        label=label,
    )


def parse_withdrawal_file(data: bytes) -> tuple[str, str]:
    """The submission number and the withdrawal code's digest in a withdrawal file."""
    kind, document = document_format(data)
    if kind != WITHDRAWAL_FORMAT or document.get("version") != WITHDRAWAL_VERSION:
        raise HashListError("this is not a withdrawal file")
    submission, code = document.get("submission"), document.get("code")
    if not isinstance(submission, str) or not _is_hex(submission, 32) or not isinstance(code, str):
        raise HashListError("this withdrawal file lacks its submission number or its code")
    return submission, withdrawal_digest(code)


def _is_hex(value: object, length: int) -> bool:
    return isinstance(value, str) and _HEX[length].fullmatch(value) is not None


def _int(value: object, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _item(index: int, raw: object, version: int) -> SubmittedItem:
    try:
        return _checked_item(index, raw, version)
    except InputError as error:
        return SubmittedItem(index, error=error)


def _checked_item(index: int, raw: object, version: int) -> SubmittedItem:
    if not isinstance(raw, dict):
        raise InputError("not an object")
    if raw.get("media") == "video":
        return _checked_video(index, raw)
    keys = _ITEM_KEYS_V3 if version >= 3 else _ITEM_KEYS_V2 if version == 2 else _ITEM_KEYS
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise InputError("unknown field {field}", field=unknown[0][:40])
    if raw.get("media") != "image":
        raise InputError(
            "an item is a picture or a video (its media is {media!r})",
            media=str(raw.get("media"))[:20],
        )
    quality = _int(raw.get("quality"), 0, 100)
    if quality is None:
        raise InputError("its PDQ quality is not a number from 0 to 100")
    if not (_is_hex(raw.get("md5"), 32) and _is_hex(raw.get("sha256"), 64)):
        raise InputError("its MD5 or SHA-256 digest is missing or malformed")
    width, height = _int(raw.get("width"), 1, 1 << 20), _int(raw.get("height"), 1, 1 << 20)
    if width is None or height is None:
        raise InputError("its width or height is not a number of pixels")
    partner = raw.get("partner")
    extras = raw.get("extras", [])
    if not isinstance(extras, list) or len(extras) > MAX_EXTRAS:
        raise InputError("its extra hashes are not a list of at most {n}", n=MAX_EXTRAS)
    features = None if raw.get("features") is None else _features(raw["features"])
    if raw.get("windows") is not None:
        if features is None:
            raise InputError("its windows' features come without the picture's")
        features = _window_features(features, raw["windows"], width, height)
    return SubmittedItem(
        index=index,
        pdq=_pdq(raw.get("pdq")),
        quality=quality,
        md5=raw["md5"],
        sha256=raw["sha256"],
        width=width,
        height=height,
        partner=None if partner is None else _partner(partner),
        extras=tuple(_extra(e) for e in extras),
        features=features,
    )


def _checked_video(index: int, raw: dict[str, Any]) -> SubmittedItem:
    unknown = sorted(set(raw) - _VIDEO_KEYS)
    if unknown:
        raise InputError("unknown field {field}", field=unknown[0][:40])
    if not (_is_hex(raw.get("md5"), 32) and _is_hex(raw.get("sha256"), 64)):
        raise InputError("its MD5 or SHA-256 digest is missing or malformed")
    width, height = _int(raw.get("width"), 1, 1 << 20), _int(raw.get("height"), 1, 1 << 20)
    duration = _int(raw.get("duration_ms"), 0, 1 << 40)
    if width is None or height is None or duration is None:
        raise InputError("its width, height or duration is not a whole number")
    frames = raw.get("frames")
    if not isinstance(frames, list) or len(frames) > MAX_FRAMES:
        raise InputError("its frames are not a list of at most {n}", n=MAX_FRAMES)
    return SubmittedItem(
        index=index,
        media="video",
        md5=raw["md5"],
        sha256=raw["sha256"],
        width=width,
        height=height,
        duration_ms=duration,
        frames=tuple(_frame(f) for f in frames),
    )


def _frame(raw: object) -> tuple[int, PdqHash, int]:
    if not isinstance(raw, dict) or set(raw) != {"at_ms", "pdq", "quality"}:
        raise InputError("a frame hash is malformed")
    at, quality = _int(raw["at_ms"], 0, 1 << 40), _int(raw["quality"], 0, 100)
    if at is None or quality is None:
        raise InputError("a frame's time or quality is not a whole number in range")
    return at, _pdq(raw["pdq"]), quality


def _pdq(value: object) -> PdqHash:
    if not isinstance(value, str):
        raise InputError("its PDQ hash is missing")
    try:
        return PdqHash.from_hex(value)
    except InvalidHash as error:
        raise InputError("its PDQ hash is malformed: {reason}", reason=error.localized()) from None


def _partner(raw: object) -> tuple[PdqHash, int]:
    if not isinstance(raw, dict) or set(raw) != {"pdq", "quality"}:
        raise InputError("its raw-pixel hash is malformed")
    quality = _int(raw["quality"], 0, 100)
    if quality is None:
        raise InputError("its raw-pixel hash is malformed")
    return _pdq(raw["pdq"]), quality


def _extra(raw: object) -> Extra:
    if not isinstance(raw, dict) or set(raw) != {"kind", "label", "pdq", "quality"}:
        raise InputError("an extra hash is malformed")
    kind, label, quality = raw["kind"], raw["label"], _int(raw["quality"], 0, 100)
    if kind not in _EXTRA_KINDS or not isinstance(label, str) or len(label) > 40:
        raise InputError("an extra hash has an unknown kind or label")
    if quality is None:
        raise InputError("an extra hash's quality is not a number from 0 to 100")
    return Extra(kind, label, _pdq(raw["pdq"]), quality)


def _features(raw: object) -> LocalFeatures:
    """A picture's local features: base64 of LocalFeatures.to_bytes, as `bank add` makes them
    (on a picture of at most FEATURE_SIDE pixels, keypoints and check points within it)."""
    import numpy as np

    from rempart.hashing.features import FEATURE_SIDE, MAX_FEATURES, ORB_LEVELS, LocalFeatures

    blob = _feature_blob(raw, MAX_FEATURE_BYTES)
    found = LocalFeatures.from_bytes(blob)  # InputError when damaged
    if blob[0] != 2 or not (0 < found.width <= FEATURE_SIDE and 0 < found.height <= FEATURE_SIDE):
        raise InputError("its local features are malformed")
    if len(found) > MAX_FEATURES or found.octaves is None or (found.octaves >= ORB_LEVELS).any():
        raise InputError("its local features are malformed")
    size = np.array([found.width, found.height], np.float32)
    points = [found.points]
    if found.check_points is not None:
        points.append(found.check_points)
    if any(((p < 0) | (p > size)).any() for p in points):
        raise InputError("its local features are malformed")
    return found


def _feature_blob(raw: object, limit: int) -> bytes:
    """The bytes of a base64 text of at most `limit` bytes."""
    import binascii

    if not isinstance(raw, str) or len(raw) > limit * 4 // 3 + 4:
        raise InputError("its local features are malformed")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("its local features are malformed") from None


def _window_features(whole: LocalFeatures, raw: object, width: int, height: int) -> LocalFeatures:
    """The picture's features with their window keypoints, merged here as `bank add` merges
    them (features.merge_window_features) from what the page's kernel found in each window of
    features.window_boxes, in their order: each base64 of LocalFeatures.to_bytes, version 2,
    no check points, at most WINDOW_LIMIT keypoints, on the window scaled as
    `extract_features` scales it, keypoints within it."""
    import numpy as np

    from rempart.hashing.features import (
        ORB_LEVELS,
        WINDOW_LIMIT,
        LocalFeatures,
        merge_window_features,
        window_boxes,
    )

    malformed = "its windows' features are malformed"
    boxes = window_boxes(width, height)
    if not isinstance(raw, list) or len(raw) != len(boxes):
        raise InputError(malformed)
    if (whole.width, whole.height) != _scaled_size(width, height):
        raise InputError(malformed)
    found = []
    for text, (_, _, window_w, window_h) in zip(raw, boxes, strict=True):
        blob = _feature_blob(text, _MAX_WINDOW_BYTES)
        window = LocalFeatures.from_bytes(blob)  # InputError when damaged
        if blob[0] != 2 or (window.width, window.height) != _scaled_size(window_w, window_h):
            raise InputError(malformed)
        if window.check_points is None or len(window.check_points) or len(window) > WINDOW_LIMIT:
            raise InputError(malformed)
        assert window.octaves is not None  # version 2
        size = np.array([window.width, window.height], np.float32)
        if (window.octaves >= ORB_LEVELS).any() or (
            (window.points < 0) | (window.points > size)
        ).any():
            raise InputError(malformed)
        found.append(window)
    points, descriptors = merge_window_features(found, width, height)
    return replace(whole, window_points=points, window_descriptors=descriptors)


def _scaled_size(width: int, height: int) -> tuple[int, int]:
    """A picture's size scaled as `extract_features` scales it (features.scaled_bytes)."""
    from rempart.hashing.features import FEATURE_SIDE

    scale = FEATURE_SIDE / max(width, height, 1)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _written_features(hashes: ImageHashes) -> str | None:
    from rempart.hashing.windows import WindowKind

    whole = dict(hashes.features).get(WindowKind.WHOLE.value)
    if whole is None:
        return None
    # the whole picture's: the windows' own features, which the page sends (`windows`), are
    # not kept once merged (features.WINDOW_SHARE)
    plain = replace(whole, window_points=None, window_descriptors=None)
    return base64.b64encode(plain.to_bytes()).decode("ascii")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_withdrawal_code(random: bytes) -> str:
    """A withdrawal code from 13 random bytes (the first 100 bits): 20 characters of
    Crockford's base32 in groups of four, as the page makes them."""
    if len(random) < 13:
        raise ValueError("a withdrawal code needs 13 random bytes")
    number = int.from_bytes(random[:13], "big") >> 4
    chars = "".join(_CROCKFORD[(number >> (5 * (19 - i))) & 31] for i in range(20))
    return "-".join(chars[i : i + 4] for i in range(0, 20, 4))


def write_hash_file(
    items: Iterable[ImageHashes | VideoHashes],
    *,
    submission: str,
    created: str,
    statements: Statements,
    withdrawal_sha256: str,
    label: str = "",
    made_by: str = "rempart",
) -> bytes:
    """A hash file of pictures hashed here, as the page writes one (tests and tools)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "submission": submission,
        "created": created,
        "made_by": made_by,
        "statements": {
            "depicted_or_acting_for": statements.depicted_or_acting_for,
            "minor_in_images": statements.minor_in_images,
        },
        "withdrawal": {"sha256": withdrawal_sha256},
        "items": [_written(h) for h in items],  # pictures and videos, in order
    }
    if label:
        document["label"] = label
    document["integrity"] = {"sha256": integrity_digest(document)}
    return canonical_json(document)


def _written(hashes: ImageHashes | VideoHashes) -> dict[str, Any]:
    from rempart.hashing.video import VideoHashes

    if isinstance(hashes, VideoHashes):
        return {
            "media": "video",
            "md5": hashes.digest.md5,
            "sha256": hashes.digest.sha256,
            "width": hashes.width,
            "height": hashes.height,
            "duration_ms": round(hashes.duration_s * 1000),
            "frames": [
                {"at_ms": round(f.time_s * 1000), "pdq": f.pdq.hash.hex, "quality": f.pdq.quality}
                for f in hashes.frames
            ],
        }
    item: dict[str, Any] = {
        "media": "image",
        "pdq": hashes.pdq.hash.hex,
        "quality": hashes.pdq.quality,
        "md5": hashes.digest.md5,
        "sha256": hashes.digest.sha256,
        "width": hashes.width,
        "height": hashes.height,
        "extras": [
            {
                "kind": w.window.kind.value,
                "label": w.window.label,
                "pdq": w.variants[0].hash.hex,
                "quality": w.variants[0].quality,
            }
            for w in hashes.windows
            if w.window.kind.value in _EXTRA_KINDS
        ],
    }
    features = _written_features(hashes)
    if features is not None:
        item["features"] = features
    if hashes.partner_pdq is not None:
        item["partner"] = {
            "pdq": hashes.partner_pdq.hash.hex,
            "quality": hashes.partner_pdq.quality,
        }
    return item
