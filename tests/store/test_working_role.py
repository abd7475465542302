"""A PostgreSQL deployment where Rempart's working role cannot rewrite the custody log: an
owner role migrates and owns the tables and triggers; the working role reads, writes rows and
appends events, but cannot drop a trigger, disable it, or update, delete or truncate a custody
event. Roles and a database are made for the test on 127.0.0.1 and dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from rempart.errors import InputError
from rempart.evidence.custody import CustodyAction, verify_chain
from rempart.evidence.ledger import chain_events, in_custody, record
from rempart.intake.cases import create_case
from rempart.store.database import Database
from rempart.store.roles import grant_working_role, working_role_grants

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_roles(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(owner URL, worker URL) of a fresh database, before any migration. The test
    database's superuser plays the administrator who creates roles once."""

    def admin_url() -> str:
        return postgres_url

    suffix = uuid.uuid4().hex[:8]
    owner, worker, name = f"rempart_owner_{suffix}", f"rempart_worker_{suffix}", f"rempart_{suffix}"
    admin = sa.create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE ROLE {owner} LOGIN"))
        connection.execute(sa.text(f"CREATE ROLE {worker} LOGIN"))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" OWNER {owner}'))
    base = sa.engine.make_url(admin_url()).set(database=name)
    urls = (
        base.set(username=owner).render_as_string(hide_password=False),
        base.set(username=worker).render_as_string(hide_password=False),
    )
    in_db = sa.create_engine(
        base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with in_db.connect() as connection:  # nobody but the owner creates anything in the schema
        connection.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        connection.execute(sa.text(f"ALTER SCHEMA public OWNER TO {owner}"))
    in_db.dispose()
    try:
        yield urls
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f"DROP ROLE IF EXISTS {worker}"))
            connection.execute(sa.text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


def _refused(engine: sa.Engine, statement: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as connection:
        connection.execute(sa.text(statement))
    return str(caught.value.orig)


def test_the_working_role_appends_but_cannot_drop_triggers_or_rewrite_custody(
    two_roles: tuple[str, str],
) -> None:
    owner_url, worker_url = two_roles
    owner = Database.open(owner_url)  # the owner runs the migrations
    grant_working_role(owner, sa.engine.make_url(worker_url).username or "")
    owner.dispose()

    worker = Database.open(worker_url)  # at head already: no migration is attempted
    case = create_case(worker, "case-roles")
    chain = f"case:{case.id}"
    for action in (CustodyAction.CASE_OPEN, CustodyAction.EXPORT):
        in_custody(
            worker,
            lambda session, action=action: record(
                session,
                chain,
                at=datetime.now(UTC),
                actor="camille",
                action=action,
                subject=f"case:{case.id}",
            ),
        )
    assert verify_chain(chain_events(worker, chain)).ok

    engine = worker.engine
    assert "must be owner" in _refused(
        engine, "DROP TRIGGER custody_events_append_only ON custody_events"
    )
    assert "must be owner" in _refused(engine, "ALTER TABLE custody_events DISABLE TRIGGER ALL")
    for statement in (
        "UPDATE custody_events SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM custody_events WHERE action = 'export'",
        "TRUNCATE custody_events",
        "UPDATE notice_events SET status = 'sent'",
        "DROP TABLE custody_events",
        "CREATE TABLE custody_events_copy (id integer)",
        "UPDATE alembic_version SET version_num = '0001'",
    ):
        assert "permission denied" in _refused(engine, statement) or "must be owner" in (
            _refused(engine, statement)
        ), statement
    events = chain_events(worker, chain)
    assert [e.actor for e in events] == ["camille", "camille"] and len(events) == 2
    worker.dispose()


def test_the_working_role_cannot_migrate_and_says_so(two_roles: tuple[str, str]) -> None:
    from rempart.errors import StoreError

    _owner_url, worker_url = two_roles
    with pytest.raises(StoreError, match="cannot reach or migrate"):
        Database.open(worker_url)


def test_role_names_are_checked_before_any_sql() -> None:
    with pytest.raises(InputError):
        working_role_grants("rempart; DROP TABLE cases")
    assert all("rempart_app" in s for s in working_role_grants("rempart_app"))
