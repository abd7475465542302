"""The pure rules of access: roles, scopes, lock-out backoff, durations, rate buckets,
languages, and the secrets' arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rempart.accounts.credentials import (
    Totp,
    digest,
    hash_password,
    new_token,
    verify_password,
)
from rempart.accounts.policy import (
    LockoutRule,
    Permission,
    Principal,
    Role,
    check_password,
    parse_duration,
)
from rempart.errors import InputError
from rempart.web.language import choose
from rempart.web.ratelimit import Buckets

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_caseworkers_see_their_cases_auditors_all_read_only_matchers_only_match() -> None:
    claire = Principal("claire", Role.CASEWORKER, "account", frozenset({1}))
    alice = Principal("alice", Role.AUDITOR, "account")
    partner = Principal("p", Role.MATCHER, "token", frozenset({1}))
    assert claire.may_see_case(1) and claire.may_act_on_case(1)
    assert not claire.may_see_case(2) and not claire.may(Permission.MATCH)
    assert alice.may_see_case(2) and not alice.may_act_on_case(2)
    assert partner.may(Permission.MATCH) and not partner.may_see_case(1)


def test_a_token_sees_the_banks_named_and_those_of_its_cases_unless_all_banks() -> None:
    banks = [(10, 1), (11, 2), (12, None)]
    scoped = Principal("p", Role.MATCHER, "token", frozenset({1}), frozenset({12}))
    assert scoped.visible_banks(banks) == {10, 12}
    every = Principal("p", Role.MATCHER, "token", all_banks=True)
    assert every.visible_banks(banks) == {10, 11, 12}
    assert Principal("p", Role.MATCHER, "token").visible_banks(banks) == set()


def test_lock_out_starts_after_the_free_failures_doubles_and_is_capped() -> None:
    rule = LockoutRule(free=3, first=timedelta(minutes=1), longest=timedelta(minutes=10))
    assert rule.locked_until(2, NOW) is None
    lengths = [rule.locked_until(n, NOW) - NOW for n in (3, 4, 5, 6, 7, 50)]  # type: ignore[operator]
    assert lengths == [timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10)]
    assert rule.failures_after(7, NOW - timedelta(days=2), NOW) == 1  # old failures forgotten
    assert rule.failures_after(7, NOW - timedelta(hours=1), NOW) == 8


@pytest.mark.parametrize(("text", "hours"), [("12h", 12), ("30d", 720), ("2w", 336)])
def test_durations_read_as_typed(text: str, hours: int) -> None:
    assert parse_duration(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "0d", "30", "d", "1y", "-3d", "99999999d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_duration(text)


def test_passwords_are_argon2id_and_short_ones_refused() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapl")
    assert not verify_password(None, "correct horse battery staple")
    with pytest.raises(InputError):
        check_password("short")


def test_tokens_are_random_and_only_their_digest_is_kept() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) > 40
    assert digest(a) != a and len(digest(a)) == 64 and digest(a) == digest(a)


def test_a_totp_code_is_accepted_once_and_within_one_step_of_drift() -> None:
    totp = Totp.new()
    t = NOW.timestamp()
    code = totp.code_at(t)
    step = totp.step_of(code, t + 20, after_step=0)
    assert step is not None
    assert totp.step_of(code, t + 20, after_step=step) is None  # replayed
    assert totp.step_of(code, t + 300, after_step=0) is None  # too late
    assert totp.step_of("12345", t, after_step=0) is None


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = Buckets(2, 3, now=lambda: now[0])
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("b")  # another client has its own bucket
    now[0] += 0.5
    assert buckets.allow("a") and not buckets.allow("a")
    assert Buckets(0, 1, now=lambda: 0.0).allow("a")  # rate 0: no limit


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, "en-GB,fr;q=0.5", "en"),
        (None, "de-DE,fr;q=0.3", "fr"),
        (None, "de, it", "en"),
        ("fr", "en", "fr"),
        ("xx", "fr", "fr"),
        (None, "fr;q=0, en;q=0.1", "en"),
    ],
)
def test_the_language_comes_from_the_cookie_then_the_browser(
    cookie: str | None, header: str, expected: str
) -> None:
    assert choose(cookie, header, "en") == expected
