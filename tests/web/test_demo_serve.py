"""`rempart demo --serve`: after the demo, the web app runs on the demo's data with a demo
account whose generated password is printed; signing in with it shows the demo's notices."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from webapp import csrf_of

SRC = Path(__file__).resolve().parents[2] / "src"


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)
    into.put("")


@pytest.mark.slow
def test_demo_serve_prints_a_password_that_signs_in_to_the_demos_notices(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "REMPART_LANG": "en",
        "COLUMNS": "200",
        "REMPART_HOME": str(tmp_path / "elsewhere"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "rempart", "demo", "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    url = password = None
    seen: list[str] = []
    try:
        while password is None:  # the demo's own progress, line by line, until the sign-in
            line = lines.get(timeout=600)
            assert line, "the demo ended before serving:\n" + "".join(seen[-40:])
            seen.append(line)
            found = re.search(r"Open (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else url
            found = re.search(r"password: (\S+)", line)
            password = found.group(1) if found else None
        assert url is not None
        deadline = time.monotonic() + 120
        while True:  # ready once it answers
            try:
                if httpx.get(url + "healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "".join(seen[-40:])
            assert time.monotonic() < deadline, "the web app never answered"
        with httpx.Client(base_url=url) as client:
            login = client.get("/login")
            signed = client.post(
                "/login",
                data={"name": "demo", "password": password, "csrf": csrf_of(login.text)},
            )
            assert signed.status_code == 303
            notices = client.get("/notices?view=all").text
            assert "PicDrop (DEMO)" in notices and "ForumVault (DEMO)" in notices
            assert client.get("/cases/demo-case").status_code == 200
            wrong = client.post(
                "/login", data={"name": "demo", "password": "not-the-password", "csrf": "x"}
            )
            assert wrong.status_code in (401, 403)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(seen[-20:])
