"""`rempart notify …` and `rempart notices`: draft notices for confirmed copies, check and
approve each one, send them by e-mail with proof (or record a web form's ticket), record
the answers, and list notices with their history.

Thin: parse, call rempart.takedown.drafting / sending, render. Registered by rempart.cli.
The store, the lookups and SMTP load inside the commands that use them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.text import safe, shown
from rempart.clock import Clock, utc_now
from rempart.config import Settings
from rempart.errors import InputError
from rempart.i18n import _, ngettext
from rempart.takedown.words import BASIS_WORDS, KIND_WORDS, STATUS_WORDS

if TYPE_CHECKING:
    from datetime import timedelta

    from rempart.takedown.drafting import NoticeView
    from rempart.takedown.followup import Tracking
    from rempart.takedown.notices import Check
    from rempart.takedown.sending import SendOutcome

notify_app = typer.Typer(
    help=(
        "Notices asking for a copy to be taken down: `plan` drafts them for confirmed copies, "
        "`show` gives the exact text and its checks, `approve` lets one leave, `send` e-mails "
        "the approved ones with proof, `submitted` records a web form's ticket, `reply` the "
        "recipient's answer, `escalate` drafts the next step when a deadline lapses. Nothing "
        "leaves without a caseworker's approval."
    ),
    no_args_is_help=True,
)
app.add_typer(notify_app, name="notify")

# The time commands read "now" from: tests replace it (no command waits on the wall clock).
_clock: Clock = utc_now


class Basis(StrEnum):
    LEAK = "leak"
    DEEPFAKE = "deepfake"


class Lang(StrEnum):
    FR = "fr"
    EN = "en"


class Reply(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    DISABLED = "disabled"
    REFUSED = "refused"


CaseOption = Annotated[str | None, typer.Option(help="Only this case's notices.")]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _status(value: str) -> str:
    return _(STATUS_WORDS.get(value, value))


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def _settings() -> Settings:
    with _reported():
        return Settings.from_env()


def _dsa_target() -> timedelta:
    """The DSA follow-up target: REMPART_DSA_TARGET (e.g. 72h, 5d), else Rempart's 72 h."""
    from rempart.takedown.tracking import dsa_target

    try:
        return dsa_target(os.environ)
    except InputError as exc:
        _fail(exc)


# -------------------------------------------------------------------------------- plan


@notify_app.command("plan")
def notify_plan(
    case: CaseOption = None,
    basis: Annotated[
        Basis | None,
        typer.Option(
            help="The criminal ground: leak (226-2-1, the default) or deepfake (226-8-1). "
            "With --case, remembered for that case."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Draft notices for confirmed copies that no notice covers yet: one per recipient, listing
    every copy on that service. Example: `rempart notify plan --case case-0142`."""
    from rempart.takedown.drafting import plan
    from rempart.takedown.lookups import LookupSettings, network_lookups
    from rempart.takedown.notices import BASES
    from rempart.takedown.registry import load_registry

    settings = _settings()
    with _reported():
        registry = load_registry(settings.home)
        lookups = network_lookups(LookupSettings.for_home(settings.home))
        try:
            planned = plan(
                _open_db(),
                registry=registry,
                lookups=lookups,
                identity=settings.identity,
                operator=settings.operator,
                case=case,
                basis=BASES[basis.value] if basis else None,
                vault=_open_vault(),
                clock=_clock,
                dsa_target=_dsa_target(),
            )
        finally:
            lookups.close()
    for finding, url, problem in planned.unresolved:
        err.print(
            _(
                "[yellow]finding {finding}:[/] {url}: {problem}",
                finding=finding,
                url=shown(url, 60),
                problem=shown(problem.localized()),
            )
        )
    if as_json:
        for view in planned.notices:
            _emit(view.to_json())
        return
    if not planned.notices:
        out.print(_("No notice to draft: every confirmed copy is covered."))
        return
    _table(list(planned.notices))
    out.print(
        _(
            "Read each with `rempart notify show N`, then `rempart notify approve N`. Nothing "
            "leaves before that."
        )
    )


def _table(views: list[NoticeView]) -> None:
    table = Table(
        _("notice"), _("case"), _("kind"), _("recipient"), _("copies"), _("status"), _("due")
    )
    for view in views:
        table.add_row(
            str(view.id),
            shown(view.case or "-"),
            _(KIND_WORDS.get(view.kind, view.kind)),
            shown(
                f"{view.recipient_name} <{view.recipient_address or view.recipient_channel}>", 40
            ),
            str(len(view.copies)),
            _status(view.status),
            _time(view.due_at),
        )
    out.print(table)


# -------------------------------------------------------------------------------- show


def _check_lines(found: tuple[Check, ...], lang: str | None) -> None:
    from rempart.takedown.notices import ADVISORY

    for check in found:
        if check.ok:
            mark = _("[green]PASS[/]")
        elif check.code in ADVISORY:
            mark = _("[yellow]ADVICE[/]")
        else:
            mark = _("[red]MISSING[/]")
        out.print(f"  {mark} {shown(check.code)}  {shown(check.text(lang))}")
        if not check.ok and check.detail:
            out.print(f"         {shown(_(check.detail))}")


@notify_app.command("show")
def notify_show(
    notice_id: Annotated[int, typer.Argument(metavar="N", help="The notice's number.")],
    lang: Annotated[
        Lang | None, typer.Option(help="Show the text in this language (default: the notice's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The exact text of a notice, its checks (each element the law requires: PASS or
    MISSING), the evidence it cites, and for a web form the answers in the form's order."""
    from rempart.takedown.drafting import facts_of, notice
    from rempart.takedown.notices import checks, form_fields, render

    settings = _settings()
    with _reported():
        view = notice(_open_db(), notice_id)
    facts = facts_of(view, settings.identity)
    language = lang.value if lang else view.language
    text = render(facts, language)
    found = checks(facts)
    if as_json:
        _emit(
            {
                **view.to_json(),
                "subject": text.subject,
                "body": text.body,
                "checks": [{"code": c.code, "ok": c.ok, "element": c.text("en")} for c in found],
            }
        )
        return
    out.print(
        _(
            "[bold]Notice {id}[/] · {kind} · {status} · case {case}",
            id=view.id,
            kind=_(KIND_WORDS.get(view.kind, view.kind)),
            status=_status(view.status),
            case=shown(view.case or "-"),
        )
    )
    out.print(
        _(
            "To: {name} ({role}, {channel}) {address}",
            name=shown(view.recipient_name),
            role=shown(view.recipient_role),
            channel=shown(view.recipient_channel),
            address=shown(view.recipient_address),
        )
    )
    why = view.provenance.get("why")
    template, values = view.provenance.get("why_template"), view.provenance.get("why_values")
    if isinstance(template, str) and isinstance(values, dict):
        why = _(template, **values)
    if why:
        out.print(_("Why this recipient: {why}", why=shown(why)))
    out.print(
        _("Legal ground: {basis}", basis=_(BASIS_WORDS.get(view.legal_basis, view.legal_basis)))
    )
    out.print("")
    out.print(_("[bold]Checks[/]"))
    _check_lines(found, None)
    out.print("")
    out.print(_("[bold]Evidence[/]"))
    for copy in view.copies:
        capture = (
            _("capture {id}, SHA-256 {digest}", id=copy.capture, digest=copy.capture_sha256)
            if copy.capture_sha256
            else _("no sealed capture yet")
        )
        out.print(
            _(
                "  finding {finding}: {url}  file SHA-256 {sha}  {capture}",
                finding=copy.finding,
                url=shown(copy.url),
                sha=copy.sha256,
                capture=capture,
            )
        )
    out.print("")
    if view.recipient_channel == "email":
        out.print(_("[bold]Message[/] (sent as written here, plain text)"))
        out.print(_("Subject: {subject}", subject=shown(text.subject)), soft_wrap=True)
        _lines(text.body)
    else:
        out.print(
            _(
                "[bold]For the web form[/] {form}: paste each answer in this order, then record "
                "the ticket with `rempart notify submitted {id} --reference …`",
                form=shown(_form_address(view)),
                id=view.id,
            )
        )
        for label, value in form_fields(facts, language):
            out.print(Text(safe(label), style="bold"))
            _lines(value)
            out.print("")


def _lines(text: str) -> None:
    """Outside text shown line by line (its line breaks kept, everything else made safe)."""
    for line in text.splitlines():
        out.print(shown(line), soft_wrap=True)


def _form_address(view: NoticeView) -> str:
    return view.recipient_address or _("(no address known: find it by hand)")


# ------------------------------------------------------------------------------ approve


@notify_app.command("approve")
def notify_approve(
    notice_id: Annotated[int, typer.Argument(metavar="N", help="The notice's number.")],
) -> None:
    """Approve a notice after reading it (`rempart notify show N`). Refused while a required
    element is missing; the approval and its checks go to the case's custody log."""
    from rempart.takedown.drafting import approve

    settings = _settings()
    with _reported():
        view, found = approve(
            _open_db(),
            notice_id,
            identity=settings.identity,
            operator=settings.operator,
            clock=_clock,
        )
    out.print(_("[bold]Checks at approval[/]"))
    _check_lines(found, None)
    _anchor()
    if settings.identity.trusted_flagger:
        out.print(
            _(
                "As a trusted flagger, {org} answers for every notice: platforms report "
                "imprecise or unfounded ones, and too many cost the status (DSA art. 22(6), 23).",
                org=shown(settings.identity.name),
            )
        )
    else:
        out.print(
            _(
                "Unfounded notices cost a trusted flagger its status (DSA art. 22(6), 23): "
                "approve only copies that you confirmed yourself."
            )
        )
    if view.recipient_channel == "email":
        out.print(
            _(
                "Approved notice {id} by {who}. Send it with `rempart notify send {id}`.",
                id=view.id,
                who=shown(settings.operator),
            )
        )
    else:
        out.print(
            _(
                "Approved notice {id} by {who}. Paste it in the form from `rempart notify show "
                "{id}`, then `rempart notify submitted {id} --reference …`.",
                id=view.id,
                who=shown(settings.operator),
            )
        )


def _anchor() -> None:
    """Approvals and sending go to the custody log: anchor it outside the database."""
    from rempart.cli.custody import anchor_after
    from rempart.evidence.anchors import AnchorReason

    anchor_after(AnchorReason.NOTICE)


# --------------------------------------------------------------------------------- send


@notify_app.command("send")
def notify_send(
    notices: Annotated[
        list[int] | None, typer.Argument(metavar="[N]...", help="The notices to send.")
    ] = None,
    approved: Annotated[
        bool, typer.Option("--approved", help="Every approved e-mail notice not yet sent.")
    ] = False,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend",
            help="Send these uncertain or failed notices again (after checking with the "
            "recipient), with the same Message-ID.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """E-mail approved notices through the organisation's mail server (smtp.url, or
    REMPART_SMTP_URL), keeping the exact message, its Message-ID and a time-stamped seal. A
    notice is never sent twice: one interrupted at the wrong moment is marked uncertain."""
    from rempart.takedown.sending import resend as queue_again
    from rempart.takedown.sending import send_notices, stamper_for
    from rempart.takedown.smtp import SmtpTransport, SmtpUrl

    if not notices and not approved:
        _fail(_("name the notices to send, or give --approved"))
    if resend and not notices:
        _fail(_("--resend needs the notices' numbers"))
    settings = _settings()
    url = os.environ.get("REMPART_SMTP_URL") or settings.smtp_url
    if not url:
        _fail(
            _(
                "no mail server is configured: `rempart config set smtp.url "
                "smtps://user@mail.example.org` (the password too, in config.toml only, or in "
                "REMPART_SMTP_URL)"
            )
        )
    db = _open_db()
    failures = 0
    with _reported():
        transport = SmtpTransport(SmtpUrl.parse(url))
        if resend:
            for notice_id in notices or []:
                queue_again(db, notice_id, actor=settings.operator)
        stamper = stamper_for(settings.home)

        def progress(outcome: SendOutcome) -> None:
            nonlocal failures
            if outcome.status != "sent" or outcome.error is not None:
                failures += outcome.status != "sent"
            if as_json:
                _emit(outcome.to_json())
            else:
                _say(outcome)

        outcomes = send_notices(
            db,
            transport,
            ids=notices or None,
            identity=settings.identity,
            sender=settings.smtp_from or settings.identity.email,
            actor=settings.operator,
            stamper=stamper,
            on_progress=progress,
            clock=_clock,
        )
    if not outcomes and not as_json:
        out.print(_("Nothing to send: no approved e-mail notice is waiting."))
    if outcomes:
        _anchor()
    if any(o.status == "sent" and not o.sealed and o.seal_note for o in outcomes) and not as_json:
        note = next(o.seal_note for o in outcomes if o.seal_note)
        err.print(_("[yellow]warning:[/] {note}", note=shown(note.localized() if note else "")))
    raise typer.Exit(1 if failures else 0)


def _say(outcome: SendOutcome) -> None:
    if outcome.status == "sent" and outcome.error is None:
        out.print(
            _(
                "Sent notice {id}: Message-ID {mid}, SHA-256 {sha}.",
                id=outcome.notice,
                mid=shown(outcome.message_id or ""),
                sha=outcome.message_sha256,
            )
        )
        return
    problem = outcome.error.localized() if outcome.error else ""
    out.print(
        _(
            "Notice {id}: {status}: {problem}",
            id=outcome.notice,
            status=_status(outcome.status),
            problem=shown(problem),
        )
    )


# ---------------------------------------------------------------------- submitted, reply


@notify_app.command("submitted")
def notify_submitted(
    notice_id: Annotated[int, typer.Argument(metavar="N", help="The notice's number.")],
    reference: Annotated[str, typer.Option("--reference", help="The ticket number the form gave.")],
) -> None:
    """Record that you submitted an approved notice through its web form, with its ticket."""
    from rempart.takedown.drafting import submitted

    settings = _settings()
    with _reported():
        view = submitted(
            _open_db(), notice_id, reference=reference, operator=settings.operator, clock=_clock
        )
    out.print(
        _(
            "Notice {id} submitted, ticket {ref}; answer due {due}.",
            id=view.id,
            ref=shown(view.reference or ""),
            due=_time(view.due_at) or "-",
        )
    )


@notify_app.command("reply")
def notify_reply(
    notice_id: Annotated[int, typer.Argument(metavar="N", help="The notice's number.")],
    status: Annotated[Reply, typer.Option("--status", help="What the recipient answered.")],
    note: Annotated[str, typer.Option(help="What they said, for the record.")] = "",
) -> None:
    """Record the recipient's answer: acknowledged, removed, disabled or refused."""
    from rempart.takedown.drafting import reply
    from rempart.takedown.notices import NoticeStatus

    settings = _settings()
    with _reported():
        view = reply(
            _open_db(),
            notice_id,
            status=NoticeStatus(status.value),
            operator=settings.operator,
            note=note,
            clock=_clock,
        )
    out.print(_("Notice {id} is now {status}.", id=view.id, status=_status(view.status)))


# ------------------------------------------------------------------------------ notices


@app.command("notices")
def notices_command(
    case: CaseOption = None,
    status: Annotated[str | None, typer.Option(help="Only notices in this status.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only notices whose answer is past due.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List notices with their recipient, status, due date and history: time to removal
    (measured by the re-checks), escalations and re-uploaded copies."""
    from rempart.takedown.drafting import list_notices
    from rempart.takedown.followup import sync, tracking_of

    if status is not None and status not in STATUS_WORDS:
        _fail(
            InputError(
                "unknown status {status!r}; known: {known}",
                status=status,
                known=", ".join(k for k in STATUS_WORDS if k not in ("skipped", "queued")),
            )
        )
    db = _open_db()
    now = _clock()
    with _reported():
        sync(db, clock=_clock)  # removals proven by re-checks, due dates passed
        views = list_notices(db, case=case, status=status, overdue_at=now if overdue else None)
        follow = tracking_of(
            db, [(v.id, v.sent_at, [c.finding for c in v.copies if c.finding]) for v in views]
        )
    if as_json:
        for view in views:
            _emit({**view.to_json(), "tracking": follow[view.id].to_json()})
        return
    if not views:
        out.print(_("No notices."))
        return
    _table(views)
    for view in views:
        out.print(_("[bold]Notice {id}[/]", id=view.id))
        _follow_lines(follow[view.id])
        for entry in view.history:
            out.print(
                f"  {_time(entry.at)}  {_status(entry.status)}  {shown(entry.actor)}"
                + (f"  {shown(_(entry.note), 80)}" if entry.note else "")
            )
    out.print(ngettext("{n} notice", "{n} notices", len(views), n=len(views)))


def _follow_lines(track: Tracking) -> None:
    if track.time_to_removal is not None:
        hours = track.time_to_removal.total_seconds() / 3600
        out.print(_("  removed {hours:.1f} h after it was sent (re-checks)", hours=hours))
    if track.follows is not None:
        out.print(_("  escalates notice {id}", id=track.follows))
    for later in track.next:
        out.print(_("  escalated to notice {id}", id=later))
    if track.reuploads:
        out.print(
            ngettext(
                "  {n} re-uploaded copy (finding {ids})",
                "  {n} re-uploaded copies (findings {ids})",
                len(track.reuploads),
                ids=", ".join(str(f) for f in track.reuploads),
            )
        )


# ----------------------------------------------------------------------------- escalate


@notify_app.command("escalate")
def notify_escalate(
    case: CaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft the next step for each notice whose deadline passed while a copy it lists is
    still online (by its last re-check): host, then CDN, network, registrar, search engines,
    and last a complaint to Arcom (DSA Art. 53). Each draft cites the notices before it and
    waits for approval. Example: `rempart notify escalate --case case-0142`."""
    from rempart.takedown.drafting import list_notices
    from rempart.takedown.followup import escalate

    settings = _settings()
    db = _open_db()
    with _reported():
        ids = escalate(
            db,
            identity=settings.identity,
            operator=settings.operator,
            case=case,
            dsa_target=_dsa_target(),
            clock=_clock,
        )
        views = list_notices(db, ids=ids) if ids else []
    if as_json:
        for view in views:
            _emit(view.to_json())
        return
    if not views:
        out.print(_("Nothing to escalate: no deadline has lapsed with a copy still online."))
        return
    _table(views)
    out.print(
        _(
            "Read each with `rempart notify show N`, then `rempart notify approve N`. Nothing "
            "leaves before that."
        )
    )
