"""`python -m rempart.demo_site` as a caseworker meets it: its help in her language, and the
recipes it writes, loaded by `rempart source add/load`, finding the copies on its sites."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.demo_site import DemoSite
from rempart.demo_site.__main__ import parser
from rempart.demo_site.recipes import to_toml
from rempart.demo_site.site import serve_until_interrupted

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The demo site served as `python -m rempart.demo_site --recipes` serves it; its lines."""
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REMPART_LANG", "en")
    lines: list[str] = []
    stop = threading.Event()
    server = threading.Thread(
        target=serve_until_interrupted,
        args=(4, 20),
        kwargs={"recipes": tmp_path / "recipes", "out": lines.append, "stop": stop},
    )
    server.start()
    try:
        deadline = time.monotonic() + 300  # only a hang guard: it starts in well under 1 s
        while not any(line.startswith("Ctrl-C") for line in lines):
            assert server.is_alive(), "\n".join(lines)
            assert time.monotonic() < deadline, "the demo site did not start"
            time.sleep(0.02)
        yield lines
    finally:
        stop.set()
        server.join()


def test_written_recipes_load_and_find_the_copies(running: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "recipes"
    assert {p.name for p in folder.iterdir()} == {"forum.toml", "mirror.toml", "sources.toml"}
    assert any("rempart source load" in line and "sources.toml" in line for line in running)
    victims = tmp_path / "victim"
    victims.mkdir()
    for i, data in enumerate(DemoSite(seed=4, images=20).victim_images()):
        (victims / f"victim-{i}.jpg").write_bytes(data)
    _ok("bank", "create", "demo")
    _ok("bank", "add", "demo", str(victims))
    # each recipe is accepted as docs/demo-site.md shows it...
    for site in ("forum", "mirror"):
        _ok("source", "add", f"demo-{site}", "web", "--recipe", str(folder / f"{site}.toml"),
            "--allow-network", "127.0.0.1/32")  # fmt: skip
    # ...and the sources file (no pause between requests to this machine) replaces them
    _ok("source", "load", str(folder / "sources.toml"))
    _ok("scan", "demo-forum", "demo-mirror")
    found = [json.loads(line) for line in _ok("findings", "--json").splitlines()]
    by_source = {f["source"] for f in found}
    assert by_source == {"demo-forum", "demo-mirror"}
    # the recipe reads posts (ids, authors' dates) and follows threads to their later pages,
    # where the altered copies are
    assert all(f["post_id"] for f in found)
    assert any("?page=" in (f["page_url"] or "") for f in found if f["source"] == "demo-forum")


def test_recipes_are_toml_that_reads_back_the_same() -> None:
    with DemoSite(seed=1, images=10).serve() as served:
        for recipe in served.recipes().values():
            assert tomllib.loads(to_toml(recipe)) == recipe


def test_help_is_for_caseworkers_in_their_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_LANG", "en")
    english = parser().format_help()
    assert "--recipes" in english and "site.py" not in english and "parses" not in english
    monkeypatch.setenv("REMPART_LANG", "fr")
    french = parser().format_help()
    assert "Affiche ce message" in french and "recettes" in french
    assert "Show this message" not in french and "Also write" not in french


def test_what_it_prints_is_in_the_caseworkers_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_LANG", "fr")
    lines: list[str] = []
    stop = threading.Event()
    stop.set()  # print, then stop at once
    serve_until_interrupted(1, 10, recipes=tmp_path / "r", out=lines.append, stop=stop)
    text = "\n".join(lines)
    assert "hébergeur d'images :" in text and "recettes d'exploration" in text
    assert "Ctrl-C pour arrêter." in text
    assert "image host" not in text and "victim images" not in text
