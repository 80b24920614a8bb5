"""A command's parameters declared once, without typer: read by typer, or parsed here at once.

`subagent run` is declared with `option` and `argument` as parameter defaults, as typer's own
`Option` and `Argument` are, but importing it costs no typer: typer and its click, and the
pydantic adapters it builds for every parameter, were 5 % of the instructions before the first
request (docs/BENCHMARKS.md). `parse` reads the common command line (known flags, `--flag value` or
`--flag=value`, valid values) straight from the same declarations; anything else (`--help`, an
unknown or repeated flag, a missing or invalid value, a bundle of short flags) is left to typer,
which `as_typer` hands the very same declarations, so its help and its errors stay its own.
"""

from __future__ import annotations

import inspect
import os
import stat
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Param:
    """One declared parameter: what `typer.Option` (`decls` given) or `typer.Argument` would hold."""

    __slots__ = ("decls", "default", "file_okay", "help", "min")

    def __init__(
        self, default: Any, decls: tuple[str, ...], help: str, min: int | None, file_okay: bool
    ) -> None:
        self.default, self.decls, self.help, self.min, self.file_okay = default, decls, help, min, file_okay


def option(default: Any, *decls: str, help: str, min: int | None = None, file_okay: bool = True) -> Any:
    """An option, as `typer.Option(default, *decls, help=..., min=..., file_okay=...)`."""
    return Param(default, decls, help, min, file_okay)


def argument(default: Any, *, help: str) -> Any:
    """A positional argument, as `typer.Argument(default, help=...)`."""
    return Param(default, (), help, None, True)


class _LeftToTyper(Exception):
    """The command line is not one `parse` reads exactly as typer would."""


def parse(command: Callable[..., Any], argv: list[str]) -> dict[str, Any] | None:
    """The values typer would call `command` with for `argv`, or None to leave `argv` to typer."""
    declared: dict[str, Param] = {
        name: p.default for name, p in inspect.signature(command).parameters.items()
    }
    kinds = {name: _kind(hint) for name, hint in inspect.get_annotations(command, eval_str=True).items()}
    by_flag = {flag: name for name, param in declared.items() for flag in param.decls}
    positional = [name for name, param in declared.items() if not param.decls]
    values = {name: param.default for name, param in declared.items()}
    given: set[str] = set()
    args = iter(argv)
    try:
        for arg in args:
            if arg == "-" or not arg.startswith("-"):
                if not positional:
                    raise _LeftToTyper
                name = positional.pop(0)
                values[name] = _convert(declared[name], kinds[name], arg)
                continue
            flag, equals, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            name = by_flag.get(flag, "")
            if not name or name in given:
                raise _LeftToTyper
            given.add(name)
            if kinds[name] is bool:
                if equals:
                    raise _LeftToTyper
                values[name] = True
                continue
            raw = inline if equals else next(args, None)
            if raw is None or raw.startswith("-"):
                raise _LeftToTyper
            values[name] = _convert(declared[name], kinds[name], raw)
    except _LeftToTyper:
        return None
    return values


def _kind(hint: Any) -> Any:
    """`str`, `int`, `bool` or `Path` for `X` or `X | None`; anything else is left to typer."""
    if isinstance(hint, types.UnionType):
        kinds = [arg for arg in hint.__args__ if arg is not type(None)]
        return kinds[0] if len(kinds) == 1 else None
    return hint


def _convert(param: Param, kind: Any, raw: str) -> Any:
    if kind is str:
        return raw
    if kind is int and raw.isascii() and raw.isdigit():
        if param.min is not None and int(raw) < param.min:
            raise _LeftToTyper  # typer's range error
        return int(raw)
    if kind is Path:
        try:
            mode = os.stat(raw).st_mode
        except OSError:
            return Path(raw)  # a path that does not exist yet: typer's Path does not check
        except ValueError:  # a NUL in it
            raise _LeftToTyper from None
        if (stat.S_ISREG(mode) and not param.file_okay) or not os.access(raw, os.R_OK):
            raise _LeftToTyper  # typer's "is a file" or "is not readable"
        return Path(raw)
    raise _LeftToTyper


def as_typer(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with typer's `Option`s and `Argument`s in place of its declarations, for
    `app.command(NAME)`: the same names, types, defaults and help."""
    import functools

    import typer

    hints = inspect.get_annotations(command, eval_str=True)

    def typer_param(parameter: inspect.Parameter) -> inspect.Parameter:
        p: Param = parameter.default
        info = (
            typer.Option(p.default, *p.decls, help=p.help, min=p.min, file_okay=p.file_okay)
            if p.decls
            else typer.Argument(p.default, help=p.help)
        )
        return parameter.replace(default=info, annotation=hints[parameter.name])

    @functools.wraps(command)
    def typer_command(**values: Any) -> Any:
        return command(**values)

    signature = inspect.signature(command)
    typer_command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[typer_param(p) for p in signature.parameters.values()]
    )
    return typer_command
