"""Command-line values converted without Pydantic give what Typer's own coercion gives."""

from __future__ import annotations

import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param, resolve_type_descriptor
from typer.models import OptionInfo

from rempart.cli.coercion import _plain_param


class Colour(Enum):
    RED = "red"
    GREEN = "green"


PARAMS: dict[str, tuple[Any, OptionInfo]] = {
    "str": (str, OptionInfo()),
    "int": (int, OptionInfo()),
    "int 1..10": (int, OptionInfo(min=1, max=10)),
    "float": (float, OptionInfo()),
    "float >= 0": (float, OptionInfo(min=0)),
    "bool": (bool, OptionInfo()),
    "path": (Path, OptionInfo()),
    "choice": (Colour, OptionInfo()),
    "choice, any case": (Colour, OptionInfo(case_sensitive=False)),
    "list of str": (list[str], OptionInfo()),
    "list of int": (list[int], OptionInfo()),
    "list of path": (list[Path], OptionInfo()),
}
TEXT = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"[ +-]?[0-9]{0,20}(\.[0-9]{0,6})?([eE][+-]?[0-9]{1,3})? ?", fullmatch=True),
    st.sampled_from(["red", "RED", "Green", "1_000", "0x10", "inf", "nan", "1e3", "-0", ""]),
)
VALUE = st.one_of(TEXT, st.integers(), st.floats(), st.booleans(), st.lists(TEXT, max_size=3))


_CTX = typer.Context(typer.core.TyperCommand("x"))


def _outcome(runtime: Any, value: Any) -> tuple[str, Any]:
    ctx = _CTX
    try:
        result = runtime._coerce_value(value, param=None, ctx=ctx)
    except BadParameter as error:
        return "error", error.format_message()
    return "value", (type(result), result)


@pytest.mark.parametrize("name", PARAMS)
@given(value=VALUE)
def test_plain_conversion_equals_typers_own(name: str, value: Any) -> None:
    annotation, info = PARAMS[name]
    descriptor = resolve_type_descriptor(annotation, info)
    plain = _plain_param(descriptor)
    assert plain is not None, f"{name} should be converted without Pydantic"
    ours, typers = _outcome(plain, value), _outcome(build_runtime_param(descriptor), value)
    if ours[0] == "value" and isinstance(ours[1][1], float) and ours[1][1] != ours[1][1]:
        assert typers[0] == "value" and typers[1][1] != typers[1][1]  # NaN is NaN
    else:
        assert ours == typers


def test_other_annotations_keep_typers_coercion() -> None:
    parsed = OptionInfo(parser=int)
    assert _plain_param(resolve_type_descriptor(int, parsed)) is None
    assert _plain_param(resolve_type_descriptor(tuple[int, str], OptionInfo())) is None
    assert _plain_param(resolve_type_descriptor(int, OptionInfo(clamp=True, max=3))) is None


def test_a_read_command_runs_without_pydantic(tmp_path: Path) -> None:
    # ~0.1 s of every command's start-up (bench/startup.py): Typer needs Pydantic only for
    # values that the plain conversion cannot give.
    code = (
        "import sys\n"
        "from rempart.cli import app\n"
        "sys.argv = ['rempart', 'bank', 'list', '--json']\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('PYDANTIC' if 'pydantic' in sys.modules else 'plain', file=sys.stderr)\n"
    )
    env = {**os.environ, "REMPART_HOME": str(tmp_path)}
    env.pop("REMPART_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.stderr.strip().endswith("plain"), done.stderr


def test_a_bad_value_still_gets_typers_message() -> None:
    app = typer.Typer()

    @app.command()
    def count(n: Annotated[int, typer.Option(min=1)] = 1) -> None:
        print(n)

    from typer.testing import CliRunner

    from rempart.cli import coercion

    coercion.install()
    runner = CliRunner()
    assert runner.invoke(app, ["--n", "7"]).stdout.strip() == "7"
    refused = runner.invoke(app, ["--n", "zero"])
    assert refused.exit_code == 2 and "valid integer" in refused.output
    refused = runner.invoke(app, ["--n", "0"])
    assert refused.exit_code == 2 and "greater than or equal to 1" in refused.output
