"""The evidence vault: sealed bundles and held media, encrypted at rest (AES-256-GCM), each
object bound to its name so a swapped file fails to open; small secrets (a proxy password)
sealed with the same key.

Owns bytes on disk and the vault keys: each key has an id (from its bytes), each object
names the key that sealed it, and `rotate` makes a new key current, re-wraps every object
under it and retires the old one. Key files must be private to their owner (0600). Must not
decide who may read (callers log every access in the custody log).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rempart.errors import EvidenceError
from rempart.private import private_folder

__all__ = ["KEY_ENV", "Vault", "VaultObject", "key_id"]

KEY_ENV = "REMPART_VAULT_KEY"  # base64 of 32 bytes; else a key file in the keys folder
_MAGIC = b"RMPVLT1\n"  # version 1: no key id (sealed before key ids; read with any key held)
_MAGIC2 = b"RMPVLT2\n"  # version 2: then the 8-byte id of the key that sealed it
_SEALED_PREFIX = "rv2:"  # a sealed secret: rv2:<base64 of key id, nonce, ciphertext>
_ID = 8
_NONCE = 12
_KEY_FILE_MAX = 4096
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}(/[a-z0-9][a-z0-9._-]{0,99}){0,3}$")


@dataclass(frozen=True, slots=True)
class VaultObject:
    name: str
    sha256: str  # of the plaintext
    size: int  # of the plaintext


class Vault:
    """Objects under `folder`, each `MAGIC2 | key id | nonce | AES-GCM(ciphertext + tag)` with
    the object's name as associated data. Writes are atomic (temporary file, fsync, rename).
    `key` seals; `retired` keys (by id) still open what they sealed until it is re-wrapped."""

    def __init__(
        self,
        folder: Path,
        key: bytes,
        *,
        retired: Mapping[str, bytes] | None = None,
        keys_folder: Path | None = None,
    ) -> None:
        if len(key) != 32:
            raise EvidenceError("the vault key must be 32 bytes (AES-256)")
        self.folder = folder
        self.key_id = key_id(key)
        self._key = key
        self._keys_folder = keys_folder
        self._keys: dict[str, AESGCM] = {k: AESGCM(v) for k, v in (retired or {}).items()}
        self._keys[self.key_id] = AESGCM(key)
        self._aead = self._keys[self.key_id]

    def __repr__(self) -> str:
        return f"Vault({str(self.folder)!r}, key {self.key_id})"

    @classmethod
    def open(cls, home: Path, env: Mapping[str, str] | None = None) -> Vault:
        """The vault in `home/evidence`, with the key from `REMPART_VAULT_KEY` or from
        `home/keys/vault.key` (created on first use, readable by its owner only), and the
        retired keys in `home/keys/vault-retired/`."""
        env = os.environ if env is None else env
        keys = home / "keys"
        from_env = env.get(KEY_ENV)
        return cls(
            home / "evidence",
            _load_key(keys / "vault.key", from_env),
            retired=_retired_keys(keys / _RETIRED),
            keys_folder=None if from_env else keys,
        )

    def put(self, name: str, data: bytes) -> VaultObject:
        path = self._path(name)
        _atomic_write(path, self._seal(name, data))
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
        return self._open(name, sealed)

    def sealed_by(self, name: str) -> str | None:
        """The id of the key that sealed object `name` (None: sealed before key ids)."""
        with self._path(name).open("rb") as handle:
            head = handle.read(len(_MAGIC2) + _ID)
        return head[len(_MAGIC2) :].hex() if head.startswith(_MAGIC2) else None

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

    # -- secrets

    def seal_secret(self, label: str, secret: str) -> str:
        """`secret` sealed with the current key, bound to `label` (where it is kept)."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, secret.encode(), label.encode())
        raw = bytes.fromhex(self.key_id) + nonce + sealed
        return _SEALED_PREFIX + base64.b64encode(raw).decode()

    def open_secret(self, label: str, token: str) -> str:
        """The secret `seal_secret(label, …)` returned `token` for."""
        try:
            raw = base64.b64decode(token.removeprefix(_SEALED_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not token.startswith(_SEALED_PREFIX) or len(raw) < _ID + _NONCE + 16:
            raise EvidenceError("a sealed secret ({label}) is damaged", label=label)
        aead = self._key_for(raw[:_ID].hex(), label)
        try:
            return aead.decrypt(
                raw[_ID : _ID + _NONCE], raw[_ID + _NONCE :], label.encode()
            ).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise EvidenceError(
                "a sealed secret ({label}) fails its integrity check", label=label
            ) from None

    def rewrap_secret(self, label: str, token: str) -> str:
        """`token` sealed again with the current key (for rotation)."""
        return self.seal_secret(label, self.open_secret(label, token))

    @staticmethod
    def is_sealed_secret(value: object) -> bool:
        return isinstance(value, str) and value.startswith(_SEALED_PREFIX)

    # -- rotation

    def rotate(self) -> Vault:
        """A new current key: the old one is retired (kept in keys/vault-retired/, 0600), every
        object is re-wrapped under the new key, then retired keys that no object needs any
        more are deleted. Returns the vault with the new key. Secrets kept elsewhere (a
        source's proxy password) are re-wrapped by their owner with `rewrap_secret`, before
        `forget_retired`. Resumable: an interrupted rotation is finished by `rewrap`."""
        if self._keys_folder is None:
            raise EvidenceError(
                "the vault key comes from {variable}: rotate it by keeping the old key's file "
                "in keys/vault-retired/ and setting the new key there",
                variable=KEY_ENV,
            )
        retired_folder = self._keys_folder / _RETIRED
        private_folder(retired_folder)
        _write_key(retired_folder / f"{self.key_id}.key", self._key, exclusive=False)
        new_key = secrets.token_bytes(32)
        _write_key(self._keys_folder / "vault.key", new_key, exclusive=False)
        rotated = Vault(
            self.folder,
            new_key,
            retired=_retired_keys(retired_folder),
            keys_folder=self._keys_folder,
        )
        rotated.rewrap()
        return rotated

    def rewrap(self) -> int:
        """Re-seal under the current key every object another key sealed; returns how many."""
        count = 0
        for name in list(self.names()):
            if self.sealed_by(name) != self.key_id:
                self.put(name, self.get(name))
                count += 1
        return count

    def forget_retired(self) -> list[str]:
        """Delete the retired keys (after `rewrap`, and after owners re-wrapped their secrets);
        returns their ids."""
        if self._keys_folder is None:
            return []
        forgotten = []
        for path in sorted((self._keys_folder / _RETIRED).glob("*.key")):
            if path.stem != self.key_id:
                path.unlink()
                self._keys.pop(path.stem, None)
                forgotten.append(path.stem)
        return forgotten

    # -- sealing

    def _seal(self, name: str, data: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return (
            _MAGIC2
            + bytes.fromhex(self.key_id)
            + nonce
            + self._aead.encrypt(nonce, data, name.encode())
        )

    def _open(self, name: str, sealed: bytes) -> bytes:
        if sealed.startswith(_MAGIC2) and len(sealed) >= len(_MAGIC2) + _ID + _NONCE + 16:
            head = len(_MAGIC2)
            candidates = [self._key_for(sealed[head : head + _ID].hex(), name)]
            head += _ID
        elif sealed.startswith(_MAGIC) and len(sealed) >= len(_MAGIC) + _NONCE + 16:
            head = len(_MAGIC)
            candidates = [self._aead, *(k for k in self._keys.values() if k is not self._aead)]
        else:
            raise EvidenceError("{name!r} in the evidence vault is not a vault object", name=name)
        nonce = sealed[head : head + _NONCE]
        for aead in candidates:
            try:
                return aead.decrypt(nonce, sealed[head + _NONCE :], name.encode())
            except InvalidTag:
                continue
        raise EvidenceError(
            "{name!r} in the evidence vault fails its integrity check "
            "(altered, swapped, or another vault key)",
            name=name,
        )

    def _key_for(self, wanted: str, name: str) -> AESGCM:
        aead = self._keys.get(wanted)
        if aead is None:
            raise EvidenceError(
                "{name!r} in the evidence vault was sealed with vault key {key}, which is not "
                "here (keys/vault.key or keys/vault-retired/)",
                name=name,
                key=wanted,
            )
        return aead

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise EvidenceError("not a vault object name: {name!r}", name=name)
        return self.folder / name


_RETIRED = "vault-retired"


def key_id(key: bytes) -> str:
    """A vault key's id: 16 hex digits derived from the key (it reveals nothing of it)."""
    return hashlib.sha256(b"rempart vault key id\0" + key).hexdigest()[: 2 * _ID]


def _atomic_write(path: Path, data: bytes) -> None:
    private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_key(path: Path, key: bytes, *, exclusive: bool) -> None:
    """A key file, 0600, written whole (temporary file and rename unless `exclusive`)."""
    encoded = base64.b64encode(key) + b"\n"
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(encoded)
            out.flush()
            os.fsync(out.fileno())
        return
    _atomic_write(path, encoded)


def _retired_keys(folder: Path) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    if not folder.is_dir():
        return keys
    for path in sorted(folder.glob("*.key")):
        key = _load_key(path, None, create=False)
        keys[key_id(key)] = key
    return keys


def _load_key(path: Path, encoded: str | None, *, create: bool = True) -> bytes:
    if encoded:
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise EvidenceError("{variable} is not base64", variable=KEY_ENV) from None
        if len(key) != 32:
            raise EvidenceError("{variable} must hold 32 bytes, base64-encoded", variable=KEY_ENV)
        return key
    if create and not path.exists():
        private_folder(path.parent)
        key = secrets.token_bytes(32)
        try:
            _write_key(path, key, exclusive=True)
        except FileExistsError:
            return _load_key(path, None)  # another process made it first
        return key
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            _refuse_shared(path, os.fstat(handle.fileno()))
            key = base64.b64decode(handle.read(_KEY_FILE_MAX).strip(), validate=True)
    except (binascii.Error, ValueError, OSError) as exc:
        raise EvidenceError(
            "the vault key {path} is unreadable: {reason}", path=path, reason=exc
        ) from None
    if len(key) != 32:
        raise EvidenceError("the vault key {path} does not hold 32 bytes", path=path)
    return key


def _refuse_shared(path: Path, status: os.stat_result) -> None:
    """A key file others can read (or write) is refused: the key may already be copied."""
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise EvidenceError(
            "the vault key {path} can be read by others (mode {mode:o}): make it private "
            "with `chmod 600 {path}` (and consider rotating it: `rempart vault rotate`)",
            path=path,
            mode=mode,
        )
