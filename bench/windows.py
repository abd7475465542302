"""Benchmark from inside: each hash kind and window of Rempart on generated pictures.

The outside measure of robustness is bench/robustness.py (Rempart's public entry points,
pictures and alterations from generators kept apart). This one reimplements the matcher's
arithmetic to see each window kind apart, calibrates the thresholds and measures shifts.

Usage: .venv/bin/python bench/windows.py [--quick] [--calibrate] [--shifts]
       [--originals N] [--distractors M] [--workers W]

Everything is generated (rempart.samples): originals, distractors of every style, and the
altered copies, by the families re-uploaders use. Four matchers side by side, in one run:
  * plain PDQ: one `pdqhash.compute` hash of the copy against one of the original (<= 31);
  * imagehash pHash (64 bits), its threshold the largest with no false match here;
  * Rempart, shared list: the reference is one whole-image PDQ (as in StopNCII lists); the
    query is the whole image and its query windows (find_windows), 8 variants each, each
    kind at its calibrated threshold (matching.calibration, bank threshold 31);
  * Rempart, own intake: the reference also has what `bank add` stores (registration crops:
    the centre ones, and the smoothed lattices; grid cells); the query adds its grid cells
    (matched cell to cell) and its smoothed image (matched against the smoothed crops).
Recall per family; false matches over all distractor x original pairs, the distractors being
plain pictures and as many unrelated pictures altered by the same families (so that every
window kind meets unrelated images); the cost of finding and hashing the windows.

--calibrate measures, on another set of distractors (other seeds), the smallest distance each
window kind reaches to the originals, matched as the matcher matches it, and proposes the
thresholds for matching.calibration (observed minimum minus a 16-bit margin). The bench's own
distractors are never used to calibrate: its false-match count is an out-of-sample check.

--shifts measures what the registration crops are spaced by: how many bits an 80% crop (as
re-uploaded) is from the same crop moved by 0.5-3% of each side, plainly hashed and smoothed
(see rempart.hashing.windows.Window.smooth), for pages of text and for the other styles.

Results go to stdout and bench/results/windows.json (windows-calibration.json,
windows-shifts.json).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import multiprocessing.pool
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import imagehash
import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from rempart.hashing import Windows, decode_luma, hash_image_bytes  # noqa: E402
from rempart.hashing.pdq import pdq_dihedral_from_luma, pdq_from_luma  # noqa: E402
from rempart.hashing.windows import (  # noqa: E402
    Window,
    WindowKind,
    find_windows,
    smooth_windows,
)
from rempart.matching.calibration import THRESHOLDS, threshold_for  # noqa: E402
from rempart.samples import STYLES, neutral_image, web_jpeg  # noqa: E402

PDQ_THRESHOLD = 31
QUALITY_MIN = 50  # a bank's default quality gate: weaker signals are not matched
MARGIN = 16  # bits between the closest distractor seen and a proposed threshold
SIZE = (480, 360)
Alter = Callable[[Image.Image, np.random.Generator], Image.Image]
Codes = npt.NDArray[np.uint8]  # rows of 32 bytes: packed 256-bit hashes
Job = TypeVar("Job")
Out = TypeVar("Out")


# ------------------------------------------------------------------------------- families


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _crop_border(img: Image.Image, _rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    return img.crop((w // 20, h // 20, w - w // 20, h - h // 20))  # 5% per side


def _crop_offcentre(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    cw, ch = int(w * 0.8), int(h * 0.8)
    x, y = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
    return img.crop((x, y, x + cw, y + ch))


def _crop_random_border(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    left, top, right, bottom = (float(rng.uniform(0.02, 0.08)) for _ in range(4))
    return img.crop((int(w * left), int(h * top), w - int(w * right), h - int(h * bottom)))


def _letterbox(img: Image.Image, _rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    canvas = Image.new("RGB", (w, int(h * 1.4)), (0, 0, 0))  # 20% bars top and bottom
    canvas.paste(img, (0, int(h * 0.2)))
    return canvas


def _small_rotation(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    angle = float(rng.uniform(2, 7)) * (1 if rng.random() < 0.5 else -1)
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)


def _colour(img: Image.Image, _rng: np.random.Generator) -> Image.Image:
    img = ImageEnhance.Color(img).enhance(1.6)
    return ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(0.85)).enhance(1.3)


def _pixelate(img: Image.Image, _rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    return img.resize((w // 8, h // 8), Image.Resampling.BOX).resize(
        (w, h), Image.Resampling.NEAREST
    )


def _caption(img: Image.Image, _rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    canvas = Image.new("RGB", (w, int(h * 1.18)), (255, 255, 255))
    canvas.paste(img, (0, int(h * 0.18)))
    draw = ImageDraw.Draw(canvas)
    for row in range(3):
        draw.text((10, 6 + row * 14), "caption text caption text " * 3, fill=(0, 0, 0))
    return canvas


def _stickers(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    for _ in range(3):
        r = int(min(w, h) * 0.09)
        x, y = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 204, 0), outline=(0, 0, 0), width=3)
        draw.arc((x - r // 2, y - r // 3, x + r // 2, y + r // 2), 20, 160, fill=(0, 0, 0), width=3)
    return out


def _screenshot(img: Image.Image, _rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    page = Image.new("RGB", (int(w * 1.5), int(h * 1.6)), (242, 242, 245))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, page.width, int(h * 0.12)), fill=(40, 60, 110))  # a forum's header
    for row in range(8):
        y = int(h * 1.3) + row * 12
        draw.text((20, y), "Re: thread title - posted by someone", fill=(60, 60, 60))
    page.paste(img, (int(w * 0.25), int(h * 0.2)))
    return page


def _collage(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = img.size
    canvas = Image.new("RGB", (w * 2 + 8, h * 2 + 8), (255, 255, 255))
    others = [neutral_image(int(rng.integers(10**6, 10**7)), w, h) for _ in range(3)]
    tiles = [img, *others]
    order = rng.permutation(4)
    for slot, tile in zip(order, tiles, strict=True):
        canvas.paste(tile, ((slot % 2) * (w + 8), (slot // 2) * (h + 8)))
    return canvas


FAMILIES: dict[str, Alter] = {
    "resize 20%": lambda im, _: im.resize((im.width // 5, im.height // 5)),
    "JPEG q20": lambda im, _: Image.open(io.BytesIO(_jpeg(im, 20))),
    "crop border 5%": _crop_border,
    "crop off-centre 80%": _crop_offcentre,
    "letterbox 20%": _letterbox,
    "mirror": lambda im, _: ImageOps.mirror(im),
    "rotate 90°": lambda im, _: im.transpose(Image.Transpose.ROTATE_90),
    "rotate 2-7°": _small_rotation,
    "colour/contrast": _colour,
    "blur": lambda im, _: im.filter(ImageFilter.GaussianBlur(2)),
    "pixelate ×8": _pixelate,
    "stretch 1.3×": lambda im, _: im.resize((int(im.width * 1.3), im.height)),
    "caption bar": _caption,
    "stickers": _stickers,
    "screenshot in page": _screenshot,
    "2×2 collage": _collage,
}
# Checks outside the mean: how much of a family's recall is owed to its exact geometry.
EXTRA_FAMILIES: dict[str, Alter] = {
    "crop border 2-8% (random per side)": _crop_random_border,
}


# ------------------------------------------------------------------------------- hashing


@dataclass(frozen=True)
class Query:
    """What the four matchers compute for one image met in the wild."""

    plain: Codes  # (1, 32) pdqhash of the RGB image
    phash: Codes  # (1, 8)
    gated: bool  # the whole image's quality is under the gate: Rempart matches nothing
    codes: Codes  # (n, 32) whole image and picture windows, 8 variants, quality >= 50
    kinds: npt.NDArray[np.int8]  # (n,) index into PICTURE_KINDS
    grid: Codes  # (9, 32) grid cells, original orientation
    grid_ok: npt.NDArray[np.bool_]  # (9,) quality >= 50
    smooth: Codes  # (1, 32) the whole image smoothed (SMOOTH), original orientation
    smooth_ok: bool  # quality >= 50
    find_ms: float  # find_windows on the decoded luma
    hash_ms: float  # hashing the windows found (8 variants each)
    smooth_ms: float  # smoothing the image and hashing it


@dataclass(frozen=True)
class Reference:
    """What is registered for one original: one whole PDQ (what a shared list holds), plus
    registration crops and grid cells (Rempart's own intake)."""

    plain: Codes
    phash: Codes
    whole: Codes  # (1, 32)
    crops: Codes  # (crops, 32), in registration_crops order: CROP, then CROP_SMOOTH
    crops_ok: npt.NDArray[np.bool_]
    crop_labels: tuple[str, ...]
    grid: Codes  # (9, 32)
    grid_ok: npt.NDArray[np.bool_]


PICTURE_KINDS = (
    WindowKind.WHOLE,
    WindowKind.TRIMMED,
    WindowKind.UNCAPTIONED,
    WindowKind.SCREEN,
    WindowKind.CELL,
    WindowKind.DESKEWED,
)
GRID_LABELS = tuple(f"r{r}c{c}" for r in range(3) for c in range(3))
# The registration crops in three groups (by label), reported apart: how many hashes each
# adds, what it finds, and how close it comes to the distractors. The first is CROP (plain
# hashes, met by every picture signal), the others CROP_SMOOTH (met by the smoothed image).
CROP_GROUPS = ("centre 90/80%", "80% lattice", "uneven borders")
SMOOTH_GROUPS = (1, 2)


def crop_group(label: str) -> int:
    if label.startswith("centre-"):
        return 0
    return 1 if label.startswith("80-") else 2


def _others(data: bytes) -> tuple[Codes, Codes]:
    """plain PDQ and pHash, as other tools compute them."""
    image = Image.open(io.BytesIO(data))
    vector, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    plain = np.packbits(np.asarray(vector, dtype=np.uint8))[np.newaxis]
    phash = np.packbits(imagehash.phash(image).hash.flatten())[np.newaxis]
    return plain, phash


def _cells(
    hashes: Iterable[tuple[str, bytes, int]], labels: Sequence[str]
) -> tuple[Codes, npt.NDArray[np.bool_]]:
    """Codes in `labels` order (zeros where missing) and which are usable."""
    codes = np.zeros((len(labels), 32), dtype=np.uint8)
    ok = np.zeros(len(labels), dtype=bool)
    for label, value, quality in hashes:
        i = labels.index(label)
        codes[i] = np.frombuffer(value, dtype=np.uint8)
        ok[i] = quality >= QUALITY_MIN
    return codes, ok


def hash_query(data: bytes) -> Query:
    plain, phash = _others(data)
    ours = hash_image_bytes(
        data, dihedral=True, windows=Windows.PICTURE | Windows.GRID | Windows.SMOOTH
    )
    rows: list[bytes] = []
    kinds: list[int] = []
    for signal in ours.variants:
        if signal.quality >= QUALITY_MIN:
            rows.append(signal.hash.value)
            kinds.append(0)
    for w in ours.windows:
        if w.window.kind in PICTURE_KINDS:
            for signal in w.variants:
                if signal.quality >= QUALITY_MIN:
                    rows.append(signal.hash.value)
                    kinds.append(PICTURE_KINDS.index(w.window.kind))
    grid, grid_ok = _cells(
        (
            (w.window.label, w.variants[0].hash.value, w.variants[0].quality)
            for w in ours.windows
            if w.window.kind is WindowKind.GRID
        ),
        GRID_LABELS,
    )
    smooth = next(w.variants[0] for w in ours.windows if w.window.kind is WindowKind.SMOOTH)
    find_ms, hash_ms, smooth_ms = _window_costs(data)
    return Query(
        plain=plain,
        phash=phash,
        gated=ours.pdq.quality < QUALITY_MIN,
        codes=np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, 32),
        kinds=np.asarray(kinds, dtype=np.int8),
        grid=grid,
        grid_ok=grid_ok,
        smooth=np.frombuffer(smooth.hash.value, dtype=np.uint8)[np.newaxis],
        smooth_ok=smooth.quality >= QUALITY_MIN,
        find_ms=find_ms,
        hash_ms=hash_ms,
        smooth_ms=smooth_ms,
    )


def _window_costs(data: bytes) -> tuple[float, float, float]:
    """Milliseconds to find the picture windows, to hash them (8 variants each), and to
    smooth the image and hash it (what a query adds where some bank holds smoothed crops)."""
    luma = decode_luma(data).luma
    started = time.perf_counter()
    windows = find_windows(luma)
    found = time.perf_counter()
    for window in windows:
        pdq_dihedral_from_luma(window.crop(luma))
    hashed = time.perf_counter()
    for window in smooth_windows(luma):
        pdq_from_luma(window.crop(luma))
    smoothed = time.perf_counter()
    return (found - started) * 1000, (hashed - found) * 1000, (smoothed - hashed) * 1000


def hash_reference(data: bytes) -> Reference:
    plain, phash = _others(data)
    ours = hash_image_bytes(data, windows=Windows.CROPS | Windows.GRID)
    by_kind = {
        kind: [
            (w.window.label, w.variants[0].hash.value, w.variants[0].quality)
            for w in ours.windows
            if w.window.kind is kind
        ]
        for kind in (WindowKind.CROP, WindowKind.CROP_SMOOTH, WindowKind.GRID)
    }
    registered = by_kind[WindowKind.CROP] + by_kind[WindowKind.CROP_SMOOTH]
    crop_labels = tuple(label for label, _, _ in registered)
    crops, crops_ok = _cells(registered, crop_labels)
    grid, grid_ok = _cells(by_kind[WindowKind.GRID], GRID_LABELS)
    whole = np.frombuffer(ours.pdq.hash.value, dtype=np.uint8)[np.newaxis]
    return Reference(plain, phash, whole, crops, crops_ok, crop_labels, grid, grid_ok)


# ------------------------------------------------------------------------------- matching


def hamming(a: Codes, b: Codes) -> npt.NDArray[np.int16]:
    """Distances between every row of a and every row of b (packed codes of equal width)."""
    a64 = np.ascontiguousarray(a).view(np.uint64) if a.shape[1] % 8 == 0 else a
    b64 = np.ascontiguousarray(b).view(np.uint64) if b.shape[1] % 8 == 0 else b
    out = np.empty((len(a), len(b)), dtype=np.int16)
    chunk = max(1, 2_000_000 // max(1, b64.size))
    for start in range(0, len(a), chunk):
        xor = a64[start : start + chunk, np.newaxis, :] ^ b64[np.newaxis, :, :]
        out[start : start + chunk] = np.bitwise_count(xor).sum(axis=2, dtype=np.int16)
    return out


def _stack(rows: Sequence[Codes]) -> Codes:
    return np.concatenate(rows) if rows else np.zeros((0, 32), dtype=np.uint8)


@dataclass(frozen=True)
class Bank:
    """The originals as each matcher holds them."""

    plain: Codes
    phash: Codes
    whole: Codes
    crops: Codes  # (originals, crops, 32)
    crops_ok: npt.NDArray[np.bool_]  # (originals, crops)
    crop_groups: tuple[npt.NDArray[np.intp], ...]  # the crop columns of each CROP_GROUPS
    grid: Codes  # (originals, 9, 32)
    grid_ok: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, refs: Sequence[Reference]) -> Bank:
        labels = refs[0].crop_labels
        if any(r.crop_labels != labels for r in refs):
            raise ValueError("every original must have the same registration crops")
        groups = np.array([crop_group(label) for label in labels])
        return cls(
            plain=_stack([r.plain for r in refs]),
            phash=_stack([r.phash for r in refs]),
            whole=_stack([r.whole for r in refs]),
            crops=np.stack([r.crops for r in refs]),
            crops_ok=np.stack([r.crops_ok for r in refs]),
            crop_groups=tuple(np.flatnonzero(groups == g) for g in range(len(CROP_GROUPS))),
            grid=np.stack([r.grid for r in refs]),
            grid_ok=np.stack([r.grid_ok for r in refs]),
        )

    def __len__(self) -> int:
        return len(self.whole)

    def stored_per_item(self) -> npt.NDArray[np.int64]:
        """Hashes `bank add` stores per original: its own, and the crops and cells that pass
        the quality gate."""
        stored: npt.NDArray[np.int64] = 1 + self.crops_ok.sum(axis=1) + self.grid_ok.sum(axis=1)
        return stored


I16 = npt.NDArray[np.int16]
NONE = 999  # no signal of that kind, or too flat to count


@dataclass(frozen=True)
class Distances:
    """Per (query, original): the smallest distance each matcher's signals reach, measured
    once; thresholds are applied afterwards (judge), so that several sets cost nothing."""

    plain: I16  # (queries, originals)
    phash: I16
    picture: I16  # (queries, originals, PICTURE_KINDS): the kind's signals vs the whole hash
    crops: I16  # (queries, originals, CROP_GROUPS): the centre crops vs any picture signal,
    # the smoothed crops vs the smoothed image
    grid: I16  # (queries, originals, 9): a cell vs the same cell (NONE when gated or flat)
    gated: npt.NDArray[np.bool_]  # (queries,): the whole image is under the quality gate

    @classmethod
    def of(cls, queries: Sequence[Query], bank: Bank, chunk: int = 128) -> Distances:
        parts = [_measure(queries[i : i + chunk], bank) for i in range(0, len(queries), chunk)]
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__)
        )


def _owners(queries: Sequence[Query]) -> tuple[Codes, npt.NDArray[np.int8], npt.NDArray[np.intp]]:
    codes = _stack([q.codes for q in queries])
    kinds = np.concatenate([q.kinds for q in queries]) if queries else np.zeros(0, np.int8)
    owner = np.repeat(np.arange(len(queries)), [len(q.codes) for q in queries])
    return codes, kinds, owner


def _min_per_query(values: I16, owner: npt.NDArray[np.intp], n_queries: int) -> I16:
    """Per query (rows grouped by owner, in order) and column: the smallest value (NONE for
    a query without rows)."""
    out = np.full((n_queries, *values.shape[1:]), NONE, dtype=np.int16)
    if len(owner):
        present, starts = np.unique(owner, return_index=True)
        out[present] = np.minimum.reduceat(values, starts, axis=0)
    return out


def _measure(queries: Sequence[Query], bank: Bank) -> Distances:
    codes, kinds, owner = _owners(queries)
    n, n_orig = len(queries), len(bank)
    to_whole = hamming(codes, bank.whole)
    picture = np.full((n, n_orig, len(PICTURE_KINDS)), NONE, dtype=np.int16)
    for k in range(len(PICTURE_KINDS)):
        rows = kinds == k
        if rows.any():
            picture[:, :, k] = _min_per_query(to_whole[rows], owner[rows], n)
    # CROP: every picture signal against the plain crops; CROP_SMOOTH: the smoothed image
    to_crops = hamming(codes, bank.crops.reshape(-1, 32)).reshape(len(codes), n_orig, -1)
    to_crops[:, ~bank.crops_ok] = NONE
    smooth = _stack([q.smooth for q in queries])
    to_smooth = hamming(smooth, bank.crops.reshape(-1, 32)).reshape(n, n_orig, -1)
    to_smooth[:, ~bank.crops_ok] = NONE
    to_smooth[~np.array([q.smooth_ok for q in queries], dtype=bool)] = NONE
    crops = np.full((n, n_orig, len(CROP_GROUPS)), NONE, dtype=np.int16)
    for g, columns in enumerate(bank.crop_groups):
        if not len(columns):
            continue
        if g in SMOOTH_GROUPS:
            crops[:, :, g] = to_smooth[:, :, columns].min(axis=2)
        else:
            crops[:, :, g] = _min_per_query(to_crops[:, :, columns].min(axis=2), owner, n)
    return Distances(
        plain=hamming(_stack([q.plain for q in queries]), bank.plain),
        phash=hamming(_stack([q.phash for q in queries]), bank.phash),
        picture=picture,
        crops=crops,
        grid=grid_distances(queries, bank),
        gated=np.array([q.gated for q in queries], dtype=bool),
    )


def grid_distances(queries: Sequence[Query], bank: Bank) -> I16:
    """Per (query, original, label): the distance between the same grid cells (NONE where
    either cell is too flat to count, or the query is under the gate)."""
    out = np.full((len(queries), len(bank), len(GRID_LABELS)), NONE, dtype=np.int16)
    for k in range(len(GRID_LABELS)):
        q = np.stack([query.grid[k] for query in queries])
        d = hamming(q, bank.grid[:, k])
        q_ok = np.array([query.grid_ok[k] and not query.gated for query in queries])
        d[~q_ok] = NONE
        d[:, ~bank.grid_ok[:, k]] = NONE
        out[:, :, k] = d
    return out


Thresholds = dict[WindowKind, int]


def table_thresholds() -> Thresholds:
    """Each kind's threshold in a bank at the default 31, as the matcher applies it."""
    kinds = (*PICTURE_KINDS, WindowKind.CROP, WindowKind.CROP_SMOOTH, WindowKind.GRID)
    return {kind: threshold_for(kind, PDQ_THRESHOLD) for kind in kinds}


@dataclass(frozen=True)
class Verdicts:
    """Which (query, original) pairs each matcher calls a match (pHash: its distances)."""

    plain: npt.NDArray[np.bool_]
    phash_distance: npt.NDArray[np.int16]
    shared: npt.NDArray[np.bool_]
    own: npt.NDArray[np.bool_]

    def by_column(self, phash_threshold: int) -> dict[str, npt.NDArray[np.bool_]]:
        return {
            PLAIN: self.plain,
            PHASH: self.phash_distance <= phash_threshold,
            SHARED: self.shared,
            OWN: self.own,
        }


PLAIN, PHASH, SHARED, OWN = "plain PDQ", "pHash", "Rempart, shared list", "Rempart, own intake"
COLUMNS = (PLAIN, PHASH, SHARED, OWN)


def judge(
    d: Distances, thresholds: Thresholds, crop_groups: Sequence[int] | None = None
) -> Verdicts:
    """The matchers' verdicts, as the matcher makes them: a picture signal within its kind's
    threshold of the whole hash; any picture signal within CROP's threshold of a registered
    centre crop, the smoothed image within CROP_SMOOTH's of a smoothed crop (the registered
    kind's threshold rules, matching.service._pair_threshold), of the crop groups given (all
    by default); one grid cell within GRID's of the same cell. Nothing for a query under the
    quality gate."""
    limits = np.array([thresholds[k] for k in PICTURE_KINDS], dtype=np.int16)
    open_ = ~d.gated[:, np.newaxis]
    shared = (d.picture <= limits).any(axis=2) & open_
    groups = range(len(CROP_GROUPS)) if crop_groups is None else crop_groups
    crop_limits = np.array(
        [
            thresholds[WindowKind.CROP_SMOOTH if g in SMOOTH_GROUPS else WindowKind.CROP]
            for g in range(len(CROP_GROUPS))
        ],
        dtype=np.int16,
    )
    chosen = list(groups)
    cropped = (d.crops[:, :, chosen] <= crop_limits[chosen]).any(axis=2) & open_
    grid = (d.grid <= thresholds[WindowKind.GRID]).any(axis=2)
    return Verdicts(
        plain=d.plain <= PDQ_THRESHOLD,
        phash_distance=d.phash,
        shared=shared,
        own=shared | cropped | grid,
    )


@dataclass(frozen=True)
class Outcome:
    """Recall per family and column, false matches with the distractors, and copies that
    matched another original than their own."""

    recall: dict[str, dict[str, float]]
    false: dict[str, int]
    wrong_original: dict[str, int]

    def mean(self, column: str) -> float:
        return float(np.mean([self.recall[f][column] for f in FAMILIES]))

    def worst(self, column: str) -> float:
        return min(self.recall[f][column] for f in FAMILIES)


def evaluate(
    copies: dict[str, Distances],
    distractors: Distances,
    thresholds: Thresholds,
    phash_threshold: int,
    crop_groups: Sequence[int] | None = None,
) -> Outcome:
    false = {
        c: int(m.sum())
        for c, m in judge(distractors, thresholds, crop_groups).by_column(phash_threshold).items()
    }
    recall: dict[str, dict[str, float]] = {}
    wrong = dict.fromkeys(COLUMNS, 0)
    for family, d in copies.items():
        matched = judge(d, thresholds, crop_groups).by_column(phash_threshold)
        recall[family] = {c: float(np.diag(m).mean()) for c, m in matched.items()}
        for c, m in matched.items():
            wrong[c] += int(m.sum() - np.trace(m))
    return Outcome(recall, false, wrong)


# ---------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class KindStats:
    """Over (distractor, original) pairs: the smallest distance a kind reaches per pair,
    over every registered hash of that kind an original has (`hashes` of them)."""

    images: int  # distractors that have a signal of this kind
    hashes: float  # registered hashes of an original that this kind is matched against
    pairs: int
    minimum: int
    percentiles: dict[str, float]
    closest: str  # which distractor and original came closest

    def to_json(self) -> dict[str, object]:
        return {
            "images": self.images,
            "hashes_per_original": self.hashes,
            "pairs": self.pairs,
            "min": self.minimum,
            **self.percentiles,
            "closest": self.closest,
        }


def calibrate(d: Distances, names: Sequence[str], bank: Bank) -> dict[str, KindStats]:
    """For each kind, the smallest distance it reaches per (distractor, original) pair,
    matched as the matcher matches it: picture windows against the originals' whole hashes;
    any picture signal against the original's centre crops (CROP); the smoothed image
    against every smoothed crop of the original (CROP_SMOOTH: the more crops an original
    has, the closer its nearest one comes by chance, and the per-pair minimum over all of
    them is what a threshold must stay under; each group of crops is shown too); grid cells
    against the same cell (GRID, one cell as the matcher needs, and the second-closest cell
    for the record). The quality gate on the whole image is not applied: every signal
    counts."""
    n = len(names)
    report: dict[str, KindStats] = {}
    for k, kind in enumerate(PICTURE_KINDS):
        per_pair = d.picture[:, :, k]
        images = int((per_pair < NONE).any(axis=1).sum())
        if images:
            report[kind.value] = _stats(per_pair, names, images, 1)

    def registered(groups: Sequence[int]) -> float:
        columns = np.concatenate([bank.crop_groups[g] for g in groups])
        return float(bank.crops_ok[:, columns].sum(axis=1).mean())

    report[WindowKind.CROP.value] = _stats(d.crops[:, :, 0], names, n, registered([0]))
    smoothed = int((d.crops[:, :, list(SMOOTH_GROUPS)] < NONE).any(axis=(1, 2)).sum())
    report[WindowKind.CROP_SMOOTH.value] = _stats(
        d.crops[:, :, list(SMOOTH_GROUPS)].min(axis=2), names, smoothed, registered(SMOOTH_GROUPS)
    )
    for g in SMOOTH_GROUPS:
        report[f"{CROP_PREFIX}{CROP_GROUPS[g]}"] = _stats(
            d.crops[:, :, g], names, smoothed, registered([g])
        )
    grid = np.sort(d.grid, axis=2)
    cells = float(bank.grid_ok.sum(axis=1).mean())
    report[WindowKind.GRID.value] = _stats(grid[:, :, 0], names, n, cells)
    report[SECOND_CELL] = _stats(grid[:, :, 1], names, n, cells)
    return report


SECOND_CELL = "grid, second-closest cell"
CROP_PREFIX = "crop_smooth: "


def _stats(
    per_pair: npt.NDArray[np.int16], names: Sequence[str], images: int, hashes: float
) -> KindStats:
    valid = per_pair < NONE
    values = per_pair[valid]
    i, j = np.unravel_index(np.where(valid, per_pair, 9999).argmin(), per_pair.shape)
    return KindStats(
        images=images,
        hashes=round(hashes, 1),
        pairs=int(values.size),
        minimum=int(values.min()),
        percentiles={
            f"p{q}%": float(np.percentile(values, q)) for q in (0.001, 0.01, 0.1, 1.0, 50.0)
        },
        closest=f"{names[int(i)]} vs original {j} ({_style(int(j))})",
    )


def propose(report: dict[str, KindStats]) -> dict[str, int]:
    """Observed minimum minus MARGIN, the minimum taken over the kind's own pairs and over
    the whole-image pairs: every window is a picture too, and a kind met by few distractors
    has a minimum that says less (fewer pairs come less close by chance alone)."""
    whole = report[WindowKind.WHOLE.value].minimum
    return {kind: max(0, min(stats.minimum, whole) - MARGIN) for kind, stats in report.items()}


def _style(seed: int) -> str:
    return STYLES[int(np.random.default_rng(seed).integers(len(STYLES)))]


# ----------------------------------------------------------------------------- the images


def _original(seed: int) -> Image.Image:
    return neutral_image(seed, *SIZE)


def _reference_job(seed: int) -> Reference:
    return hash_reference(_jpeg(_original(seed)))


def _copy_job(job: tuple[str, int]) -> Query:
    """An original altered by a family (its own random draws), as a web JPEG."""
    family, seed = job
    alter = {**FAMILIES, **EXTRA_FAMILIES}[family]
    rng = np.random.default_rng([7, list({**FAMILIES, **EXTRA_FAMILIES}).index(family), seed])
    return hash_query(_jpeg(alter(_original(seed), rng), 85))


DistractorJob = tuple[int, int]  # seed, family number (-1: plain)


def _distractor_job(job: DistractorJob) -> Query:
    """An unrelated picture, plain or altered by one of the families."""
    seed, family = job
    image = _original(seed)
    if family < 0:
        return hash_query(_jpeg(image))
    alter = list(FAMILIES.values())[family]
    return hash_query(_jpeg(alter(image, np.random.default_rng([11, family, seed])), 85))


def distractor_jobs(first_seed: int, count: int) -> list[DistractorJob]:
    """`count` plain pictures, then `count` others each altered by one family in turn."""
    plain = [(first_seed + s, -1) for s in range(count)]
    altered = [(first_seed + count + s, s % len(FAMILIES)) for s in range(count)]
    return plain + altered


def _job_name(job: DistractorJob) -> str:
    seed, family = job
    how = "plain" if family < 0 else list(FAMILIES)[family]
    return f"distractor {seed} ({_style(seed)}, {how})"


# ---------------------------------------------------------------------------------- costs


def costs_at_1080p(seeds: int) -> dict[str, dict[str, str | float]]:
    """find_windows and window hashing on 1080p pictures: plain web JPEGs, and 1920x1080
    originals letterboxed, captioned, in a page, in a collage, slightly turned."""
    cases: dict[str, list[bytes]] = {"plain": [web_jpeg(s) for s in range(seeds)]}
    for family in ("letterbox 20%", "caption bar", "screenshot in page", "2×2 collage"):
        cases[family] = [
            _jpeg(FAMILIES[family](neutral_image(s, 1920, 1080), np.random.default_rng(s)), 85)
            for s in range(seeds)
        ]
    cases["rotate 2-7°"] = [
        _jpeg(_small_rotation(neutral_image(s, 1920, 1080), np.random.default_rng(s)), 85)
        for s in range(seeds)
    ]
    out: dict[str, dict[str, str | float]] = {}
    for name, images in cases.items():
        runs = [_window_costs(data) for data in images for _ in range(3)]
        width, height = Image.open(io.BytesIO(images[0])).size
        out[name] = {
            "size": f"{width}x{height}",
            "find_ms": float(np.median([f for f, _, _ in runs])),
            "hash_ms": float(np.median([h for _, h, _ in runs])),
            "smooth_ms": float(np.median([m for _, _, m in runs])),
        }
    return out


def registration_costs(seeds: int) -> dict[str, dict[str, str | float]]:
    """hash_image_bytes as `bank add` calls it (crops and grid cells, Windows.CROPS | GRID)
    beside the whole image's hash alone, on the bench's originals and on larger photos
    (median of 3 runs per image, one core); and the hashes stored per item."""
    cases = {
        "bench original": [_jpeg(_original(s)) for s in range(seeds)],
        "photo 1920x1080": [web_jpeg(s) for s in range(seeds)],
        "photo 4032x3024": [web_jpeg(s, 4032, 3024) for s in range(max(1, seeds // 2))],
    }
    extras = Windows.CROPS | Windows.GRID
    out: dict[str, dict[str, str | float]] = {}
    for name, images in cases.items():
        plain, registered, stored = [], [], []
        for data in images:
            for _ in range(3):
                started = time.perf_counter()
                hash_image_bytes(data)
                plain.append(time.perf_counter() - started)
                started = time.perf_counter()
                hashes = hash_image_bytes(data, windows=extras)
                registered.append(time.perf_counter() - started)
            kept = [w for w in hashes.windows if w.variants[0].quality >= QUALITY_MIN]
            stored.append(1 + len(kept))
        width, height = Image.open(io.BytesIO(images[0])).size
        out[name] = {
            "size": f"{width}x{height}",
            "whole_ms": float(np.median(plain)) * 1000,
            "with_extras_ms": float(np.median(registered)) * 1000,
            "stored_hashes": float(np.mean(stored)),
        }
    return out


# ----------------------------------------------------------------------------------- main

Pool = multiprocessing.pool.Pool


def _map(pool: Pool | None, fn: Callable[[Job], Out], jobs: Sequence[Job]) -> list[Out]:
    if pool is None:
        return [fn(job) for job in jobs]
    return pool.map(fn, jobs, chunksize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--originals", type=int, default=300)
    parser.add_argument("--distractors", type=int, default=3000, help="plain, and as many altered")
    parser.add_argument("--quick", action="store_true", help="30 originals, 300 + 300 distractors")
    parser.add_argument("--calibrate", action="store_true", help="propose per-kind thresholds")
    parser.add_argument("--shifts", action="store_true", help="PDQ distance against crop shift")
    parser.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    args = parser.parse_args()
    n_orig, n_dist = (30, 300) if args.quick else (args.originals, args.distractors)
    started = time.time()
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    try:
        if args.shifts:
            run_shifts(pool, n_orig, started)
            return
        bank = Bank.of(_map(pool, _reference_job, list(range(n_orig))))
        if args.calibrate:
            run_calibration(pool, bank, n_dist, started)
        else:
            run_bench(pool, bank, n_dist, started, quick=args.quick)
    finally:
        if pool is not None:
            pool.close()


SHIFTS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)  # percent of each side
ShiftRow = dict[str, list[int]]  # "plain x", "plain xy", "smooth x", "smooth xy" -> per shift


def _shift_job(seed: int) -> tuple[str, ShiftRow]:
    """One original's distances: its 80% crop at (10%, 10%), re-uploaded (JPEG q85), against
    the same crop of the registered original moved by each shift along x, and along both
    axes at once, hashed plainly and smoothed (as CROP and CROP_SMOOTH are)."""
    image = _original(seed)
    w, h = image.size
    luma = decode_luma(_jpeg(image)).luma
    left, top, width, height = w // 10, h // 10, round(w * 0.8), round(h * 0.8)
    copy = decode_luma(_jpeg(image.crop((left, top, left + width, top + height)), 85)).luma
    plain = pdq_from_luma(copy).hash
    smooth = pdq_from_luma(smooth_windows(copy)[0].crop(copy)).hash
    row: ShiftRow = {f"{how} {axes}": [] for how in ("plain", "smooth") for axes in ("x", "xy")}
    for shift in SHIFTS:
        dx, dy = round(w * shift / 100), round(h * shift / 100)
        for axes, (x, y) in (("x", (left + dx, top)), ("xy", (left + dx, top + dy))):
            window = Window(WindowKind.CROP, x, y, x + width, y + height)
            moved = pdq_from_luma(window.crop(luma)).hash
            row[f"plain {axes}"].append(plain.distance(moved))
            smoothed = pdq_from_luma(replace(window, smooth=True).crop(luma)).hash
            row[f"smooth {axes}"].append(smooth.distance(smoothed))
    return _style(seed), row


def run_shifts(pool: Pool | None, n_orig: int, started: float) -> None:
    rows = _map(pool, _shift_job, list(range(n_orig)))
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    print(
        f"PDQ bits between an 80% crop (re-uploaded) and the same crop moved by s% of each side, "
        f"{n_orig} originals, median / 90th percentile, {time.time() - started:.0f} s"
    )
    print(f"{'styles':12s} {'hashed':8s} {'moved':6s}" + "".join(f"{s:>10.1f}%" for s in SHIFTS))
    for group in ("text", "other"):
        chosen = [r for style, r in rows if (style == "text") == (group == "text")]
        out[group] = {}
        for key in chosen[0]:
            values = np.array([r[key] for r in chosen])
            median, p90 = np.median(values, axis=0), np.percentile(values, 90, axis=0)
            out[group][key] = {"median": median.tolist(), "p90": p90.tolist()}
            how, axes = key.split()
            moved = "x" if axes == "x" else "x & y"
            print(
                f"{group + f' ({len(chosen)})':12s} {how:8s} {moved:6s}"
                + "".join(f"{m:>6.0f} /{p:3.0f}" for m, p in zip(median, p90, strict=True))
            )
    _write(
        "windows-shifts.json",
        {"originals": n_orig, "shifts_percent": list(SHIFTS), "distances": out},
    )


def run_calibration(pool: Pool | None, bank: Bank, n_dist: int, started: float) -> None:
    jobs = distractor_jobs(2 * 10**6, n_dist)
    distractors = Distances.of(_map(pool, _distractor_job, jobs), bank)
    report = calibrate(distractors, [_job_name(j) for j in jobs], bank)
    proposed = propose(report)
    print(
        f"calibration: {len(bank)} originals, {len(jobs)} distractors ({n_dist} plain, "
        f"{n_dist} altered by the families; seeds from 2,000,000, not the bench's), "
        f"{len(bank) * len(jobs):,} pairs, margin {MARGIN} bits, "
        f"{time.time() - started:.0f} s"
    )
    print(
        f"{'kind':26s} {'images':>6s} {'hashes':>6s} {'pairs':>9s} {'min':>4s} {'p0.001%':>8s} "
        f"{'p0.01%':>7s} {'p0.1%':>6s} {'p1%':>5s} {'p50%':>5s} {'proposed':>8s} {'table':>6s}"
        "  closest"
    )
    for kind, stats in report.items():
        p = stats.percentiles
        table = THRESHOLDS.get(WindowKind(kind), "") if kind in set(WindowKind) else ""
        print(
            f"{kind:26s} {stats.images:6d} {stats.hashes:6.1f} {stats.pairs:9,d} "
            f"{stats.minimum:4d} {p['p0.001%']:8.1f} {p['p0.01%']:7.1f} {p['p0.1%']:6.1f} "
            f"{p['p1.0%']:5.1f} {p['p50.0%']:5.1f} {proposed[kind]:8d} {table!s:>6s}  "
            f"{stats.closest}"
        )
    _write(
        "windows-calibration.json",
        {
            "originals": len(bank),
            "distractors": len(jobs),
            "margin": MARGIN,
            "kinds": {k: {**v.to_json(), "proposed": proposed[k]} for k, v in report.items()},
            "seconds": round(time.time() - started, 1),
        },
    )


def run_bench(pool: Pool | None, bank: Bank, n_dist: int, started: float, *, quick: bool) -> None:
    distractor_queries = _map(pool, _distractor_job, distractor_jobs(10**6, n_dist))
    distractors = Distances.of(distractor_queries, bank)
    phash_threshold = int(distractors.phash.min()) - 1  # the largest with no false match
    copies: dict[str, Distances] = {}
    costs: list[tuple[float, float, float]] = []
    for family in (*FAMILIES, *EXTRA_FAMILIES):
        queries = _map(pool, _copy_job, [(family, s) for s in range(len(bank))])
        copies[family] = Distances.of(queries, bank)
        costs += [(q.find_ms, q.hash_ms, q.smooth_ms) for q in queries]
        print(f"  hashed {family}", flush=True)
    thresholds = table_thresholds()
    outcome = evaluate(copies, distractors, thresholds, phash_threshold)
    alternatives = {
        name: evaluate(copies, distractors, alt, phash_threshold, groups)
        for name, (alt, groups) in _alternatives(thresholds).items()
    }
    at_1080p = costs_at_1080p(4 if quick else 10)
    registration = registration_costs(2 if quick else 6)
    stored = bank.stored_per_item()
    _print_table(outcome, phash_threshold, len(bank), n_dist * 2, started)
    _print_alternatives(alternatives)
    crop_styles = _crop_recall_by_style(copies, thresholds, len(bank))
    _print_crop_styles(crop_styles)
    _print_costs(costs, at_1080p)
    _print_registration(registration, stored, bank)
    _write(
        "windows.json",
        {
            "originals": len(bank),
            "distractors": n_dist * 2,
            "pairs": len(bank) * n_dist * 2,
            "thresholds": {k.value: v for k, v in thresholds.items()},
            "phash_threshold": phash_threshold,
            "recall": outcome.recall,
            "mean_recall": {c: outcome.mean(c) for c in COLUMNS},
            "worst_family": {c: outcome.worst(c) for c in COLUMNS},
            "false_matches": outcome.false,
            "copies_matching_another_original": outcome.wrong_original,
            "own_intake_crop_recall_by_style": crop_styles,
            "alternatives": {
                name: {
                    "mean_recall": {c: o.mean(c) for c in (SHARED, OWN)},
                    "worst_family": {c: o.worst(c) for c in (SHARED, OWN)},
                    "false_matches": {c: o.false[c] for c in (SHARED, OWN)},
                    "recall": {f: {c: r[c] for c in (SHARED, OWN)} for f, r in o.recall.items()},
                }
                for name, o in alternatives.items()
            },
            "cost_ms": {
                "find_windows_mean": float(np.mean([f for f, _, _ in costs])),
                "find_windows_p95": float(np.percentile([f for f, _, _ in costs], 95)),
                "hash_windows_mean": float(np.mean([h for _, h, _ in costs])),
                "smooth_mean": float(np.mean([m for _, _, m in costs])),
                "at_1080p": at_1080p,
            },
            "registration": {
                "crops_per_item": {
                    group: len(bank.crop_groups[g]) for g, group in enumerate(CROP_GROUPS)
                },
                "stored_hashes_per_item": {
                    "mean": float(stored.mean()),
                    "min": int(stored.min()),
                    "max": int(stored.max()),
                },
                "cost": registration,
            },
            "seconds": round(time.time() - started, 1),
        },
    )


def _alternatives(thresholds: Thresholds) -> dict[str, tuple[Thresholds, Sequence[int] | None]]:
    """Threshold sets and crop groups shown for the record, not applied: every kind at the
    bank's 31; the centre crops alone (what own intake registered before the lattices);
    WHOLE at what the last calibration proposed for it."""
    out: dict[str, tuple[Thresholds, Sequence[int] | None]] = {
        "every kind at 31": (dict.fromkeys(thresholds, PDQ_THRESHOLD), None),
        "centre crops only (no lattices)": (thresholds, (0,)),
    }
    path = ROOT / "bench" / "results" / "windows-calibration.json"
    if path.exists():
        whole = int(json.loads(path.read_text())["kinds"]["whole"]["proposed"])
        out[f"WHOLE at its calibrated {whole}"] = ({**thresholds, WindowKind.WHOLE: whole}, None)
    return out


def _print_table(
    outcome: Outcome, phash_threshold: int, n_orig: int, n_dist: int, started: float
) -> None:
    names = {PHASH: f"pHash <= {phash_threshold}"}
    print(
        f"\n{n_orig} originals, {n_dist} distractors ({n_orig * n_dist:,} pairs), "
        f"{time.time() - started:.0f} s"
    )
    print(f"{'family':40s}" + "".join(f"{names.get(c, c):>22s}" for c in COLUMNS))
    for family, row in outcome.recall.items():
        label = family if family in FAMILIES else f"(extra) {family}"
        print(f"{label:40s}" + "".join(f"{row[c]:22.3f}" for c in COLUMNS))
    print(
        f"{'mean recall (16 families)':40s}" + "".join(f"{outcome.mean(c):22.3f}" for c in COLUMNS)
    )
    print(f"{'worst family':40s}" + "".join(f"{outcome.worst(c):22.3f}" for c in COLUMNS))
    print(
        f"{'false matches with distractors':40s}"
        + "".join(f"{outcome.false[c]:22d}" for c in COLUMNS)
    )
    print(
        f"{'copies matching another original':40s}"
        + "".join(f"{outcome.wrong_original[c]:22d}" for c in COLUMNS)
    )


def _print_alternatives(alternatives: dict[str, Outcome]) -> None:
    for name, o in alternatives.items():
        print(
            f"for the record, {name}: "
            + "; ".join(
                f"{c}: mean {o.mean(c):.3f}, worst {o.worst(c):.3f}, {o.false[c]} false matches"
                for c in (SHARED, OWN)
            )
        )


def _print_costs(
    costs: list[tuple[float, float, float]], at_1080p: dict[str, dict[str, str | float]]
) -> None:
    finds = [f for f, _, _ in costs]
    hashes = [h for _, h, _ in costs]
    smooths = [m for _, _, m in costs]
    print(
        f"\ncost per query, one core (bench copies): find_windows {np.mean(finds):.2f} ms mean, "
        f"{np.percentile(finds, 95):.2f} ms p95; hashing the windows found "
        f"{np.mean(hashes):.2f} ms mean; the smoothed image {np.mean(smooths):.2f} ms mean"
    )
    for name, row in at_1080p.items():
        print(
            f"  1080p {name:20s} {row['size']!s:>10s}: find_windows {row['find_ms']:.2f} ms, "
            f"hashing its windows {row['hash_ms']:.2f} ms, smoothed {row['smooth_ms']:.2f} ms"
        )


def _crop_recall_by_style(
    copies: dict[str, Distances], thresholds: Thresholds, n_orig: int
) -> dict[str, dict[str, float]]:
    """Own intake's recall on the crop families, per style of picture (pages of text are
    where plain PDQ gives way), and with the centre crops alone."""
    styles = np.array([_style(seed) for seed in range(n_orig)])
    out: dict[str, dict[str, float]] = {}
    for family, d in copies.items():
        if not family.startswith("crop"):
            continue
        found = np.diag(judge(d, thresholds).own)
        centre = np.diag(judge(d, thresholds, (0,)).own)
        out[family] = {style: float(found[styles == style].mean()) for style in STYLES}
        out[family]["centre crops alone"] = float(centre.mean())
    return out


def _print_crop_styles(crop_styles: dict[str, dict[str, float]]) -> None:
    print("\nown intake, crop families by style (and with the centre crops alone):")
    for family, row in crop_styles.items():
        print(f"  {family:36s} " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))


def _print_registration(
    registration: dict[str, dict[str, str | float]], stored: npt.NDArray[np.int64], bank: Bank
) -> None:
    groups = ", ".join(f"{group} {len(bank.crop_groups[g])}" for g, group in enumerate(CROP_GROUPS))
    print(
        f"\nregistration (own intake): {bank.crops.shape[1]} crops ({groups}) and 9 grid cells; "
        f"hashes stored per item (its own, and the extras of quality >= {QUALITY_MIN}): "
        f"mean {stored.mean():.1f}, min {stored.min()}, max {stored.max()}"
    )
    for name, row in registration.items():
        print(
            f"  {name:16s} {row['size']!s:>10s}: whole image {row['whole_ms']:.1f} ms, "
            f"with crops and cells {row['with_extras_ms']:.1f} ms, "
            f"{row['stored_hashes']:.1f} hashes stored"
        )


def _write(name: str, payload: dict[str, object]) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(payload, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
