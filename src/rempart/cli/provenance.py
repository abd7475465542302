"""`rempart provenance FILE…`: what each file says about its origin, and the verdict.

Thin: read each file (capped), call rempart.provenance.read_provenance, render. Registered
on the main app by rempart.cli. Text read from files is hostile: it goes through `safe`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from rempart.cli import _FAILED, _emit, _expand, app, err, out
from rempart.cli.text import safe, safe_lines
from rempart.errors import RempartError
from rempart.i18n import N_, _

if TYPE_CHECKING:
    from rempart.provenance import Provenance

__all__ = ["provenance_command"]

_VERDICTS = {
    "ai-declared": N_("AI-declared"),
    "ai-suspected": N_("AI-suspected"),
    "edited": N_("edited"),
    "camera": N_("camera"),
    "no-signal": N_("no signal"),
}
_STYLE = {"ai-declared": "red", "ai-suspected": "yellow", "edited": "cyan", "camera": "green"}


def _render(path: Path, result: Provenance) -> None:
    verdict = result.verdict.value
    style = _STYLE.get(verdict, "white")
    out.print(
        _(
            "{path}: [{style}]{verdict}[/]",
            path=escape(safe(path)),
            style=style,
            verdict=_(_VERDICTS[verdict]),
        )
    )
    if result.declared_by:
        who = ", ".join(safe(by) for by in result.declared_by)
        out.print(_("  declared by: {who}", who=escape(who)))
    for reason in result.reasons:
        out.print(_("  because: {reason}", reason=escape(safe_lines(reason.localized()))))
    others = [s for s in result.signals if s.description not in result.reasons]
    for signal in others:
        out.print(
            _(
                "  also: {description}",
                description=escape(safe_lines(signal.description.localized())),
            )
        )


@app.command("provenance")
def provenance_command(
    files: Annotated[
        list[Path], typer.Argument(help="Files (or folders of pictures and videos) to read.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    watermark: Annotated[
        bool, typer.Option(help="Look for the open Stable Diffusion XL invisible watermark.")
    ] = True,
) -> None:
    """Say what each file declares about its origin: AI-declared (by whom), AI-suspected,
    edited, camera, or no signal, with the reasons.

    Reads C2PA Content Credentials offline, IPTC/XMP source types, generator metadata of local
    pipelines (AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI, Fooocus, SwarmUI), EXIF software and
    camera. A missing signal proves nothing: Rempart never calls a picture authentic.
    """
    from rempart.inputs import read_capped
    from rempart.provenance import MAX_BYTES, read_provenance

    failed = 0
    for path in _expand(files):
        try:
            data = read_capped(path, MAX_BYTES)
        except (OSError, RempartError) as exc:
            failed += 1
            why = exc.localized() if isinstance(exc, RempartError) else exc.strerror or str(exc)
            if as_json:
                _emit({"path": str(path), "error": str(exc)})
            else:
                err.print(
                    _FAILED
                    + _(
                        "{path}: could not read the file: {why}",
                        path=escape(safe(path)),
                        why=escape(safe_lines(why)),
                    )
                )
            continue
        result = read_provenance(data, watermark=watermark)
        if as_json:
            _emit({"path": str(path), **result.to_json()})
        else:
            _render(path, result)
    raise typer.Exit(1 if failed else 0)
