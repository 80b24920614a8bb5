"""The typer app of `subagent`: the root options, and every command the command modules add.

Imported only when typer must run: `--help`, a usage error, and every command but the ones
`agent.cli.main` parses itself (`agent.cli.commands.DECLARED`), so `subagent run` and
`subagent -p` start without typer.
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
