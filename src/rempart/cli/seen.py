"""`rempart seen …`: what scans saw before a victim registered (hashes only, for a retention
period), matched against registered items, re-checked, and purged when its time is up.

Thin: parse, call rempart.jobs.retro and rempart.jobs.seen, render. Registered on the main
app by rempart.cli; `bank add` and `bank import` call `match_registered` after adding items.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from rempart.cli import _emit, _open_db, _open_vault, _reported, app, out
from rempart.cli.text import shown
from rempart.config import Settings
from rempart.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from rempart.evidence.held import HeldMedia
    from rempart.jobs.retro import RetroResult
    from rempart.store.database import Database

__all__ = ["match_registered", "seen_app"]

seen_app = typer.Typer(
    help=(
        "What scans saw: for each media, its hashes (never the media), where and when it was "
        "seen, kept for a retention period (180 days by default) so that images registered "
        "later are found where they already were."
    ),
    no_args_is_help=True,
)
app.add_typer(seen_app, name="seen")

_OUTCOMES = {
    "found": N_("still there: finding to review"),
    "kept": N_("in an export or archive: finding to review"),
    "gone": N_("gone: no finding"),
    "changed": N_("serves other content now: no finding"),
    "unreachable": N_("could not be checked: try again later"),
}
_STYLE = {"found": "red", "kept": "red", "gone": "green", "changed": "yellow"}


def _settings_days() -> int:
    with _reported():
        return Settings.from_env().seen_retention_days


def match_registered(db: Database, item_ids: Collection[int], *, as_json: bool) -> int:
    """Match newly registered items against what was seen before, re-check each hit and
    say what came of it. Returns how many findings were made."""
    from rempart.jobs import retro
    from rempart.matching.service import Matcher

    if not item_ids:
        return 0
    with _reported():
        matcher = Matcher(db)
        search = retro.find_earlier(db, matcher, item_ids)
    if not search.earlier:
        if as_json:
            _emit({"earlier_sightings": 0, "compared": search.compared})
        return 0
    if not as_json:
        out.print(
            ngettext(
                "{n} earlier sighting matches; re-checking…",
                "{n} earlier sightings match; re-checking…",
                len(search.earlier),
            )
        )
    with _reported():
        results = retro.confirm_earlier(
            db,
            matcher,
            search.earlier,
            held=_held(db),
            progress=None if as_json else _show,
        )
    found = sum(r.sighting is not None for r in results)
    if as_json:
        for r in results:
            _emit(r.to_json())
    else:
        out.print(
            ngettext(
                "{n} finding to review (`rempart findings --status pending`).",
                "{n} findings to review (`rempart findings --status pending`).",
                found,
            )
        )
    return found


def _held(db: Database) -> HeldMedia:
    from rempart.evidence.held import HeldMedia

    return HeldMedia.for_db(db, _open_vault())


def _show(result: RetroResult) -> None:
    e = result.earlier
    outcome = result.outcome.value
    style = _STYLE.get(outcome, "magenta")
    when = e.first_seen_at.date().isoformat()
    line = _(
        "{source}: {where} (seen {when}): [{style}]{outcome}[/]",
        source=shown(e.source),
        where=shown(e.media_url or e.key),
        when=when,
        style=style,
        outcome=_(_OUTCOMES[outcome]),
    )
    out.print(line)


@seen_app.command("match")
def seen_match(
    bank: Annotated[
        str | None, typer.Argument(help="A protect bank (default: every protect bank).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Match a bank's items against every media seen and kept, re-check each hit by fetching
    it again, and make a finding of each copy still there. Runs by itself after `bank add`
    and `bank import`; run it again after an address could not be checked."""
    from rempart.jobs import retro

    db = _open_db()
    with _reported():
        ids = retro.bank_item_ids(db, bank)
    if not ids:
        out.print(_("No items to match."))
        raise typer.Exit(0)
    found = match_registered(db, ids, as_json=as_json)
    if not found and not as_json:
        out.print(_("No earlier sighting matches."))


@seen_app.command("stats")
def seen_stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """What is kept per source: media, size of their hashes, oldest and newest, retention."""
    from rempart.jobs.seen import seen_stats as stats_of

    db = _open_db()
    with _reported():
        stats = stats_of(db, default_days=_settings_days())
    if as_json:
        for s in stats:
            _emit(s.to_json())
        return
    table = Table(
        _("source"), _("media"), _("gone"), _("hashes (MiB)"), _("oldest"), _("retention (days)")
    )
    for s in stats:
        table.add_row(
            shown(s.source),
            str(s.media),
            str(s.gone),
            f"{s.signal_bytes / 2**20:.1f}",
            s.oldest.date().isoformat() if s.oldest else "-",
            str(s.retention_days),
        )
    out.print(table)


@seen_app.command("purge")
def seen_purge() -> None:
    """Forget what each source saw longer ago than its retention (scans also do it as they
    end)."""
    from rempart.jobs.seen import purge_seen

    db = _open_db()
    with _reported():
        removed = purge_seen(db, default_days=_settings_days())
    out.print(ngettext("{n} media forgotten.", "{n} media forgotten.", removed))
