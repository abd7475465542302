"""Media held for review: the bytes of a matched copy, kept encrypted in the vault from the
moment a scan matches it, so a caseworker can look (blurred first) even once it is gone.

Never for a minor's case: those keep digests and references only. Must not decide matches.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from rempart.evidence.vault import Vault
from rempart.store.database import Database
from rempart.store.models import Bank, Case

__all__ = ["HeldMedia", "held_name", "minor_banks"]


def held_name(sha256: str) -> str:
    return f"media/{sha256}"


def minor_banks(db: Database) -> frozenset[str]:
    """Names of the banks whose case involves a minor."""
    with db.session() as session:
        rows = session.scalars(
            select(Bank.name).join(Case, Case.id == Bank.case_id).where(Case.minor.is_(True))
        )
        return frozenset(rows)


class HeldMedia:
    """Keeps matched media in the vault, by SHA-256 (a copy seen twice is kept once)."""

    def __init__(self, vault: Vault, minor: frozenset[str]) -> None:
        self.vault = vault
        self._minor = minor

    @classmethod
    def for_db(cls, db: Database, vault: Vault) -> HeldMedia:
        return cls(vault, minor_banks(db))

    def keep(self, sha256: str, data: bytes, banks: Iterable[str]) -> bool:
        """Hold `data` unless one of the matched `banks` belongs to a minor's case."""
        if any(bank in self._minor for bank in banks):
            return False
        name = held_name(sha256)
        if not self.vault.has(name):
            self.vault.put(name, data)
        return True
