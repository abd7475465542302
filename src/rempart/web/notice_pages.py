"""The notice pages: drafts to approve, one notice's exact text and checks, its approval,
sending, web-form ticket, the recipient's answers, its copies' re-checks, the escalations and
the overdue list. Thin: every rule is rempart.takedown's (drafting, sending, followup), the
same functions `rempart notify` calls; the signed-in account is who acts, never the server's
user. Nothing leaves before a person approves it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rempart.errors import NotFound, RempartError
from rempart.i18n import N_
from rempart.takedown.words import REPLIES, TEMPLATE_WORDS
from rempart.web.access import acting_identity, check_form, refuse, require_case
from rempart.web.service import Service, language_of, service_of

if TYPE_CHECKING:
    from rempart.accounts.policy import Principal
    from rempart.takedown.drafting import NoticeView
    from rempart.takedown.lookups import CachingLookups

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]

_VIEWS = ("drafts", "open", "overdue", "all")
_DONE = {
    "approved": N_("Notice approved. It is recorded in the case's custody log under your name."),
    "sent": N_("Notice sent."),
    "queued": N_("Notice queued again: send it when you are ready."),
    "submitted": N_("Ticket recorded."),
    "answered": N_("Answer recorded."),
    "planned": N_("Drafts made: read and approve each one. Nothing leaves before that."),
    "nothing-planned": N_("No notice to draft: every confirmed copy is covered."),
    "escalated": N_("Next steps drafted: read and approve each one."),
    "nothing-escalated": N_(
        "Nothing to escalate: no deadline has lapsed with a copy still online."
    ),
}
_OPEN = ("approved", "sending", "sent", "submitted", "acknowledged", "no-answer", "uncertain")


def dsa_target() -> timedelta:
    """REMPART_DSA_TARGET, as `rempart notify` reads it (InputError for a bad value)."""
    from rempart.takedown.tracking import dsa_target as from_env

    return from_env(os.environ)


def visible_notices(svc: Service, principal: Principal, **where: object) -> list[NoticeView]:
    """The notices of the cases the caller sees (a notice without a case: every-case roles)."""
    from rempart.intake.cases import list_cases
    from rempart.takedown.drafting import list_notices

    names = {c.name for c in list_cases(svc.db) if principal.may_see_case(c.id)}
    views = list_notices(svc.db, **where)  # type: ignore[arg-type]
    return [v for v in views if (v.case in names) or (v.case is None and principal.sees_all_cases)]


@router.get("/notices")
def notices_page(request: Request, view: str = "drafts", case: str = "") -> Response:
    from rempart.takedown.followup import sync

    svc = service_of(request)
    session = svc.session(request)
    principal = session.principal
    view = view if view in _VIEWS else "drafts"
    if case:
        require_case(svc, request, principal, case, action="notices-view")
    sync(svc.db, clock=svc.clock)  # removals proven by re-checks, due dates passed
    now = svc.clock()
    where: dict[str, object] = {"case": case or None}
    if view == "drafts":
        where["status"] = "drafted"
    elif view == "overdue":
        where["overdue_at"] = now
    try:
        notices = visible_notices(svc, principal, **where)
    except NotFound:  # a case that does not exist, asked by one who sees every case
        raise HTTPException(404) from None
    if view == "open":
        notices = [n for n in notices if n.status in _OPEN]
    body = svc.render(
        request,
        "notices.html",
        **TEMPLATE_WORDS,
        session=session,
        notices=notices,
        view=view,
        case=case,
        now=now,
        done=_DONE.get(request.query_params.get("done", ""), ""),
        may_act=_may_act_somewhere(principal),
    )
    return HTMLResponse(body)


def _may_act_somewhere(principal: Principal) -> bool:
    from rempart.accounts.policy import Permission

    return principal.may(Permission.ACT_ON_CASES)


def _notice_or_refuse(
    svc: Service, request: Request, principal: Principal, notice_id: int, *, act: bool
) -> NoticeView:
    """The notice, once the caller may see (`act`: act on) its case. An unknown number is
    refused like a notice of another case, so numbers cannot be probed."""
    from rempart.takedown.drafting import notice

    action = "notice-act" if act else "notice-view"
    try:
        view = notice(svc.db, notice_id)
    except NotFound:
        if not principal.sees_all_cases:
            raise refuse(svc, request, principal.name, action, "case not assigned") from None
        if act and not _may_act_somewhere(principal):
            raise refuse(svc, request, principal.name, action, "read only") from None
        raise HTTPException(404) from None
    require_case(svc, request, principal, view.case, action=action, act=act)
    return view


def _render_notice(
    svc: Service,
    request: Request,
    view: NoticeView,
    *,
    error: str = "",
    done: str = "",
    status: int = 200,
) -> Response:
    from rempart.takedown.drafting import facts_of
    from rempart.takedown.followup import tracking_of, url_states
    from rempart.takedown.notices import ADVISORY, checks, form_fields, render

    session = svc.session(request)
    principal = session.principal
    identity = acting_identity(svc, principal)
    if view.approved_by:  # the text as approved, signed by whoever approved it
        from dataclasses import replace

        identity = replace(identity, caseworker=view.approved_by)
    facts = facts_of(view, identity)
    lang = request.query_params.get("lang") or view.language
    text = render(facts, lang if lang in ("fr", "en") else view.language)
    findings = [c.finding for c in view.copies if c.finding]
    follow = tracking_of(svc.db, [(view.id, view.sent_at, findings)])[view.id]
    states = url_states(svc.db, findings)
    why = view.provenance.get("why")
    template, values = view.provenance.get("why_template"), view.provenance.get("why_values")
    body = svc.render(
        request,
        "notice.html",
        **TEMPLATE_WORDS,
        session=session,
        notice=view,
        text=text,
        fields=form_fields(facts, view.language) if view.recipient_channel != "email" else (),
        checks=checks(facts),
        advisory=ADVISORY,
        why=why if isinstance(why, str) else "",
        why_template=template if isinstance(template, str) else "",
        why_values=values if isinstance(values, dict) else {},
        follow=follow,
        states=states,
        may_act=principal.may_act_on_case(_case_id(svc, view.case))
        if view.case
        else principal.sees_all_cases and _may_act_somewhere(principal),
        replies=REPLIES,
        error=error,
        done=done,
        now=svc.clock(),
    )
    return HTMLResponse(body, status_code=status)


def _case_id(svc: Service, name: str | None) -> int:
    from rempart.intake.cases import case_info

    return case_info(svc.db, name).id if name else -1


@router.get("/notices/{notice_id}")
def notice_page(request: Request, notice_id: int) -> Response:
    svc = service_of(request)
    session = svc.session(request)
    view = _notice_or_refuse(svc, request, session.principal, notice_id, act=False)
    done = _DONE.get(request.query_params.get("done", ""), "")
    return _render_notice(svc, request, view, done=done)


def _acted(notice_id: int, done: str) -> Response:
    return RedirectResponse(f"/notices/{notice_id}?done={done}", status_code=303)


def _failed(svc: Service, request: Request, notice_id: int, exc: RempartError) -> Response:
    from rempart.errors import Conflict
    from rempart.takedown.drafting import notice

    status = 409 if isinstance(exc, Conflict) else 400
    view = notice(svc.db, notice_id)
    return _render_notice(
        svc, request, view, error=exc.localized(language_of(request)), status=status
    )


@router.post("/notices/{notice_id}/approve")
def approve_notice(request: Request, notice_id: int, csrf: Field = "") -> Response:
    """A person approves the exact text shown: refused while an element the law requires is
    missing; the approval, its checks and the account go to the case's custody log."""
    from rempart.takedown.drafting import approve

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    _notice_or_refuse(svc, request, principal, notice_id, act=True)
    try:
        approve(
            svc.db,
            notice_id,
            identity=acting_identity(svc, principal),
            operator=principal.name,
            clock=svc.clock,
        )
    except RempartError as exc:
        return _failed(svc, request, notice_id, exc)
    return _acted(notice_id, "approved")


@router.post("/notices/{notice_id}/send")
def send_notice(request: Request, notice_id: int, csrf: Field = "") -> Response:
    """E-mail one approved notice through the organisation's mail server, with the outbox's
    guarantees (never twice, never lost), as `rempart notify send N` does."""
    from rempart.errors import InputError
    from rempart.takedown.sending import send_notices, stamper_for
    from rempart.takedown.smtp import SmtpTransport, SmtpUrl

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    view = _notice_or_refuse(svc, request, principal, notice_id, act=True)
    core = svc.settings.core
    try:
        if not core.smtp_url:
            raise InputError(
                "no mail server is configured: `rempart config set smtp.url "
                "smtps://user@mail.example.org` (the password too, in config.toml only, or in "
                "REMPART_SMTP_URL)"
            )
        transport = SmtpTransport(SmtpUrl.parse(core.smtp_url))
        identity = acting_identity(svc, principal)
        if view.approved_by:
            from dataclasses import replace

            identity = replace(identity, caseworker=view.approved_by)
        (outcome,) = send_notices(
            svc.db,
            transport,
            ids=[notice_id],
            identity=identity,
            sender=core.smtp_from or core.identity.email,
            actor=principal.name,
            stamper=stamper_for(svc.settings.core.home),
            clock=svc.clock,
        )
    except RempartError as exc:
        return _failed(svc, request, notice_id, exc)
    if outcome.status != "sent" and outcome.error is not None:
        return _failed(svc, request, notice_id, outcome.error)
    return _acted(notice_id, "sent" if outcome.status == "sent" else "queued")


@router.post("/notices/{notice_id}/resend")
def resend_notice(request: Request, notice_id: int, csrf: Field = "") -> Response:
    """Queue an uncertain or failed notice again, at the caseworker's word (same Message-ID)."""
    from rempart.takedown.sending import resend

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    _notice_or_refuse(svc, request, principal, notice_id, act=True)
    try:
        resend(svc.db, notice_id, actor=principal.name, clock=svc.clock)
    except RempartError as exc:
        return _failed(svc, request, notice_id, exc)
    return _acted(notice_id, "queued")


@router.post("/notices/{notice_id}/submitted")
def submitted_notice(
    request: Request, notice_id: int, reference: Field = "", csrf: Field = ""
) -> Response:
    from rempart.takedown.drafting import submitted

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    _notice_or_refuse(svc, request, principal, notice_id, act=True)
    try:
        submitted(svc.db, notice_id, reference=reference, operator=principal.name, clock=svc.clock)
    except RempartError as exc:
        return _failed(svc, request, notice_id, exc)
    return _acted(notice_id, "submitted")


@router.post("/notices/{notice_id}/reply")
def reply_notice(
    request: Request, notice_id: int, status: Field = "", note: Field = "", csrf: Field = ""
) -> Response:
    from rempart.errors import InputError
    from rempart.takedown.drafting import reply
    from rempart.takedown.notices import NoticeStatus

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    _notice_or_refuse(svc, request, principal, notice_id, act=True)
    try:
        if status not in REPLIES:
            raise InputError("a reply is acknowledged, removed, disabled or refused")
        reply(
            svc.db,
            notice_id,
            status=NoticeStatus(status),
            operator=principal.name,
            note=note,
            clock=svc.clock,
        )
    except RempartError as exc:
        return _failed(svc, request, notice_id, exc)
    return _acted(notice_id, "answered")


def _acting_cases(svc: Service, principal: Principal, case: str) -> list[str | None]:
    """The cases a plan or an escalation covers: the one named, else every case (for those
    who act on every case), else each case the caller is assigned."""
    from rempart.intake.cases import list_cases

    if case:
        return [case]
    if principal.sees_all_cases:
        return [None]
    return [c.name for c in list_cases(svc.db) if principal.may_act_on_case(c.id)]


def _back_to_list(svc: Service, request: Request, done: str, case: str) -> Response:
    from urllib.parse import urlencode

    query = {"view": "drafts", "done": done} | ({"case": case} if case else {})
    return RedirectResponse(f"/notices?{urlencode(query)}", status_code=303)


def _list_error(svc: Service, request: Request, exc: RempartError, status: int) -> Response:
    session = svc.session(request)
    body = svc.render(
        request,
        "notices.html",
        **TEMPLATE_WORDS,
        session=session,
        notices=visible_notices(svc, session.principal, status="drafted"),
        view="drafts",
        case="",
        now=svc.clock(),
        done="",
        error=exc.localized(language_of(request)),
        may_act=_may_act_somewhere(session.principal),
    )
    return HTMLResponse(body, status_code=status)


def _act_on_cases(
    svc: Service, request: Request, principal: Principal, case: str
) -> list[str | None]:
    if case:
        require_case(svc, request, principal, case, action="notice-act", act=True)
    elif not _may_act_somewhere(principal):
        require_case(svc, request, principal, None, action="notice-act", act=True)
    return _acting_cases(svc, principal, case)


def lookups_for(svc: Service) -> CachingLookups:
    """DNS and RDAP on the network, as `rempart notify plan` asks them (tests replace this)."""
    from rempart.takedown.lookups import LookupSettings, network_lookups

    return network_lookups(LookupSettings.for_home(svc.settings.core.home))


@router.post("/notices/plan")
def plan_notices(request: Request, case: Field = "", csrf: Field = "") -> Response:
    """Draft notices for confirmed copies no notice covers yet (`rempart notify plan`)."""
    from rempart.evidence.vault import Vault
    from rempart.takedown.drafting import plan
    from rempart.takedown.registry import load_registry

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    cases = _act_on_cases(svc, request, principal, case)
    home = svc.settings.core.home
    drafted = 0
    try:
        registry = load_registry(home)
        lookups = lookups_for(svc)
        try:
            for name in cases:
                planned = plan(
                    svc.db,
                    registry=registry,
                    lookups=lookups,
                    identity=acting_identity(svc, principal),
                    operator=principal.name,
                    case=name,
                    vault=Vault.open(home),
                    clock=svc.clock,
                    dsa_target=dsa_target(),
                )
                drafted += len(planned.notices)
        finally:
            lookups.close()
    except RempartError as exc:
        return _list_error(svc, request, exc, 400)
    return _back_to_list(svc, request, "planned" if drafted else "nothing-planned", case)


@router.post("/notices/escalate")
def escalate_notices(request: Request, case: Field = "", csrf: Field = "") -> Response:
    """Draft the next step for each notice whose deadline lapsed with a copy still online
    (`rempart notify escalate`); each draft waits for approval."""
    from rempart.takedown.followup import escalate

    svc = service_of(request)
    session = svc.session(request)
    check_form(svc, request, session, csrf)
    principal = session.principal
    cases = _act_on_cases(svc, request, principal, case)
    made: list[int] = []
    try:
        for name in cases:
            made += escalate(
                svc.db,
                identity=acting_identity(svc, principal),
                operator=principal.name,
                case=name,
                dsa_target=dsa_target(),
                clock=svc.clock,
            )
    except RempartError as exc:
        return _list_error(svc, request, exc, 400)
    return _back_to_list(svc, request, "escalated" if made else "nothing-escalated", case)
