"""Signing in and out of the web app: password then (when enrolled, always for admins) a TOTP
code; server-side sessions (only the SHA-256 of the cookie is stored, so any process or machine
on the same database serves them), idle and absolute expiry, a new id at each step of sign-in,
a CSRF token per session, and lock-out with backoff per account and per address.

Must not render pages or read requests: the caller passes the cookie, the form values, the
client's address and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.accounts import access_log
from rempart.accounts.credentials import Totp, digest, new_secret, new_token, verify_password
from rempart.accounts.policy import (
    ACCOUNT_LOCKOUT,
    ADDRESS_LOCKOUT,
    AccessError,
    LockoutRule,
    Principal,
    Role,
    SessionRule,
)
from rempart.accounts.users import principal_of
from rempart.clock import Clock, aware, utc_now
from rempart.store.database import Database
from rempart.store.models import Account, LoginThrottle, WebSession

__all__ = [
    "FULL",
    "SECOND_FACTOR",
    "TOUCH_EVERY",
    "Current",
    "Opened",
    "current",
    "second_factor",
    "sign_in",
    "sign_out",
]

DEFAULT_SESSIONS = SessionRule()
FULL = "full"
# A session's idle expiry is pushed back by a request at most this often: one write to the
# store a minute per caseworker, not one a page (the idle time is then 29-30 minutes).
TOUCH_EVERY = timedelta(minutes=1)
SECOND_FACTOR = "totp"


@dataclass(frozen=True, slots=True)
class Opened:
    """A session just opened: the cookie value (shown to the browser only) and its stage."""

    cookie: str
    stage: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Current:
    """The session behind a cookie: who, at which stage, its CSRF token."""

    principal: Principal
    stage: str
    csrf: str
    expires_at: datetime


def _locked(session: Session, keys: list[str], now: datetime) -> bool:
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and aware(row.locked_until) > now:
            return True
    return False


def _count_failure(session: Session, key: str, rule: LockoutRule, now: datetime) -> None:
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        row = LoginThrottle(key=key, failures=0, last_failure_at=now)
        session.add(row)
        failures = 1
    else:
        failures = rule.failures_after(row.failures, aware(row.last_failure_at), now)
    row.failures = failures
    row.last_failure_at = now
    row.locked_until = rule.locked_until(failures, now)


def _failed(
    db: Database, name: str, client: str, why: str, now: datetime, *, action: str = "sign-in"
) -> None:
    """Count a failure against the account and the address, and log it. Retried once when
    two processes create the same counter at once."""
    for attempt in (1, 2):
        try:
            with db.session() as session:
                _count_failure(session, f"account:{name[:100]}", ACCOUNT_LOCKOUT, now)
                if client:
                    _count_failure(session, f"ip:{client[:100]}", ADDRESS_LOCKOUT, now)
                access_log.write(
                    session,
                    actor=name,
                    action=action,
                    outcome="denied",
                    subject=name,
                    client=client,
                    detail=why,
                    at=now,
                )
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _open(
    session: Session, account: Account, stage: str, now: datetime, rule: SessionRule
) -> Opened:
    cookie = new_token()
    expires = now + rule.second_factor if stage == SECOND_FACTOR else rule.expiry(now, now)
    session.add(
        WebSession(
            id=digest(cookie),
            account_id=account.id,
            stage=stage,
            csrf=new_secret(),
            created_at=now,
            seen_at=now,
            expires_at=expires,
        )
    )
    return Opened(cookie, stage, expires)


def sign_in(
    db: Database,
    name: str,
    password: str,
    *,
    client: str = "",
    replacing: str | None = None,
    clock: Clock = utc_now,
    rule: SessionRule = DEFAULT_SESSIONS,
) -> Opened:
    """Check a name and password and open a session: a full one, or one that waits for the
    second factor. Any session behind `replacing` (the browser's previous cookie) ends, so a
    signed-in browser always holds a new id. Raises AccessError."""
    now = clock()
    keys = [f"account:{name[:100]}"] + ([f"ip:{client[:100]}"] if client else [])
    with db.session() as session:
        if replacing:
            session.execute(delete(WebSession).where(WebSession.id == digest(replacing)))
        if _locked(session, keys, now):
            access_log.write(
                session,
                actor=name,
                action="sign-in",
                outcome="denied",
                subject=name,
                client=client,
                detail="locked out",
                at=now,
            )
            locked = True
        else:
            locked = False
            account = session.scalar(select(Account).where(Account.name == name))
    if locked:
        raise AccessError("too many failed sign-ins: wait a few minutes and try again")
    stored = account.password_hash if account is not None else None
    if not verify_password(stored, password) or account is None:
        _failed(db, name, client, "wrong password" if account else "no such account", now)
        raise AccessError("wrong name or password")
    if account.disabled_at is not None:
        _failed(db, name, client, "disabled account", now)
        raise AccessError("wrong name or password")
    if account.role == Role.ADMIN.value and account.totp_secret is None:
        access_log.record(
            db,
            actor=name,
            action="sign-in",
            outcome="denied",
            subject=name,
            client=client,
            detail="admin without second factor",
            clock=lambda: now,
        )
        raise AccessError(
            "an administrator signs in with a second factor: enrol one with "
            "`rempart user totp {name}`",
            name=name,
        )
    with db.session() as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
        account = session.get(Account, account.id)
        assert account is not None
        stage = SECOND_FACTOR if account.totp_secret else FULL
        opened = _open(session, account, stage, now, rule)
        access_log.write(
            session,
            actor=name,
            action="sign-in",
            outcome="ok",
            subject=name,
            client=client,
            detail=stage,
            at=now,
        )
    return opened


def second_factor(
    db: Database,
    cookie: str,
    code: str,
    *,
    client: str = "",
    clock: Clock = utc_now,
    rule: SessionRule = DEFAULT_SESSIONS,
) -> Opened:
    """Check the TOTP code of a session waiting for it; on success the session is replaced by
    a full one under a new id. A wrong code counts as a failed sign-in. Raises AccessError."""
    now = clock()
    with db.session() as session:
        row = session.get(WebSession, digest(cookie))
        if row is None or row.stage != SECOND_FACTOR or aware(row.expires_at) <= now:
            raise AccessError("your sign-in has expired: start again")
        account = session.get(Account, row.account_id, with_for_update=True)
        assert account is not None
        name = account.name
        if _locked(session, [f"account:{name}"] + ([f"ip:{client}"] if client else []), now):
            raise AccessError("too many failed sign-ins: wait a few minutes and try again")
        step = None
        if account.totp_secret and account.disabled_at is None:
            step = Totp(account.totp_secret).step_of(code, now.timestamp(), account.totp_last_step)
        if step is not None:
            account.totp_last_step = step
            session.delete(row)
            opened = _open(session, account, FULL, now, rule)
            access_log.write(
                session,
                actor=name,
                action="second-factor",
                outcome="ok",
                subject=name,
                client=client,
                at=now,
            )
            return opened
    _failed(db, name, client, "wrong or reused code", now, action="second-factor")
    raise AccessError("wrong code: type the 6 digits your app shows now")


def current(
    db: Database,
    cookie: str | None,
    *,
    clock: Clock = utc_now,
    rule: SessionRule = DEFAULT_SESSIONS,
) -> Current | None:
    """The live session behind a cookie (its idle expiry pushed back, at most once every
    TOUCH_EVERY: a page then costs no write to the store), or None."""
    if not cookie or len(cookie) > 200:
        return None
    now = clock()
    with db.session() as session:
        row = session.get(WebSession, digest(cookie))
        if row is None:
            return None
        if aware(row.expires_at) <= now:
            session.delete(row)
            return None
        account = session.get(Account, row.account_id)
        if account is None or account.disabled_at is not None:
            session.delete(row)
            return None
        if row.stage == FULL and now - aware(row.seen_at) >= TOUCH_EVERY:
            row.seen_at = now
            row.expires_at = rule.expiry(aware(row.created_at), now)
        return Current(principal_of(session, account), row.stage, row.csrf, aware(row.expires_at))


def sign_out(db: Database, cookie: str | None, *, client: str = "", clock: Clock = utc_now) -> None:
    if not cookie:
        return
    now = clock()
    with db.session() as session:
        row = session.get(WebSession, digest(cookie))
        if row is None:
            return
        account = session.get(Account, row.account_id)
        session.delete(row)
        access_log.write(
            session,
            actor=account.name if account else "-",
            action="sign-out",
            outcome="ok",
            client=client,
            at=now,
        )
