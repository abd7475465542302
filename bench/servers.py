"""What the web benches share: starting a server in its own process group and waiting until
every worker has started (its log says so), the anchor server (bench/anchor_app.py under the
same uvicorn options as `rempart serve`), and running bench/loadgen.py in its own process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def resident_mb(pid: int) -> float:
    """The resident memory of a process and its children (uvicorn's workers), in MiB."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
        return round(sum(p.memory_info().rss for p in processes) / 2**20, 1)
    except psutil.Error:
        return float("nan")


@contextmanager
def serving(command: list[str], env: dict[str, str], workers: int, log: Path) -> Iterator[int]:
    """Run `command` (a uvicorn server) until every worker logged its start-up complete;
    yields its process id."""
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 900  # loading 10M hashes on a loaded machine: minutes
        while log.read_text(errors="replace").count("Application startup complete") < workers:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("the server never finished starting")
            time.sleep(0.1)  # polling the log for an observed event
        yield server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def uvicorn_command(app: str, port: int, workers: int, *, factory: bool = False) -> list[str]:
    """The anchor served with the options `rempart serve` gives uvicorn."""
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "info", "--no-server-header"]
    command += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    return [*command, "--factory"] if factory else command


def anchor(port: int, workers: int, tmp: Path) -> Any:
    env = {**os.environ, "PYTHONPATH": str(BENCH)}
    return serving(uvicorn_command("anchor_app:app", port, workers), env, workers, tmp / "a.log")


def load(plan: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """Run the load generator on `plan` in its own process; its result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=tmp, delete=False) as f:
        json.dump(plan, f)
    result = tmp / "loadgen-result.json"
    subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), f.name, str(result)],
        check=True,
        timeout=plan["seconds"] + plan["warmup_s"] + 600,
    )
    found: dict[str, Any] = json.loads(result.read_text())
    return found
