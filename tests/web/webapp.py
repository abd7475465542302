"""Helpers of the web tests: a web app on a store, with a clock the test moves, real accounts
and tokens made through the use cases, and a browser-like client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from rempart.accounts import tokens, users
from rempart.accounts.credentials import Totp
from rempart.accounts.policy import Role
from rempart.config import Settings
from rempart.store.database import Database
from rempart.web.app import create_app
from rempart.web.settings import WebSettings

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Web:
    db: Database
    clock: Clock
    settings: WebSettings
    app: object = None
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self, *, https: bool = True) -> TestClient:
        base = "https://testserver" if https else "http://testserver"
        return TestClient(self.app, base_url=base)  # type: ignore[arg-type]

    def user(self, name: str, role: Role, *cases: str, totp: bool = False) -> str | None:
        users.add_user(
            self.db, name, role, cases=cases, password=PASSWORD, actor="test", clock=self.clock
        )
        if totp:
            secret = users.enrol_totp(self.db, name, actor="test").secret
            self.secrets[name] = secret
            return secret
        return None

    def code(self, name: str) -> str:
        return Totp(self.secrets[name]).code_at(self.clock().timestamp())

    def token(self, name: str, role: Role = Role.MATCHER, **scope: object) -> str:
        made = tokens.create_token(
            self.db,
            name,
            role,
            actor="test",
            clock=self.clock,
            **scope,  # type: ignore[arg-type]
        )
        return made.secret

    def sign_in(self, client: TestClient, name: str, password: str = PASSWORD) -> object:
        page = client.get("/login")
        return client.post(
            "/login",
            data={"name": name, "password": password, "csrf": csrf_of(page.text)},
            follow_redirects=False,
        )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def make_web(db: Database, tmp_path: Path, **overrides: object) -> Web:
    clock = Clock()
    core = Settings(home=tmp_path / "home", database_url=str(db.engine.url))
    settings = replace(WebSettings(core=core, rate=0), **overrides)  # type: ignore[arg-type]
    web = Web(db, clock, settings)
    web.app = create_app(settings, db=db, clock=clock)
    return web
