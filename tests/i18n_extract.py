"""What the French catalog must hold, read from the code; and what bypasses it.

Used by tests/test_i18n.py, and by hand: `python tests/i18n_extract.py` prints PO stubs for
every message that has no French yet (paste them into a file of src/rempart/locale/fr/ and
translate), `--raw` lists the places that print English without the catalog.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "rempart"

# Calls whose first string argument is a message id.
_GETTEXT_NAMES = {"_", "gettext", "N_", "Phrase"}
_NGETTEXT_NAMES = {"ngettext", "plural_form"}
# Error classes take an English message (a template when values are given): it is a message id.
_ERROR_SUFFIXES = ("Error", "NotFound", "Conflict", "InvalidHash", "UnreadableMember")
# Human output in entry points: their literal text must come through the catalog.
_OUTPUT_CALLS = {"print", "_fail", "confirm", "prompt", "ask", "add_column", "Table", "echo"}
# Modules whose human output is checked for literal English (entry points, and what they show).
ENTRY_POINTS = ("cli", "web", "demo.py", "demo_takedown.py")


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str | None
    where: str


def _is_error(name: str) -> bool:
    return name.endswith(_ERROR_SUFFIXES) and not hasattr(builtins, name)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _files() -> Iterator[Path]:
    yield from sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def messages() -> Iterator[Message]:
    """Every message id the code passes to the catalog or to an error class."""
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = path.relative_to(SRC.parent)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = _name(node.func)
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            where = f"{rel}:{node.lineno}"
            if name in _GETTEXT_NAMES or (_is_error(name) and first.value):
                yield Message(first.value, None, where)
            elif name in _NGETTEXT_NAMES and len(node.args) >= 2:
                second = node.args[1]
                if isinstance(second, ast.Constant) and isinstance(second.value, str):
                    yield Message(first.value, second.value, where)


# Page templates call the same catalog: `{{ _("Sign in") }}`, `ngettext("case", "cases", n)`.
_STRING = r'"((?:[^"\\]|\\.)*)"'
_QUOTED = r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""  # either quote, in an attribute
_TEMPLATE_GETTEXT = re.compile(r"\b_\(\s*" + _QUOTED)
_TEMPLATE_NGETTEXT = re.compile(r"\bngettext\(\s*" + _STRING + r"\s*,\s*" + _STRING)


def template_messages() -> Iterator[Message]:
    """Every message id the web pages' templates pass to the catalog."""
    for path in sorted(SRC.rglob("templates/*.html")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(SRC.parent)
        for found in _TEMPLATE_GETTEXT.finditer(text):
            line = text.count("\n", 0, found.start()) + 1
            yield Message(found.group(1) or found.group(2) or "", None, f"{rel}:{line}")
        for found in _TEMPLATE_NGETTEXT.finditer(text):
            line = text.count("\n", 0, found.start()) + 1
            yield Message(found.group(1), found.group(2), f"{rel}:{line}")


def help_texts() -> Iterator[str]:
    """Every help text of the command line (commands, groups, options, arguments)."""
    import importlib

    import typer.main

    from rempart.cli import app
    from rempart.cli.lazy import COMMAND_MODULES
    from rempart.cli.localize import help_texts as walk

    for module in COMMAND_MODULES:  # loaded on demand by the CLI: load them all here
        importlib.import_module(module)
    yield from walk(typer.main.get_command(app))


def _is_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(ch.isalpha() for ch in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(v, ast.Constant) and any(ch.isalpha() for ch in str(v.value))
            for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return False


def raw_output() -> Iterator[str]:
    """Places in entry points that show a literal English text without the catalog."""
    for path in _files():
        rel = path.relative_to(SRC)
        if not str(rel).startswith(ENTRY_POINTS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in _OUTPUT_CALLS:
                continue
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg in ("title",))]:
                if _is_text(arg):
                    yield f"src/rempart/{rel}:{node.lineno}: {ast.unparse(arg)[:70]}"


def raw_errors() -> Iterator[str]:
    """Error raises whose message is an f-string or a concatenation (not a catalog template)."""
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = path.relative_to(SRC.parent)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            call = node.exc
            if not _is_error(_name(call.func)) or not call.args:
                continue
            first = call.args[0]
            if isinstance(first, ast.JoinedStr | ast.BinOp):
                yield f"{rel}:{node.lineno}: {ast.unparse(first)[:70]}"


def _po_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{lines[0]}"'
    parts = [f'"{line}\\n"' for line in lines[:-1]] + ([f'"{lines[-1]}"'] if lines[-1] else [])
    return '""\n' + "\n".join(parts)


def missing() -> Iterator[tuple[str, str | None, str]]:
    """(msgid, plural, where) for every message with no French yet, each once."""
    from rempart.i18n import catalog

    catalog.cache_clear()
    french = catalog("fr")
    seen: set[str] = set()
    for message in [*messages(), *template_messages()]:
        if message.msgid not in french and message.msgid not in seen:
            seen.add(message.msgid)
            yield message.msgid, message.plural, message.where
    for text in help_texts():
        if text not in french and text not in seen:
            seen.add(text)
            yield text, None, "help"


def stubs() -> str:
    out = []
    for msgid, plural, where in missing():
        out.append(f"#: {where}")
        out.append(f"msgid {_po_quote(msgid)}")
        if plural is None:
            out.append('msgstr ""')
        else:
            out.append(f"msgid_plural {_po_quote(plural)}")
            out.append('msgstr[0] ""')
            out.append('msgstr[1] ""')
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    if "--raw" in sys.argv:
        for line in [*raw_output(), *raw_errors()]:
            print(line)
    else:
        print(stubs())
