"""A page pushes its session's idle expiry back at most once a minute: browsing costs no write
to the store on every request, and the idle limit still holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from webapp import Web

from rempart.accounts.policy import Role
from rempart.clock import aware
from rempart.store.models import WebSession


def _seen(web: Web) -> list[datetime]:
    with web.db.session() as session:
        return [aware(t) for t in session.scalars(select(WebSession.seen_at))]


def test_pages_touch_the_session_at_most_once_a_minute(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    signed_in = web.clock()
    assert _seen(web) == [signed_in]
    web.clock.advance(seconds=30)
    assert client.get("/").status_code == 200
    assert _seen(web) == [signed_in]  # not written
    web.clock.advance(seconds=30)
    assert client.get("/").status_code == 200
    assert _seen(web) == [web.clock()]  # a minute on: pushed back


def test_the_idle_limit_counts_from_the_last_touch(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    web.clock.advance(seconds=50)
    assert client.get("/").status_code == 200  # within the minute: no touch
    web.clock.advance(minutes=29, seconds=9)
    assert client.get("/").status_code == 200  # 29:59 after the sign-in
    web.clock.advance(minutes=30)
    assert client.get("/", follow_redirects=False).status_code == 303
