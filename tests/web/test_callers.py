"""The match API's memory of its callers: an accepted token and the list of banks are read
from the store at most every `fresh_s` seconds; a revocation, a new bank or a narrowed scope
takes effect once that time has passed, an expiry at its moment, and every refusal is read
(and logged) afresh."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from webapp import Web

from rempart.accounts import access_log, tokens
from rempart.accounts.policy import AccessError
from rempart.intake.banks import create_bank
from rempart.web.callers import Callers


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _callers(web: Web, fresh_s: float = 0.5) -> tuple[Callers, Ticks]:
    ticks = Ticks()
    return Callers(web.db, web.clock, fresh_s, monotonic=ticks), ticks


def _who(callers: Callers, secret: str) -> str:
    return callers.principal(secret, action="test", client="127.0.0.1").name


def test_a_revoked_token_is_refused_once_the_memory_is_fresh_s_old(web: Web) -> None:
    secret = web.token("partner", all_banks=True)
    callers, ticks = _callers(web)
    assert _who(callers, secret) == "partner"
    tokens.revoke_token(web.db, "partner", actor="test")
    ticks.now += 0.25
    assert _who(callers, secret) == "partner"  # remembered, not read again yet
    ticks.now += 0.25
    with pytest.raises(AccessError):
        _who(callers, secret)
    denied = access_log.recent(web.db, limit=10, outcome="denied")
    assert [e.detail for e in denied][:1] == ["revoked token"]


def test_an_expiry_takes_effect_at_its_moment_from_the_memory(web: Web) -> None:
    secret = web.token("partner", all_banks=True, expires_in=timedelta(hours=1))
    callers, _ = _callers(web, fresh_s=3600)
    assert _who(callers, secret) == "partner"
    web.clock.advance(hours=1)
    with pytest.raises(AccessError):
        _who(callers, secret)


def test_refusals_are_never_remembered_and_each_is_logged(web: Web) -> None:
    callers, _ = _callers(web, fresh_s=3600)
    for _ in range(3):
        with pytest.raises(AccessError):
            _who(callers, "rmp_" + "x" * 43)
    denied = access_log.recent(web.db, limit=10, outcome="denied")
    assert [e.detail for e in denied] == ["unknown token"] * 3


def test_with_fresh_s_zero_every_call_reads_the_store(web: Web) -> None:
    secret = web.token("partner", all_banks=True)
    callers, _ = _callers(web, fresh_s=0)
    assert _who(callers, secret) == "partner"
    tokens.revoke_token(web.db, "partner", actor="test")
    with pytest.raises(AccessError):
        _who(callers, secret)


def test_a_new_bank_is_in_scope_once_the_memory_is_fresh_s_old(web: Web) -> None:
    create_bank(web.db, "first")
    secret = web.token("partner", all_banks=True)
    callers, ticks = _callers(web)
    principal = callers.principal(secret, action="test", client="")
    assert callers.scope(principal).visible == {"first"}
    create_bank(web.db, "second")
    assert callers.scope(principal).visible == {"first"}
    ticks.now += 0.5
    assert callers.scope(principal).visible == {"first", "second"}


def test_a_revoked_token_is_refused_by_the_running_api(web: Web) -> None:
    secret = web.token("partner", all_banks=True)
    client = web.client()
    auth = {"authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/banks", headers=auth).status_code == 200
    tokens.revoke_token(web.db, "partner", actor="test")
    deadline = time.monotonic() + 60  # fresh_s is half a second: a generous stall, no claim
    while (status := client.get("/api/v1/banks", headers=auth).status_code) == 200:
        assert time.monotonic() < deadline, "the revoked token was never refused"
    assert status == 401
