"""`rempart user …` and `rempart token …`: the accounts of the web app and the API tokens.

Thin: parse, call rempart.accounts, render. A password or token is printed once, on stdout,
and never again. Registered on the main app by rempart.cli.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from rempart.cli import _emit, _fail, _open_db, _reported, app, out
from rempart.cli.text import shown
from rempart.config import Settings
from rempart.i18n import _

user_app = typer.Typer(
    help=(
        "Accounts of the web app (`rempart serve`). Roles: `admin` (everything; signs in with "
        "a second factor), `caseworker` and `reviewer` (the cases they are assigned), "
        "`auditor` (every case, read only)."
    ),
    no_args_is_help=True,
)
token_app = typer.Typer(
    help=(
        "API tokens for platforms and partners (`POST /api/v1/match`, `/m/lookup`). A token is "
        "printed once; only its digest is kept."
    ),
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

CaseOption = Annotated[
    list[str] | None, typer.Option("--case", help="A case this account or token is limited to.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
StdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (one line)."),
]


def _operator() -> str:
    with _reported():
        return Settings.from_env().operator


def _stdin_password() -> str:
    line = sys.stdin.readline()
    if not line:
        _fail(_("no password on standard input"))
    return line.rstrip("\r\n")


def _print_password(name: str, password: str) -> None:
    out.print(_("Password of {name} (shown once, write it down now):", name=shown(name)))
    sys.stdout.write(password + "\n")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The account's name (what she types to sign in).")],
    role: Annotated[str, typer.Option("--role", help="admin, caseworker, reviewer or auditor.")],
    case: CaseOption = None,
    password_stdin: StdinOption = False,
) -> None:
    """Add an account. Without `--password-stdin` a password is generated and printed once.

    Example: `rempart user add claire --role caseworker --case case-0142`
    """
    from rempart.accounts import users

    password = _stdin_password() if password_stdin else None
    with _reported():
        made = users.add_user(
            _open_db(),
            name,
            users.role_of(role),
            cases=case or (),
            password=password,
            actor=_operator(),
        )
    out.print(
        _(
            "Added account [bold]{name}[/] ({role}).",
            name=shown(made.account.name),
            role=made.account.role.value,
        )
    )
    if made.generated:
        _print_password(made.account.name, made.password)
    if made.account.role.value == "admin":
        out.print(
            _(
                "An administrator signs in with a second factor: run `rempart user totp {name}`.",
                name=shown(made.account.name),
            )
        )


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List the accounts."""
    from rempart.accounts import users

    with _reported():
        infos = users.list_users(_open_db())
    if as_json:
        for info in infos:
            _emit(info.to_json())
        return
    if not infos:
        out.print(_("No accounts yet. Add one with `rempart user add NAME --role ROLE`."))
        return
    table = Table()
    for header in (_("account"), _("role"), _("cases"), _("second factor"), _("state")):
        table.add_column(header, overflow="fold")
    for info in infos:
        table.add_row(
            shown(info.name, 30),
            info.role.value,
            shown(", ".join(info.cases), 30),
            _("yes") if info.totp else "",
            _("disabled") if info.disabled else _("active"),
        )
    out.print(table)


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end now."""
    from rempart.accounts import users

    with _reported():
        users.disable_user(_open_db(), name, actor=_operator())
    out.print(_("Disabled account [bold]{name}[/].", name=shown(name)))


@user_app.command("reset-password")
def user_reset_password(
    name: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: StdinOption = False,
) -> None:
    """Set a new password (generated and printed once unless `--password-stdin`); open
    sessions end and any lock-out is lifted."""
    from rempart.accounts import users

    password = _stdin_password() if password_stdin else None
    with _reported():
        made = users.reset_password(_open_db(), name, password=password, actor=_operator())
    out.print(_("New password set for [bold]{name}[/].", name=shown(name)))
    if made.generated:
        _print_password(name, made.password)


@user_app.command("totp")
def user_totp(name: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Enrol a TOTP second factor (replacing any earlier one) and print it once: scan the
    otpauth:// address as a QR code, or type the secret into an authenticator app."""
    from rempart.accounts import users

    with _reported():
        totp = users.enrol_totp(_open_db(), name, actor=_operator())
    out.print(
        _(
            "Second factor of {name} (shown once): add it to an authenticator app.",
            name=shown(name),
        )
    )
    sys.stdout.write(totp.uri(name) + "\n")
    out.print(_("secret: {secret}", secret=totp.secret))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="A name for the token (who holds it).")],
    role: Annotated[
        str, typer.Option("--role", help="matcher (the match API only), or an account role.")
    ] = "matcher",
    case: CaseOption = None,
    bank: Annotated[
        list[str] | None, typer.Option("--bank", help="A bank this token may match against.")
    ] = None,
    all_banks: Annotated[
        bool, typer.Option("--all-banks", help="The token may match against every bank.")
    ] = False,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime: 12h, 30d, 8w. Default: none.")
    ] = None,
) -> None:
    """Create an API token and print it once on stdout (only its digest is kept).

    Example: `rempart token create platform-x --bank shared-list --expires 90d`
    """
    from rempart.accounts import tokens
    from rempart.accounts.policy import parse_duration

    with _reported():
        lifetime = parse_duration(expires) if expires else None
        made = tokens.create_token(
            _open_db(),
            name,
            role,
            cases=case or (),
            banks=bank or (),
            all_banks=all_banks,
            expires_in=lifetime,
            actor=_operator(),
        )
    sys.stdout.write(made.secret + "\n")
    expiry = made.info.expires_at.strftime("%Y-%m-%d %H:%M UTC") if made.info.expires_at else "-"
    typer.echo(
        _(
            "Token {name} ({role}) created; expires: {expiry}. It is shown once: store it now.",
            name=made.info.name,
            role=made.info.role.value,
            expiry=expiry,
        ),
        err=True,
    )


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """List the tokens (never their secrets)."""
    from rempart.accounts import tokens

    with _reported():
        infos = tokens.list_tokens(_open_db())
    if as_json:
        for info in infos:
            _emit(info.to_json())
        return
    if not infos:
        out.print(_("No tokens yet. Create one with `rempart token create NAME --bank BANK`."))
        return
    table = Table()
    for header in (_("token"), _("role"), _("banks"), _("cases"), _("expires"), _("state")):
        table.add_column(header, overflow="fold")
    for info in infos:
        table.add_row(
            shown(info.name, 30),
            info.role.value,
            _("all") if info.all_banks else shown(", ".join(info.banks), 30),
            shown(", ".join(info.cases), 30),
            info.expires_at.strftime("%Y-%m-%d") if info.expires_at else "",
            _("revoked") if info.revoked else _("active"),
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: refused on every request from now on."""
    from rempart.accounts import tokens

    with _reported():
        tokens.revoke_token(_open_db(), name, actor=_operator())
    out.print(_("Revoked token [bold]{name}[/].", name=shown(name)))
