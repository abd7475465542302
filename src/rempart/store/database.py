"""Opening the store: the engine, schema migrations (Alembic) and sessions.

The only module that creates engines. Must not hold global state: callers pass a `Database` in.
Alembic is imported only when the schema is not at its head revision (start-up time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rempart.errors import StoreError
from rempart.private import make_private, private_folder, write_private

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["Database", "head_revision"]

_MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision(?:\s*:[^=\n]*)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=\n]*)?\s*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparsable database URL>"


class Database:
    """A migrated database: `Database.open(url)` upgrades the schema, then hands out sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """The database at `url`, its schema upgraded to the head revision when `migrate`.

        A schema already at the head (the usual case) costs one query, not an Alembic run.
        """
        if url.startswith("sqlite:///"):
            _private_sqlite_file(Path(url.removeprefix("sqlite:///")))
        try:
            engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(
                "cannot use database {url}: {reason}", url=_redact(url), reason=str(exc)
            ) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        db = cls(engine)
        if migrate and not db.at_head():
            db.upgrade()
        return db

    def stored_revisions(self) -> set[str] | None:
        """The revisions recorded in the database's `alembic_version`, or None if it has none."""
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version"))
                return {str(row[0]) for row in rows}
        except SQLAlchemyError:
            return None  # no such table yet (a new database), or unreadable: migrate

    def at_head(self) -> bool:
        """Whether the schema is exactly at the one head revision of the migration scripts.

        Any doubt (no revision table, several heads, scripts it cannot read) answers False,
        so that Alembic runs and decides.
        """
        head = head_revision()
        return head is not None and self.stored_revisions() == {head}

    def alembic_config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        try:
            command.upgrade(self.alembic_config(), revision)
        except (OperationalError, ProgrammingError) as exc:  # unreachable, or not the owner
            raise StoreError(
                "cannot reach or migrate database {url}: {reason}",
                url=_redact(str(self.engine.url)),
                reason=str(exc.orig),
            ) from exc

    def downgrade(self, revision: str = "base") -> None:
        from alembic import command

        command.downgrade(self.alembic_config(), revision)

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


@cache
def head_revision(versions: Path = _MIGRATIONS / "versions") -> str | None:
    """The head revision of the migration scripts, read from their text without Alembic.

    None when it is not exactly one revision or a script cannot be read: callers then let
    Alembic decide.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        scripts = sorted(versions.glob("*.py"))
        for script in scripts:
            source = script.read_text(encoding="utf-8")
            revision = _REVISION.search(source)
            down = _DOWN_REVISION.search(source)
            if revision is None or down is None:
                return None
            revisions.add(revision.group(1))
            parents.update(_QUOTED.findall(down.group(1)))
    except (OSError, UnicodeDecodeError):
        return None
    heads = revisions - parents
    if len(scripts) != len(revisions) or len(heads) != 1 or not parents <= revisions:
        return None
    return heads.pop()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _private_sqlite_file(path: Path) -> None:
    """The database file exists, 0600, before SQLite opens it: SQLite gives its journal and
    WAL files the database file's mode, so they are private too."""
    if str(path) in ("", ":memory:"):
        return
    private_folder(path.parent)
    if path.exists():
        if path.is_file() and path.stat().st_mode & 0o077:
            make_private(path)
        return
    try:
        write_private(path, b"", exclusive=True)
    except FileExistsError:
        return  # another process made it first
