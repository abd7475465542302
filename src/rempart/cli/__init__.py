"""The `rempart` command line. Thin: parse arguments, call one use case, render the result.

Human output (Rich tables, progress bars) by default; `--json` prints one object per line.
Exit status: 0 all good, 1 some inputs failed (each one reported), 2 the command itself failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from rempart import __version__
from rempart.cli.localize import LocalizedGroup
from rempart.config import Settings
from rempart.errors import HashListError, ImageDecodeError, RempartError
from rempart.evidence.vault import Vault
from rempart.hashing import ImageHashes, Windows, hash_many
from rempart.hashing.signals import Dihedral, PdqHash
from rempart.hashing.video import hash_video_file
from rempart.i18n import _
from rempart.intake import banks as bank_cases
from rempart.intake.hashlists import ListFormat, parse_hash_list
from rempart.matching.service import Matcher, Query, QueryResult
from rempart.store.database import Database
from rempart.store.models import BankKind

__all__ = ["app"]

app = typer.Typer(
    name="rempart",
    cls=LocalizedGroup,
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
_IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic",
    ".heif", ".avif", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi",
}  # fmt: skip


def _fail(message: str | RempartError) -> NoReturn:
    """Print an error (a translated message, or a Rempart error in the current language)."""
    text = message.localized() if isinstance(message, RempartError) else message
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
    with _reported():
        return Database.open(Settings.from_env().database_url)


def _open_vault() -> Vault:
    """The evidence vault in $REMPART_HOME (encrypted at rest)."""
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
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(f"rempart {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Rempart: hashes, not images."""


# ---------------------------------------------------------------------------------------- hash


@app.command("hash")
def hash_command(
    files: Annotated[list[Path], typer.Argument(help="Image files or folders of images.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    dihedral: Annotated[
        bool, typer.Option("--dihedral", help="Also print the 8 rotation/flip variants.")
    ] = False,
) -> None:
    """Compute the PDQ hash (with its quality), SHA-256 and MD5 of each image.

    The PDQ hash is written as python-threatexchange and Meta's reference write it, so any
    PDQ-compatible platform can match against it. Quality below 50 is not trusted for matching.

    Example: `rempart hash --json photos/`
    """
    paths = _expand(files)
    failed = 0
    table = Table("file", "PDQ", "quality", "SHA-256", title="Hashes")
    for path, result in hash_many(_progress(paths, "hashing", as_json), dihedral=dihedral):
        if isinstance(result, ImageDecodeError):
            failed += 1
            if as_json:
                _emit({"path": str(path), "error": str(result)})
            else:
                table.add_row(Text(str(path)), Text(f"error: {result}", style="red"), "", "")
            continue
        if as_json:
            _emit(_hash_json(path, result))
        else:
            quality = str(result.pdq.quality)
            if result.pdq.quality < 50:
                quality = f"[yellow]{quality} (low)[/]"
            table.add_row(
                Text(str(path)), result.pdq.hash.hex, quality, result.digest.sha256[:16] + "…"
            )
    if not as_json:
        out.print(table)
        if failed:
            err.print(f"{failed} of {len(paths)} files could not be hashed.")
    raise typer.Exit(1 if failed else 0)


def _hash_json(path: Path, h: ImageHashes) -> dict[str, object]:
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
    if h.variants:
        obj["variants"] = {d.value: v.hash.hex for d, v in zip(Dihedral, h.variants, strict=True)}
    return obj


# --------------------------------------------------------------------------------------- banks


class KindChoice(StrEnum):
    protect = "protect"
    allow = "allow"


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
    description: Annotated[str, typer.Option(help="A note for caseworkers.")] = "",
    case: Annotated[
        str | None,
        typer.Option(help="The case (pseudonym) whose images this bank protects."),
    ] = None,
) -> None:
    """Create a bank. Example: `rempart bank create case-0142-images --case case-0142`."""
    with _reported():
        info = bank_cases.create_bank(
            _open_db(),
            name,
            kind=BankKind(kind.value),
            threshold=threshold,
            quality_min=quality_min,
            description=description,
            case=case,
        )
    out.print(
        f"Created {info.kind.value} bank [bold]{info.name}[/] "
        f"(threshold {info.threshold}, quality gate {info.quality_min})."
    )


@bank_app.command("list")
def bank_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List banks with their settings and item counts."""
    infos = bank_cases.list_banks(_open_db())
    if as_json:
        for i in infos:
            _emit(_bank_json(i))
        return
    if not infos:
        out.print("No banks yet. Create one with `rempart bank create NAME`.")
        return
    table = Table(
        "name", "kind", "case", "threshold", "quality gate", "items", "withdrawn", "created"
    )
    for i in infos:
        table.add_row(
            i.name,
            escape(i.case or ""),
            i.kind.value,
            str(i.threshold),
            str(i.quality_min),
            str(i.active_items),
            str(i.withdrawn_items),
            i.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


def _bank_json(i: bank_cases.BankInfo) -> dict[str, object]:
    return {
        "name": i.name,
        "kind": i.kind.value,
        "threshold": i.threshold,
        "quality_min": i.quality_min,
        "description": i.description,
        "created_at": i.created_at.isoformat(),
        "items": i.active_items,
        "withdrawn": i.withdrawn_items,
        "case": i.case,
    }


@bank_app.command("show")
def bank_show(
    name: str,
    withdrawn: Annotated[bool, typer.Option(help="Include withdrawn items.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Show a bank's settings and its items (hashes and labels, never images)."""
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
                "label": i.label,
                "withdrawn_at": i.withdrawn_at.isoformat() if i.withdrawn_at else None,
            }
            for i in items
        ]
        _emit(obj)
        return
    out.print(
        f"[bold]{info.name}[/] — {info.kind.value} bank, threshold {info.threshold}, "
        f"quality gate {info.quality_min}, {info.active_items} items, "
        f"{info.withdrawn_items} withdrawn"
    )
    if info.description:
        out.print(info.description, markup=False)
    table = Table("id", "PDQ", "quality", "label", "status")
    for i in items:
        status = "withdrawn" if i.withdrawn_at else "active"
        table.add_row(str(i.id), i.pdq or "—", str(i.quality or "—"), Text(i.label), status)
    out.print(table)


@bank_app.command("delete")
def bank_delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a bank and all its items."""
    db = _open_db()
    with _reported():
        info = bank_cases.bank_info(db, name)
        if not yes and not typer.confirm(
            f"Delete bank {name} and its {info.active_items + info.withdrawn_items} items?"
        ):
            raise typer.Exit(1)
        bank_cases.delete_bank(db, name)
    out.print(f"Deleted bank {name}.")


@bank_app.command("add")
def bank_add(
    name: str,
    files: Annotated[list[Path], typer.Argument(help="Image files or folders.")],
    label: Annotated[str, typer.Option(help="A label for these items (no names, please).")] = "",
    extras: Annotated[
        bool,
        typer.Option(
            help="Also store hashes of a few crops and grid cells of each image, so that "
            "cropped copies and copies under stickers or text are found too."
        ),
    ] = True,
    faces: Annotated[
        bool,
        typer.Option(
            help="Also store hashes of the faces found and of the image with faces blanked, "
            "to find deepfakes made from it (opt-in: derived data of the person)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Hash images on this machine and add their hashes to a bank. The images are not stored.

    Extra hashes (crops, grid cells, faces) stay in this Rempart: `bank export` never
    includes them.
    """
    db = _open_db()
    paths = _expand(files)
    failed = added = 0
    wanted = Windows.NONE
    if extras:
        wanted |= Windows.CROPS | Windows.GRID
    if faces:
        wanted |= Windows.FACES
    with _reported():
        outcomes = list(
            bank_cases.add_images(
                db, name, _progress(paths, "hashing", as_json), label=label, extras=wanted
            )
        )
    for o in outcomes:
        if o.error:
            failed += 1
        elif not o.existing:
            added += 1
        if as_json:
            _emit(
                {"path": str(o.path), "error": o.error}
                if o.error
                else {
                    "path": str(o.path),
                    "item": o.item_id,
                    "existing": o.existing,
                    "extra_hashes": o.extra_hashes,
                }
            )
        elif o.error:
            err.print(f"[red]✗[/] {escape(str(o.path))}: {escape(o.error)}", markup=True)
        elif o.existing:
            out.print(f"= {escape(str(o.path))}: already in {name} as item {o.item_id}")
        else:
            more = (
                f" (+{o.extra_hashes} more hashes: crops, cells, faces or frames)"
                if o.extra_hashes
                else ""
            )
            out.print(f"[green]✓[/] {escape(str(o.path))}: item {o.item_id}{more}")
    if not as_json:
        out.print(
            f"{added} added, {len(outcomes) - added - failed} already there, {failed} failed."
        )
    raise typer.Exit(1 if failed else 0)


class FormatChoice(StrEnum):
    pdq = "pdq"
    csv = "csv"
    json = "json"


@bank_app.command("import")
def bank_import(
    name: str,
    list_file: Annotated[Path, typer.Argument(help="A hash list: pdq lines, CSV or JSON.")],
    fmt: Annotated[
        FormatChoice | None,
        typer.Option("--format", help="Default: from the extension, else from the content."),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Import nothing if any entry is invalid.")] = False,
) -> None:
    """Import a hash list. Every entry is validated; each rejected one is reported by line.

    Formats: `pdq <64 hex>` per line (ThreatExchange style; `md5 <hex>` and `sha256 <hex>`
    too), CSV with a header (pdq, quality, md5, sha256, label), or JSON (a list of objects
    with those keys). Valid entries land together in one transaction, or none do.
    """
    db = _open_db()
    try:
        raw = list_file.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {list_file}: {exc.strerror}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(f"{list_file} is not UTF-8 text: is it really a hash list?")
    try:
        parsed = parse_hash_list(
            text, ListFormat(fmt.value) if fmt else None, filename=list_file.name
        )
    except HashListError as exc:
        _fail(f"{list_file}: {exc}")
    for problem in parsed.problems:
        err.print(
            f"[red]✗[/] {escape(str(list_file))}:{problem.line}: {escape(problem.reason)}",
            markup=True,
        )
    if strict and parsed.problems:
        _fail(f"{len(parsed.problems)} invalid entries; nothing imported (--strict)")
    with _reported():
        report = bank_cases.import_records(db, name, parsed.records)
    for line, reason in report.rejected:
        err.print(f"[red]✗[/] {escape(str(list_file))}:{line}: {escape(reason)}", markup=True)
    rejected = len(parsed.problems) + len(report.rejected)
    out.print(
        f"{len(report.added)} imported, {len(report.already_in_bank)} already in {name}, "
        f"{rejected} rejected."
    )
    raise typer.Exit(1 if rejected else 0)


@bank_app.command("export")
def bank_export(
    name: str,
    fmt: Annotated[FormatChoice, typer.Option("--format", help="pdq lines, CSV or JSON.")] = (
        FormatChoice.pdq
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export a bank's active items as a hash list. Withdrawn items are never exported."""
    with _reported():
        text = bank_cases.export_bank(_open_db(), name, ListFormat(fmt.value))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}.")


@bank_app.command("withdraw")
def bank_withdraw(name: str, item_id: int) -> None:
    """Withdraw an item (the victim's choice). From now on it matches nothing."""
    with _reported():
        bank_cases.withdraw_item(_open_db(), name, item_id)
    out.print(f"Item {item_id} of {name} is withdrawn: it no longer matches.")


@bank_app.command("restore")
def bank_restore(name: str, item_id: int) -> None:
    """Restore a withdrawn item."""
    with _reported():
        bank_cases.restore_item(_open_db(), name, item_id)
    out.print(f"Item {item_id} of {name} is active again.")


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
    if (files is None) == (hashes is None):
        _fail("give image files, or --hashes FILE, but not both")
    matcher = Matcher(_open_db())
    if hashes is not None:
        failed = _match_hash_file(matcher, hashes, bank, as_json)
    else:
        failed = _match_files(matcher, _expand(files or []), bank, as_json)
    raise typer.Exit(1 if failed else 0)


def _match_files(
    matcher: Matcher, paths: list[Path], banks: list[str] | None, as_json: bool
) -> int:
    failed = 0
    batch: list[tuple[Path, Query, str, int | None]] = []

    def flush() -> None:
        with _reported():
            results = matcher.match([q for _, q, _, _ in batch], banks=banks)
        for (path, _, pdq, quality), result in zip(batch, results, strict=True):
            _render_match(str(path), "path", result, as_json, pdq, quality)
        batch.clear()

    def report(path: Path, error: ImageDecodeError) -> None:
        nonlocal failed
        failed += 1
        if as_json:
            _emit({"path": str(path), "error": str(error)})
        else:
            err.print(f"[red]✗[/] {escape(str(path))}: {escape(str(error))}", markup=True)

    wanted = matcher.query_windows()
    for path in _progress(paths, "matching", as_json):
        if bank_cases.is_video_file(path):
            try:
                video = hash_video_file(path)
            except ImageDecodeError as error:
                report(path, error)
                continue
            batch.append((path, Query.from_video(video), "", None))
        else:
            for _, hashed in hash_many([path], dihedral=True, windows=wanted):
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


def _match_hash_file(matcher: Matcher, path: Path, banks: list[str] | None, as_json: bool) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path} as UTF-8 text: {exc}")
    try:
        parsed = parse_hash_list(text, ListFormat.PDQ)
    except HashListError as exc:
        _fail(str(exc))
    queries: list[tuple[PdqHash, Query]] = []
    for problem in parsed.problems:
        if as_json:
            _emit({"line": problem.line, "error": problem.reason})
        else:
            err.print(
                f"[red]✗[/] {escape(str(path))}:{problem.line}: {escape(problem.reason)}",
                markup=True,
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
    if result.matches:
        for m in result.matches:
            how = f"{m.method} distance {m.distance}" if m.method == "pdq" else f"same {m.method}"
            if m.variant is not None and m.variant.value != "original":
                how += f", {m.variant.value}"
            if m.window == "frame" or m.reference == "frame":
                how += ", video frames"
            elif m.window is not None and m.window != "whole":
                how += f", {m.window} window"
            if m.reference is not None and m.reference not in ("whole", "frame", m.window):
                ref = f"{m.reference} {m.reference_label}".strip()
                how += f", against its registered {ref}"
            for side, ranges in m.detail:
                if side.endswith("_ranges") and isinstance(ranges, list):
                    spans = ", ".join(f"{a:g}–{b:g} s" for a, b in ranges)
                    where = "here" if side == "query_ranges" else "in the registered video"
                    how += f", {where} at {spans}"
            label = f" ({m.label})" if m.label else ""
            out.print(
                f"[bold red]MATCH[/] {escape(subject)} → {m.bank} item {m.item}"
                f"{escape(label)}: {how}"
            )
    elif result.suppressed:
        allow = result.allowed_by[0]
        out.print(
            f"[yellow]allowed[/] {escape(subject)}: "
            f"matches allow bank {allow.bank} item {allow.item}"
        )
    elif result.below_quality_gate:
        out.print(
            f"[yellow]low quality[/] {escape(subject)}: quality {quality} is below the gate of "
            f"{', '.join(result.below_quality_gate)}; not matched"
        )
    else:
        out.print(f"[green]no match[/] {escape(subject)}")


# ---------------------------------------------------------------------------------------- demo


@app.command("demo")
def demo_command(
    keep: Annotated[
        bool, typer.Option(help="Keep the demo's data folder and print where it is.")
    ] = False,
) -> None:
    """Run a short demonstration on neutral generated images, in a temporary data folder.

    Registers a few images as a victim's protected items, matches altered copies (resized,
    recompressed, mirrored, rotated, cropped) among unrelated images, then withdraws one item
    and shows it no longer matches.
    """
    from rempart.demo import run_demo

    with _reported():
        ok = run_demo(out, keep=keep)
    raise typer.Exit(0 if ok else 1)


# Commands defined in their own modules register themselves on `app` when imported.
from rempart.cli import cases as _cases  # noqa: E402, F401
from rempart.cli import config as _config  # noqa: E402, F401
from rempart.cli import evidence as _evidence  # noqa: E402, F401
from rempart.cli import notify as _notify  # noqa: E402, F401
from rempart.cli import review as _review  # noqa: E402, F401
from rempart.cli import watch as _watch  # noqa: E402, F401
