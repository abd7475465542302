"""What this installation trusts when it verifies its own bundles and custody anchors: its
signing keys (with their lives) from `home/keys`, and the roots of the time-stamping
authorities it is configured with.

Reads those files only; must not verify anything (evidence.verify does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from rempart.evidence.keys import PublicKeyInfo

__all__ = ["OwnTrust", "own_trust"]


@dataclass(frozen=True, slots=True)
class OwnTrust:
    """What this installation trusts when it verifies its own bundles: its signing keys (with
    their lives) and its time-stamping authorities' roots."""

    keys: dict[str, str]  # fingerprint -> where the trust came from (verify.OWN_KEY)
    lives: tuple[PublicKeyInfo, ...]
    roots: tuple[x509.Certificate, ...]


def own_trust(home: Path, env: Mapping[str, str]) -> OwnTrust:
    """The keys of `home/keys` and the roots of the configured authorities."""
    from rempart.evidence.authorities import authorities_file, load_authorities
    from rempart.evidence.keys import Keyring
    from rempart.evidence.timestamps import load_certificates
    from rempart.evidence.verify import OWN_KEY

    keys: dict[str, str] = {}
    lives: list[PublicKeyInfo] = []
    roots: list[x509.Certificate] = []
    keyring = Keyring(home / "keys")
    if keyring.exists:
        for info in keyring.public_keys():
            keys.setdefault(info.fingerprint, OWN_KEY)
            lives.append(info)
    for authority in load_authorities(authorities_file(home, env)):
        roots.extend(load_certificates(list(authority.certificates)))
    return OwnTrust(keys, tuple(lives), tuple(roots))
