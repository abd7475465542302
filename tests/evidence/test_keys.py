"""The organisation's sealing keys: generated once, rotated when needed (old public keys kept,
old private keys gone), readable by their owner only, optionally locked by a passphrase, and
every failure said plainly."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sealing_support import RecordingTimestamper, make_capture, seal_sample

from rempart.errors import KeyringError
from rempart.evidence.keys import Keyring, SigningKey, fingerprint, verify_signature
from rempart.evidence.verify import Status, verify_bundle


class Ticking:
    """A clock that moves one day per reading."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(days=1)
        return self.now


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_first_key_is_written_for_its_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    ring = Keyring(folder, clock=Ticking())
    info = ring.generate()
    assert mode(folder) == 0o700
    private = folder / f"ed25519-{info.fingerprint[:16]}.key"
    assert mode(private) == 0o600
    assert b"BEGIN PRIVATE KEY" in private.read_bytes()
    metadata = json.loads((folder / "keyring.json").read_text())
    assert metadata["format"] == "rempart-keyring-1"
    assert [k["fingerprint"] for k in metadata["keys"]] == [info.fingerprint]
    assert (
        info.fingerprint
        == hashlib.sha256(info.public_key).hexdigest()
        == fingerprint(info.public_key)
    )
    assert info.created == datetime(2025, 1, 2, tzinfo=UTC) and info.active


def test_a_second_generate_is_refused(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    ring.generate()
    with pytest.raises(KeyringError, match="already exists"):
        ring.generate()


def test_the_active_key_signs_what_its_public_key_verifies(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    ring.generate()
    key = ring.signing_key()
    signature = key.sign(b"datapackage")
    assert verify_signature(key.public_key, signature, b"datapackage")
    assert not verify_signature(key.public_key, signature, b"datapackagE")
    altered = signature[:-1] + bytes([signature[-1] ^ 1])
    assert not verify_signature(key.public_key, altered, b"datapackage")


def test_the_public_key_file_is_what_openssl_reads(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    info = ring.generate()
    pem = (tmp_path / f"ed25519-{info.fingerprint[:16]}.pub").read_bytes()
    loaded = serialization.load_pem_public_key(pem)
    raw = loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == info.public_key


def test_a_passphrase_locks_the_key_and_a_wrong_one_is_named_as_such(tmp_path: Path) -> None:
    ring = Keyring(tmp_path)
    info = ring.generate(passphrase=b"correct horse")
    private = tmp_path / f"ed25519-{info.fingerprint[:16]}.key"
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    with pytest.raises(KeyringError, match="passphrase and none was given"):
        ring.signing_key()
    with pytest.raises(KeyringError, match="wrong passphrase"):
        ring.signing_key(passphrase=b"battery staple")
    assert ring.signing_key(passphrase=b"correct horse").fingerprint == info.fingerprint


def test_rotation_retires_the_old_key_but_keeps_its_public_half(tmp_path: Path) -> None:
    ring = Keyring(tmp_path, clock=Ticking())
    old = ring.generate(passphrase=b"one")
    with pytest.raises(KeyringError, match="wrong passphrase"):
        ring.rotate(passphrase=b"two")
    new = ring.rotate(passphrase=b"one", new_passphrase=b"two")
    keys = ring.public_keys()
    assert [k.fingerprint for k in keys] == [old.fingerprint, new.fingerprint]
    assert keys[0].retired == new.created and not keys[0].active
    assert keys[1].active and ring.active() == new
    assert not (tmp_path / f"ed25519-{old.fingerprint[:16]}.key").exists()
    assert (tmp_path / f"ed25519-{old.fingerprint[:16]}.pub").exists()
    assert ring.find(old.fingerprint).public_key == old.public_key
    assert ring.signing_key(passphrase=b"two").fingerprint == new.fingerprint
    assert set(ring.trusted_fingerprints()) == {old.fingerprint, new.fingerprint}


def test_a_bundle_sealed_before_rotation_still_verifies_after_it(
    tmp_path: Path, recording_timestamper: RecordingTimestamper
) -> None:
    ring = Keyring(tmp_path, clock=Ticking())
    ring.generate()
    capture = make_capture()
    old_bundle = seal_sample(capture, ring.signing_key(), recording_timestamper)
    ring.rotate()
    new_bundle = seal_sample(capture, ring.signing_key(), recording_timestamper)
    trusted = ring.trusted_fingerprints()
    for bundle in (old_bundle, new_bundle):
        report = verify_bundle(bundle, trusted_keys=trusted)
        assert report.ok and report.check("key_trust").status is Status.PASS
    only_new = [ring.active().fingerprint]
    assert verify_bundle(old_bundle, trusted_keys=only_new).check("key_trust").status is (
        Status.FAIL
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "keyring.json").unlink(), "no keyring"),
        (lambda folder: (folder / "keyring.json").write_text("{"), "corrupt"),
        (lambda folder: (folder / "keyring.json").write_text('{"format": "x"}'), "corrupt"),
        (lambda folder: _key_file(folder).unlink(), "missing"),
        (lambda folder: _key_file(folder).write_text("garbage"), "not a readable private key"),
        (lambda folder: _key_file(folder).chmod(0o644), "chmod 600"),
        (lambda folder: _swap_fingerprint(folder), "corrupt"),
    ],
)
def test_a_damaged_keyring_says_what_is_wrong(tmp_path: Path, damage: object, message: str) -> None:
    ring = Keyring(tmp_path)
    ring.generate()
    damage(tmp_path)  # type: ignore[operator]
    with pytest.raises(KeyringError, match=message):
        ring.signing_key()


def _key_file(folder: Path) -> Path:
    return next(folder.glob("ed25519-*.key"))


def _swap_fingerprint(folder: Path) -> None:
    metadata = json.loads((folder / "keyring.json").read_text())
    metadata["keys"][0]["fingerprint"] = "0" * 64
    (folder / "keyring.json").write_text(json.dumps(metadata))


def test_a_key_from_another_keyring_is_not_accepted_as_the_active_one(tmp_path: Path) -> None:
    first, second = Keyring(tmp_path / "a"), Keyring(tmp_path / "b")
    first.generate()
    second.generate()
    _key_file(tmp_path / "b").unlink()
    source = _key_file(tmp_path / "a")
    target = tmp_path / "b" / f"ed25519-{second.active().fingerprint[:16]}.key"
    target.write_bytes(source.read_bytes())
    target.chmod(0o600)
    with pytest.raises(KeyringError, match="does not match"):
        second.signing_key()


def test_signing_keys_never_show_key_material(sealing_key: SigningKey) -> None:
    raw = sealing_key._private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    assert raw.hex() not in repr(sealing_key)
    assert sealing_key.fingerprint in repr(sealing_key) or "PublicKeyInfo" in repr(sealing_key)


# ------------------------------------------------------------------ the keys commands


def test_keys_init_says_the_key_is_unencrypted_and_how_to_encrypt_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rempart.cli import app

    monkeypatch.setenv("REMPART_HOME", str(tmp_path))
    monkeypatch.delenv("REMPART_KEY_PASSPHRASE", raising=False)
    runner = CliRunner()
    assert "REMPART_KEY_PASSPHRASE" in runner.invoke(app, ["keys", "init", "--help"]).output
    made = runner.invoke(app, ["keys", "init"])
    assert made.exit_code == 0
    assert "unencrypted" in made.stderr and "REMPART_KEY_PASSPHRASE" in made.stderr
    monkeypatch.setenv("REMPART_KEY_PASSPHRASE", "correct horse")
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "unencrypted" not in rotated.stderr
    french = runner.invoke(app, ["keys", "init", "--help"], env={"REMPART_LANG": "fr"})
    assert "chiffrée" in french.output and "REMPART_KEY_PASSPHRASE" in french.output


def test_keys_list_prints_each_whole_fingerprint_on_its_own_line_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rempart.cli import app

    monkeypatch.setenv("REMPART_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("REMPART_KEY_PASSPHRASE", raising=False)
    keyring = Keyring(tmp_path / "keys", clock=Ticking())
    keyring.generate()
    keyring.rotate()
    runner = CliRunner()
    listed = runner.invoke(app, ["keys", "list"]).stdout.splitlines()
    for info in keyring.public_keys():
        assert f"  {info.fingerprint}" in listed  # whole, alone on its line
    french = runner.invoke(app, ["keys", "list"], env={"REMPART_LANG": "fr"}).stdout
    assert "clé active" in french and "retirée" in french
