"""Shared fixtures: a migrated store on SQLite and, where reachable, on PostgreSQL.

PostgreSQL tests run against a fresh database created for the test session. Where no server
is reachable they are skipped with a message, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from rempart.store.database import Database

# Property tests must not depend on this machine's speed: no per-example deadline and no
# "too slow" health check, for every test that does not set its own.
settings.register_profile(
    "any-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("any-machine")

POSTGRES_ADMIN_URL = os.environ.get(
    "REMPART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_or_skip() -> str:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = _postgres_or_skip()
    name = f"rempart_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset(db: Database) -> None:
    """An empty store at head, whatever the last test left (even rows a downgrade refuses to
    drop). Going down and up is tested on its own (tests/store/test_migrations.py)."""
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    db.upgrade("head")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated, empty store, on each database Rempart supports."""
    if request.param == "sqlite":
        database = Database.open(f"sqlite:///{tmp_path / 'rempart.db'}")
    else:
        database = Database.open(request.getfixturevalue("postgres_url"))
        _reset(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'rempart.db'}")
    yield database
    database.dispose()


@pytest.fixture
def make_finding(db: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Make a pending finding directly in the store: `make_finding(vault, case=..., minor=...,
    seed=...)` -> Made(finding id, media bytes). See tests/findings_made.py."""
    from findings_made import make_finding as make

    def made(vault=None, **kwargs):  # type: ignore[no-untyped-def]
        return make(db, vault, tmp_path, **kwargs)

    return made


_real_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _loopback_only_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Tests never ask the machine's DNS server (it is not on loopback): a name other than
    localhost or an address literal does not exist for them, as `.invalid` names do not."""
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name.lower().rstrip(".") in _LOCAL_NAMES:
        return _real_getaddrinfo(host, *args, **kwargs)
    if not _numeric(str(name)):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


def _numeric(name: str) -> bool:
    """An address literal, in any form the C library reads without DNS ("127.1", "0x7f.1",
    "2130706433" too)."""
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        try:
            socket.inet_aton(name)
        except OSError:
            return False
    return True


@pytest.fixture(autouse=True)
def _no_dns_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only_getaddrinfo)
