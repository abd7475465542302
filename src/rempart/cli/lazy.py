"""Command modules loaded only when one of their commands runs.

Most commands live in their own module (`rempart.cli.watch`, `rempart.cli.evidence`…), each
registering itself on the root Typer app when imported. Importing them all costs every run
~50–90 ms, so the root group loads a module only when its command is resolved; the root
`--help` lists them from `commands.json`, a manifest of their names and help texts written by
`write_manifest()` and checked by tests/test_cli_lazy.py against the real tree.
Must not import any command module at import time.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from difflib import get_close_matches
from functools import cache
from importlib import resources
from typing import Any

from typer import _click as click
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info

from rempart.cli.localize import LocalizedGroup, translate_tree
from rempart.i18n import _, current_language

__all__ = ["COMMAND_MODULES", "LazyGroup", "current_manifest", "manifest", "write_manifest"]

# The modules that register commands on the root app, in the order they are registered.
COMMAND_MODULES = (
    "rempart.cli.accounts",
    "rempart.cli.backup",
    "rempart.cli.cases",
    "rempart.cli.config",
    "rempart.cli.custody",
    "rempart.cli.evidence",
    "rempart.cli.intake",
    "rempart.cli.notify",
    "rempart.cli.provenance",
    "rempart.cli.recheck",
    "rempart.cli.report",
    "rempart.cli.review",
    "rempart.cli.seen",
    "rempart.cli.serve",
    "rempart.cli.vault",
    "rempart.cli.watch",
)
_MANIFEST = "commands.json"


@cache
def manifest() -> dict[str, Any]:
    """The committed manifest: `order` of the root's commands, and `commands` by name."""
    text = resources.files("rempart.cli").joinpath(_MANIFEST).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class _Listed(TyperCommand):
    """A command module's command as the root's help lists it, without importing the module."""

    def __init__(self, name: str, entry: dict[str, Any]) -> None:
        super().__init__(
            name,
            help=entry["help"],
            short_help=entry["short_help"],
            hidden=entry["hidden"],
            deprecated=entry["deprecated"],
        )
        self.rich_help_panel = entry["rich_help_panel"]


class LazyGroup(LocalizedGroup):
    """The root group: imports a command module when one of its commands is looked up."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        order = list(manifest()["order"])
        return order + [name for name in self.commands if name not in order]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        entry = manifest()["commands"].get(cmd_name)
        if entry is None:
            return None
        if self._listing:
            listed = _Listed(cmd_name, entry)
            translate_tree(listed, current_language())
            return listed
        self._load(entry["module"])
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Typer would suggest among the loaded commands only, in English: suggest among all.
        try:
            return self._click_resolve_command(ctx, args)
        except click.exceptions.UsageError as error:
            close = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close:
                names = ", ".join(repr(name) for name in close)
                suggestion = _("Did you mean {names}?", names=names)
                error.message = f"{error.message.rstrip('.')}. {suggestion}"
            raise

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with self._listing_only():
            super().format_help(ctx, formatter)

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def _load(self, module: str) -> None:
        """Import `module` and add the commands it registered on the root Typer app."""
        importlib.import_module(module)
        root = importlib.import_module("rempart.cli").app
        settings = {
            "pretty_exceptions_short": root.pretty_exceptions_short,
            "rich_markup_mode": root.rich_markup_mode,
        }
        lang = current_language()
        for info in root.registered_commands:
            command = get_command_from_info(info, **settings)
            if command.name and command.name not in self.commands:
                translate_tree(command, lang)
                self.commands[command.name] = command
        for group_info in root.registered_groups:
            name = group_info.name
            if name and name not in self.commands:
                group = get_group_from_info(
                    group_info, suggest_commands=root.suggest_commands, **settings
                )
                translate_tree(group, lang)
                self.commands[name] = group


def current_manifest() -> dict[str, Any]:
    """The manifest the code defines now: imports every command module, in order.

    Only meaningful in a fresh interpreter (the order commands register in is import order).
    """
    import typer.main

    import rempart.cli as cli

    def names() -> list[str]:
        return list(getattr(typer.main.get_command(cli.app), "commands", {}))

    known = set(names())
    module_of: dict[str, str] = {}
    for module in COMMAND_MODULES:
        importlib.import_module(module)
        for name in names():
            if name not in known:
                module_of[name] = module
                known.add(name)
    group = typer.main.get_command(cli.app)
    assert isinstance(group, TyperGroup)
    commands = {
        name: {
            "module": module_of[name],
            "help": command.help,
            "short_help": command.short_help,
            "hidden": command.hidden,
            "deprecated": command.deprecated,
            "rich_help_panel": _text_or_none(getattr(command, "rich_help_panel", None)),
        }
        for name, command in group.commands.items()
        if name in module_of
    }
    return {"order": list(group.commands), "commands": commands}


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None  # Typer leaves placeholders for unset


def write_manifest() -> str:
    """Rewrite commands.json from the code (after adding or renaming a command); its path."""
    path = resources.files("rempart.cli").joinpath(_MANIFEST)
    text = json.dumps(current_manifest(), indent=1, ensure_ascii=False) + "\n"
    with resources.as_file(path) as file:
        file.write_text(text, encoding="utf-8")
    return str(file)
