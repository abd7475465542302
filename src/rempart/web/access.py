"""Who may see or act on a finding, a case or a capture, for the review and evidence pages:
each lookup checks the signed-in account's scope (accounts.policy) and logs a refusal. A
name or number the caller may not see is refused exactly like one that does not exist.

Must not decide anything else: the rules are the use cases'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

from rempart.accounts.sessions import Current
from rempart.errors import NotFound
from rempart.web.pages import _check_csrf, _refuse
from rempart.web.service import Service

if TYPE_CHECKING:
    from rempart.evidence.vault import Vault
    from rempart.intake.cases import CaseInfo
    from rempart.jobs.evidence import CaptureOutcome
    from rempart.jobs.findings import FindingView

__all__ = [
    "check_csrf",
    "may_act_on",
    "vault_of",
    "visible_capture",
    "visible_case",
    "visible_finding",
]


def check_csrf(svc: Service, request: Request, session: Current, given: str) -> None:
    _check_csrf(svc, request, session.csrf, given, session.principal.name)


def _case_id(svc: Service, name: str | None) -> int | None:
    from rempart.intake.cases import case_info

    if name is None:
        return None
    try:
        return case_info(svc.db, name).id
    except NotFound:
        return None


def _allowed(session: Current, case_id: int | None, *, act: bool) -> bool:
    principal = session.principal
    if case_id is None:  # outside any case: only those who see every case
        return principal.sees_all_cases and (not act or principal.may_act_on_case(-1))
    return principal.may_act_on_case(case_id) if act else principal.may_see_case(case_id)


def may_act_on(svc: Service, session: Current, case: str | None) -> bool:
    """Whether the account may act on this case (a question: nothing is logged)."""
    return _allowed(session, _case_id(svc, case), act=True)


def _denied(svc: Service, request: Request, session: Current, action: str, act: bool) -> None:
    why = "read-only role" if act and session.principal.sees_all_cases else "case not assigned"
    raise _refuse(svc, request, session.principal.name, action, why)


def visible_case(
    svc: Service, request: Request, session: Current, name: str, *, act: bool = False
) -> CaseInfo:
    from rempart.intake.cases import case_info

    try:
        info = case_info(svc.db, name)
    except NotFound:
        if session.principal.sees_all_cases:
            raise HTTPException(404) from None
        info = None
    if info is None or not _allowed(session, info.id, act=act):
        _denied(svc, request, session, "case-act" if act else "case-view", act)
    assert info is not None
    return info


def visible_finding(
    svc: Service, request: Request, session: Current, finding_id: int, *, act: bool = False
) -> FindingView:
    from rempart.jobs import review

    try:
        view = review.finding(svc.db, finding_id)
    except NotFound:
        if session.principal.sees_all_cases:
            raise HTTPException(404) from None
        view = None
    if view is None or not _allowed(session, _case_id(svc, view.case), act=act):
        _denied(svc, request, session, "finding-act" if act else "finding-view", act)
    assert view is not None
    return view


def visible_capture(
    svc: Service, request: Request, session: Current, capture_id: int
) -> CaptureOutcome:
    from rempart.jobs.evidence import list_captures

    found = list_captures(svc.db, ids=(capture_id,))
    if not found and session.principal.sees_all_cases:
        raise HTTPException(404)
    if not found or not _allowed(session, _case_id(svc, found[0].case), act=False):
        _denied(svc, request, session, "capture-view", False)
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
