"""The `rempart` command line. Thin: parse arguments, call one use case, render the result.

Human output (Rich tables, progress bars) by default; `--json` prints one object per line.
Exit status: 0 all good, 1 some inputs failed (each one reported), 2 the command itself failed.
Importing this module must stay light (start-up time): heavy parts are imported by the
commands that use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rempart import __version__
from rempart.cli.lazy import LazyGroup
from rempart.cli.text import json_text, safe, safe_lines, shown
from rempart.config import Settings
from rempart.errors import HashListError, ImageDecodeError, RempartError
from rempart.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from rempart.evidence.vault import Vault
    from rempart.hashing import ImageHashes
    from rempart.intake.banks import BankInfo
    from rempart.matching.service import Matcher, QueryResult
    from rempart.store.database import Database

__all__ = ["app"]

app = typer.Typer(
    name="rempart",
    cls=LazyGroup,
    help=(
        "Rempart finds copies of a victim's images from their hashes alone, and keeps what it "
        "needs to prove them and take them down.\n\n"
        "Start with `rempart demo`. Data lives in $REMPART_HOME (a per-user folder by default); "
        "set REMPART_DATABASE_URL to use PostgreSQL."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
bank_app = typer.Typer(
    help=(
        "Banks hold the hashes of protected images (kind `protect`) or of images that must "
        "never be reported (kind `allow`: known false positives, consenting content). "
        "Images themselves are never stored."
    ),
    no_args_is_help=True,
)
app.add_typer(bank_app, name="bank")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
T = TypeVar("T")
# Marks before a line about one input: it failed, or it was added.
_FAILED = "[red]✗[/] "
_ADDED = "[green]✓[/] "
_IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic",
    ".heif", ".avif", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi",
}  # fmt: skip


def _fail(message: str | RempartError) -> NoReturn:
    """Print an error (a translated message, or a Rempart error in the current language).

    The message is printed as plain text: outside values in it go through `safe`, not `shown`;
    an error's values come from outside, so each of its lines goes through `safe` here.
    """
    text = safe_lines(message.localized()) if isinstance(message, RempartError) else message
    err.print(_("[bold red]error:[/] {message}", message=escape(text)), markup=True)
    raise typer.Exit(2)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn Rempart's own errors into a clear message and exit status 2."""
    try:
        yield
    except RempartError as exc:
        _fail(exc)


def _open_db() -> Database:
    from rempart.store.database import Database

    with _reported():
        return Database.open(Settings.from_env().database_url)


def _open_vault() -> Vault:
    """The evidence vault in $REMPART_HOME (encrypted at rest)."""
    from rempart.evidence.vault import Vault

    with _reported():
        return Vault.open(Settings.from_env().home)


def _expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders walked for image files, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES))
        else:
            files.append(path)
    return files


def _progress(items: list[T], label: str, quiet: bool) -> Iterator[T]:
    """Yield items with a progress bar on stderr when there are many and a person is watching."""
    if quiet or len(items) < 20 or not err.is_terminal:
        yield from items
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(label, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def _emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json_text(json.dumps(obj, ensure_ascii=False)) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(_("rempart {version}", version=__version__))
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Rempart: hashes, not images."""
    from rempart.private import restrict_umask

    restrict_umask()  # everything this command writes is private to its user (docs/security.md)


# ---------------------------------------------------------------------------------------- hash

# Widths of outside values (paths, labels) in 80-column tables; the full value is in --json.
_PATH_WIDTH = 36
_LABEL_WIDTH = 30


@app.command("hash")
def hash_command(
    files: Annotated[list[Path], typer.Argument(help="Image files or folders of images.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    dihedral: Annotated[
        bool, typer.Option("--dihedral", help="Also print the 8 rotation/flip variants.")
    ] = False,
    vpdq: Annotated[
        Path | None,
        typer.Option(
            "--vpdq", help="Also write each video's frame hashes as a vPDQ file in this folder."
        ),
    ] = None,
) -> None:
    """Compute the PDQ hash (with its quality), SHA-256 and MD5 of each image, and of each
    video its digests and one PDQ hash a second of its frames (as vPDQ samples them).

    The PDQ hash is written as python-threatexchange and Meta's reference write it, so any
    PDQ-compatible platform can match against it. Quality below 50 is not trusted for matching.
    The `--json` output is a hash list that `rempart bank import` reads as it is (a video's
    digests; its frames go in with the vPDQ file that `--vpdq` writes).

    Example: `rempart hash --json photos/ > hashes.jsonl`
    """
    from rempart.hashing import hash_many
    from rempart.hashing.sniff import SNIFF_BYTES, is_video

    paths: list[Path] = []
    videos: list[Path] = []
    for path in _expand(files):
        (videos if is_video(_head(path, SNIFF_BYTES)) else paths).append(path)
    failed = 0
    table = Table(
        title=_("Hashes"), caption=_("Hashes are shortened here; `--json` gives them in full.")
    )
    table.add_column(_("file"), overflow="fold")  # already shortened: wrap, never cut again
    table.add_column(_("PDQ"))
    table.add_column(_("quality"))
    table.add_column(_("SHA-256"))
    for path, result in hash_many(_progress(paths, _("hashing"), as_json), dihedral=dihedral):
        if isinstance(result, ImageDecodeError):
            failed += 1
            if as_json:
                _emit({"path": str(path), "error": str(result)})
            else:
                reason = _("error: {reason}", reason=result)
                table.add_row(shown(path, _PATH_WIDTH), Text(reason, style="red"), "", "")
            continue
        if as_json:
            _emit(_hash_json(path, result))
        else:
            quality = str(result.pdq.quality)
            if result.pdq.quality < 50:
                quality = "[yellow]" + _("{quality} (low)", quality=quality) + "[/]"
            table.add_row(
                shown(path, _PATH_WIDTH),
                _short(result.pdq.hash.hex),
                quality,
                _short(result.digest.sha256),
            )
    for path in videos:
        failed += not _hash_video(path, table, as_json, vpdq)
    if not as_json:
        out.print(table)
        if failed:
            err.print(
                ngettext(
                    "{n} file of {total} could not be hashed.",
                    "{n} files of {total} could not be hashed.",
                    failed,
                    total=len(paths) + len(videos),
                )
            )
    raise typer.Exit(1 if failed else 0)


def _head(path: Path, size: int) -> bytes:
    """The first bytes of a file (empty when it cannot be read: hashing says why)."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def _hash_video(path: Path, table: Table, as_json: bool, vpdq: Path | None) -> bool:
    """Hash one video into `table` (or a JSON line), its frames into `vpdq`; False if it fails."""
    from rempart.hashing.video import hash_video_file
    from rempart.intake.vpdq import VideoFrame, format_vpdq

    try:
        video = hash_video_file(path)
    except ImageDecodeError as error:
        if as_json:
            _emit({"path": str(path), "error": str(error)})
        else:
            reason = _("error: {reason}", reason=error)
            table.add_row(shown(path, _PATH_WIDTH), Text(reason, style="red"), "", "")
        return False
    if vpdq is not None:
        vpdq.mkdir(parents=True, exist_ok=True)
        frames = (VideoFrame(f.time_s, f.pdq.hash, f.pdq.quality) for f in video.frames)
        (vpdq / (path.name + ".vpdq")).write_text(format_vpdq(frames), encoding="utf-8")
    if as_json:
        _emit(
            {
                "path": str(path),
                "media": "video",
                "sha256": video.digest.sha256,
                "md5": video.digest.md5,
                "duration_s": round(video.duration_s, 3),
                "frames": [
                    {"at_s": f.time_s, "pdq": f.pdq.hash.hex, "quality": f.pdq.quality}
                    for f in video.frames
                ],
            }
        )
    else:
        frames_text = ngettext(
            "video: {n} frame hash", "video: {n} frame hashes", len(video.frames)
        )
        table.add_row(shown(path, _PATH_WIDTH), frames_text, "—", _short(video.digest.sha256))
    return True


def _short(digest: str) -> str:
    """The start of a hash, enough to tell hashes apart in an 80-column table."""
    return digest[:16] + "…"


def _hash_json(path: Path, h: ImageHashes) -> dict[str, object]:
    from rempart.hashing.signals import Dihedral

    obj: dict[str, object] = {
        "path": str(path),
        "pdq": h.pdq.hash.hex,
        "quality": h.pdq.quality,
        "sha256": h.digest.sha256,
        "md5": h.digest.md5,
        "width": h.width,
        "height": h.height,
        "format": h.format,
        "animated": h.animated,
    }
    if h.partner_pdq is not None:  # what python-threatexchange and HMA get from this file
        obj["pdq_partner"] = h.partner_pdq.hash.hex
    if h.variants:
        obj["variants"] = {d.value: v.hash.hex for d, v in zip(Dihedral, h.variants, strict=True)}
    return obj


# --------------------------------------------------------------------------------------- banks


class KindChoice(StrEnum):
    protect = "protect"
    allow = "allow"


# Bank kinds as shown to people (the stored names stay English in --json).
_KIND_SHOWN = {"protect": N_("protect"), "allow": N_("allow")}


def _kind(value: str) -> str:
    return _(_KIND_SHOWN.get(value, value))


class UnknownQualityChoice(StrEnum):
    accept = "accept"
    refuse = "refuse"


@bank_app.command("create")
def bank_create(
    name: Annotated[str, typer.Argument(help="Letters, digits, '-', '_' or '.'.")],
    kind: Annotated[
        KindChoice, typer.Option(help="protect: report matches; allow: suppress them.")
    ] = KindChoice.protect,
    threshold: Annotated[
        int, typer.Option(help="Largest PDQ distance (bits) that counts as a match.")
    ] = 31,
    quality_min: Annotated[
        int, typer.Option(help="Hashes of lower PDQ quality are neither stored nor matched.")
    ] = 50,
    unknown_quality: Annotated[
        UnknownQualityChoice,
        typer.Option(
            help="Imported PDQ hashes whose list gives no quality (StopNCII's, bare pdq "
            "lines): accept them, or refuse them."
        ),
    ] = UnknownQualityChoice.accept,
    description: Annotated[str, typer.Option(help="A note for caseworkers.")] = "",
    case: Annotated[
        str | None,
        typer.Option(help="The case (pseudonym) whose images this bank protects."),
    ] = None,
) -> None:
    """Create a bank. Example: `rempart bank create case-0142-images --case case-0142`."""
    from rempart.intake import banks as bank_cases
    from rempart.store.models import BankKind

    with _reported():
        info = bank_cases.create_bank(
            _open_db(),
            name,
            kind=BankKind(kind.value),
            threshold=threshold,
            quality_min=quality_min,
            unknown_quality=unknown_quality.value,
            description=description,
            case=case,
        )
    if info.kind.value == "allow":
        created = _(
            "Created allow bank [bold]{name}[/] (threshold {threshold}, quality gate "
            "{quality_min}).",
            name=shown(info.name),
            threshold=info.threshold,
            quality_min=info.quality_min,
        )
    else:
        created = _(
            "Created protect bank [bold]{name}[/] (threshold {threshold}, quality gate "
            "{quality_min}).",
            name=shown(info.name),
            threshold=info.threshold,
            quality_min=info.quality_min,
        )
    out.print(created)
    if info.case:
        out.print(_("It belongs to case [bold]{case}[/].", case=shown(info.case)))


@bank_app.command("list")
def bank_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List banks with their settings and item counts."""
    from rempart.intake import banks as bank_cases

    with _reported():
        infos = bank_cases.list_banks(_open_db())
    if as_json:
        for i in infos:
            _emit(_bank_json(i))
        return
    if not infos:
        out.print(_("No banks yet. Create one with `rempart bank create NAME`."))
        return
    # Six columns fit 80 columns; the creation date and every count are in `bank show`/--json.
    table = Table()
    table.add_column(_("name"), overflow="fold")  # names are short and plain: shown whole
    table.add_column(_("kind"))
    table.add_column(_("case"), overflow="fold")
    table.add_column(_("items"))
    table.add_column(_("threshold / quality gate"))
    for i in infos:
        items = str(i.active_items)
        if i.withdrawn_items:
            items += " " + ngettext("(+{n} withdrawn)", "(+{n} withdrawn)", i.withdrawn_items)
        table.add_row(
            shown(i.name),
            _kind(i.kind.value),
            shown(i.case or ""),
            items,
            f"{i.threshold} / {i.quality_min}",
        )
    out.print(table)


def _bank_json(i: BankInfo) -> dict[str, object]:
    return {
        "name": i.name,
        "kind": i.kind.value,
        "threshold": i.threshold,
        "quality_min": i.quality_min,
        "unknown_quality": i.unknown_quality,
        "description": i.description,
        "created_at": i.created_at.isoformat(),
        "items": i.active_items,
        "withdrawn": i.withdrawn_items,
        "case": i.case,
    }


@bank_app.command("show")
def bank_show(
    name: Annotated[str, typer.Argument(help="The bank.")],
    withdrawn: Annotated[bool, typer.Option(help="Include withdrawn items.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Show a bank's settings, its case and its items (hashes and labels, never images)."""
    from rempart.intake import banks as bank_cases

    db = _open_db()
    with _reported():
        info = bank_cases.bank_info(db, name)
        items = bank_cases.list_items(db, name, include_withdrawn=withdrawn)
    if as_json:
        obj = _bank_json(info)
        obj["item_list"] = [
            {
                "id": i.id,
                "pdq": i.pdq,
                "quality": i.quality,
                "md5": i.md5,
                "sha256": i.sha256,
                "media": i.media,
                "pdq_partner": i.partner_pdq,
                "label": i.label,
                "withdrawn_at": i.withdrawn_at.isoformat() if i.withdrawn_at else None,
            }
            for i in items
        ]
        _emit(obj)
        return
    summary = _(
        "[bold]{name}[/] — {kind} bank created {date}, threshold {threshold}, quality gate "
        "{quality_min}",
        name=shown(info.name),
        kind=_kind(info.kind.value),
        date=info.created_at.strftime("%Y-%m-%d"),
        threshold=info.threshold,
        quality_min=info.quality_min,
    )
    counts = (
        ngettext("{n} item", "{n} items", info.active_items)
        + ", "
        + ngettext("{n} withdrawn", "{n} withdrawn", info.withdrawn_items)
    )
    out.print(f"{summary}, {counts}")
    if info.case:
        out.print(_("Case: [bold]{case}[/]", case=shown(info.case)))
    else:
        out.print(
            _("Case: none (attach one with `rempart case attach CASE {bank}`)", bank=info.name)
        )
    if info.unknown_quality == "refuse":
        out.print(_("Imported PDQ hashes without a quality are refused."))
    else:
        out.print(_("Imported PDQ hashes without a quality are accepted."))
    if info.description:
        out.print(shown(info.description))
    table = Table(caption=_("Hashes are shortened here; `--json` gives them in full."))
    table.add_column(_("id"))
    table.add_column(_("PDQ"))
    table.add_column(_("quality"))
    table.add_column(_("label"), overflow="fold")
    table.add_column(_("status"))
    for i in items:
        status = _("withdrawn") if i.withdrawn_at else _("active")
        table.add_row(
            str(i.id),
            _short(i.pdq) if i.pdq else "—",
            str(i.quality if i.quality is not None else "—"),
            shown(i.label, _LABEL_WIDTH),
            status,
        )
    out.print(table)


@bank_app.command("delete")
def bank_delete(
    name: Annotated[str, typer.Argument(help="The bank.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a bank and all its items."""
    from rempart.intake import banks as bank_cases

    db = _open_db()
    with _reported():
        info = bank_cases.bank_info(db, name)
        count = info.active_items + info.withdrawn_items
        question = ngettext(
            "Delete bank {name} and its {n} item?",
            "Delete bank {name} and its {n} items?",
            count,
            name=name,
        )
        if not yes and not typer.confirm(question):
            raise typer.Exit(1)
        bank_cases.delete_bank(db, name)
    out.print(_("Deleted bank {name}.", name=shown(name)))


@bank_app.command("add")
def bank_add(
    name: Annotated[str, typer.Argument(help="The bank.")],
    files: Annotated[list[Path], typer.Argument(help="Image files or folders.")],
    label: Annotated[str, typer.Option(help="A label for these items (no names, please).")] = "",
    extras: Annotated[
        bool,
        typer.Option(
            help="Also store hashes of a few crops and grid cells of each image, of the "
            "image reduced to coarse grids, and its local features, so that cropped, rotated, "
            "framed, collaged and pixelated copies and copies under stickers or text are "
            "found too."
        ),
    ] = True,
    faces: Annotated[
        bool,
        typer.Option(
            help="Also store hashes of the faces found and of the image with faces blanked, "
            "to find deepfakes made from it (opt-in: derived data of the person)."
        ),
    ] = False,
    retro: Annotated[
        bool,
        typer.Option(
            help="Then look for the new items among the media scans already saw (their "
            "hashes are kept for a while), and re-check each one found."
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Hash images on this machine and add their hashes to a bank. The images are not stored.

    Extra hashes (crops, grid cells, faces) stay in this Rempart: `bank export` never
    includes them. The new items are then matched against what scans already saw
    (`rempart seen`), and each earlier sighting is fetched again before it becomes a finding.
    """
    from rempart.hashing import REGISTRATION_EXTRAS, Windows
    from rempart.intake import banks as bank_cases

    db = _open_db()
    paths = _expand(files)
    failed = added = 0
    wanted = Windows.NONE
    if extras:
        wanted |= REGISTRATION_EXTRAS
    if faces:
        wanted |= Windows.FACES
    with _reported():
        outcomes = list(
            bank_cases.add_images(
                db, name, _progress(paths, _("hashing"), as_json), label=label, extras=wanted
            )
        )
    for o in outcomes:
        if o.error:
            failed += 1
        elif not o.existing:
            added += 1
        if as_json:
            _emit(
                {"path": str(o.path), "error": str(o.error)}
                if o.error
                else {
                    "path": str(o.path),
                    "item": o.item_id,
                    "existing": o.existing,
                    "refreshed": o.refreshed,
                    "extra_hashes": o.extra_hashes,
                    "feature_points": o.feature_points,
                }
            )
        elif o.error:
            err.print(
                _FAILED
                + _("{path}: {reason}", path=shown(o.path), reason=shown(o.error.localized())),
                markup=True,
            )
        elif o.existing and o.refreshed:
            out.print(
                "= "
                + _(
                    "{path}: already in {bank} as item {item}; its extra hashes and local "
                    "features were brought up to date",
                    path=shown(o.path),
                    bank=shown(name),
                    item=o.item_id,
                )
            )
        elif o.existing:
            out.print(
                "= "
                + _(
                    "{path}: already in {bank} as item {item}",
                    path=shown(o.path),
                    bank=shown(name),
                    item=o.item_id,
                )
            )
        elif o.extra_hashes:
            more = ngettext(
                "{path}: item {item} (+{n} more hash: crops, cells, faces or frames)",
                "{path}: item {item} (+{n} more hashes: crops, cells, faces or frames)",
                o.extra_hashes,
                path=shown(o.path),
                item=o.item_id,
            )
            out.print(_ADDED + more)
        else:
            out.print(_ADDED + _("{path}: item {item}", path=shown(o.path), item=o.item_id))
    if not as_json:
        out.print(
            _(
                "{added} added, {existing} already there, {failed} failed.",
                added=added,
                existing=len(outcomes) - added - failed,
                failed=failed,
            )
        )
        refreshed = sum(1 for o in outcomes if o.refreshed)
        if refreshed:
            out.print(
                ngettext(
                    "{n} item registered before was brought up to date: it now finds the "
                    "copies this version finds.",
                    "{n} items registered before were brought up to date: they now find the "
                    "copies this version finds.",
                    refreshed,
                )
            )
    if retro:
        from rempart.cli.seen import match_registered

        new = [o.item_id for o in outcomes if o.item_id is not None and not o.existing]
        match_registered(db, new, as_json=as_json)
    raise typer.Exit(1 if failed else 0)


class FormatChoice(StrEnum):
    pdq = "pdq"
    csv = "csv"
    json = "json"
    pytx = "pytx"
    stopncii = "stopncii"
    hma = "hma"
    vpdq = "vpdq"


@bank_app.command("import")
def bank_import(
    name: Annotated[str, typer.Argument(help="The bank.")],
    list_file: Annotated[
        Path, typer.Argument(help="A hash list: pdq lines, CSV, JSON or JSON Lines.")
    ],
    fmt: Annotated[
        FormatChoice | None,
        typer.Option("--format", help="Default: from the extension, else from the content."),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Import nothing if any entry is invalid.")] = False,
    skip_unknown_columns: Annotated[
        bool,
        typer.Option(
            help="Leave out CSV columns and JSON keys Rempart does not know, instead of "
            "refusing the list."
        ),
    ] = False,
    retro: Annotated[
        bool,
        typer.Option(
            help="Then look for the new items among the media scans already saw, and "
            "re-check each one found."
        ),
    ] = True,
) -> None:
    """Import a hash list. Every entry is validated; each rejected one is reported by line.

    Reads what partners write: `pdq <64 hex>` lines (ThreatExchange; python-threatexchange's
    `dataset --print-signals`; `md5`, `sha256`, `video_md5`, `video_sha256` lines; the
    reference PDQ hasher's `hash,quality,filename`), CSV with a header (pdq, quality, md5,
    sha256, media, label; or hash and hash_type/signal_type columns, as in
    python-threatexchange's `dataset --csv`), JSON or JSON Lines (Rempart's objects,
    StopNCII-style signalType/hashValue records, HMA signal objects). A column Rempart does
    not know refuses the list unless --skip-unknown-columns; what is read but not kept (file
    names, a partner's metadata) is said. Valid entries land together in one transaction,
    or none do.
    """
    from rempart.intake import banks as bank_cases
    from rempart.intake.hashlists import ListFormat, parse_hash_list

    db = _open_db()
    from rempart.inputs import read_capped
    from rempart.intake.hashlists import MAX_LIST_BYTES

    try:
        raw = read_capped(list_file, MAX_LIST_BYTES)
    except OSError as exc:
        _fail(_("cannot read {path}: {reason}", path=safe(list_file), reason=exc.strerror))
    except RempartError as exc:
        _fail(exc)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(_("{path} is not UTF-8 text: is it really a hash list?", path=safe(list_file)))
    try:
        parsed = parse_hash_list(
            text,
            ListFormat(fmt.value) if fmt else None,
            filename=list_file.name,
            skip_unknown=skip_unknown_columns,
        )
    except HashListError as exc:
        _fail(_("{path}: {reason}", path=safe(list_file), reason=exc))
    where = shown(list_file)
    for problem in parsed.problems:
        reason = shown(problem.localized())
        err.print(
            _FAILED + _("{where}:{line}: {reason}", where=where, line=problem.line, reason=reason)
        )
    if strict and parsed.problems:
        _fail(
            ngettext(
                "{n} invalid entry; nothing imported (--strict)",
                "{n} invalid entries; nothing imported (--strict)",
                len(parsed.problems),
            )
        )
    with _reported():
        report = bank_cases.import_records(db, name, parsed.records)
    for line, refusal in report.rejected:
        why = shown(refusal.localized())
        err.print(_FAILED + _("{where}:{line}: {reason}", where=where, line=line, reason=why))
    rejected = len(parsed.problems) + len(report.rejected)
    for what, count in sorted(parsed.not_kept.items()):
        err.print(
            ngettext(
                "Not kept: {what} ({n} entry).", "Not kept: {what} ({n} entries).", count,
                what=_(what),
            )
        )  # fmt: skip
    if report.unknown_quality:
        err.print(
            ngettext(
                "{n} PDQ hash came without a quality: accepted, as {bank} accepts them "
                "(`rempart bank create --unknown-quality refuse` for a bank that refuses them).",
                "{n} PDQ hashes came without a quality: accepted, as {bank} accepts them "
                "(`rempart bank create --unknown-quality refuse` for a bank that refuses them).",
                report.unknown_quality,
                bank=shown(name),
            )
        )
    out.print(
        _(
            "{added} imported, {existing} already in {bank}, {rejected} rejected.",
            added=len(report.added),
            existing=len(report.already_in_bank),
            bank=shown(name),
            rejected=rejected,
        )
    )
    if retro:
        from rempart.cli.seen import match_registered

        match_registered(db, report.added, as_json=False)
    raise typer.Exit(1 if rejected else 0)


@bank_app.command("export")
def bank_export(
    name: Annotated[str, typer.Argument(help="The bank.")],
    fmt: Annotated[
        FormatChoice,
        typer.Option(
            "--format",
            help="pdq lines (Rempart, ThreatExchange), csv, json, pytx "
            "(python-threatexchange's signal files), stopncii (signalType/hashValue "
            "records), hma (HMA signal objects, one per line) or vpdq (each video's frame "
            "hashes, one file a video, in the folder given by -o).",
        ),
    ] = FormatChoice.pdq,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export a bank's active items as a hash list. Withdrawn items are never exported.

    Items a format cannot carry (python-threatexchange, StopNCII and HMA have no signal type
    for a picture known only by its MD5 or SHA-256) are listed and the exit status is 1:
    export those with `--format csv` or `json`, which carry everything.
    """
    from rempart.intake import banks as bank_cases
    from rempart.intake.hashlists import ListFormat

    if fmt is FormatChoice.vpdq:
        _export_vpdq(name, output)
        return
    with _reported():
        written = bank_cases.export_bank(_open_db(), name, ListFormat(fmt.value))
    if output is None:
        sys.stdout.write(written.text)
    else:
        from rempart.private import write_private

        write_private(output, written.text.encode("utf-8"))
        err.print(_("Wrote {path}.", path=shown(output)))
    for item_id, why in written.left_out:
        err.print(_FAILED + _("item {item} left out: {reason}", item=item_id, reason=why))
    if written.left_out:
        err.print(
            ngettext(
                "{n} item left out: export it with --format csv or json.",
                "{n} items left out: export them with --format csv or json.",
                len(written.left_out),
            )
        )
        raise typer.Exit(1)


def _export_vpdq(name: str, folder: Path | None) -> None:
    """Each video item of the bank as a vPDQ file in `folder`."""
    from rempart.intake import banks as bank_cases

    if folder is None:
        _fail(_("a vPDQ file holds one video: give a folder with -o, one file a video goes there"))
    with _reported():
        videos = bank_cases.export_videos(_open_db(), name)
    if not videos:
        _fail(_("{bank} holds no video.", bank=shown(name)))
    folder.mkdir(parents=True, exist_ok=True)
    for item_id, text in videos:
        (folder / f"{name}-item-{item_id}.vpdq").write_text(text, encoding="utf-8")
    err.print(
        ngettext(
            "Wrote {n} vPDQ file in {path}.", "Wrote {n} vPDQ files in {path}.", len(videos),
            path=shown(folder),
        )
    )  # fmt: skip


@bank_app.command("withdraw")
def bank_withdraw(
    name: Annotated[str, typer.Argument(help="The bank.")],
    item_id: Annotated[int, typer.Argument(help="The item's number (see `rempart bank show`).")],
) -> None:
    """Withdraw an item (the victim's choice). From now on it matches nothing."""
    from rempart.intake import banks as bank_cases

    with _reported():
        bank_cases.withdraw_item(_open_db(), name, item_id)
    out.print(
        _(
            "Item {item} of {bank} is withdrawn: it no longer matches.",
            item=item_id,
            bank=shown(name),
        )
    )


@bank_app.command("restore")
def bank_restore(
    name: Annotated[str, typer.Argument(help="The bank.")],
    item_id: Annotated[int, typer.Argument(help="The item's number (see `rempart bank show`).")],
) -> None:
    """Restore a withdrawn item."""
    from rempart.intake import banks as bank_cases

    with _reported():
        bank_cases.restore_item(_open_db(), name, item_id)
    out.print(_("Item {item} of {bank} is active again.", item=item_id, bank=shown(name)))


# --------------------------------------------------------------------------------------- match


@app.command("match")
def match_command(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Image files or folders to check.")
    ] = None,
    hashes: Annotated[
        Path | None,
        typer.Option("--hashes", help="Match PDQ hashes from this file (one per line) instead."),
    ] = None,
    bank: Annotated[
        list[str] | None, typer.Option("--bank", help="Only this bank (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Check images (or hashes) against the banks.

    Each image is hashed with its 8 rotations and flips, so mirrored and rotated copies match
    too; its SHA-256 and MD5 match exact copies. A match in an `allow` bank cancels the others.
    """
    from rempart.matching.service import Matcher

    if (files is None) == (hashes is None):
        _fail(_("give image files, or --hashes FILE, but not both"))
    matcher = Matcher(_open_db())
    if hashes is not None:
        failed = _match_hash_file(matcher, hashes, bank, as_json)
    else:
        failed = _match_files(matcher, _expand(files or []), bank, as_json)
    raise typer.Exit(1 if failed else 0)


def _match_files(
    matcher: Matcher, paths: list[Path], banks: list[str] | None, as_json: bool
) -> int:
    from rempart.hashing import hash_many
    from rempart.hashing.video import hash_video_file
    from rempart.intake.banks import is_video_file
    from rempart.matching.service import Query

    failed = 0
    batch: list[tuple[Path, Query, str, int | None]] = []

    def flush() -> None:
        with _reported():
            results = matcher.match([entry[1] for entry in batch], banks=banks)
        for (path, _query, pdq, quality), result in zip(batch, results, strict=True):
            _render_match(str(path), "path", result, as_json, pdq, quality)
        batch.clear()

    def report(path: Path, error: ImageDecodeError) -> None:
        nonlocal failed
        failed += 1
        if as_json:
            _emit({"path": str(path), "error": str(error)})
        else:
            err.print(
                _FAILED + _("{path}: {reason}", path=shown(path), reason=shown(error.localized())),
                markup=True,
            )

    wanted = matcher.query_windows()
    for path in _progress(paths, _("matching"), as_json):
        if is_video_file(path):
            try:
                video = hash_video_file(path)
            except ImageDecodeError as error:
                report(path, error)
                continue
            batch.append((path, Query.from_video(video), "", None))
        else:
            for _path, hashed in hash_many([path], dihedral=True, windows=wanted):
                if isinstance(hashed, ImageDecodeError):
                    report(path, hashed)
                else:
                    query = Query.from_image(hashed)
                    batch.append((path, query, hashed.pdq.hash.hex, hashed.pdq.quality))
        if len(batch) >= 256:
            flush()
    if batch:
        flush()
    return failed


def _corroboration(detail: tuple[tuple[str, object], ...]) -> int | None:
    """The agreeing points of the local features that corroborated a PDQ match, if any."""
    points = dict(detail).get("corroborated_inliers")
    return points if isinstance(points, int) else None


def _match_hash_file(matcher: Matcher, path: Path, banks: list[str] | None, as_json: bool) -> int:
    from rempart.hashing.signals import PdqHash
    from rempart.inputs import read_text_capped
    from rempart.intake.hashlists import MAX_LIST_BYTES, ListFormat, parse_hash_list
    from rempart.matching.service import Query

    try:
        text = read_text_capped(path, MAX_LIST_BYTES)
    except (OSError, UnicodeDecodeError) as exc:
        _fail(_("cannot read {path} as UTF-8 text: {reason}", path=safe(path), reason=exc))
    except RempartError as exc:
        _fail(exc)
    try:
        parsed = parse_hash_list(text, ListFormat.PDQ)
    except HashListError as exc:
        _fail(exc)
    queries: list[tuple[PdqHash, Query]] = []
    for problem in parsed.problems:
        if as_json:
            _emit({"line": problem.line, "error": problem.reason})
        else:
            reason = shown(problem.localized())
            err.print(
                _FAILED
                + _("{where}:{line}: {reason}", where=shown(path), line=problem.line, reason=reason)
            )
    for record in parsed.records:
        if record.pdq is None:
            continue
        queries.append((record.pdq, Query.from_hash(record.pdq, record.quality)))
    with _reported():
        results = matcher.match([q for _pdq, q in queries], banks=banks)
    for (pdq, _query), result in zip(queries, results, strict=True):
        _render_match(pdq.hex, "hash", result, as_json, pdq.hex, None)
    return len(parsed.problems)


def _render_match(
    subject: str, key: str, result: QueryResult, as_json: bool, pdq: str, quality: int | None
) -> None:
    if as_json:
        obj: dict[str, object] = {key: subject}
        if key == "path" and pdq:
            obj["pdq"], obj["quality"] = pdq, quality
        obj["matches"] = [m.to_json() for m in result.matches]
        if result.suppressed:
            obj["suppressed"] = [m.to_json() for m in result.suppressed]
            obj["allowed_by"] = [m.to_json() for m in result.allowed_by]
        if result.below_quality_gate:
            obj["below_quality_gate"] = list(result.below_quality_gate)
        _emit(obj)
        return
    from rempart.matching.wording import describe_match

    what = shown(subject)
    if result.matches:
        for m in result.matches:
            parts = [
                describe_match(
                    m.method,
                    m.distance,
                    m.threshold,
                    window=m.window,
                    variant=m.variant.value if m.variant is not None else None,
                    reference=m.reference,
                    corroborated=_corroboration(m.detail),
                )
            ]
            for side, ranges in m.detail:
                if side.endswith("_ranges") and isinstance(ranges, list):
                    spans = ", ".join(f"{a:g}–{b:g} s" for a, b in ranges)
                    if side == "query_ranges":
                        parts.append(_("here at {spans}", spans=spans))
                    else:
                        parts.append(_("in the registered video at {spans}", spans=spans))
            how = ", ".join(parts)
            if m.label:
                line = _(
                    "[bold red]MATCH[/] {subject} → {bank} item {item} ({label}): {how}",
                    subject=what,
                    bank=shown(m.bank),
                    item=m.item,
                    label=shown(m.label),
                    how=escape(how),
                )
            else:
                line = _(
                    "[bold red]MATCH[/] {subject} → {bank} item {item}: {how}",
                    subject=what,
                    bank=shown(m.bank),
                    item=m.item,
                    how=escape(how),
                )
            out.print(line)
    elif result.suppressed:
        allow = result.allowed_by[0]
        out.print(
            _(
                "[yellow]allowed[/] {subject}: matches allow bank {bank} item {item}",
                subject=what,
                bank=shown(allow.bank),
                item=allow.item,
            )
        )
    elif result.below_quality_gate:
        out.print(
            _(
                "[yellow]low quality[/] {subject}: quality {quality} is below the gate of "
                "{banks}; not matched",
                subject=what,
                quality=quality,
                banks=shown(", ".join(result.below_quality_gate)),
            )
        )
    else:
        out.print(_("[green]no match[/] {subject}", subject=what))


# ---------------------------------------------------------------------------------------- demo


@app.command("demo")
def demo_command(
    keep: Annotated[
        bool, typer.Option(help="Keep the demo's data folder and print where it is.")
    ] = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then keep the web app running on the demo's data, with a demo account whose "
            "password is printed (Ctrl-C stops it).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(help="With --serve: the port on 127.0.0.1 (0: any free one).", min=0)
    ] = 8000,
) -> None:
    """Run a short demonstration on neutral generated images, in a temporary data folder.

    Registers a few images as a victim's protected items, matches altered copies (resized,
    recompressed, mirrored, rotated, cropped) among unrelated images, then withdraws one item
    and shows it no longer matches.
    """
    from rempart.demo import run_demo

    if not serve:
        with _reported():
            ok = run_demo(out, keep=keep)
        raise typer.Exit(0 if ok else 1)
    import shutil
    import tempfile

    from rempart.cli.serve import serve_demo

    home = Path(tempfile.mkdtemp(prefix="rempart-demo-"))
    try:
        with _reported():
            ok = run_demo(out, home=home)
            if ok:
                serve_demo(home, port=port)
    finally:
        if keep:
            out.print(_("The demo's data folder is kept: {home}", home=str(home)), markup=False)
        else:
            shutil.rmtree(home, ignore_errors=True)
    raise typer.Exit(0 if ok else 1)


# Commands defined in their own modules (rempart.cli.lazy.COMMAND_MODULES) register themselves
# on `app` when imported; the root group imports one only when its command runs.
