"""`rempart intake …`: the victim's offline hashing page, its hash files and withdrawals.

Thin: parse, call rempart.intake (submissions, sealing, offline_page), render. Registered on
the main app by rempart.cli.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rempart.cli import _FAILED, _emit, _open_db, _reported, app, err, out
from rempart.cli.text import shown
from rempart.config import Settings
from rempart.errors import InputError
from rempart.i18n import _, ngettext

if TYPE_CHECKING:
    from rempart.intake.submissions import SubmissionReport

intake_app = typer.Typer(
    help=(
        "The victim's own hashing page: she hashes her pictures on her device, offline, and "
        "sends the hash file (never the pictures). Import it into her case; her withdrawal "
        "code withdraws it."
    ),
    no_args_is_help=True,
)
app.add_typer(intake_app, name="intake")


def _key_folder() -> Path:
    return Settings.from_env().home / "intake"


@intake_app.command("key")
def intake_key(
    to: Annotated[
        Path | None, typer.Option(help="Folder for the key pair (default: $REMPART_HOME/intake).")
    ] = None,
) -> None:
    """Make the association's intake key pair. Pages made afterwards seal hash files to its
    public key, so that they may travel by e-mail; keep the private key (0600) safe."""
    from rempart.intake.sealing import make_key_pair

    with _reported():
        made = make_key_pair(to or _key_folder())
    out.print(_("Private key (keep it, readable by you only): {path}", path=shown(made.private)))
    out.print(_("Public key (goes into the page): {path}", path=shown(made.public)))
    out.print(_("Key id: {id}", id=made.key_id))


@intake_app.command("page")
def intake_page(
    to: Annotated[Path, typer.Option(help="The folder to write the page into.")],
    key: Annotated[
        Path | None,
        typer.Option(
            help="The association's public key (default: $REMPART_HOME/intake's, if made)."
        ),
    ] = None,
    seal: Annotated[
        bool, typer.Option(help="Seal hash files to the public key when there is one.")
    ] = True,
) -> None:
    """Write the offline hashing page (one folder: open its index.html in any browser, from
    a disk or a USB stick; it makes no network request)."""
    from rempart.intake.offline_page import write_page
    from rempart.intake.sealing import PUBLIC_NAME, read_public_key

    with _reported():
        public = None
        if seal:
            path = key or _key_folder() / PUBLIC_NAME
            if key is not None or path.exists():
                public = read_public_key(path)
        written = write_page(to, public)
    out.print(_("Wrote the hashing page: {path}", path=shown(written)))
    if public is None:
        out.print(
            _("Hash files it saves are not sealed (no intake key; see `rempart intake key`).")
        )


def _read(path: Path) -> bytes:
    from rempart.intake.hashfile import MAX_FILE_BYTES

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(
                "{path} is larger than {n} MB: no hash file is",
                path=path,
                n=MAX_FILE_BYTES // 1_000_000,
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError("cannot read {path}: {reason}", path=path, reason=exc.strerror) from None


@intake_app.command("import")
def intake_import(
    case: Annotated[str, typer.Argument(help="The victim's case.")],
    file: Annotated[Path, typer.Argument(help="The hash file her page saved.")],
    bank: Annotated[
        str | None,
        typer.Option(help="The case's bank to use (default: its only one, or a new one)."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option(help="The intake private key (default: $REMPART_HOME/intake's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Import a hash file into a case: schema, integrity and duplicates are checked, and each
    picture is registered as `rempart bank add` registers one."""
    from rempart.intake.sealing import PRIVATE_NAME, load_hash_file, read_private_key
    from rempart.intake.submissions import import_submission

    with _reported():
        key_path = key or _key_folder() / PRIVATE_NAME
        private = read_private_key(key_path) if key is not None or key_path.exists() else None
        hash_file = load_hash_file(_read(file), private)
        report = import_submission(_open_db(), case, hash_file, bank=bank)
    _render_import(report, as_json)
    raise typer.Exit(1 if any(o.error for o in report.items) else 0)


def _render_import(report: SubmissionReport, as_json: bool) -> None:
    if as_json:
        for o in report.items:
            _emit(
                {"index": o.index, "error": o.error.localized()}
                if o.error
                else {
                    "index": o.index,
                    "item": o.item_id,
                    "existing": o.existing,
                    "extra_hashes": o.extra_hashes,
                    "feature_points": o.feature_points,
                }
            )
        _emit(
            {
                "case": report.case,
                "bank": report.bank,
                "submission": report.submission,
                "already_imported": report.already_imported,
                "case_marked_minor": report.case_marked_minor,
            }
        )
        return
    for o in report.items:
        if o.error:
            err.print(
                _FAILED
                + _(
                    "picture {index}: {reason}",
                    index=o.index,
                    reason=shown(o.error.localized()),
                ),
                markup=True,
            )
        elif o.existing:
            out.print(
                _(
                    "= picture {index}: already in the bank (item {item})",
                    index=o.index,
                    item=o.item_id,
                )
            )
        else:
            out.print(
                _(
                    "+ picture {index}: item {item} ({extras} extra hashes)",
                    index=o.index,
                    item=o.item_id,
                    extras=o.extra_hashes,
                )
            )
    added = sum(1 for o in report.items if o.item_id is not None and not o.existing)
    out.print(
        _(
            "Submission {submission}: {added} added to bank {bank}, {failed} refused.",
            submission=report.submission[:8],
            added=added,
            bank=shown(report.bank),
            failed=sum(1 for o in report.items if o.error),
        )
    )
    if report.already_imported:
        out.print(_("This hash file was imported before: nothing was added twice."))
    if report.case_marked_minor:
        out.print(
            _(
                "[bold]She declared she was under 18 in these pictures:[/] case {case} is now "
                "a minor's case (no media is ever stored; child-protection channels only).",
                case=shown(report.case),
            )
        )


@intake_app.command("withdraw")
def intake_withdraw(
    case: Annotated[str, typer.Argument(help="The victim's case.")],
    code: Annotated[
        str, typer.Argument(help="Her withdrawal code, or the withdrawal file her page saved.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Withdraw what she registered with this code: her items never match again and are
    never exported."""
    from rempart.intake.hashfile import parse_withdrawal_file, withdrawal_digest
    from rempart.intake.submissions import withdraw_submissions

    with _reported():
        path = Path(code)
        submission = None
        if path.is_file():
            submission, digest = parse_withdrawal_file(_read(path))
        else:
            digest = withdrawal_digest(code)
        report = withdraw_submissions(_open_db(), case, digest, submission=submission)
    if as_json:
        _emit(
            {
                "case": report.case,
                "submissions": report.submissions,
                "withdrawn": list(report.withdrawn),
                "already_withdrawn": list(report.already_withdrawn),
            }
        )
        return
    out.print(
        ngettext(
            "Withdrew {n} item of case {case} ({already} already withdrawn).",
            "Withdrew {n} items of case {case} ({already} already withdrawn).",
            len(report.withdrawn),
            case=shown(report.case),
            already=len(report.already_withdrawn),
        )
    )


__all__ = ["intake_app"]
