"""Benchmark and driver: the victim's offline page in Chromium against the CLI.

Usage: .venv/bin/python bench/intake_page.py [--pictures N] [--megapixels M] [--quick]

Writes N generated neutral pictures of varied formats (EXIF-rotated phone-like JPEGs, PNG,
WebP), hashes them in the page (opened from file://, driven by Playwright in Debian's
Chromium) and with `hash_image_bytes`, and reports the PDQ distance on pictures of quality
>= 50, the extras' and local features' agreement, the page's wall-clock time and any network
request. A second run times M-megapixel photos (the speed goal: 100 twelve-megapixel photos
in under a minute).
Results go to stdout and bench/results/intake_page.json. tests/intake/test_page_browser.py
drives the page through the functions here.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from machine_info import basics  # noqa: E402  (bench/machine_info.py)
from rempart.samples import neutral_image  # noqa: E402

if TYPE_CHECKING:  # Playwright loads when a page is driven
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("REMPART_CHROMIUM", "/usr/bin/chromium")
RESULTS = ROOT / "bench" / "results" / "intake_page.json"
FORMATS = ("jpeg-exif", "png", "webp", "jpeg")


def picture(seed: int, kind: str, width: int, height: int) -> bytes:
    """A neutral picture as a file: `jpeg-exif` is stored sideways with an EXIF orientation
    (5-8 or 2-4) saying how to show it, as phones do."""
    image = neutral_image(seed, width, height)
    buffer = io.BytesIO()
    if kind == "png":
        image.save(buffer, "PNG", compress_level=1)
    elif kind == "webp":
        image.save(buffer, "WEBP", quality=90)
    elif kind == "jpeg-exif":
        orientation = (2, 3, 4, 5, 6, 7, 8)[seed % 7]
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(buffer, "JPEG", quality=90, exif=exif)
    else:
        image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_pictures(
    folder: Path,
    count: int,
    sizes: Sequence[tuple[int, int]],
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """`count` pictures, formats and sizes in turn (seed = position)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        kind = formats[seed % len(formats)]
        width, height = sizes[seed % len(sizes)]
        suffix = {"png": ".png", "webp": ".webp"}.get(kind, ".jpg")
        path = folder / f"{seed:03d}{suffix}"
        path.write_bytes(picture(seed, kind, width, height))
        paths.append(path)
    return paths


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    # As root, Chromium's sandbox cannot start; the page is ours and opened from a file.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageRun:
    """What one pass through the page's three steps gave."""

    hash_file: bytes
    withdrawal_file: bytes
    code: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of this process's descendants (Chromium) meanwhile
    problems: list[str] = field(default_factory=list)  # what the page said it could not read
    screenshots: dict[str, bytes] = field(default_factory=dict)


def run_page(
    browser: Browser,
    page_file: Path | str,
    pictures: Sequence[Path],
    *,
    minor: bool = False,
    label: str = "",
    lang: str = "en-GB",
    screenshots: bool = False,
) -> PageRun:
    """Open the page (a file, opened from file://, or a URL), answer, choose the pictures,
    wait for the codes (on the page's own progress, no sleeps), save the hash file and the
    withdrawal file."""
    context = browser.new_context(accept_downloads=True, locale=lang)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file if isinstance(page_file, str) else page_file.as_uri())
        # Every request after the page itself, of any kind, from any frame or worker.
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page.on("websocket", lambda socket: requests.append(socket.url))
        shots: dict[str, bytes] = {}
        if screenshots:
            shots["choose"] = page.screenshot(full_page=True)
        page.check("#depicted")
        page.check("#minor-yes" if minor else "#minor-no")
        if label:
            page.fill("#label", label)
        page.set_input_files("#files", [str(p) for p in pictures])
        started, cpu = time.perf_counter(), descendants_cpu_seconds()
        page.click("#start")
        page.wait_for_selector("#step-save:not([hidden])", timeout=_timeout(pictures))
        seconds = time.perf_counter() - started
        cpu = descendants_cpu_seconds() - cpu
        if screenshots:
            shots["save"] = page.screenshot(full_page=True)
        problems = page.locator("#problems li").all_inner_texts()
        # Nothing hashed, nothing to save: the page disables the button.
        hash_file = _download(page, "#save") if page.is_enabled("#save") else b""
        withdrawal = _download(page, "#save-withdrawal")
        code = page.inner_text("#code").strip()
        return PageRun(hash_file, withdrawal, code, requests, errors, seconds, cpu, problems, shots)
    finally:
        context.close()


def descendants_cpu_seconds() -> float:
    """User and system CPU time of the live processes below this one (Linux /proc): what
    Chromium spent, whatever else the machine was running."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, wanted = 0.0, {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted - {os.getpid()}:
        total += times.get(pid, 0.0)
    return total


def _timeout(pictures: Sequence[Path]) -> float:
    """Generous (ms): a loaded 2-core machine, not a speed claim; the wait ends on the page."""
    megabytes = sum(p.stat().st_size for p in pictures) / 1e6
    return 60_000 + 20_000 * len(pictures) + 2_000 * megabytes


def _download(page: Page, button: str) -> bytes:
    with page.expect_download() as download:
        page.click(button)
    return Path(download.value.path()).read_bytes()


def bits(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@dataclass
class Comparison:
    """Page against CLI on the same files (pictures of CLI quality >= 50 for PDQ)."""

    pdq_bits: list[int]
    digests_equal: bool
    extras_bits: list[int]  # stored extras only (quality >= 50 on the CLI side)
    extras_missing: int
    partner_bits: list[int]
    features: FeatureAgreement = field(default_factory=lambda: FeatureAgreement())
    mosaic_bits: list[int] = field(default_factory=list)  # coarse grids, every one stored


@dataclass
class FeatureAgreement:
    """The page's local features against bank add's, picture by picture."""

    pictures: int = 0  # pictures the CLI found keypoints on
    missing: int = 0  # of those, pictures the page sent none for
    identical: int = 0  # pictures whose stored bytes are the same
    keypoints: int = 0  # the CLI's keypoints
    same_place: int = 0  # page keypoints at the same place (quarter pixel) and level
    descriptor_bits: list[int] = field(default_factory=list)  # at those keypoints
    checks_equal: int = 0  # pictures with the same check points and descriptors
    window_keypoints: int = 0  # the CLI's window keypoints (features.WINDOW_SHARE)
    window_same_place: int = 0  # page window keypoints at the same place (quarter pixel)
    window_bits: list[int] = field(default_factory=list)  # their descriptors, at those

    def add(self, cli: bytes, page: bytes | None) -> None:
        from rempart.hashing.features import LocalFeatures

        ours = LocalFeatures.from_bytes(cli)
        if len(ours) == 0:
            return
        self.pictures += 1
        self.keypoints += len(ours)
        if page is None:
            self.missing += 1
            return
        self.identical += cli == page
        theirs = LocalFeatures.from_bytes(page)
        assert ours.octaves is not None and theirs.octaves is not None
        at = {
            (*np.rint(p * 4).astype(int).tolist(), int(o)): i
            for i, (p, o) in enumerate(zip(theirs.points, theirs.octaves, strict=True))
        }
        for p, o, d in zip(ours.points, ours.octaves, ours.descriptors, strict=True):
            i = at.get((*np.rint(p * 4).astype(int).tolist(), int(o)))
            if i is not None:
                self.same_place += 1
                self.descriptor_bits.append(int(np.unpackbits(d ^ theirs.descriptors[i]).sum()))
        if ours.check_points is not None and theirs.check_points is not None:
            assert ours.check_descriptors is not None and theirs.check_descriptors is not None
            self.checks_equal += bool(
                np.array_equal(ours.check_points, theirs.check_points)
                and np.array_equal(ours.check_descriptors, theirs.check_descriptors)
            )
        if ours.window_points is not None and ours.window_descriptors is not None:
            self.window_keypoints += len(ours.window_points)
            if theirs.window_points is None or theirs.window_descriptors is None:
                return
            found = {
                tuple(np.rint(p * 4).astype(int).tolist()): i
                for i, p in enumerate(theirs.window_points)
            }
            for p, d in zip(ours.window_points, ours.window_descriptors, strict=True):
                i = found.get(tuple(np.rint(p * 4).astype(int).tolist()))
                if i is not None:
                    self.window_same_place += 1
                    bits = np.unpackbits(d ^ theirs.window_descriptors[i]).sum()
                    self.window_bits.append(int(bits))

    def summary(self) -> dict[str, object]:
        bits = self.descriptor_bits
        return {
            "pictures": self.pictures,
            "missing": self.missing,
            "identical": self.identical,
            "same_place_share": round(self.same_place / max(1, self.keypoints), 3),
            "descriptor_bits": _summary(bits),
            "descriptors_equal_share": round(sum(b == 0 for b in bits) / max(1, len(bits)), 3),
            "checks_equal": self.checks_equal,
            "window_keypoints": self.window_keypoints,
            "window_descriptors_equal_share": round(
                sum(b == 0 for b in self.window_bits) / max(1, len(self.window_bits)), 3
            ),
            "window_same_place_share": round(
                self.window_same_place / max(1, self.window_keypoints), 3
            ),
            "window_descriptor_bits": _summary(self.window_bits),
        }


def compare(pictures: Sequence[Path], hash_file: bytes) -> Comparison:
    from rempart.hashing import REGISTRATION_EXTRAS, hash_image_bytes
    from rempart.hashing.windows import WindowKind
    from rempart.intake.hashfile import parse_hash_file

    document = json.loads(hash_file)
    pdq_bits: list[int] = []
    extras_bits: list[int] = []
    partner_bits: list[int] = []
    missing = 0
    digests = True
    features = FeatureAgreement()
    mosaic_bits: list[int] = []
    parsed = parse_hash_file(hash_file)
    for index, (path, item) in enumerate(zip(pictures, document["items"], strict=True)):
        cli = hash_image_bytes(path.read_bytes(), windows=REGISTRATION_EXTRAS)
        digests &= (cli.digest.md5, cli.digest.sha256) == (item["md5"], item["sha256"])
        if cli.pdq.quality >= 50:
            pdq_bits.append(bits(cli.pdq.hash.hex, item["pdq"]))
        page_extras = {(e["kind"], e["label"]): e["pdq"] for e in item["extras"]}
        for window in cli.windows:
            mosaic = window.window.kind == WindowKind.MOSAIC  # kept whatever its quality
            if window.variants[0].quality < 50 and not mosaic:
                continue
            theirs = page_extras.get((window.window.kind.value, window.window.label))
            if theirs is None:
                missing += 1
            else:
                apart = bits(window.variants[0].hash.hex, theirs)
                (mosaic_bits if mosaic else extras_bits).append(apart)
        if cli.partner_pdq is not None and "partner" in item:
            partner_bits.append(bits(cli.partner_pdq.hash.hex, item["partner"]["pdq"]))
        elif cli.partner_pdq is not None:
            missing += 1
        # the page's features as the import stores them: with the window keypoints merged
        # from its windows' features (hashfile._window_features)
        page = parsed.items[index].features
        features.add(cli.features[0][1].to_bytes(), None if page is None else page.to_bytes())
    return Comparison(pdq_bits, digests, extras_bits, missing, partner_bits, features, mosaic_bits)


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean": float(np.mean(values)), "max": float(max(values))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=100)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--photos", type=int, default=100, help="photos in the speed run")
    parser.add_argument("--quick", action="store_true", help="20 pictures, 10 photos")
    args = parser.parse_args()
    if args.quick:
        args.pictures, args.photos = 20, 10
    import tempfile

    from rempart.intake.offline_page import write_page

    sizes = [(640, 480), (1280, 960), (1600, 1200), (1080, 1920), (2000, 1500), (401, 299)]
    side = int((args.megapixels * 1e6 / 12) ** 0.5)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        page_file = write_page(work / "page")
        varied = write_pictures(work / "varied", args.pictures, sizes)
        # Phone photos: JPEG, half of them stored sideways with an EXIF orientation.
        photos = write_pictures(
            work / "photos", args.photos, [(4 * side, 3 * side)], ("jpeg-exif", "jpeg")
        )
        with chromium() as browser:
            run = run_page(browser, page_file, varied)
            comparison = compare(varied, run.hash_file)
            speed = run_page(browser, page_file, photos)
        load = os.getloadavg()
        result = {
            "machine": {**basics(), "load_average": [round(v, 1) for v in load]},
            "chromium": CHROMIUM,
            "pictures": args.pictures,
            "pdq_bits": _summary(comparison.pdq_bits),
            "extras_bits": _summary(comparison.extras_bits),
            "extras_missing": comparison.extras_missing,
            "mosaic_bits": _summary(comparison.mosaic_bits),
            "partner_bits": _summary(comparison.partner_bits),
            "digests_equal": comparison.digests_equal,
            "features": comparison.features.summary(),
            "requests": run.requests + speed.requests,
            "varied_seconds": round(run.seconds, 2),
            "speed": {
                "photos": len(photos),
                "megapixels": round(4 * side * 3 * side / 1e6, 1),
                "seconds": round(speed.seconds, 2),
                "per_photo_ms": round(1000 * speed.seconds / len(photos)),
                "chromium_cpu_seconds": round(speed.cpu_seconds, 1),
                "cpu_ms_per_photo": round(1000 * speed.cpu_seconds / len(photos)),
            },
        }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
