"""`rempart provenance FILE… [--json]`: the contract other tools read."""

from __future__ import annotations

import json
from pathlib import Path

from provenance_support import exif, jpeg, png_with_text
from typer.testing import CliRunner

from rempart.cli import app

runner = CliRunner()


def test_json_gives_path_verdict_and_signals_per_file(tmp_path: Path) -> None:
    ai = tmp_path / "ai.png"
    ai.write_bytes(png_with_text({"parameters": "x\nSteps: 20, Sampler: Euler, Seed: 3"}))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg(exif=exif(Make="Canon", Model="EOS")))
    result = runner.invoke(app, ["provenance", "--json", str(ai), str(photo)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["path"], r["verdict"]) for r in rows] == [
        (str(ai), "ai-declared"),
        (str(photo), "camera"),
    ]
    for row in rows:
        assert all({"kind", "description"} <= set(s) for s in row["signals"])


def test_hostile_text_is_neutralised_and_a_missing_file_fails_alone(tmp_path: Path) -> None:
    evil = tmp_path / "evil.png"
    evil.write_bytes(
        png_with_text({"parameters": "x\nSteps: 1, Seed: 1, Model: \x1b]0;pwned\x07[bold]m"})
    )
    result = runner.invoke(app, ["provenance", str(evil), str(tmp_path / "absent.jpg")])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "evil.png" in result.output


def test_french_output(tmp_path: Path) -> None:
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(jpeg())
    result = runner.invoke(app, ["provenance", str(plain)], env={"REMPART_LANG": "fr"})
    assert result.exit_code == 0
    assert "aucun signal" in result.output
