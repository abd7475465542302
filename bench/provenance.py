"""Benchmark: what each provenance signal survives, and what reading it costs per picture.

Usage: .venv/bin/python bench/provenance.py [--repeat 20]

Makes neutral pictures carrying each signal (A1111 `parameters`, ComfyUI `prompt`, XMP
DigitalSourceType, camera EXIF, a C2PA manifest signed by a test chain, A1111 parameters
hidden in the alpha channel, the SD-XL watermark), passes each through what forums do
(re-encode as JPEG q75, resize to 75%, a "screenshot": the pixels re-saved as PNG,
metadata stripping) and says whether the signal is still read. Then times
`read_provenance` (metadata only, as scans run it, and with the watermark search) against
hashing the same picture as scans do. Results go to stdout and
bench/results/provenance.json.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "provenance"))

from provenance_support import (  # noqa: E402
    IPTC,
    c2pa_jpeg,
    exif,
    jpeg,
    png_with_text,
    stealth_png,
    xmp_packet,
)

from machine_info import basics  # noqa: E402  (bench/machine_info.py)
from rempart.hashing import Windows, hash_image_bytes  # noqa: E402
from rempart.hashing.video import hash_video_bytes  # noqa: E402
from rempart.provenance import read_provenance  # noqa: E402
from rempart.provenance import watermark as wm  # noqa: E402
from rempart.samples import neutral_image, neutral_video, web_jpeg  # noqa: E402

A1111 = "x\nSteps: 20, Sampler: Euler, Seed: 7, Model: example"
COMFY = json.dumps({"1": {"class_type": "KSampler", "inputs": {"seed": 7}}})


def _watermarked() -> bytes | None:
    module = wm._max_dct()
    if module is None:
        return None
    bits = [(wm.SDXL_MARK >> (47 - i)) & 1 for i in range(48)]
    rgb = np.asarray(neutral_image(0, 512, 512, "texture"))
    marked = module.EmbedMaxDct(watermarks=bits, wmLen=48).encode(
        np.ascontiguousarray(rgb[:, :, ::-1]).astype(np.float32)
    )
    out = io.BytesIO()
    Image.fromarray(np.clip(np.round(marked), 0, 255).astype(np.uint8)[:, :, ::-1]).save(out, "PNG")
    return out.getvalue()


def _sources() -> dict[str, bytes]:
    found = {
        "a1111 parameters (PNG)": png_with_text({"parameters": A1111}),
        "comfyui prompt (PNG)": png_with_text({"prompt": COMFY}),
        "xmp trainedAlgorithmicMedia (JPEG)": jpeg(
            xmp=xmp_packet(f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"/>')
        ),
        "camera exif (JPEG)": jpeg(exif=exif(Make="Canon", Model="EOS R6")),
        "a1111 hidden in alpha (RGBA PNG)": stealth_png(A1111.encode(), size=(256, 256)),
        "c2pa trainedAlgorithmicMedia (JPEG)": c2pa_jpeg(
            [{"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}]
        ),
    }
    marked = _watermarked()
    if marked is not None:
        found["sd-xl watermark (PNG)"] = marked
    return found


def _reencode(data: bytes) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, "JPEG", quality=75)
    return out.getvalue()


def _resize(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    fmt = image.format or "PNG"
    small = image.resize((image.width * 3 // 4, image.height * 3 // 4))
    out = io.BytesIO()
    # Pillow keeps EXIF and XMP only when told to, as most forum software does not.
    small.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def _screenshot(data: bytes) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").copy().save(out, "PNG")
    return out.getvalue()


def _strip(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    clean = Image.frombytes(image.mode, image.size, image.tobytes())  # pixels only
    out = io.BytesIO()
    clean.save(out, image.format or "PNG")
    return out.getvalue()


TRANSFORMS: dict[str, Callable[[bytes], bytes]] = {
    "untouched": lambda d: d,
    "jpeg q75": _reencode,
    "resize 75%": _resize,
    "screenshot (PNG)": _screenshot,
    "metadata stripped": _strip,
}


def _verdict(data: bytes) -> str:
    return read_provenance(data).verdict.value


def _ms(run: Callable[[], object], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    survival = {
        name: {t: _verdict(f(data)) for t, f in TRANSFORMS.items()}
        for name, data in _sources().items()
    }
    width = max(len(n) for n in survival)
    print("verdict after each transformation")
    print(" " * width, *(f"{t:>18}" for t in TRANSFORMS))
    for name, row in survival.items():
        print(f"{name:<{width}}", *(f"{row[t]:>18}" for t in TRANSFORMS))
    costs = {}
    photo = Image.open(io.BytesIO(web_jpeg(2, 832, 1216))).convert("RGBA")
    plain_rgba = io.BytesIO()
    photo.save(plain_rgba, "PNG")
    novel = json.dumps({"Software": "NovelAI", "Comment": json.dumps({"signed_hash": "A" * 88})})
    for label, data in (
        ("web jpeg 1920x1080", web_jpeg(1, 1920, 1080)),
        ("a1111 png 96x64", png_with_text({"parameters": A1111})),
        ("rgba png 832x1216, nothing hidden", plain_rgba.getvalue()),
        (
            "rgba png 832x1216, NovelAI text hidden and signed",
            stealth_png(novel.encode(), base=photo, chunks=json.loads(novel)),
        ),
    ):
        hashing = _ms(
            lambda d=data: hash_image_bytes(d, dihedral=True, windows=Windows.CROPS),
            args.repeat,
        )
        meta = _ms(lambda d=data: read_provenance(d, watermark=False), args.repeat)
        full = _ms(lambda d=data: read_provenance(d), max(3, args.repeat // 4))
        costs[label] = {"hash_ms": hashing, "metadata_ms": meta, "with_watermark_ms": full}
        print(
            f"{label}: hashing {hashing:.1f} ms; provenance metadata {meta:.2f} ms "
            f"({100 * meta / hashing:.1f}% of hashing); with watermark {full:.0f} ms"
        )
    video = neutral_video(3, 10)  # 10 s, 320x240 H.264 MP4: tags read, no frame decoded
    hashing = _ms(lambda: hash_video_bytes(video), max(3, args.repeat // 4))
    meta = _ms(lambda: read_provenance(video, watermark=False), args.repeat)
    costs["video mp4 10 s 320x240"] = {"hash_ms": hashing, "metadata_ms": meta}
    print(
        f"video mp4 10 s 320x240: hashing {hashing:.1f} ms; provenance tags {meta:.2f} ms "
        f"({100 * meta / hashing:.1f}% of hashing)"
    )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "provenance.json").write_text(
        json.dumps({"machine": basics(), "survival": survival, "costs": costs}, indent=2)
    )


if __name__ == "__main__":
    main()
