"""The built-in tools by name, imported only when asked for."""

from __future__ import annotations

import importlib

from agent.errors import ConfigError
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


def load_tool(name: str) -> Tool:
    """An instance of the tool called `name`.

    Raises:
        ConfigError: no built-in tool has that name.
    """
    spec = TOOL_CLASSES.get(name)
    if spec is None:
        raise ConfigError(f"unknown tool {name!r}; built-in tools: {', '.join(TOOL_CLASSES)}")
    module_name, class_name = spec.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls()


def load_tools(names: list[str]) -> list[Tool]:
    """Instances of the named tools, in the order given, each once."""
    return [load_tool(name) for name in dict.fromkeys(names)]
