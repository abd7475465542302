"""`rempart source …`, `scan`, `runs`, `watch`, `worker` and `findings`: watching where copies
appear.

Thin: parse, call rempart.jobs, render. Registered on the main app by rempart.cli. Heavy
modules (the store, matching, sources) are imported inside the commands, so `--help` is quick.
"""

from __future__ import annotations

import enum
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.markup import escape
from rich.table import Table

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.text import safe, shown
from rempart.errors import RempartError
from rempart.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from contextlib import ExitStack

    from rempart.clock import Clock
    from rempart.jobs import findings as finding_views
    from rempart.jobs import watchlist
    from rempart.jobs.followup import Followup, TaskOutcome
    from rempart.jobs.recheck import RemovalSealer
    from rempart.jobs.scan import ScanReport
    from rempart.matching.service import Matcher
    from rempart.store.database import Database

# The source kinds of rempart.sources.catalog.KINDS (a test keeps them equal), here so that
# `--help` needs no import of the sources.
SOURCE_KINDS = ("web", "files", "telegram", "warc")
# Problems `rempart scan` prints; the rest with `rempart runs --problems`.
_PROBLEMS_SHOWN = 10
# The narrowest a URL is shortened to in a table (the whole value is in --json).
_MIN_URL_WIDTH = 14


class FindingState(enum.StrEnum):
    """The review states of rempart.store.models.FindingStatus (a test keeps them equal)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


_STATES = {
    "pending": N_("pending"),
    "confirmed": N_("confirmed"),
    "rejected": N_("rejected"),
}
_RUN_STATES = {
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}

source_app = typer.Typer(
    help="The places Rempart watches: web sites (forums, image hosts), Telegram exports, "
    "folders and archives, WARC/WACZ files.",
    no_args_is_help=True,
)
app.add_typer(source_app, name="source")


def _settings(
    kind: str,
    urls: list[str] | None,
    path: Path | None,
    recipe: Path | None,
    allow_network: list[str] | None,
    cookies: Path | None,
    proxy: str | None,
) -> dict[str, Any]:
    if kind != "web":
        if path is None:
            _fail(_("a {kind} source needs --path", kind=shown(kind)))
        return {"path": str(path.resolve())}
    settings: dict[str, Any] = {}
    if recipe is not None:
        settings["recipe"] = str(recipe.resolve())
    if urls:
        settings["start_urls"] = urls
    if allow_network:
        settings["allow_networks"] = allow_network
        settings["any_port"] = True
    if cookies is not None:
        settings["cookies"] = str(cookies.resolve())
    if proxy:
        settings["proxy"] = proxy
    return settings


def _url_width(others: int, columns: int = 1) -> int:
    """The width of each of `columns` URL columns in a table whose other columns and borders
    take `others` characters: URLs are shortened in the middle to fit the terminal."""
    return max(_MIN_URL_WIDTH, (out.width - others) // columns)


def _every_text(every_s: int | None) -> str:
    """An interval as a person reads it: "6 h", "30 min", "1 day"; "on demand" without one."""
    if not every_s:
        return _("on demand")
    if every_s % 86400 == 0:
        return ngettext("{n} day", "{n} days", every_s // 86400)
    if every_s % 3600 == 0:
        return _("{n} h", n=every_s // 3600)
    return _("{n} min", n=every_s // 60)


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="A short name: letters, digits, - _ .")],
    kind: Annotated[str, typer.Argument(help="One of: web, files, telegram, warc.")],
    url: Annotated[
        list[str] | None, typer.Option(help="web: a start URL (repeatable), for a generic crawl.")
    ] = None,
    recipe: Annotated[
        Path | None, typer.Option(help="web: a recipe TOML file (see docs/sources-web.md).")
    ] = None,
    path: Annotated[
        Path | None, typer.Option(help="files, telegram, warc: the folder, archive or file.")
    ] = None,
    every: Annotated[
        str | None, typer.Option(help="Re-scan interval for `rempart watch`: 30m, 6h, 1d…")
    ] = None,
    allow_network: Annotated[
        list[str] | None,
        typer.Option(help="web: a private network this source may reach (e.g. 127.0.0.1/32)."),
    ] = None,
    cookies: Annotated[
        Path | None, typer.Option(help="web: a cookies.txt for a members-only board.")
    ] = None,
    proxy: Annotated[
        str | None, typer.Option(help="web: a proxy, http://… or socks5://host:port.")
    ] = None,
    keep_seen_days: Annotated[
        int | None,
        typer.Option(
            help="Days the hashes of what this source shows are kept, to match images "
            "registered later (default: config.toml seen.retention_days, 180; 0: none)."
        ),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a source of the same name.")] = False,
) -> None:
    """Add a source to watch. Its settings are checked now, not at the first scan.

    Examples:

    * `rempart source add forum web --recipe recipes/forum.toml --every 6h`
    * `rempart source add channel telegram --path ~/Downloads/Telegram/ChatExport_2026-11-01`
    * `rempart source add seized files --path evidence/phone-backup.zip`
    """
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        settings = _settings(kind, url, path, recipe, allow_network, cookies, proxy)
        if keep_seen_days is not None:
            settings["seen_retention_days"] = keep_seen_days
        interval = watchlist.parse_every(every)
        vault = _open_vault() if _has_password(settings.get("proxy")) else None
        watchlist.add_source(
            db, name, kind, settings, every_s=interval, replace=replace, vault=vault
        )
    out.print(_("[green]✓[/] Source [bold]{name}[/] ({kind}) added.", name=shown(name), kind=kind))
    if interval is None:
        out.print(
            _(
                "It is scanned only on demand (`rempart scan {name}`); to have `rempart watch` "
                "re-scan it, give it an interval: `rempart source schedule {name} 6h`.",
                name=shown(name),
            )
        )


@source_app.command("schedule")
def source_schedule(
    name: Annotated[str, typer.Argument(help="The source.")],
    every: Annotated[
        str, typer.Argument(help="Re-scan interval for `rempart watch` (30m, 6h, 1d…), or off.")
    ],
) -> None:
    """Set how often `rempart watch` re-scans a source, or `off` to scan it only on demand.

    Example: rempart source schedule forum 6h
    """
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        interval = None if every.strip().lower() == "off" else watchlist.parse_every(every)
        watchlist.set_every(db, name, interval)
    if interval is None:
        out.print(_("[green]✓[/] {name} is now scanned only on demand.", name=shown(name)))
    else:
        out.print(
            _(
                "[green]✓[/] {name} is re-scanned every {every} by `rempart watch`.",
                name=shown(name),
                every=_every_text(interval),
            )
        )


@source_app.command("load")
def source_load(
    file: Annotated[Path, typer.Argument(help="A TOML file of [[source]] tables.")],
) -> None:
    """Add or update every source of a TOML file (all of them, or none if one is wrong).

    Each [[source]] has a name, a kind, an optional `every`, and the kind's settings
    (see docs/sources.md), e.g.:

    ```
    [[source]]
    name = "forum"
    kind = "web"
    every = "6h"
    recipe = "recipes/forum.toml"
    ```
    """
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        names = watchlist.load_sources_file(db, file, vault=_open_vault())
    out.print(
        ngettext(
            "[green]✓[/] {n} source loaded: {names}",
            "[green]✓[/] {n} sources loaded: {names}",
            len(names),
            names=shown(", ".join(names)),
        )
    )


def _has_password(proxy: object) -> bool:
    return bool(proxy) and urlsplit(str(proxy)).password is not None


def _source_json(info: watchlist.SourceInfo) -> dict[str, object]:
    from rempart.clock import aware
    from rempart.jobs import watchlist

    return {
        "name": info.name,
        "kind": info.kind,
        "every_s": info.every_s,
        "settings": watchlist.masked_settings(info.settings),  # no password, ever
        "last_run": info.last_run_status,
        "last_run_finished": aware(info.last_run_finished).isoformat()
        if info.last_run_finished
        else None,
    }


@source_app.command("list")
def source_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the sources, their interval and how their last scan ended."""
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        infos = watchlist.list_sources(db)
    if as_json:
        for info in infos:
            _emit(_source_json(info))
        return
    table = Table(_("name"), _("kind"), _("every"), _("last scan"), _("ended"))
    for info in infos:
        status = info.last_run_status
        table.add_row(
            shown(info.name),
            info.kind,
            _every_text(info.every_s),
            _(_RUN_STATES.get(status, status)) if status else _("never"),
            info.last_run_finished.strftime("%Y-%m-%d %H:%M") if info.last_run_finished else "",
        )
    out.print(table)


@source_app.command("show")
def source_show(name: Annotated[str, typer.Argument(help="The source.")]) -> None:
    """Show one source's settings (JSON)."""
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        info = watchlist.get_source(db, name)
    _emit(_source_json(info))


@source_app.command("remove")
def source_remove(name: Annotated[str, typer.Argument(help="The source.")]) -> None:
    """Stop watching a source and forget its scan history (not if copies were found there)."""
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        watchlist.remove_source(db, name)
    out.print(_("[green]✓[/] Source {name} removed.", name=shown(name)))


# ------------------------------------------------------------------------------------ scan


def _problems_text(n: int) -> str:
    return ngettext("{n} problem", "{n} problems", n)


def _days() -> int:
    """How long what scans see is kept (config.toml `seen.retention_days`)."""
    from rempart.config import Settings

    with _reported():
        return Settings.from_env().seen_retention_days


def _scan_one(db: Database, matcher: Matcher, name: str, as_json: bool) -> ScanReport:
    from rempart.jobs.runner import run_scan

    if as_json or not err.is_terminal:
        return run_scan(db, matcher, name, vault=_open_vault(), seen_retention_days=_days())
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rempart.jobs.scan import ScanProgress

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(_("scanning {name}", name=shown(name)))

        def show(counts: ScanProgress) -> None:
            progress.update(
                task,
                description=_(
                    "scanning {name}: {new} new media, {matched} matched, {problems}",
                    name=shown(name),
                    new=counts.candidates,
                    matched=counts.matched,
                    problems=_problems_text(counts.problems),
                ),
            )

        return run_scan(
            db, matcher, name, progress=show, vault=_open_vault(), seen_retention_days=_days()
        )


@app.command("scan")
def scan_command(
    names: Annotated[list[str] | None, typer.Argument(help="Sources to scan.")] = None,
    scan_all: Annotated[bool, typer.Option("--all", help="Scan every source.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Scan sources once: fetch what is new, hash it in memory, match it against the banks,
    and record where protected images were seen. Nothing else is kept.

    What could not be read is listed at the end with its reason (all of it: `rempart runs
    --problems`). Exit status 1 when a source could not be scanned or read at all.

    A scan that is interrupted (Ctrl-C, a crash, a reboot) resumes where it stopped the
    next time, without losing or repeating anything.
    """
    from rempart.jobs import findings as finding_views
    from rempart.jobs import watchlist
    from rempart.matching.service import Matcher

    db = _open_db()
    with _reported():
        if scan_all:
            names = [info.name for info in watchlist.list_sources(db)]
        if not names:
            _fail(_("name the sources to scan, or use --all (see `rempart source list`)"))
        for name in names:
            watchlist.get_source(db, name)  # a mistyped name stops before anything is scanned
        matcher = Matcher(db)
    failed = 0
    for name in names:
        try:
            report = _scan_one(db, matcher, name, as_json)
        except RempartError as exc:  # one source's failure must not stop the others
            failed += 1
            if as_json:
                _emit({"source": name, "error": str(exc)})
            else:
                err.print(_source_error(name, exc), markup=True)
            continue
        views = finding_views.list_findings(db, since_run_sightings=report.sightings)
        problems = finding_views.list_problems(db, report.run_id)
        failed += report.unreadable
        if as_json:
            _emit(
                {
                    "source": name,
                    "run": report.run_id,
                    "new_media": report.candidates,
                    "matched": report.matched,
                    "problems": report.problems,
                    "unreadable": report.unreadable,
                    "problem_list": [p.to_json() for p in problems],
                    "findings": [v.to_json() for v in views],
                }
            )
        else:
            _render_report(db, name, report, views, problems)
    raise typer.Exit(1 if failed else 0)


def _source_error(name: str, exc: RempartError) -> str:
    return _("[red]✗[/] {name}: {error}", name=shown(name), error=escape(safe(exc.localized())))


def _render_report(
    db: Database,
    name: str,
    report: ScanReport,
    views: list[finding_views.FindingView],
    problems: list[finding_views.ProblemView],
) -> None:
    from rempart.jobs.findings import describe_how

    out.print(
        _(
            "[bold]{name}[/]: {new} new media hashed, [bold red]{matched} matched[/], "
            "{problems} (`rempart findings --source {name}` lists every finding)",
            name=shown(name),
            new=report.candidates,
            matched=report.matched,
            problems=_problems_text(report.problems),
        )
    )
    if views:
        table = Table(_("item"), _("seen at"), _("media"), _("how"), show_lines=False)
        width = _url_width(50, 2)
        for v in views:
            table.add_row(
                f"{shown(v.bank, 14)}#{v.item}",
                shown(v.page_url or "", width),
                shown(v.media_url or "", width),
                escape(describe_how(v)),
            )
        out.print(table)
    if problems:
        _render_problems(problems, report.problems)
        _advise(db, name, problems)
    if report.unreadable:
        err.print(
            _(
                "[red]✗[/] {name} could not be read at all: every page or file failed "
                "(the reasons are above).",
                name=shown(name),
            ),
            markup=True,
        )


def _render_problems(problems: list[finding_views.ProblemView], total: int) -> None:
    out.print(_("What could not be read:"))
    for p in problems[:_PROBLEMS_SHOWN]:
        out.print(
            _(
                "  • {where}: {reason}",
                where=shown(p.where, 60),
                reason=escape(safe(p.localized())),
            )
        )
    if total > _PROBLEMS_SHOWN:
        out.print(
            _(
                "  … and {n} more: `rempart runs --problems --source {name}`",
                n=total - _PROBLEMS_SHOWN,
                name=shown(problems[0].source),
            )
        )


_REFUSALS = ("refused address", "refused port")


def _advise(db: Database, name: str, problems: list[finding_views.ProblemView]) -> None:
    """What to do about problems a caseworker can fix herself: a web source refused a private
    address or an unusual port (a rehearsal on her own machine, a site on a local network)."""
    from rempart.jobs import watchlist

    refused = [p for p in problems if p.values.get("reason") in _REFUSALS]
    if not refused:
        return
    info = watchlist.get_source(db, name)
    if info.kind != "web":
        return
    host = urlsplit(refused[0].where).hostname or "127.0.0.1"
    network = f"{host}/32" if host.replace(".", "").isdigit() else "127.0.0.1/32"
    command = ["rempart", "source", "add", name, "web"]
    settings = info.settings
    if settings.get("recipe"):
        command += ["--recipe", str(settings["recipe"])]
    for start in settings.get("start_urls") or []:
        command += ["--url", str(start)]
    for allowed in settings.get("allow_networks") or []:
        command += ["--allow-network", str(allowed)]
    command += ["--allow-network", network]
    if info.every_s:
        command += ["--every", f"{info.every_s // 60}m"]
    if settings.get("cookies"):
        command += ["--cookies", str(settings["cookies"])]
    if settings.get("proxy"):
        command += ["--proxy", str(settings["proxy"])]
    command.append("--replace")
    out.print(
        _(
            "[yellow]![/] Rempart refuses private addresses and unusual ports unless the source "
            "allows them. For a rehearsal on your own machine (or a site on your own network), "
            "allow it:"
        )
    )
    out.print(f"  {shown(shlex.join(command))}", soft_wrap=True)  # one line, to copy whole


# ------------------------------------------------------------------------------------ runs


@app.command("runs")
def runs_command(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    last: Annotated[int, typer.Option(help="How many recent scans.", min=1)] = 10,
    problems: Annotated[
        bool, typer.Option("--problems", help="List what each scan could not read, and why.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List recent scans: when, how they ended, what they counted; with `--problems`, what
    each could not read and why.

    Example: rempart runs --source forum --last 1 --problems
    """
    from rempart.jobs import findings as finding_views
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        if source is not None:
            watchlist.get_source(db, source)
        runs = finding_views.list_runs(db, source=source, last=last)
    if as_json:
        for run in runs:
            line = run.to_json()
            if problems:
                line["problem_list"] = [
                    p.to_json() for p in finding_views.list_problems(db, run.id)
                ]
            _emit(line)
        return
    table = Table(
        "#", _("source"), _("started"), _("status"), _("new media"), _("matched"), _("problems")
    )
    table.columns[2].no_wrap = True
    for run in runs:
        table.add_row(
            str(run.id),
            shown(run.source, 20),
            run.started_at.strftime("%Y-%m-%d %H:%M"),
            _(_RUN_STATES.get(run.status, run.status)),
            str(run.candidates),
            str(run.matched),
            str(run.problems),
        )
    out.print(table)
    if problems:
        _render_run_problems(db, runs)


def _render_run_problems(db: Database, runs: list[finding_views.RunView]) -> None:
    """Each scan's problems; what to do about them once per source, after its latest scan."""
    from rempart.jobs import findings as finding_views

    advised: set[str] = set()
    for run in runs:
        found = finding_views.list_problems(db, run.id)
        if found or run.error:
            out.print(
                _(
                    "[bold]Scan #{run}[/] ({name}): {problems}",
                    run=run.id,
                    name=shown(run.source),
                    problems=_problems_text(run.problems),
                )
            )
        for p in found:
            out.print(
                _(
                    "  • {where}: {reason}",
                    where=shown(p.where, 60),
                    reason=escape(safe(p.localized())),
                )
            )
        if run.error:
            out.print(_("  scan stopped: {error}", error=shown(run.error)))
        if found and run.source not in advised:
            advised.add(run.source)
            _advise(db, run.source, found)


# -------------------------------------------------------------------------------- findings


@app.command("findings")
def findings_command(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    status: Annotated[
        FindingState | None, typer.Option(help="Only findings in this state.")
    ] = None,
    case: Annotated[str | None, typer.Option(help="Only this case's findings.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List what scans found: where each copy was seen and how it matched.

    The table shows the page (or the file) where each copy was first seen, shortened to fit;
    `--json` gives every address in full. A copy is one finding whichever sources saw it:
    the others are counted (+N) and listed in `--json` ("also_seen").
    """
    from rempart.intake.cases import case_info
    from rempart.jobs import findings as finding_views
    from rempart.jobs import watchlist

    db = _open_db()
    with _reported():
        if source is not None:
            watchlist.get_source(db, source)  # an unknown name is an error, not "no findings"
        if case is not None:
            case_info(db, case)  # an unknown case is an error, not "no findings"
        views = finding_views.list_findings(
            db, source=source, status=status.value if status else None, case=case
        )
    from rempart.jobs.recheck import last_statuses
    from rempart.takedown.followup import link_reuploads, reupload_of, url_states

    checks = last_statuses(db, [v.id for v in views])
    with _reported():
        link_reuploads(db)  # a copy found again after its item was notified or removed
    again = reupload_of(db, [v.id for v in views])
    if as_json:
        states = url_states(db, [v.id for v in views])
        for v in views:
            last, at = checks.get(v.id, (None, None))
            _emit(
                {
                    **v.to_json(),
                    "last_check": last,
                    "last_checked_at": at and at.isoformat(),
                    "reupload_of": again.get(v.id),
                    "takedown": states[v.id],
                }
            )
        return
    table = Table(
        "#", _("status"), _("source"), _("item"), _("seen at"), _("distance"), _("re-check")
    )
    width = _url_width(66)
    for v in views:
        seen = shown(v.source, 12)
        if v.also_seen:
            seen += f" +{len(v.also_seen)}"
        table.add_row(
            str(v.id),
            _(_STATES.get(v.status, v.status)),
            seen,
            f"{shown(v.bank, 14)}#{v.item}",
            shown(v.page_url or v.media_url or "", width),
            str(v.distance),
            _(checks[v.id][0]) if v.id in checks else "",
        )
    out.print(table)
    reuploads = [v.id for v in views if v.id in again]
    if reuploads:
        out.print(
            ngettext(
                "{n} re-upload (a copy found again after an earlier one was notified or "
                "removed): {ids}.",
                "{n} re-uploads (copies found again after an earlier one was notified or "
                "removed): {ids}.",
                len(reuploads),
                ids=", ".join(f"{f} → {again[f]}" for f in reuploads),
            )
        )
    out.print(ngettext("{n} finding.", "{n} findings.", len(views)))


# ----------------------------------------------------------------------------------- watch


@app.command("watch")
def watch_command(
    poll: Annotated[float, typer.Option(help="Seconds between checks for due sources.")] = 30.0,
    distributed: Annotated[
        bool,
        typer.Option(
            help="Hand scans to `rempart worker` processes through REMPART_BROKER_URL "
            "instead of scanning here."
        ),
    ] = False,
) -> None:
    """Re-scan each source on its interval (`--every`), until stopped with Ctrl-C.

    Sources without an interval are scanned only on demand (`rempart scan`); give one an
    interval with `rempart source schedule NAME 6h`. With none scheduled, exits at once
    (status 1) and says so.
    """
    from rempart.jobs import watchlist
    from rempart.jobs.runner import run_scan, watch

    db = _open_db()
    with _reported():
        infos = watchlist.list_sources(db)
    scheduled = [info for info in infos if info.every_s]
    if not scheduled:
        _nothing_scheduled([info.name for info in infos])
        raise typer.Exit(1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    if distributed:
        from rempart.jobs import tasks

        def start(name: str) -> None:
            tasks.scan.send(name)
            out.print(_("Queued a scan of {name}.", name=shown(name)))
    else:
        from rempart.matching.service import Matcher

        matcher = Matcher(db)
        vault = _open_vault()

        def start(name: str) -> None:
            try:
                report = run_scan(db, matcher, name, vault=vault, seen_retention_days=_days())
            except RempartError as exc:  # reported; the other sources go on being watched
                err.print(_source_error(name, exc), markup=True)
                return
            out.print(
                _(
                    "{name}: {new} new media, {matched} matched, {problems}",
                    name=shown(name),
                    new=report.candidates,
                    matched=report.matched,
                    problems=_problems_text(report.problems),
                )
            )
            if report.problems:
                out.print(
                    _(
                        "  see them with `rempart runs --problems --source {name} --last 1`",
                        name=shown(name),
                    )
                )

    every = ", ".join(f"{safe(info.name)} ({_every_text(info.every_s)})" for info in scheduled)
    out.print(
        ngettext(
            "Watching {n} source: {sources}. Ctrl-C to stop.",
            "Watching {n} sources: {sources}. Ctrl-C to stop.",
            len(scheduled),
            sources=escape(every),
        )
    )
    follow = threading.Thread(
        target=_follow_up, args=(db, stop, poll), name="followup", daemon=True
    )
    follow.start()
    try:
        with _reported():
            watch(db, start, stop=stop, poll_s=poll)
    except KeyboardInterrupt:
        out.print(_("Stopped."))
    finally:
        stop.set()


def _follow_up(db: Database, stop: threading.Event, poll: float) -> None:
    """Beside the scans: re-check the copies due (every 5 min), draft the escalations due and
    anchor the custody chains that moved (every hour). Each failure is reported; the watch
    goes on."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        _followup_tasks(db, stack).loop(stop, _report_task, poll_s=poll)


def _followup_tasks(db: Database, stack: ExitStack, clock: Clock | None = None) -> Followup:
    """The watch's follow-up tasks (`run_due()` is one iteration: tests call it)."""
    from datetime import timedelta

    from rempart.cli.recheck import _removal_sealer
    from rempart.clock import utc_now
    from rempart.config import Settings
    from rempart.jobs import recheck as rc
    from rempart.jobs.followup import Followup, Task
    from rempart.matching.service import Matcher
    from rempart.takedown.followup import escalate, link_reuploads, sync

    now = clock or utc_now
    sealers: list[RemovalSealer] = []

    def rechecks() -> int:
        tracked = rc.tracked_findings(db, rc.Selection.DUE, now=now())
        # a removal found here is sealed as `rempart recheck` seals it (one browser, opened
        # on the first removal and kept for the watch)
        if tracked and not sealers:
            sealers.append(_removal_sealer(db, stack, ()))
        done = rc.recheck(db, Matcher(db), tracked, seal=sealers[0], clock=now) if tracked else []
        sync(db, clock=now)
        link_reuploads(db, clock=now)
        return len(done)

    def escalations() -> int:
        settings = Settings.from_env()
        drafted = escalate(db, identity=settings.identity, operator=settings.operator, clock=now)
        return len(drafted)

    def anchors() -> int:
        from rempart.cli.custody import anchor_moved
        from rempart.evidence.anchors import AnchorReason

        return anchor_moved(AnchorReason.INTERVAL)

    return Followup(
        [
            Task("recheck", timedelta(minutes=5), rechecks),
            Task("escalate", timedelta(hours=1), escalations),
            Task("anchor", timedelta(hours=1), anchors),
        ],
        clock=now,
    )


def _report_task(outcome: TaskOutcome) -> None:
    if outcome.error is not None:
        reason = (
            outcome.error.localized()
            if isinstance(outcome.error, RempartError)
            else str(outcome.error)
        )
        err.print(_("[red]{task} failed:[/] {reason}", task=outcome.name, reason=shown(reason)))
    elif outcome.name == "recheck" and outcome.count:
        out.print(ngettext("Re-checked {n} address.", "Re-checked {n} addresses.", outcome.count))
    elif outcome.name == "anchor" and outcome.count:
        out.print(
            ngettext(
                "Anchored {n} custody chain outside the database.",
                "Anchored {n} custody chains outside the database.",
                outcome.count,
            )
        )
    elif outcome.name == "escalate" and outcome.count:
        out.print(
            ngettext(
                "Drafted {n} escalation: read it with `rempart notices --status drafted`.",
                "Drafted {n} escalations: read them with `rempart notices --status drafted`.",
                outcome.count,
            )
        )


def _nothing_scheduled(names: list[str]) -> None:
    if not names:
        err.print(
            _(
                "Nothing to watch: there is no source yet. Add one with an interval, e.g. "
                "`rempart source add forum web --recipe forum.toml --every 6h`."
            ),
            markup=True,
        )
        return
    first = shlex.quote(names[0])
    err.print(
        _(
            "Nothing is scheduled: every source ({names}) is scanned only on demand, with "
            "`rempart scan`. To have `rempart watch` re-scan one, give it an interval, e.g. "
            "`rempart source schedule {first} 6h` (or `--every 6h` when adding a source).",
            names=shown(", ".join(names)),
            first=shown(first),
        ),
        markup=True,
    )


@app.command("worker")
def worker_command(
    processes: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per process.")] = 1,
) -> None:
    """Run scan workers for `rempart watch --distributed` (Dramatiq on REMPART_BROKER_URL:
    redis://… or amqp://…; default redis://127.0.0.1:6379/0)."""
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        "rempart.jobs.tasks",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    raise typer.Exit(subprocess.call(command, env=dict(os.environ)))  # noqa: S603
