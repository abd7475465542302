"""The sources and scans pages: what Rempart watches, how each scan ended, what it counted, and
what it could not read, with the reason (`rempart source list`, `rempart runs --problems`).
Read only, and thin: rempart.jobs.watchlist and rempart.jobs.findings answer. Sources belong
to the organisation, not to a case: every account that reads cases reads them.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from rempart.accounts.policy import Permission
from rempart.errors import NotFound
from rempart.i18n import N_
from rempart.web.access import refuse
from rempart.web.service import Service, service_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

RUN_STATES = {
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}
_SHOWN = 200  # problems listed on one scan's page


def _reader(svc: Service, request: Request, action: str) -> object:
    session = svc.session(request)
    if not session.principal.may(Permission.VIEW_CASES):
        raise refuse(svc, request, session.principal.name, action, "role reads no sources")
    return session


@router.get("/sources")
def sources_page(request: Request) -> Response:
    from rempart.jobs import watchlist

    svc = service_of(request)
    session = _reader(svc, request, "sources-view")
    body = svc.render(
        request,
        "sources.html",
        session=session,
        sources=watchlist.list_sources(svc.db),
        states=RUN_STATES,
    )
    return HTMLResponse(body)


@router.get("/sources/{name}")
def source_page(request: Request, name: str) -> Response:
    from rempart.jobs import findings, watchlist

    svc = service_of(request)
    session = _reader(svc, request, "sources-view")
    try:
        info = watchlist.get_source(svc.db, name)
    except NotFound:
        raise HTTPException(404) from None
    runs = findings.list_runs(svc.db, source=info.name, last=20)
    body = svc.render(
        request,
        "source.html",
        session=session,
        source=info,
        settings=sorted(watchlist.masked_settings(info.settings).items()),
        runs=runs,
        states=RUN_STATES,
    )
    return HTMLResponse(body)


@router.get("/scans")
def scans_page(request: Request) -> Response:
    from rempart.jobs import findings

    svc = service_of(request)
    session = _reader(svc, request, "scans-view")
    runs = findings.list_runs(svc.db, last=50)
    body = svc.render(request, "scans.html", session=session, runs=runs, states=RUN_STATES)
    return HTMLResponse(body)


@router.get("/scans/{run_id}")
def scan_page(request: Request, run_id: int) -> Response:
    from rempart.jobs import findings

    svc = service_of(request)
    session = _reader(svc, request, "scans-view")
    try:
        run = findings.get_run(svc.db, run_id)
    except NotFound:
        raise HTTPException(404) from None
    problems = findings.list_problems(svc.db, run.id, limit=_SHOWN)
    body = svc.render(
        request,
        "scan.html",
        session=session,
        run=run,
        problems=problems,
        more=max(0, run.problems - len(problems)),
        states=RUN_STATES,
    )
    return HTMLResponse(body)
