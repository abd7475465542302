"""The command-line contract other tools build on: flags, JSON lines, exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from rempart.cli import app
from rempart.samples import neutral_image

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    return tmp_path / "home"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def _lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _images(tmp_path: Path) -> tuple[Path, Path, Path]:
    original = tmp_path / "original.jpg"
    neutral_image(3, 400, 300).save(original, quality=92)
    mirrored = tmp_path / "mirrored.png"
    ImageOps.mirror(neutral_image(3, 400, 300)).resize((300, 225)).save(mirrored)
    broken = tmp_path / "broken.gif"
    broken.write_bytes(b"GIF89a\x00")
    return original, mirrored, broken


def test_hash_json_prints_one_object_per_file_and_flags_failures(
    home: Path, tmp_path: Path
) -> None:
    original, _, broken = _images(tmp_path)
    code, stdout = _run("hash", "--json", str(original), str(broken))
    ok, bad = _lines(stdout)
    assert code == 1
    assert set(ok) >= {"path", "pdq", "quality", "sha256", "md5"}
    assert len(str(ok["pdq"])) == 64 and isinstance(ok["quality"], int)
    assert set(bad) == {"path", "error"}


def test_bank_workflow_add_match_withdraw(home: Path, tmp_path: Path) -> None:
    original, mirrored, _ = _images(tmp_path)
    assert _run("bank", "create", "case-7", "--threshold", "31")[0] == 0
    code, stdout = _run("bank", "add", "case-7", str(original), "--label", "p1", "--json")
    assert code == 0
    item = _lines(stdout)[0]["item"]
    code, stdout = _run("match", "--json", str(mirrored))
    (result,) = _lines(stdout)
    assert code == 0 and result["path"] == str(mirrored)
    (match,) = result["matches"]  # type: ignore[misc]
    assert match["bank"] == "case-7" and match["item"] == item and match["label"] == "p1"
    assert isinstance(match["distance"], int) and match["distance"] <= 31
    assert _run("bank", "withdraw", "case-7", str(item))[0] == 0
    (result,) = _lines(_run("match", "--json", str(mirrored))[1])
    assert result["matches"] == []


def test_import_export_and_match_hashes(home: Path, tmp_path: Path) -> None:
    good = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"
    lst = tmp_path / "list.txt"
    lst.write_text(f"pdq {good}\npdq {'0' * 64}\npdq xyz\n")
    _run("bank", "create", "shared")
    result = runner.invoke(app, ["bank", "import", "shared", str(lst)])
    assert result.exit_code == 1  # two lines rejected, reported
    assert "1 imported" in result.stdout and "2 rejected" in result.stdout
    code, stdout = _run("bank", "export", "shared", "--format", "json")
    exported = json.loads(stdout)
    assert code == 0 and exported[0]["pdq"] == good
    assert set(exported[0]) >= {"id", "pdq", "quality", "label"}
    assert _run("bank", "export", "shared")[1] == f"pdq {good}\n"
    queries = tmp_path / "q.txt"
    queries.write_text(good + "\n" + good[::-1] + "\n")
    code, stdout = _run("match", "--json", "--hashes", str(queries))
    first, second = _lines(stdout)
    assert first["hash"] == good and first["matches"][0]["distance"] == 0  # type: ignore[index]
    assert second["matches"] == []


def test_unknown_bank_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    original, _, _ = _images(tmp_path)
    result = runner.invoke(app, ["bank", "add", "nope", str(original)])
    assert result.exit_code == 2
    assert "no bank named 'nope'" in result.stderr


def test_bank_list_json(home: Path) -> None:
    _run("bank", "create", "b1", "--kind", "allow")
    (bank,) = _lines(_run("bank", "list", "--json")[1])
    assert bank["name"] == "b1" and bank["kind"] == "allow" and bank["items"] == 0


def test_installed_entry_point_runs_the_demo(tmp_path: Path) -> None:
    env = {**os.environ, "REMPART_HOME": str(tmp_path), "LANG": "en_US.UTF-8"}
    exe = Path(sys.executable).with_name("rempart")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rempart"]
    # the timeout only guards against a hang: the demo takes about a minute
    done = subprocess.run([*cmd, "demo"], env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Everything behaved as expected" in done.stdout


def test_demo_speaks_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.stdout
    assert "Tout s'est passé comme prévu" in result.stdout


def test_help_teaches(home: Path) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "demo" in result.stdout and "bank" in result.stdout
    assert "Import a hash list" in runner.invoke(app, ["bank", "import", "--help"]).stdout


def test_flat_image_is_reported_low_quality(home: Path, tmp_path: Path) -> None:
    flat = tmp_path / "flat.png"
    Image.new("RGB", (64, 64), (10, 10, 10)).save(flat)
    (obj,) = _lines(_run("hash", "--json", str(flat))[1])
    assert obj["quality"] == 0
