"""PostgreSQL roles for a deployment where Rempart's working role cannot rewrite history: an
owner role runs the migrations and owns the tables and their triggers; the working role that
every Rempart command and worker uses may only read and write rows, and only append to the
append-only logs. Neither role may then drop a trigger unless it owns the table.

Owns the GRANT statements (docs/scale-out.md shows the same ones); must not create roles or
databases (an administrator does, once).
"""

from __future__ import annotations

import re

from sqlalchemy import text

from rempart.errors import InputError, StoreError
from rempart.store.database import Database

__all__ = ["APPEND_ONLY_TABLES", "grant_working_role", "working_role_grants"]

# Tables whose rows are never updated or deleted: the working role may only insert and read.
APPEND_ONLY_TABLES = ("custody_events", "notice_events")
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def working_role_grants(role: str) -> tuple[str, ...]:
    """The statements the owner runs, after each migration, for the working `role`."""
    if not _ROLE.fullmatch(role):
        raise InputError("not a PostgreSQL role name Rempart accepts: {role!r:.70}", role=role)
    logs = ", ".join(APPEND_ONLY_TABLES)
    return (
        f"REVOKE ALL ON SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {logs} FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    )


def grant_working_role(db: Database, role: str) -> None:
    """Run `working_role_grants` on `db`, connected as the owner role."""
    if db.engine.dialect.name != "postgresql":
        raise StoreError("a separate working role is a PostgreSQL deployment")
    with db.engine.begin() as connection:
        for statement in working_role_grants(role):
            connection.execute(text(statement))
