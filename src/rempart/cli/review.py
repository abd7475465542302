"""`rempart review …`: a caseworker confirms or rejects each finding before anything leaves
Rempart; pictures stay blurred until she asks, and every look and decision is logged.

Thin: parse, call rempart.jobs.review, render. Registered on the main app by rempart.cli.
Heavy parts (the store, the picture decoder) are imported inside the commands.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.text import safe, shown
from rempart.config import Settings
from rempart.errors import InputError, RempartError
from rempart.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from PIL import Image

    from rempart.jobs.findings import FindingView

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


class Status(StrEnum):
    """A finding's review state (as rempart.store.models.FindingStatus, light to import)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


_STATUS_WORDS = {
    "pending": N_("pending"),
    "confirmed": N_("confirmed"),
    "rejected": N_("rejected"),
}
VIEWER_ENV = "REMPART_VIEWER"

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
_COLUMNS = 48  # width of the blurred in-terminal picture, in characters
_FULL_SIDE = 8192  # unblurred pictures open at their own size, up to this many pixels a side


def _actor(given: str | None) -> str:
    if given:
        return given
    with _reported():
        return Settings.from_env().operator


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
    from rempart.jobs import review
    from rempart.jobs.findings import list_findings

    db = _open_db()
    with _reported():
        waiting = review.pending(db, case=case)
    if not waiting:
        out.print(_("Nothing to review: no pending matches."))
        return
    actor = _actor(as_)
    out.print(
        _(
            "{count} to review, as [bold]{actor}[/].",
            count=_n_matches(len(waiting)),
            actor=shown(actor),
        )
    )
    for number, view in enumerate(waiting, 1):
        out.rule(f"{number}/{len(waiting)}")
        if not _review_one(view, actor):
            break
    confirmed = [
        v.id
        for v in list_findings(db, ids=tuple(v.id for v in waiting))
        if v.status == Status.CONFIRMED.value
    ]
    _anchor()
    if capture and confirmed:
        _capture(confirmed, allow_network)


def _n_matches(n: int) -> str:
    return ngettext("{n} match", "{n} matches", n)


def _review_one(view: FindingView, actor: str) -> bool:
    """One finding at the prompt; False when the caseworker quits."""
    out.print(_details(view))
    choices = _("[c] confirm  [r] reject  [v] view blurred  [s] show unblurred  [n] next  [q] quit")
    while True:
        answer = typer.prompt(choices, default="n", show_default=False, prompt_suffix=_(": "))
        answer = answer.strip().lower()[:1]
        if answer == "q":
            return False
        if answer == "n":
            return True
        if answer == "v":
            _guarded(partial(_show, view.id, actor, clear=False, interactive=True))
        elif answer == "s":
            if _viewer() is None:
                err.print(_no_display(view.id))
            elif typer.confirm(_("The picture will open unblurred. Continue?"), default=False):
                _guarded(partial(_show, view.id, actor, clear=True, interactive=True))
        elif answer == "c":
            note = typer.prompt(
                _("Note (optional)"), default="", show_default=False, prompt_suffix=_(": ")
            )
            if _guarded(partial(_decide, view.id, Status.CONFIRMED, actor, note)):
                return True
        elif answer == "r":
            note = typer.prompt(
                _("Why is it not a match?"), default="", show_default=False, prompt_suffix=" "
            )
            if not note.strip():
                err.print(
                    _(
                        "[yellow]A reason is required to reject a match[/] (it goes in the "
                        "record). Choose \\[r] again and say why, or another action."
                    )
                )
            elif _guarded(partial(_decide, view.id, Status.REJECTED, actor, note)):
                return True


def _guarded(action: Callable[[], object]) -> bool:
    """Run one prompt action; a refusal is printed and the session goes on."""
    try:
        action()
    except RempartError as exc:
        err.print(_("[red]✗[/] {message}", message=shown(exc.localized())), markup=True)
        return False
    return True


@review_app.command("list")
def review_list(
    case: CaseOption = None,
    status: Annotated[Status, typer.Option(help="Which findings to list.")] = Status.PENDING,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List findings to review (or already reviewed, with --status)."""
    from rempart.jobs.findings import list_findings

    db = _open_db()
    with _reported():
        views = list_findings(db, status=status.value, case=case)
    if as_json:
        for view in views:
            _emit(view.to_json())
        return
    if not views:
        out.print(_("No {status} findings.", status=_(_STATUS_WORDS[status.value])))
        return
    table = Table("#", _("case"), _("seen on"), _("item"), _("how it matched"), _("first seen"))
    for view in views:
        table.add_row(
            str(view.id),
            shown(view.case or ""),
            shown(_where(view), 60),
            shown(f"{view.bank}#{view.item} {view.item_label}".strip()),
            shown(_how(view)),
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
        bool,
        typer.Option(
            "--clear",
            help="Open it unblurred, at full size, in the image viewer (asks first; logged).",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before unblurring.")] = False,
    as_: AsOption = None,
) -> None:
    """Show where and how a finding matched; with --look, its picture (blurred)."""
    from rempart.jobs import review

    with _reported():
        view = review.finding(_open_db(), finding_id)
    out.print(_details(view))
    if clear:
        if _viewer() is None:
            err.print(_no_display(finding_id))
            raise typer.Exit(1)
        if not yes and not typer.confirm(
            _("The picture will open unblurred. Continue?"), default=False
        ):
            raise typer.Exit(1)
    if look or clear:
        with _reported():
            _show(finding_id, _actor(as_), clear=clear, interactive=False)


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
    and sealed as evidence, and it may be notified. Exits 1 when the capture failed."""
    with _reported():
        _decide(finding_id, Status.CONFIRMED, _actor(as_), note)
    if capture:
        _capture([finding_id], allow_network)


@review_app.command("reject")
def review_reject(
    finding_id: Annotated[int, typer.Argument(help="The finding's number.")],
    note: Annotated[str, typer.Option(help="Why it is not a match (required).")] = "",
    as_: AsOption = None,
) -> None:
    """Reject a finding (not a copy). Nothing will be sent about it."""
    if not note.strip():
        _fail(_("a reason is required to reject a match: --note '…' (it goes in the record)"))
    with _reported():
        _decide(finding_id, Status.REJECTED, _actor(as_), note)


def _decide(finding_id: int, verdict: Status, actor: str, note: str) -> None:
    from rempart.jobs import review
    from rempart.store.models import FindingStatus

    view = review.decide(
        _open_db(), finding_id, FindingStatus(verdict.value), actor=actor, note=note
    )
    message = (
        _("Finding {id} confirmed by {actor}.", id=view.id, actor=shown(actor))
        if verdict is Status.CONFIRMED
        else _("Finding {id} rejected by {actor}.", id=view.id, actor=shown(actor))
    )
    if view.review_note:
        message += " " + _("Note: {note}", note=shown(view.review_note))
    out.print(message)
    _anchor()


def _anchor() -> None:
    """Decisions go to the custody log: anchor it outside the database."""
    from rempart.cli.custody import anchor_after
    from rempart.evidence.anchors import AnchorReason

    anchor_after(AnchorReason.REVIEW)


def _capture(finding_ids: list[int], allow_network: list[str] | None) -> None:
    """Capture what was just confirmed (when sealing is set up); a failed capture is explained
    with what to do, and the command exits 1."""
    from rempart.cli.evidence import capture_after_review

    outcomes = capture_after_review(finding_ids, allow_network)
    if any(o.status != "sealed" for o in outcomes):
        raise typer.Exit(1)


# ------------------------------------------------------------------------------- the picture


def _viewer() -> list[str] | None:
    """The command that opens a picture file: $REMPART_VIEWER, else the desktop's opener when
    there is a display; None when nothing can show a picture here."""
    given = os.environ.get(VIEWER_ENV, "").strip()
    if given:
        return shlex.split(given)
    if sys.platform == "darwin":
        return ["open", "-W"] if shutil.which("open") else None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    opener = shutil.which("xdg-open")
    return [opener] if opener else None


def _no_display(finding_id: int) -> str:
    return _(
        "[yellow]No display to open the picture on[/] (no DISPLAY or WAYLAND_DISPLAY, and "
        "{env} is not set). Nothing was shown or logged. Review it at a computer with a "
        "screen (`rempart review show {id} --clear`), or set {env} to a program that opens "
        "an image file. `--look` shows it blurred here.",
        env=VIEWER_ENV,
        id=finding_id,
    )


def _show(finding_id: int, actor: str, *, clear: bool, interactive: bool) -> None:
    from rempart.evidence.blur import thumbnail_png
    from rempart.jobs import review

    seen = review.look(_open_db(), _open_vault(), finding_id, actor=actor, clear=clear)
    if not clear:
        png = thumbnail_png(seen.data, max_side=256, blur=True)
        out.print(_picture(png))
        hint = (
            _("Blurred. \\[s] opens it unblurred, at full size, in the image viewer.")
            if interactive
            else _(
                "Blurred. `rempart review show {id} --clear` opens it unblurred, at full "
                "size, in the image viewer.",
                id=finding_id,
            )
        )
        out.print(hint)
        return
    # Re-encoded through the safe decoder: no metadata, no hostile container reaches the viewer.
    png = thumbnail_png(seen.data, max_side=_FULL_SIDE, blur=False)
    viewer = _viewer()
    if viewer is None:  # the display went away between the question and the look
        raise InputError("no display to open the picture on")
    _open_privately(png, viewer, wait=interactive and sys.stdin.isatty())


def _open_privately(png: bytes, viewer: list[str], *, wait: bool) -> None:
    """Open `png` in `viewer` from a file only this user can read, in a private folder,
    deleted as soon as the viewer is done (or the caseworker says she is)."""
    folder = Path(tempfile.mkdtemp(prefix="rempart-look-"))  # 0700
    try:
        path = folder / "finding.png"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(png)
        try:
            subprocess.run([*viewer, str(path)], check=False, stdin=subprocess.DEVNULL)  # noqa: S603
        except OSError as exc:
            raise InputError(
                "cannot run the image viewer {viewer!r}: {problem}",
                viewer=" ".join(viewer),
                problem=exc.strerror or str(exc),
            ) from None
        out.print(_("Opened unblurred in the image viewer (the look is logged)."))
        if wait or sys.stdin.isatty():
            # Desktop openers return at once; the file must outlive the viewer's reading it.
            typer.prompt(
                _("Press Enter once the picture is closed (its file is then deleted)"),
                default="",
                show_default=False,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _picture(png: bytes) -> Text:
    """A blurred picture in the terminal, two pixels per character (upper half block)."""
    import io

    from PIL import Image
    from rich.color import Color
    from rich.style import Style

    with Image.open(io.BytesIO(png)) as opened:
        image: Image.Image = opened.convert("RGB")
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


# ------------------------------------------------------------------------------- the details


def _how(view: FindingView) -> str:
    from rempart.matching.wording import describe_match

    return describe_match(
        view.method,
        view.distance,
        view.threshold,
        window=view.window,
        variant=view.variant,
        reference=view.reference,
    )


def _where(view: FindingView) -> str:
    """Where the copy was seen: the page, else the channel and message (Telegram export),
    else the media's place in the source."""
    if view.page_url:
        return view.page_url
    chat = view.context.get("chat")
    if chat and view.post_id:
        return _(
            "{source}: « {chat} », message {post}", source=view.source, chat=chat, post=view.post_id
        )
    if chat:
        return _("{source}: « {chat} »", source=view.source, chat=chat)
    if view.media_url:
        return _("{source}: {place}", source=view.source, place=view.media_url)
    return view.source


def _details(view: FindingView) -> Panel:
    lines = Text()
    author = view.context.get("author") or view.context.get("from")
    rows = [
        (_("case"), view.case or _("(no case)")),
        (_("seen on"), _where(view)),
        (_("media"), view.media_url or _("(not kept)")),
        (_("source"), view.source),
    ]
    if view.posted_at is not None:
        rows.append((_("posted"), view.posted_at.strftime("%Y-%m-%d %H:%M UTC")))
    if author:
        rows.append((_("posted by"), author))
    rows += [
        (_("first seen"), view.first_seen_at.strftime("%Y-%m-%d %H:%M UTC")),
        (_("item"), f"{view.bank}#{view.item} {view.item_label}".strip()),
        (_("how"), _how(view)),
        ("sha256", view.sha256),
    ]
    status = _(_STATUS_WORDS.get(view.status, view.status))
    if view.reviewed_by:
        status = _("{status} by {who}", status=status, who=view.reviewed_by)
    rows.append((_("status"), status))
    if view.minor:
        rows.append((_("minor"), _("a minor is involved: no media is kept or shown")))
    width = max(len(label) for label, _value in rows)
    for label, value in rows:
        lines.append(f"{label:>{width}}  ", style="dim")
        lines.append(safe(value) + "\n")  # Text: page-controlled strings are never markup
    return Panel(lines, title=_("finding {id}", id=view.id), expand=False)
