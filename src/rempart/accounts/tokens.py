"""API token use cases: create (the secret is returned once; only its SHA-256 is stored),
list, revoke, and authenticate a bearer token into a scoped Principal.

Scopes: a role, cases and banks (a matcher token sees the banks named and those of its cases,
or every bank when created with all_banks). Must not render or parse requests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.accounts import access_log
from rempart.accounts.credentials import TOKEN_PREFIX, digest, new_token
from rempart.accounts.policy import TOKEN_ROLES, AccessError, Principal, Role, check_name
from rempart.accounts.users import case_ids, role_of
from rempart.clock import Clock, aware, utc_now
from rempart.errors import Conflict, InputError, NotFound
from rempart.store.database import Database
from rempart.store.models import ApiToken, Bank, BankKind, Case, TokenBank, TokenCase

__all__ = [
    "NewToken",
    "ScopedBanks",
    "TokenInfo",
    "authenticate",
    "authenticate_token",
    "bank_rows",
    "create_token",
    "list_tokens",
    "revoke_token",
    "scope_of",
    "scoped_banks",
]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    role: Role
    cases: tuple[str, ...]
    banks: tuple[str, ...]
    all_banks: bool
    created_at: datetime
    expires_at: datetime | None
    revoked: bool

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role.value,
            "cases": list(self.cases),
            "banks": list(self.banks),
            "all_banks": self.all_banks,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked": self.revoked,
        }


@dataclass(frozen=True, slots=True)
class NewToken:
    info: TokenInfo
    secret: str  # shown once, never stored


def _info(session: Session, token: ApiToken) -> TokenInfo:
    cases = session.scalars(
        select(Case.name)
        .join(TokenCase, TokenCase.case_id == Case.id)
        .where(TokenCase.token_id == token.id)
        .order_by(Case.name)
    )
    banks = session.scalars(
        select(Bank.name)
        .join(TokenBank, TokenBank.bank_id == Bank.id)
        .where(TokenBank.token_id == token.id)
        .order_by(Bank.name)
    )
    return TokenInfo(
        name=token.name,
        role=Role(token.role),
        cases=tuple(cases),
        banks=tuple(banks),
        all_banks=token.all_banks,
        created_at=aware(token.created_at),
        expires_at=aware(token.expires_at) if token.expires_at else None,
        revoked=token.revoked_at is not None,
    )


def create_token(
    db: Database,
    name: str,
    role: Role | str,
    *,
    cases: Iterable[str] = (),
    banks: Iterable[str] = (),
    all_banks: bool = False,
    expires_in: timedelta | None = None,
    actor: str,
    clock: Clock = utc_now,
) -> NewToken:
    """A new token. A matcher token must be given its banks (by bank or case) or all_banks:
    it never sees every bank by default."""
    check_name(name)
    role = role_of(role, TOKEN_ROLES)
    cases, banks = list(cases), list(banks)
    if role is Role.MATCHER and not (cases or banks or all_banks):
        raise InputError(
            "a matcher token needs the banks it may match against: --bank, --case or --all-banks"
        )
    all_banks = all_banks or role is Role.ADMIN
    now = clock()
    secret = new_token()
    try:
        with db.session() as session:
            ids = case_ids(session, cases)
            bank_ids = []
            for bank in dict.fromkeys(banks):
                found = session.scalar(select(Bank.id).where(Bank.name == bank))
                if found is None:
                    raise NotFound("no bank named {name!r} (see `rempart bank list`)", name=bank)
                bank_ids.append(found)
            token = ApiToken(
                name=name,
                digest=digest(secret),
                role=role.value,
                all_banks=all_banks,
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
            )
            session.add(token)
            session.flush()
            session.add_all(TokenCase(token_id=token.id, case_id=i) for i in ids)
            session.add_all(TokenBank(token_id=token.id, bank_id=i) for i in bank_ids)
            access_log.write(
                session, actor=actor, action="token-create", outcome="ok", subject=name, at=now
            )
            info = _info(session, token)
    except IntegrityError as exc:
        raise Conflict("a token named {name!r} already exists", name=name) from exc
    return NewToken(info, secret)


def list_tokens(db: Database) -> list[TokenInfo]:
    with db.session() as session:
        return [
            _info(session, t) for t in session.scalars(select(ApiToken).order_by(ApiToken.name))
        ]


def revoke_token(db: Database, name: str, *, actor: str, clock: Clock = utc_now) -> TokenInfo:
    """From the moment this returns, the token is refused everywhere."""
    now = clock()
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None:
            raise NotFound("no token named {name!r} (see `rempart token list`)", name=name)
        if token.revoked_at is None:
            token.revoked_at = now
        access_log.write(
            session, actor=actor, action="token-revoke", outcome="ok", subject=name, at=now
        )
        return _info(session, token)


def authenticate(
    db: Database, secret: str | None, *, action: str, client: str = "", clock: Clock = utc_now
) -> Principal:
    """The Principal a bearer token acts as. A missing, unknown, expired or revoked token
    raises AccessError (the same message for all: the log keeps which)."""
    return authenticate_token(db, secret, action=action, client=client, clock=clock)[0]


def authenticate_token(
    db: Database, secret: str | None, *, action: str, client: str = "", clock: Clock = utc_now
) -> tuple[Principal, datetime | None]:
    """`authenticate`, with the moment the token expires (None: never)."""
    now = clock()
    refused = AccessError("a valid API token is required (Authorization: Bearer …)")
    why = ""
    with db.session() as session:
        token = None
        if not secret:
            why = "no token"
        elif not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            why = "malformed token"
        else:
            token = session.scalar(select(ApiToken).where(ApiToken.digest == digest(secret)))
            if token is None:
                why = "unknown token"
            elif token.revoked_at is not None:
                why = "revoked token"
            elif token.expires_at is not None and aware(token.expires_at) <= now:
                why = "expired token"
        if why or token is None:
            actor = token.name if token else "-"
        else:
            cases = session.scalars(select(TokenCase.case_id).where(TokenCase.token_id == token.id))
            banks = session.scalars(select(TokenBank.bank_id).where(TokenBank.token_id == token.id))
            principal = Principal(
                token.name,
                Role(token.role),
                "token",
                frozenset(cases),
                frozenset(banks),
                token.all_banks,
            )
            return principal, aware(token.expires_at) if token.expires_at else None
    # Logged in its own transaction: the refusal must stay on record.
    access_log.record(
        db,
        actor=actor,
        action=action,
        outcome="denied",
        client=client,
        detail=why,
        clock=lambda: now,
    )
    raise refused


@dataclass(frozen=True, slots=True)
class ScopedBanks:
    """The protect banks a caller may see (by name), and every allow bank: an allow bank
    suppresses matches whoever asks, but is named only to those who may see it."""

    visible: frozenset[str]
    allow: frozenset[str]


BankRow = tuple[int, int | None, str, BankKind]  # id, case id, name, kind


def bank_rows(db: Database) -> list[BankRow]:
    """Every bank, as `scope_of` reads them."""
    with db.session() as session:
        rows = session.execute(select(Bank.id, Bank.case_id, Bank.name, Bank.kind)).all()
    return [(bank_id, case_id, name, kind) for bank_id, case_id, name, kind in rows]


def scoped_banks(db: Database, principal: Principal) -> ScopedBanks:
    return scope_of(bank_rows(db), principal)


def scope_of(rows: Collection[BankRow], principal: Principal) -> ScopedBanks:
    """The banks `principal` may see among `rows` (from `bank_rows`), and every allow bank."""
    ids = principal.visible_banks([(bank_id, case_id) for bank_id, case_id, _, _ in rows])
    return ScopedBanks(
        visible=frozenset(name for bank_id, _, name, _ in rows if bank_id in ids),
        allow=frozenset(name for _, _, name, kind in rows if kind is BankKind.ALLOW),
    )
