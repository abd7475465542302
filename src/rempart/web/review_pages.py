"""The shared review queue and a finding's page: pending matches of the cases the account
may see, each claimed by one reviewer at a time; how a match was made, in words; its picture,
blurred until she asks; confirm or reject. Thin: the rules are jobs.review's and
jobs.review_queue's, the account signed in is the actor of every look and decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rempart.accounts.policy import Permission
from rempart.accounts.sessions import Current
from rempart.errors import InputError, RempartError
from rempart.i18n import N_
from rempart.web.access import RowId, check_form, may_act_on, vault_of, visible_finding
from rempart.web.media import grant_valid, make_grant
from rempart.web.pages import _visible_cases
from rempart.web.service import Service, language_of, service_of

if TYPE_CHECKING:
    from rempart.jobs.findings import FindingView

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]
Note = Annotated[str, Form(max_length=2000)]

# The signal that matched, in words (FindingView.method).
_SIGNALS = {
    "pdq": N_("the picture's PDQ perceptual hash"),
    "sha256": N_("the file's SHA-256 digest"),
    "md5": N_("the file's MD5 digest"),
    "local-features": N_("local features of the picture (points that agree)"),
}
_STATUS = {
    "pending": N_("waiting for review"),
    "confirmed": N_("confirmed"),
    "rejected": N_("rejected"),
}


def _pending_for(svc: Service, session: Current) -> list[FindingView]:
    from rempart.jobs.review import pending

    if session.principal.sees_all_cases:
        return pending(svc.db)
    found = [
        v for c in _visible_cases(svc, session.principal) for v in pending(svc.db, case=c.name)
    ]
    return sorted(found, key=lambda v: v.id)


def _break_minutes(svc: Service, session: Current) -> int:
    """Minutes of reviewing without a break, once past the reminder's threshold; else 0."""
    from rempart.jobs.review_queue import BREAK_AFTER, reviewing_for

    spent = reviewing_for(svc.db, session.principal.name, clock=svc.clock)
    return int(spent.total_seconds() // 60) if spent >= BREAK_AFTER else 0


@router.get("/review")
def queue(request: Request, decided: int | None = None, empty: int = 0) -> Response:
    from rempart.jobs.findings import describe_how
    from rempart.jobs.review_queue import claims

    svc = service_of(request)
    session = svc.session(request)
    lang = language_of(request)
    waiting = _pending_for(svc, session)
    held = claims(svc.db, [v.id for v in waiting], clock=svc.clock)
    rows = [(v, describe_how(v, lang=lang), held.get(v.id)) for v in waiting]
    body = svc.render(
        request,
        "review.html",
        session=session,
        rows=rows,
        me=session.principal.name,
        may_act=session.principal.may(Permission.ACT_ON_CASES),
        decided=decided,
        empty=bool(empty),
        break_minutes=_break_minutes(svc, session),
    )
    return HTMLResponse(body)


@router.post("/review/next")
def review_next(request: Request, csrf: Field = "") -> Response:
    from rempart.jobs.review_queue import claim_next

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    cases = {c.name: c.id for c in _visible_cases(svc, principal)}
    candidates = [
        v.id
        for v in _pending_for(svc, session)
        if v.case is not None and principal.may_act_on_case(cases.get(v.case, -1))
    ]
    taken = claim_next(svc.db, candidates, actor=principal.name, clock=svc.clock)
    if taken is None:
        return RedirectResponse("/review?empty=1", status_code=303)
    return RedirectResponse(f"/findings/{taken.finding}", status_code=303)


def _page(
    svc: Service,
    request: Request,
    session: Current,
    view: FindingView,
    *,
    shown: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    from rempart.evidence.held import held_name
    from rempart.jobs.findings import describe_how
    from rempart.jobs.review_queue import claims
    from rempart.matching.wording import distance_phrase, features_phrase

    lang = language_of(request)
    claim = claims(svc.db, [view.id], clock=svc.clock).get(view.id)
    may_act = may_act_on(svc, session.principal, view.case)
    clear = bool(shown) and grant_valid(session.csrf, view.id, shown, svc.clock())
    held = not view.minor and vault_of(request).has(held_name(view.sha256))
    corroborated = view.detail.get("corroborated_inliers")
    measure = ""
    if view.method.lower() == "pdq":
        measure = distance_phrase(view.distance, view.threshold, lang=lang)
    elif view.method.lower() == "local-features":
        measure = features_phrase(view.distance, lang=lang)
    body = svc.render(
        request,
        "finding.html",
        session=session,
        view=view,
        how=describe_how(view, lang=lang),
        signal=_SIGNALS.get(view.method.lower(), view.method),
        status_word=_STATUS.get(view.status, view.status),
        measure=measure,
        corroborated=(
            features_phrase(corroborated, lang=lang) if isinstance(corroborated, int) else ""
        ),
        claim=claim,
        me=session.principal.name,
        may_act=may_act,
        held=held,
        clear=clear,
        grant=shown if clear else "",
        error=error,
        break_minutes=_break_minutes(svc, session),
    )
    return HTMLResponse(body, status_code=status)


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: RowId, shown: str = "") -> Response:
    svc = service_of(request)
    session = svc.session(request)
    view = visible_finding(svc, request, session.principal, finding_id)
    return _page(svc, request, session, view, shown=shown[:200])


@router.post("/findings/{finding_id}/claim")
def claim_finding(request: Request, finding_id: RowId, csrf: Field = "") -> Response:
    from rempart.jobs.review_queue import claim

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    view = visible_finding(svc, request, session.principal, finding_id, act=True)
    try:
        claim(svc.db, finding_id, actor=session.principal.name, clock=svc.clock)
    except RempartError as exc:
        error = exc.localized(language_of(request))
        return _page(svc, request, session, view, error=error, status=409)
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


@router.post("/findings/{finding_id}/release")
def release_finding(request: Request, finding_id: RowId, csrf: Field = "") -> Response:
    from rempart.jobs.review_queue import release

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    visible_finding(svc, request, session.principal, finding_id, act=True)
    release(svc.db, finding_id, actor=session.principal.name)
    return RedirectResponse("/review", status_code=303)


@router.post("/findings/{finding_id}/decision")
def decide_finding(
    request: Request, finding_id: RowId, verdict: Field, note: Note = "", csrf: Field = ""
) -> Response:
    from rempart.jobs import review
    from rempart.store.models import FindingStatus

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    view = visible_finding(svc, request, session.principal, finding_id, act=True)
    chosen = {"confirm": FindingStatus.CONFIRMED, "reject": FindingStatus.REJECTED}.get(verdict)
    try:
        if chosen is None:
            raise InputError("choose confirm or reject")
        review.decide(
            svc.db,
            finding_id,
            chosen,
            actor=session.principal.name,
            note=note.strip(),
            clock=svc.clock,
            pending_only=True,
        )
    except RempartError as exc:
        from rempart.errors import Conflict

        error = exc.localized(language_of(request))
        status = 409 if isinstance(exc, Conflict) else 400
        return _page(
            svc, request, session, review.finding(svc.db, view.id), error=error, status=status
        )
    return RedirectResponse(f"/review?decided={finding_id}", status_code=303)


@router.post("/findings/{finding_id}/reveal")
def reveal(request: Request, finding_id: RowId, confirm: Field = "", csrf: Field = "") -> Response:
    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    view = visible_finding(svc, request, session.principal, finding_id)
    if confirm != "yes":
        from rempart.i18n import gettext

        error = gettext(
            "Tick the box to confirm that you want to see the picture unblurred.",
            lang=language_of(request),
        )
        return _page(svc, request, session, view, error=error, status=400)
    grant = make_grant(session.csrf, finding_id, svc.clock())
    return RedirectResponse(f"/findings/{finding_id}?shown={grant}", status_code=303)
