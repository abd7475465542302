"""The association's intake key pair and the sealed hash files made with its public key.

Owns the cipher suite (P-256 ECDH, HKDF-SHA256, AES-256-GCM: what WebCrypto offers in every
current browser) and the key files. Must not parse what it opens (hashfile.py does).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rempart.errors import Conflict, HashListError, InputError
from rempart.intake.hashfile import (
    SEALED_FORMAT,
    SEALED_VERSION,
    HashFile,
    canonical_json,
    document_format,
    parse_hash_file,
)

__all__ = [
    "ALGORITHM",
    "IntakeKey",
    "key_id",
    "load_hash_file",
    "make_key_pair",
    "open_sealed",
    "read_private_key",
    "read_public_key",
    "seal",
    "spki_base64",
]

ALGORITHM = "ECDH-P256+HKDF-SHA256+A256GCM"
_INFO = b"rempart hash file v1"
PRIVATE_NAME = "intake-key.pem"
PUBLIC_NAME = "intake-key.pub.pem"


@dataclass(frozen=True, slots=True)
class IntakeKey:
    """Where a key pair was written, and the public key's id (what a sealed file names)."""

    private: Path
    public: Path
    key_id: str


def _spki(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public: ec.EllipticCurvePublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the public key (DER SubjectPublicKeyInfo)."""
    return hashlib.sha256(_spki(public)).hexdigest()[:16]


def spki_base64(public: ec.EllipticCurvePublicKey) -> str:
    """The public key as the page imports it (WebCrypto's "spki" format, base64)."""
    return base64.b64encode(_spki(public)).decode("ascii")


def make_key_pair(folder: Path) -> IntakeKey:
    """A new P-256 key pair in `folder`: the private key readable by its owner only (0600).
    Refuses to overwrite one: files sealed to it could no longer be opened."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    if private_path.exists():
        raise Conflict(
            "an intake key already exists at {path}: files sealed to it need it", path=private_path
        )
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = private.public_key()
    public_path.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return IntakeKey(private_path, public_path, key_id(public))


def read_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise InputError("cannot read {path}: {reason}", path=path, reason=exc.strerror) from None
    except ValueError:
        raise InputError("{path} is not a PEM public key", path=path) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise InputError("{path} is not a P-256 intake key", path=path)
    return key


def read_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise InputError("cannot read {path}: {reason}", path=path, reason=exc.strerror) from None
    except (ValueError, TypeError):
        raise InputError("{path} is not an unencrypted PEM private key", path=path) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise InputError("{path} is not a P-256 intake key", path=path)
    return key


def _aes_key(shared: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=_INFO).derive(shared)


def seal(data: bytes, public: ec.EllipticCurvePublicKey) -> bytes:
    """What the page does when it holds the association's key (tests and tools use it)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    iv = os.urandom(12)
    ciphertext = AESGCM(_aes_key(ephemeral.exchange(ec.ECDH(), public))).encrypt(iv, data, None)
    raw = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    envelope = {
        "format": SEALED_FORMAT,
        "version": SEALED_VERSION,
        "algorithm": ALGORITHM,
        "key": key_id(public),
        "ephemeral": base64.b64encode(raw).decode("ascii"),
        "iv": base64.b64encode(iv).decode("ascii"),
        "data": base64.b64encode(ciphertext).decode("ascii"),
    }
    return canonical_json(envelope)


def open_sealed(envelope: dict[str, Any], private: ec.EllipticCurvePrivateKey) -> bytes:
    """The hash file inside a sealed one. AES-GCM's tag proves it arrived as it was sealed."""
    if envelope.get("version") != SEALED_VERSION or envelope.get("algorithm") != ALGORITHM:
        raise HashListError("this sealed hash file uses a cipher this Rempart does not know")
    if envelope.get("key") != key_id(private.public_key()):
        raise HashListError(
            "this hash file was sealed to another key ({theirs}; this key is {ours})",
            theirs=str(envelope.get("key"))[:16],
            ours=key_id(private.public_key()),
        )
    try:
        raw = base64.b64decode(envelope["ephemeral"], validate=True)
        iv = base64.b64decode(envelope["iv"], validate=True)
        data = base64.b64decode(envelope["data"], validate=True)
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        shared = private.exchange(ec.ECDH(), peer)
        return AESGCM(_aes_key(shared)).decrypt(iv, data, None)
    except (KeyError, TypeError, ValueError, InvalidTag):
        raise HashListError(
            "the sealed hash file is damaged or was changed after it was sealed"
        ) from None


def load_hash_file(data: bytes, private: ec.EllipticCurvePrivateKey | None) -> HashFile:
    """A hash file as it arrived: sealed (opened with `private`) or plain, then checked."""
    kind, document = document_format(data)
    if kind == SEALED_FORMAT:
        if private is None:
            raise HashListError(
                "this hash file is sealed: the association's intake key is needed to open it "
                "(see `rempart intake key`)"
            )
        data = open_sealed(document, private)
    return parse_hash_file(data)
