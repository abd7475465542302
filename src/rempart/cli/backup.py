"""`rempart backup` and `rempart restore`: everything a case needs (database, evidence vault,
keys, configuration) in one encrypted file, checked after writing, and put back.

Thin: read the passphrase, call rempart.jobs.backup, render. Registered on the main app by
rempart.cli. The store and the cryptography load inside the commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from rempart.cli import _emit, _fail, _reported, app, err, out
from rempart.cli.text import shown
from rempart.config import Settings
from rempart.i18n import _, ngettext

if TYPE_CHECKING:
    from rempart.jobs.backup import BackupSummary

PASSPHRASE_ENV = "REMPART_BACKUP_PASSPHRASE"  # noqa: S105 - a variable name, not a secret

backup_app = typer.Typer(
    help=(
        "Back up everything Rempart keeps (database, evidence vault, signing keys, "
        "configuration) into one file encrypted with a passphrase, checked after writing. "
        "Example: `rempart backup --to /media/usb/rempart-2026-12-06.rbk`."
    ),
    invoke_without_command=True,
)
app.add_typer(backup_app, name="backup")

_STDIN_HELP = "Read the passphrase from the first line of standard input."


def _passphrase(from_stdin: bool, *, new: bool) -> bytes:
    """From stdin, else REMPART_BACKUP_PASSPHRASE, else asked at the terminal."""
    from rempart.jobs.backup_file import MIN_PASSPHRASE

    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(PASSPHRASE_ENV):
        text = os.environ[PASSPHRASE_ENV]
    elif sys.stdin.isatty():
        text = typer.prompt(_("Backup passphrase"), hide_input=True, confirmation_prompt=new)
    else:
        _fail(
            _(
                "no passphrase: give it on standard input with --passphrase-stdin, or in "
                "{variable}",
                variable=PASSPHRASE_ENV,
            )
        )
    if not text:
        _fail(_("the passphrase is empty"))
    if new and len(text) < MIN_PASSPHRASE:
        _fail(_("the passphrase must hold at least {n} characters", n=MIN_PASSPHRASE))
    return text.encode("utf-8")


def _print_summary(summary: BackupSummary) -> None:
    rows = sum(summary.rows.values())
    out.print(
        ngettext(
            "Database ({dialect}, schema {revision}): {rows} row in {tables} tables.",
            "Database ({dialect}, schema {revision}): {rows} rows in {tables} tables.",
            rows,
            dialect=summary.dialect,
            revision=summary.revision or "-",
            rows=rows,
            tables=len(summary.rows),
        )
    )
    out.print(
        ngettext(
            "Files of the data folder: {n} ({objects} in the evidence vault).",
            "Files of the data folder: {n} ({objects} in the evidence vault).",
            summary.home_files,
            n=summary.home_files,
            objects=summary.vault_objects,
        )
    )
    if summary.vault_key_outside:
        err.print(
            _(
                "[yellow]Note:[/] the vault key comes from REMPART_VAULT_KEY and is not in "
                "this backup: keep it as safely as the backup, or the evidence cannot be read."
            )
        )


@backup_app.callback()
def backup_command(
    ctx: typer.Context,
    to: Annotated[
        Path | None, typer.Option("--to", help="The backup file to write (a new file).")
    ] = None,
    passphrase_stdin: Annotated[bool, typer.Option("--passphrase-stdin", help=_STDIN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Write a backup to `--to FILE`, encrypted with a passphrase (asked, or
    `--passphrase-stdin`, or REMPART_BACKUP_PASSPHRASE), then read it back and check it.

    Keep the passphrase apart from the backup: without it nothing can be restored.
    """
    if ctx.invoked_subcommand is not None:
        return
    if to is None:
        _fail(_("say where to write the backup: `rempart backup --to FILE`"))
    from rempart.jobs.backup import write_backup

    passphrase = _passphrase(passphrase_stdin, new=True)
    with _reported():
        settings = Settings.from_env()
        summary = write_backup(settings.home, settings.database_url, to, passphrase)
    if as_json:
        _emit({"backup": str(to), **summary.to_json()})
        return
    out.print(
        _(
            "Backup written and checked: [bold]{path}[/] ({size} bytes).",
            path=shown(str(to)),
            size=summary.size,
        )
    )
    _print_summary(summary)


@backup_app.command("verify")
def backup_verify(
    file: Annotated[Path, typer.Argument(help="The backup file.")],
    passphrase_stdin: Annotated[bool, typer.Option("--passphrase-stdin", help=_STDIN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Decrypt a backup and check every file in it against its manifest (nothing is
    written). Exit status 2 when it cannot be read whole."""
    from rempart.jobs.backup import verify_backup

    passphrase = _passphrase(passphrase_stdin, new=False)
    with _reported():
        summary = verify_backup(file, passphrase)
    if as_json:
        _emit({"backup": str(file), "ok": True, **summary.to_json()})
        return
    out.print(
        _(
            "Backup [bold]{path}[/] is whole: every file matches its manifest (made {created}).",
            path=shown(str(file)),
            created=summary.created,
        )
    )
    _print_summary(summary)


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="The backup file.")],
    to_home: Annotated[
        Path | None,
        typer.Option("--to-home", help="The data folder to restore into (default: REMPART_HOME)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a data folder or database that is not empty."),
    ] = False,
    passphrase_stdin: Annotated[bool, typer.Option("--passphrase-stdin", help=_STDIN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Restore a backup into an empty data folder and an empty database (REMPART_DATABASE_URL,
    or SQLite in the folder). The backup is checked whole before anything is put in place;
    then the schema is brought up to date and every case's custody log is checked.

    Exit status: 0 restored and checked, 1 restored but a check failed, 2 nothing restored.
    """
    from rempart.jobs.backup import restore_backup

    passphrase = _passphrase(passphrase_stdin, new=False)
    with _reported():
        home = to_home if to_home is not None else Settings.from_env().home
        url = (
            os.environ.get("REMPART_DATABASE_URL") or f"sqlite:///{home.absolute() / 'rempart.db'}"
        )
        report = restore_backup(file, passphrase, home=home, database_url=url, force=force)
    if as_json:
        _emit(
            {
                "backup": str(file),
                "home": str(report.home),
                "database": report.database,
                "revision": report.revision,
                "ok": report.ok,
                "chains": [
                    {"chain": c.chain, "events": c.events, "ok": c.ok, "first_bad": c.first_bad_seq}
                    for c in report.chains
                ],
                "missing_bundles": list(report.missing_bundles),
                "contents": report.summary.to_json(),
            }
        )
        raise typer.Exit(0 if report.ok else 1)
    out.print(
        _(
            "Restored into [bold]{home}[/] and {database} (schema {revision}).",
            home=escape(str(report.home)),
            database=escape(report.database),
            revision=report.revision or "-",
        )
    )
    _print_summary(report.summary)
    for chain in report.chains:
        if chain.ok:
            out.print(
                _(
                    "[green]✓[/] custody log {chain}: {events} events, unbroken.",
                    chain=shown(chain.chain),
                    events=chain.events,
                )
            )
        else:
            out.print(
                _(
                    "[red]✗[/] custody log {chain} breaks at event {seq}.",
                    chain=shown(chain.chain),
                    seq=chain.first_bad_seq,
                )
            )
    for name in report.missing_bundles:
        out.print(_("[red]✗[/] sealed bundle missing from the vault: {name}", name=shown(name)))
    raise typer.Exit(0 if report.ok else 1)
