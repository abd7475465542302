"""Benchmark: sealing and verifying evidence bundles, beside the same checks done by the
standard tools (`sha256sum`, `openssl pkeyutl -verify`, `openssl ts -verify`) as subprocesses.

Usage: .venv/bin/python bench/seal.py [--bundles N] [--quick]

A capture like a real one, generated: a 1280x2400 PNG screenshot, 60 KB of HTML, a WARC of 24
exchanges and 8 pictures (neutral generated images only). A demo RFC 3161 authority runs on
127.0.0.1. Times are wall-clock per bundle, p50 and p95:

- seal: `seal_capture`, time-stamp request to the local authority and CRL fetch included;
- seal (recorded): the same with a recorded time-stamp, i.e. Rempart's own work;
- verify: `verify_bundle` with trusted key and root (every check);
- anchor: sha256sum -c over every listed file + two `openssl pkeyutl -verify` + `openssl ts
  -verify`, on the files already extracted (the hand check of docs/verify.md, minus unzip).

Results go to stdout and bench/results/seal.json.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

import httpx  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from rempart.demo_site.tsa import DemoTimestampAuthority  # noqa: E402
from rempart.evidence.artifacts import Artifact, Capture, CapturedMedia  # noqa: E402
from rempart.evidence.bundle import capture_custody_detail, seal_capture  # noqa: E402
from rempart.evidence.custody import CustodyAction, append  # noqa: E402
from rempart.evidence.keys import SigningKey  # noqa: E402
from rempart.evidence.timestamps import (  # noqa: E402
    Timestamp,
    TimestampAuthority,
    make_timestamper,
)
from rempart.evidence.verify import verify_bundle  # noqa: E402
from rempart.samples import neutral_image, web_jpeg  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "seal.json"
START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def _png(seed: int, width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, width, height).save(buffer, "PNG")
    return buffer.getvalue()


def make_capture(seed: int) -> Capture:
    """One page: screenshot, HTML, 8 pictures, and a WARC of 24 exchanges holding them."""
    page = f"http://forum.example.test/board/{seed}"
    html = (f"<html><body>{'<p>talk about landscapes</p>' * 2000}</body></html>").encode()
    pictures = [web_jpeg(seed * 100 + i, 640, 480) for i in range(8)]
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=True)
    bodies = [(page, html, "text/html")]
    bodies += [(f"http://img.example.test/{seed}/{i}.jpg", p, "image/jpeg") for i, p in
               enumerate(pictures)]  # fmt: skip
    bodies += [(f"http://forum.example.test/static/{i}.css", b"p{}" * 500, "text/css")
               for i in range(15)]  # fmt: skip
    for number, (url, body, kind) in enumerate(bodies):
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1"),
            warc_headers_dict={
                "WARC-Date": "2025-03-14T09:00:00Z",
                "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{number:012d}>",
            },
        )
        writer.write_record(record)
    at = START + timedelta(seconds=5)
    artifacts = [
        Artifact("archive/data.warc.gz", stream.getvalue(), "application/warc", at),
        Artifact("capture/page.html", html, "text/html", at),
        Artifact("capture/screenshot.png", _png(seed, 1280, 2400), "image/png", at),
    ]
    media = []
    for i, picture in enumerate(pictures):
        artifacts.append(Artifact(f"media/{i}.jpg", picture, "image/jpeg", at))
        media.append(
            CapturedMedia(
                url=bodies[1 + i][0],
                sha256=hashlib.sha256(picture).hexdigest(),
                size=len(picture),
                media_type="image/jpeg",
                artifact=f"media/{i}.jpg",
                pdq="0f" * 32,
                quality=80,
                width=640,
                height=480,
            )
        )
    return Capture(
        url=page,
        final_url=page,
        link_path=("http://forum.example.test/", page),
        started_at=START,
        finished_at=START + timedelta(seconds=8),
        artifacts=tuple(artifacts),
        media=tuple(media),
        context={"operator": "bench", "title": "bench page"},
    )


@contextmanager
def demo_sealing() -> Iterator[
    tuple[SigningKey, Callable[[bytes], Sequence[Timestamp]], DemoTimestampAuthority]
]:
    """A fixed bench key, and a time-stamper on the demo authority running for the block."""
    seed_key = hashlib.sha256(b"bench sealing key").digest()
    key = SigningKey.from_private(Ed25519PrivateKey.from_private_bytes(seed_key), created=START)
    with DemoTimestampAuthority.start() as tsa, httpx.Client(trust_env=False) as http:
        authority = TimestampAuthority("demo", tsa.url, (tsa.root_pem,))
        yield key, make_timestamper([authority], http=http), tsa


def seal(
    capture: Capture, key: SigningKey, stamper: Callable[[bytes], Sequence[Timestamp]]
) -> bytes:
    event = append(
        None,
        at=capture.finished_at,
        actor="bench",
        action=CustodyAction.CAPTURE,
        subject="finding:bench",
        detail=capture_custody_detail(capture),
    )
    return seal_capture(
        capture,
        key=key,
        custody=(event,),
        timestamper=stamper,
        case_ref="bench",
        finding_ref="bench",
        operator="bench",
        created=capture.finished_at,
    )


def anchor(folder: Path, root_pem: Path) -> None:
    """The hand check with standard tools, on an extracted bundle (as in docs/verify.md)."""
    datapackage = json.loads((folder / "datapackage.json").read_bytes())
    listing = "".join(f"{r['hash'][7:]}  {r['path']}\n" for r in datapackage["resources"])
    run = {"cwd": folder, "check": True, "capture_output": True, "timeout": 60}
    subprocess.run(["sha256sum", "-c", "-"], input=listing.encode(), **run)
    digest = json.loads((folder / "datapackage-digest.json").read_bytes())["signedData"]
    (folder / "signed.txt").write_text(digest["hash"])
    (folder / "key.der").write_bytes(base64.b64decode(digest["publicKey"]))
    (folder / "sig.bin").write_bytes(base64.b64decode(digest["signature"]))
    verify = ["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "key.der",
              "-rawin"]  # fmt: skip
    subprocess.run([*verify, "-in", "signed.txt", "-sigfile", "sig.bin"], **run)
    subprocess.run([*verify, "-in", "rempart/seal.json", "-sigfile", "rempart/seal.sig"], **run)
    subprocess.run(
        ["openssl", "ts", "-verify", "-data", "datapackage-digest.json", "-in",
         "rempart/timestamps/01-demo.tsr", "-CAfile", str(root_pem), "-untrusted",
         "rempart/timestamps/01-demo.chain.pem"],
        **run,
    )  # fmt: skip


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundles", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 bundles")
    args = parser.parse_args()
    count = 5 if args.quick else args.bundles

    captures = [make_capture(seed) for seed in range(count)]
    rows: dict[str, tuple[float, float]] = {}
    with demo_sealing() as (key, stamper, tsa):
        seal(captures[0], key, stamper)  # warm up: imports, connections
        bundles, seal_times = [], []
        for capture in captures:
            started = time.perf_counter()
            bundles.append(seal(capture, key, stamper))
            seal_times.append(time.perf_counter() - started)
        recorded = {}

        def replay(data: bytes) -> Sequence[Timestamp]:
            if data not in recorded:
                recorded[data] = stamper(data)
            return recorded[data]

        for capture in captures:
            seal(capture, key, replay)
        local_times = [timed(lambda c=capture: seal(c, key, replay)) for capture in captures]
        root = tsa.root
        root_pem = tsa.root_pem

    verify_times, anchor_times = [], []
    with tempfile.TemporaryDirectory() as work:
        root_file = Path(work) / "root.pem"
        root_file.write_bytes(root_pem)
        for number, bundle in enumerate(bundles):
            report = verify_bundle(bundle, trusted_keys=[key.fingerprint], tsa_roots=[root])
            assert report.ok and report.trusted, "a fresh bundle must verify"
            verify_times.append(
                timed(lambda b=bundle: verify_bundle(b, trusted_keys=[key.fingerprint],
                                                     tsa_roots=[root]))
            )  # fmt: skip
            folder = Path(work) / str(number)
            with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
                archive.extractall(folder)
            anchor(folder, root_file)  # warm the page cache and the binaries
            anchor_times.append(timed(lambda f=folder: anchor(f, root_file)))

    rows["seal (local TSA round trip included)"] = percentiles(seal_times)
    rows["seal (recorded time-stamp)"] = percentiles(local_times)
    rows["verify_bundle (all checks)"] = percentiles(verify_times)
    rows["anchor: sha256sum + openssl x3"] = percentiles(anchor_times)
    size = statistics.median(len(b) for b in bundles)
    print(f"{count} bundles of {size / 1e6:.2f} MB (median), {platform.python_version()}, "
          f"{platform.machine()}")  # fmt: skip
    print(f"{'':40} {'p50 ms':>9} {'p95 ms':>9}")
    for name, (p50, p95) in rows.items():
        print(f"{name:40} {p50:9.1f} {p95:9.1f}")
    ratio = rows["verify_bundle (all checks)"][0] / rows["anchor: sha256sum + openssl x3"][0]
    print(f"verify / anchor (p50): {ratio:.2f}  (below 1: Rempart's full verification is faster "
          "than the partial hand check with standard tools)")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "bundles": count,
                "bundle_bytes_median": size,
                "ms": {name: {"p50": p50, "p95": p95} for name, (p50, p95) in rows.items()},
                "verify_over_anchor_p50": ratio,
                "python": platform.python_version(),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
