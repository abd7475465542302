"""The evidence vault: sealed bundles and held media, encrypted at rest (AES-256-GCM), each
object bound to its name so a swapped file fails to open.

Owns bytes on disk and the data key; must not decide who may read (callers log every access
in the custody log).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rempart.errors import EvidenceError

__all__ = ["KEY_ENV", "Vault", "VaultObject"]

KEY_ENV = "REMPART_VAULT_KEY"  # base64 of 32 bytes; else a key file in the keys folder
_MAGIC = b"RMPVLT1\n"
_NONCE = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}(/[a-z0-9][a-z0-9._-]{0,99}){0,3}$")


@dataclass(frozen=True, slots=True)
class VaultObject:
    name: str
    sha256: str  # of the plaintext
    size: int  # of the plaintext


class Vault:
    """Objects under `folder`, each `MAGIC | nonce | AES-GCM(ciphertext + tag)` with the object's
    name as associated data. Writes are atomic (temporary file, fsync, rename)."""

    def __init__(self, folder: Path, key: bytes) -> None:
        if len(key) != 32:
            raise EvidenceError("the vault key must be 32 bytes (AES-256)")
        self.folder = folder
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return f"Vault({str(self.folder)!r})"

    @classmethod
    def open(cls, home: Path, env: Mapping[str, str] | None = None) -> Vault:
        """The vault in `home/evidence`, with the key from `REMPART_VAULT_KEY` or from
        `home/keys/vault.key` (created on first use, readable by its owner only)."""
        env = os.environ if env is None else env
        return cls(home / "evidence", _load_key(home / "keys" / "vault.key", env.get(KEY_ENV)))

    def put(self, name: str, data: bytes) -> VaultObject:
        path = self._path(name)
        nonce = secrets.token_bytes(_NONCE)
        sealed = _MAGIC + nonce + self._aead.encrypt(nonce, data, name.encode())
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            with open(temporary, "xb") as out:
                out.write(sealed)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return VaultObject(name, hashlib.sha256(data).hexdigest(), len(data))

    def get(self, name: str) -> bytes:
        path = self._path(name)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            raise EvidenceError("no object {name!r} in the evidence vault", name=name) from None
        except OSError as exc:
            raise EvidenceError(
                "cannot read {name!r} from the evidence vault: {reason}",
                name=name,
                reason=exc,
            ) from exc
        head = len(_MAGIC)
        if not sealed.startswith(_MAGIC) or len(sealed) < head + _NONCE + 16:
            raise EvidenceError("{name!r} in the evidence vault is not a vault object", name=name)
        nonce = sealed[head : head + _NONCE]
        try:
            return self._aead.decrypt(nonce, sealed[head + _NONCE :], name.encode())
        except InvalidTag:
            raise EvidenceError(
                "{name!r} in the evidence vault fails its integrity check "
                "(altered, swapped, or another vault key)",
                name=name,
            ) from None

    def has(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.folder).as_posix()

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise EvidenceError("not a vault object name: {name!r}", name=name)
        return self.folder / name


def _load_key(path: Path, encoded: str | None) -> bytes:
    if encoded:
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise EvidenceError("{variable} is not base64", variable=KEY_ENV) from None
        if len(key) != 32:
            raise EvidenceError("{variable} must hold 32 bytes, base64-encoded", variable=KEY_ENV)
        return key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _load_key(path, None)  # another process made it first
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64encode(key) + b"\n")
            out.flush()
            os.fsync(out.fileno())
        return key
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError, OSError) as exc:
        raise EvidenceError(
            "the vault key {path} is unreadable: {reason}", path=path, reason=exc
        ) from None
    if len(key) != 32:
        raise EvidenceError("the vault key {path} does not hold 32 bytes", path=path)
    return key
