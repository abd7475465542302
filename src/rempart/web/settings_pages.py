"""The settings pages, for administrators: the organisation's identity as notices and dossiers
show it, the platform registry notices are addressed from, and the accounts (add, disable)
through rempart.accounts.users — the same use cases as `rempart user`. A new account's
generated password is shown once, on the answer to the form, and never stored in clear.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rempart.accounts.policy import ACCOUNT_ROLES
from rempart.errors import RempartError
from rempart.web.access import check_form, require_accounts
from rempart.web.service import Service, language_of, service_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]


def _page(
    svc: Service,
    request: Request,
    *,
    created: object = None,
    error: str = "",
    status: int = 200,
) -> Response:
    from rempart.accounts.users import list_users
    from rempart.intake.cases import list_cases
    from rempart.takedown.registry import load_registry

    session = svc.session(request)
    registry_error = ""
    try:
        platforms = sorted(
            load_registry(svc.settings.core.home).platforms.values(), key=lambda p: p.name.lower()
        )
    except RempartError as exc:
        platforms, registry_error = [], exc.localized(language_of(request))
    body = svc.render(
        request,
        "settings.html",
        session=session,
        identity=svc.settings.core.identity,
        smtp=bool(svc.settings.core.smtp_url),
        platforms=platforms,
        registry_error=registry_error,
        users=list_users(svc.db),
        roles=[r.value for r in ACCOUNT_ROLES],
        cases=[c.name for c in list_cases(svc.db)],
        created=created,
        error=error,
    )
    return HTMLResponse(body, status_code=status)


@router.get("/settings")
def settings_page(request: Request) -> Response:
    svc = service_of(request)
    session = svc.session(request)
    require_accounts(svc, request, session.principal, "settings-view")
    return _page(svc, request)


@router.post("/settings/users")
async def add_account(request: Request) -> Response:
    """A new account with a generated password, shown once on this answer."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    values = {k: str(v)[:2000] for k, v in form.multi_items() if isinstance(v, str)}
    cases = [str(v)[:200] for v in form.getlist("case") if isinstance(v, str) and v][:200]
    return await run_in_threadpool(_add_account, request, values, cases)


def _add_account(request: Request, values: dict[str, str], cases: list[str]) -> Response:
    from rempart.accounts.users import add_user, role_of

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, values.get("csrf", ""))
    require_accounts(svc, request, session.principal, "account-add")
    try:
        created = add_user(
            svc.db,
            values.get("name", "").strip(),
            role_of(values.get("role", "")),
            cases=cases,
            actor=session.principal.name,
            clock=svc.clock,
        )
    except RempartError as exc:
        return _page(svc, request, error=exc.localized(language_of(request)), status=400)
    return _page(svc, request, created=created)


@router.post("/settings/users/{name}/disable")
def disable_account(request: Request, name: str, csrf: Field = "") -> Response:
    from rempart.accounts.users import disable_user

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    require_accounts(svc, request, session.principal, "account-disable")
    try:
        disable_user(svc.db, name, actor=session.principal.name, clock=svc.clock)
    except RempartError as exc:
        return _page(svc, request, error=exc.localized(language_of(request)), status=400)
    return RedirectResponse("/settings", status_code=303)
