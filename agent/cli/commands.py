"""Which module registers each command on `agent.cli.app.app`.

A command line imports only the module of the command it names: importing all of them costs
10 to 30 ms more before `run` can start (chat's terminal code, the Temporal client's options).
Anything else (`--help`, no command, a name that is not one) imports them all, in this order,
so that typer can list them or say what is wrong.
"""

from __future__ import annotations

import importlib

MODULES = {
    "acp": "agent.cli.acp_cmd",
    "agents": "agent.cli.agents_cmd",
    "chat": "agent.cli.chat_cmd",
    "demo": "agent.cli.demo_cmd",
    "dispatch": "agent.cli.dispatch_cmd",
    "doctor": "agent.cli.doctor_cmd",
    "mcp": "agent.cli.mcp_cmd",
    "mcp-servers": "agent.cli.mcp_servers_cmd",
    "run": "agent.cli.run_cmd",
    "sessions": "agent.cli.sessions_cmd",
    "trust": "agent.cli.trust_cmd",
    "undo": "agent.cli.undo_cmd",
    "worker": "agent.cli.worker_cmd",
    "dispatch-remote": "agent.cli.dispatch_cmd",
}
"""Command name -> the module that registers it (typer lists them in this order)."""


def register(argv: list[str]) -> None:
    """Import the module of the command `argv` names, or every command module."""
    named = next((arg for arg in argv if not arg.startswith("-")), None)
    for module in [MODULES[named]] if named in MODULES else MODULES.values():
        importlib.import_module(module)
