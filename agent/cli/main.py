"""The `subagent` command: a typer app; each command group lives in its own module.

Command modules import heavy libraries (anthropic, rich's big parts, mcp, acp) inside the
command functions, so `subagent --version` and `subagent agents list` start quickly.
"""

from __future__ import annotations

import typer

from agent import __version__

app = typer.Typer(
    name="subagent",
    help="Run coding agents defined as markdown personas, in a sandbox, with subagents in parallel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"subagent {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """subagent: coding agents from markdown personas."""


def _register_commands() -> None:
    """Import each command module; importing one adds its commands to `app`."""
    from agent.cli import commands  # noqa: F401


def main() -> None:
    from agent.terminal.logs import guard_last_resort

    guard_last_resort()
    import sys

    from agent.headless.entry import is_headless

    if is_headless(sys.argv[1:]):  # Claude Code's `-p` form (docs/headless.md): no subcommand
        from agent.headless.entry import main as headless_main

        raise SystemExit(headless_main(sys.argv[1:]))
    _register_commands()
    app()
