"""Help texts and the command-line framework's own words, in the caseworker's language.

Typer turns docstrings and `help=` texts into Click objects once per run; `LocalizedGroup`
translates that tree through the one catalog just before Click parses the arguments, and
points Click's and Typer's built-in words ("Usage:", "Missing argument…") at it too.
Relies on Typer's own copy of Click (typer >= 0.29, pinned in pyproject.toml).
Must not print; changes nothing when the language is English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from typer import _click as click
from typer.core import TyperGroup

from rempart.cli import coercion
from rempart.i18n import catalog, current_language, gettext, plural_form

__all__ = [
    "LocalizedGroup",
    "help_texts",
    "localize_command",
    "translate_formatted",
    "translate_tree",
]

# Typer's rich help renders these module constants, read when help is printed.
_TYPER_CONSTANTS = (
    "DEPRECATED_STRING",
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)
# Typer's own copy of Click calls these names at run time (`from gettext import gettext as _`).
_CLICK_MODULES = (
    "typer._click.core",
    "typer._click.decorators",
    "typer._click.exceptions",
    "typer._click.formatting",
    "typer._click.parser",
    "typer._click.termui",
    "typer._click.utils",
    "typer._coercion",
    "typer.core",
)
_english: dict[str, str] = {}


def _plain_gettext(message: str) -> str:
    return gettext(message)


def _plain_ngettext(singular: str, plural: str, n: int) -> str:
    return plural_form(singular, plural, n)


def _localize_framework(lang: str) -> None:
    if lang == "en" and not _english:
        return  # never translated in this process: nothing to put back
    import importlib

    import typer.rich_utils as rich_utils

    for name in _TYPER_CONSTANTS:
        english = _english.setdefault(name, getattr(rich_utils, name))
        setattr(rich_utils, name, gettext(english, lang=lang))
    for module_name in _CLICK_MODULES:
        module = importlib.import_module(module_name)
        if hasattr(module, "_"):
            module._ = _plain_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _plain_ngettext  # type: ignore[attr-defined]
    _install_patches()


_HELP_OPTION = "Show this message and exit."
_patched = False


def _install_patches() -> None:
    """Typer's copy of Click writes a few English words directly: translate them where shown.

    Each patch translates with the language current at the time of the call, so it is
    installed once per process and is a no-op in English.
    """
    global _patched
    if _patched:
        return
    _patched = True
    import typer.rich_utils as rich_utils
    from typer._click import core, formatting

    get_help_option = core.Command.get_help_option

    def localized_help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = gettext(_HELP_OPTION)
        return option

    core.Command.get_help_option = localized_help_option  # type: ignore[method-assign]

    write_usage = formatting.HelpFormatter.write_usage

    def localized_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = gettext("Usage:") + " "
        write_usage(self, prog, args, prefix)

    formatting.HelpFormatter.write_usage = localized_usage  # type: ignore[method-assign]

    format_error = rich_utils.rich_format_error

    def localized_error(error: Any) -> None:
        original = error.format_message
        error.format_message = lambda: translate_formatted(original())
        format_error(error)

    rich_utils.rich_format_error = localized_error  # type: ignore[assignment]


@cache
def _templates(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    found = []
    for msgid, forms in catalog(lang).items():
        names = re.findall(r"\{([A-Za-z_]\w*)(?:![rs])?\}", msgid)
        if not names or len(set(names)) != len(names):
            continue
        pattern = "".join(
            f"(?P<{part[1:-1].split('!')[0]}>.+?)" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[A-Za-z_]\w*(?:![rs])?\})", msgid)
            if part
        )
        french = re.sub(r"\{([A-Za-z_]\w*)![rs]\}", r"{\1}", forms[0])
        found.append((re.compile(pattern + r"\Z", re.DOTALL), french))
    return tuple(found)


def translate_formatted(text: str, lang: str | None = None) -> str:
    """A message that a library already formatted in English, in the current language.

    Exact catalog entries first, else the first template whose shape the text has.
    """
    lang = lang or current_language()
    if lang == "en":
        return text
    exact = catalog(lang).get(text)
    if exact:
        return exact[0]
    for pattern, french in _templates(lang):
        match = pattern.match(text)
        if match:
            return french.format(**match.groupdict())
    return text


def _commands(command: click.Command) -> Iterator[click.Command]:
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from _commands(sub)


def help_texts(command: click.Command) -> Iterator[str]:
    """Every help text of a command tree: commands' help, short help and epilog, params' help."""
    for cmd in _commands(command):
        for text in (cmd.help, cmd.short_help, cmd.epilog):
            if text:
                yield text
        for param in cmd.params:
            text = getattr(param, "help", None)
            if text:
                yield text


def localize_command(command: click.Command, lang: str) -> None:
    """Translate every help text of the tree in place, and Click's and Typer's own words."""
    _localize_framework(lang)
    translate_tree(command, lang)


def translate_tree(command: click.Command, lang: str) -> None:
    """Translate every help text of the tree in place (nothing to do in English)."""
    if lang == "en":
        return
    for cmd in _commands(command):
        if cmd.help:
            cmd.help = gettext(cmd.help, lang=lang)
        if cmd.short_help:
            cmd.short_help = gettext(cmd.short_help, lang=lang)
        if cmd.epilog:
            cmd.epilog = gettext(cmd.epilog, lang=lang)
        for param in cmd.params:
            text = getattr(param, "help", None)
            if text:
                param.help = gettext(text, lang=lang)  # type: ignore[attr-defined]


class LocalizedGroup(TyperGroup):
    """The root group: translates its tree to the current language before each run."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        coercion.install()
        localize_command(self, current_language())
        return super().main(*args, **kwargs)
