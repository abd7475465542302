"""Reading outside files: `/dev/zero`, an endless pipe or a huge file fails fast, in bounded
memory, with a message that says what happened; the commands that read whole files use it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.errors import InputError
from rempart.inputs import InputTooLarge, read_capped, read_text_capped

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


@pytest.fixture
def endless_pipe(tmp_path: Path) -> Iterator[Path]:
    """A FIFO that a writer fills with zeros until the reader goes away."""
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            with fifo.open("wb") as handle:
                while True:
                    handle.write(b"\0" * 65536)
        except (BrokenPipeError, OSError):
            return

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield fifo
    writer.join(timeout=60)
    assert not writer.is_alive()


def test_a_file_within_the_cap_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(b"x" * 1000)
    assert read_capped(path, 1000) == b"x" * 1000
    assert read_text_capped(path, 1000) == "x" * 1000


def test_a_larger_file_is_refused_from_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(InputTooLarge, match="over the 1000 bytes limit"):
        read_capped(path, 1000)


def test_a_device_is_refused_unread() -> None:
    with pytest.raises(InputError, match="/dev/zero is a device, not a file"):
        read_capped("/dev/zero", 1 << 40)


def test_an_endless_pipe_stops_one_byte_past_the_cap(endless_pipe: Path) -> None:
    with pytest.raises(InputTooLarge, match="over the 1 MiB limit"):
        read_capped(endless_pipe, 1 << 20)


@pytest.mark.parametrize(
    "command",
    [
        ["verify", "/dev/zero"],
        ["bank", "import", "b1", "/dev/zero"],
        ["match", "--hashes", "/dev/zero"],
    ],
)
def test_commands_given_dev_zero_fail_fast_with_a_clear_error(
    home: Path, command: list[str]
) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 2, result.stdout + result.stderr
    assert "/dev/zero is a device, not a file" in " ".join(result.stderr.split())


def test_verify_refuses_an_endless_pipe_past_the_bundle_limit(
    home: Path, endless_pipe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rempart.evidence.bundle as bundle

    monkeypatch.setattr(bundle, "MAX_BUNDLE", 4 << 20)  # the real limit is 4 GiB
    result = runner.invoke(app, ["verify", str(endless_pipe)])

    assert result.exit_code == 2
    assert "over the 4 MiB limit" in " ".join(result.stderr.split())
