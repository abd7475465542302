"""`rempart recheck`: check each confirmed copy's addresses again (online, removed, changed,
unreachable), record it, and seal a capture of each removal the first time it is seen.

Thin: parse, call rempart.jobs.recheck, render. Registered on the main app by rempart.cli.
The fetcher, the matcher, the store and the browser load inside the command.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.text import shown
from rempart.config import Settings
from rempart.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from rempart.evidence.browser import Browser
    from rempart.fetch import FetchPolicy
    from rempart.jobs.evidence import Sealer
    from rempart.jobs.recheck import CheckOutcome, RemovalSealer, Tracked
    from rempart.store.database import Database

_INTERVALS_ENV = "REMPART_RECHECK_INTERVALS"
_CHROMIUM_ENV = "REMPART_CHROMIUM"
_TARGETS = {"page": N_("page")}
_STYLE = {"online": "red", "removed": "green", "changed": "yellow", "unreachable": "magenta"}


@app.command("recheck")
def recheck_command(
    every: Annotated[
        bool, typer.Option("--all", help="Every confirmed copy not yet found removed.")
    ] = False,
    due: Annotated[
        bool,
        typer.Option("--due", help="Copies whose next check is due (the default)."),
    ] = False,
    finding: Annotated[
        list[int] | None, typer.Option("--finding", help="This finding (may be repeated).")
    ] = None,
    notice: Annotated[
        int | None, typer.Option("--notice", help="The copies listed in this notice.")
    ] = None,
    intervals: Annotated[
        str | None,
        typer.Option(
            help="When to check again, by status: e.g. online=6h,unreachable=1h,changed=6h,"
            "removed=1d (or set REMPART_RECHECK_INTERVALS)."
        ),
    ] = None,
    allow_network: Annotated[
        list[str] | None,
        typer.Option(
            help="A private network that may be reached (e.g. 127.0.0.1/32 for the demo "
            "site), besides those each copy's source allows."
        ),
    ] = None,
    seal: Annotated[
        bool,
        typer.Option(help="Seal a capture of each copy found removed for the first time."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Check each confirmed copy again: its picture (hashed and matched with its item, so a
    placeholder never passes for the copy) and the page that showed it. Each address is
    online, removed (404/410, a name that no longer exists, a placeholder), changed (another
    picture) or unreachable (try again later). A copy found removed for the first time gets
    a sealed capture of its removed state. Exit 1 when some address could not be checked.

    Examples: `rempart recheck` (the copies due, from a timer as often as you like);
    `rempart recheck --finding 12 --json`."""
    from rempart.jobs import recheck as rc
    from rempart.matching.service import Matcher
    from rempart.takedown.recheck import Intervals

    if sum((every, due, bool(finding), notice is not None)) > 1:
        _fail(_("choose one of --all, --due, --finding N or --notice N"))
    try:
        schedule = Intervals.parse(intervals or os.environ.get(_INTERVALS_ENV, ""))
    except ValueError as exc:
        _fail(_("--intervals: {reason}", reason=str(exc)))
    extra = tuple(allow_network or ())
    _checked_networks(extra)
    db = _open_db()
    with _reported():
        if notice is not None:
            ids = _notice_findings(db, notice)
            tracked = rc.tracked_findings(db, rc.Selection.FINDINGS, ids=ids)
        elif finding:
            tracked = rc.tracked_findings(db, rc.Selection.FINDINGS, ids=finding)
        elif every:
            tracked = rc.tracked_findings(db, rc.Selection.ALL)
        else:
            tracked = rc.tracked_findings(db, rc.Selection.DUE)
    if not tracked:
        if not as_json:
            out.print(_("Nothing to re-check now."))
        return

    def shown_now(outcome: CheckOutcome) -> None:
        if as_json:
            _emit(outcome.to_json())

    with ExitStack() as stack, _reported():
        sealer = _removal_sealer(db, stack, extra) if seal else None
        outcomes = rc.recheck(
            db,
            Matcher(db),
            tracked,
            allow_networks=extra,
            intervals=schedule,
            seal=sealer,
            progress=shown_now,
        )
        from rempart.takedown.followup import sync

        sync(db)  # notices whose copies are all proven gone become "removed"
    if not as_json:
        _render(outcomes)
    if any(o.status.value == "unreachable" for o in outcomes):
        raise typer.Exit(1)


def _checked_networks(networks: tuple[str, ...]) -> None:
    import ipaddress

    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            _fail(_("--allow-network: {reason}", reason=str(exc)))


def _notice_findings(db: Database, notice: int) -> list[int]:
    """The findings a notice lists (a missing notice is an error naming `rempart notices`)."""
    from rempart.errors import InputError
    from rempart.takedown.drafting import notice as notice_view

    ids = [c.finding for c in notice_view(db, notice).copies if c.finding is not None]
    if not ids:
        raise InputError("notice {notice} lists no copy that can be re-checked", notice=notice)
    return ids


def _removal_sealer(db: Database, stack: ExitStack, extra: tuple[str, ...]) -> RemovalSealer:
    """Seals removals with the organisation's key and a fresh Chromium, both opened on the
    first removal; without them, the capture is recorded as failed with the reason."""
    import httpx

    from rempart.cli.evidence import _sealer
    from rempart.fetch import FetchPolicy
    from rempart.jobs import recheck as rc

    settings = Settings.from_env()
    ready: list[Sealer] = []
    opened: list[Browser] = []

    def sealer() -> Sealer:
        if not ready:
            http = stack.enter_context(httpx.Client(timeout=30.0))
            ready.append(_sealer(http))
        return ready[0]

    def browser() -> Browser:
        from rempart.evidence.browser import DEFAULT_CHROMIUM, open_browser

        if not opened:
            chromium = os.environ.get(_CHROMIUM_ENV) or DEFAULT_CHROMIUM
            opened.append(stack.enter_context(open_browser(chromium)))
        return opened[0]

    def policy(tracked: Tracked) -> FetchPolicy:
        return rc.policy_for(FetchPolicy(), tracked, extra)

    return rc.removal_sealer(
        db,
        _open_vault(),
        sealer,
        browser,
        policy=policy,
        operator=settings.operator,
    )


def _address(outcome: CheckOutcome) -> str:
    """The address, shortened to fit 80 columns; a page's is marked as such (the media's,
    which decides, is not)."""
    if outcome.target.value == "page":
        return f"{_(_TARGETS['page'])} {shown(outcome.url, 24)}"
    return shown(outcome.url, 30)


def _render(outcomes: list[CheckOutcome]) -> None:
    table = Table("#", _("address"), _("status"), _("why"), _("capture"))
    table.columns[1].no_wrap = True
    for o in outcomes:
        style = _STYLE.get(o.status.value, "")
        capture = ""
        if o.capture is not None:
            capture = (
                _("{id} sealed", id=o.capture)
                if o.capture_status == "sealed"
                else _("{id} failed", id=o.capture)
            )
        table.add_row(
            str(o.finding),
            _address(o),
            f"[{style}]{_(o.status.value)}[/]" if style else _(o.status.value),
            shown(o.detail()),
            capture,
        )
    out.print(table)
    copies = {o.finding: o.finding_status.value for o in outcomes}
    removed = sum(status == "removed" for status in copies.values())
    online = sum(status == "online" for status in copies.values())
    out.print(
        _(
            "{checked}: {online} still online, {removed} removed.",
            checked=ngettext("{n} copy checked", "{n} copies checked", len(copies)),
            online=online,
            removed=removed,
        )
    )
    failed = [o for o in outcomes if o.capture is not None and o.capture_status != "sealed"]
    for o in failed:
        err.print(
            _(
                "The removal of finding {finding} is recorded, but its capture failed: "
                "{reason}. Run `rempart capture --finding {finding}` once sealing works.",
                finding=o.finding,
                reason=shown(o.capture_error or "?"),
            )
        )
    unreachable = sum(o.status.value == "unreachable" for o in outcomes)
    if unreachable:
        err.print(
            ngettext(
                "{n} address could not be checked: it will be tried again (see the table).",
                "{n} addresses could not be checked: they will be tried again (see the table).",
                unreachable,
            )
        )
