"""Benchmark: memory and time to scan a large Telegram export (result.json streamed).

Usage: .venv/bin/python bench/telegram.py [--megabytes 44] [--seed S]

Writes a single-chat export of neutral text messages (about --megabytes MB, the size of the
security review's test) with one photo message at the very end, then, each in a fresh child
process so that its peak resident memory is its own:

* scan:  `TelegramExportSource(...).scan` as `rempart scan` runs it (the photo must be found);
* loads: `json.loads` of the whole file, as the scan did before it streamed: the reference.

Reported: wall time, peak RSS (ru_maxrss) and, for the scan, tracemalloc's peak (Python
allocations only). Results go to stdout and bench/results/telegram.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_export(folder: Path, megabytes: int, seed: int) -> int:
    from rempart.samples import web_jpeg

    rng = random.Random(seed)
    words = ["harbour", "market", "lighthouse", "bridge", "river", "garden", "station", "clock"]
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1.jpg").write_bytes(web_jpeg(1, 64, 48))
    with (folder / "result.json").open("w", encoding="utf-8") as handle:
        handle.write('{"name": "Big", "type": "public_channel", "id": 1698765432, "messages": [\n')
        number, written = 1, 0
        while written < megabytes * 1_000_000:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
            message = {
                "id": number,
                "type": "message",
                "date": "2024-05-01T12:00:00",
                "date_unixtime": str(1714557600 + number),
                "from": "Editor",
                "from_id": "channel1698765432",
                "text": [text, {"type": "bold", "text": str(number)}],
                "text_entities": [{"type": "plain", "text": text}],
            }
            line = json.dumps(message, ensure_ascii=False) + ",\n"
            handle.write(line)
            written += len(line)
            number += 1
        last = {"id": number, "type": "message", "photo": "photos/photo_1.jpg"}
        handle.write(json.dumps(last) + "\n]}\n")
    return (folder / "result.json").stat().st_size


def child(mode: str, folder: Path) -> dict[str, float]:
    start = time.perf_counter()
    if mode == "scan":
        import tracemalloc

        from rempart.sources.base import Candidate
        from rempart.sources.telegram import TelegramExportSource

        class State:
            def seen(self, key: str) -> bool:
                return False

        tracemalloc.start()
        found = [
            item
            for item in TelegramExportSource(folder).scan(State())  # type: ignore[arg-type]
            if isinstance(item, Candidate)
        ]
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(found) == 1, found
    else:
        traced = 0.0
        document = json.loads((folder / "result.json").read_bytes())
        assert document["messages"]
    return {
        "seconds": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak_mb": traced / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=44)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--child", choices=["scan", "loads"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder)))
        return
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "ChatExport_big"
        size = write_export(folder, args.megabytes, args.seed)
        runs = {}
        for mode in ("scan", "loads"):
            command = [sys.executable, __file__, "--child", mode, "--folder", str(folder)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs[mode] = json.loads(output.splitlines()[-1])
    result = {
        "export_mb": size / 1e6,
        "seed": args.seed,
        "python": platform.python_version(),
        "machine": platform.machine(),
        **runs,
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "telegram.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
