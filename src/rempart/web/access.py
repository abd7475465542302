"""What every page of the notices, sources, reports and settings areas checks before it acts:
the signed-in session, the CSRF token of a form, the caller's right to a case, to every case,
or to the accounts; each refusal goes to the access log. Decides nothing else.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import HTTPException, Request

from rempart.accounts import access_log
from rempart.accounts.credentials import same
from rempart.accounts.policy import Permission, Principal
from rempart.accounts.sessions import Current
from rempart.config import Identity
from rempart.web.service import Service, client_of

__all__ = [
    "acting_identity",
    "check_form",
    "refuse",
    "require_accounts",
    "require_all_cases",
    "require_case",
]


def refuse(svc: Service, request: Request, actor: str, action: str, why: str) -> HTTPException:
    """Log a refusal; the caller raises what this returns (a 403)."""
    access_log.record(
        svc.db,
        actor=actor,
        action=action,
        outcome="denied",
        subject=request.url.path[:300],
        client=client_of(request),
        detail=why,
        clock=svc.clock,
    )
    return HTTPException(403)


def check_form(svc: Service, request: Request, session: Current, given: str) -> None:
    """A state-changing form carries the session's CSRF token, or is refused."""
    if not given or not same(session.csrf, given):
        action = request.url.path.strip("/")[:40] or "page"
        raise refuse(svc, request, session.principal.name, action, "bad CSRF token")


def _case_id(svc: Service, name: str | None) -> int | None:
    from sqlalchemy import select

    from rempart.store.models import Case

    if name is None:
        return None
    with svc.db.session() as session:
        return session.scalar(select(Case.id).where(Case.name == name))


def require_case(
    svc: Service,
    request: Request,
    principal: Principal,
    case: str | None,
    *,
    action: str,
    act: bool = False,
) -> None:
    """The caller may see (`act`: act on) the case named `case`; a notice or a run without a
    case is for those who see every case. Refused the same way whether the case exists."""
    case_id = _case_id(svc, case)
    if case_id is None:
        allowed = principal.sees_all_cases and (not act or principal.may(Permission.ACT_ON_CASES))
    elif act:
        allowed = principal.may_act_on_case(case_id)
    else:
        allowed = principal.may_see_case(case_id)
    if not allowed:
        sees = principal.sees_all_cases if case_id is None else principal.may_see_case(case_id)
        why = "read only" if act and sees else "case not assigned"
        raise refuse(svc, request, principal.name, action, why)


def require_all_cases(svc: Service, request: Request, principal: Principal, action: str) -> None:
    """Figures over every case (reports): for those who see every case."""
    if not principal.sees_all_cases:
        raise refuse(svc, request, principal.name, action, "needs every case")


def require_accounts(svc: Service, request: Request, principal: Principal, action: str) -> None:
    if not principal.may(Permission.MANAGE_ACCOUNTS):
        raise refuse(svc, request, principal.name, action, "admin only")


def acting_identity(svc: Service, principal: Principal) -> Identity:
    """The organisation's identity with the signed-in account as the caseworker: whatever it
    does is recorded under her account, never the server's user."""
    return replace(svc.settings.core.identity, caseworker=principal.name)
