"""Evidence pages: the captures of the cases an account may see (sealed bundles and failed
attempts), one capture with its verification (the offline checks of `rempart verify`, against
this installation's keys and authorities), and the bundle's download. Every verification and
download is logged in the case's custody log with the signed-in account. Thin: the rules are
jobs.evidence's and evidence.verify's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from rempart.accounts.sessions import Current
from rempart.errors import EvidenceError, NotFound
from rempart.i18n import N_
from rempart.web.access import RowId, check_form, vault_of, visible_capture, visible_case
from rempart.web.pages import _visible_cases
from rempart.web.service import Service, language_of, service_of

if TYPE_CHECKING:
    from rempart.jobs.evidence import CaptureOutcome

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]

_STATES = {"sealed": N_("sealed"), "failed": N_("failed"), "sealing": N_("sealing")}
_VERDICTS = {
    "pass": N_("PASS: intact, and sealed by a key and time-stamped by an authority you trust."),
    "untrusted": N_(
        "UNTRUSTED: intact, but no key or time-stamping root this installation trusts vouches "
        "for it."
    ),
    "fail": N_("FAIL: this bundle is not intact, or not what it claims to be."),
}


def _captures(svc: Service, session: Current, case: str | None) -> list[CaptureOutcome]:
    from rempart.jobs.evidence import list_captures

    if case is not None:
        return list_captures(svc.db, case=case)
    if session.principal.sees_all_cases:
        return list_captures(svc.db)
    found = [
        c
        for info in _visible_cases(svc, session.principal)
        for c in list_captures(svc.db, case=info.name)
    ]
    return sorted(found, key=lambda c: c.id)


def _listing(request: Request, case: str | None) -> Response:
    svc = service_of(request)
    session = svc.session(request)
    if case is not None:
        case = visible_case(svc, request, session.principal, case).name
    body = svc.render(
        request,
        "evidence.html",
        session=session,
        case=case,
        captures=_captures(svc, session, case),
        states=_STATES,
    )
    return HTMLResponse(body)


@router.get("/evidence")
def evidence(request: Request) -> Response:
    return _listing(request, None)


@router.get("/cases/{name}/evidence")
def case_evidence(request: Request, name: str) -> Response:
    return _listing(request, name)


def _capture_page(request: Request, capture_id: int, *, verify: bool) -> Response:
    from rempart.i18n import Messages

    svc = service_of(request)
    session = svc.session(request)
    outcome = visible_capture(svc, request, session.principal, capture_id)
    report = None
    words: dict[str, str] = {}
    if verify:
        from rempart.evidence.trust import own_trust
        from rempart.evidence.verify import CATALOG, Status, report_to_json
        from rempart.jobs.evidence import verify_capture

        trust = own_trust(svc.settings.core.home, os.environ)
        try:
            checked = verify_capture(
                svc.db,
                vault_of(request),
                capture_id,
                trust,
                actor=session.principal.name,
                clock=svc.clock,
            )
        except (NotFound, EvidenceError):
            raise HTTPException(404) from None
        messages = Messages(language_of(request))
        report = report_to_json(checked, messages)
        words = {s.value: messages.lookup(CATALOG, f"status.{s.value}") for s in Status}
    body = svc.render(
        request,
        "capture.html",
        session=session,
        capture=outcome,
        states=_STATES,
        report=report,
        words=words,
        verdict=_VERDICTS.get(report["verdict"], "") if report else "",
    )
    return HTMLResponse(body)


@router.get("/captures/{capture_id}")
def capture_page(request: Request, capture_id: RowId) -> Response:
    return _capture_page(request, capture_id, verify=False)


@router.post("/captures/{capture_id}/verify")
def verify(request: Request, capture_id: RowId, csrf: Field = "") -> Response:
    svc = service_of(request)
    check_form(svc, request, svc.session(request), csrf)
    return _capture_page(request, capture_id, verify=True)


@router.get("/captures/{capture_id}/bundle")
def download(request: Request, capture_id: RowId) -> Response:
    from rempart.jobs.evidence import bundle_for_download

    svc = service_of(request)
    session = svc.session(request)
    visible_capture(svc, request, session.principal, capture_id)
    try:
        name, data = bundle_for_download(
            svc.db, vault_of(request), capture_id, actor=session.principal.name, clock=svc.clock
        )
    except (NotFound, EvidenceError):
        raise HTTPException(404) from None
    safe = "".join(c for c in name if c.isalnum() or c in "._-") or "bundle.wacz"
    return Response(
        data,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{safe}"'},
    )
