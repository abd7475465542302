"""The project's rule on traffic: tests, benchmarks, demos and tools reach 127.0.0.1 only.
No other loopback address, nor a loopback network, is named in the code, tests,
benchmarks or docs: two sites on this machine are one address on two ports."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LOOPBACK = re.compile(r"(?<![\d.])127\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:/\d{1,2})?(?![\d.])")
_ALLOWED = {"127.0.0.1", "127.0.0.1/32"}
_TEXT = {".py", ".md", ".toml", ".po", ".sh", ".js", ".html", ".txt", ".cfg", ".ini", ".yml"}
# Addresses a test shows the network guard refusing: named, never connected to.
_REFUSED_ONLY = {"tests/evidence/test_capture_limits.py"}


def test_no_loopback_address_but_127_0_0_1_is_named_anywhere() -> None:
    named: list[str] = []
    for folder in ("src", "tests", "bench", "docs"):
        for path in sorted((ROOT / folder).rglob("*")):
            where = path.relative_to(ROOT).as_posix()
            if path.suffix not in _TEXT or not path.is_file() or where in _REFUSED_ONLY:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                named += [
                    f"{where}:{number}: {found}"
                    for found in _LOOPBACK.findall(line)
                    if found not in _ALLOWED
                ]
    assert named == []
