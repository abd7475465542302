"""`rempart dossier` and `rempart config`: a dossier is written in the organisation's name or
not at all, counts only confirmed copies, and shows pending matches only apart, on request."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from findings_made import make_finding
from rempart.cli import app
from rempart.config import Settings
from rempart.evidence.vault import Vault
from rempart.store.database import Database

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    for name in (
        "REMPART_OPERATOR",
        "REMPART_ORGANISATION",
        "REMPART_DATABASE_URL",
        "REMPART_LANG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def _run(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def _findings(tmp_path: Path, n: int) -> tuple[Database, list[int]]:
    settings = Settings.from_env()
    db = Database.open(settings.database_url)
    vault = Vault.open(settings.home)
    return db, [make_finding(db, vault, tmp_path, seed=i).finding for i in range(1, n + 1)]


def _text(pdf: Path) -> str:
    pages = PdfReader(io.BytesIO(pdf.read_bytes())).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


def test_a_dossier_without_the_organisation_is_refused_with_the_command_to_run(
    home: Path, tmp_path: Path
) -> None:
    _findings(tmp_path, 1)
    result = _run("dossier", "case-a", "--to", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "organisation.name" in result.stderr and "rempart config" in result.stderr
    assert not (tmp_path / "out").exists()


def test_config_set_writes_a_private_file_and_the_dossier_uses_it(
    home: Path, tmp_path: Path
) -> None:
    _, (one, two) = _findings(tmp_path, 2)
    assert _run("config", "set", "organisation.name", "Association Exemple").exit_code == 0
    assert _run("config", "set", "organisation.email", "contact@asso.example").exit_code == 0
    assert _run("config", "set", "caseworker.name", "Camille Martin").exit_code == 0
    path = home / "config.toml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in home.iterdir() if p.name.startswith(".config")]
    assert _run("review", "confirm", str(one), "--no-capture").exit_code == 0
    result = _run("dossier", "case-a", "--to", str(tmp_path), "--lang", "en")
    assert result.exit_code == 0, result.stderr
    assert "1 match not reviewed yet is left out" in result.stdout
    text = _text(tmp_path / "dossier-case-a" / "dossier-case-a-en.pdf")
    assert "Association Exemple" in text and "contact@asso.example" in text
    assert "Camille Martin" in text and "root" not in text.split("Caseworker")[1][:30]
    assert f"Copy #{one}" in text and f"Copy #{two}" not in text
    assert "unverified" not in text


def test_include_pending_puts_unreviewed_matches_in_a_separate_annex(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_ORGANISATION", "Association Exemple")
    monkeypatch.setenv("REMPART_OPERATOR", "Camille")
    _, (one, two) = _findings(tmp_path, 2)
    assert _run("review", "confirm", str(one), "--no-capture").exit_code == 0
    result = _run("dossier", "case-a", "--to", str(tmp_path), "--lang", "fr", "--include-pending")
    assert result.exit_code == 0, result.stderr
    text = _text(tmp_path / "dossier-case-a" / "dossier-case-a-fr.pdf")
    annex = text.index("Annexe distincte : correspondances non vérifiées")
    assert f"Copie n° {two}" in text[annex:] and f"Copie n° {two}" not in text[:annex]
    assert "Copies trouvées, confirmées par l'association 1" in text


def test_a_broken_config_file_is_refused_with_its_line(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text('[organisation]\nname = "Asso\n')
    result = _run("config", "show")
    assert result.exit_code == 2 and "line 2" in result.stderr
    (home / "config.toml").write_text('[organisation]\nnom = "Asso"\n')
    result = _run("review", "list")
    assert result.exit_code == 2 and "unknown key organisation.nom" in result.stderr


def test_environment_overrides_the_file_and_show_says_where_each_value_comes_from(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run("config", "set", "organisation.name", "From file").exit_code == 0
    monkeypatch.setenv("REMPART_ORGANISATION", "From env")
    shown = json.loads(_run("config", "show", "--json").stdout)
    assert shown["organisation.name"] == "From env"
    assert "REMPART_ORGANISATION" in _run("config", "show").stdout
    assert Settings.from_env().identity.name == "From env"


def test_config_init_takes_options_and_keeps_what_is_set(home: Path) -> None:
    result = _run(
        "config", "init", "--name", "Asso", "--trusted-flagger", "--designation", "TF-1",
        "--designated-by", "Arcom",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "caseworker.name" in result.stdout  # still missing for a dossier
    assert _run("config", "init", "--caseworker", "Camille").exit_code == 0
    identity = Settings.from_env().identity
    assert (identity.name, identity.trusted_flagger, identity.designated_by) == (
        "Asso", True, "Arcom",
    )  # fmt: skip
    assert identity.caseworker == "Camille" and Settings.from_env().operator == "Camille"
    bad = _run("config", "set", "organisation.email", "not-an-address")
    assert bad.exit_code == 2 and "e-mail" in bad.stderr
    assert _run("config", "path").stdout.strip() == str(home / "config.toml")


def test_config_speaks_french(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    shown = _run("config", "show").stdout
    assert "Fichier de configuration" in shown and "non renseigné" in shown
    assert "not set" not in shown and "meaning" not in shown
    assert (
        "Identité" in _run("config", "--help").stdout
        or "identité" in _run("config", "--help").stdout
    )


def test_the_dossier_counts_copies_by_what_their_files_said_about_their_origin(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select, update

    from rempart.store.models import Finding, Sighting

    monkeypatch.setenv("REMPART_ORGANISATION", "Association Exemple")
    monkeypatch.setenv("REMPART_OPERATOR", "Camille")
    db, (one, two) = _findings(tmp_path, 2)
    reading = {"verdict": "ai-declared", "declared_by": ["ComfyUI"], "reasons": [], "signals": []}
    with db.session() as session:
        sighting = session.scalar(select(Finding.sighting_id).where(Finding.id == one))
        session.execute(
            update(Sighting)
            .where(Sighting.id == sighting)
            .values(provenance_verdict="ai-declared", provenance=json.dumps(reading))
        )
    for finding in (one, two):
        assert _run("review", "confirm", str(finding), "--no-capture").exit_code == 0
    result = _run("dossier", "case-a", "--to", str(tmp_path), "--lang", "en")
    assert result.exit_code == 0, result.stderr
    assert "AI declared 1" in result.stdout and "not read 1." in result.stdout
    text = _text(tmp_path / "dossier-case-a" / "dossier-case-a-en.pdf")
    assert "AI declared — declared by ComfyUI" in text
    assert "Copies pointing to AI: 1 of 2" in text and "226-8-1" in text
    assert "Copies with no signal: 0% of the copies read (0 of 1)" in text
