"""The built-in tools by name, imported only when asked for."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, ToolFailure
from agent.tool import Tool

TOOL_CLASSES: dict[str, str] = {
    "read": "tools.read:ReadTool",
    "edit": "tools.edit:EditTool",
    "write": "tools.write:WriteTool",
    "grep": "tools.grep:GrepTool",
    "glob": "tools.glob:GlobTool",
    "bash": "tools.bash:BashTool",
    "patch": "tools.patch:PatchTool",
}


def load_tool(name: str) -> Tool[Any]:
    """An instance of the tool called `name`.

    Raises:
        ConfigError: no built-in tool has that name.
    """
    spec = TOOL_CLASSES.get(name)
    if spec is None:
        raise ConfigError(f"unknown tool {name!r}; built-in tools: {', '.join(TOOL_CLASSES)}")
    module_name, class_name = spec.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    tool: Tool[Any] = cls()
    return tool


def load_tools(names: list[str]) -> list[Tool[Any]]:
    """Instances of the named tools, in the order given, each once."""
    return [load_tool(name) for name in dict.fromkeys(names)]


def sandbox_programs(names: list[str]) -> list[Path]:
    """The runtime's own programs that the named tools run inside the sandbox (ripgrep under grep
    and glob): the run's policy keeps them readable wherever they are installed, also in a part of
    HOME the policy hides (a pipx venv)."""
    if not {"grep", "glob"} & set(names):
        return []
    from tools._ripgrep import find_rg

    try:
        return [Path(os.path.realpath(find_rg()))]
    except ToolFailure:
        return []  # grep and glob say so themselves
