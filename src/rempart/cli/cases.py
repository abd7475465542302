"""`rempart case …`: open a case under a pseudonym, mark a minor's case, attach banks.

Thin: parse, call rempart.intake.cases, render. Registered on the main app by rempart.cli.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from rempart.cli import _emit, _open_db, _reported, app, out
from rempart.cli.text import safe, shown
from rempart.i18n import _

case_app = typer.Typer(
    help=(
        "Cases group one victim's banks under a pseudonym (never her name). A case marked "
        "`--minor` keeps no media at all (references and digests only) and its findings go to "
        "child-protection channels, never to an ordinary notice."
    ),
    no_args_is_help=True,
)
app.add_typer(case_app, name="case")


@case_app.command("create")
def case_create(
    name: Annotated[str, typer.Argument(help="A pseudonym: letters, digits, '-', '_' or '.'.")],
    minor: Annotated[
        bool, typer.Option("--minor", help="A minor is involved: no media is ever stored.")
    ] = False,
    description: Annotated[str, typer.Option(help="A note for caseworkers.")] = "",
) -> None:
    """Open a case. Example: `rempart case create case-0142`, then
    `rempart bank create case-0142-images --case case-0142`."""
    from rempart.intake import cases

    with _reported():
        info = cases.create_case(_open_db(), name, minor=minor, description=description)
    out.print(_("Opened case [bold]{name}[/].", name=shown(info.name)))
    if info.minor:
        out.print(_("[bold]Minor involved:[/] no media will be stored."))


@case_app.command("attach")
def case_attach(
    name: Annotated[str, typer.Argument(help="The case.")],
    bank: Annotated[str, typer.Argument(help="A bank holding this victim's items.")],
) -> None:
    """Put an existing bank under a case."""
    from rempart.intake import cases

    with _reported():
        info = cases.attach_bank(_open_db(), name, bank)
    out.print(
        _(
            "Bank {bank} now belongs to case [bold]{name}[/].",
            bank=shown(bank),
            name=shown(info.name),
        )
    )


@case_app.command("list")
def case_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List cases with their banks and findings."""
    from rempart.intake import cases

    with _reported():
        infos = cases.list_cases(_open_db())
    if as_json:
        for info in infos:
            _emit(info.to_json())
        return
    if not infos:
        out.print(_("No cases yet. Open one with `rempart case create PSEUDONYM`."))
        return
    table = Table()
    table.add_column(_("case"), overflow="fold")
    table.add_column(_("minor"))
    table.add_column(_("banks"), overflow="fold")
    for header in (_("findings"), _("confirmed"), _("opened")):
        table.add_column(header)
    for info in infos:
        table.add_row(
            shown(info.name, 30),
            _("yes") if info.minor else "",
            shown(", ".join(info.banks), 30),
            str(info.findings),
            str(info.confirmed),
            info.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)


@case_app.command("show")
def case_show(
    name: Annotated[str, typer.Argument(help="The case.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Show one case."""
    from rempart.intake import cases

    with _reported():
        info = cases.case_info(_open_db(), name)
    if as_json:
        _emit(info.to_json())
        return
    if info.minor:
        out.print(_("[bold]{name}[/]  (minor involved)", name=shown(info.name)))
    else:
        out.print(Text(safe(info.name), style="bold"))
    if info.description:
        out.print(shown(info.description))
    if info.banks:
        out.print(_("banks: {banks}", banks=shown(", ".join(info.banks))))
    else:
        out.print(_("banks: none yet"))
    out.print(
        _(
            "findings: {findings} ({confirmed} confirmed)",
            findings=info.findings,
            confirmed=info.confirmed,
        )
    )
