"""The organisation's Ed25519 sealing keys: one active key signs new bundles; retired keys keep
only their public half, so that bundles they sealed still verify.

Owns the keyring folder (private key PEM files, 0600, optionally passphrase-encrypted, and
`keyring.json`). Must not read the environment: the caller passes the passphrase and clock.

Layout of the folder (0700):

    keyring.json                      {"format": "rempart-keyring-1", "keys": [...]}
    ed25519-<fingerprint[:16]>.key    PKCS#8 PEM private key of the active key (0600)
    ed25519-<fingerprint[:16]>.pub    SubjectPublicKeyInfo PEM, kept for every key

A fingerprint is the lowercase hex SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rempart.clock import Clock, utc_now
from rempart.errors import KeyringError

__all__ = [
    "KEY_LIST_FORMAT",
    "Keyring",
    "PublicKeyInfo",
    "SigningKey",
    "fingerprint",
    "parse_key_list",
    "public_key_from_spki",
    "signed_key_list",
    "spki_der",
    "verify_signature",
]

KEYRING_FORMAT = "rempart-keyring-1"
KEY_LIST_FORMAT = "rempart-key-list-1"
_METADATA = "keyring.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_METADATA = 1024 * 1024


def fingerprint(public_raw: bytes) -> str:
    """SHA-256 of the raw 32-byte Ed25519 public key, lowercase hex."""
    if len(public_raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(public_raw).hexdigest()


def spki_der(public_raw: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER form openssl reads (`-pubin -keyform DER`)."""
    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_spki(der: bytes) -> bytes:
    """The raw 32 bytes of an Ed25519 SubjectPublicKeyInfo; ValueError for anything else."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a DER public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if spki_der(raw) != der:
        raise ValueError("public key is not in canonical DER")
    return raw


def verify_signature(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is the Ed25519 signature of `message` by this key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    """What anyone may know of a key: its public half, fingerprint and life."""

    public_key: bytes  # raw 32 bytes
    created: datetime
    retired: datetime | None = None
    # Set by `keys revoke --compromised`: from this time on, anyone may have held the private
    # key, so only a trusted time-stamp earlier than it makes a bundle sealed by it trustworthy.
    compromised: datetime | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    @property
    def active(self) -> bool:
        return self.retired is None

    def public_pem(self) -> bytes:
        return Ed25519PublicKey.from_public_bytes(self.public_key).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "created": self.created.isoformat(),
            "retired": self.retired.isoformat() if self.retired else None,
            "compromised": self.compromised.isoformat() if self.compromised else None,
        }


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The active private key, unlocked. Its repr never shows key material."""

    info: PublicKeyInfo
    _private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def from_private(cls, private: Ed25519PrivateKey, *, created: datetime) -> SigningKey:
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(PublicKeyInfo(raw, created), private)

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint

    @property
    def public_key(self) -> bytes:
        return self.info.public_key

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def _time(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError("time is not a string")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without zone")
    return moment


class Keyring:
    """The keys in one folder. Nothing is read until a method is called."""

    def __init__(self, folder: Path, *, clock: Clock = utc_now) -> None:
        self.folder = Path(folder)
        self._clock = clock

    @property
    def exists(self) -> bool:
        return (self.folder / _METADATA).exists()

    def generate(self, *, passphrase: bytes | None = None) -> PublicKeyInfo:
        """Create the first key. Refuses when the folder already holds a keyring."""
        if self.exists:
            raise KeyringError(
                "a keyring already exists in {folder}; rotate it instead (`rempart keys rotate`)",
                folder=str(self.folder),
            )
        self._make_folder()
        info = self._new_key(passphrase)
        self._write_metadata([info])
        return info

    def rotate(
        self, *, passphrase: bytes | None = None, new_passphrase: bytes | None = None
    ) -> PublicKeyInfo:
        """Make a new active key and retire the current one: its private key file is deleted
        (a retired key must never seal again), its public key stays to verify old bundles.

        `passphrase` unlocks the current key (proving the caller holds it); `new_passphrase`
        protects the new one (None: the same as `passphrase`)."""
        keys = self.public_keys()
        current = self._active(keys)
        self.signing_key(passphrase=passphrase)  # the caller must be able to use the old key
        new = self._new_key(passphrase if new_passphrase is None else new_passphrase)
        if new.created < current.created:
            raise KeyringError("the clock went backwards: the new key predates the current one")
        retired = PublicKeyInfo(
            current.public_key, current.created, new.created, current.compromised
        )
        self._write_metadata([retired if k == current else k for k in keys] + [new])
        with contextlib.suppress(FileNotFoundError):
            self._private_path(current.fingerprint).unlink()
        return new

    def revoke(self, fingerprint_hex: str, *, since: datetime | None = None) -> PublicKeyInfo:
        """Mark a key compromised from `since` (default: now). The active key must be rotated
        first: a compromised key must not stay the one that seals. A second revocation may
        only move the compromise earlier, never later."""
        keys = self.public_keys()
        target = self.find(fingerprint_hex)
        if target.active:
            raise KeyringError(
                "{fingerprint} is the active key: rotate it first (`rempart keys rotate`), "
                "then revoke it",
                fingerprint=target.fingerprint,
            )
        moment = since if since is not None else self._clock()
        if moment.tzinfo is None:
            raise KeyringError("the compromise time must carry a time zone")
        moment = moment.astimezone(UTC)
        if target.compromised is not None and target.compromised <= moment:
            moment = target.compromised
        revoked = PublicKeyInfo(target.public_key, target.created, target.retired, moment)
        self._write_metadata([revoked if k == target else k for k in keys])
        return revoked

    def public_keys(self) -> tuple[PublicKeyInfo, ...]:
        """Every key ever used, oldest first, with created and retired times."""
        path = self.folder / _METADATA
        try:
            if path.stat().st_size > _MAX_METADATA:
                raise KeyringError("{path} is too large to be a keyring", path=str(path))
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise KeyringError(
                "no keyring in {folder}: create the organisation's key first (`rempart keys init`)",
                folder=str(self.folder),
            ) from None
        except (OSError, ValueError) as exc:
            raise KeyringError(
                "{path} is unreadable or corrupt ({error})",
                path=str(path),
                error=exc.__class__.__name__,
            ) from None
        try:
            return _parse_metadata(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyringError(
                "{path} is corrupt: {reason}", path=str(path), reason=str(exc)
            ) from None

    def active(self) -> PublicKeyInfo:
        return self._active(self.public_keys())

    def find(self, fingerprint_hex: str) -> PublicKeyInfo:
        for info in self.public_keys():
            if info.fingerprint == fingerprint_hex:
                return info
        raise KeyringError(
            "no key with fingerprint {fingerprint!r} in this keyring (see `rempart keys list`)",
            fingerprint=fingerprint_hex[:64],
        )

    def trusted_fingerprints(self) -> tuple[str, ...]:
        return tuple(info.fingerprint for info in self.public_keys())

    def signing_key(self, *, passphrase: bytes | None = None) -> SigningKey:
        """The active key, unlocked with `passphrase` when it is encrypted."""
        info = self.active()
        path = self._private_path(info.fingerprint)
        try:
            mode = path.stat().st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyringError(
                    "{path} can be read by other users (mode {mode}); run chmod 600 on it",
                    path=str(path),
                    mode=f"{stat.S_IMODE(mode):o}",
                )
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyringError("the active private key {name} is missing", name=path.name) from None
        except OSError as exc:
            raise KeyringError(
                "cannot read {path}: {reason}", path=str(path), reason=exc.strerror
            ) from None
        encrypted = b"ENCRYPTED PRIVATE KEY" in pem
        if encrypted and passphrase is None:
            raise KeyringError(
                "the signing key is protected by a passphrase and none was given: set "
                "REMPART_KEY_PASSPHRASE"
            )
        try:
            private = serialization.load_pem_private_key(
                pem, password=passphrase if encrypted else None
            )
        except (ValueError, TypeError, UnsupportedAlgorithm):
            if encrypted:
                raise KeyringError("wrong passphrase for the signing key") from None
            raise KeyringError(
                "{name} is not a readable private key (corrupt?)", name=path.name
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyringError("{name} is not an Ed25519 key", name=path.name)
        key = SigningKey(info, private)
        public_raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        if public_raw != info.public_key:
            raise KeyringError(
                "{name} does not match the active key in {metadata}",
                name=path.name,
                metadata=_METADATA,
            )
        return key

    def _active(self, keys: Sequence[PublicKeyInfo]) -> PublicKeyInfo:
        active = [info for info in keys if info.active]
        if len(active) != 1:
            raise KeyringError(
                "{path} must name exactly one active key", path=str(self.folder / _METADATA)
            )
        return active[0]

    def _private_path(self, fingerprint_hex: str) -> Path:
        return self.folder / f"ed25519-{fingerprint_hex[:16]}.key"

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyringError(
                "cannot create {path}: {reason}", path=str(self.folder), reason=exc.strerror
            ) from None

    def _new_key(self, passphrase: bytes | None) -> PublicKeyInfo:
        private = Ed25519PrivateKey.generate()
        key = SigningKey.from_private(private, created=self._clock())
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        _write_new(self._private_path(key.fingerprint), pem, 0o600)
        pub = self.folder / f"ed25519-{key.fingerprint[:16]}.pub"
        _write_new(pub, key.info.public_pem(), 0o644)
        return key.info

    def _write_metadata(self, keys: Sequence[PublicKeyInfo]) -> None:
        document = {"format": KEYRING_FORMAT, "keys": [info.to_json() for info in keys]}
        path = self.folder / _METADATA
        temporary = path.with_suffix(".json.tmp")
        data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
        try:
            temporary.unlink(missing_ok=True)
            _write_new(temporary, data, 0o644)
            os.replace(temporary, path)  # atomic: a crash leaves the old or the new keyring
        except OSError as exc:
            raise KeyringError(
                "cannot write {path}: {reason}", path=str(path), reason=exc.strerror
            ) from None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyringError(
            "{path} already exists; refusing to overwrite a key", path=str(path)
        ) from None
    except OSError as exc:
        raise KeyringError(
            "cannot create {path}: {reason}", path=str(path), reason=exc.strerror
        ) from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _parse_metadata(raw: Any) -> tuple[PublicKeyInfo, ...]:
    if not isinstance(raw, dict) or raw.get("format") != KEYRING_FORMAT:
        raise ValueError(f"not a {KEYRING_FORMAT} document")
    keys = []
    for entry in raw["keys"]:
        public = base64.b64decode(entry["public_key"], validate=True)
        if len(public) != 32:
            raise ValueError("a public key is not 32 bytes")
        compromised = entry.get("compromised")  # absent from keyrings written before it
        info = PublicKeyInfo(
            public,
            _time(entry["created"]),
            _time(entry["retired"]) if entry["retired"] is not None else None,
            _time(compromised) if compromised is not None else None,
        )
        if entry["fingerprint"] != info.fingerprint or not _HEX64.fullmatch(entry["fingerprint"]):
            raise ValueError("a fingerprint does not match its public key")
        keys.append(info)
    if not keys:
        raise ValueError("no keys")
    return tuple(keys)


# ------------------------------------------------------------------ the published key list


def _list_body(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_key_list(
    keys: Sequence[PublicKeyInfo], key: SigningKey, *, issued: datetime, organisation: str
) -> bytes:
    """The list an organisation publishes: every key with its life (created, retired,
    compromised), signed by the active key. `rempart verify --trust-list FILE` trusts each
    key only within its life."""
    if key.fingerprint not in {info.fingerprint for info in keys}:
        raise KeyringError("the signing key is not in the key list it signs")
    document: dict[str, Any] = {
        "format": KEY_LIST_FORMAT,
        "organisation": organisation,
        "issued": issued.isoformat(),
        "signed_by": key.fingerprint,
        "keys": [info.to_json() for info in keys],
    }
    document["signature"] = base64.b64encode(key.sign(_list_body(document))).decode("ascii")
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def parse_key_list(data: bytes) -> tuple[PublicKeyInfo, ...]:
    """The keys of a published list, once its signature by one of its own keys, not
    compromised when the list was issued, holds; KeyringError for anything else."""
    if len(data) > _MAX_METADATA:
        raise KeyringError("the key list is too large")
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != KEY_LIST_FORMAT:
            raise ValueError(f"not a {KEY_LIST_FORMAT} document")
        keys = _parse_metadata({"format": KEYRING_FORMAT, "keys": raw["keys"]})
        issued = _time(raw["issued"])
        signature = base64.b64decode(raw["signature"], validate=True)
        signer = raw["signed_by"]
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyringError("not a readable key list: {reason}", reason=str(exc)[:200]) from None
    by_fingerprint = {info.fingerprint: info for info in keys}
    info = by_fingerprint.get(signer) if isinstance(signer, str) else None
    if info is None or not verify_signature(info.public_key, signature, _list_body(raw)):
        raise KeyringError("the key list's signature does not hold: do not use it")
    if info.compromised is not None and info.compromised <= issued:
        raise KeyringError("the key list is signed by a key compromised before it was issued")
    return keys
