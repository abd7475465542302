"""The command examples of docs/*.md run as written: the docs stay true.

A fenced ```sh block runs when the line before its fence is `<!-- run -->` (it must exit 0)
or `<!-- run: exit N -->` (it must exit N). `<!-- run-setup: COMMAND -->` runs COMMAND,
unseen by readers, where it stands (to make the pictures an example takes for granted). The
marked blocks of one page run in order, in one temporary folder with its own REMPART_HOME,
where `.venv/bin` is this interpreter's bin folder (and is first on PATH): the examples are
written for a caseworker's checkout. The convention is described in docs/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import rempart

DOCS = Path(__file__).resolve().parents[1] / "docs"
_RUN = re.compile(r"^<!--\s*run(?::\s*exit\s+(\d+))?\s*-->\s*$")
_SETUP = re.compile(r"^<!--\s*run-setup:\s*(.+?)\s*-->\s*$")
_FENCE = re.compile(r"^```(?:sh|bash|shell)\s*$")
# Only a guard against a hang: every marked block runs in seconds.
_HANG_S = 300


@dataclass(frozen=True)
class Step:
    where: str  # docs/page.md:line
    script: str
    status: int


def steps(page: Path) -> list[Step]:
    """The marked blocks and setup commands of `page`, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    for number, line in enumerate(lines):
        where = f"docs/{page.name}:{number + 1}"
        if setup := _SETUP.match(line):
            found.append(Step(where, setup.group(1), 0))
            continue
        marked = _RUN.match(line)
        if not marked:
            continue
        if number + 1 >= len(lines) or not _FENCE.match(lines[number + 1]):
            raise AssertionError(f"{where}: <!-- run --> must stand just before a ```sh fence")
        end = next(i for i in range(number + 2, len(lines)) if lines[i].startswith("```"))
        script = "\n".join(lines[number + 2 : end])
        found.append(Step(where, script, int(marked.group(1) or 0)))
    return found


PAGES = sorted(p for p in DOCS.glob("*.md") if steps(p))


def test_the_docs_mark_examples_to_run() -> None:
    names = {p.name for p in PAGES}
    assert {"getting-started.md", "demarrer.md", "hash-lists.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_marked_examples_run_as_written(page: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    bin_dir = Path(sys.executable).parent
    if sys.prefix != sys.base_prefix:  # the whole venv, so that its python finds pyvenv.cfg
        (work / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    else:
        (work / ".venv").mkdir()
        (work / ".venv" / "bin").symlink_to(bin_dir, target_is_directory=True)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("REMPART_") and k != "PYTHONPATH"
    }
    env.update(
        REMPART_HOME=str(tmp_path / "home"),
        REMPART_LANG="en",
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        # the rempart under test, wherever the venv's own install points
        PYTHONPATH=str(Path(rempart.__file__).resolve().parents[1]),
    )
    for step in steps(page):
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step.script],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_HANG_S,
        )
        assert done.returncode == step.status, (
            f"{step.where} exited {done.returncode}, the page says {step.status}:\n"
            f"$ {step.script}\n{done.stdout}\n{done.stderr}"
        )
