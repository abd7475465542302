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


def test_bank_add_again_brings_an_item_without_extras_up_to_date(
    home: Path, tmp_path: Path
) -> None:
    original, _, _ = _images(tmp_path)
    _run("bank", "create", "b9")
    assert _run("bank", "add", "b9", str(original), "--no-extras", "--no-retro")[0] == 0
    code, stdout = _run("bank", "add", "b9", str(original), "--no-retro")
    assert code == 0
    assert "brought up to date" in stdout and "1 item registered before" in stdout
    code, stdout = _run("bank", "add", "b9", str(original), "--no-retro", "--json")
    (line,) = _lines(stdout)
    assert code == 0 and line["existing"] is True and line["refreshed"] is False


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
    # the loop closes: sent, removed and proven, overdue, re-upload caught, report written
    said = " ".join(done.stdout.split())  # lines are wrapped at the terminal's width
    for step in ("abuse mailboxes", "Removal proven", "is overdue", "Re-upload caught"):
        assert step in said


def test_demo_speaks_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.stdout
    assert "Tout s'est passé comme prévu" in result.stdout
    said = " ".join(result.stdout.split())
    assert "Retrait prouvé" in said and "Remise en ligne repérée" in said
    assert "Removal proven" not in said


def test_help_teaches(home: Path) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "demo" in result.stdout and "bank" in result.stdout
    assert "Import a hash list" in runner.invoke(app, ["bank", "import", "--help"]).stdout


def test_flat_image_is_reported_low_quality(home: Path, tmp_path: Path) -> None:
    flat = tmp_path / "flat.png"
    Image.new("RGB", (64, 64), (10, 10, 10)).save(flat)
    (obj,) = _lines(_run("hash", "--json", str(flat))[1])
    assert obj["quality"] == 0


def _cells(stdout: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is `first`."""
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{stdout}")


def _headers(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith("┃"))
    return [c.strip() for c in line.strip("┃ ").split("┃")]


def test_bank_list_shows_each_value_under_its_own_header(home: Path) -> None:
    assert _run("case", "create", "case-9")[0] == 0
    assert _run("bank", "create", "b9", "--case", "case-9", "--kind", "allow")[0] == 0
    result = runner.invoke(app, ["bank", "list"], env={"COLUMNS": "200"})
    row = dict(zip(_headers(result.stdout), _cells(result.stdout, "b9"), strict=True))
    assert row["kind"] == "allow" and row["case"] == "case-9"


def test_bank_show_names_the_banks_case(home: Path) -> None:
    _run("case", "create", "case-3")
    _run("bank", "create", "b3", "--case", "case-3")
    _run("bank", "create", "loose")
    assert "Case: case-3" in _run("bank", "show", "b3")[1]
    assert "rempart case attach CASE loose" in _run("bank", "show", "loose")[1]
    (shown,) = _lines(_run("bank", "show", "b3", "--json")[1])
    assert shown["case"] == "case-3"


def test_what_hash_json_writes_imports_into_a_bank(home: Path, tmp_path: Path) -> None:
    original, mirrored, broken = _images(tmp_path)
    listing = tmp_path / "hashes.jsonl"
    listing.write_text(_run("hash", "--json", str(original), str(mirrored), str(broken))[1])
    _run("bank", "create", "from-hashes")
    result = runner.invoke(app, ["bank", "import", "from-hashes", str(listing)])
    assert "2 imported" in result.stdout and "1 rejected" in result.stdout
    assert "could not be hashed" in result.stderr  # the broken file's line, reported
    assert result.exit_code == 1
    listing.write_text(_run("hash", "--json", str(original))[1])
    result = runner.invoke(app, ["bank", "import", "from-hashes", str(listing)])
    assert result.exit_code == 0 and "1 already in from-hashes" in result.stdout


def test_counts_agree_with_their_number(home: Path, tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    lst.write_text("pdq xyz\n")
    _run("bank", "create", "one")
    result = runner.invoke(app, ["bank", "import", "one", str(lst), "--strict"])
    assert "1 invalid entry;" in result.stderr and "entries" not in result.stderr
    flat = tmp_path / "flat.png"
    Image.new("RGB", (64, 64), (10, 10, 10)).save(flat)
    original, _, _ = _images(tmp_path)
    result = runner.invoke(app, ["hash", str(original), str(tmp_path / "missing.jpg")])
    assert "1 file of 2 could not be hashed." in result.stderr
    result = runner.invoke(app, ["hash", str(original), str(flat)], env={"REMPART_LANG": "fr"})
    assert "0 (faible)" in result.stdout


def test_bank_and_case_commands_speak_french(home: Path, tmp_path: Path) -> None:
    fr = {"REMPART_LANG": "fr", "COLUMNS": "200"}
    result = runner.invoke(app, ["case", "create", "case-5"], env=fr)
    assert "Dossier case-5 ouvert." in result.stdout
    result = runner.invoke(app, ["bank", "create", "b5", "--case", "case-5"], env=fr)
    assert "Banque de protection b5 créée" in result.stdout and "Created" not in result.stdout
    result = runner.invoke(app, ["bank", "list"], env=fr)
    assert _headers(result.stdout)[:3] == ["nom", "type", "dossier"]
    assert _cells(result.stdout, "b5")[1] == "protection"
    result = runner.invoke(app, ["bank", "show", "b5"], env=fr)
    assert "Dossier : case-5" in result.stdout and "threshold" not in result.stdout
    result = runner.invoke(app, ["bank", "add", "nope", str(_images(tmp_path)[0])], env=fr)
    assert "aucune banque nommée 'nope'" in result.stderr and result.exit_code == 2
    lst = tmp_path / "list.txt"
    lst.write_text(f"pdq {'0' * 64}\n")
    result = runner.invoke(app, ["bank", "import", "b5", str(lst)], env=fr)
    assert "dégénérée" in result.stderr and "refusés : 1" in result.stdout
    result = runner.invoke(app, ["match", "--hashes", str(lst)], env=fr)
    assert "dégénérée" in result.stderr


def test_help_of_bank_case_hash_and_match_is_french(home: Path) -> None:
    fr = {"REMPART_LANG": "fr"}
    for args, french, english in (
        (["--help"], "Commencez par", "Start with"),
        (["bank", "--help"], "banques contiennent", "Banks hold"),
        (["bank", "import", "--help"], "Importe une liste", "Import a hash list"),
        (["case", "create", "--help"], "Ouvre un dossier", "Open a case"),
        (["hash", "--help"], "Calcule l'empreinte PDQ", "Compute the PDQ"),
        (["match", "--help"], "Compare des images", "Check images"),
    ):
        result = runner.invoke(app, args, env=fr)
        assert french in result.stdout and english not in result.stdout, args


def test_match_lines_speak_french(home: Path, tmp_path: Path) -> None:
    original, mirrored, _ = _images(tmp_path)
    _run("bank", "create", "b6")
    _run("bank", "add", "b6", str(original))
    result = runner.invoke(app, ["match", str(mirrored)], env={"REMPART_LANG": "fr"})
    assert "CORRESPONDANCE" in result.stdout and "MATCH" not in result.stdout
    assert "élément" in result.stdout and "en miroir" in result.stdout  # said in words
    assert "flipy" not in result.stdout and "window" not in result.stdout


def test_importing_the_cli_loads_no_store_nor_image_code() -> None:
    # `rempart --help` must start fast: every command imports its heavy parts when it runs.
    code = (
        "import sys\n"
        "import rempart.cli\n"
        "heavy = ('numpy', 'PIL', 'cv2', 'sqlalchemy', 'alembic', 'httpx', 'cryptography',\n"
        "         'rempart.store.database', 'rempart.intake.banks', 'rempart.matching.service',\n"
        "         'rempart.hashing.image', 'rempart.jobs.runner', 'rempart.evidence.keys',\n"
        "         'fastapi', 'uvicorn', 'argon2', 'pyotp', 'rempart.web', 'rempart.accounts')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_outside_names_in_tables_are_shown_safely_and_shortened(home: Path, tmp_path: Path) -> None:
    original, _, _ = _images(tmp_path)
    hostile = tmp_path / ("x" * 80 + "[red]evil\x1b[2J.jpg")
    hostile.write_bytes(original.read_bytes())
    result = runner.invoke(app, ["hash", str(hostile)], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "␛" in result.stdout
    shown = "".join(
        line.split("│")[1].strip() for line in result.stdout.splitlines() if line[:1] == "│"
    )
    assert shown.endswith("]evil␛[2J.jpg")  # markup shown as text, not applied
    assert "…" in shown and "x" * 60 not in shown  # shortened in the middle
    (obj,) = _lines(_run("hash", "--json", str(hostile))[1])
    assert obj["path"] == str(hostile)  # the full value stays in --json


def test_reasons_quoting_outside_text_are_shown_safely(home: Path, tmp_path: Path) -> None:
    listing = tmp_path / "hashes.jsonl"
    listing.write_text(json.dumps({"path": "x", "error": "bad\x1b[2J [red]file"}) + "\n")
    _run("bank", "create", "b8")
    result = runner.invoke(app, ["bank", "import", "b8", str(listing)])
    assert "\x1b" not in result.stderr and "bad␛[2J [red]file" in result.stderr
