"""Command modules load only when their command runs, and nobody can tell from the outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rempart.cli.lazy import COMMAND_MODULES, manifest

# Runs the CLI in a fresh interpreter; with "eager", every command module is imported first,
# as before they were loaded on demand. Prints the command modules loaded at exit on stderr.
_RUN = """
import importlib, sys
from rempart.cli import app
from rempart.cli.lazy import COMMAND_MODULES
if sys.argv[1] == "eager":
    for module in COMMAND_MODULES:
        importlib.import_module(module)
sys.argv = ["rempart", *sys.argv[2:]]
try:
    app()
finally:
    loaded = [m for m in COMMAND_MODULES if m in sys.modules]
    print("LOADED=" + ",".join(loaded), file=sys.stderr)
"""


def _run(home: Path, mode: str, *args: str, lang: str = "en") -> tuple[int, str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "REMPART_DATABASE_URL"}
    env.update(REMPART_HOME=str(home), REMPART_LANG=lang, COLUMNS="80", NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-c", _RUN, mode, *args], env=env, capture_output=True, text=True
    )
    loaded_line = [ln for ln in done.stderr.splitlines() if ln.startswith("LOADED=")]
    assert loaded_line, done.stderr
    loaded = [m for m in loaded_line[-1].removeprefix("LOADED=").split(",") if m]
    return done.returncode, done.stdout + done.stderr.replace(loaded_line[-1], ""), loaded


def test_the_committed_manifest_describes_the_commands_the_code_defines() -> None:
    # In a fresh interpreter: the order commands register in depends on what was imported.
    code = "import json; from rempart.cli.lazy import current_manifest as m; print(json.dumps(m()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert manifest() == json.loads(done.stdout), (
        "src/rempart/cli/commands.json is out of date: run "
        '.venv/bin/python -c "from rempart.cli.lazy import write_manifest; print(write_manifest())"'
    )


def test_every_command_module_is_listed_and_registers_commands() -> None:
    modules = {entry["module"] for entry in manifest()["commands"].values()}
    assert modules == set(COMMAND_MODULES)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_root_help_is_the_same_as_with_every_module_loaded_and_loads_none(
    tmp_path: Path, lang: str
) -> None:
    code, lazy_help, loaded = _run(tmp_path, "lazy", "--help", lang=lang)
    assert code == 0
    assert loaded == []
    code, eager_help, _ = _run(tmp_path, "eager", "--help", lang=lang)
    assert code == 0
    assert lazy_help == eager_help
    assert "review" in lazy_help and "scan" in lazy_help


def test_a_command_loads_only_its_own_module(tmp_path: Path) -> None:
    code, text, loaded = _run(tmp_path, "lazy", "vault", "--help")
    assert code == 0
    assert "rotate" in text
    assert loaded == ["rempart.cli.vault"]


def test_a_subcommand_runs_and_reports_as_before(tmp_path: Path) -> None:
    code, lazy_text, _ = _run(tmp_path, "lazy", "case", "list", "--json")
    code_eager, eager_text, _ = _run(tmp_path, "eager", "case", "list", "--json")
    assert (code, lazy_text) == (code_eager, eager_text)


def test_a_mistyped_command_is_suggested_even_when_not_loaded(tmp_path: Path) -> None:
    code, text, _ = _run(tmp_path, "lazy", "scna")
    assert code == 2
    assert "Did you mean 'scan'?" in text
    code, text, _ = _run(tmp_path, "lazy", "scna", lang="fr")
    assert "Vouliez-vous dire 'scan' ?" in text


def test_help_of_a_lazy_command_speaks_french(tmp_path: Path) -> None:
    code, text, loaded = _run(tmp_path, "lazy", "scan", "--help", lang="fr")
    assert code == 0
    assert "Analyse des sources une fois" in text
    assert loaded == ["rempart.cli.watch"]
