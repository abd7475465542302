"""A real SMTP server on loopback, run as its own process, that records every message it
accepts (one file each, written atomically) so tests can count what arrived.

    python smtp_recorder.py FOLDER   # writes FOLDER/port once listening

Behaviour by recipient: `tempfail-N@…` answers 451 to the first N deliveries of a message,
`reject@…` answers 554. While FOLDER/hold exists, a received message is recorded, then the
server waits (and writes FOLDER/held-K) before answering: the sender is between "message
sent" and "answer received", the moment a kill makes delivery uncertain.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seq = 0
        self.tries: dict[str, int] = {}

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        data: bytes = envelope.original_content or envelope.content
        key = hashlib.sha256(data.split(b"\r\n\r\n", 1)[0].split(b"Date:")[0]).hexdigest()
        for rcpt in envelope.rcpt_tos:
            local = rcpt.split("@")[0]
            if local == "reject":
                return "554 5.7.1 refused by policy"
            if local.startswith("tempfail-"):
                wanted = int(local.removeprefix("tempfail-"))
                self.tries[key] = self.tries.get(key, 0) + 1
                if self.tries[key] <= wanted:
                    return "451 4.3.0 try again later"
        self.seq += 1
        name = f"msg-{self.seq:05d}-{time.monotonic_ns()}.eml"
        temporary = self.folder / f".{name}"
        temporary.write_bytes(data)
        os.replace(temporary, self.folder / name)
        if (self.folder / "hold").exists():
            (self.folder / f"held-{self.seq}").write_text("")
            while (self.folder / "hold").exists():
                await asyncio.sleep(0.01)
        return "250 2.0.0 OK"


def main() -> None:
    folder = Path(sys.argv[1])
    with socket.socket() as probe:  # a free port (aiosmtpd checks readiness on the port given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Recorder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    (folder / ".port").write_text(str(port))
    os.replace(folder / ".port", folder / "port")
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
