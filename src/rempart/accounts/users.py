"""Account use cases: add, list, disable, reset a password, enrol a TOTP second factor, and
build the Principal a signed-in account acts as.

Passwords are hashed here (argon2id) and never stored or logged in clear; must not render.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.accounts import access_log
from rempart.accounts.credentials import Totp, generated_password, hash_password
from rempart.accounts.policy import (
    ACCOUNT_ROLES,
    Principal,
    Role,
    check_name,
    check_password,
)
from rempart.clock import Clock, aware, utc_now
from rempart.errors import Conflict, InputError, NotFound
from rempart.store.database import Database
from rempart.store.models import Account, AccountCase, Case, LoginThrottle, WebSession

__all__ = [
    "AccountInfo",
    "NewPassword",
    "add_user",
    "case_ids",
    "disable_user",
    "enrol_totp",
    "list_users",
    "principal_of",
    "reset_password",
    "role_of",
]


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    role: Role
    cases: tuple[str, ...]
    totp: bool
    disabled: bool
    created_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role.value,
            "cases": list(self.cases),
            "totp": self.totp,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class NewPassword:
    """A password set for an account; `generated` when Rempart chose it (show it once)."""

    account: AccountInfo
    password: str
    generated: bool


def role_of(text: str, allowed: Iterable[Role] = ACCOUNT_ROLES) -> Role:
    allowed = tuple(allowed)
    try:
        role = Role(text)
    except ValueError:
        role = None
    if role is None or role not in allowed:
        raise InputError(
            "unknown role {role!r}; choose one of {roles}",
            role=text,
            roles=", ".join(r.value for r in allowed),
        )
    return role


def case_ids(session: Session, names: Iterable[str]) -> list[int]:
    ids = []
    for name in dict.fromkeys(names):
        found = session.scalar(select(Case.id).where(Case.name == name))
        if found is None:
            raise NotFound("no case named {name!r} (see `rempart case list`)", name=name)
        ids.append(found)
    return ids


def _account(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound("no account named {name!r} (see `rempart user list`)", name=name)
    return account


def _info(session: Session, account: Account) -> AccountInfo:
    cases = session.scalars(
        select(Case.name)
        .join(AccountCase, AccountCase.case_id == Case.id)
        .where(AccountCase.account_id == account.id)
        .order_by(Case.name)
    )
    return AccountInfo(
        name=account.name,
        role=Role(account.role),
        cases=tuple(cases),
        totp=account.totp_secret is not None,
        disabled=account.disabled_at is not None,
        created_at=aware(account.created_at),
    )


def add_user(
    db: Database,
    name: str,
    role: Role,
    *,
    cases: Iterable[str] = (),
    password: str | None = None,
    actor: str,
    clock: Clock = utc_now,
) -> NewPassword:
    """A new account. With no `password`, one is generated (returned once, never stored)."""
    check_name(name)
    role = role_of(role)
    generated = password is None
    password = generated_password() if password is None else check_password(password)
    now = clock()
    try:
        with db.session() as session:
            ids = case_ids(session, cases)
            account = Account(
                name=name,
                role=role.value,
                password_hash=hash_password(password),
                totp_last_step=0,
                created_at=now,
                password_set_at=now,
            )
            session.add(account)
            session.flush()
            session.add_all(AccountCase(account_id=account.id, case_id=i) for i in ids)
            access_log.write(
                session, actor=actor, action="account-add", outcome="ok", subject=name, at=now
            )
            info = _info(session, account)
    except IntegrityError as exc:
        raise Conflict("an account named {name!r} already exists", name=name) from exc
    return NewPassword(info, password, generated)


def list_users(db: Database) -> list[AccountInfo]:
    with db.session() as session:
        return [_info(session, a) for a in session.scalars(select(Account).order_by(Account.name))]


def _end_sessions(session: Session, account_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.account_id == account_id))


def disable_user(db: Database, name: str, *, actor: str, clock: Clock = utc_now) -> AccountInfo:
    """The account can no longer sign in; its open sessions end now."""
    now = clock()
    with db.session() as session:
        account = _account(session, name)
        if account.disabled_at is None:
            account.disabled_at = now
        _end_sessions(session, account.id)
        access_log.write(
            session, actor=actor, action="account-disable", outcome="ok", subject=name, at=now
        )
        return _info(session, account)


def reset_password(
    db: Database,
    name: str,
    *,
    password: str | None = None,
    actor: str,
    clock: Clock = utc_now,
) -> NewPassword:
    """A new password (generated when none is given); open sessions end and the account's
    lock-out is lifted."""
    generated = password is None
    password = generated_password() if password is None else check_password(password)
    now = clock()
    with db.session() as session:
        account = _account(session, name)
        account.password_hash = hash_password(password)
        account.password_set_at = now
        _end_sessions(session, account.id)
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"account:{name}"))
        access_log.write(
            session, actor=actor, action="password-reset", outcome="ok", subject=name, at=now
        )
        return NewPassword(_info(session, account), password, generated)


def enrol_totp(db: Database, name: str, *, actor: str, clock: Clock = utc_now) -> Totp:
    """A new TOTP secret for the account (replacing any earlier one): show it once."""
    totp = Totp.new()
    now = clock()
    with db.session() as session:
        account = _account(session, name)
        account.totp_secret = totp.secret
        account.totp_last_step = 0
        _end_sessions(session, account.id)
        access_log.write(
            session, actor=actor, action="totp-enrol", outcome="ok", subject=name, at=now
        )
    return totp


def principal_of(session: Session, account: Account) -> Principal:
    cases = session.scalars(select(AccountCase.case_id).where(AccountCase.account_id == account.id))
    return Principal(account.name, Role(account.role), "account", frozenset(cases))
