"""Start and stop the recording SMTP server (smtp_recorder.py) in its own process."""

from __future__ import annotations

import email
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

_HERE = Path(__file__).with_name("smtp_recorder.py")


class RecordingSmtp:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.process = subprocess.Popen([sys.executable, str(_HERE), str(folder)])
        deadline = time.monotonic() + 60
        while not (folder / "port").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the SMTP recorder did not start")
            time.sleep(0.01)
        self.port = int((folder / "port").read_text())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=never"

    def messages(self) -> list[email.message.Message]:
        return [
            email.message_from_bytes(p.read_bytes()) for p in sorted(self.folder.glob("msg-*.eml"))
        ]

    def raw(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.folder.glob("msg-*.eml"))]

    def count_by_message_id(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
