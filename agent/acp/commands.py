"""Custom slash commands for an editor: the `available_commands_update` that offers them, and the
run a prompt starting with `/name` stands for.

The commands are the ones every front end has (`agent.prompt.custom_commands`: found in the
workspace's and the user's folders, expanded with `$ARGUMENTS`, `$1..$9` and `@file`, with the
file's `model`, `agent` and `allowed-tools` for the run of the command only). A `/name` that
names none goes to the model as written, as Claude Code does.

Example:
    update = available_commands(session.cwd)
    run = command_of_prompt("/review app.py", session.cwd)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.prompt.custom_commands import CommandRun


def available_commands(cwd: Path) -> Any:
    """The `available_commands_update` listing the custom commands of `cwd`'s workspace (name,
    `CustomCommand.summary`, and its `argument-hint` as the input hint); an empty list when
    there is none."""
    from acp.schema import (
        AvailableCommand,
        AvailableCommandInput,
        AvailableCommandsUpdate,
        UnstructuredCommandInput,
    )

    from agent.prompt.custom_commands import find_commands
    from agent.registry.discovery import find_workspace

    commands = find_commands(find_workspace(cwd))[0]
    listed = [
        AvailableCommand(
            name=name,
            description=command.summary(),
            input=AvailableCommandInput(root=UnstructuredCommandInput(hint=command.argument_hint))
            if command.argument_hint
            else None,
        )
        for name, command in commands.items()
    ]
    return AvailableCommandsUpdate(session_update="available_commands_update", available_commands=listed)


def command_of_prompt(text: str, cwd: Path) -> CommandRun | None:
    """The run a prompt starting with `/name` stands for in `cwd`'s workspace; None for any other
    prompt, and for a `/name` that names no command (it is sent as written)."""
    if not text.startswith("/"):
        return None
    from agent.prompt.custom_commands import command_in_prompt
    from agent.registry.discovery import find_workspace

    return command_in_prompt(text, find_workspace(cwd))
