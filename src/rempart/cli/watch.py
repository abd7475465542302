"""`rempart source …`, `scan`, `watch`, `worker` and `findings`: watching where copies appear.

Thin: parse, call rempart.jobs, render. Registered on the main app by rempart.cli.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.clock import aware
from rempart.errors import RempartError
from rempart.jobs import findings as finding_views
from rempart.jobs import watchlist
from rempart.jobs.findings import describe_how
from rempart.jobs.runner import run_scan, watch
from rempart.jobs.scan import ScanProgress, ScanReport
from rempart.matching.service import Matcher
from rempart.sources.catalog import KINDS
from rempart.store.models import FindingStatus

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
            _fail(f"a {kind} source needs --path")
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


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="A short name: letters, digits, - _ .")],
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
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
    replace: Annotated[bool, typer.Option(help="Replace a source of the same name.")] = False,
) -> None:
    """Add a source to watch. Its settings are checked now, not at the first scan.

    Examples:
      rempart source add forum web --recipe recipes/forum.toml --every 6h
      rempart source add channel telegram --path ~/Downloads/Telegram/ChatExport_2026-11-01
      rempart source add seized files --path evidence/phone-backup.zip
    """
    db = _open_db()
    with _reported():
        settings = _settings(kind, url, path, recipe, allow_network, cookies, proxy)
        interval = watchlist.parse_every(every)
        watchlist.add_source(db, name, kind, settings, every_s=interval, replace=replace)
    out.print(f"[green]✓[/] source {name} ({kind}) added")


@source_app.command("load")
def source_load(
    file: Annotated[Path, typer.Argument(help="A TOML file of [[source]] tables.")],
) -> None:
    """Add or update every source of a TOML file (all of them, or none if one is wrong).

    Each [[source]] has a name, a kind, an optional `every`, and the kind's settings
    (see docs/sources.md), e.g.:

      [[source]]
      name = "forum"
      kind = "web"
      every = "6h"
      recipe = "recipes/forum.toml"
    """
    db = _open_db()
    with _reported():
        names = watchlist.load_sources_file(db, file)
    out.print(f"[green]✓[/] sources loaded ({len(names)}): {escape(', '.join(names))}")


def _source_json(info: watchlist.SourceInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "kind": info.kind,
        "every_s": info.every_s,
        "settings": dict(info.settings),
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
    db = _open_db()
    with _reported():
        infos = watchlist.list_sources(db)
    if as_json:
        for info in infos:
            _emit(_source_json(info))
        return
    table = Table("name", "kind", "every", "last scan", "ended")
    for info in infos:
        table.add_row(
            info.name,
            info.kind,
            f"{info.every_s // 60} min" if info.every_s else "on demand",
            info.last_run_status or "never",
            info.last_run_finished.strftime("%Y-%m-%d %H:%M") if info.last_run_finished else "",
        )
    out.print(table)


@source_app.command("show")
def source_show(name: str) -> None:
    """Show one source's settings (JSON)."""
    db = _open_db()
    with _reported():
        info = watchlist.get_source(db, name)
    _emit(_source_json(info))


@source_app.command("remove")
def source_remove(name: str) -> None:
    """Stop watching a source and forget its scan history (not if copies were found there)."""
    db = _open_db()
    with _reported():
        watchlist.remove_source(db, name)
    out.print(f"[green]✓[/] source {name} removed")


def _scan_one(matcher: Matcher, name: str, as_json: bool) -> ScanReport:
    db = _open_db()
    if as_json or not err.is_terminal:
        return run_scan(db, matcher, name, vault=_open_vault())
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(f"scanning {name}")

        def show(counts: ScanProgress) -> None:
            progress.update(
                task,
                description=f"scanning {name}: {counts.candidates} new media, "
                f"{counts.matched} matched, {counts.problems} problems",
            )

        return run_scan(db, matcher, name, progress=show, vault=_open_vault())


@app.command("scan")
def scan_command(
    names: Annotated[list[str] | None, typer.Argument(help="Sources to scan.")] = None,
    scan_all: Annotated[bool, typer.Option("--all", help="Scan every source.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Scan sources once: fetch what is new, hash it in memory, match it against the banks,
    and record where protected images were seen. Nothing else is kept.

    A scan that is interrupted (Ctrl-C, a crash, a reboot) resumes where it stopped the
    next time, without losing or repeating anything.
    """
    db = _open_db()
    with _reported():
        if scan_all:
            names = [info.name for info in watchlist.list_sources(db)]
        if not names:
            _fail("name the sources to scan, or use --all (see `rempart source list`)")
        for name in names:
            watchlist.get_source(db, name)  # a mistyped name stops before anything is scanned
        matcher = Matcher(db)
    failed = 0
    for name in names:
        try:
            report = _scan_one(matcher, name, as_json)
        except RempartError as exc:  # one source's failure must not stop the others
            failed += 1
            if as_json:
                _emit({"source": name, "error": str(exc)})
            else:
                err.print(f"[red]✗[/] {escape(name)}: {escape(str(exc))}", markup=True)
            continue
        views = finding_views.list_findings(db, since_run_sightings=report.sightings)
        if as_json:
            _emit(
                {
                    "source": name,
                    "run": report.run_id,
                    "new_media": report.candidates,
                    "matched": report.matched,
                    "problems": report.problems,
                    "findings": [v.to_json() for v in views],
                }
            )
        else:
            _render_report(name, report, views)
    raise typer.Exit(1 if failed else 0)


def _render_report(name: str, report: ScanReport, views: list[finding_views.FindingView]) -> None:
    out.print(
        f"[bold]{escape(name)}[/]: {report.candidates} new media hashed, "
        f"[bold red]{report.matched} matched[/], {report.problems} problems "
        f"(`rempart findings --source {name}` lists every finding)"
    )
    if views:
        table = Table("item", "seen at", "media", "how", show_lines=False)
        for v in views:
            table.add_row(
                f"{v.bank}#{v.item}",
                Text(v.page_url or "", overflow="fold"),
                Text(v.media_url or "", overflow="fold"),
                describe_how(v),
            )
        out.print(table)


@app.command("findings")
def findings_command(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    status: Annotated[
        FindingStatus | None, typer.Option(help="Only findings in this state.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List what scans found: where each copy was seen and how it matched."""
    db = _open_db()
    with _reported():
        if source is not None:
            watchlist.get_source(db, source)  # an unknown name is an error, not "no findings"
        views = finding_views.list_findings(
            db, source=source, status=status.value if status else None
        )
    if as_json:
        for v in views:
            _emit(v.to_json())
        return
    table = Table("#", "status", "source", "item", "page", "media", "distance")
    for v in views:
        table.add_row(
            str(v.id),
            v.status,
            Text(v.source),
            f"{v.bank}#{v.item}",
            Text(v.page_url or "", overflow="fold"),
            Text(v.media_url or "", overflow="fold"),
            str(v.distance),
        )
    out.print(table)
    out.print(f"{len(views)} findings.")


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
    """Re-scan each source on its interval (`--every`), until stopped with Ctrl-C."""
    db = _open_db()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if distributed:
        from rempart.jobs import tasks

        def start(name: str) -> None:
            tasks.scan.send(name)
            out.print(f"queued scan of {name}")
    else:
        matcher = Matcher(db)
        vault = _open_vault()

        def start(name: str) -> None:
            try:
                report = run_scan(db, matcher, name, vault=vault)
            except RempartError as exc:  # reported; the other sources go on being watched
                err.print(f"[red]✗[/] {escape(name)}: {escape(str(exc))}", markup=True)
                return
            out.print(
                f"{escape(name)}: {report.candidates} new media, {report.matched} matched, "
                f"{report.problems} problems"
            )

    out.print("watching; Ctrl-C to stop")
    try:
        with _reported():
            watch(db, start, stop=stop, poll_s=poll)
    except KeyboardInterrupt:
        out.print("stopped")


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
