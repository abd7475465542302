from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from rempart.errors import EvidenceError
from rempart.evidence.vault import KEY_ENV, Vault


def test_an_object_reads_back_as_written_and_is_not_stored_in_clear(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    secret = b"evidence bytes " * 100
    stored = vault.put("bundles/case-1/capture-1.wacz", secret)
    assert vault.get("bundles/case-1/capture-1.wacz") == secret
    assert stored.size == len(secret)
    on_disk = (tmp_path / "evidence" / "bundles" / "case-1" / "capture-1.wacz").read_bytes()
    assert b"evidence bytes" not in on_disk


def test_the_key_file_is_created_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    Vault.open(tmp_path, env={}).put("a", b"1")
    key_file = tmp_path / "keys" / "vault.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Vault.open(tmp_path, env={}).get("a") == b"1"


def test_a_key_from_the_environment_is_used_and_another_key_cannot_open(tmp_path: Path) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    Vault.open(tmp_path, env={KEY_ENV: key}).put("a", b"1")
    assert not (tmp_path / "keys" / "vault.key").exists()
    with pytest.raises(EvidenceError, match="integrity"):
        Vault.open(tmp_path, env={}).get("a")


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_bad_key_in_the_environment_is_refused_clearly(tmp_path: Path, bad: str) -> None:
    with pytest.raises(EvidenceError, match=KEY_ENV):
        Vault.open(tmp_path, env={KEY_ENV: bad})


def test_a_flipped_byte_or_a_swapped_object_fails_to_open(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    vault.put("one", b"first object")
    vault.put("two", b"second object")
    folder = tmp_path / "evidence"
    (folder / "one").write_bytes((folder / "two").read_bytes())
    with pytest.raises(EvidenceError, match="integrity"):
        vault.get("one")
    data = bytearray((folder / "two").read_bytes())
    data[-1] ^= 1
    (folder / "two").write_bytes(bytes(data))
    with pytest.raises(EvidenceError, match="integrity"):
        vault.get("two")


@pytest.mark.parametrize("name", ["../escape", "/abs", "a//b", "UPPER", "a/../b", "x" * 101])
def test_names_outside_the_vault_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(EvidenceError, match="not a vault object name"):
        Vault.open(tmp_path, env={}).put(name, b"x")


def test_missing_and_truncated_objects_say_so(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    with pytest.raises(EvidenceError, match="no object"):
        vault.get("missing")
    vault.put("short", b"x")
    (tmp_path / "evidence" / "short").write_bytes(b"RMPVLT1\n123")
    with pytest.raises(EvidenceError, match="not a vault object"):
        vault.get("short")
    assert list(vault.names()) == ["short"]
