"""Which module registers each command on `agent.cli.app.app`.

A command line imports only the module of the command it names: importing all of them costs
10 to 30 ms more before `run` can start (chat's terminal code, the Temporal client's options).
Anything else (`--help`, no command, a name that is not one) imports them all, in this order,
so that typer can list them or say what is wrong.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

MODULES = {
    "acp": "agent.cli.acp_cmd",
    "agents": "agent.cli.agents_cmd",
    "chat": "agent.cli.chat_cmd",
    "run": "agent.cli.run_cmd",
    "demo": "agent.cli.demo_cmd",
    "dispatch": "agent.cli.dispatch_cmd",
    "doctor": "agent.cli.doctor_cmd",
    "mcp": "agent.cli.mcp_cmd",
    "mcp-servers": "agent.cli.mcp_servers_cmd",
    "sessions": "agent.cli.sessions_cmd",
    "trust": "agent.cli.trust_cmd",
    "undo": "agent.cli.undo_cmd",
    "worker": "agent.cli.worker_cmd",
    "dispatch-remote": "agent.cli.dispatch_cmd",
}
"""Command name -> the module that registers it (typer lists commands in this order, then groups)."""

DECLARED = {"run": "run_command"}
"""Commands declared with `agent.cli.params` (their modules import no typer): name -> the function
in its module. `agent.cli.main` parses their command line itself when it can (`declared`);
`register` hands them to typer for the rest."""


def declared(argv: list[str]) -> Callable[..., Any] | None:
    """The function of the declared command `argv` starts with, or None."""
    if not argv or argv[0] not in DECLARED:
        return None
    command: Callable[..., Any] = getattr(importlib.import_module(MODULES[argv[0]]), DECLARED[argv[0]])
    return command


def register(argv: list[str]) -> None:
    """Import the module of the command `argv` names, or every command module."""
    named = next((arg for arg in argv if not arg.startswith("-")), None)
    for name in [named] if named in MODULES else MODULES:
        module = importlib.import_module(MODULES[name])
        if name in DECLARED:
            from agent.cli.app import app
            from agent.cli.params import as_typer

            app.command(name)(as_typer(getattr(module, DECLARED[name])))
