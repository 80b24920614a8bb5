"""The `subagent` command's entry: routes a command line to the headless form, or to the typer app
(agent.cli.app); each command group lives in its own module.

Only the named command's module is imported (agent.cli.commands), and command modules import
heavy libraries (rich's big parts, mcp, acp) inside the command functions, so `subagent
--version` and `subagent agents list` start quickly. A command that is
done leaves at once (`exit_now`): its output flushed and the exit handlers run (they close the
session store), without the interpreter's teardown of every module and object, which took 0.2 to
0.45 s after the answer was already out.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn


def _register_commands(argv: list[str]) -> None:
    """Import the command modules this command line needs; importing one adds its commands to `app`."""
    from agent.cli.commands import register

    register(argv)


def exit_now(code: int | str | None) -> NoReturn:
    """End the process with `code` as `sys.exit` would, minus the interpreter's teardown.

    The standard streams are flushed and the exit handlers run first (closing the session store,
    releasing sandbox placeholders, flushing logs); work still running in a thread is abandoned,
    as the runtime awaits everything a command must finish before it returns.
    """
    if isinstance(code, str):  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach the reader
            pass
    os._exit(code or 0)


def _call(command: Callable[..., Any], values: dict[str, Any]) -> int | str | None:
    """Run a command typer did not parse; its exit code as typer would give it (a second Ctrl-C is
    130, a reader that went away 1)."""
    try:
        command(**values)
    except SystemExit as done:
        return done.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    return 0


def main() -> None:
    from agent.terminal.logs import guard_last_resort

    guard_last_resort()
    # pydantic looks for plugins in every installed package's entry points the first time it builds
    # a model: 45 to 55 ms of a run's start. The CLI uses none; a user may still name some.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from agent.headless.entry import is_headless

    headless = is_headless(sys.argv[1:])
    if headless or sys.argv[1:2] == ["run"]:  # the one-shot runs: no collection until the first event
        from agent.runtime.startup_gc import hold

        hold()
    if headless:  # Claude Code's `-p` form (docs/headless.md): no subcommand
        from agent.headless.entry import main as headless_main

        exit_now(headless_main(sys.argv[1:]))
    from agent.cli.commands import declared
    from agent.cli.params import parse

    command = declared(sys.argv[1:])
    if command is not None and (values := parse(command, sys.argv[2:])) is not None:
        exit_now(_call(command, values))  # `run`'s usual command line: no typer
    _register_commands(sys.argv[1:])
    from agent.cli.app import app

    try:
        app()
    except SystemExit as done:
        exit_now(done.code)
