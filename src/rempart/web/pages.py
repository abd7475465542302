"""The caseworkers' pages: sign-in (password, then the TOTP code), sign-out, the dashboard,
the cases. Server-rendered, plain forms, no script. Thin: each handler checks who is calling,
calls a use case, renders a template.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rempart.accounts import access_log
from rempart.accounts.credentials import same
from rempart.accounts.policy import AccessError, Principal
from rempart.accounts.sessions import SECOND_FACTOR, current, second_factor, sign_in, sign_out
from rempart.errors import NotFound
from rempart.i18n import N_
from rempart.web.language import COOKIE as LANG_COOKIE
from rempart.web.service import (
    PRE_COOKIE,
    SESSION_COOKIE,
    Service,
    client_of,
    language_of,
    service_of,
)

if TYPE_CHECKING:
    from rempart.intake.cases import CaseInfo

__all__ = ["router"]

# Role names, as shown in the header of every page.
_ROLE_NAMES = (N_("admin"), N_("caseworker"), N_("reviewer"), N_("auditor"), N_("matcher"))

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]


def _set_session(response: Response, svc: Service, request: Request, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=svc.secure(request),
        path="/",
    )


def _refuse(svc: Service, request: Request, actor: str, action: str, why: str) -> HTTPException:
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


def _check_csrf(svc: Service, request: Request, expected: str | None, given: str, who: str) -> None:
    if not expected or not given or not same(expected, given):
        raise _refuse(svc, request, who, request.url.path.strip("/") or "page", "bad CSRF token")


def _login_page(svc: Service, request: Request, *, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    body = svc.render(request, "login.html", csrf=token, error=error)
    response = HTMLResponse(body, status_code=status)
    response.set_cookie(
        PRE_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=svc.secure(request),
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(service_of(request), request)


@router.post("/login")
def login(request: Request, name: Field, password: Field, csrf: Field = "") -> Response:
    svc = service_of(request)
    _check_csrf(svc, request, request.cookies.get(PRE_COOKIE), csrf, name[:100] or "-")
    try:
        opened = sign_in(
            svc.db,
            name.strip(),
            password,
            client=client_of(request),
            replacing=request.cookies.get(SESSION_COOKIE),
            clock=svc.clock,
            rule=svc.settings.sessions,
        )
    except AccessError as exc:
        return _login_page(svc, request, error=exc.localized(language_of(request)), status=401)
    target = "/login/code" if opened.stage == SECOND_FACTOR else "/"
    response = RedirectResponse(target, status_code=303)
    _set_session(response, svc, request, opened.cookie)
    response.delete_cookie(PRE_COOKIE, path="/login")
    return response


def _waiting(svc: Service, request: Request) -> tuple[str, str]:
    """The cookie and CSRF token of a session waiting for its second factor."""
    cookie = request.cookies.get(SESSION_COOKIE)
    found = current(svc.db, cookie, clock=svc.clock, rule=svc.settings.sessions)
    if cookie is None or found is None or found.stage != SECOND_FACTOR:
        raise HTTPException(303, headers={"location": "/login"})
    return cookie, found.csrf


@router.get("/login/code")
def code_form(request: Request) -> Response:
    svc = service_of(request)
    _, csrf = _waiting(svc, request)
    return HTMLResponse(svc.render(request, "code.html", csrf=csrf, error=""))


@router.post("/login/code")
def code(request: Request, code: Field, csrf: Field = "") -> Response:
    svc = service_of(request)
    cookie, expected = _waiting(svc, request)
    _check_csrf(svc, request, expected, csrf, "-")
    try:
        opened = second_factor(
            svc.db,
            cookie,
            code,
            client=client_of(request),
            clock=svc.clock,
            rule=svc.settings.sessions,
        )
    except AccessError as exc:
        body = svc.render(
            request, "code.html", csrf=expected, error=exc.localized(language_of(request))
        )
        return HTMLResponse(body, status_code=401)
    response = RedirectResponse("/", status_code=303)
    _set_session(response, svc, request, opened.cookie)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Field = "") -> Response:
    svc = service_of(request)
    session = svc.session(request)
    _check_csrf(svc, request, session.csrf, csrf, session.principal.name)
    sign_out(svc.db, request.cookies.get(SESSION_COOKIE), client=client_of(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def choose_language(request: Request, lang: str, next: str = "/") -> Response:
    safe = next.startswith("/") and not next.startswith("//") and "\\" not in next
    target = next if safe else "/"
    response = RedirectResponse(target, status_code=303)
    if lang in ("en", "fr"):
        svc = service_of(request)
        response.set_cookie(
            LANG_COOKIE,
            lang,
            httponly=True,
            samesite="strict",
            secure=svc.secure(request),
            max_age=365 * 86400,
        )
    return response


def _visible_cases(svc: Service, principal: Principal) -> list[CaseInfo]:
    from rempart.intake.cases import list_cases

    return [c for c in list_cases(svc.db) if principal.may_see_case(c.id)]


@router.get("/")
def dashboard(request: Request) -> Response:
    from rempart.jobs.review import pending

    svc = service_of(request)
    session = svc.session(request)
    cases = _visible_cases(svc, session.principal)
    if session.principal.sees_all_cases:
        waiting = len(pending(svc.db))
    else:
        waiting = sum(len(pending(svc.db, case=c.name)) for c in cases)
    from rempart.web.dashboard_figures import figures_for

    figures = figures_for(svc, session.principal)
    body = svc.render(
        request, "dashboard.html", session=session, cases=cases, pending=waiting, figures=figures
    )
    return HTMLResponse(body)


@router.get("/cases")
def cases_page(request: Request) -> Response:
    svc = service_of(request)
    session = svc.session(request)
    cases = _visible_cases(svc, session.principal)
    return HTMLResponse(svc.render(request, "cases.html", session=session, cases=cases))


@router.get("/cases/{name}")
def case_page(request: Request, name: str) -> Response:
    from rempart.intake.cases import case_info
    from rempart.jobs.review import pending

    svc = service_of(request)
    session = svc.session(request)
    principal = session.principal
    try:
        info = case_info(svc.db, name)
    except NotFound:
        if principal.sees_all_cases:
            raise HTTPException(404) from None
        info = None  # the same refusal as for a case that exists: names are not probed
    if info is None or not principal.may_see_case(info.id):
        raise _refuse(svc, request, principal.name, "case-view", "case not assigned")
    waiting = len(pending(svc.db, case=info.name))
    body = svc.render(
        request,
        "case.html",
        session=session,
        case=info,
        pending=waiting,
        may_act=principal.may_act_on_case(info.id),
    )
    return HTMLResponse(body)


@router.get("/healthz")
def health() -> Response:
    return Response("ok", media_type="text/plain")
