"""Benchmark: registering 100 items against 1 million media already seen (retro-matching).

Usage: .venv/bin/python bench/retro.py [--seen 1000000] [--items 100] [--db URL] [--keep PATH]

Synthesises a store of N kept media (`seen_signals` rows) as scans leave them with banks that
hold crops and grid cells: each media has its whole hash in 8 variants, 9 grid cells and one
smoothed hash (18 signals), and one in four a picture window in 8 variants too (26); hashes
are random (unrelated pictures lie ~128 bits apart). Then registers M items as `bank add`
does by default (the hash, 2 crops, 65 smoothed crops, 9 grid cells: 77 hashes each) and
times `rempart.jobs.retro.find_earlier`: the first stage (an index over the new items' hashes,
the kept signals streamed through it 100,000 rows at a time), the digest look-up and the
Matcher's decision on the candidates. Ten kept media are planted near-copies of items (their
whole hash 8-24 bits from the item's, one a grid-only match, one a digest match): all ten
must come back, or the command fails. Re-fetching is not timed (it costs one fetch per hit,
as a scan does).

SQLite by default (a temporary file; `--keep PATH` keeps it for a re-run); `--db` takes a
PostgreSQL URL (its tables are created there: use an empty database). Results go to stdout
and bench/results/retro.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from machine_info import basics  # noqa: E402  (bench/machine_info.py)

RESULTS = ROOT / "bench" / "results" / "retro.json"
CHUNK = 10_000
GRID = [f"r{r}c{c}" for r in range(3) for c in range(3)]


def _records(rng: np.random.Generator, n: int) -> list[bytes]:
    """Packed signals of n unrelated media (see the docstring for their make-up)."""
    from rempart.matching.packed import _KINDS, RECORD

    windows = rng.random(n) < 0.25
    counts = np.where(windows, 26, 18)
    records = np.zeros(int(counts.sum()), dtype=RECORD)
    records["code"] = np.frombuffer(rng.bytes(32 * len(records)), np.uint8).reshape(-1, 32)
    records["quality"] = 90
    records["at_s"] = np.nan
    kinds = np.array(
        [_KINDS["whole"]] * 8 + [_KINDS["grid"]] * 9 + [_KINDS["smooth"]] + [_KINDS["trimmed"]] * 8,
        dtype=np.uint8,
    )
    variants = np.array(list(range(8)) + [0] * 10 + list(range(8)), dtype=np.uint8)
    labels = np.array([0] * 8 + list(range(1, 10)) + [0] * 9, dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for size in (18, 26):
        rows = starts[counts == size]
        at = (rows[:, None] + np.arange(size)[None, :]).ravel()
        records["kind"][at] = np.tile(kinds[:size], len(rows))
        records["variant"][at] = np.tile(variants[:size], len(rows))
        records["label"][at] = np.tile(labels[:size], len(rows))
    raw = records.tobytes()
    ends = np.cumsum(counts) * RECORD.itemsize
    return [raw[a:b] for a, b in zip(np.concatenate([[0], ends[:-1]]), ends, strict=True)]


def _flip(code: bytes, bits: int, rng: np.random.Generator) -> bytes:
    value = bytearray(code)
    for bit in rng.choice(256, bits, replace=False):
        value[int(bit) // 8] ^= 1 << (int(bit) % 8)
    return bytes(value)


def _fill(db_url: str, seen: int, items: int, seed: int) -> tuple[list[int], set[int]]:
    """The store: a source, N kept media, a bank of M items; returns the items' ids and the
    ids of the planted kept media."""
    from sqlalchemy import insert, select

    from rempart.intake import banks
    from rempart.matching.packed import _KINDS, RECORD
    from rempart.store.database import Database
    from rempart.store.models import Bank, Item, ItemSignal, SeenSignals, SourceRow

    rng = np.random.default_rng(seed)
    db = Database.open(db_url)
    now = datetime.now(UTC)
    with db.session() as session:
        source = SourceRow(name="seen-bench", kind="files", settings="{}", created_at=now)
        session.add(source)
        session.flush()
        source_id = source.id
    banks.create_bank(db, "victims")
    item_codes = [rng.bytes(32) for _ in range(items)]
    with db.session() as session:
        bank_id = session.scalar(select(Bank.id).where(Bank.name == "victims"))
        rows = [
            {
                "bank_id": bank_id,
                "pdq": code.hex(),
                "quality": 90,
                "sha256": hashlib.sha256(code).hexdigest(),
                "md5": hashlib.md5(code, usedforsecurity=False).hexdigest(),
                "label": "",
                "origin": "bench",
                "created_at": now,
            }
            for code in item_codes
        ]
        session.execute(insert(Item), rows)
        ids = list(
            session.scalars(select(Item.id).where(Item.bank_id == bank_id).order_by(Item.id))
        )
        grids: dict[int, bytes] = {}
        signals = []
        for item_id in ids:
            extra = [("crop", f"centre-{s}") for s in (90, 80)]
            extra += [("crop_smooth", f"80-x{i}") for i in range(65)]
            extra += [("grid", label) for label in GRID]
            for kind, label in extra:
                code = rng.bytes(32)
                if kind == "grid" and label == "r1c1":
                    grids[item_id] = code
                signals.append(
                    {
                        "item_id": item_id,
                        "kind": kind,
                        "label": label,
                        "pdq": code.hex(),
                        "quality": 90,
                    }
                )
        session.execute(insert(ItemSignal), signals)

    planted: dict[int, bytes] = {}  # row number -> packed signals
    picks = rng.choice(seen, 10, replace=False)
    for n, row in enumerate(picks):
        item = n % items
        records = np.zeros(18, dtype=RECORD)
        records["code"] = np.frombuffer(rng.bytes(32 * 18), np.uint8).reshape(-1, 32)
        records["quality"], records["at_s"] = 90, np.nan
        records["kind"][:8], records["kind"][8:17], records["kind"][17] = (
            _KINDS["whole"],
            _KINDS["grid"],
            _KINDS["smooth"],
        )
        records["variant"][:8] = range(8)
        records["label"][8:17] = range(1, 10)
        if n == 8:  # under stickers: only the centre cell survives
            records["code"][12] = np.frombuffer(_flip(grids[ids[item]], 20, rng), np.uint8)
        elif n < 8:  # mirrored, recompressed: one variant 8-24 bits away
            near = _flip(item_codes[item], int(8 + 2 * n), rng)
            records["code"][5] = np.frombuffer(near, np.uint8)
        planted[int(row)] = records.tobytes()
    digest_row = int(picks[9])  # n == 9: the same file, byte for byte

    started = time.perf_counter()
    for start in range(0, seen, CHUNK):
        with db.session() as session:
            connection = session.connection()
            size = min(CHUNK, seen - start)
            packed = _records(rng, size)
            batch = []
            for offset, signals_of in enumerate(packed):
                row = start + offset
                signals_of = planted.get(row, signals_of)
                sha = hashlib.sha256(row.to_bytes(8, "little")).hexdigest()
                if row == digest_row:
                    sha = hashlib.sha256(item_codes[9 % items]).hexdigest()
                batch.append(
                    {
                        "source_id": source_id,
                        "key_sha": hashlib.sha256(str(row).encode()).hexdigest(),
                        "key": f"https://forum.example/media/{row}.jpg",
                        "media_url": f"https://forum.example/media/{row}.jpg",
                        "page_url": f"https://forum.example/threads/{row // 20}",
                        "context": "{}",
                        "media": "image",
                        "sha256": sha,
                        "md5": hashlib.md5(sha.encode(), usedforsecurity=False).hexdigest()
                        if row != digest_row
                        else hashlib.md5(item_codes[9 % items], usedforsecurity=False).hexdigest(),
                        "width": 800,
                        "height": 600,
                        "signals": signals_of,
                        "first_seen_at": now,
                        "last_seen_at": now,
                    }
                )
            connection.execute(insert(SeenSignals), batch)
        if (start // CHUNK) % 10 == 9:
            print(f"  {start + size:,} kept media written", file=sys.stderr)
    print(f"  filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with db.session() as session:
        urls = [f"https://forum.example/media/{row}.jpg" for row in picks]
        planted_ids = set(
            session.scalars(select(SeenSignals.id).where(SeenSignals.media_url.in_(urls)))
        )
    db.dispose()
    return ids, planted_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seen", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--db", help="a database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--keep", type=Path, help="keep the SQLite file here (reused if there)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy import select

    from rempart.jobs.retro import find_earlier
    from rempart.matching.service import Matcher
    from rempart.store.database import Database
    from rempart.store.models import Item

    folder = tempfile.mkdtemp(prefix="rempart-retro-")
    path = args.keep or Path(folder) / "retro.db"
    url = args.db or f"sqlite:///{path}"
    reuse = args.db is None and args.keep is not None and args.keep.exists()
    if reuse:  # the planted rows are not known again: their number is checked
        db = Database.open(url)
        with db.session() as session:
            ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        db.dispose()
        planted: set[int] = set()
    else:
        ids, planted = _fill(url, args.seen, args.items, args.seed)

    timings = []
    db = Database.open(url)
    for _ in range(args.runs):
        matcher = Matcher(db)
        search = find_earlier(db, matcher, ids)
        timings.append(search.seconds)
        found = {e.seen_id for e in search.earlier}
        if planted and found != planted:
            raise SystemExit(f"planted {sorted(planted)}, found {sorted(found)}")
        if len(found) != 10:
            raise SystemExit(f"10 planted earlier sightings, found {len(found)}")
    size = path.stat().st_size if args.db is None else None
    result = {
        "database": "postgresql" if args.db else "sqlite",
        "seen": search.compared,
        "items": search.items,
        "candidates": search.candidates,
        "earlier": len(search.earlier),
        "seconds": [round(t, 2) for t in timings],
        "best_s": round(min(timings), 2),
        "seen_per_s": round(search.compared / min(timings)),
        "database_bytes": size,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": basics(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    db.dispose()
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    if args.keep is None and args.db is None:
        os.unlink(path)


if __name__ == "__main__":
    main()
