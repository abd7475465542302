"""Where Rempart keeps its data and which database it talks to, read from the environment.

Built on demand and passed in; nothing here runs at import time. Must not open the database.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_path

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """`REMPART_HOME` (data folder), `REMPART_DATABASE_URL` (default: SQLite in the home),
    `REMPART_OPERATOR` (who is at the keyboard; default: the system user) and
    `REMPART_ORGANISATION` (in whose name evidence is sealed)."""

    home: Path
    database_url: str
    operator: str = ""
    organisation: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("REMPART_HOME") or user_data_path("rempart", appauthor=False))
        url = env.get("REMPART_DATABASE_URL") or f"sqlite:///{home / 'rempart.db'}"
        operator = env.get("REMPART_OPERATOR") or _system_user()
        organisation = env.get("REMPART_ORGANISATION", "")
        return cls(home=home, database_url=url, operator=operator, organisation=organisation)


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return f"uid-{os.getuid()}"
