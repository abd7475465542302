"""`rempart review …`: a caseworker confirms or rejects each finding before anything leaves
Rempart; pictures stay blurred until she asks, and every look and decision is logged.

Thin: parse, call rempart.jobs.review, render. Registered on the main app by rempart.cli.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from typing import Annotated

import typer
from PIL import Image
from rich.color import Color
from rich.markup import escape
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.evidence import capture_after_review
from rempart.config import Settings
from rempart.errors import RempartError
from rempart.evidence.blur import thumbnail_png
from rempart.jobs import review
from rempart.jobs.findings import FindingView, describe_how, list_findings
from rempart.store.models import FindingStatus

review_app = typer.Typer(
    help=(
        "Confirm or reject each match before anything leaves Rempart. Run `rempart review` "
        "to go through pending matches one by one, or use the commands below. Pictures are "
        "shown only on request, blurred first; every look and every decision is written to "
        "the case's custody log with who and when."
    ),
    invoke_without_command=True,
)
app.add_typer(review_app, name="review")

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as", help="Who is reviewing (default: $REMPART_OPERATOR, else your user name)."
    ),
]
CaseOption = Annotated[str | None, typer.Option(help="Only this case's findings.")]
AllowNetworkOption = Annotated[
    list[str] | None,
    typer.Option(help="A private network the capture browser may reach (the demo site)."),
]
_COLUMNS = 48  # width of the in-terminal picture, in characters


def _actor(given: str | None) -> str:
    return given or Settings.from_env().operator


@review_app.callback()
def review_main(
    ctx: typer.Context,
    case: CaseOption = None,
    capture: Annotated[
        bool, typer.Option(help="At the end, capture and seal what was confirmed.")
    ] = True,
    allow_network: AllowNetworkOption = None,
    as_: AsOption = None,
) -> None:
    """Go through pending matches one by one: confirm, reject, or look (blurred first)."""
    if ctx.invoked_subcommand is not None:
        return
    db = _open_db()
    with _reported():
        waiting = review.pending(db, case=case)
    if not waiting:
        out.print("Nothing to review: no pending matches.")
        return
    actor = _actor(as_)
    out.print(f"{len(waiting)} matches to review, as [bold]{escape(actor)}[/].")
    for number, view in enumerate(waiting, 1):
        out.rule(f"{number}/{len(waiting)}")
        if not _review_one(view, actor):
            break
    confirmed = [
        v.id
        for v in list_findings(db, ids=tuple(v.id for v in waiting))
        if v.status == FindingStatus.CONFIRMED.value
    ]
    if capture:
        capture_after_review(confirmed, allow_network)


def _review_one(view: FindingView, actor: str) -> bool:
    """One finding at the prompt; False when the caseworker quits."""
    out.print(_details(view))
    choices = "[c]onfirm  [r]eject  [v]iew blurred  [s]how unblurred  [n]ext  [q]uit"
    while True:
        answer = typer.prompt(choices, default="n", show_default=False).strip().lower()[:1]
        if answer == "q":
            return False
        if answer == "n":
            return True
        if answer == "v":
            _guarded(partial(_show, view.id, actor, clear=False))
        elif answer == "s":
            if typer.confirm("The picture will be shown unblurred. Continue?", default=False):
                _guarded(partial(_show, view.id, actor, clear=True))
        elif answer == "c":
            note = typer.prompt("Note (optional)", default="", show_default=False)
            if _guarded(partial(_decide, view.id, FindingStatus.CONFIRMED, actor, note)):
                return True
        elif answer == "r":
            note = typer.prompt("Why is it not a match?")
            if _guarded(partial(_decide, view.id, FindingStatus.REJECTED, actor, note)):
                return True


def _guarded(action: Callable[[], object]) -> bool:
    """Run one prompt action; a refusal is printed and the session goes on."""
    try:
        action()
    except RempartError as exc:
        err.print(f"[red]✗[/] {escape(str(exc))}", markup=True)
        return False
    return True


@review_app.command("list")
def review_list(
    case: CaseOption = None,
    status: Annotated[
        FindingStatus, typer.Option(help="Which findings to list.")
    ] = FindingStatus.PENDING,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List findings to review (or already reviewed, with --status)."""
    db = _open_db()
    with _reported():
        views = list_findings(db, status=status.value, case=case)
    if as_json:
        for view in views:
            _emit(view.to_json())
        return
    if not views:
        out.print(f"No {status.value} findings.")
        return
    table = Table("#", "case", "seen on", "item", "how it matched", "first seen")
    for view in views:
        table.add_row(
            str(view.id),
            Text(view.case or ""),
            Text(view.page_url or view.media_url or view.source, overflow="fold"),
            Text(f"{view.bank}#{view.item} {view.item_label}".strip()),
            Text(describe_how(view)),
            view.first_seen_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


@review_app.command("show")
def review_show(
    finding_id: Annotated[int, typer.Argument(help="The finding's number.")],
    look: Annotated[
        bool, typer.Option("--look", help="Show the held copy, blurred (the look is logged).")
    ] = False,
    clear: Annotated[
        bool, typer.Option("--clear", help="Show it unblurred (asks first; logged).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before unblurring.")] = False,
    as_: AsOption = None,
) -> None:
    """Show where and how a finding matched; with --look, its picture (blurred)."""
    with _reported():
        view = review.finding(_open_db(), finding_id)
    out.print(_details(view))
    if (
        clear
        and not yes
        and not typer.confirm("The picture will be shown unblurred. Continue?", default=False)
    ):
        raise typer.Exit(1)
    if look or clear:
        with _reported():
            _show(finding_id, _actor(as_), clear=clear)


@review_app.command("confirm")
def review_confirm(
    finding_id: Annotated[int, typer.Argument(help="The finding's number.")],
    note: Annotated[str, typer.Option(help="A note for the record.")] = "",
    capture: Annotated[
        bool, typer.Option(help="Capture and seal its page now (when sealing is set up).")
    ] = True,
    allow_network: AllowNetworkOption = None,
    as_: AsOption = None,
) -> None:
    """Confirm that a finding is a copy of the protected image; its page is then captured
    and sealed as evidence, and it may be notified."""
    with _reported():
        _decide(finding_id, FindingStatus.CONFIRMED, _actor(as_), note)
    if capture:
        capture_after_review([finding_id], allow_network)


@review_app.command("reject")
def review_reject(
    finding_id: Annotated[int, typer.Argument(help="The finding's number.")],
    note: Annotated[str, typer.Option(help="Why it is not a match (required).")] = "",
    as_: AsOption = None,
) -> None:
    """Reject a finding (not a copy). Nothing will be sent about it."""
    if not note.strip():
        _fail("say why the match is rejected: --note '…'")
    with _reported():
        _decide(finding_id, FindingStatus.REJECTED, _actor(as_), note)


def _decide(finding_id: int, verdict: FindingStatus, actor: str, note: str) -> None:
    view = review.decide(_open_db(), finding_id, verdict, actor=actor, note=note)
    out.print(
        f"Finding {view.id} {verdict.value} by {escape(actor)}"
        + (f" ({escape(view.review_note)})" if view.review_note else "")
        + "."
    )


def _show(finding_id: int, actor: str, *, clear: bool) -> None:
    seen = review.look(_open_db(), _open_vault(), finding_id, actor=actor, clear=clear)
    png = thumbnail_png(seen.data, max_side=256, blur=not clear)
    with Image.open(io.BytesIO(png)) as image:
        out.print(_picture(image.convert("RGB")))
    out.print("unblurred" if clear else "blurred: `--clear` (or [s]) shows it unblurred")


def _details(view: FindingView) -> Panel:
    lines = Text()
    rows = [
        ("case", view.case or "(no case)"),
        ("seen on", view.page_url or "?"),
        ("media", view.media_url or "?"),
        ("source", view.source),
        ("first seen", view.first_seen_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("item", f"{view.bank}#{view.item} {view.item_label}".strip()),
        ("how", describe_how(view)),
        ("sha256", view.sha256),
        ("status", view.status + (f" by {view.reviewed_by}" if view.reviewed_by else "")),
    ]
    if view.minor:
        rows.append(("minor", "a minor is involved: no media is kept or shown"))
    for label, value in rows:
        lines.append(f"{label:>11}  ", style="dim")
        lines.append(value + "\n")  # Text: page-controlled strings are never markup
    return Panel(lines, title=f"finding {view.id}", expand=False)


def _picture(image: Image.Image) -> Text:
    """The picture in the terminal, two pixels per character (upper half block)."""
    width = min(_COLUMNS, image.width)
    height = max(2, round(image.height * width / image.width))
    height += height % 2
    small = image.resize((width, height), Image.Resampling.BOX)
    text = Text()
    for y in range(0, height, 2):
        for x in range(width):
            top = small.getpixel((x, y))
            bottom = small.getpixel((x, y + 1))
            assert isinstance(top, tuple) and isinstance(bottom, tuple)
            style = Style(color=Color.from_rgb(*top[:3]), bgcolor=Color.from_rgb(*bottom[:3]))
            text.append("▀", style=style)
        text.append("\n")
    return text
