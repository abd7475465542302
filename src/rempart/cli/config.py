"""`rempart config …`: the organisation's identity and the caseworker's name, kept in
`$REMPART_HOME/config.toml` (each key overridable by an environment variable).

Thin: parse, call rempart.config, render. Registered on the main app by rempart.cli. Writes the
file atomically and private (0600); must not touch the database.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from rempart.cli import _emit, _fail, _reported, app, out
from rempart.config import (
    KEYS,
    ConfigError,
    FileConfig,
    config_path,
    effective_values,
    read_config_file,
    render_config,
    set_value,
)
from rempart.i18n import _

config_app = typer.Typer(
    help=(
        "The organisation's identity (name, address, contact, trusted-flagger designation) "
        "and the caseworker's name, kept in $REMPART_HOME/config.toml. Complaint dossiers and "
        "notices are written in this name. Each key can be overridden by an environment "
        "variable (`rempart config show` lists them)."
    ),
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _home() -> Path:
    from platformdirs import user_data_path

    return Path(os.environ.get("REMPART_HOME") or user_data_path("rempart", appauthor=False))


def _shown(value: str | bool) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


@config_app.command("path")
def config_path_command() -> None:
    """Print where the configuration file is (it may not exist yet)."""
    typer.echo(str(config_path(_home())))


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Show every setting, its value and where it comes from (file or environment)."""
    home = _home()
    with _reported():
        config = read_config_file(home)
        values = effective_values(config, os.environ)
    from rempart.takedown.smtp import mask_url  # a mail server's password is never shown

    values = {k: mask_url(v) if isinstance(v, str) and "://" in v else v for k, v in values.items()}
    if as_json:
        _emit({"path": str(config_path(home)), **values})
        return
    table = Table(Column(_("key"), no_wrap=True), _("value"), _("from"), _("meaning"))
    for key in KEYS:
        value = values.get(key.dotted)
        env_set = bool(key.env and os.environ.get(key.env))
        origin = (
            _("environment ({variable})", variable=key.env)
            if env_set
            else (_("file") if key.dotted in config.values else "")
        )
        table.add_row(
            key.dotted,
            escape(_shown(value)) if value is not None else _("[dim](not set)[/]"),
            origin,
            _(key.help),
        )
    out.print(_("Configuration file: {path}", path=escape(str(config_path(home)))))
    out.print(table)
    if not values.get("organisation.name"):
        out.print(
            _(
                "The organisation is not set yet: run `rempart config init`, or "
                '`rempart config set organisation.name "Your association"`.'
            )
        )


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="A key such as organisation.name.")],
    value: Annotated[str, typer.Argument(help="Its value (empty text removes it).")],
) -> None:
    """Set one key in config.toml. Example:
    `rempart config set organisation.name "Association Exemple"`."""
    home = _home()
    with _reported():
        config = set_value(read_config_file(home), key, value)
        path = _write(home, config)
    out.print(_("Set {key} in {path}.", key=escape(key), path=escape(str(path))))


@config_app.command("init")
def config_init(
    name: Annotated[str | None, typer.Option(help="The organisation's name.")] = None,
    address: Annotated[str | None, typer.Option(help="Its postal address.")] = None,
    email: Annotated[str | None, typer.Option(help="Its contact e-mail.")] = None,
    phone: Annotated[str | None, typer.Option(help="Its phone number.")] = None,
    website: Annotated[str | None, typer.Option(help="Its website.")] = None,
    trusted_flagger: Annotated[
        bool | None,
        typer.Option(
            "--trusted-flagger/--not-trusted-flagger",
            help="Whether it is a trusted flagger under the DSA (article 22).",
        ),
    ] = None,
    designation: Annotated[
        str | None, typer.Option(help="The reference of its trusted-flagger designation.")
    ] = None,
    designated_by: Annotated[
        str | None,
        typer.Option(help="The Digital Services Coordinator that designated it (Arcom)."),
    ] = None,
    caseworker: Annotated[
        str | None, typer.Option(help="Who is at the keyboard (caseworker).")
    ] = None,
) -> None:
    """Write the organisation's identity to config.toml: from the options given, or by
    asking for each one at a terminal. Values already set are kept unless replaced."""
    home = _home()
    given = {
        "organisation.name": name,
        "organisation.address": address,
        "organisation.email": email,
        "organisation.phone": phone,
        "organisation.website": website,
        "organisation.trusted_flagger": trusted_flagger,
        "organisation.designation": designation,
        "organisation.designated_by": designated_by,
        "caseworker.name": caseworker,
    }
    with _reported():
        config = read_config_file(home)
    ask = all(v is None for v in given.values())
    if ask and not sys.stdin.isatty():
        _fail(
            _(
                "no terminal to ask at: give the values as options, e.g. "
                '`rempart config init --name "Association Exemple" --caseworker "Camille"`'
            )
        )
    for dotted, value in given.items():
        if ask:
            value = _ask(dotted, config)
        if value is None:
            continue
        raw = ("true" if value else "false") if isinstance(value, bool) else value
        try:
            config = set_value(config, dotted, raw)
        except ConfigError as exc:
            _fail(exc)
    with _reported():
        path = _write(home, config)
    out.print(_("Wrote {path}.", path=escape(str(path))))
    missing = [k for k in ("organisation.name", "caseworker.name") if k not in config.values]
    if missing:
        out.print(
            _(
                "Still missing for a complaint dossier: {keys} (`rempart config set KEY VALUE`).",
                keys=", ".join(missing),
            )
        )


def _ask(dotted: str, config: FileConfig) -> str | bool | None:
    key = next(k for k in KEYS if k.dotted == dotted)
    current = config.get(dotted)
    if key.kind == "bool":
        return typer.confirm(_(key.help), default=current is True)
    answer: str = typer.prompt(
        _("{meaning} ({key})", meaning=_(key.help).rstrip("."), key=dotted),
        default=current if isinstance(current, str) else "",
        show_default=bool(current),
        prompt_suffix=_(": "),
    )
    return answer


def _write(home: Path, config: FileConfig) -> Path:
    """config.toml written beside itself then renamed over it: never half-written, and
    readable by this user only (0600) from the moment it exists."""
    path = config_path(home)
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(render_config(config))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(
            "cannot write {path}: {problem}", path=str(path), problem=exc.strerror or str(exc)
        ) from None
    return path
