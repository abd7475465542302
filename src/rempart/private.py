"""Files Rempart writes are private to its user: 0600 files, 0700 folders, whatever the umask.

It owns the modes of what Rempart creates (database, vault, keys, exports, dossiers, reports,
configuration); it must not decide where things go. The command line also sets the process
umask to 077 (`restrict_umask`), so files written by libraries (SQLite's journals, Chromium's
profile, matplotlib) are private too.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "make_private",
    "private_folder",
    "restrict_umask",
    "write_private",
]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def restrict_umask() -> int:
    """Make every file this process creates private (umask 077); returns the umask before."""
    return os.umask(0o077)


def private_folder(folder: Path) -> Path:
    """`folder` and the missing folders above it, created 0700 whatever the umask (existing
    folders above it are left as they are: they may be shared, such as /tmp)."""
    missing = []
    at = folder
    while not at.exists():
        missing.append(at)
        at = at.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(path, PRIVATE_DIR)
    return folder


def write_private(path: Path, data: bytes, *, exclusive: bool = False, sync: bool = False) -> None:
    """`data` in `path`, 0600 (an existing file is made 0600 before it is overwritten);
    `exclusive` refuses an existing file (FileExistsError)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), PRIVATE_FILE)
        out.write(data)
        if sync:
            out.flush()
            os.fsync(out.fileno())


def make_private(path: Path) -> None:
    """An existing file or folder Rempart owns, made private (0600 / 0700)."""
    os.chmod(path, PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)
