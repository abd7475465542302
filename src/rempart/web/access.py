"""What every page checks before it shows or does anything: the CSRF token of a form, the
signed-in account's right to a case (to see it, or to act on it), to every case, or to the
accounts, and the finding, case or capture it asks for. Each refusal goes to the access log;
a name or number the caller may not see is refused exactly like one that does not exist.

Must not decide anything else: the rules are the use cases' and accounts.policy's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

from fastapi import HTTPException, Path, Request

from rempart.accounts.policy import Permission, Principal
from rempart.accounts.sessions import Current
from rempart.config import Identity
from rempart.errors import NotFound
from rempart.web.pages import _check_csrf, _refuse
from rempart.web.service import Service

if TYPE_CHECKING:
    from rempart.evidence.vault import Vault
    from rempart.intake.cases import CaseInfo
    from rempart.jobs.evidence import CaptureOutcome
    from rempart.jobs.findings import FindingView

__all__ = [
    "RowId",
    "acting_identity",
    "check_form",
    "may_act_on",
    "refuse",
    "require_accounts",
    "require_all_cases",
    "require_case",
    "vault_of",
    "visible_capture",
    "visible_case",
    "visible_finding",
]

refuse = _refuse  # log a refusal; the caller raises what it returns (a 403)

# A finding's or a capture's number in a path: larger ones exist nowhere (and would overflow
# the database's integers).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def check_form(svc: Service, request: Request, session: Current, given: str) -> None:
    """A state-changing form carries the session's CSRF token, or is refused (and logged)."""
    _check_csrf(svc, request, session.csrf, given, session.principal.name)


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


def _allowed(principal: Principal, case_id: int | None, *, act: bool) -> bool:
    if case_id is None:  # outside any case: only those who see every case
        return principal.sees_all_cases and (not act or principal.may_act_on_case(-1))
    return principal.may_act_on_case(case_id) if act else principal.may_see_case(case_id)


def may_act_on(svc: Service, principal: Principal, case: str | None) -> bool:
    """Whether the caller may act on this case (a question: nothing is logged)."""
    return _allowed(principal, _case_id(svc, case), act=True)


def _denied(svc: Service, request: Request, principal: Principal, action: str, act: bool) -> None:
    why = "read-only role" if act and principal.sees_all_cases else "case not assigned"
    raise _refuse(svc, request, principal.name, action, why)


def visible_case(
    svc: Service, request: Request, principal: Principal, name: str, *, act: bool = False
) -> CaseInfo:
    from rempart.intake.cases import case_info

    try:
        info = case_info(svc.db, name)
    except NotFound:
        if principal.sees_all_cases:
            raise HTTPException(404) from None
        info = None
    if info is None or not _allowed(principal, info.id, act=act):
        _denied(svc, request, principal, "case-act" if act else "case-view", act)
    assert info is not None
    return info


def visible_finding(
    svc: Service, request: Request, principal: Principal, finding_id: int, *, act: bool = False
) -> FindingView:
    from rempart.jobs import review

    try:
        view = review.finding(svc.db, finding_id)
    except NotFound:
        if principal.sees_all_cases:
            raise HTTPException(404) from None
        view = None
    if view is None or not _allowed(principal, _case_id(svc, view.case), act=act):
        _denied(svc, request, principal, "finding-act" if act else "finding-view", act)
    assert view is not None
    return view


def visible_capture(
    svc: Service, request: Request, principal: Principal, capture_id: int
) -> CaptureOutcome:
    from rempart.jobs.evidence import list_captures

    found = list_captures(svc.db, ids=(capture_id,))
    if not found and principal.sees_all_cases:
        raise HTTPException(404)
    if not found or not _allowed(principal, _case_id(svc, found[0].case), act=False):
        _denied(svc, request, principal, "capture-view", False)
    return found[0]


def vault_of(request: Request) -> Vault:
    """The evidence vault of $REMPART_HOME, opened once per application."""
    state = request.app.state
    vault: Vault | None = getattr(state, "vault", None)
    if vault is None:
        from rempart.evidence.vault import Vault

        vault = Vault.open(state.service.settings.core.home)
        state.vault = vault
    return vault
