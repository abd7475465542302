"""The backup file: a tar stream encrypted with a key derived from a passphrase (scrypt),
in AES-256-GCM chunks of at most 1 MiB, so a vault of any size passes in bounded memory.

Owns the bytes of the format; must not know what is backed up (rempart.jobs.backup does).

Layout: `MAGIC | u32 header length | header (JSON) | chunk*`, each chunk `u32 length |
AES-GCM(plaintext)`. Chunk i's nonce is i (11 bytes) then 1 for the last chunk, 0 before:
a chunk moved, dropped or cut off, or an end cut off, fails to open. Every chunk is bound to
the header (its SHA-256 is the associated data), and the header carries a check of the key,
so a wrong passphrase is told apart from an altered file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import struct
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from rempart.errors import InputError

__all__ = [
    "MIN_PASSPHRASE",
    "BackupFileError",
    "BackupHeader",
    "ChunkReader",
    "ChunkWriter",
    "KdfParams",
    "WrongPassphrase",
    "open_reader",
]

MAGIC = b"RMPBAK1\n"
FORMAT = 1
CHUNK = 1 << 20
MIN_PASSPHRASE = 12
_TAG = 16
_LENGTH = struct.Struct(">I")
_MAX_HEADER = 64 * 1024
# Bounds on what a header may ask of the key derivation (a hostile file must not make us
# spend gigabytes or hours deriving a key).
_MAX_LOG_N = 20
_MAX_R = 16
_MAX_P = 4


class BackupFileError(InputError):
    """A backup file that cannot be read: not a backup, cut off, altered or damaged."""


class WrongPassphrase(BackupFileError):
    """The passphrase does not open this backup."""


@dataclass(frozen=True, slots=True)
class KdfParams:
    """scrypt's cost: 2**log_n rounds of 128 * r bytes each (2**17, 8: 128 MiB, ~0.5 s)."""

    log_n: int = 17
    r: int = 8
    p: int = 1


@dataclass(frozen=True, slots=True)
class BackupHeader:
    kdf: KdfParams
    salt: bytes = field(repr=False)
    check: bytes = field(repr=False)  # HMAC of a fixed text under the derived check key
    created: str
    raw: bytes = field(repr=False)  # the header exactly as stored (bound to every chunk)

    @classmethod
    def new(cls, kdf: KdfParams, created: str, check_key: bytes, salt: bytes) -> BackupHeader:
        check = _check(check_key)
        body = {
            "format": FORMAT,
            "cipher": "AES-256-GCM",
            "chunk": CHUNK,
            "kdf": {
                "name": "scrypt",
                "log_n": kdf.log_n,
                "r": kdf.r,
                "p": kdf.p,
                "salt": base64.b64encode(salt).decode(),
            },
            "check": base64.b64encode(check).decode(),
            "created": created,
        }
        raw = json.dumps(body, sort_keys=True).encode()
        return cls(kdf, salt, check, created, raw)

    @classmethod
    def parse(cls, raw: bytes) -> BackupHeader:
        try:
            body = json.loads(raw)
            if body["format"] != FORMAT:
                raise BackupFileError(
                    "this backup is in format {found}; this version of Rempart reads format "
                    "{known}",
                    found=body["format"],
                    known=FORMAT,
                )
            kdf_body: dict[str, Any] = body["kdf"]
            kdf = KdfParams(int(kdf_body["log_n"]), int(kdf_body["r"]), int(kdf_body["p"]))
            salt = base64.b64decode(kdf_body["salt"], validate=True)
            check = base64.b64decode(body["check"], validate=True)
            created = str(body["created"])
            ok = kdf_body["name"] == "scrypt" and body["chunk"] == CHUNK
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise BackupFileError("the backup's header is damaged") from None
        bounded = 10 <= kdf.log_n <= _MAX_LOG_N and 1 <= kdf.r <= _MAX_R and 1 <= kdf.p <= _MAX_P
        if not ok or not bounded or len(salt) < 16:
            raise BackupFileError("the backup's header is damaged")
        return cls(kdf, salt, check, created, raw)


def derive(passphrase: bytes, salt: bytes, kdf: KdfParams) -> tuple[bytes, bytes]:
    """The data key and the check key (32 bytes each) for this passphrase."""
    material = Scrypt(salt=salt, length=64, n=1 << kdf.log_n, r=kdf.r, p=kdf.p).derive(passphrase)
    return material[:32], material[32:]


def _check(check_key: bytes) -> bytes:
    return hmac.new(check_key, b"rempart backup passphrase check", hashlib.sha256).digest()


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class ChunkWriter:
    """A writable stream that encrypts what it is given into `out`, chunk by chunk.
    `close()` writes the last chunk (possibly empty); without it the file does not open."""

    def __init__(self, out: IO[bytes], passphrase: bytes, *, kdf: KdfParams, created: str):
        salt = secrets.token_bytes(16)
        key, check_key = derive(passphrase, salt, kdf)
        self.header = BackupHeader.new(kdf, created, check_key, salt)
        self._aead = AESGCM(key)
        self._aad = hashlib.sha256(MAGIC + self.header.raw).digest()
        self._out = out
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(MAGIC + _LENGTH.pack(len(self.header.raw)) + self.header.raw)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep one chunk back: the last one is marked
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    def _emit(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, last), plain, self._aad)
        self._out.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1


class ChunkReader:
    """A readable stream of the plaintext; raises BackupFileError on the first chunk that
    fails its check, is cut off, or on bytes after the last chunk."""

    def __init__(self, source: IO[bytes], header: BackupHeader, key: bytes) -> None:
        self.header = header
        self._source = source
        self._aead = AESGCM(key)
        self._aad = hashlib.sha256(MAGIC + header.raw).digest()
        self._buffer = bytearray()
        self._index = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._buffer += self._next_chunk()
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _next_chunk(self) -> bytes:
        head = self._source.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise BackupFileError("the backup is cut off (it ends before its last part)")
        (length,) = _LENGTH.unpack(head)
        if not _TAG <= length <= CHUNK + _TAG:
            raise BackupFileError("the backup is damaged (part {index})", index=self._index)
        sealed = self._source.read(length)
        if len(sealed) < length:
            raise BackupFileError("the backup is cut off (it ends before its last part)")
        for last in (False, True):
            try:
                plain = self._aead.decrypt(_nonce(self._index, last), sealed, self._aad)
            except InvalidTag:
                continue
            self._index += 1
            if last:
                self._done = True
                if self._source.read(1):
                    raise BackupFileError("the backup has unexpected bytes after its end")
            return plain
        raise BackupFileError(
            "the backup was altered or damaged (part {index} fails its integrity check)",
            index=self._index,
        )


def open_reader(source: IO[bytes], passphrase: bytes) -> ChunkReader:
    """Read the header of `source`, derive the key, and return the plaintext stream."""
    magic = source.read(len(MAGIC))
    if magic != MAGIC:
        raise BackupFileError("this is not a Rempart backup")
    head = source.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise BackupFileError("the backup is cut off (it ends before its last part)")
    (length,) = _LENGTH.unpack(head)
    if length > _MAX_HEADER:
        raise BackupFileError("the backup's header is damaged")
    raw = source.read(length)
    if len(raw) < length:
        raise BackupFileError("the backup is cut off (it ends before its last part)")
    header = BackupHeader.parse(raw)
    key, check_key = derive(passphrase, header.salt, header.kdf)
    if not hmac.compare_digest(_check(check_key), header.check):
        raise WrongPassphrase("wrong passphrase for this backup (or its header was altered)")
    return ChunkReader(source, header, key)


def private_file(path: os.PathLike[str] | str) -> IO[bytes]:
    """A new file only its owner can read or write (never an existing one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")
