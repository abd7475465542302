"""Copies of the whole database for backups: a consistent online copy of a SQLite file (its
backup API), and a portable dump of every table's rows (JSON lines, in dependency order) that
loads into an empty SQLite or PostgreSQL database at the same schema revision.

Owns reading and writing rows wholesale; must not decide what else a backup holds.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from rempart.errors import StoreError
from rempart.store.database import Database

__all__ = [
    "TableDump",
    "copy_sqlite",
    "dump_rows",
    "is_empty",
    "load_rows",
    "revision_of",
    "row_counts",
    "sqlite_file",
    "wipe",
]

_VERSION_TABLE = "alembic_version"
_BATCH = 500
_APPEND_ONLY = ("custody_events_append_only", "notice_events_append_only")


@dataclass(frozen=True, slots=True)
class TableDump:
    name: str
    path: Path
    rows: int


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite file `source` (writers may go on meanwhile), as one
    self-contained file (no write-ahead log beside it)."""
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise StoreError(
            "cannot copy the database {path}: {reason}", path=str(source), reason=str(exc)
        ) from exc


def revision_of(db: Database) -> str | None:
    revisions = db.stored_revisions()
    if not revisions:
        return None
    if len(revisions) != 1:
        raise StoreError(
            "the database records several schema revisions ({revisions}): migrate it first",
            revisions=", ".join(sorted(revisions)),
        )
    return revisions.pop()


def _tables(connection: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if t.name != _VERSION_TABLE]


def is_empty(db: Database) -> bool:
    """Whether the database holds no rows (a new database, or one only migrated)."""
    try:
        with db.engine.connect() as connection:
            for table in _tables(connection):
                if connection.scalar(select(func.count()).select_from(table)):
                    return False
    except SQLAlchemyError as exc:
        raise StoreError(
            "cannot read database {url}: {reason}",
            url=db.engine.url.render_as_string(hide_password=True),
            reason=str(getattr(exc, "orig", exc)),
        ) from exc
    return True


def row_counts(db: Database) -> dict[str, int]:
    """How many rows each table holds."""
    with db.engine.connect() as connection:
        return {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in _tables(connection)
        }


def dump_rows(db: Database, folder: Path) -> list[TableDump]:
    """Every table's rows into `folder/<table>.jsonl`, read in one snapshot (REPEATABLE READ
    on PostgreSQL), in an order that loads without breaking a foreign key."""
    dumps: list[TableDump] = []
    options: dict[str, Any] = {"stream_results": True}
    if db.engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with db.engine.connect().execution_options(**options) as connection, connection.begin():
        for table in _tables(connection):
            path = folder / f"{table.name}.jsonl"
            rows = 0
            order = list(table.primary_key.columns) or list(table.columns)
            result = connection.execute(select(table).order_by(*order))
            with path.open("w", encoding="utf-8") as out:
                for partition in result.mappings().partitions(_BATCH):
                    for row in partition:
                        out.write(json.dumps({k: _encode(v) for k, v in row.items()}))
                        out.write("\n")
                        rows += 1
            dumps.append(TableDump(table.name, path, rows))
    return dumps


def load_rows(db: Database, tables: Iterable[tuple[str, Path]]) -> None:
    """Insert dumped rows into `db` (at the dump's schema revision, and empty), all in one
    transaction: either every row is in, or none."""
    try:
        with db.engine.connect() as connection, connection.begin():
            known = {t.name: t for t in _tables(connection)}
            for name, path in tables:
                table = known.get(name)
                if table is None:
                    raise StoreError(
                        "the backup holds a table {table} this schema lacks", table=name
                    )
                for batch in _batches(path):
                    connection.execute(table.insert(), batch)
            if connection.dialect.name == "postgresql":
                for table in known.values():
                    _reset_sequences(connection, table)
    except SQLAlchemyError as exc:
        raise StoreError(
            "the backup's rows do not load into the database: {reason}",
            reason=str(getattr(exc, "orig", exc)).splitlines()[0],
        ) from exc


def wipe(db: Database) -> None:
    """Drop every table Rempart made, and on PostgreSQL its enum types and trigger functions
    (what Alembic's downgrade would leave of a database whose data blocks the downgrade)."""
    with db.engine.connect() as connection, connection.begin():
        metadata = MetaData()
        metadata.reflect(connection)
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            for table in metadata.tables:
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
            for function in _APPEND_ONLY:
                connection.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
            enums = connection.scalars(
                text(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                    " WHERE t.typtype = 'e' AND n.nspname = current_schema()"
                )
            ).all()
            for enum in enums:
                connection.execute(text(f'DROP TYPE IF EXISTS "{enum}"'))
        else:
            connection.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(metadata.sorted_tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            batch.append({k: _decode(v) for k, v in json.loads(line).items()})
            if len(batch) == _BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _reset_sequences(connection: Connection, table: Table) -> None:
    for column in table.primary_key.columns:
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        )
        if sequence is None:
            continue
        top = connection.scalar(select(func.max(column)))
        if top is not None:
            connection.execute(text("SELECT setval(:seq, :value)"), {"seq": sequence, "value": top})


def _encode(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    raise StoreError("cannot back up a value of type {kind}", kind=type(value).__name__)


def _decode(value: object) -> object:
    if not isinstance(value, dict):
        return value
    try:
        ((tag, body),) = value.items()
        if tag == "$dt":
            return datetime.fromisoformat(body)
        if tag == "$d":
            return date.fromisoformat(body)
        if tag == "$b64":
            return base64.b64decode(body, validate=True)
        if tag == "$dec":
            return Decimal(body)
    except (ValueError, TypeError, ArithmeticError):
        pass
    raise StoreError("the backup's database holds a value it cannot read")


def sqlite_database(path: Path) -> Database:
    """The SQLite file at `path`, as it is (no migration)."""
    try:
        return Database.open(f"sqlite:///{path}", migrate=False)
    except SQLAlchemyError as exc:  # pragma: no cover - open is lazy
        raise StoreError(
            "cannot open the database {path}: {reason}", path=str(path), reason=str(exc)
        ) from exc
