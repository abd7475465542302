"""The rules of access, pure: roles and what each may do, which cases and banks a caller sees,
how long a sign-in is locked out after failures, how long sessions live.

No I/O, no database, no clock of its own: times are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rempart.errors import InputError, RempartError

__all__ = [
    "ACCOUNT_ROLES",
    "TOKEN_ROLES",
    "AccessError",
    "LockoutRule",
    "Permission",
    "Principal",
    "Role",
    "SessionRule",
    "check_name",
    "check_password",
    "parse_duration",
]


class AccessError(RempartError):
    """A caller is refused: not signed in, wrong credentials, locked out, or not allowed.
    The message is what the caller may be told; the access log keeps the precise reason."""


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024


class Role(StrEnum):
    ADMIN = "admin"  # everything, users included; needs a second factor
    CASEWORKER = "caseworker"  # her assigned cases: read and act
    REVIEWER = "reviewer"  # her assigned cases: read and decide on matches
    AUDITOR = "auditor"  # every case, read only
    MATCHER = "matcher"  # API tokens only: the match API on the banks in its scope


ACCOUNT_ROLES = (Role.ADMIN, Role.CASEWORKER, Role.REVIEWER, Role.AUDITOR)
TOKEN_ROLES = (Role.MATCHER, Role.ADMIN, Role.CASEWORKER, Role.REVIEWER, Role.AUDITOR)


class Permission(StrEnum):
    VIEW_CASES = "view-cases"
    ACT_ON_CASES = "act-on-cases"
    MANAGE_ACCOUNTS = "manage-accounts"
    MATCH = "match"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CASEWORKER: frozenset({Permission.VIEW_CASES, Permission.ACT_ON_CASES}),
    Role.REVIEWER: frozenset({Permission.VIEW_CASES, Permission.ACT_ON_CASES}),
    Role.AUDITOR: frozenset({Permission.VIEW_CASES}),
    Role.MATCHER: frozenset({Permission.MATCH}),
}
# Roles that see every case; the others only the cases they are assigned.
_ALL_CASES = frozenset({Role.ADMIN, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: an account (signed in) or an API token, with its scope.

    `cases` are case ids; `banks` bank ids given to a token explicitly; `all_banks` says the
    token sees every bank (admin tokens, or created with --all-banks).
    """

    name: str
    role: Role
    kind: str  # "account" or "token"
    cases: frozenset[int] = frozenset()
    banks: frozenset[int] = frozenset()
    all_banks: bool = False

    def may(self, permission: Permission) -> bool:
        return permission in _GRANTS[self.role]

    @property
    def sees_all_cases(self) -> bool:
        return self.role in _ALL_CASES

    def may_see_case(self, case_id: int) -> bool:
        return self.may(Permission.VIEW_CASES) and (self.sees_all_cases or case_id in self.cases)

    def may_act_on_case(self, case_id: int) -> bool:
        return self.may(Permission.ACT_ON_CASES) and (self.sees_all_cases or case_id in self.cases)

    def visible_banks(self, banks: Collection[tuple[int, int | None]]) -> set[int]:
        """Of (bank id, case id) pairs, the ids of the banks this token may match against:
        every bank with `all_banks`, else those named and those of its cases."""
        if self.all_banks:
            return {bank for bank, _ in banks}
        return {
            bank
            for bank, case in banks
            if bank in self.banks or (case is not None and case in self.cases)
        }


@dataclass(frozen=True, slots=True)
class LockoutRule:
    """After `free` failures in a row a key is locked, first for `first`, doubling with each
    further failure, at most `longest`. Failures older than `forget` start the count again."""

    free: int = 5
    first: timedelta = timedelta(minutes=1)
    longest: timedelta = timedelta(hours=1)
    forget: timedelta = timedelta(hours=24)

    def failures_after(self, failures: int, last_failure: datetime | None, now: datetime) -> int:
        """The count once one more failure at `now` is added."""
        if last_failure is None or now - last_failure > self.forget:
            return 1
        return failures + 1

    def locked_until(self, failures: int, now: datetime) -> datetime | None:
        if failures < self.free:
            return None
        steps = min(failures - self.free, 16)
        return now + min(self.first * (1 << steps), self.longest)


# Addresses see more failures than one account (several people behind one NAT).
ACCOUNT_LOCKOUT = LockoutRule()
ADDRESS_LOCKOUT = LockoutRule(free=20)


@dataclass(frozen=True, slots=True)
class SessionRule:
    """A session lapses after `idle` without a request, and `absolute` after sign-in anyway."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    second_factor: timedelta = timedelta(minutes=5)  # between the password and the code

    def expiry(self, created: datetime, now: datetime) -> datetime:
        return min(now + self.idle, created + self.absolute)


def check_name(name: str) -> str:
    """An account's or a token's name, as typed."""
    if not _NAME.fullmatch(name):
        raise InputError(
            "a name is 1-100 letters, digits, '.', '_', '@' or '-', starting with a letter or "
            "a digit: {name!r}",
            name=name[:120],
        )
    return name


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise InputError("a password needs at least {n} characters", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise InputError("a password holds at most {n} characters", n=PASSWORD_MAX)
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InputError("a password cannot hold control characters")
    return password


_DURATION = re.compile(r"(\d{1,5})([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(text: str) -> timedelta:
    """`12h`, `30d`, `8w`: a token's lifetime."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found or int(found.group(1)) == 0:
        raise InputError(
            "{value!r} is not a duration: a number and h, d or w (for example 30d)", value=text
        )
    return int(found.group(1)) * _UNITS[found.group(2)]
