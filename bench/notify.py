"""Benchmark: approved notices sent per second through SMTP on loopback, beside a bare
smtplib send loop to the same server (the anchor), as a ratio.

Usage: .venv/bin/python bench/notify.py [--notices N]

A real SMTP server (aiosmtpd, in its own process, recording every message to disk as the
tests' recorder does) listens on 127.0.0.1. Rempart's run is `send_notices` on N approved
notices in a fresh SQLite store: per notice, the outbox claim, the message rendered from its
template, the `data` state and the exact bytes committed before DATA, the SMTP exchange on a
new connection, then `sent` with its custody event (no time-stamp: no authority is asked).
The anchor sends the same number of equally sized messages with a bare `smtplib.SMTP`
(one connection per message, as Rempart does) to the same server. Results go to stdout and
bench/results/notify.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import smtplib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "takedown"))

from smtp_process import RecordingSmtp  # noqa: E402

from findings_made import make_finding  # noqa: E402
from rempart.config import Identity  # noqa: E402
from rempart.jobs.review import decide  # noqa: E402
from rempart.store.database import Database  # noqa: E402
from rempart.store.models import FindingStatus  # noqa: E402
from rempart.takedown.drafting import approve, plan  # noqa: E402
from rempart.takedown.registry import Registry, load_registry, parse_registry  # noqa: E402
from rempart.takedown.sending import send_notices  # noqa: E402
from rempart.takedown.smtp import SmtpTransport, SmtpUrl  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "notify.json"
IDENTITY = Identity(name="Asso Rempart", email="contact@asso.example", caseworker="bench")
PLATFORM = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
"""


def _prepare(folder: Path, n: int) -> tuple[Database, list[int]]:
    db = Database.open(f"sqlite:///{folder / 'rempart.db'}")
    registry = Registry.of(
        parse_registry(PLATFORM, origin="bench", base=load_registry(None).platforms).values()
    )
    for index in range(n):
        made = make_finding(db, None, folder, case=f"case-{index}", seed=index + 1)
        decide(db, made.finding, FindingStatus.CONFIRMED, actor="bench")
    planned = plan(db, registry=registry, lookups=None, identity=IDENTITY, operator="bench")  # type: ignore[arg-type]
    ids = [v.id for v in planned.notices if v.kind == "dsa"]
    for notice_id in ids:
        approve(db, notice_id, identity=IDENTITY, operator="bench")
    return db, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        db, ids = _prepare(folder, args.notices)
        server = RecordingSmtp(folder / "smtp")
        try:
            url = SmtpUrl.parse(server.url)
            started = time.perf_counter()
            outcomes = send_notices(
                db,
                SmtpTransport(url),
                ids=None,
                identity=IDENTITY,
                sender="notices@asso.example",
                actor="bench",
            )
            rempart_s = time.perf_counter() - started
            assert all(o.status == "sent" for o in outcomes), outcomes[:3]
            sample = server.raw()[0]
            started = time.perf_counter()
            for _index in range(len(ids)):
                with smtplib.SMTP("127.0.0.1", server.port) as client:
                    client.sendmail("notices@asso.example", ["abuse@forum.example"], sample)
            anchor_s = time.perf_counter() - started
        finally:
            server.close()
    n = len(ids)
    result = {
        "notices": n,
        "rempart_per_s": n / rempart_s,
        "anchor_per_s": n / anchor_s,
        "ratio_time": rempart_s / anchor_s,
        "message_bytes": len(sample),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(f"notices sent: {n}, message {len(sample)} bytes")
    print(f"rempart send_notices : {n / rempart_s:8.1f} notices/s")
    print(f"anchor bare smtplib  : {n / anchor_s:8.1f} messages/s")
    print(f"rempart / anchor time: {rempart_s / anchor_s:.2f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
