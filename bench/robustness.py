"""Benchmark: how well altered copies are found, and how often unrelated images match.

Usage: .venv/bin/python bench/robustness.py [--originals N] [--distractors M] [--quick]

Everything is generated (rempart.samples): originals, distractors of every style, and the
altered copies, by the families re-uploaders use. Three matchers side by side, in one run:
  * plain PDQ: one `pdqhash.compute` hash of the copy, as most tools match (distance <= 31);
  * Rempart now: `hash_image_bytes` with its 8 rotation/flip variants and its query windows
    (distance <= 31);
  * imagehash pHash (64 bits), its threshold set to the largest with no false match here.
Recall per family, and false matches over all distractor x original pairs. Results go to
stdout and bench/results/robustness.json.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from rempart.hashing import hash_image_bytes  # noqa: E402
from rempart.samples import neutral_image  # noqa: E402

PDQ_THRESHOLD = 31
Alter = Callable[[Image.Image, np.random.Generator], Image.Image]


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


def _bits(hex_hash: str) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(hex_hash), dtype=np.uint8))


class Hashes:
    """The three matchers' hashes of one image: plain PDQ, Rempart's 8 variants, pHash."""

    def __init__(self, data: bytes) -> None:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        vector, _quality = pdqhash.compute(rgb)
        self.plain = np.asarray(vector, dtype=np.uint8)
        ours = hash_image_bytes(data, dihedral=True, windows=True)
        signals = [*ours.variants, *(v for w in ours.windows for v in w.variants)]
        self.variants = np.stack([_bits(v.hash.hex) for v in signals])  # whole image first
        self.phash = imagehash.phash(Image.open(io.BytesIO(data))).hash.flatten().astype(np.uint8)


def _distances(queries: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Hamming distances between bit rows: (q, bits) x (r, bits) -> (q, r), in chunks."""
    packed_r = np.packbits(refs, axis=1)
    out = np.empty((len(queries), len(refs)), dtype=np.int16)
    for start in range(0, len(queries), 1024):
        packed_q = np.packbits(queries[start : start + 1024], axis=1)
        xor = packed_q[:, None, :] ^ packed_r[None, :, :]
        out[start : start + 1024] = _POPCOUNT[xor].sum(axis=2)
    return out


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int16)


def _min_distances(hashes: list[Hashes], refs: np.ndarray) -> np.ndarray:
    """For each image, its smallest distance to each ref over all its signals."""
    rows = np.concatenate([h.variants for h in hashes])
    owners = np.repeat(np.arange(len(hashes)), [len(h.variants) for h in hashes])
    best = np.full((len(hashes), len(refs)), 256, dtype=np.int16)
    np.minimum.at(best, owners, _distances(rows, refs))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--originals", type=int, default=300)
    parser.add_argument("--distractors", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="30 originals, 300 distractors")
    args = parser.parse_args()
    n_orig, n_dist = (30, 300) if args.quick else (args.originals, args.distractors)
    started = time.time()
    size = (480, 360)
    originals = [neutral_image(s, *size) for s in range(n_orig)]
    refs = [Hashes(_jpeg(im)) for im in originals]
    ref_plain = np.stack([h.plain for h in refs])
    ref_ours = np.stack([h.variants[0] for h in refs])
    ref_phash = np.stack([h.phash for h in refs])

    distractors = [Hashes(_jpeg(neutral_image(10**6 + s, *size))) for s in range(n_dist)]
    d_plain = _distances(np.stack([h.plain for h in distractors]), ref_plain)
    d_ours = _min_distances(distractors, ref_ours)
    d_phash = _distances(np.stack([h.phash for h in distractors]), ref_phash)
    phash_threshold = int(d_phash.min()) - 1  # the largest with no false match on this set
    false = {
        "plain PDQ": int((d_plain <= PDQ_THRESHOLD).sum()),
        "rempart": int((d_ours <= PDQ_THRESHOLD).sum()),
        f"pHash <= {phash_threshold}": int((d_phash <= phash_threshold).sum()),
    }

    rows: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(7)
    for family, alter in FAMILIES.items():
        hits = {"plain PDQ": 0, "rempart": 0, "pHash": 0}
        for i, im in enumerate(originals):
            h = Hashes(_jpeg(alter(im, rng), 85))
            hits["plain PDQ"] += int(np.count_nonzero(h.plain != refs[i].plain) <= PDQ_THRESHOLD)
            best = min(int(np.count_nonzero(v != refs[i].variants[0])) for v in h.variants)
            hits["rempart"] += int(best <= PDQ_THRESHOLD)
            hits["pHash"] += int(np.count_nonzero(h.phash != refs[i].phash) <= phash_threshold)
        rows[family] = {k: v / n_orig for k, v in hits.items()}
        print(f"  {family:22s} " + "  ".join(f"{k} {v:.3f}" for k, v in rows[family].items()))

    means = {
        k: float(np.mean([r[k] for r in rows.values()])) for k in ("plain PDQ", "rempart", "pHash")
    }
    pairs = n_orig * n_dist
    print()
    print(
        f"{n_orig} originals, {n_dist} distractors ({pairs:,} pairs), {time.time() - started:.0f} s"
    )
    print(f"{'family':24s} {'plain PDQ':>10s} {'rempart':>10s} {'pHash':>10s}")
    for family, r in rows.items():
        print(f"{family:24s} {r['plain PDQ']:10.3f} {r['rempart']:10.3f} {r['pHash']:10.3f}")
    print(f"{'mean recall':24s} " + " ".join(f"{m:10.3f}" for m in means.values()))
    print(
        f"{'worst family':24s} "
        + " ".join(
            f"{min(r[k] for r in rows.values()):10.3f}" for k in ("plain PDQ", "rempart", "pHash")
        )
    )
    print(
        "false matches over all distractor x original pairs: "
        + ", ".join(f"{k}: {v}" for k, v in false.items())
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(
        json.dumps(
            {
                "originals": n_orig,
                "distractors": n_dist,
                "pdq_threshold": PDQ_THRESHOLD,
                "phash_threshold": phash_threshold,
                "recall": rows,
                "mean_recall": means,
                "false_matches": false,
                "min_distractor_distance": {
                    "plain PDQ": int(d_plain.min()),
                    "rempart": int(d_ours.min()),
                    "pHash": int(d_phash.min()),
                },
                "seconds": round(time.time() - started, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
