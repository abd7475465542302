"""The facts about the capturing machine a court asks for: which machine, which tools in
which versions, and which clock (synchronised or not, as far as the machine can tell).

Owns the reading of those facts from the system (platform, package metadata, timedatectl).
Must not guess: what cannot be read is recorded as "unknown", never invented.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import socket
import ssl
import subprocess

from rempart import __version__
from rempart.evidence.artifacts import JsonValue

__all__ = ["UNKNOWN", "clock_facts", "machine_facts", "tool_versions"]

UNKNOWN = "unknown"


def machine_facts() -> dict[str, JsonValue]:
    """Host name, operating system and platform of this machine."""
    try:
        release = platform.freedesktop_os_release()
        system = release.get("PRETTY_NAME") or release.get("NAME") or platform.system()
    except OSError:
        system = f"{platform.system()} {platform.release()}".strip()
    return {
        "hostname": socket.gethostname() or UNKNOWN,
        "os": system or UNKNOWN,
        "kernel": f"{platform.system()} {platform.release()}".strip() or UNKNOWN,
        "platform": platform.platform() or UNKNOWN,
        "architecture": platform.machine() or UNKNOWN,
    }


def tool_versions(chromium: str) -> dict[str, JsonValue]:
    """The versions of everything that made or wrote the capture."""
    return {
        "rempart": __version__,
        "chromium": chromium,
        "playwright": _package_version("playwright"),
        "warcio": _package_version("warcio"),
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
    }


def clock_facts() -> dict[str, JsonValue]:
    """Which clock stamped the capture and whether it is known to be synchronised (NTP), as
    systemd's timedatectl reports it; "unknown" where it cannot tell (no systemd)."""
    synchronised: JsonValue = UNKNOWN
    source: JsonValue = None
    timedatectl = shutil.which("timedatectl")
    if timedatectl is not None:
        try:
            done = subprocess.run(  # noqa: S603 - a fixed command line, no input
                [timedatectl, "show", "--property=NTPSynchronized", "--value"],
                capture_output=True,
                text=True,
                timeout=3,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            done = None
        answer = done.stdout.strip() if done is not None and done.returncode == 0 else ""
        if answer in {"yes", "no"}:
            synchronised, source = answer == "yes", "timedatectl (systemd)"
    return {
        "source": "system clock of the capturing machine, recorded in UTC",
        "ntp_synchronized": synchronised,
        "ntp_status_from": source,
    }


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN
