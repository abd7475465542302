"""What a scan's hash worker process runs: bytes in, each file's hashes and provenance reading
(or why it is no image) out, in order.

Owns the worker's side of rempart.jobs.scan's pipeline, and imports only hashing and
provenance: a spawned worker starts in a fifth of the time the scan module's imports (store,
matching, fetching) take, and holds half the memory. Must not touch a store or match.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized

from rempart.errors import ImageDecodeError
from rempart.hashing import ImageHashes, Windows, hash_image_bytes
from rempart.hashing.signals import pickled_by_fields
from rempart.hashing.sniff import SNIFF_BYTES, is_video
from rempart.hashing.video import VideoHashes, hash_video_bytes
from rempart.provenance import read_provenance

__all__ = ["WORKER_NICENESS", "Outcome", "Provenance", "Read", "Unreadable", "hash_all", "started"]

# The scan's first worker runs at the scan's priority, as its one worker always did; the others
# (one per further core) at a lower one: they take the cycles the scan's own thread (crawl,
# match, store) and the first worker leave, while that thread waits for hashes, and never
# slow it, on a machine busy with other work either.
WORKER_NICENESS = 10


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file that is no image (or a damaged one): the reason, as a translatable template."""

    template: str
    values: dict[str, str]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Provenance:
    """What the bytes said about their origin, read while they were in memory (JSON text,
    as stored): kept with the sighting if the copy matched."""

    verdict: str
    reading: str

    @classmethod
    def of(cls, data: bytes) -> Provenance:
        # Metadata only: the watermark search costs more than hashing, and is left to
        # `rempart provenance`.
        reading = read_provenance(data, watermark=False)
        text = json.dumps(reading.to_json(), ensure_ascii=False, sort_keys=True)
        return cls(reading.verdict.value, text)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Read:
    hashes: ImageHashes | VideoHashes
    provenance: Provenance


Outcome = Read | Unreadable


def hash_all(data: list[bytes], windows: Windows) -> list[Outcome]:
    """In a worker (or the scan's thread): hash each file; one that is no image is an outcome."""
    outcomes: list[Outcome] = []
    for item in data:
        try:
            if is_video(item[:SNIFF_BYTES]):
                hashes: ImageHashes | VideoHashes = hash_video_bytes(item)
            else:
                hashes = hash_image_bytes(item, dihedral=True, windows=windows)
        except ImageDecodeError as exc:
            values = {key: str(value) for key, value in exc.values.items()}
            outcomes.append(Unreadable(exc.template or str(exc), values))
        else:
            outcomes.append(Read(hashes, Provenance.of(item)))
    return outcomes


def started(scanner: int, started_before: Synchronized[int]) -> None:
    """In a new worker: lower its priority (WORKER_NICENESS) unless it is the scan's first
    (`started_before` counts the workers started before it); Ctrl-C is the scanner's to
    handle (it stops the pool), and a worker whose scanner was killed exits rather than
    waiting for work forever."""
    with started_before.get_lock():
        rank = started_before.value
        started_before.value += 1
    if rank > 0 and hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(scanner,), daemon=True).start()


def _exit_when_orphaned(scanner: int) -> None:
    while os.getppid() == scanner:
        time.sleep(1.0)
    os._exit(0)
