"""`rempart vault …`: the evidence vault's key (rotation). Thin: parse, call, print."""

from __future__ import annotations

from typing import Annotated

import typer

from rempart.cli import _open_db, _open_vault, _reported, app, out
from rempart.i18n import _

vault_app = typer.Typer(help="The evidence vault's encryption key.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")


@vault_app.command("rotate")
def vault_rotate(
    keep_old: Annotated[
        bool, typer.Option(help="Keep the retired key file (keys/vault-retired/).")
    ] = False,
) -> None:
    """Make a new vault key: every object and sealed secret is re-wrapped under it, then the
    old key is deleted (unless --keep-old). Safe to run again after an interruption."""
    from rempart.jobs.watchlist import reseal_secrets

    with _reported():
        old = _open_vault()
        vault = old.rotate()
        secrets = reseal_secrets(_open_db(), vault)
        vault.rewrap()  # objects written meanwhile by another process
        forgotten = [] if keep_old else vault.forget_retired()
    out.print(
        _(
            "[green]✓[/] Vault key {old} retired; key {new} now seals every object "
            "({secrets} sealed secrets re-wrapped).",
            old=old.key_id,
            new=vault.key_id,
            secrets=secrets,
        )
    )
    if forgotten:
        out.print(_("Retired keys deleted: {ids}.", ids=", ".join(forgotten)))
