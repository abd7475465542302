from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from rempart.errors import EvidenceError
from rempart.evidence.vault import KEY_ENV, Vault, key_id


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
    with pytest.raises(EvidenceError, match=r"sealed with vault key [0-9a-f]{16}, which is not"):
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


# ------------------------------------------------------------- key ids, rotation, key files


def test_each_object_names_the_key_that_sealed_it(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    vault.put("a", b"1")
    assert (
        vault.sealed_by("a")
        == vault.key_id
        == key_id(base64.b64decode((tmp_path / "keys" / "vault.key").read_bytes()))
    )
    assert len(vault.key_id) == 16


def test_rotation_rewraps_every_object_and_retires_the_old_key(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    for n in range(3):
        vault.put(f"bundles/b{n}", b"evidence %d" % n)
    secret = vault.seal_secret("source:forum:proxy", "hunter2")
    old_id, old_file = vault.key_id, (tmp_path / "keys" / "vault.key").read_bytes()

    rotated = vault.rotate()

    assert rotated.key_id != old_id
    assert (tmp_path / "keys" / "vault.key").read_bytes() != old_file
    assert {rotated.sealed_by(f"bundles/b{n}") for n in range(3)} == {rotated.key_id}
    reopened = Vault.open(tmp_path, env={})
    assert [reopened.get(f"bundles/b{n}") for n in range(3)] == [
        b"evidence 0",
        b"evidence 1",
        b"evidence 2",
    ]
    rewrapped = reopened.rewrap_secret("source:forum:proxy", secret)
    assert reopened.forget_retired() == [old_id]
    assert not list((tmp_path / "keys" / "vault-retired").glob("*.key"))
    assert Vault.open(tmp_path, env={}).open_secret("source:forum:proxy", rewrapped) == "hunter2"
    with pytest.raises(EvidenceError, match=f"vault key {old_id}"):
        Vault.open(tmp_path, env={}).open_secret("source:forum:proxy", secret)


def test_an_interrupted_rotation_is_finished_by_rewrap(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    vault.put("a", b"1")
    retired = tmp_path / "keys" / "vault-retired"
    retired.mkdir(mode=0o700)
    (retired / f"{vault.key_id}.key").write_bytes((tmp_path / "keys" / "vault.key").read_bytes())
    (retired / f"{vault.key_id}.key").chmod(0o600)
    (tmp_path / "keys" / "vault.key").unlink()  # as if killed after retiring the old key

    fresh = Vault.open(tmp_path, env={})
    assert fresh.get("a") == b"1" and fresh.sealed_by("a") != fresh.key_id
    assert fresh.rewrap() == 1 and fresh.sealed_by("a") == fresh.key_id


def test_objects_sealed_before_key_ids_still_open(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    vault = Vault.open(tmp_path, env={})
    key = base64.b64decode((tmp_path / "keys" / "vault.key").read_bytes())
    nonce = bytes(12)
    (tmp_path / "evidence").mkdir(exist_ok=True)
    legacy = b"RMPVLT1\n" + nonce + AESGCM(key).encrypt(nonce, b"old", b"old-object")
    (tmp_path / "evidence" / "old-object").write_bytes(legacy)

    assert vault.get("old-object") == b"old" and vault.sealed_by("old-object") is None
    assert vault.rewrap() == 1 and vault.sealed_by("old-object") == vault.key_id


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused_with_what_to_do(tmp_path: Path, mode: int) -> None:
    Vault.open(tmp_path, env={})
    key_file = tmp_path / "keys" / "vault.key"
    key_file.chmod(mode)

    with pytest.raises(EvidenceError, match=r"chmod 600") as caught:
        Vault.open(tmp_path, env={})
    assert f"{mode:o}" in str(caught.value)


def test_rotation_is_refused_when_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    with pytest.raises(EvidenceError, match=KEY_ENV):
        Vault.open(tmp_path, env={KEY_ENV: key}).rotate()


def test_a_sealed_secret_is_bound_to_its_label(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path, env={})
    token = vault.seal_secret("source:a:proxy", "pw")
    assert "pw" not in token and Vault.is_sealed_secret(token)
    with pytest.raises(EvidenceError, match="integrity"):
        vault.open_secret("source:b:proxy", token)
