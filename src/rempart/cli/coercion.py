"""Typer's parameter coercion, without Pydantic for the plain values Rempart's commands take.

Typer (>= 0.29) turns each command-line value into its annotated type through a Pydantic
`TypeAdapter`: importing Pydantic and building the adapters costs ~0.1 s per run, a fifth of
a read command's start-up (bench/startup.py). Values that are already of their type (the
defaults), strings, plain integers and floats, `Path`s and choices are converted here as
Typer's adapters convert them; anything else, and any value that does not convert plainly
(so every error message), goes to Typer's own coercion. tests/test_cli_coercion.py checks
both paths give the same values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path

__all__ = ["install"]

_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})")
_installed = False


def install() -> None:
    """Route Typer's coercion of plain values through `_PlainParam` (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    from typer.core import _TyperParameter

    typer_runtime_param = _TyperParameter.get_runtime_param

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            plain = _plain_param(self.type_descriptor)
            if plain is not None:
                self._runtime_param = plain
        return typer_runtime_param(self)

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]


def _plain_param(descriptor: Any) -> _PlainParam | None:
    """A `_PlainParam` where every value of this parameter can be converted plainly."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    annotation = descriptor.annotation
    many = get_origin(annotation) is list
    leaf = get_args(annotation)[0] if many else annotation
    if _leaf_kind(leaf, info) is None:
        return None
    return _PlainParam(
        annotation=annotation, parameter_info=info, descriptor=descriptor, leaf=leaf, many=many
    )


@dataclass(frozen=True)
class _PlainParam(RuntimeParam):
    """Converts plain values itself; hands the rest to Typer's coercion."""

    descriptor: Any
    leaf: Any
    many: bool

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        info = self.parameter_info
        if self.many:
            items = value if isinstance(value, (list, tuple)) else [value]
            done = [_convert(self.leaf, info, item, param, ctx) for item in items]
            if all(item is not _UNCONVERTED for item in done):
                return done
        else:
            converted = _convert(self.leaf, info, value, param, ctx)
            if converted is not _UNCONVERTED:
                return converted
        typer_param = build_runtime_param(self.descriptor)
        return typer_param._coerce_value(value, param=param, ctx=ctx)


_UNCONVERTED = object()
_Kind = Literal["bool", "str", "int", "float", "path", "choice"]


def _leaf_kind(leaf: Any, info: Any) -> _Kind | None:
    if leaf is bool:
        return "bool"
    if isinstance(leaf, type) and issubclass(leaf, Enum):
        return "choice"
    if leaf is str and info.path_type is None and not info.resolve_path and not info.allow_dash:
        return "str"
    if leaf in (int, float) and not info.clamp:
        return "int" if leaf is int else "float"
    if isinstance(leaf, type) and issubclass(leaf, Path) and info.path_type is None:
        return "path"
    return None


def _convert(leaf: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    """`value` as Typer's adapter would give it, or `_UNCONVERTED` when not plainly so."""
    kind = _leaf_kind(leaf, info)
    if kind == "choice":
        try:
            return coerce_cli_choice(
                value, choices=tuple(leaf), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            return _UNCONVERTED
    if kind == "bool":
        return value if isinstance(value, bool) else _UNCONVERTED
    if kind == "str":
        return value if isinstance(value, str) else _UNCONVERTED
    if kind == "path":
        if isinstance(value, str) and value and "\x00" not in value:
            value = leaf(value)
        if not isinstance(value, leaf):
            return _UNCONVERTED
        return coerce_cli_path(value, info, path_type=leaf, param=param, ctx=ctx)
    number: int | float
    if type(value) is leaf:
        number = value
    elif isinstance(value, str) and (_INT if kind == "int" else _FLOAT).fullmatch(value):
        number = leaf(value)
    else:
        return _UNCONVERTED
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _UNCONVERTED  # Typer's coercion says why
    return number
